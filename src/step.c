/*
 * step.c — the passes as the library offers them, above the engine: each
 * call goes to the device the network is on (the batch engine of batch.c
 * on the CPU, cuda.cu on a GPU), and the training step joins a forward, a
 * backward and the optimiser. The engine below knows neither devices nor
 * optimisers: a plain descent step reaches it as its rate.
 */
#include "internal.h"
#ifdef BP_HAVE_CUDA
#include "cuda.h"
#endif

bp_status bp_forward(bp_net *net, const float *x, int M)
{
    if (!x || M < 1 || M > net->max_batch)
        return BP_ERR_ARG;
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA)
        return bp_cuda_forward(net, x, M);
#endif
    return batch_forward(net, x, M);
}

const float *bp_net_output(const bp_net *net)
{
    bp_net_sync_host(net, BP_MIRROR_OUTPUT);
    return net->y[net->L];
}

/* On a CUDA network: on the host, from the downloaded z(L), y(L). */
bp_status bp_loss_value(const bp_net *net, bp_targets tg, double *loss)
{
    if (net->M < 1 || (!tg.t == !tg.labels))
        return BP_ERR_ARG;
    bp_net_sync_host(net, BP_MIRROR_OUTPUT);
    return batch_loss_value(net, tg, loss);
}

bp_status bp_backward(bp_net *net, bp_targets tg, double *loss)
{
    if (net->M < 1 || (!tg.t == !tg.labels))
        return BP_ERR_ARG;
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA)
        return bp_cuda_backward(net, tg, loss);
#endif
    return batch_backward(net, tg, 0, loss);
}

bp_status bp_net_find_nonfinite(const bp_net *net, char *where, size_t size)
{
    bp_net_sync_host(net, BP_MIRROR_WORK | BP_MIRROR_GRADS | BP_MIRROR_PARAMS);
    return batch_find_nonfinite(net, where, size);
}

bp_status bp_train_step(bp_net *net, bp_optimizer *opt, const float *x, bp_targets tg, int M,
                        double *loss)
{
    if (opt->n != net->n_params)
        return BP_ERR_ARG;
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA)
        return bp_cuda_train_step(net, opt, x, tg, M, loss);
#endif
    bp_status s = batch_forward(net, x, M);
    if (s != BP_OK)
        return s;
    /* plain descent goes into the backward pass itself: no gradient buffer
     * written and read back, no separate pass over the parameters */
    if (optim_is_plain_sgd(opt)) {
        s = batch_backward(net, tg, optim_fused_sgd_rate(opt), loss);
        if (s == BP_OK)
            opt->t++; /* the step was taken */
        return s;
    }
    s = batch_backward(net, tg, 0, loss);
    if (s == BP_OK) /* the norm is not needed here: a diverging loss shows the same */
        (void)optim_step_threads(opt, net->params, net->grads, net->n_params, 1.0, net->pool);
    return s;
}

bp_status bp_optimizer_sync(bp_net *net, bp_optimizer *opt)
{
    if (opt->n != net->n_params)
        return BP_ERR_ARG;
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA)
        return bp_cuda_sync_optimizer(net, opt);
#endif
    return BP_OK;
}
