/*
 * internal.h — what the library's files share and the public header hides:
 * the network's layout, error reporting, atomic file writes, the generator.
 * Not installed; never included by the CLI (which may include tools.h).
 */
#ifndef BP_INTERNAL_H
#define BP_INTERNAL_H

#include "backprop.h"
#include "ops.h"
#include "tools.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" { /* cuda.cu includes this too */
#endif

#define BP_MAX_THREADS 256

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
    double T;                           /* temperature, eq. 69                 */
    double slope;                       /* leaky ReLU slope, eq. 29            */
    int max_batch;
    int M;                              /* examples in the last forward        */
    bp_gemm gemm;                       /* the provider of every product       */

    size_t n_params;                    /* P                                   */
    float *params;                      /* [P] W(0) b(0) W(1) b(1) ...         */
    float *grads;                       /* [P] same layout                     */
    bp_layer layer[BP_MAX_LAYERS];

    float *mean, *std;                  /* [N(0)] input standardisation or NULL */
    struct bp_pool *pool;               /* the step's threads; NULL: one thread */
    double part_loss[BP_MAX_THREADS];   /* each thread's share of a batch loss  */
    float *work;                        /* one allocation behind z, y, delta   */
    float *x;                           /* Y(0) [max_batch, N(0)]: the network's copy
                                         * of the last forward's input (in work) */
    float *z[BP_MAX_LAYERS + 1];        /* Z(l) [max_batch, N(l)], l >= 1      */
    float *y[BP_MAX_LAYERS + 1];        /* Y(l), l >= 1; = z[l] for identity   */
    float *delta[BP_MAX_LAYERS + 1];    /* Δ(l), l >= 1; δ(0) is never computed */
    int pending;                        /* W(0) lags one per-example step (batch.c) */
    float pending_scale;                /* its −α                                */
    float *pending_y;                   /* [N(0)] its y(0); its δ(1) is delta[1]  */
    size_t work_size;                   /* floats in work                      */

    bp_device device;                   /* where the passes run                */
    int tf32;                           /* CUDA: cuBLAS may use TF32           */
    struct bp_cuda *cuda;               /* CUDA: the device side (cuda.cu)     */
    unsigned device_newer;              /* BP_MIRROR_* the device changed last */
    int host_newer;                     /* the host params changed since upload */
    bp_dataset *bench_ds;               /* CUDA bench: its synthetic data set   */
    bp_optimizer *bench_opt;            /* CUDA bench: its plain SGD            */
};

/* The host buffers a CUDA network mirrors (bits of device_newer). */
#define BP_MIRROR_PARAMS 1u /* params                               */
#define BP_MIRROR_GRADS  2u /* grads                                */
#define BP_MIRROR_WORK   4u /* z, y, delta of every layer           */
#define BP_MIRROR_OUTPUT 8u /* z(L), y(L) of the last M examples    */

/* Makes the host copies in `what` current (downloads from the device where
 * it is newer); nothing for a CPU network. Logically const: the mirror. */
void bp_net_sync_host(const bp_net *net, unsigned what);

/* batch.c: applies the per-example descent step that W(0) still lags, if
 * any; every reader of the parameters goes through this (bp_net_sync_host). */
void bp_net_apply_pending(bp_net *net);

/* network.c: bp_net_create, initialised (init 1) or with zero parameters
 * (init 0: for a reader that fills them, a model file's). */
bp_net *bp_net_new(const bp_config *cfg, int max_batch, int init, bp_error *err);

/* device.c: s, with the CUDA context's message put at bp_last_error
 * ("fn: ...") when s is a failure of a CUDA network's operation. */
bp_status bp_device_status(const bp_net *net, const char *fn, bp_status s);

/* gemm.c: the one seam for every matrix product, row-major:
 * C [M,N] = alpha op(A) op(B) + beta C, op(X) = Xᵀ where t is 1, on the
 * calling thread (the engine's pool does the threading, band by band). */
void gemm(bp_gemm g, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);
/* Sets the process-wide BLAS thread count to one, once (bp_net_create). */
void gemm_init(void);

/* batch.c: the engine (section 7). Device dispatch happens above it
 * (device.c); it knows nothing of optimisers: a fused descent step reaches
 * it as its rate. */
bp_status batch_forward(bp_net *net, const float *x, int M);
/* rate 0: ∇W, ∇b into the gradient buffer; rate α > 0: the descent step
 * W ← W − (α/M) Δᵀ Y, b ← b − (α/M) Σ δ fused into the pass (eq. 49–50 with
 * 52–56), the gradient buffer untouched. */
bp_status batch_backward(bp_net *net, bp_targets tg, double rate, double *loss);
bp_status batch_loss_value(const bp_net *net, bp_targets tg, double *loss);
bp_status batch_find_nonfinite(const bp_net *net, char *where, size_t size);

/* Y(l) of the last forward: the input for l = 0. */
static inline const float *bp_net_Y(const bp_net *net, int l) { return l ? net->y[l] : net->x; }

/* util.c: name's index in names [count] into *out (behind every bp_*_parse
 * of a name table); BP_ERR_ARG naming fn for NULL or an unknown name. */
bp_status bp_name_parse(const char *fn, const char *const *names, int count, const char *name,
                        int *out);

/* util.c: BP_ERR_ARG with "fn: arg is NULL" (in err, if not NULL, and as
 * bp_last_error). BP_NEED(p, err) returns it from a function when p is 0. */
bp_status bp_arg_null(bp_error *err, const char *fn, const char *arg);
#define BP_NEED(p, err)                                                                  \
    do {                                                                                 \
        if (!(p))                                                                        \
            return bp_arg_null(err, __func__, #p);                                       \
    } while (0)

/* Writes a formatted one-line message to err (if not NULL) and to this
 * thread's bp_last_error, and returns s. Never from the pool's threads. */
bp_status bp_fail(bp_error *err, bp_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Atomic file writing: a temporary file beside the target, flushed, fsync'ed,
 * renamed over the target, then the folder fsync'ed. A failed or aborted
 * write leaves the target as it was and no temporary behind. */
typedef struct {
    FILE *f;
    char *tmp;        /* temporary path, malloc'ed */
    const char *path; /* target */
} bp_atomic;

bp_status bp_atomic_open(bp_atomic *a, const char *path, bp_error *err);
bp_status bp_atomic_commit(bp_atomic *a, bp_error *err);
void bp_atomic_abort(bp_atomic *a);


/* ------------------------------------------------------------------------ */
/* Activations (activations.c) and losses (losses.c), float batch passes      */
/* ------------------------------------------------------------------------ */

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


/* epoch.c: ds fits net (features, classes or targets); BP_ERR_SHAPE naming
 * fn if not. */
bp_status bp_check_dataset(const char *fn, const bp_net *net, const bp_dataset *ds);

/* losses.c: the entry check of the calls that take targets for M
 * examples: exactly one of t and labels, labels for softmax_ce only and in
 * 0..N(L)−1; BP_ERR_ARG naming fn and the first bad one. */
bp_status bp_check_targets(const char *fn, const bp_net *net, bp_targets tg, int M);

/* pool.c: T threads running each phase of a step on their share of it. */
typedef struct bp_pool bp_pool;
typedef void (*pool_fn)(void *arg, int k, int T); /* thread k of T does share k */
bp_pool *pool_create(int T);                       /* NULL if threads can't start */
void pool_free(bp_pool *p);
int pool_threads(const bp_pool *p);                /* 1 for NULL */
/* Runs fn on every thread (the caller is thread 0); returns when all are done. */
void pool_run(bp_pool *p, pool_fn fn, void *arg);
/* The same on the first T of its threads (1 <= T <= pool_threads(p)). */
void pool_run_n(bp_pool *p, int T, pool_fn fn, void *arg);
/* Share k of T of [0, n): [*lo, *hi), boundaries on multiples of align. */
void pool_share(int n, int align, int k, int T, int *lo, int *hi);

/* optim.c: the optimiser, shared with cuda.cu, which runs the same rules,
 * and with checkpoint.c, which saves its state. */
struct bp_optimizer {
    bp_opt_config cfg; /* as given, zero fields replaced by their defaults     */
    size_t n;          /* P, the parameters it was made for                    */
    long t;            /* steps taken; the next step is step t (from 0)        */
    uint64_t id;       /* never reused: which state a GPU holds a copy of      */
    float *m;          /* [P] velocity (momentum, Nesterov) or Adam's m; else NULL */
    float *v;          /* [P] Adam's second moment v; else NULL                */
};

/* The coefficients of opt's rule for step t (from 0), optim_coef of ops.h. */
optim_coef optim_step_coef(const bp_optimizer *opt, long t);
/* optim.c: a fresh optimiser identity (bp_optimizer_create; a checkpoint
 * load, whose state replaces the old, takes a new one too). */
uint64_t optim_new_id(void);
/* bp_optimizer_step_scaled with its passes split over pool's threads (NULL
 * or one thread: the caller's); the norm's partial sums are added in thread
 * order, so the result depends on the thread count only. */
double optim_step_threads(bp_optimizer *opt, float *params, const float *grads, size_t n,
                          double scale, struct bp_pool *pool);
/* 1 if plain descent without clipping or weight decay (the fused path). */
int optim_is_plain_sgd(const bp_optimizer *opt);

/* optim.c: plain descent (no clipping, no weight decay) can be fused into
 * the backward pass: the rate of the next step (the caller counts it). */
double optim_fused_sgd_rate(const bp_optimizer *opt);

/* csv.c: the strict CSV reader behind bp_csv_read, where allow_header lets
 * line 1 be a header (a field that is not a number); *header says whether
 * it was. Data rows are then lines header+1 .. header+rows. */
bp_status bp_csv_read_table(const char *path, int allow_header, float **data, int *rows,
                            int *cols, int *header, bp_error *err);
/* csv.c: [b, e) wholly a finite float, or an error "WHERE: not a number:
 * \"tok\"" (also: empty value, out of range for float, not finite). */
bp_status bp_parse_number(const char *b, const char *e, float *out, const char *where,
                          bp_error *err);
/* csv.c: [s, s+n) quoted for a one-line message (32 bytes at most, odd
 * bytes as \xHH); returns out. */
const char *bp_quote(char *out, size_t cap, const char *s, size_t n);

/* data.c: the stored arrays of a data set, for a device to copy: exactly
 * one of x_u8 [n, n_in] (x = byte/255) and x_f32 [n, n_in] is set, and
 * labels [n] or targets [n, n_out] as has_labels says. */
typedef struct {
    const uint8_t *x_u8;
    const float *x_f32;
    const int32_t *labels;
    const float *targets;
} bp_dataset_arrays;
bp_dataset_arrays bp_dataset_raw(const bp_dataset *ds);

/* data.c: a labelled data set over x [n, n_in] bytes and labels [n], taking
 * ownership of both; NULL if out of memory. */
bp_dataset *bp_dataset_adopt_u8(int n, int n_in, int n_out, uint8_t *x, int32_t *labels);

#ifdef __cplusplus
}
#endif
#endif
