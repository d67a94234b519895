/*
 * device.c — the choice of device and the host side of a CUDA network: its
 * names, the probe, moving a network between devices, and the mirror that
 * keeps the host buffers coherent with the device's. Everything that needs
 * the CUDA runtime is in cuda.cu; this file calls it only under
 * BP_HAVE_CUDA, and a build without it answers every CUDA request with one
 * clear error.
 */
#include "internal.h"
#ifdef BP_HAVE_CUDA
#include "cuda.h"
#endif

#include <stdlib.h>
#include <string.h>

#define NO_BACKEND "this build has no CUDA backend (nvcc was not found when it was built)"

static const char *const device_names[BP_DEVICE_COUNT] = {"cpu", "cuda"};

const char *bp_device_name(bp_device d)
{
    return (unsigned)d < BP_DEVICE_COUNT ? device_names[d] : "unknown";
}

bp_status bp_device_parse(const char *name, bp_device *out)
{
    int k;
    bp_status s = bp_name_parse(__func__, device_names, BP_DEVICE_COUNT, name, out ? &k : NULL);
    if (s == BP_OK)
        *out = (bp_device)k;
    return s;
}

int bp_cuda_built(void)
{
#ifdef BP_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

bp_status bp_cuda_probe(bp_error *err)
{
#ifdef BP_HAVE_CUDA
    return bp_cuda_probe_device(err);
#else
    return bp_fail(err, BP_ERR_ARG, NO_BACKEND);
#endif
}

bp_status bp_cuda_use_gpu(int index, bp_error *err)
{
#ifdef BP_HAVE_CUDA
    if (index < 0)
        return bp_fail(err, BP_ERR_ARG, "CUDA GPU index %d is negative", index);
    return bp_cuda_select_device(index, err);
#else
    (void)index;
    return bp_fail(err, BP_ERR_ARG, NO_BACKEND);
#endif
}

bp_device bp_net_device(const bp_net *net)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net"), BP_DEVICE_COUNT;
    return net->device;
}

bp_status bp_device_status(const bp_net *net, const char *fn, bp_status s)
{
#ifdef BP_HAVE_CUDA
    if (s != BP_OK && net->device == BP_DEVICE_CUDA)
        return bp_fail(NULL, s, "%s: %s", fn, bp_cuda_last_error(net));
#else
    (void)net, (void)fn;
#endif
    return s;
}

bp_status bp_net_set_device(bp_net *net, bp_device device, bp_error *err)
{
    BP_NEED(net, err);
    if ((unsigned)device >= BP_DEVICE_COUNT)
        return bp_fail(err, BP_ERR_ARG, "unknown device %d", (int)device);
    bp_net_apply_pending(net); /* the parameters a device takes over are whole */
    if (device == net->device)
        return BP_OK;
#ifdef BP_HAVE_CUDA
    if (device == BP_DEVICE_CUDA) {
        bp_status s = bp_cuda_create(net, err);
        if (s != BP_OK)
            return s;
        net->device = BP_DEVICE_CUDA;
        net->host_newer = 1; /* the next device operation uploads the parameters */
        net->device_newer = 0;
        net->M = 0; /* the last forward stays behind: bp_backward needs a new one */
        return BP_OK;
    }
    /* back to the host: the parameters and gradients come along */
    bp_status s = bp_cuda_download(net, BP_MIRROR_PARAMS | BP_MIRROR_GRADS);
    if (s != BP_OK)
        return bp_fail(err, s, "%s", bp_cuda_last_error(net));
    bp_cuda_free(net);
    net->device = BP_DEVICE_CPU;
    net->device_newer = 0;
    net->host_newer = 0;
    /* the last forward stays behind: its z, y, δ are on the device, and the
     * host's Y(0) is not that forward's, so a bp_backward now must be
     * BP_ERR_ARG, not a pass over stale buffers */
    net->M = 0;
    return BP_OK;
#else
    return bp_fail(err, BP_ERR_ARG, NO_BACKEND);
#endif
}

bp_status bp_net_set_tf32(bp_net *net, int on)
{
    BP_NEED(net, NULL);
    net->tf32 = on != 0;
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA)
        return bp_device_status(net, __func__, bp_cuda_set_tf32(net, net->tf32));
#endif
    return BP_OK;
}

void bp_net_sync_host(const bp_net *net, unsigned what)
{
    /* completing a deferred step does not change what the network is (the
     * step was taken), hence the cast */
    if (what & BP_MIRROR_PARAMS)
        bp_net_apply_pending((bp_net *)net);
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA && (net->device_newer & what))
        /* the host buffers are a cache of the device's: filling them does
         * not change the network, hence the cast. A failure is kept in the
         * context and reported by the next device operation. */
        (void)bp_cuda_download((bp_net *)net, what);
#else
    (void)net, (void)what;
#endif
}

bp_status bp_cuda_bench_step(bp_net *net, int M, long reps, double *step_s, double *gemm_s,
                             bp_error *err)
{
    BP_NEED(net, err);
    BP_NEED(step_s, err);
    BP_NEED(gemm_s, err);
    if (net->device != BP_DEVICE_CUDA)
        return bp_fail(err, BP_ERR_ARG, "%s: the network is not on a CUDA device", __func__);
    if (net->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(err, BP_ERR_ARG, "%s: softmax_ce networks only", __func__);
    if (M < 1 || M > net->max_batch || reps < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: batch %d not in 1..%d or repetitions %ld < 1",
                       __func__, M, net->max_batch, reps);
#ifdef BP_HAVE_CUDA
    int n_in = net->sizes[0], k = net->sizes[net->L];
    if (!net->bench_ds) {
        /* Fashion-MNIST's size (60,000 examples) where the input is as
         * narrow, fewer for wider inputs (256 MiB of bytes at most), and
         * never fewer than one batch */
        size_t n = ((size_t)256 << 20) / (size_t)n_in;
        n = n > 60000 ? 60000 : n < (size_t)M ? (size_t)M : n;
        uint8_t *x = malloc(n * (size_t)n_in);
        int32_t *lab = malloc(n * sizeof *lab);
        bp_rng r;
        bp_rng_seed(&r, 7);
        for (size_t i = 0; x && lab && i < n * (size_t)n_in; i++)
            x[i] = (uint8_t)(bp_rng_next(&r) >> 56);
        for (size_t i = 0; x && lab && i < n; i++)
            lab[i] = (int32_t)(bp_rng_next(&r) % (uint64_t)k);
        net->bench_ds = x && lab ? bp_dataset_adopt_u8((int)n, n_in, k, x, lab) : NULL;
        if (!net->bench_ds) {
            free(x), free(lab);
            return bp_fail(err, BP_ERR_NOMEM, "bench: out of memory for the synthetic data");
        }
    }
    if (!net->bench_opt) {
        bp_opt_config oc = {.kind = BP_OPT_SGD, .lr = 1e-4};
        if (!(net->bench_opt = bp_optimizer_create(&oc, net->n_params, err)))
            return BP_ERR_NOMEM;
    }
    bp_status s = bp_cuda_bench(net, M, (int)(reps > (1L << 30) ? 1L << 30 : reps), step_s, gemm_s);
    if (s != BP_OK)
        return bp_fail(err, s, "%s", bp_cuda_last_error(net));
    return BP_OK;
#else
    (void)step_s, (void)gemm_s;
    return bp_fail(err, BP_ERR_ARG, NO_BACKEND);
#endif
}
