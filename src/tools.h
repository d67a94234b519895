/*
 * tools.h — what the project's own CLI, benchmarks and tests use beyond the
 * public header: timing internals and the atomic file write, which a
 * program embedding the library has no use for. Not installed; the
 * library's base.h includes it, and so may the CLI and the tests.
 */
#ifndef BP_TOOLS_H
#define BP_TOOLS_H

#include "backprop.h"
#include "backprop_ref.h" /* the reference forms: explain, the tests */

#ifdef __cplusplus
extern "C" {
#endif

/* The optimiser's settings (bp_opt_config), in the order a checkpoint
 * saves them: one list for the checkpoint, `backprop train`'s options and
 * their help, and the default. OPT(field, option, metavar, default, help)
 * is an option of train (the *_steps fields given there in epochs, the
 * default of the option; BP_OPT_CONFIG_DEFAULT has 0 steps); RUN(field) is
 * set by the run itself. kind and schedule, named rather than numbered,
 * come first in a checkpoint and are read by name. */
#define BP_OPT_FIELDS(OPT, RUN)                                                          \
    OPT(lr, "lr", "ALPHA", 0.1, "learning rate (eq. 49-50), > 0")                          \
    OPT(momentum, "momentum", "MU", 0.9, "momentum and nesterov, 0 <= MU <= 1")            \
    OPT(beta1, "beta1", "B1", 0.9, "adam, adamw: 0 <= B1 < 1")                             \
    OPT(beta2, "beta2", "B2", 0.999, "adam, adamw: 0 <= B2 < 1")                           \
    OPT(eps, "eps", "E", 1e-8, "adam, adamw: > 0")                                         \
    OPT(weight_decay, "weight-decay", "L", 0, "L2 (sgd family, adam) or decoupled (adamw)") \
    OPT(clip_norm, "clip-norm", "C", 0, "clip the global gradient norm to C (0 = off)")    \
    OPT(warmup_steps, "warmup", "EPOCHS", 0,                                               \
        "linear warm-up over this many epochs (may be fractional)")                        \
    RUN(total_steps)                                                                       \
    OPT(step_size, "step-epochs", "N", 1, "step schedule: epochs between decays")          \
    OPT(gamma, "gamma", "G", 0.1, "step schedule: decay factor, 0 < G <= 1")               \
    OPT(min_lr, "min-lr", "ALPHA", 0, "cosine schedule: the floor")                        \
    OPT(l2, "l2", "A", 0, "scikit-learn's alpha: (A/2M) sum |W|^2 per batch of M, weights only") \
    OPT(power_t, "power-t", "P", 0.5, "invscaling schedule: ALPHA / (examples + 1)^P")

/* The GEMM providers as the CLI and the tests name and probe them:
 * "onednn", "cblas" ("?" for an unknown g); 1 if g is in this build; the
 * default of a new network; the ISA alone, e.g. "avx512_core" or
 * "Haswell" (nothing written to a NULL buf). */
const char *bp_gemm_name(bp_gemm g);
int bp_gemm_available(bp_gemm g);
bp_gemm bp_gemm_default(void);
void bp_gemm_isa(bp_gemm g, char *buf, size_t size);

/* Floating-point operations of one training step's matrix products for
 * one example: forward, ∂L/∂W, and δ of every layer above the first. */
double bp_step_flops(const bp_net *net);

/* Runs only the matrix products of one training step on M examples (the
 * same products and shapes as bp_forward + bp_backward) through the
 * network's GEMM provider, each split into the engine's bands over all the
 * network's threads, `reps` times: the ceiling the provider allows a step. Uses
 * the network's buffers; x [M, N(0)]. */
void bp_step_gemm_only(bp_net *net, const float *x, int M, int reps);

/* CUDA networks (bench): seconds per step of `reps` training steps through
 * bp_train_epoch's device path (plain SGD) on batches of M from a synthetic
 * data set of uint8 inputs and class labels held on the device, and of reps
 * runs of the same step's cuBLAS products alone (the ceiling). softmax_ce
 * networks only; BP_ERR_ARG with a message on a CPU network. */
bp_status bp_cuda_bench_step(bp_net *net, int M, long reps, double *step_s, double *gemm_s,
                             bp_error *err);

/* The shortest decimal ("%.{p}g") that reads back as exactly x: strtof
 * to the same bits for a float, strtod for a double (src/base/text.c). */
void bp_shortest_float(char buf[32], float x);
void bp_shortest_double(char buf[32], double v);

/* The CSV encoding a model keeps (its "columns" metadata, src/io/
 * encoding.c's JSON), or NULL: whether raw rows need it (predict). */
const char *bp_net_columns(const bp_net *net);

/* Writes n bytes to path atomically (temporary file, fsync, rename): the
 * target is either as it was or complete. */
bp_status bp_file_write(const char *path, const void *data, size_t n, bp_error *err);

/* The widths N(0..L) of the model file at path into sizes [BP_MAX_LAYERS
 * + 1], from its header alone, checked as bp_model_load checks it: the
 * weight layers L, or 0 and why in err. Nothing the size of the weights is
 * allocated or read (src/io/safetensors.c). */
int bp_model_sizes(const char *path, int *sizes, bp_error *err);

/* BP_OK if a network of widths sizes [L + 1] fits in one ONNX file, under
 * protobuf's 2 GiB limit on a message; else BP_ERR_ARG and one line naming
 * path (src/io/onnx.c): bp_model_export_onnx's own check, which export
 * runs before it loads the model. */
bp_status bp_onnx_fits(const int *sizes, int L, const char *path, bp_error *err);

#ifdef __cplusplus
}
#endif
#endif
