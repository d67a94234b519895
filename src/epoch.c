/*
 * epoch.c — bp_train_epoch: one pass over a list of examples in batches,
 * the loop that training runs. On the host it is gather + bp_train_step per
 * batch; a CUDA network hands the whole pass to cuda.cu, which keeps the
 * data set on the device and replays one captured step per batch.
 * The arguments are checked here, once, for both.
 */
#include "internal.h"
#ifdef BP_HAVE_CUDA
#include "cuda.h"
#endif

#include <math.h>
#include <stdlib.h>

/* The data set fits the network, and every index names one of its examples
 * (the device gathers without bounds checks). */
static bp_status check(const bp_net *net, const bp_optimizer *opt, const bp_dataset *ds,
                       const int32_t *idx, int n, int batch, const float *mean, const float *std)
{
    int k = net->sizes[net->L];
    if (!ds || !idx || n < 1 || batch < 1 || batch > net->max_batch || opt->n != net->n_params ||
        !mean != !std)
        return BP_ERR_ARG;
    if (bp_dataset_n_in(ds) != net->sizes[0])
        return BP_ERR_SHAPE;
    if (bp_dataset_has_labels(ds) ? net->loss != BP_LOSS_SOFTMAX_CE || bp_dataset_n_out(ds) > k
                                  : bp_dataset_n_out(ds) != k)
        return BP_ERR_SHAPE;
    int N = bp_dataset_n(ds);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= N)
            return BP_ERR_ARG;
    return BP_OK;
}

bp_status bp_train_epoch(bp_net *net, bp_optimizer *opt, const bp_dataset *ds, const int32_t *idx,
                         int n, int batch, const float *mean, const float *std, double *loss_sum)
{
    bp_status s = check(net, opt, ds, idx, n, batch, mean, std);
    if (s != BP_OK)
        return s;
#ifdef BP_HAVE_CUDA
    if (net->device == BP_DEVICE_CUDA)
        return bp_cuda_train_epoch(net, opt, ds, idx, n, batch, mean, std, loss_sum);
#endif
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
        return BP_ERR_NOMEM;
    }
    double sum = 0;
    for (int m0 = 0; m0 < n && s == BP_OK; m0 += batch) {
        int M = n - m0 < batch ? n - m0 : batch;
        double l;
        bp_dataset_gather(ds, idx + m0, M, mean, std, x, t, lab);
        s = bp_train_step(net, opt, x, (bp_targets){t, lab}, M, &l);
        sum += l * M;
    }
    free(x), free(t), free(lab);
    /* the last forward's Y(0) was x, freed above: a bp_backward now must be
     * BP_ERR_ARG (as after a move between devices), not a read of freed
     * memory. A pending per-example step keeps its own copy of y(0). */
    net->x = NULL;
    net->M = 0;
    if (s != BP_OK)
        return s;
    *loss_sum = sum;
    /* checked once, as the device does: a diverged pass runs to its end */
    return isfinite(sum) ? BP_OK : BP_ERR_NONFINITE;
}
