/*
 * backprop.h — the one public header of libbackprop.
 *
 * A fully connected network trained with the backpropagation algorithm as the
 * note (shared/seed/backprop-notes-ru.md, restated in SPEC.md) derives it. The
 * same algorithm exists in the note's three forms:
 *   - scalar  (sections 4–5): one example, one weight at a time, double —
 *                             the readable reference and the test oracle;
 *   - vector  (section 6):    one example, matrix–vector, float32;
 *   - batch   (section 7):    M examples, matrix–matrix through CBLAS sgemm,
 *                             float32 — the engine that training uses.
 *
 * Conventions (SPEC.md §2): W(l) is [N(l+1), N(l)] row-major (row j = weights
 * into neuron j of layer l+1), b(l) is [N(l+1)]; a batch is row-major with one
 * example per row, Y(l) is [M, N(l)]; the loss of a batch is the mean over its
 * examples of the per-example loss.
 *
 * Library manners: every function returns a status or NULL and never prints or
 * exits; functions that read outside data take a bp_error that receives a
 * one-line message naming the file and the problem. Handles are opaque, each
 * _create has a NULL-safe _free.
 */
#ifndef BACKPROP_H
#define BACKPROP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BP_VERSION "0.1.0"

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef enum {
    BP_OK = 0,
    BP_ERR_ARG,       /* an argument is out of range or inconsistent       */
    BP_ERR_NOMEM,     /* an allocation failed                               */
    BP_ERR_IO,        /* a file could not be opened, read or written        */
    BP_ERR_FORMAT,    /* a file's contents are malformed                    */
    BP_ERR_SHAPE,     /* sizes do not match (data vs network, tensors)     */
    BP_ERR_NONFINITE, /* NaN or Inf where a finite number is required      */
} bp_status;

const char *bp_status_string(bp_status s);

/* Filled by functions that can fail on outside input; may be NULL. */
typedef struct {
    char msg[512]; /* one line, e.g. "m.safetensors: tensor layers.0.bias: dtype F64, expected F32" */
} bp_error;

/* ------------------------------------------------------------------------ */
/* Activations and losses                                                    */
/* ------------------------------------------------------------------------ */

typedef enum {
    BP_ACT_IDENTITY = 0,
    BP_ACT_SIGMOID,    /* eq. 3, f' = y(1-y) eq. 27                 */
    BP_ACT_RELU,       /* eq. 4, f' eq. 28                          */
    BP_ACT_LEAKY_RELU, /* eq. 29, slope a (0.01 by default)         */
    BP_ACT_TANH,       /* f' = 1 - y^2                              */
    BP_ACT_SOFTMAX,    /* eq. 57/60/61; output layer, softmax_ce only */
    BP_ACT_COUNT
} bp_act;

typedef enum {
    BP_LOSS_MSE = 0,    /* eq. 6: 1/2 Σ_i (t_i - y_i)^2 per example          */
    BP_LOSS_SOFTMAX_CE, /* eq. 62 on softmax(z/T), eq. 57/69; δ eq. 68/69      */
    BP_LOSS_SIGMOID_BCE,/* -Σ t log y + (1-t) log(1-y) on sigmoid; δ = y - t   */
    BP_LOSS_COUNT
} bp_loss;

#define BP_LEAKY_SLOPE_DEFAULT 0.01f

const char *bp_act_name(bp_act a);
const char *bp_loss_name(bp_loss l);
/* f(z) and f'(z) given z and y = f(z), in double, for the element-wise
 * activations (NaN for softmax, which is not element-wise): the scalar
 * form's, and the reference the float passes are tested against. */
double bp_act_f(bp_act a, double z, double slope);
double bp_act_df(bp_act a, double z, double y, double slope);

/* Name -> enum; BP_ERR_ARG for an unknown name. */
bp_status bp_act_parse(const char *name, bp_act *out);
bp_status bp_loss_parse(const char *name, bp_loss *out);

/* ------------------------------------------------------------------------ */
/* The network                                                               */
/* ------------------------------------------------------------------------ */

#define BP_MAX_LAYERS 64       /* weight layers */
#define BP_MAX_WIDTH  (1 << 24) /* neurons in one layer */

typedef struct {
    int n_layers;         /* L: weight layers; sizes has L+1 entries       */
    const int *sizes;     /* N(0..L)                                       */
    const bp_act *acts;   /* [L] activation of layers 1..L (last = output) */
    bp_loss loss;
    double temperature;   /* T of eq. 69, > 0; 1 for plain softmax         */
    double leaky_slope;   /* a of eq. 29; BP_LEAKY_SLOPE_DEFAULT           */
} bp_config;

typedef struct bp_net bp_net;

/* Checks cfg (shapes, output/loss pairing, temperature) and allocates the
 * parameters (zeroed), their gradients and every work buffer for batches of
 * up to max_batch examples. On error returns NULL and writes why to err. */
bp_net *bp_net_create(const bp_config *cfg, int max_batch, bp_error *err);
void bp_net_free(bp_net *net);

int bp_net_n_layers(const bp_net *net);
int bp_net_size(const bp_net *net, int l);       /* N(l), 0 <= l <= L */
bp_act bp_net_act(const bp_net *net, int l);     /* activation of layer l, 1 <= l <= L */
bp_loss bp_net_loss(const bp_net *net);
double bp_net_temperature(const bp_net *net);
double bp_net_leaky_slope(const bp_net *net);
int bp_net_max_batch(const bp_net *net);

/* All parameters live in one float buffer: for l = 0..L-1, W(l) [N(l+1),N(l)]
 * then b(l) [N(l+1)]. The gradient buffer has the same layout. */
size_t bp_net_n_params(const bp_net *net);
float *bp_net_params(bp_net *net);
const float *bp_net_params_const(const bp_net *net);
float *bp_net_grads(bp_net *net);
size_t bp_net_weight_offset(const bp_net *net, int l); /* offset of W(l) */
size_t bp_net_bias_offset(const bp_net *net, int l);   /* offset of b(l) */

/* He initialisation for the ReLU family, Xavier (Glorot uniform) otherwise;
 * biases zero. Deterministic for a given seed. */
void bp_net_init(bp_net *net, uint64_t seed);

/* ------------------------------------------------------------------------ */
/* Targets                                                                   */
/* ------------------------------------------------------------------------ */

/* The targets of M examples: either dense values t [M, N(L)] or, for
 * softmax_ce only, class labels [M] in 0..N(L)-1 (a one-hot t). Exactly one
 * of the two pointers is set. */
typedef struct {
    const float *t;
    const int32_t *labels;
} bp_targets;

/* ------------------------------------------------------------------------ */
/* The batch form (section 7): the engine                                    */
/* ------------------------------------------------------------------------ */

/* Forward pass of M <= max_batch examples x [M, N(0)] (eq. 51–52 transposed:
 * Z = Y Wᵀ + b). x is used in place as Y(0), so it must stay unchanged until
 * bp_backward. The outputs are then at bp_net_output(). */
bp_status bp_forward(bp_net *net, const float *x, int M);
const float *bp_net_output(const bp_net *net); /* [M, N(L)] of the last forward */

/* Loss of the last forward against targets (mean over the M examples). */
bp_status bp_loss_value(const bp_net *net, bp_targets tg, double *loss);

/* Backward pass of the last forward: overwrites the gradient buffer with the
 * mean gradient over the batch (eq. 52–56) and, if loss is not NULL, stores
 * the batch loss. */
bp_status bp_backward(bp_net *net, bp_targets tg, double *loss);

/* ------------------------------------------------------------------------ */
/* The vector form (section 6): one example                                  */
/* ------------------------------------------------------------------------ */

/* Gradient of one example x [N(0)] with target t [N(L)] or label (used when
 * t is NULL): eq. 40–46 with sgemv/sger. Overwrites grad [n_params]; uses the
 * network's work buffers, so it invalidates the last batch forward. */
bp_status bp_vector_gradient(bp_net *net, const float *x, const float *t, int32_t label,
                             float *grad, double *loss);

/* ------------------------------------------------------------------------ */
/* The scalar form (sections 4–5): the reference, in double                  */
/* ------------------------------------------------------------------------ */

/* What the scalar form computed for its last example: for layer l = 0..L,
 * z, y (eq. 1–2) and δ (eq. 13/26/68) of neuron j at index offset[l] + j.
 * z(0) and δ(0) are never computed and stay 0; y(0) is the input. */
typedef struct {
    int n_layers;
    const int *sizes; /* N(0..L), the network's */
    size_t *offset;   /* [L+1] start of layer l in z, y, delta */
    double *z, *y, *delta;
} bp_trace;

bp_trace *bp_trace_create(const bp_net *net);
void bp_trace_free(bp_trace *tr);

/* Mean gradient and loss of M examples, one weight at a time (eq. 1, 2, 13,
 * 17, 26, 37, then 52–53's sum and 1/M) in double. The network gives the
 * shapes, activations and loss; the parameters are params [n_params] in
 * double, the network's layout (so finite differences can perturb them
 * finely). grad [n_params] is overwritten. trace, if not NULL, holds the
 * intermediates of the last example. */
bp_status bp_scalar_gradient(const bp_net *net, const double *params, const float *x,
                             bp_targets tg, int M, double *grad, double *loss, bp_trace *trace);

/* ------------------------------------------------------------------------ */
/* Optimisers (eq. 49–50 and what extends them)                              */
/* ------------------------------------------------------------------------ */

typedef enum {
    BP_OPT_SGD = 0, /* θ ← θ − α ∇θ   eq. 49–50 */
    BP_OPT_COUNT
} bp_opt_kind;

typedef struct {
    bp_opt_kind kind;
    double lr; /* α */
} bp_opt_config;

typedef struct bp_optimizer bp_optimizer;

bp_optimizer *bp_optimizer_create(const bp_opt_config *cfg, size_t n_params, bp_error *err);
void bp_optimizer_free(bp_optimizer *opt);
/* One update of params [n] from grads [n] (the network's two buffers). */
void bp_optimizer_step(bp_optimizer *opt, float *params, const float *grads, size_t n);

/* Forward, backward and one optimiser step on a batch; loss may be NULL. */
bp_status bp_train_step(bp_net *net, bp_optimizer *opt, const float *x, bp_targets tg, int M,
                        double *loss);

/* ------------------------------------------------------------------------ */
/* Model file: safetensors (SPEC.md §3)                                      */
/* ------------------------------------------------------------------------ */

/* Writes the network's parameters and its __metadata__ (format, sizes,
 * activations, loss, temperature where not 1, leaky_slope where not 0.01)
 * atomically: a temporary file in the same folder, fsync, rename. */
bp_status bp_model_save(const bp_net *net, const char *path, bp_error *err);

/* Reads a model strictly and creates a network for batches of up to
 * max_batch with its parameters. */
bp_status bp_model_load(const char *path, int max_batch, bp_net **out, bp_error *err);

/* Writes a gradient buffer [n_params] under the model's tensor names, with
 * __metadata__["loss_value"] = loss (round-trip exact decimal). */
bp_status bp_grads_save(const bp_net *net, const float *grads, double loss, const char *path,
                        bp_error *err);

/* ------------------------------------------------------------------------ */
/* CSV (inputs, targets, outputs)                                            */
/* ------------------------------------------------------------------------ */

/* Reads a numeric CSV with no header: every row the same number of columns,
 * every value finite. *data [rows, cols] is malloc'ed; the caller frees it. */
bp_status bp_csv_read(const char *path, float **data, int *rows, int *cols, bp_error *err);

/* Writes data [rows, cols] as CSV (shortest round-trip decimals) atomically;
 * path "-" writes to stdout. */
bp_status bp_csv_write(const char *path, const float *data, int rows, int cols, bp_error *err);

/* ------------------------------------------------------------------------ */
/* Build information                                                         */
/* ------------------------------------------------------------------------ */

/* The BLAS in use, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell, 2 threads". */
void bp_blas_info(char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* BACKPROP_H */
