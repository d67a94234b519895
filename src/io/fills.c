/*
 * fills.c — --missing mean's fills: each numeric input's mean over the
 * training examples that have a value, as scikit-learn's SimpleImputer is
 * fitted on the training data alone, then written into every missing value
 * of the data set (the validation examples' too). tabular.c takes them from
 * every row while it loads; bp_dataset_fill_from takes them again from the
 * training split once the caller has drawn it (bp_split), and the model
 * keeps them (bp_net_set_encoding) for predict.
 *
 * Deliberately not: a category's fill (a missing category is the all-zero
 * encoding, as an unseen one is), nor any other statistic.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bp_status bp_fills_apply(bp_dataset *ds, bp_enc *e, const uint8_t *use)
{
    size_t W = (size_t)ds->n_in;
    double *sum = calloc(W, sizeof *sum);
    long *count = calloc(W, sizeof *count);
    float *fill = malloc(W * sizeof *fill); /* per input: its fill as it stands (NaN: none yet) */
    if (!sum || !count || !fill) {
        free(sum), free(count), free(fill);
        return bp_fail(NULL, BP_ERR_NOMEM, "the fills: out of memory");
    }
    for (int c = 0, i = 0; c < e->n_in; i += e->in[c].n_cat ? e->in[c].n_cat : 1, c++)
        fill[i] = e->in[c].has_fill ? (float)e->in[c].fill : NAN;
    float *x = ds->x_f32;
    for (long k = 0; k < ds->n_missing; k++) /* the old fills out of the sums */
        x[ds->missing[k]] = NAN;
    /* in row order whatever order use came in: the same sums, bit for bit */
    for (int m = 0; m < ds->n; m++)
        for (size_t i = 0; (!use || use[m]) && i < W; i++)
            if (!isnan(x[(size_t)m * W + i]))
                sum[i] += x[(size_t)m * W + i], count[i]++;
    int none = -1; /* a numeric input without a value to take the mean of */
    for (int c = 0, i = 0; c < e->n_in; i += e->in[c].n_cat ? e->in[c].n_cat : 1, c++)
        if (!e->in[c].n_cat && !count[i] && none < 0)
            none = c;
    for (int c = 0, i = 0; none < 0 && c < e->n_in; i += e->in[c].n_cat ? e->in[c].n_cat : 1, c++)
        if (!e->in[c].n_cat) /* a mean of float32 values, kept as one */
            e->in[c].has_fill = 1, e->in[c].fill = (float)(sum[i] / count[i]),
            fill[i] = (float)e->in[c].fill;
    for (long k = 0; k < ds->n_missing; k++) /* the new fills, or on failure the old */
        x[ds->missing[k]] = fill[(size_t)ds->missing[k] % W];
    free(sum), free(count), free(fill);
    if (none < 0)
        return BP_OK;
    char nb[16];
    snprintf(nb, sizeof nb, "%d", e->in[none].index);
    return bp_fail(NULL, BP_ERR_FORMAT, "column \"%s\" has no value in the %s: --missing mean "
                   "has no mean to fill it with", e->in[none].name ? e->in[none].name : nb,
                   use ? "training examples" : "file");
}

bp_status bp_dataset_fill_from(bp_dataset *ds, const int32_t *idx, int n)
{
    BP_NEED(ds, NULL);
    BP_NEED(idx, NULL);
    if (n < 1)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d: need at least one example", __func__, n);
    for (int k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= ds->n)
            return bp_fail(NULL, BP_ERR_ARG, "%s: idx[%d] = %d not in 0..%d", __func__, k,
                           (int)idx[k], ds->n - 1);
    char why[300];
    bp_enc e;
    if (!ds->columns)
        return BP_OK;
    if (bp_enc_parse(ds->columns, ds->n_in, &e, why, sizeof why) != BP_OK)
        return bp_fail(NULL, BP_ERR_FORMAT, "%s: the data set's columns: %s", __func__, why);
    uint8_t *use = e.fill ? calloc((size_t)ds->n, 1) : NULL;
    bp_status s = !e.fill ? BP_OK : use ? BP_OK
                                        : bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory",
                                                  __func__);
    for (int k = 0; use && k < n; k++)
        use[idx[k]] = 1;
    if (use)
        s = bp_fills_apply(ds, &e, use);
    char *json = use && s == BP_OK ? bp_enc_json(&e) : NULL;
    char *copy = json ? strdup(json) : NULL;
    if (use && s == BP_OK && !copy)
        s = bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory", __func__);
    if (copy)
        free(ds->columns), ds->columns = copy;
    cJSON_free(json);
    free(use);
    bp_enc_free(&e);
    return s;
}
