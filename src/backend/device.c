/*
 * device.c — which device a network is on: the names, the registry of
 * backends this build has, making a network on one, and moving it between
 * them. The CUDA backend's table is in cuda_backend.c, built only with
 * BP_HAVE_CUDA; a build without it answers every CUDA request with one
 * clear error.
 */
#include "backend/backend.h"
#ifdef BP_HAVE_CUDA
#include "cuda.h"
#endif

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

const bp_backend_i *bp_backend(bp_device d)
{
#ifdef BP_HAVE_CUDA
    if (d == BP_DEVICE_CUDA)
        return &bp_backend_cuda;
#endif
    return d == BP_DEVICE_CPU ? &bp_backend_cpu : NULL;
}

int bp_cuda_built(void) { return bp_backend(BP_DEVICE_CUDA) != NULL; }

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

bp_net *bp_net_new(const bp_config *cfg, int max_batch, int init, bp_error *err)
{
    bp_net *net = bp_net_layout(cfg, max_batch, init, err);
    if (!net)
        return NULL;
    net->gemm = bp_gemm_default();
    gemm_init(); /* the BLAS count's fork handler, once */
    if (cpu_create(net, err) != BP_OK) {
        bp_net_free(net);
        return NULL;
    }
    net->be = &bp_backend_cpu;
    net->mirror = &bp_backend_cpu.mirror;
    net->device = BP_DEVICE_CPU;
    if (cfg->device != BP_DEVICE_CPU && bp_net_set_device(net, cfg->device, err) != BP_OK) {
        bp_net_free(net);
        return NULL;
    }
    return net;
}

bp_net *bp_net_create(const bp_config *cfg, int max_batch, bp_error *err)
{
    return bp_net_new(cfg, max_batch, 1, err);
}

bp_device bp_net_device(const bp_net *net)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net"), BP_DEVICE_COUNT;
    return net->device;
}

bp_status bp_net_set_device(bp_net *net, bp_device device, bp_error *err)
{
    BP_NEED(net, err);
    if ((unsigned)device >= BP_DEVICE_COUNT)
        return bp_fail(err, BP_ERR_ARG, "unknown device %d", (int)device);
    const bp_backend_i *to = bp_backend(device);
    if (!to)
        return bp_fail(err, BP_ERR_ARG, NO_BACKEND);
    bp_net_sync_host(net, BP_MIRROR_PARAMS); /* the parameters a device takes over are whole */
    if (device == net->device)
        return BP_OK;
    /* off the old device (its buffers and an optimiser's state come home),
     * then onto the new */
    bp_status s = net->opt_held ? optim_home(net->opt_held) : BP_OK;
    if (s == BP_OK && net->be->detach)
        s = net->be->detach(net, err);
    if (s != BP_OK)
        return s;
    net->be = &bp_backend_cpu, net->mirror = &bp_backend_cpu.mirror, net->device = BP_DEVICE_CPU;
    if (to->attach && (s = to->attach(net, err)) != BP_OK)
        return s;
    net->be = to, net->mirror = &to->mirror, net->device = device;
    /* the last forward stays behind: its z, y, δ are on the old device, so
     * a bp_backward now must be BP_ERR_ARG, not a pass over stale buffers */
    net->M = 0;
    return BP_OK;
}

bp_status bp_net_set_tf32(bp_net *net, int on)
{
    BP_NEED(net, NULL);
    net->tf32 = on != 0;
    return net->be->set_tf32 ? net->be->set_tf32(net, net->tf32) : BP_OK;
}
