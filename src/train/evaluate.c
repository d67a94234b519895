/*
 * evaluate.c — a trained network measured on a data set: mean loss,
 * accuracy and the confusion matrix (where the data set has classes: labels
 * or one-hot targets), and FANN's two figures, its MSE and bit fail.
 * Forward passes only, in batches of the network's maximum batch.
 */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bp_status bp_evaluate(bp_net *net, const bp_dataset *ds, const int32_t *idx, int n,
                      bp_metrics *out, long *confusion)
{
    const char *fn = "bp_evaluate";
    if (!net || !ds || !idx || !out)
        return bp_arg_null(NULL, fn, !net ? "net" : !ds ? "ds" : !idx ? "idx" : "out");
    for (int i = 0; i < n; i++) /* the gather reads example idx[i] unchecked */
        if (idx[i] < 0 || idx[i] >= bp_dataset_n(ds))
            return bp_fail(NULL, BP_ERR_ARG, "%s: idx[%d] = %d not in 0..%d", fn, i, (int)idx[i],
                           bp_dataset_n(ds) - 1);
    int k = net->sizes[net->L];
    /* classes: labels alone, or beside one-hot targets; the loss is taken
     * against the targets wherever there are some */
    int targets = !ds->has_labels, classes = bp_dataset_has_classes(ds);
    if (n < 1)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: n = %d examples < 1", fn, n);
    bp_status s = bp_check_dataset(fn, net, ds);
    if (s != BP_OK)
        return s;
    bp_batches it;
    s = batches_open(&it, fn, net, ds, idx, n, net->max_batch, 0, 1, targets, classes);
    if (s != BP_OK)
        return s;
    if (confusion)
        memset(confusion, 0, (size_t)k * k * sizeof *confusion);

    double total = 0, sq = 0;
    long correct = 0, bit_fail = 0;
    while (s == BP_OK && batches_next(&it)) {
        int M = it.M;
        const float *t = it.t;
        const int32_t *lab = it.labels;
        double l = 0;
        s = bp_forward(net, it.x, M); /* a GPU's failure is reported, not evaluated */
        if (s == BP_OK)
            s = bp_loss_value(net, targets ? (bp_targets){t, NULL} : (bp_targets){NULL, lab}, &l);
        total += l * M;
        const float *out_y = bp_net_output(net);
        for (int m = 0; s == BP_OK && m < M; m++) {
            const float *y = out_y + (size_t)m * k;
            for (int j = 0; j < k; j++) {
                double tj = targets ? t[(size_t)m * k + j] : j == lab[m];
                double e = tj - y[j];
                sq += e * e;
                bit_fail += fabs(e) > BP_BIT_FAIL_LIMIT;
            }
            if (!classes)
                continue;
            int best = 0;
            for (int j = 1; j < k; j++)
                if (y[j] > y[best])
                    best = j;
            correct += best == lab[m];
            if (confusion)
                confusion[(size_t)lab[m] * k + best]++;
        }
    }
    batches_close(&it);
    if (s != BP_OK)
        return s;
    out->loss = total / n;
    out->accuracy = classes ? (double)correct / n : NAN;
    out->mse_fann = sq / ((double)n * k);
    out->bit_fail = bit_fail;
    return BP_OK;
}
