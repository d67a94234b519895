/*
 * fit.c — the two calls an embedding program needs most: bp_predict (raw
 * inputs of any count in, outputs out) and bp_fit (a whole training run on
 * a data set). Both are built from the library's own pieces — bp_forward,
 * bp_train_epoch, bp_evaluate — so they compute exactly what those do.
 */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* bp_predict and bp_predict_rows: chunks of the maximum batch through the
 * engine, or each row alone through the vector form. */
static bp_status predict(const char *fn, bp_net *net, const float *x, long n, float *y, int rows,
                         bp_error *err)
{
    if (!net || !x || !y)
        return bp_arg_null(err, fn, !net ? "net" : !x ? "x" : "y");
    if (n < 0)
        return bp_fail(err, BP_ERR_ARG, "%s: n = %ld examples < 0", fn, n);
    size_t n_in = (size_t)net->sizes[0], k = (size_t)net->sizes[net->L];
    /* a NaN would leave NaN outputs that look like an answer; checked
     * before anything is written, so y is untouched on failure */
    for (size_t i = 0; i < (size_t)n * n_in; i++)
        if (!isfinite(x[i]))
            return bp_fail(err, BP_ERR_NONFINITE, "%s: x[%zu][%zu] = %g: the inputs must be "
                           "finite", fn, i / n_in, i % n_in, (double)x[i]);
    int B = rows ? 1 : net->max_batch;
    /* standardised rows need a buffer of their own: x is the caller's */
    float *xs = NULL;
    if (net->mean && !(xs = malloc((size_t)B * n_in * sizeof *xs)))
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for a batch of %d", fn, B);
    bp_status s = BP_OK;
    for (long m0 = 0; m0 < n && s == BP_OK; m0 += B) {
        int M = n - m0 < B ? (int)(n - m0) : B;
        const float *xb = x + (size_t)m0 * n_in;
        if (xs) {
            for (size_t r = 0; r < (size_t)M; r++)
                for (size_t j = 0; j < n_in; j++)
                    xs[r * n_in + j] = (xb[r * n_in + j] - net->mean[j]) / net->std[j];
            xb = xs;
        }
        const float *out = NULL;
        if (rows)
            vector_forward(net, xb), out = net->y[net->L];
        else if ((s = bp_forward(net, xb, M)) == BP_OK)
            out = bp_net_output(net);
        if (out)
            memcpy(y + (size_t)m0 * k, out, (size_t)M * k * sizeof *y);
    }
    free(xs);
    if (s != BP_OK && err) /* bp_forward said why at bp_last_error */
        snprintf(err->msg, sizeof err->msg, "%s", bp_last_error());
    return s;
}

bp_status bp_predict(bp_net *net, const float *x, long n, float *y, bp_error *err)
{
    return predict(__func__, net, x, n, y, 0, err);
}

bp_status bp_predict_rows(bp_net *net, const float *x, long n, float *y, bp_error *err)
{
    return predict(__func__, net, x, n, y, 1, err);
}

bp_status bp_split(uint64_t seed, int n, double val_fraction, int32_t *perm, int *n_val,
                   bp_rng *rng)
{
    if (!perm || !n_val || !rng)
        return bp_arg_null(NULL, __func__, !perm ? "perm" : !n_val ? "n_val" : "rng");
    if (n < 1 || !(val_fraction >= 0 && val_fraction < 1))
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d, val_fraction %g: need n >= 1 and 0 <= "
                       "val_fraction < 1", __func__, n, val_fraction);
    /* a generator of its own, apart from the initialisation's (same seed) */
    bp_rng_seed(rng, seed ^ 0x5851f42d4c957f2dULL);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    bp_shuffle(rng, perm, n);
    *n_val = (int)(val_fraction * n);
    return BP_OK;
}

bp_status bp_split_classes(uint64_t seed, const int32_t *labels, int n, int k, int n_val,
                           int32_t *perm, bp_rng *rng)
{
    if (!labels || !perm || !rng)
        return bp_arg_null(NULL, __func__, !labels ? "labels" : !perm ? "perm" : "rng");
    if (n < 2 || k < 1 || n_val < 1 || n_val >= n)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d, k = %d, n_val = %d: need n >= 2, k >= 1 "
                       "and 1 <= n_val < n", __func__, n, k, n_val);
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return bp_fail(NULL, BP_ERR_ARG, "%s: labels[%d] = %d not in 0..%d", __func__, i,
                           (int)labels[i], k - 1);
    /* per class: its examples, then its share of n_val and the remainder
     * that decides who gets the examples the floors leave over */
    long *count = calloc(3 * (size_t)k, sizeof *count), *take = count + k, *rem = take + k;
    int32_t *order = malloc((size_t)n * sizeof *order);
    if (!count || !order) {
        free(count), free(order);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory for %d examples", __func__, n);
    }
    for (int i = 0; i < n; i++)
        count[labels[i]]++;
    long given = 0;
    for (int c = 0; c < k; c++) {
        take[c] = count[c] * n_val / n;
        rem[c] = count[c] * n_val % n;
        given += take[c];
    }
    for (; given < n_val; given++) {
        int best = -1;
        for (int c = 0; c < k; c++)
            if (take[c] < count[c] && (best < 0 || rem[c] > rem[best]))
                best = c;
        take[best]++, rem[best] = -1;
    }
    /* a walk in random order fills each class's share with a uniform
     * choice of its examples, and leaves both parts in random order */
    bp_rng_seed(rng, seed ^ 0x5851f42d4c957f2dULL); /* as bp_split */
    for (int i = 0; i < n; i++)
        order[i] = i;
    bp_shuffle(rng, order, n);
    int v = 0, t = n_val;
    for (int i = 0; i < n; i++) {
        int c = labels[order[i]];
        if (take[c] > 0)
            take[c]--, perm[v++] = order[i];
        else
            perm[t++] = order[i];
    }
    free(count), free(order);
    return BP_OK;
}

bp_status bp_fit(bp_net *net, const bp_dataset *ds, const bp_opt_config *opt, int epochs,
                 int batch, uint64_t seed, double val_fraction, double *train_loss,
                 double *val_loss, bp_error *err)
{
    const char *fn = __func__;
    if (!net || !ds || !opt)
        return bp_arg_null(err, fn, !net ? "net" : !ds ? "ds" : "opt");
    if (epochs < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: epochs %d < 1", fn, epochs);
    if (batch < 0 || batch > net->max_batch)
        return bp_fail(err, BP_ERR_ARG, "%s: batch %d not in 0..max_batch %d", fn, batch,
                       net->max_batch);
    if (!(val_fraction >= 0 && val_fraction < 1))
        return bp_fail(err, BP_ERR_ARG, "%s: val_fraction %g not in [0, 1)", fn, val_fraction);
    bp_status s = bp_check_dataset(fn, net, ds);
    if (s != BP_OK) {
        if (err)
            snprintf(err->msg, sizeof err->msg, "%s", bp_last_error());
        return s;
    }
    int n = bp_dataset_n(ds), n_val = (int)(val_fraction * n), n_train = n - n_val;
    if (n_train < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: no training examples left of %d after val_fraction %g",
                       fn, n, val_fraction);
    int B = batch ? batch : net->max_batch;
    if (B > n_train)
        B = n_train;

    bp_optimizer *o = bp_optimizer_create(opt, net->n_params, err);
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!o || !perm) {
        bp_optimizer_free(o);
        free(perm);
        return o ? bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %d indices", fn, n)
                 : BP_ERR_ARG; /* bp_optimizer_create said why */
    }
    bp_rng rng;
    bp_split(seed, n, val_fraction, perm, &n_val, &rng);
    int32_t *val_idx = perm, *train_idx = perm + n_val;

    for (int e = 0; e < epochs && s == BP_OK; e++) {
        bp_shuffle(&rng, train_idx, n_train);
        double sum = NAN;
        bp_metrics vm = {NAN, NAN, NAN, 0};
        s = bp_train_epoch(net, o, ds, train_idx, n_train, B, NULL, &sum, NULL);
        if (s == BP_OK && n_val > 0)
            s = bp_evaluate(net, ds, val_idx, n_val, &vm, NULL);
        double vl = vm.loss;
        if (train_loss)
            train_loss[e] = sum / n_train;
        if (val_loss)
            val_loss[e] = vl;
        if (s == BP_OK && n_val > 0 && !isfinite(vl))
            s = bp_fail(NULL, BP_ERR_NONFINITE, "%s: epoch %d: validation loss %g", fn, e + 1, vl);
    }
    /* a CUDA network's optimiser state dies with o: nothing to bring back */
    bp_optimizer_free(o);
    free(perm);
    if (s != BP_OK && err)
        snprintf(err->msg, sizeof err->msg, "%s", bp_last_error());
    return s;
}
