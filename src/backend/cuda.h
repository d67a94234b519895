/*
 * cuda.h — the CUDA backend's entry points (cuda.cu, cuda_pass.cu,
 * cuda_epoch.cu), called through the backend table of cuda_backend.c
 * (bp_backend_cuda), never by name from outside src/backend/. Internal:
 * never installed. Every function reports failures as a bp_status; those that
 * take no bp_error keep the message in the network's CUDA context, where
 * bp_cuda_last_error finds it.
 *
 * Host pointers (x, targets, idx) are the caller's; the device
 * copies live in the context and are made once, at creation or when a new
 * data set arrives.
 */
#ifndef BP_CUDA_H
#define BP_CUDA_H

#include "backend/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bp_cuda bp_cuda;

/* 1 in a child forked after this process first touched CUDA: its device
 * state is the parent's and unusable here; every CUDA entry point refuses
 * with bp_cuda_forked_fail's line ("fn: CUDA was started in process ..."). */
int bp_cuda_forked(void);
bp_status bp_cuda_forked_fail(bp_error *err, const char *fn);
/* 0 if a device is usable; else BP_ERR_ARG and why ("--device cuda: ..."). */
bp_status bp_cuda_probe_device(bp_error *err);
/* cudaSetDevice(index mod the number of GPUs) for the calling thread. */
bp_status bp_cuda_select_device(int index, bp_error *err);
/* The device side of net (buffers the same shape as the host's): sets
 * net->cuda; the host parameters are uploaded by the next device operation. */
bp_status bp_cuda_create(bp_net *net, bp_error *err);
void bp_cuda_free(bp_net *net);
/* The message of the last failure of a device operation on net ("" if none). */
const char *bp_cuda_last_error(const bp_net *net);

/* Downloads the buffers in `what` (BP_MIRROR_*) that the device changed
 * last. */
bp_status bp_cuda_download(bp_net *net, unsigned what);
/* The mirror (nn.h's bp_net_mirror): the host copies in `what` current;
 * the host wrote `what`. */
void bp_cuda_sync_host(const bp_net *net, unsigned what);
void bp_cuda_host_wrote(bp_net *net, unsigned what);
bp_status bp_cuda_set_tf32(bp_net *net, int on);

/* The batch form on the device: same contracts as bp_forward, bp_backward,
 * bp_train_step, bp_train_epoch (arguments already checked by the caller). */
bp_status bp_cuda_forward(bp_net *net, const float *x, int M);
bp_status bp_cuda_backward(bp_net *net, bp_targets tg, double *loss);
bp_status bp_cuda_train_step(bp_net *net, const bp_opt_view *o, const float *x, bp_targets tg,
                             int M, double *loss, long *taken);
bp_status bp_cuda_train_epoch(bp_net *net, const bp_opt_view *o, const bp_data_view *d,
                              const int32_t *idx, int n, int batch, double *loss_sum,
                              long *taken);
/* Copies the device's optimiser state (velocity, moments) into o's host
 * buffers. */
bp_status bp_cuda_sync_optimizer(bp_net *net, const bp_opt_view *o);

/* For bench: seconds per step of `reps` replays of the training step's
 * graph on d with o, and of the same step's cuBLAS products alone (the
 * ceiling). */
bp_status bp_cuda_bench(bp_net *net, const bp_opt_view *o, const bp_data_view *d, int M, int reps,
                        double *step_s, double *gemm_s);

#ifdef __cplusplus
}
#endif
#endif
