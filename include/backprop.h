/*
 * backprop.h — the one public header of libbackprop.
 *
 * A fully connected network trained with the backpropagation algorithm.
 * docs/algorithm.md states the algorithm with the equation numbers cited
 * below (eq. N), docs/formats.md the model, gradient and checkpoint files.
 * The same algorithm exists in three forms:
 *   - scalar  (sections 4–5): one example, one weight at a time, double —
 *                             the readable reference and the test oracle;
 *   - vector  (section 6):    one example, matrix–vector, float32;
 *   - batch   (section 7):    M examples, matrix–matrix products through the
 *                             GEMM seam (oneDNN or CBLAS), float32 — the
 *                             engine that training uses.
 *
 * Conventions (docs/algorithm.md): W(l) is [N(l+1), N(l)] row-major (row j = weights
 * into neuron j of layer l+1), b(l) is [N(l+1)]; a batch is row-major with one
 * example per row, Y(l) is [M, N(l)]; the loss of a batch is the mean over its
 * examples of the per-example loss.
 *
 * The error rule, for every call:
 *   - a call that can fail returns a bp_status, or, for a creator, the
 *     object or NULL; a call that cannot fail returns its answer (a count,
 *     a name), with the value its comment names for a bad argument;
 *   - whenever a call fails, one line naming the call or the file and the
 *     problem is at bp_last_error(), e.g.
 *     "bp_forward: M = 300 > max_batch 256";
 *   - the calls that read or write files, and the whole-job calls
 *     bp_predict, bp_fit and bp_dataset_from_memory(_f64), also take a bp_error
 *     (may be NULL) that receives the same line;
 *   - a NULL handle or pointer, a size or an index out of range is
 *     BP_ERR_ARG (BP_ERR_SHAPE where sizes disagree) and changes nothing;
 *   - the library never prints, exits or installs a signal handler.
 * Configuration structs are taken literally (0 means 0) and start from
 * their _DEFAULT macro, which sets their size field: a struct of another
 * size (zero-initialised, or a binding's declaration of another layout)
 * is refused. Handles are opaque; each _create has a NULL-safe _free.
 *
 * What stays valid: a pointer the library hands out (bp_net_params,
 * bp_net_grads, bp_net_output, bp_net_mean, ...) lives as long as its
 * object. What stays current: read it through its call again after any
 * call that computes (a step, an epoch, a forward, bp_net_init, a load),
 * because a per-example descent step leaves W(0)'s update to the next
 * forward pass and a CUDA network keeps the newer copy on the device; the
 * call completes or downloads it. Writes through bp_net_params are seen
 * by the next call. An optimiser's state is read back from a device by
 * every call that reads it (bp_checkpoint_save, a host step).
 */
#ifndef BACKPROP_H
#define BACKPROP_H

#include <signal.h> /* sig_atomic_t */
#include <stddef.h>
#include <stdint.h>

/* The library exports exactly the functions declared here (it is built
 * with hidden visibility; tests/test_exports.sh checks). */
#if defined(__GNUC__) && !defined(BP_API)
#define BP_API __attribute__((visibility("default")))
#elif !defined(BP_API)
#define BP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define BP_VERSION "0.2.0"
/* The version of the library running, which may differ from the header's
 * BP_VERSION that a program was compiled with. */
BP_API const char *bp_version(void);
/* Frees a buffer the library allocated for the caller (bp_csv_read's data):
 * the library's own free, whatever allocator the caller's program uses.
 * NULL is fine. */
BP_API void bp_free(void *p);

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
    BP_STOPPED,       /* not a failure: a pass stopped early, as its caller
                       * asked (bp_epoch_hooks.stop)                        */
} bp_status;

BP_API const char *bp_status_string(bp_status s);

/* Filled by functions that can fail on outside input; may be NULL. */
typedef struct {
    char msg[512]; /* one line, e.g. "m.safetensors: tensor layers.0.bias: dtype F64, expected F32" */
} bp_error;

/* The message of the last call on this thread that failed or was given a
 * bad argument ("" if none yet), e.g. "bp_train_step: label 7 not in 0..2".
 * Like errno, a call that succeeds does not clear it: read it right after
 * the call whose status said it failed. Each thread has its own. */
BP_API const char *bp_last_error(void);

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

#define BP_LEAKY_SLOPE_DEFAULT 0.01 /* the CLI's --leaky-slope default, exactly */

/* "unknown" for an out-of-range enum */
BP_API const char *bp_act_name(bp_act a);
BP_API const char *bp_loss_name(bp_loss l);

/* Name -> enum; BP_ERR_ARG for an unknown or NULL name (out is then unchanged). */
BP_API bp_status bp_act_parse(const char *name, bp_act *out);
BP_API bp_status bp_loss_parse(const char *name, bp_loss *out);

/* ------------------------------------------------------------------------ */
/* The network                                                               */
/* ------------------------------------------------------------------------ */

/* Where a network's parameters live and its passes run. A CUDA network keeps
 * the host buffers as a mirror of the device's (see bp_net_params). */
typedef enum {
    BP_DEVICE_CPU = 0, /* the host: oneDNN or CBLAS products (bp_gemm)       */
    BP_DEVICE_CUDA,    /* cuBLAS + kernels on the first CUDA device (docs/cuda.md) */
    BP_DEVICE_COUNT
} bp_device;

BP_API const char *bp_device_name(bp_device d);                   /* "cpu", "cuda" */
BP_API bp_status bp_device_parse(const char *name, bp_device *out); /* BP_ERR_ARG if unknown */
/* 1 if this build has the CUDA backend (nvcc was found when it was built). */
BP_API int bp_cuda_built(void);
/* BP_OK if a CUDA device can be used now; otherwise BP_ERR_ARG and why in err
 * ("CUDA: no CUDA device (cudaGetDeviceCount: ...)", or that the build has
 * no CUDA backend). */
BP_API bp_status bp_cuda_probe(bp_error *err);
/* The GPU that CUDA networks created afterwards by this thread run on:
 * index modulo the number of GPUs (one GPU per MPI rank of a machine). */
BP_API bp_status bp_cuda_use_gpu(int index, bp_error *err);

#define BP_MAX_LAYERS 64       /* weight layers */
#define BP_MAX_WIDTH  (1 << 24) /* neurons in one layer */

/* Every field is taken literally: a leaky slope of 0 is 0, a temperature
 * of 0 is refused. Start from BP_CONFIG_DEFAULT, which also sets `size`:
 * a struct whose size is not sizeof(bp_config) (zero-initialised, or a
 * binding's declaration of another layout) is refused with one line. */
typedef struct {
    size_t size;          /* sizeof(bp_config): set by BP_CONFIG_DEFAULT    */
    int n_layers;         /* L: weight layers; sizes has L+1 entries       */
    const int *sizes;     /* N(0..L)                                       */
    const bp_act *acts;   /* [L] activation of layers 1..L (last = output) */
    bp_loss loss;
    double temperature;   /* T of eq. 69, > 0 (1: plain softmax)           */
    double leaky_slope;   /* a of eq. 29, finite                           */
    bp_device device;
} bp_config;

/* Every field at its default (temperature 1, slope BP_LEAKY_SLOPE_DEFAULT,
 * the CPU); set n_layers, sizes, acts and loss:
 *   bp_config cfg = BP_CONFIG_DEFAULT; cfg.n_layers = 2; ... */
#define BP_CONFIG_DEFAULT                                                                \
    {sizeof(bp_config), 0, NULL, NULL, BP_LOSS_MSE, 1.0, BP_LEAKY_SLOPE_DEFAULT,          \
     BP_DEVICE_CPU}

/* The seed bp_net_create initialises a network from (bp_net_init): the
 * CLI's default --seed, so a new network is `backprop init`'s default one. */
#define BP_INIT_SEED 1u

typedef struct bp_net bp_net;

/* Checks cfg (shapes, output/loss pairing, temperature) and allocates the
 * parameters, their gradients and every work buffer for batches of up to
 * max_batch examples — on the device too for BP_DEVICE_CUDA. The weights
 * are initialised as bp_net_init(net, BP_INIT_SEED) does, so a new network
 * can train at once; bp_net_init re-seeds it. On error returns NULL and
 * writes why to err (for CUDA: no device, no backend in this build, out of
 * device memory). */
BP_API bp_net *bp_net_create(const bp_config *cfg, int max_batch, bp_error *err);
BP_API void bp_net_free(bp_net *net);

/* Moves a network to another device (e.g. after bp_model_load, which makes
 * a CPU network): the parameters go with it, the last forward does not. On
 * error the network stays where it was. */
BP_API bp_status bp_net_set_device(bp_net *net, bp_device device, bp_error *err);
BP_API bp_device bp_net_device(const bp_net *net); /* BP_DEVICE_COUNT for NULL */
/* CUDA: 1 lets cuBLAS run float32 products on the tensor cores in TF32
 * (10-bit mantissa inputs, float32 accumulation: ~1e-3 relative error per
 * product instead of ~1e-6); 0 (the default) keeps full float32. BP_OK and
 * no effect on a CPU network. A failed device operation, here or in any
 * call on a CUDA network, leaves its reason at bp_last_error(). */
BP_API bp_status bp_net_set_tf32(bp_net *net, int on);

/* The network's shape. For a NULL net or an l out of range: 0, BP_ACT_COUNT,
 * BP_LOSS_COUNT, NaN, BP_DEVICE_COUNT. */
BP_API int bp_net_n_layers(const bp_net *net);
BP_API int bp_net_size(const bp_net *net, int l);       /* N(l), 0 <= l <= L */
BP_API bp_act bp_net_act(const bp_net *net, int l);     /* activation of layer l, 1 <= l <= L */
BP_API bp_loss bp_net_loss(const bp_net *net);
BP_API double bp_net_temperature(const bp_net *net);
BP_API double bp_net_leaky_slope(const bp_net *net);
BP_API int bp_net_max_batch(const bp_net *net);

/* All parameters live in one float buffer: for l = 0..L-1, W(l) [N(l+1),N(l)]
 * then b(l) [N(l+1)]. The gradient buffer has the same layout.
 * On a CUDA network these are the host mirror of the device's buffers:
 * bp_net_params downloads what the device changed and marks the host copy
 * as modified, so the next device operation uploads it; the const form, the
 * gradients and bp_net_output only download (a failed download leaves the
 * old host values and the next device operation reports the error).
 * On the CPU too, read the parameters through these calls again after a
 * training step rather than through a pointer kept from before it: a
 * per-example (M = 1) descent step leaves W(0)'s update to the next forward
 * pass (one pass over W(0) instead of two), and these calls complete it.
 * For a NULL net: 0 and NULL. The offsets, of W(l) and b(l) for
 * 0 <= l < L: SIZE_MAX for a NULL net or an l out of range. */
BP_API size_t bp_net_n_params(const bp_net *net);
BP_API float *bp_net_params(bp_net *net);
BP_API const float *bp_net_params_const(const bp_net *net);
BP_API float *bp_net_grads(bp_net *net);
BP_API size_t bp_net_weight_offset(const bp_net *net, int l); /* offset of W(l) */
BP_API size_t bp_net_bias_offset(const bp_net *net, int l);   /* offset of b(l) */

/* Input standardisation that belongs to the model: x ← (x − mean)/std per
 * feature, applied to every input by bp_predict, bp_train_epoch, bp_evaluate
 * and bp_fit (bp_forward takes its x as given); saved in the model file's
 * metadata and in checkpoints. NULL, NULL removes it; one of
 * the two NULL is BP_ERR_ARG, as is a non-finite value or a std <= 0
 * (nothing changed then). Copies the N(0) values. */
BP_API bp_status bp_net_set_standardize(bp_net *net, const float *mean, const float *std);
BP_API const float *bp_net_mean(const bp_net *net); /* [N(0)] or NULL */
BP_API const float *bp_net_std(const bp_net *net);  /* [N(0)] or NULL */

/* Threads the network's passes run on (<= 0: one per core, at most 256):
 * the one way to set threads. The engine splits every phase of a step over
 * its own pool of threads, as many as the phase's work keeps busy, and runs
 * each share's matrix product on one thread. 1 (the default) runs in the
 * caller. bp_net_threads: 0 for NULL. */
BP_API bp_status bp_net_set_threads(bp_net *net, int threads);
BP_API int bp_net_threads(const bp_net *net);

/* The provider of the engine's matrix products. oneDNN chooses its kernels
 * from the CPU's feature bits (AVX-512 where the CPU has it); CBLAS is the
 * BLAS the library was linked with (OpenBLAS in the Debian build). Both give
 * the same results to float32 rounding, not bit for bit: a model is
 * bit-reproducible for a given seed, thread count, provider and ISA. */
typedef enum { BP_GEMM_ONEDNN = 0, BP_GEMM_CBLAS = 1 } bp_gemm;
/* "onednn" or "cblas" -> the enum; BP_ERR_ARG if unknown (out unchanged). */
BP_API bp_status bp_gemm_parse(const char *name, bp_gemm *out);
/* What g is in this build, one line into buf [size], e.g. "oneDNN 2.6.3
 * (avx512_core)" or OpenBLAS's configuration string; BP_ERR_ARG (and why
 * in buf) if this build lacks g. Nothing written to a NULL buf. */
BP_API bp_status bp_gemm_info(bp_gemm g, char *buf, size_t size);
/* A new network takes oneDNN where the build has it, else CBLAS; the
 * environment variable BP_GEMM=cblas|onednn overrides. BP_ERR_ARG if g is
 * not built in. bp_net_gemm: BP_GEMM_CBLAS for a NULL net. */
BP_API bp_status bp_net_set_gemm(bp_net *net, bp_gemm g);
BP_API bp_gemm bp_net_gemm(const bp_net *net);

/* He initialisation for the ReLU family, Xavier (Glorot uniform) otherwise;
 * biases zero. Deterministic for a given seed. */
BP_API bp_status bp_net_init(bp_net *net, uint64_t seed);
/* scikit-learn's MLP initialisation (Glorot et al.): every weight and bias
 * of layer l uniform in ±sqrt(gain / (N(l) + N(l+1))); sklearn takes gain
 * 6, and 2 for logistic hidden layers. BP_ERR_ARG for a gain that is not
 * finite and > 0. */
BP_API bp_status bp_net_init_uniform(bp_net *net, uint64_t seed, double gain);

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

/* Forward pass of 1 <= M <= max_batch examples x [M, N(0)] (eq. 51–52
 * transposed: Z = Y Wᵀ + b), as given: no standardisation (bp_predict
 * applies the model's). The network keeps its own copy of x as Y(0), so x
 * may change or be freed before bp_backward. The outputs are then at
 * bp_net_output(). On a CUDA network x and the targets below are host
 * arrays, uploaded by each call. */
BP_API bp_status bp_forward(bp_net *net, const float *x, int M);
/* [M, N(L)] of the last forward; NULL for a NULL net */
BP_API const float *bp_net_output(const bp_net *net);

/* Loss of the last forward against targets (mean over the M examples).
 * Targets as for bp_backward. */
BP_API bp_status bp_loss_value(const bp_net *net, bp_targets tg, double *loss);

/* Backward pass of the last forward: overwrites the gradient buffer with the
 * mean gradient over the batch (eq. 52–56) and, if loss is not NULL, stores
 * the batch loss. Exactly one of tg.t and tg.labels, labels in 0..N(L)−1
 * (softmax_ce only); BP_ERR_ARG if there is no forward to go back through
 * (none yet, or the network moved between devices since). */
BP_API bp_status bp_backward(bp_net *net, bp_targets tg, double *loss);

/* Outputs y [n, N(L)] of any number n >= 0 of examples x [n, N(0)] in raw
 * units: the model's standardisation (bp_net_set_standardize) is applied
 * first, then forward passes in chunks of the network's maximum batch. A
 * non-finite value in x is BP_ERR_NONFINITE, naming its row and column,
 * with y untouched. */
BP_API bp_status bp_predict(bp_net *net, const float *x, long n, float *y, bp_error *err);

/* bp_predict with each example computed alone, by the vector form (eq. 40:
 * one matrix–vector product per layer): an example's outputs are the same
 * bits whatever other rows x holds, which a batch's matrix products do not
 * promise (their kernels sum in an order that depends on the batch's size
 * and a row's place in it, ~1e-7 apart). One pass over the weights per
 * example: for few rows, or where that promise matters (the Python
 * package's estimators). The model's standardisation as in bp_predict. */
BP_API bp_status bp_predict_rows(bp_net *net, const float *x, long n, float *y, bp_error *err);

/* Where the last forward and backward first went non-finite, in the order
 * they computed: z and y of layers 1..L, δ of layers L..1, then ∇W and ∇b,
 * then the parameters. BP_OK if all is finite; else BP_ERR_NONFINITE and a
 * description in where [size], e.g. "δ of layer 2 (example 4, neuron 17)".
 * Slow: for hunting an anomaly, not for every step. */
BP_API bp_status bp_net_find_nonfinite(const bp_net *net, char *where, size_t size);

/* ------------------------------------------------------------------------ */
/* Optimisers (eq. 49–50 and what extends them)                              */
/* ------------------------------------------------------------------------ */

typedef enum {
    BP_OPT_SGD = 0,   /* θ ← θ − α ∇θ   eq. 49–50                               */
    BP_OPT_MOMENTUM,  /* v ← μ v + ∇θ; θ ← θ − α v   (PyTorch's SGD momentum)     */
    BP_OPT_NESTEROV,  /* v ← μ v + ∇θ; θ ← θ − α (∇θ + μ v)                       */
    BP_OPT_ADAM,      /* Kingma & Ba, bias-corrected; weight decay added to ∇θ    */
    BP_OPT_ADAMW,     /* Adam with decoupled weight decay θ ← θ − α λ θ           */
    BP_OPT_COUNT
} bp_opt_kind;

typedef enum {
    BP_SCHED_CONSTANT = 0, /* α                                                  */
    BP_SCHED_STEP,         /* α γ^floor(t / step_size)                           */
    BP_SCHED_COSINE,       /* min_lr + (α − min_lr)(1 + cos(π t / total_steps))/2 */
    BP_SCHED_INVSCALING,   /* α / (e + 1)^power_t, e the examples of the passes of
                            * bp_train_epoch before this one (sklearn's t_)   */
    BP_SCHED_ADAPTIVE,     /* α / 5^k, k the plateaus the caller reported with
                            * bp_optimizer_plateau (sklearn's 'adaptive')     */
    BP_SCHED_COUNT
} bp_sched_kind;

/* Every field is taken literally: momentum 0 is plain SGD's step, beta1 0
 * an Adam without a first moment. Start from BP_OPT_CONFIG_DEFAULT (the
 * values of `backprop train`'s options), which also sets `size`; a struct
 * whose size is not sizeof(bp_opt_config) is refused with one line, so a
 * zero-initialised one never trains silently with beta = 0. Ranges:
 * lr > 0, 0 <= momentum <= 1, 0 <= beta1 < 1, 0 <= beta2 < 1, eps > 0,
 * weight_decay >= 0, clip_norm >= 0, 0 < gamma <= 1, 0 <= min_lr <= lr,
 * l2 >= 0, power_t >= 0.
 *
 * l2 is scikit-learn's alpha: a penalty (l2 / 2M) Σ_l ‖W(l)‖² on the
 * weights, not the biases, added to the loss of each batch of M examples,
 * so that its gradient (l2 / M) W(l) joins ∇W(l) before the update and the
 * loss a step reports includes it. It is part of the step (bp_train_step,
 * bp_train_epoch), where M is known; a CUDA network's steps with it go
 * through the host copies, as a hooked pass's do (slower: the gradient
 * crosses the bus each step). weight_decay is PyTorch's convention. */
typedef struct {
    size_t size;          /* sizeof(bp_opt_config): set by the default       */
    bp_opt_kind kind;
    double lr;            /* α, the peak learning rate                       */
    double momentum;      /* μ for momentum and Nesterov                     */
    double beta1, beta2;  /* Adam's moment decays                            */
    double eps;           /* Adam's ε                                        */
    double weight_decay;  /* λ: L2 (SGD family, Adam) or decoupled (AdamW)   */
    double clip_norm;     /* > 0: scale ∇ so that its global L2 norm ≤ this  */
    bp_sched_kind schedule;
    long warmup_steps;    /* α rises linearly over these first steps (0: off)*/
    long total_steps;     /* cosine: the steps the schedule spans            */
    long step_size;       /* step: steps between decays                      */
    double gamma;         /* step: the decay factor                          */
    double min_lr;        /* cosine: the floor                               */
    double l2;            /* sklearn's alpha: (l2 / 2M) Σ ‖W‖² per batch     */
    double power_t;       /* invscaling: the exponent                        */
} bp_opt_config;

/* sgd at α 0.1; momentum 0.9, Adam's 0.9, 0.999 and 1e-8, γ 0.1, power_t
 * 0.5; no weight decay, L2, clipping, warm-up or schedule. */
#define BP_OPT_CONFIG_DEFAULT                                                            \
    {sizeof(bp_opt_config), BP_OPT_SGD, 0.1, 0.9, 0.9, 0.999, 1e-8, 0.0, 0.0,             \
     BP_SCHED_CONSTANT, 0L, 0L, 0L, 0.1, 0.0, 0.0, 0.5}

BP_API const char *bp_opt_name(bp_opt_kind k);
/* sgd momentum nesterov adam adamw */
BP_API bp_status bp_opt_parse(const char *name, bp_opt_kind *out);
BP_API const char *bp_sched_name(bp_sched_kind k);
/* constant step cosine invscaling adaptive */
BP_API bp_status bp_sched_parse(const char *name, bp_sched_kind *out);

typedef struct bp_optimizer bp_optimizer;

/* For n_params >= 1 parameters (bp_net_n_params). */
BP_API bp_optimizer *bp_optimizer_create(const bp_opt_config *cfg, size_t n_params, bp_error *err);
BP_API void bp_optimizer_free(bp_optimizer *opt);
/* One update of params [n] from grads [n] (the network's two buffers):
 * clipping, then the schedule's rate, then the rule of cfg.kind. grads is
 * not modified. *norm (norm may be NULL) receives the global L2 norm of
 * grads before clipping: NaN or Inf there is not clipped, so a caller can
 * see a diverging gradient. BP_ERR_ARG, and nothing changed, for a NULL
 * pointer or an n other than the optimiser's. */
BP_API bp_status bp_optimizer_step(bp_optimizer *opt, float *params, const float *grads, size_t n,
                                   double *norm);
/* The same with the gradient scale·grads, scale folded into the update's
 * own pass: for data-parallel ranks whose summed gradients need a 1/ranks. */
BP_API bp_status bp_optimizer_step_scaled(bp_optimizer *opt, float *params, const float *grads,
                                          size_t n, double scale, double *norm);
/* the rate the next step will use; NaN for NULL */
BP_API double bp_optimizer_lr(const bp_optimizer *opt);
BP_API long bp_optimizer_steps(const bp_optimizer *opt); /* steps taken so far; -1 for NULL */
/* The examples of the bp_train_epoch passes it stepped, stopped ones
 * included (invscaling's e); -1 for NULL. */
BP_API long bp_optimizer_examples(const bp_optimizer *opt);

/* The caller saw no progress (scikit-learn's n_iter_no_change epochs without
 * an improvement of tol). The adaptive schedule divides its rate by 5 and
 * sets *stop to 0, unless the rate is already at most 1e-6, when it sets
 * *stop to 1; every other schedule sets *stop to 1: training is over.
 * scikit-learn's rule for both of its optimisers. */
BP_API bp_status bp_optimizer_plateau(bp_optimizer *opt, int *stop);

/* Forward, backward and one optimiser step on a batch of 1 <= M <= max_batch
 * examples (targets as for bp_backward); loss may be NULL. A non-finite
 * batch loss is BP_ERR_NONFINITE, the step not taken (on a CUDA network,
 * where the loss is known only after the step, it was taken). */
BP_API bp_status bp_train_step(bp_net *net, bp_optimizer *opt, const float *x, bp_targets tg, int M,
                               double *loss);

/* One step of a bp_train_epoch pass, as its hooks see it. */
typedef struct {
    long step;         /* the step's number in this pass, from 0                  */
    int steps;         /* steps this report covers: 1, or a whole CUDA pass's     */
    int first, M;      /* their examples: idx[first .. first + M)                 */
    int lo, hi;        /* this process's rows of them, [lo, hi) (all: 0, M)       */
    double loss;       /* after_backward: Σ of the loss over the rows [lo, hi);
                        * after_step: the mean loss over the M examples           */
    bp_status status;  /* after_backward: how this process's passes went          */
    int stop;          /* after_backward: the stop request as this process saw it
                        * (hooks->stop); the hook may set it to the ranks' agreed
                        * answer. after_step: the pass stops after this step    */
} bp_step_info;

/* What a bp_train_epoch pass calls besides its steps; zero fields are off.
 *
 * rank, ranks: data parallelism. With ranks > 1 this process trains on rows
 * [M·rank/ranks, M·(rank+1)/ranks) of each batch of M (the network's maximum
 * batch need only hold ceil(batch/ranks) rows; a share may be empty), and
 * after_backward must combine the processes' gradients: each process's
 * buffer then holds its rows' mean gradient, weighted by rows/M where ranks
 * does not divide M, and the update takes the sum over the processes of the
 * buffers times 1/ranks where it does (the mean gradient of the batch,
 * eq. 52–53); the batch loss is info->loss / M.
 *
 * after_backward(ctx, net, info): after each batch's backward pass, before
 * its update; also after a failed pass (info->status), so that processes
 * stepping together stay together. It may change the gradient buffer and
 * info->loss, and returns the status the step goes on with. With it set, or
 * with ranks > 1, a step is bp_forward, bp_backward, the hook and
 * bp_optimizer_step_scaled (on a CUDA network through the host mirror)
 * instead of bp_train_step; the numbers are those of the separate calls.
 *
 * after_step(ctx, net, info): after each step taken, with its batch's mean
 * loss; a CUDA pass reports once, at its end, for all its steps (the device
 * reads the loss back once), or once per chunk when stop is set (below). A
 * status other than BP_OK stops the pass there and is returned: progress,
 * checks of the values.
 *
 * stop: a flag the caller may set at any time, e.g. from a signal handler
 * (the library installs none), to ask the pass to stop after the step in
 * flight: the pass then returns BP_STOPPED with that step's update taken.
 * It is read once per step, after the backward pass, into info->stop; with
 * after_backward set, only the value the hook leaves there counts, so that
 * processes stepping together stop at the same step (the hook reduces it
 * with the loss and the failures: one record per step, no extra exchange).
 * A CUDA pass with stop set runs in chunks of about a second of steps and
 * reads the flag between them; its numbers are the unchunked pass's.
 *
 * grads_ready(ctx, net, lo, hi): during each backward pass of a step with
 * after_backward set, the gradient values grads[lo .. hi) are final, as
 * after_backward will see them (weighted, with the penalty), so that the
 * hook may start sending them while the pass goes on (a non-blocking
 * all-reduce; after_backward then waits for them). The ranges come from the
 * output layer down, in an order and at boundaries fixed by the network's
 * shape and bucket alone, the same in every process and every step, and
 * cover the buffer once; the last one (lo = 0) comes just before
 * after_backward. They come also for a failed pass or an empty share, so
 * that processes stepping together stay together. A layer's ∇W larger
 * than bucket values is formed in blocks of rows of about bucket values,
 * and adjacent ranges are joined up to bucket values; bucket 0: one range,
 * the whole buffer, after the pass. A status other than BP_OK becomes the
 * pass's (info->status). On the CPU the ranges come as the pass makes
 * them; a CUDA pass gives them all after it. */
typedef struct {
    size_t size; /* sizeof(bp_epoch_hooks): set by BP_EPOCH_HOOKS_DEFAULT */
    int rank, ranks;
    bp_status (*after_backward)(void *ctx, bp_net *net, bp_step_info *info);
    bp_status (*after_step)(void *ctx, bp_net *net, const bp_step_info *info);
    void *ctx;
    const volatile sig_atomic_t *stop;
    bp_status (*grads_ready)(void *ctx, bp_net *net, size_t lo, size_t hi);
    size_t bucket; /* values per grads_ready range, about; 0: one range */
} bp_epoch_hooks;

/* One process, no hooks. */
#define BP_EPOCH_HOOKS_DEFAULT {sizeof(bp_epoch_hooks), 0, 1, NULL, NULL, NULL, NULL, NULL, 0}

/* One pass over the examples idx [n] of ds in that order, in batches of
 * `batch` examples (the last one may be smaller; at most the network's
 * maximum batch): gather, standardise with the network's standardisation
 * (bp_net_set_standardize), then bp_train_step; hooks may be NULL (one
 * process, no hooks) and otherwise start from BP_EPOCH_HOOKS_DEFAULT.
 * *loss_sum receives Σ over the steps taken of (batch loss × batch size),
 * and *n_done (may be NULL) the examples of those steps: n, or fewer when
 * the pass returns BP_STOPPED (hooks->stop) or an error; the mean loss is
 * *loss_sum / *n_done. BP_ERR_SHAPE if ds does not fit the network.
 * BP_ERR_NONFINITE on the CPU at the first batch whose loss is not finite
 * (its step not taken, *loss_sum then not finite); on CUDA at the end of a
 * pass whose sum is not finite. The pass spends its forwards: a bp_backward
 * afterwards is BP_ERR_ARG.
 * On CUDA the data set is uploaded once and kept (uint8 pixels stay uint8),
 * batches are gathered on the device, each step is one replay of a CUDA
 * graph and the loss is read back once, at the end. The device keeps the
 * optimiser's state until a call that reads it (bp_optimizer_state,
 * bp_checkpoint_save, a host step) brings it back. */
typedef struct bp_dataset bp_dataset; /* see "Data sets" below */
BP_API bp_status bp_train_epoch(bp_net *net, bp_optimizer *opt, const bp_dataset *ds,
                                const int32_t *idx, int n, int batch,
                                const bp_epoch_hooks *hooks, double *loss_sum, int *n_done);

/* ------------------------------------------------------------------------ */
/* Model file: safetensors (docs/formats.md)                                 */
/* ------------------------------------------------------------------------ */

/* Writes the network's parameters and its __metadata__ (format, sizes,
 * activations, loss, temperature where not 1, leaky_slope where not 0.01)
 * atomically: a temporary file in the same folder, fsync, rename. */
BP_API bp_status bp_model_save(const bp_net *net, const char *path, bp_error *err);

/* Reads a model strictly and creates a network for batches of up to
 * max_batch with its parameters. */
BP_API bp_status bp_model_load(const char *path, int max_batch, bp_net **out, bp_error *err);

/* Writes the network as an ONNX model (opset 13, IR version 7;
 * docs/formats.md) atomically: input "x" [N, N(0)] float32 for any batch
 * N, output "y" [N, N(L)] as bp_predict gives it (the standardisation
 * included), and for softmax_ce "label" [N] int64, the most probable
 * class. A model over protobuf's 2 GiB limit is BP_ERR_ARG before
 * anything is allocated or written. */
BP_API bp_status bp_model_export_onnx(const bp_net *net, const char *path, bp_error *err);

/* Writes a gradient buffer [n_params] under the model's tensor names, with
 * __metadata__["loss_value"] = loss (round-trip exact decimal). */
BP_API bp_status bp_grads_save(const bp_net *net, const float *grads, double loss, const char *path,
                               bp_error *err);

/* ------------------------------------------------------------------------ */
/* Checkpoints (docs/formats.md): everything a run needs to continue        */
/* ------------------------------------------------------------------------ */

/* A named block of the caller's own state saved beside the network's and
 * the optimiser's (the training loop's position, its generator, its
 * metrics). On load, size must equal what the file holds. */
#define BP_MAX_BLOBS 64 /* blobs one checkpoint saves and loads */
typedef struct {
    const char *name; /* at most 15 bytes */
    void *data;
    size_t size;
} bp_blob;

/* Writes the parameters, the input standardisation, the optimiser's
 * configuration, step count and state (momenta, Adam's moments) and the
 * blobs to one file, atomically, with a CRC-32 over all of it. The file is
 * for resuming on the same kind of machine (native byte order), not for
 * exchange: the model file is that. */
/* On a CUDA network whose optimiser stepped on the device, the state the
 * device holds is read back first. */
BP_API bp_status bp_checkpoint_save(const char *path, const bp_net *net, const bp_optimizer *opt,
                                    const bp_blob *blobs, int n_blobs, bp_error *err);

/* Reads a checkpoint into a network and an optimiser made with the same
 * configuration, and each blob. Everything is checked (magic, CRC, shapes,
 * activations, loss, optimiser settings, blob sizes) before anything is
 * changed: on error net, opt and the blobs are as they were. */
BP_API bp_status bp_checkpoint_load(const char *path, bp_net *net, bp_optimizer *opt,
                                    const bp_blob *blobs, int n_blobs, bp_error *err);

/* ------------------------------------------------------------------------ */
/* CSV (inputs, targets, outputs)                                            */
/* ------------------------------------------------------------------------ */

/* Reads a numeric CSV with no header: every row the same number of columns,
 * every value finite. *data [rows, cols] is the caller's, freed with bp_free. */
BP_API bp_status bp_csv_read(const char *path, float **data, int *rows, int *cols, bp_error *err);

/* Writes data [rows, cols] as CSV (shortest round-trip decimals) atomically;
 * path "-" writes to stdout. */
BP_API bp_status bp_csv_write(const char *path, const float *data, int rows, int cols,
                              bp_error *err);

/* ------------------------------------------------------------------------ */
/* Data sets                                                                 */
/* ------------------------------------------------------------------------ */

/* Examples held in their stored type (IDX pixels stay uint8) and converted
 * per batch by bp_dataset_gather. Either classification (class labels) or
 * regression (n_out float targets per example). The type bp_dataset is
 * declared above, beside bp_train_epoch. */

/* IDX, the MNIST family's format, plain or gzip'ed: DIR/PREFIX-images-idx3-ubyte[.gz]
 * and DIR/PREFIX-labels-idx1-ubyte[.gz], prefix "train" or "t10k". Pixels are
 * scaled to [0, 1]. */
BP_API bp_status bp_dataset_load_idx(const char *dir, const char *prefix, bp_dataset **out,
                                     bp_error *err);
/* CSV, one example per row, optional header line (detected: a first line of
 * words, or with a word above a number of line 2). target_cols = 0: the
 * last column is a class (an integer label, or a word: see
 * bp_dataset_load_csv_with); K > 0: the last K columns are regression
 * targets. */
BP_API bp_status bp_dataset_load_csv(const char *path, int target_cols, bp_dataset **out,
                                     bp_error *err);
/* FANN's training-data format: "count inputs outputs", then per example a
 * line of inputs and a line of outputs (float targets). */
BP_API bp_status bp_dataset_load_fann(const char *path, bp_dataset **out, bp_error *err);
BP_API void bp_dataset_free(bp_dataset *ds);

/* The counts: 0 for a NULL ds. */
BP_API int bp_dataset_n(const bp_dataset *ds);         /* examples */
BP_API int bp_dataset_n_in(const bp_dataset *ds);      /* features */
BP_API int bp_dataset_n_out(const bp_dataset *ds);     /* classes, or regression targets */
BP_API int bp_dataset_has_labels(const bp_dataset *ds); /* 1: stored as class labels */
/* 1 if the examples have classes: class labels, or one-hot targets (every
 * row exactly one 1, the rest 0, at least 2 outputs; the loaders then keep
 * each row's class beside its targets, and evaluation counts classes);
 * 0 for regression (partly one-hot data is regression). */
BP_API int bp_dataset_has_classes(const bp_dataset *ds);
/* BP_OK if ds fits net: N(0) features; classes (which need softmax_ce)
 * at most N(L), or exactly N(L) targets. Else BP_ERR_SHAPE (BP_ERR_ARG for
 * NULL) naming what differs: the one check every call that takes both
 * (train, evaluate, bp_fit) and the CLI run. */
BP_API bp_status bp_dataset_check(const bp_net *net, const bp_dataset *ds);

/* A data set copied from the caller's arrays: x [n, n_in] and exactly one
 * of targets [n, n_out] (regression) and labels [n] in 0..n_out−1
 * (classification into n_out classes). Every x and target finite, n >= 1.
 * One-hot targets get their classes beside them, as the loaders' do
 * (bp_dataset_one_hot). NULL and why in err on a bad argument or out of
 * memory. */
BP_API bp_dataset *bp_dataset_from_memory(const float *x, const float *targets,
                                          const int32_t *labels, long n, int n_in, int n_out,
                                          bp_error *err);
/* The same with x as doubles, each rounded to float into the data set's
 * own copy (one pass, no float array of the caller's): a binding's float64
 * arrays. Every x finite with |x| <= FLT_MAX: a larger one is
 * BP_ERR_NONFINITE, as a NaN is. */
BP_API bp_dataset *bp_dataset_from_memory_f64(const double *x, const float *targets,
                                              const int32_t *labels, long n, int n_in,
                                              int n_out, bp_error *err);

/* Per-feature mean and standard deviation over the examples idx [n]
 * (std of a constant feature is reported as 1, a CSV category's input 0 and 1: it
 * stays as it is). mean, std [n_in]. Nothing
 * written on a bad argument (NULL, an index out of range: BP_ERR_ARG). */
BP_API bp_status bp_dataset_moments(const bp_dataset *ds, const int32_t *idx, int n,
                                    float *mean, float *std);

/* Batch of the examples idx [M]: x [M, n_in] as float, standardised with
 * (x − mean)/std when mean is not NULL; labels [M] where the data set has
 * classes (labels, or one-hot targets) and t [M, n_out] where it has
 * targets (a pointer the data set has nothing for is ignored; either may be
 * NULL). No allocation. Nothing written on a bad argument (NULL, an index
 * out of range: BP_ERR_ARG). A data set knows no network: the standardisation is an
 * argument here, where the library's own batches pass the network's. */
BP_API bp_status bp_dataset_gather(const bp_dataset *ds, const int32_t *idx, int M,
                                   const float *mean, const float *std, float *x, float *t,
                                   int32_t *labels);

/* What bp_evaluate measures. accuracy is NaN without classes. The FANN
 * figures compare with FANN's: mse_fann is the mean over examples and
 * outputs of (t − y)², t the targets or a label's one-hot row (our MSE loss
 * is ½ Σ per example, so for an MSE model loss = mse_fann · N(L) / 2);
 * bit_fail counts the outputs with |t − y| > BP_BIT_FAIL_LIMIT. */
#define BP_BIT_FAIL_LIMIT 0.35 /* FANN's default bit-fail limit */
typedef struct {
    double loss, accuracy, mse_fann;
    long bit_fail;
} bp_metrics;

/* The network measured on the examples idx [n] of ds, in batches of its
 * maximum batch, inputs standardised with its standardisation. Classes
 * come from labels or one-hot targets; the loss is taken against the
 * targets where the data set has them. confusion, if not NULL, receives
 * the [k, k] counts (row = true class, column = predicted) for k = N(L).
 * Allocates its batch buffers once per call. BP_ERR_ARG for a NULL
 * argument or an index outside ds; BP_ERR_SHAPE if ds does not fit the
 * network (bp_dataset_check) or n < 1. */
BP_API bp_status bp_evaluate(bp_net *net, const bp_dataset *ds, const int32_t *idx, int n,
                             bp_metrics *out, long *confusion);

/* ------------------------------------------------------------------------ */
/* The seeded generator (xoshiro256**): its state lives with its user        */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint64_t s[4];
} bp_rng;

/* For a NULL r: nothing, 0, NaN, NaN. */
BP_API void bp_rng_seed(bp_rng *r, uint64_t seed);
BP_API uint64_t bp_rng_next(bp_rng *r);
BP_API double bp_rng_uniform(bp_rng *r); /* [0, 1) */
BP_API double bp_rng_normal(bp_rng *r);  /* N(0, 1) */
/* Fisher–Yates shuffle of idx [n]. */
BP_API bp_status bp_shuffle(bp_rng *r, int32_t *idx, int n);

/* ------------------------------------------------------------------------ */
/* Training in one call                                                      */
/* ------------------------------------------------------------------------ */

/* The validation split of n examples that `backprop train` and bp_fit make:
 * perm [n] receives a permutation of 0..n−1 seeded by seed, its first
 * *n_val = floor(val_fraction · n) the validation examples, the rest the
 * training ones; *rng the generator, after the split, that then shuffles
 * the training part at the start of each epoch. 0 <= val_fraction < 1. */
BP_API bp_status bp_split(uint64_t seed, int n, double val_fraction, int32_t *perm, int *n_val,
                          bp_rng *rng);

/* A stratified split of n examples with labels [n] in 0..k−1 into n_val
 * validation examples (1 <= n_val < n) and the rest, as scikit-learn's
 * stratified train_test_split does it: each class c of n_c examples gives
 * floor(n_c · n_val / n) of them, and the examples still missing go, one
 * each, to the classes with the largest remainders (ties to the lower
 * class). perm [n] receives the validation examples first, then the
 * training ones, each part in a seeded random order; *rng as for bp_split. */
BP_API bp_status bp_split_classes(uint64_t seed, const int32_t *labels, int n, int k, int n_val,
                                  int32_t *perm, bp_rng *rng);

/* Trains net on ds for `epochs` epochs with a fresh optimiser of
 * configuration opt, as the CLI's train does: a permutation seeded by seed
 * holds out the first floor(val_fraction · n) examples (0 <= val_fraction
 * < 1) for validation; each epoch shuffles the rest with the same generator
 * and runs bp_train_epoch over it in batches of `batch` (0: the network's
 * maximum batch; more than the training examples: all of them), then
 * bp_evaluate on the held-out examples. Inputs are standardised with the
 * network's own standardisation, if it has one (bp_net_set_standardize).
 * train_loss [epochs] receives each epoch's mean training loss, val_loss
 * [epochs] its validation loss (NaN with no validation); either may be NULL.
 * A diverging run stops with BP_ERR_NONFINITE at the epoch that diverged
 * (its losses written). The network's initialisation is its own (bp_net_init). */
BP_API bp_status bp_fit(bp_net *net, const bp_dataset *ds, const bp_opt_config *opt, int epochs,
                        int batch, uint64_t seed, double val_fraction, double *train_loss,
                        double *val_loss, bp_error *err);

/* ------------------------------------------------------------------------ */
/* Named classes (the model file's "classes", docs/formats.md)               */
/* ------------------------------------------------------------------------ */

#define BP_CLASS_NAME_MAX 256 /* bytes of one class name */

/* The names of a network's N(L) classes, in class-index order, saved by
 * bp_model_save as the "classes" metadata and read back by bp_model_load.
 * k = N(L) names, each 1..BP_CLASS_NAME_MAX bytes of UTF-8 without control
 * characters, all distinct, copied; k = 0 (names NULL) removes them. Any
 * other k, or a bad name, is BP_ERR_ARG naming it, and nothing changes. */
BP_API bp_status bp_net_set_classes(bp_net *net, int k, const char *const *names);
/* Class j's name; NULL when the network has no names or j is not in 0..N(L)−1. */
BP_API const char *bp_net_class(const bp_net *net, int j);

/* The same for a data set's classes (k = bp_dataset_n_out, labelled data
 * only): a CSV class column of words brings them, in sorted order; the CLI
 * names fashion-mnist's. */
BP_API bp_status bp_dataset_set_classes(bp_dataset *ds, int k, const char *const *names);
BP_API const char *bp_dataset_class(const bp_dataset *ds, int j);

/* What a missing value (an empty field, NA, NaN, ?) in a CSV does. */
typedef enum {
    BP_MISSING_ERROR = 0, /* refused: the count of rows and the first named   */
    BP_MISSING_DROP,      /* the row is left out                               */
    BP_MISSING_MEAN,      /* a number becomes its column's mean, a category
                           * the all-zero encoding; stored in the model        */
} bp_missing;

/* How bp_dataset_load_csv_with reads a CSV. Start from BP_CSV_OPTIONS_DEFAULT. */
typedef struct {
    size_t size;                /* sizeof(bp_csv_options): set by the default          */
    int target_cols;            /* 0: one class column; K: the last K columns are
                                 * regression targets (when target is NULL)            */
    char delimiter;             /* ',', ';' or '\t'; 0 detects it from the first line  */
    int header;                 /* -1 detects it (a feature field that is not a
                                 * number), 0 none, 1 the first line is one            */
    const char *const *classes; /* [n_classes] names the class column's words must be
                                 * among, as index j (a model's); NULL: their sorted
                                 * distinct values                                     */
    int n_classes;
    const char *target;         /* "NAME|INDEX[,...]": the target columns (a header
                                 * name first, else an index from 0, -1 the last);
                                 * one column is a class, several are targets; NULL:
                                 * as target_cols says                                 */
    const char *drop;           /* "NAME|INDEX[,...]" columns left out, or NULL         */
    bp_missing missing;
    int max_categories;         /* distinct words a column may hold                     */
    const bp_net *model;        /* read as this model was trained (its columns,
                                 * categories, fills and class names), or NULL         */
} bp_csv_options;
#define BP_CSV_MAX_CATEGORIES 1000 /* the default max_categories */
#define BP_CSV_OPTIONS_DEFAULT                                                           \
    {sizeof(bp_csv_options), 0, 0, -1, NULL, 0, NULL, NULL, BP_MISSING_ERROR,            \
     BP_CSV_MAX_CATEGORIES, NULL}

/* bp_dataset_load_csv with options (bp_dataset_load_csv is the default
 * ones with target_cols). A class column may hold numbers (labels 0..k−1)
 * or words in every row; words become classes 0..k−1 in sorted order
 * (strcmp: code points, as scikit-learn's LabelEncoder) with their names
 * (bp_dataset_class), or, with o->classes or a named o->model, the index
 * of their name there: a word not among them is BP_ERR_FORMAT naming it
 * and its line. An input column of words is categorical: one 0/1 input
 * per category, sorted; missing values as o->missing says. A column
 * mixing numbers and words is refused naming the row that breaks the
 * pattern; an unknown column name, more than o->max_categories words in a
 * column, a missing value under BP_MISSING_ERROR likewise. With o->model
 * (an encoding from bp_net_set_encoding) the file is read as the model was
 * trained, by header name, and a file without the target columns gives
 * inputs only (bp_dataset_n_out 0); a category the model does not know is
 * all zeros and named by bp_dataset_warning. The encoding made from a file
 * with a header, categories, fills, target or drop is kept for
 * bp_net_set_encoding. */
BP_API bp_status bp_dataset_load_csv_with(const char *path, const bp_csv_options *o,
                                          bp_dataset **out, bp_error *err);

/* The CSV encoding ds was read with (its input columns by name, their
 * categories and fills: the model file's "columns") and its class names,
 * given to a network trained on it, so that bp_model_save keeps them and
 * bp_dataset_load_csv_with (options.model) reads raw rows as training did.
 * BP_ERR_SHAPE if they do not fit the network; a data set without them
 * removes them. */
BP_API bp_status bp_net_set_encoding(bp_net *net, const bp_dataset *ds);
/* --missing mean (BP_MISSING_MEAN) fitted on the training split, as
 * scikit-learn's SimpleImputer is: each numeric input's fill becomes its
 * mean over the examples idx [n] that have a value (the loader took it
 * over every row), and every missing value of ds, validation examples'
 * too, takes it; bp_net_set_encoding then gives the model these fills.
 * Call it with bp_split's training part before the moments
 * (bp_dataset_moments) and bp_net_set_encoding. BP_OK, nothing done, for
 * a data set without fills. Nothing changes on BP_ERR_ARG (NULL, n < 1,
 * an index outside ds) or BP_ERR_FORMAT (a numeric column with no value
 * among the examples idx, named). */
BP_API bp_status bp_dataset_fill_from(bp_dataset *ds, const int32_t *idx, int n);
/* One line about what a load let through (a category the model does not
 * know, encoded as all zeros), or NULL. */
BP_API const char *bp_dataset_warning(const bp_dataset *ds);

/* bp_plot_confusion with the axes labelled by names [k] (NULL: numbers). */
BP_API bp_status bp_plot_confusion_named(const char *path, int k, const long *confusion,
                                         const char *const *names, bp_error *err);

/* ------------------------------------------------------------------------ */
/* Plots (plot.c): SVG files a browser shows, written atomically             */
/* ------------------------------------------------------------------------ */

/* Loss (train, and validation if not NULL) and validation accuracy (if not
 * NULL) against epoch 1..n: two panels, axes, ticks, labels, legend. */
BP_API bp_status bp_plot_curves(const char *path, int n, const double *train_loss,
                                const double *val_loss, const double *val_acc, bp_error *err);
/* Confusion matrix [k, k] (row = true class, column = predicted) as a heat
 * map with counts in the cells. */
BP_API bp_status bp_plot_confusion(const char *path, int k, const long *confusion, bp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BACKPROP_H */
