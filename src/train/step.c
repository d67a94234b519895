/*
 * step.c — the passes as the library offers them, above the engine: each
 * call goes to the backend the network is on, through its table (the
 * engine of src/backend/cpu.c, or the CUDA backend), and the training step joins a forward, a
 * backward and the optimiser. The engine below knows neither devices nor
 * optimisers: a plain descent step reaches it as its rate.
 */
#include "train/train.h"

#include <math.h>

bp_status bp_forward(bp_net *net, const float *x, int M)
{
    BP_NEED(net, NULL);
    BP_NEED(x, NULL);
    if (M < 1 || M > net->max_batch)
        return bp_fail(NULL, BP_ERR_ARG, "%s: M = %d not in 1..max_batch %d", __func__, M,
                       net->max_batch);
    return net->be->forward(net, x, M);
}

const float *bp_net_output(const bp_net *net)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net"), NULL;
    bp_net_sync_host(net, BP_MIRROR_OUTPUT);
    return net->y[net->L];
}

/* The entry check of the calls that go on from the last forward. */
static bp_status check_last_forward(const char *fn, const bp_net *net, bp_targets tg)
{
    if (!net)
        return bp_arg_null(NULL, fn, "net");
    if (net->M < 1)
        return bp_fail(NULL, BP_ERR_ARG, "%s: no forward pass to go back through", fn);
    return bp_check_targets(fn, net, tg, net->M);
}

/* On a CUDA network: on the host, from the downloaded z(L), y(L). */
bp_status bp_loss_value(const bp_net *net, bp_targets tg, double *loss)
{
    bp_status s = check_last_forward(__func__, net, tg);
    if (s != BP_OK)
        return s;
    BP_NEED(loss, NULL);
    bp_net_sync_host(net, BP_MIRROR_OUTPUT);
    return batch_loss_value(net, tg, loss);
}

bp_status bp_backward(bp_net *net, bp_targets tg, double *loss)
{
    bp_status s = check_last_forward(__func__, net, tg);
    if (s != BP_OK)
        return s;
    return net->be->backward(net, tg, 0, loss);
}

bp_status bp_net_find_nonfinite(const bp_net *net, char *where, size_t size)
{
    BP_NEED(net, NULL);
    if (!where && size)
        return bp_arg_null(NULL, __func__, "where");
    bp_net_sync_host(net, BP_MIRROR_WORK | BP_MIRROR_GRADS | BP_MIRROR_PARAMS);
    return batch_find_nonfinite(net, where, size);
}

/* The network and the optimiser belong together. */
static bp_status check_pair(const char *fn, const bp_net *net, const bp_optimizer *opt)
{
    if (!net || !opt)
        return bp_arg_null(NULL, fn, net ? "opt" : "net");
    if (opt->n != net->n_params)
        return bp_fail(NULL, BP_ERR_ARG, "%s: optimiser holds %zu parameters, the network %zu",
                       fn, opt->n, net->n_params);
    return BP_OK;
}

/* grad_w += c W over [a, b): cloned exact, since a plain loop on the
 * baseline's 4 lanes was 6% of a 125-32-2 step at batch 16, and every
 * machine gives the same bits */
CLONES_EXACT static void add_scaled(float *grad_w, const float *W, float c, size_t a, size_t b)
{
    for (size_t k = a; k < b; k++)
        grad_w[k] += c * W[k];
}

void step_l2_grad(bp_net *net, float c, size_t lo, size_t hi)
{
    const float *W = bp_net_params(net); /* a device's: brought home */
    float *grad_w = bp_net_grads(net);
    for (int l = 0; l < net->L; l++) { /* the weights of [lo, hi) */
        size_t o = bp_net_weight_offset(net, l), n = (size_t)net->sizes[l + 1] * net->sizes[l];
        size_t a = o > lo ? o : lo, b = o + n < hi ? o + n : hi;
        add_scaled(grad_w, W, c, a, b);
    }
}

double step_l2_loss(bp_net *net, double l2, int M)
{
    const float *params = bp_net_params(net);
    double sq = 0;
    for (int l = 0; l < net->L; l++) {
        size_t o = bp_net_weight_offset(net, l), n = (size_t)net->sizes[l + 1] * net->sizes[l];
        /* the sum as the norm's, in 8 partial sums: one chain of additions
         * cost its latency per weight, a sixth of a small network's step */
        sq += optim_sum_squares(params + o, n);
    }
    return l2 / (2.0 * M) * sq;
}

bp_status bp_train_step(bp_net *net, bp_optimizer *opt, const float *x, bp_targets tg, int M,
                        double *loss)
{
    bp_status s = check_pair(__func__, net, opt);
    if (s != BP_OK)
        return s;
    BP_NEED(x, NULL);
    if (M < 1 || M > net->max_batch)
        return bp_fail(NULL, BP_ERR_ARG, "%s: M = %d not in 1..max_batch %d", __func__, M,
                       net->max_batch);
    if ((s = bp_check_targets(__func__, net, tg, M)) != BP_OK)
        return s;
    double l = NAN;
    const bp_backend_i *be = net->be;
    /* a device's own step has no penalty: with l2 the step goes through
     * the host copies, as a hooked one does */
    if (be->train_step && opt->cfg.l2 == 0) {
        optim_coef q;
        bp_opt_view o = optim_view(opt, &q, 1);
        long taken = 0;
        if ((s = optim_attach(net, opt)) != BP_OK)
            return s;
        s = be->train_step(net, &o, x, tg, M, &l, &taken);
        opt->t += taken;
        goto done;
    }
    if ((s = be->forward(net, x, M)) != BP_OK)
        return s;
    /* plain descent goes into the backward pass itself: no gradient buffer
     * written and read back, no separate pass over the parameters; a
     * non-finite loss stops it before the step */
    if (optim_is_plain_sgd(opt)) {
        s = be->backward(net, tg, optim_fused_sgd_rate(opt), &l);
        if (s == BP_OK)
            opt->t++; /* the step was taken */
        goto done;
    }
    if ((s = be->backward(net, tg, 0, &l)) != BP_OK)
        return s;
    if (opt->cfg.l2 > 0 && isfinite(l))
        step_l2_grad(net, (float)(opt->cfg.l2 / M), 0, net->n_params),
            l += step_l2_loss(net, opt->cfg.l2, M);
    if (isfinite(l)) /* the norm is not needed here: a diverging loss shows the same */
        s = optim_step_threads(opt, bp_net_params(net), bp_net_grads(net), net->n_params, 1.0,
                               net->pool, batch_threads(net), NULL);
done:
    if ((s == BP_OK || s == BP_ERR_NONFINITE) && !isfinite(l))
        s = bp_fail(NULL, BP_ERR_NONFINITE, "%s: the batch loss is %g", __func__, l);
    if (loss && (s == BP_OK || s == BP_ERR_NONFINITE))
        *loss = l;
    return s;
}
