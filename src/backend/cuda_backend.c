/*
 * cuda_backend.c — the CUDA backend's table: cuda.cu's entry points behind
 * the functions every backend offers, and the mirror that keeps the host
 * buffers coherent with the device's. cuda.cu keeps the message of a
 * failed device operation in its context; here it becomes the status's
 * message at bp_last_error, the library's one error channel.
 * Built only with BP_HAVE_CUDA.
 */
#include "backend/backend.h"
#include "cuda.h"

/* s, with the context's message put at bp_last_error as "fn: ..." */
static bp_status said(const bp_net *net, const char *fn, bp_status s)
{
    if (s != BP_OK)
        return bp_fail(NULL, s, "%s: %s", fn, bp_cuda_last_error(net));
    return s;
}

/* A network carried into a forked child: its device buffers are the
 * parent's, so nothing here may touch them; the host side is freed, the
 * device side (a small struct) is left, since freeing it would. */
#define REFUSE_IN_CHILD(fn)                                                      \
    do {                                                                        \
        if (bp_cuda_forked())                                                   \
            return bp_cuda_forked_fail(NULL, fn);                               \
    } while (0)

static void cuda_release(bp_net *net)
{
    if (!bp_cuda_forked())
        bp_cuda_free(net);
    bp_backend_cpu.mirror.release(net); /* the CPU's state, which every network has */
}

static bp_status cuda_attach(bp_net *net, bp_error *err) { return bp_cuda_create(net, err); }

static void cuda_sync_host(const bp_net *net, unsigned what)
{
    if (!bp_cuda_forked()) /* in a child the host copies are what the parent last had */
        bp_cuda_sync_host(net, what);
}

static bp_status cuda_detach(bp_net *net, bp_error *err)
{
    if (bp_cuda_forked())
        return bp_cuda_forked_fail(err, "bp_net_set_device");
    /* the parameters and gradients come home */
    bp_status s = bp_cuda_download(net, BP_MIRROR_PARAMS | BP_MIRROR_GRADS);
    if (s != BP_OK)
        return bp_fail(err, s, "%s", bp_cuda_last_error(net));
    bp_cuda_free(net);
    return BP_OK;
}

static bp_status cuda_forward(bp_net *net, const float *x, int M)
{
    REFUSE_IN_CHILD("bp_forward");
    return said(net, "bp_forward", bp_cuda_forward(net, x, M));
}

static bp_status cuda_backward(bp_net *net, bp_targets tg, double rate, double *loss)
{
    REFUSE_IN_CHILD("bp_backward");
    if (rate != 0) /* a fused step is train_step's on this device */
        return bp_fail(NULL, BP_ERR_ARG, "bp_backward: no fused step on a CUDA network");
    return said(net, "bp_backward", bp_cuda_backward(net, tg, loss));
}

static bp_status cuda_train_step(bp_net *net, const bp_opt_view *o, const float *x,
                                 bp_targets tg, int M, double *loss, long *taken)
{
    REFUSE_IN_CHILD("bp_train_step");
    return said(net, "bp_train_step", bp_cuda_train_step(net, o, x, tg, M, loss, taken));
}

static bp_status cuda_train_epoch(bp_net *net, const bp_opt_view *o, const bp_data_view *d,
                                  const int32_t *idx, int n, int batch, double *loss_sum,
                                  long *taken)
{
    REFUSE_IN_CHILD("bp_train_epoch");
    return said(net, "bp_train_epoch",
                bp_cuda_train_epoch(net, o, d, idx, n, batch, loss_sum, taken));
}

static bp_status cuda_sync_optimizer(bp_net *net, const bp_opt_view *o)
{
    REFUSE_IN_CHILD("bp_optimizer_sync");
    return said(net, "bp_optimizer_sync", bp_cuda_sync_optimizer(net, o));
}

static bp_status cuda_set_tf32(bp_net *net, int on)
{
    REFUSE_IN_CHILD("bp_net_set_tf32");
    return said(net, "bp_net_set_tf32", bp_cuda_set_tf32(net, on));
}

static bp_status cuda_bench(bp_net *net, const bp_opt_view *o, const bp_data_view *d, int M,
                            int reps, double *step_s, double *gemm_s)
{
    REFUSE_IN_CHILD("bench");
    return said(net, "bench", bp_cuda_bench(net, o, d, M, reps, step_s, gemm_s));
}

const bp_backend_i bp_backend_cuda = {
    .mirror = {cuda_sync_host, bp_cuda_host_wrote, cuda_release, cuda_sync_optimizer},
    .attach = cuda_attach,
    .detach = cuda_detach,
    .forward = cuda_forward,
    .backward = cuda_backward,
    .train_step = cuda_train_step,
    .train_epoch = cuda_train_epoch,
    .set_tf32 = cuda_set_tf32,
    .bench = cuda_bench,
};
