/*
 * backend.h — where the passes run (src/backend/): the GEMM seam, the CPU
 * engine (cpu.c), and a table of functions per device (as ggml_backend_i)
 * that the training layer calls without knowing which device it is.
 * cuda.h is the CUDA backend's own header, seen only here. Not installed.
 */
#ifndef BP_BACKEND_H
#define BP_BACKEND_H

#include "nn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gemm.c: the one seam for every matrix product, row-major:
 * C [M,N] = alpha op(A) op(B) + beta C, op(X) = Xᵀ where t is 1, on the
 * calling thread (the engine's pool does the threading, band by band). */
void gemm(bp_gemm g, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);
/* Registers the fork handler of gemm's hold on the BLAS thread count, once
 * (bp_net_create); the count itself is never changed outside a product. */
void gemm_init(void);

/* cpu.c: the engine (section 7). Device dispatch happens above it
 * (src/backend/device.c); it knows nothing of optimisers: a fused descent step reaches
 * it as its rate. */
bp_status batch_forward(bp_net *net, const float *x, int M);
/* rate 0: ∇W, ∇b into the gradient buffer; rate α > 0: the descent step
 * W ← W − (α/M) Δᵀ Y, b ← b − (α/M) Σ δ fused into the pass (eq. 49–50 with
 * 52–56), the gradient buffer untouched. */
bp_status batch_backward(bp_net *net, bp_targets tg, double rate, double *loss);
bp_status batch_loss_value(const bp_net *net, bp_targets tg, double *loss);
bp_status batch_find_nonfinite(const bp_net *net, char *where, size_t size);
/* The threads of the widest phase of the last forward and backward pass:
 * those whose caches hold the gradient it wrote (the pool's size before any
 * pass). */
int batch_threads(const bp_net *net);

/* A data set as a device copies it (src/train/'s bp_dataset_view makes it):
 * exactly one of x_u8 [n, n_in] (x = byte/255) and x_f32 [n, n_in] is set,
 * and labels [n] or targets [n, n_out] as has_labels says. */
typedef struct {
    int n, n_in, n_out, has_labels;
    const uint8_t *x_u8;
    const float *x_f32;
    const int32_t *labels;
    const float *targets;
} bp_data_view;

/* The functions of one device. Arguments are checked by the caller
 * (src/train/step.c, epoch.c); a failure returns its status with the
 * message at bp_last_error. */
typedef struct bp_backend_i {
    bp_net_mirror mirror;
    /* moves a network whose host buffers are whole onto this device, and
     * back off it, host buffers whole again; NULL: nothing to do (the CPU's
     * own state lives from bp_net_new to bp_net_free). A failure leaves the
     * network where it was. */
    bp_status (*attach)(bp_net *net, bp_error *err);
    bp_status (*detach)(bp_net *net, bp_error *err);
    bp_status (*forward)(bp_net *net, const float *x, int M);
    /* rate 0: the gradients; rate α > 0: the fused descent step (the CPU
     * only: elsewhere train_step is set) */
    bp_status (*backward)(bp_net *net, bp_targets tg, double rate, double *loss);
    /* a whole training step on the device with the optimiser o (its
     * coefficients for one step); *taken: the steps taken, also on failure
     * (the caller counts them). NULL: forward, backward and the optimiser's
     * host loop */
    bp_status (*train_step)(bp_net *net, const bp_opt_view *o, const float *x, bp_targets tg,
                            int M, double *loss, long *taken);
    /* a whole pass over examples idx [n] of d, standardised as the network
     * says, o holding the coefficients of its ceil(n/batch) steps; NULL:
     * the host's loop of steps */
    bp_status (*train_epoch)(bp_net *net, const bp_opt_view *o, const bp_data_view *d,
                             const int32_t *idx, int n, int batch, double *loss_sum, long *taken);
    /* cuBLAS's TF32 products on or off; NULL: nothing to set */
    bp_status (*set_tf32)(bp_net *net, int on);
    /* bench: seconds per step of reps captured training steps on d (plain
     * SGD o with the coefficients of reps steps, batches of M), and of
     * their products alone; NULL: none */
    bp_status (*bench)(bp_net *net, const bp_opt_view *o, const bp_data_view *d, int M, int reps,
                       double *step_s, double *gemm_s);
} bp_backend_i;

/* cpu.c: the CPU backend's state, which every network has from bp_net_new
 * on (net->cpu); the table's mirror frees it. */
bp_status cpu_create(bp_net *net, bp_error *err);

/* The backend of device d in this build; NULL if it was built without it. */
const bp_backend_i *bp_backend(bp_device d);
extern const bp_backend_i bp_backend_cpu;   /* cpu.c  */
extern const bp_backend_i bp_backend_cuda;  /* cuda_backend.c, when built */

/* device.c: bp_net_layout on the CPU backend, with the default GEMM
 * provider, then moved to cfg->device: what bp_net_create and the model
 * reader make. */
bp_net *bp_net_new(const bp_config *cfg, int max_batch, int init, bp_error *err);


#ifdef __cplusplus
}
#endif
#endif
