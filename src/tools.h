/*
 * tools.h — what the project's own CLI, benchmarks and tests use beyond the
 * public header: timing internals and the atomic file write, which a
 * program embedding the library has no use for. Not installed; the
 * library's base.h includes it, and so may the CLI and the tests.
 */
#ifndef BP_TOOLS_H
#define BP_TOOLS_H

#include "backprop.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* Writes n bytes to path atomically (temporary file, fsync, rename): the
 * target is either as it was or complete. */
bp_status bp_file_write(const char *path, const void *data, size_t n, bp_error *err);

#ifdef __cplusplus
}
#endif
#endif
