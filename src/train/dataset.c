/*
 * dataset.c — data sets in memory: making one from arrays, per-feature
 * moments, and the gather that turns a list of example indices into one
 * float batch. The file loaders (src/io/: data_files.c for CSV and FANN,
 * idx.c for the MNIST family) fill the struct of train.h.
 *
 * Examples stay in their stored type — IDX pixels as bytes, a quarter of the
 * memory of floats — and become floats one batch at a time in
 * bp_dataset_gather, the one place where a stored value turns into a network
 * input (bp_dataset_moments goes through it too, so both see the same x).
 *
 * Deliberately not: a shuffler or splitter (callers own their index lists).
 */
#define _POSIX_C_SOURCE 200809L
#include "train/train.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* The data set                                                              */
/* ------------------------------------------------------------------------ */

/* For idx.c: the loader there owns the file format, this file the struct. */
bp_dataset *bp_dataset_adopt_u8(int n, int n_in, int n_out, uint8_t *x, int32_t *labels)
{
    bp_dataset *ds = malloc(sizeof *ds);
    if (!ds)
        return NULL;
    *ds = (bp_dataset){n, n_in, n_out, 1, 0, x, NULL, labels, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    return ds;
}

/* x [n, n_in] as floats (x32) or as doubles (x64, converted here): a
 * binding's float64 array becomes the data set's floats in one pass, with
 * no float copy of its own (at 60000×784 that copy was most of a fit's
 * set-up). As the loaders do, one-hot targets get their labels beside
 * them. */
static bp_dataset *from_memory(const char *fn, const float *x32, const double *x64,
                               const float *targets, const int32_t *labels, long n, int n_in,
                               int n_out, bp_error *err)
{
    if (!x32 && !x64) {
        bp_arg_null(err, fn, "x");
        return NULL;
    }
    if (!targets == !labels) {
        bp_fail(err, BP_ERR_ARG, "%s: give exactly one of targets and labels (%s)", fn,
                targets ? "both given" : "both NULL");
        return NULL;
    }
    if (n < 1 || n > INT_MAX || n_in < 1 || n_in > BP_MAX_WIDTH || n_out < 1 ||
        n_out > BP_MAX_WIDTH) {
        bp_fail(err, BP_ERR_ARG, "%s: n = %ld not in 1..%d, or n_in %d, n_out %d not in 1..%d",
                fn, n, INT_MAX, n_in, n_out, BP_MAX_WIDTH);
        return NULL;
    }
    size_t nx = (size_t)n * (size_t)n_in, nt = targets ? (size_t)n * (size_t)n_out : 0;
    for (size_t k = 0; k < nx; k++) /* a double beyond float's range is no float */
        if (x32 ? !isfinite(x32[k]) : !(fabs(x64[k]) <= FLT_MAX)) {
            bp_fail(err, BP_ERR_NONFINITE, "%s: x of example %zu, feature %zu is %g%s", fn,
                    k / (size_t)n_in, k % (size_t)n_in, x32 ? x32[k] : x64[k],
                    x32 || !isfinite(x64[k]) ? "" : ", beyond float's range");
            return NULL;
        }
    for (size_t k = 0; k < nt; k++)
        if (!isfinite(targets[k])) {
            bp_fail(err, BP_ERR_NONFINITE, "%s: target %zu of example %zu is %g", fn,
                    k % (size_t)n_out, k / (size_t)n_out, targets[k]);
            return NULL;
        }
    for (long i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_out) {
            bp_fail(err, BP_ERR_ARG, "%s: example %ld: label %d not in 0..%d", fn, i,
                    (int)labels[i], n_out - 1);
            return NULL;
        }
    bp_dataset *ds = calloc(1, sizeof *ds);
    if (ds) {
        *ds = (bp_dataset){.n = (int)n, .n_in = n_in, .n_out = n_out, .has_labels = labels != NULL};
        ds->x_f32 = malloc(nx * sizeof(float));
        if (labels)
            ds->labels = malloc((size_t)n * sizeof(int32_t));
        else
            ds->targets = malloc(nt * sizeof(float));
    }
    if (!ds || !ds->x_f32 || (labels ? !ds->labels : !ds->targets)) {
        bp_dataset_free(ds);
        bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %ld examples", fn, n);
        return NULL;
    }
    if (x32)
        memcpy(ds->x_f32, x32, nx * sizeof(float));
    else
        for (size_t k = 0; k < nx; k++)
            ds->x_f32[k] = (float)x64[k];
    if (labels)
        memcpy(ds->labels, labels, (size_t)n * sizeof(int32_t));
    else
        memcpy(ds->targets, targets, nt * sizeof(float));
    if (bp_dataset_find_one_hot(ds, fn, err) != BP_OK) {
        bp_dataset_free(ds);
        return NULL;
    }
    return ds;
}

bp_dataset *bp_dataset_from_memory(const float *x, const float *targets, const int32_t *labels,
                                   long n, int n_in, int n_out, bp_error *err)
{
    return from_memory(__func__, x, NULL, targets, labels, n, n_in, n_out, err);
}

bp_dataset *bp_dataset_from_memory_f64(const double *x, const float *targets,
                                       const int32_t *labels, long n, int n_in, int n_out,
                                       bp_error *err)
{
    return from_memory(__func__, NULL, x, targets, labels, n, n_in, n_out, err);
}

void bp_dataset_free(bp_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x_u8);
    free(ds->x_f32);
    free(ds->labels);
    free(ds->targets);
    free(ds->classes);
    free(ds->columns);
    free(ds->onehot);
    free(ds->warning);
    free(ds->missing);
    free(ds);
}

bp_data_view bp_dataset_view(const bp_dataset *ds)
{
    return (bp_data_view){ds->n,    ds->n_in,   ds->n_out,  ds->has_labels,
                          ds->x_u8, ds->x_f32, ds->labels, ds->targets};
}

int bp_dataset_n(const bp_dataset *ds) { return ds ? ds->n : 0; }
int bp_dataset_n_in(const bp_dataset *ds) { return ds ? ds->n_in : 0; }
int bp_dataset_n_out(const bp_dataset *ds) { return ds ? ds->n_out : 0; }
int bp_dataset_has_labels(const bp_dataset *ds) { return ds ? ds->has_labels : 0; }
int bp_dataset_has_classes(const bp_dataset *ds) { return ds && (ds->has_labels || ds->one_hot); }

/* Targets whose every row is one 1 and zeros elsewhere are classes in
 * disguise: their labels are kept beside them, so a loader's one-hot data
 * gets accuracy and a confusion matrix and can train on labels. One row
 * that is not exactly one-hot (a 0.9, two 1s, all 0) leaves the data set
 * regression: nothing is guessed. A single output is never one-hot. */
bp_status bp_dataset_find_one_hot(bp_dataset *ds, const char *path, bp_error *err)
{
    if (ds->has_labels || ds->n_out < 2)
        return BP_OK;
    for (int i = 0; i < ds->n; i++) {
        const float *t = ds->targets + (size_t)i * (size_t)ds->n_out;
        int ones = 0;
        for (int j = 0; j < ds->n_out; j++) {
            if (t[j] != 0.0f && t[j] != 1.0f)
                return BP_OK;
            ones += t[j] == 1.0f;
        }
        if (ones != 1)
            return BP_OK;
    }
    ds->labels = malloc((size_t)ds->n * sizeof *ds->labels);
    if (!ds->labels)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %d labels", path, ds->n);
    for (int i = 0; i < ds->n; i++) {
        const float *t = ds->targets + (size_t)i * (size_t)ds->n_out;
        int c = 0;
        while (t[c] != 1.0f)
            c++;
        ds->labels[i] = c;
    }
    ds->one_hot = 1;
    return BP_OK;
}

/* Features j0..j0+m-1 of example r as the network sees them: bytes through
 * ops.h's op_byte_input (the CUDA gather's too), floats as stored. */
static void example_floats(const bp_dataset *ds, int32_t r, int j0, int m, float *dst)
{
    assert(r >= 0 && r < ds->n);
    size_t at = (size_t)r * (size_t)ds->n_in + (size_t)j0;
    if (ds->x_u8)
        for (int j = 0; j < m; j++)
            dst[j] = op_byte_input(ds->x_u8[at + (size_t)j]);
    else
        memcpy(dst, ds->x_f32 + at, (size_t)m * sizeof *dst);
}

/* The entry check of moments and gather: the pointers, and every index. */
static int bad_indices(const char *fn, const bp_dataset *ds, const int32_t *idx, int n)
{
    if (!ds || (!idx && n > 0))
        return bp_arg_null(NULL, fn, ds ? "idx" : "ds"), 1;
    if (n < 0)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d < 0", fn, n), 1;
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            return bp_fail(NULL, BP_ERR_ARG, "%s: idx[%d] = %d not in 0..%d", fn, i, (int)idx[i],
                           ds->n - 1), 1;
    return 0;
}

bp_status bp_dataset_moments(const bp_dataset *ds, const int32_t *idx, int n, float *mean,
                             float *std)
{
    if (bad_indices(__func__, ds, idx, n))
        return BP_ERR_ARG;
    if (!mean || !std)
        return bp_arg_null(NULL, __func__, mean ? "std" : "mean");
    /* Features are taken in blocks so the double accumulators stay on the
     * stack and each example is read in contiguous runs; two passes (mean,
     * then squared deviations) avoid the cancellation of Σx² − n·mean². */
    enum { B = 256 };
    double sum[B], sq[B];
    float row[B];
    for (int j0 = 0; j0 < ds->n_in; j0 += B) {
        int m = ds->n_in - j0 < B ? ds->n_in - j0 : B;
        for (int j = 0; j < m; j++)
            sum[j] = sq[j] = 0.0;
        for (int i = 0; i < n; i++) {
            example_floats(ds, idx[i], j0, m, row);
            for (int j = 0; j < m; j++)
                sum[j] += row[j];
        }
        for (int j = 0; j < m; j++)
            sum[j] = n ? sum[j] / n : 0.0;
        for (int i = 0; i < n; i++) {
            example_floats(ds, idx[i], j0, m, row);
            for (int j = 0; j < m; j++)
                sq[j] += (row[j] - sum[j]) * (row[j] - sum[j]);
        }
        for (int j = 0; j < m; j++) {
            mean[j0 + j] = (float)sum[j];
            float s = n ? (float)sqrt(sq[j] / n) : 0.0f; /* population std */
            /* a constant feature: (x − mean)/1 = 0, never a division by 0 */
            std[j0 + j] = s > 0.0f ? s : 1.0f;
            /* a category's 0/1 input stays as it is: standardisation is
             * for the numeric columns */
            if (ds->onehot && ds->onehot[j0 + j])
                mean[j0 + j] = 0.0f, std[j0 + j] = 1.0f;
        }
    }
    return BP_OK;
}

bp_status bp_dataset_gather(const bp_dataset *ds, const int32_t *idx, int M, const float *mean,
                            const float *std, float *x, float *t, int32_t *labels)
{
    if (bad_indices(__func__, ds, idx, M))
        return BP_ERR_ARG;
    if (!x || (mean && !std))
        return bp_arg_null(NULL, __func__, x ? "std" : "x");
    size_t n_in = (size_t)ds->n_in, n_out = (size_t)ds->n_out;
    for (int i = 0; i < M; i++) {
        float *xi = x + (size_t)i * n_in;
        example_floats(ds, idx[i], 0, ds->n_in, xi);
        if (mean)
            for (size_t j = 0; j < n_in; j++)
                xi[j] = op_standardize(xi[j], mean[j], std[j]);
        if (ds->labels && labels)
            labels[i] = ds->labels[idx[i]];
        if (ds->targets && t)
            memcpy(t + (size_t)i * n_out, ds->targets + (size_t)idx[i] * n_out,
                   n_out * sizeof *t);
    }
    return BP_OK;
}
