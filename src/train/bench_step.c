/*
 * bench_step.c — bench's driver for a network on a device with its own
 * training step (CUDA): a synthetic data set and a plain SGD optimiser,
 * made for the call, around the backend's timed replays.
 */
#include "train/train.h"

#include <stdio.h>
#include <stdlib.h>

/* Fashion-MNIST's size (60,000 examples) where the input is as narrow,
 * fewer for wider inputs (256 MiB of bytes at most), and never fewer than
 * one batch; uniform bytes and labels. */
static bp_dataset *synthetic(int n_in, int k, int M)
{
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
    bp_dataset *ds = x && lab ? bp_dataset_adopt_u8((int)n, n_in, k, x, lab) : NULL;
    if (!ds)
        free(x), free(lab);
    return ds;
}

bp_status bp_cuda_bench_step(bp_net *net, int M, long reps, double *step_s, double *gemm_s,
                             bp_error *err)
{
    BP_NEED(net, err);
    BP_NEED(step_s, err);
    BP_NEED(gemm_s, err);
    if (net->device != BP_DEVICE_CUDA || !net->be->bench)
        return bp_fail(err, BP_ERR_ARG, "%s: the network is not on a CUDA device", __func__);
    if (net->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(err, BP_ERR_ARG, "%s: softmax_ce networks only", __func__);
    if (M < 1 || M > net->max_batch || reps < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: batch %d not in 1..%d or repetitions %ld < 1",
                       __func__, M, net->max_batch, reps);
    bp_dataset *ds = synthetic(net->sizes[0], net->sizes[net->L], M);
    if (!ds)
        return bp_fail(err, BP_ERR_NOMEM, "bench: out of memory for the synthetic data");
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.lr = 1e-4;
    bp_optimizer *opt = bp_optimizer_create(&oc, net->n_params, err);
    int steps = (int)(reps > (1L << 30) ? 1L << 30 : reps);
    optim_coef *q = malloc((size_t)steps * sizeof *q);
    bp_status s = BP_ERR_NOMEM;
    if (!q)
        bp_fail(err, s, "bench: out of memory for %d steps", steps);
    if (opt && q) {
        bp_opt_view o = optim_view(opt, q, steps);
        bp_data_view d = bp_dataset_view(ds);
        s = net->be->bench(net, &o, &d, M, steps, step_s, gemm_s);
        if (s != BP_OK && err) /* the backend's message is at bp_last_error */
            snprintf(err->msg, sizeof err->msg, "%s", bp_last_error());
    }
    free(q);
    bp_optimizer_free(opt);
    bp_dataset_free(ds);
    return s;
}
