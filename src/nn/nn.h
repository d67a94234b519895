/*
 * nn.h — the network as mathematics (src/nn/): its layout in flat buffers,
 * the element passes of activations and losses, the reference forms and
 * the optimiser's rules on flat buffers. Below the backends: nothing here
 * calls a device, a data set or a file. Not installed.
 */
#ifndef BP_NN_H
#define BP_NN_H

#include "base/base.h"
#include "nn/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bp_opt_view; /* below */

/* The host buffers a device may hold a newer copy of (bp_net_mirror). */
#define BP_MIRROR_PARAMS 1u /* params                               */
#define BP_MIRROR_GRADS  2u /* grads                                */
#define BP_MIRROR_WORK   4u /* z, y, delta of every layer           */
#define BP_MIRROR_OUTPUT 8u /* z(L), y(L) of the last M examples    */

/* The device a network is on, as nn needs it: where the host copies of
 * the buffers stand. nn declares this and calls it; each backend
 * (src/backend/) fills it in, so nn never calls upward. */
typedef struct {
    /* makes the host copies in `what` (BP_MIRROR_*) current; logically
     * const: the host buffers are a cache of the device's */
    void (*sync_host)(const bp_net *net, unsigned what);
    /* the host copies in `what` were written: they are now the newest */
    void (*host_wrote)(bp_net *net, unsigned what);
    /* frees the backend's state of net */
    void (*release)(bp_net *net);
    /* copies the optimiser state o that the device's steps changed back
     * into o's host buffers; NULL where the host holds it (the CPU) */
    bp_status (*sync_optimizer)(bp_net *net, const struct bp_opt_view *o);
} bp_net_mirror;

/* Dimension letters used in every shape comment:
 *   M  examples in a batch (rows)      L  weight layers
 *   in = N(l), out = N(l+1)            P  parameters in all */

/* One weight layer l: named views into the two flat buffers. */
typedef struct {
    int in, out;     /* N(l), N(l+1)                  */
    float *W, *b;    /* W(l) [out,in], b(l) [out]      */
    float *gW, *gb;  /* ∂L/∂W(l), ∂L/∂b(l), same shape */
} bp_layer;

struct bp_net {
    int L;                              /* weight layers                       */
    int sizes[BP_MAX_LAYERS + 1];       /* N(0..L)                             */
    bp_act acts[BP_MAX_LAYERS + 1];     /* acts[l] of layer l = 1..L; [0] unused */
    bp_loss loss;
    double temperature;                 /* T of eq. 69                         */
    double slope;                       /* leaky ReLU slope, eq. 29            */
    int max_batch;
    int M;                              /* examples in the last forward        */
    bp_gemm gemm;                       /* the provider of every product       */

    size_t n_params;                    /* P                                   */
    float *params;                      /* [P] W(0) b(0) W(1) b(1) ...         */
    float *grads;                       /* [P] same layout                     */
    bp_layer layer[BP_MAX_LAYERS];

    float *mean, *std;                  /* [N(0)] input standardisation or NULL */
    char **classes;                     /* [N(L)] class names (classes.c) or NULL */
    char *columns;                      /* a CSV's encoding (src/io/encoding.c's
                                         * JSON), kept for the model file, or NULL */
    struct bp_pool *pool;               /* the step's threads; NULL: one thread */
    double part_loss[BP_MAX_THREADS];   /* each thread's share of a batch loss  */
    float *work;                        /* one allocation behind z, y, delta   */
    float *x;                           /* Y(0) [max_batch, N(0)]: the network's copy
                                         * of the last forward's input (in work) */
    float *z[BP_MAX_LAYERS + 1];        /* Z(l) [max_batch, N(l)], l >= 1      */
    float *y[BP_MAX_LAYERS + 1];        /* Y(l), l >= 1; = z[l] for identity   */
    float *delta[BP_MAX_LAYERS + 1];    /* Δ(l), l >= 1; δ(0) is never computed */
    size_t work_size;                   /* floats in work                      */

    bp_device device;                   /* where the passes run                */
    const struct bp_backend_i *be;      /* its functions (src/backend/)        */
    const bp_net_mirror *mirror;        /* the part of them nn calls           */
    struct bp_cpu_state *cpu;           /* the CPU engine's own state (cpu.c):
                                         * its deferred W(0) step. Every network
                                         * has one, as every device's host
                                         * mirror may run the CPU's passes    */
    int tf32;                           /* CUDA: cuBLAS may use TF32           */
    struct bp_cuda *cuda;               /* CUDA: the device side (cuda.cu)     */
    struct bp_optimizer *opt_held;      /* whose state the device holds newer
                                         * than the host: optim_attach        */
    struct bp_ready_plan *ready;        /* a hooked pass's gradient-ready points
                                         * (train/epoch.c), or NULL          */
};

/* Where a backward pass says which of its gradients are final, so that a
 * hook may send them while it goes on (src/train/epoch.c makes it for
 * bp_epoch_hooks.grads_ready). With it, ∇W(l) and ∇b(l) are formed in
 * blocks of rows[l] neurons from the last up, ∇b(l) whole with the first
 * block, layer by layer from the output down; once the buffer's suffix
 * grads[at[k] .. P) is final, ready(ctx, k) is called, for k = next, next
 * + 1, ... in order (at[] descends to 0). A backend that cannot say leaves
 * next where it is, and the epoch reports the rest after the pass. */
typedef struct bp_ready_plan {
    int rows[BP_MAX_LAYERS];
    int n, next;
    const size_t *at;
    void (*ready)(void *ctx, int k);
    void *ctx;
} bp_ready_plan;

/* classes.c: the CSV encoding a model keeps (the model file's "columns"),
 * as text that src/io/ writes and checks; NULL removes it. */
bp_status bp_net_set_columns(bp_net *net, const char *json);

static inline void bp_net_sync_host(const bp_net *net, unsigned what)
{
    if (net->mirror)
        net->mirror->sync_host(net, what);
}
static inline void bp_net_host_wrote(bp_net *net, unsigned what)
{
    if (net->mirror)
        net->mirror->host_wrote(net, what);
}

/* network.c: the network's layout and buffers, initialised (init 1) or
 * with zero parameters (init 0: for a reader that fills them), on no
 * device yet: src/backend/'s bp_net_new puts it on one. */
bp_net *bp_net_layout(const bp_config *cfg, int max_batch, int init, bp_error *err);

/* vector.c: the vector form's forward pass of one example x [N(0)] (eq. 40,
 * one matrix–vector product per layer) into row 0 of the work buffers: its
 * outputs at y[L], the same bits whatever else the network computed. */
void vector_forward(bp_net *net, const float *x);

/* Y(l) of the last forward: the input for l = 0. */
static inline const float *bp_net_Y(const bp_net *net, int l) { return l ? net->y[l] : net->x; }

/* z [M,n] += b [n]; y = f(z) element-wise (y may alias z for identity).
 * Bias and activation fused into one pass over Z (eq. 51 + eq. 2). Rows
 * are ld floats apart (ld = n for a whole matrix, more for a column band). */
void act_forward(bp_act a, float *z, float *y, const float *b, int M, int n, int ld,
                 float slope);

/* delta [M,n] *= f'(z)   the ⊙ f'(Z(l)) of eq. 45/56, in place; rows ld apart */
void act_backward(bp_act a, float *delta, const float *z, const float *y, int M, int n, int ld,
                  float slope);

/* z [M,n] += b; y = softmax(z / T) row by row, via max subtraction (eq. 61, 69) */
void softmax_forward(float *z, float *y, const float *b, int M, int n, float T);

/* The output error Δ(L) [M,n] (eq. 13/32, 68, 69) from z, y [M,n] and the
 * targets, and the mean loss over the M rows. delta may be NULL (loss only).
 * Labels are checked against n: BP_ERR_ARG if one is out of range. */
bp_status loss_delta(const bp_net *net, const float *z, const float *y, bp_targets tg, int M,
                     float *delta, double *loss);


/* losses.c: the entry check of the calls that take targets for M
 * examples: exactly one of t and labels, labels for softmax_ce only and in
 * 0..N(L)−1; BP_ERR_ARG naming fn and the first bad one. */
bp_status bp_check_targets(const char *fn, const bp_net *net, bp_targets tg, int M);

/* optim.c: the optimiser, shared with cuda.cu, which runs the same rules,
 * and with checkpoint.c, which saves its state. */
struct bp_optimizer {
    bp_opt_config cfg; /* as given (every field literal)                       */
    size_t n;          /* P, the parameters it was made for                    */
    long t;            /* steps taken; the next step is step t (from 0)        */
    long examples;     /* of the passes stepped (invscaling)                  */
    long plateaus;     /* reported by bp_optimizer_plateau (adaptive)         */
    uint64_t id;       /* never reused: which state a GPU holds a copy of      */
    float *m;          /* [P] velocity (momentum, Nesterov) or Adam's m; else NULL */
    float *v;          /* [P] Adam's second moment v; else NULL                */
    bp_net *held_by;   /* the network whose device holds newer m, v, or NULL:
                        * every reader of the state brings it home first      */
};

/* The coefficients of opt's rule for step t (from 0), optim_coef of ops.h. */
optim_coef optim_step_coef(const bp_optimizer *opt, long t);

/* An optimiser as a device runs it: the rule, the state buffers and the
 * coefficients of its next steps, on flat buffers. A backend gets this,
 * never the optimiser object, and reports how many steps it took; the
 * caller (src/train/) advances the optimiser's count by them. */
typedef struct bp_opt_view {
    uint64_t id;          /* whose state m, v are (never reused)           */
    long t;               /* steps the optimiser has taken                 */
    bp_opt_kind kind;
    double clip_norm;     /* 0: no clipping                                */
    float *m, *v;         /* [P] the host's state, or NULL                 */
    const optim_coef *q;  /* [steps] the coefficients of steps t, t+1, ... */
    long steps;
} bp_opt_view;
/* opt as such a view, q [steps] filled (steps may be 0, q then NULL). */
bp_opt_view optim_view(const bp_optimizer *opt, optim_coef *q, long steps);
/* optim.c: a fresh optimiser identity (bp_optimizer_create; a checkpoint
 * load, whose state replaces the old, takes a new one too). */
uint64_t optim_new_id(void);
/* optim.c: Σ g[k]² in double, in a fixed order (8 interleaved partial
 * sums): the same value on every machine and clone. */
double optim_sum_squares(const float *g, size_t n);
/* bp_optimizer_step_scaled with each pass on as many of pool's threads as
 * its work deserves (NULL: the caller's), and at most `threads`; the norm is
 * one partial sum per thread of the pool, added in order, so the result
 * depends on the pool's size only. The norm is computed only when clipping
 * or asked for. */
bp_status optim_step_threads(bp_optimizer *opt, float *params, const float *grads, size_t n,
                             double scale, struct bp_pool *pool, int threads, double *norm);
/* optim.c: the state of an optimiser and the device of a network kept in
 * step without the caller's help. optim_attach(net, opt) before a device
 * steps opt on net: any other optimiser whose newer state net's device
 * holds, and opt's own on another network, come home first (a device
 * holds one optimiser's state), then net holds opt. optim_home(opt):
 * the state, wherever newer, copied home and the holding ended; BP_OK
 * where the host holds it. A network or an optimiser freed ends it too. */
bp_status optim_attach(bp_net *net, bp_optimizer *opt);
bp_status optim_home(bp_optimizer *opt);

/* 1 if plain descent without clipping or weight decay (the fused path). */
int optim_is_plain_sgd(const bp_optimizer *opt);

/* optim.c: plain descent (no clipping, no weight decay) can be fused into
 * the backward pass: the rate of the next step (the caller counts it). */
double optim_fused_sgd_rate(const bp_optimizer *opt);

#ifdef __cplusplus
}
#endif
#endif
