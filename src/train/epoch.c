/*
 * epoch.c — bp_train_epoch: one pass over a list of examples in batches,
 * the loop that training runs. On the host it is gather + bp_train_step per
 * batch; a CUDA network hands the whole pass to cuda.cu, which keeps the
 * data set on the device and replays one captured step per batch.
 * The arguments are checked here, once, for both.
 */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>

/* The data set fits the network, and every index names one of its examples
 * (the device gathers without bounds checks). */
static bp_status check(const bp_net *net, const bp_optimizer *opt, const bp_dataset *ds,
                       const int32_t *idx, int n, int batch, const float *mean, const float *std,
                       const double *loss_sum)
{
    const char *fn = "bp_train_epoch";
    if (!net || !opt || !ds || !idx || !loss_sum)
        return bp_arg_null(NULL, fn, !net ? "net" : !opt ? "opt" : !ds ? "ds" : !idx ? "idx"
                                                                                   : "loss_sum");
    if (!mean != !std)
        return bp_arg_null(NULL, fn, mean ? "std" : "mean");
    if (opt->n != net->n_params)
        return bp_fail(NULL, BP_ERR_ARG, "%s: optimiser holds %zu parameters, the network %zu",
                       fn, opt->n, net->n_params);
    if (n < 1)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d examples < 1", fn, n);
    if (batch < 1 || batch > net->max_batch)
        return bp_fail(NULL, BP_ERR_ARG, "%s: batch %d not in 1..max_batch %d", fn, batch,
                       net->max_batch);
    bp_status s = bp_check_dataset(fn, net, ds);
    if (s != BP_OK)
        return s;
    int N = bp_dataset_n(ds);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= N)
            return bp_fail(NULL, BP_ERR_ARG, "%s: idx[%d] = %d not in 0..%d", fn, i, (int)idx[i],
                           N - 1);
    return BP_OK;
}

bp_status bp_check_dataset(const char *fn, const bp_net *net, const bp_dataset *ds)
{
    int k = net->sizes[net->L];
    if (bp_dataset_n_in(ds) != net->sizes[0])
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: the data set has %d features, the network %d "
                       "inputs", fn, bp_dataset_n_in(ds), net->sizes[0]);
    if (bp_dataset_has_labels(ds) && net->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: class labels need loss softmax_ce, not %s", fn,
                       bp_loss_name(net->loss));
    if (bp_dataset_has_labels(ds) ? bp_dataset_n_out(ds) > k : bp_dataset_n_out(ds) != k)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: the data set has %d %s, the network %d outputs",
                       fn, bp_dataset_n_out(ds), bp_dataset_has_labels(ds) ? "classes" : "targets",
                       k);
    return BP_OK;
}

bp_status bp_train_epoch(bp_net *net, bp_optimizer *opt, const bp_dataset *ds, const int32_t *idx,
                         int n, int batch, const float *mean, const float *std, double *loss_sum)
{
    bp_status s = check(net, opt, ds, idx, n, batch, mean, std, loss_sum);
    if (s != BP_OK)
        return s;
    if (net->be->train_epoch)
        return net->be->train_epoch(net, opt, ds, idx, n, batch, mean, std, loss_sum);
    /* softmax_ce trains on the classes of one-hot targets (the same δ = y − t) */
    int labelled = bp_dataset_has_labels(ds) ||
                   (bp_dataset_one_hot(ds) && net->loss == BP_LOSS_SOFTMAX_CE);
    int k = net->sizes[net->L];
    /* one allocation per call, none per batch */
    float *x = malloc((size_t)batch * net->sizes[0] * sizeof *x);
    float *t = labelled ? NULL : malloc((size_t)batch * k * sizeof *t);
    int32_t *lab = labelled ? malloc((size_t)batch * sizeof *lab) : NULL;
    if (!x || (labelled ? !lab : !t)) {
        free(x), free(t), free(lab);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory for a batch of %d", __func__, batch);
    }
    double sum = 0;
    for (int m0 = 0; m0 < n && s == BP_OK; m0 += batch) {
        int M = n - m0 < batch ? n - m0 : batch;
        double l = NAN;
        bp_dataset_gather(ds, idx + m0, M, mean, std, x, t, lab);
        s = bp_train_step(net, opt, x, (bp_targets){t, lab}, M, &l);
        sum += l * M;
    }
    free(x), free(t), free(lab);
    /* the network holds its own copy of the last Y(0): nothing points at x.
     * The pass's steps spent its forwards: a bp_backward now is BP_ERR_ARG,
     * as after a move between devices. A non-finite batch loss stopped the
     * pass before its step (the device runs to the end of the pass and says
     * so then). */
    net->M = 0;
    if (s == BP_OK || s == BP_ERR_NONFINITE)
        *loss_sum = sum;
    return s;
}
