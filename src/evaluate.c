/*
 * evaluate.c — a trained network measured on a data set: mean loss,
 * accuracy (classification), and the confusion matrix. Forward passes only,
 * in batches of the network's maximum batch.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bp_status bp_evaluate(bp_net *net, const bp_dataset *ds, const int32_t *idx, int n,
                      const float *mean, const float *std, double *loss, double *accuracy,
                      long *confusion)
{
    if (!net || !ds || !idx || !loss)
        return bp_arg_null(NULL, __func__, !net ? "net" : !ds ? "ds" : !idx ? "idx" : "loss");
    if (!mean != !std)
        return bp_arg_null(NULL, __func__, mean ? "std" : "mean");
    if (n < 1)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d examples < 1", __func__, n);
    bp_status s = bp_check_dataset(__func__, net, ds);
    if (s != BP_OK)
        return s;
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= bp_dataset_n(ds))
            return bp_fail(NULL, BP_ERR_ARG, "%s: idx[%d] = %d not in 0..%d", __func__, i,
                           (int)idx[i], bp_dataset_n(ds) - 1);
    int B = net->max_batch, n_in = net->sizes[0], k = net->sizes[net->L];
    int labelled = bp_dataset_has_labels(ds);
    float *x = malloc((size_t)B * n_in * sizeof *x);
    float *t = labelled ? NULL : malloc((size_t)B * k * sizeof *t);
    int32_t *lab = labelled ? malloc((size_t)B * sizeof *lab) : NULL;
    if (!x || (labelled ? !lab : !t)) {
        free(x), free(t), free(lab);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory for a batch of %d", __func__, B);
    }
    if (confusion)
        memset(confusion, 0, (size_t)k * k * sizeof *confusion);

    double total = 0;
    long correct = 0;
    for (int m0 = 0; m0 < n && s == BP_OK; m0 += B) {
        int M = n - m0 < B ? n - m0 : B;
        bp_dataset_gather(ds, idx + m0, M, mean, std, x, t, lab);
        double l = 0;
        s = bp_forward(net, x, M); /* a GPU's failure is reported, not evaluated */
        if (s == BP_OK)
            s = bp_loss_value(net, (bp_targets){t, lab}, &l);
        total += l * M;
        const float *out = bp_net_output(net);
        for (int m = 0; labelled && s == BP_OK && m < M; m++) {
            const float *y = out + (size_t)m * k;
            int best = 0;
            for (int j = 1; j < k; j++)
                if (y[j] > y[best])
                    best = j;
            correct += best == lab[m];
            if (confusion)
                confusion[(size_t)lab[m] * k + best]++;
        }
    }
    free(x), free(t), free(lab);
    if (s != BP_OK)
        return s;
    *loss = total / n;
    if (accuracy)
        *accuracy = labelled ? (double)correct / n : NAN;
    return BP_OK;
}
