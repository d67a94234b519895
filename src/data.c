/*
 * data.c — data sets in memory: the text loaders (CSV with an optional
 * header, FANN training files), per-feature moments, and the gather that turns
 * a list of example indices into one float batch. The IDX loader (the MNIST
 * family, plain or gzip'ed) lives in idx.c and hands its arrays over here.
 *
 * Examples stay in their stored type — IDX pixels as bytes, a quarter of the
 * memory of floats — and become floats one batch at a time in
 * bp_dataset_gather, the one place where a stored value turns into a network
 * input (bp_dataset_moments goes through it too, so both see the same x).
 *
 * The readers are as strict as csv.c: a malformed file is an error naming the
 * path, the line or example, and what was expected; nothing is guessed, and a
 * count written in a file never sizes an allocation before the data behind it
 * has been seen or bounded by the file's size.
 *
 * Deliberately not: a shuffler or splitter (callers own their index lists), a
 * streaming loader (files are read whole), a general CSV reader (no quoting,
 * no text columns, no missing values).
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct bp_dataset {
    int n, n_in, n_out; /* examples, features, classes or regression targets */
    int has_labels;     /* 1: labels alone is set; 0: targets is set         */
    int one_hot;        /* targets all one-hot: labels holds their classes   */
    uint8_t *x_u8;      /* [n, n_in] IDX pixels, x = byte/255; or NULL       */
    float *x_f32;       /* [n, n_in] features as read; or NULL               */
    int32_t *labels;    /* [n] classes 0..n_out-1                            */
    float *targets;     /* [n, n_out]                                        */
};

/* ------------------------------------------------------------------------ */
/* The data set                                                              */
/* ------------------------------------------------------------------------ */

/* For idx.c (declared in internal.h): the loader there owns the file
 * format, this file owns the struct. */
bp_dataset *bp_dataset_adopt_u8(int n, int n_in, int n_out, uint8_t *x, int32_t *labels)
{
    bp_dataset *ds = malloc(sizeof *ds);
    if (!ds)
        return NULL;
    *ds = (bp_dataset){n, n_in, n_out, 1, 0, x, NULL, labels, NULL};
    return ds;
}

static bp_status find_one_hot(bp_dataset *ds, const char *path, bp_error *err);

/* As the loaders do: one-hot targets get their labels beside them. */
bp_dataset *bp_dataset_from_memory(const float *x, const float *targets, const int32_t *labels,
                                   long n, int n_in, int n_out, bp_error *err)
{
    const char *fn = __func__;
    if (!x) {
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
    for (size_t k = 0; k < nx; k++)
        if (!isfinite(x[k])) {
            bp_fail(err, BP_ERR_NONFINITE, "%s: x of example %zu, feature %zu is %g", fn,
                    k / (size_t)n_in, k % (size_t)n_in, x[k]);
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
    memcpy(ds->x_f32, x, nx * sizeof(float));
    if (labels)
        memcpy(ds->labels, labels, (size_t)n * sizeof(int32_t));
    else
        memcpy(ds->targets, targets, nt * sizeof(float));
    if (find_one_hot(ds, fn, err) != BP_OK) {
        bp_dataset_free(ds);
        return NULL;
    }
    return ds;
}

void bp_dataset_free(bp_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x_u8);
    free(ds->x_f32);
    free(ds->labels);
    free(ds->targets);
    free(ds);
}

bp_dataset_arrays bp_dataset_raw(const bp_dataset *ds)
{
    return (bp_dataset_arrays){ds->x_u8, ds->x_f32, ds->labels, ds->targets};
}

int bp_dataset_n(const bp_dataset *ds) { return ds ? ds->n : 0; }
int bp_dataset_n_in(const bp_dataset *ds) { return ds ? ds->n_in : 0; }
int bp_dataset_n_out(const bp_dataset *ds) { return ds ? ds->n_out : 0; }
int bp_dataset_has_labels(const bp_dataset *ds) { return ds ? ds->has_labels : 0; }
int bp_dataset_one_hot(const bp_dataset *ds) { return ds ? ds->one_hot : 0; }

/* Targets whose every row is one 1 and zeros elsewhere are classes in
 * disguise: their labels are kept beside them, so a loader's one-hot data
 * gets accuracy and a confusion matrix and can train on labels. One row
 * that is not exactly one-hot (a 0.9, two 1s, all 0) leaves the data set
 * regression: nothing is guessed. A single output is never one-hot. */
static bp_status find_one_hot(bp_dataset *ds, const char *path, bp_error *err)
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

void bp_dataset_moments(const bp_dataset *ds, const int32_t *idx, int n, float *mean, float *std)
{
    if (bad_indices(__func__, ds, idx, n))
        return;
    if (!mean || !std) {
        bp_arg_null(NULL, __func__, mean ? "std" : "mean");
        return;
    }
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
        }
    }
}

void bp_dataset_gather(const bp_dataset *ds, const int32_t *idx, int M, const float *mean,
                       const float *std, float *x, float *t, int32_t *labels)
{
    if (bad_indices(__func__, ds, idx, M))
        return;
    if (!x || (mean && !std)) {
        bp_arg_null(NULL, __func__, x ? "std" : "x");
        return;
    }
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
}

/* ------------------------------------------------------------------------ */
/* FANN's examples arrive one by one: storage that grows                      */
/* ------------------------------------------------------------------------ */

/* Room for `need` examples in x_f32 and labels or targets: capacity doubles,
 * but never past `limit`, so a loader that knows its count ends exact. */
static int reserve_examples(bp_dataset *ds, size_t *cap, size_t need, size_t limit)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    if (c > limit)
        c = limit;
    size_t n_y = ds->has_labels ? 1 : (size_t)ds->n_out;
    size_t width = (size_t)ds->n_in > n_y ? (size_t)ds->n_in : n_y;
    if (c > SIZE_MAX / sizeof(float) / width)
        return 0;
    float *x = realloc(ds->x_f32, c * (size_t)ds->n_in * sizeof *x);
    if (!x)
        return 0;
    ds->x_f32 = x;
    if (ds->has_labels) {
        int32_t *l = realloc(ds->labels, c * sizeof *l);
        if (!l)
            return 0;
        ds->labels = l;
    } else {
        float *t = realloc(ds->targets, c * n_y * sizeof *t);
        if (!t)
            return 0;
        ds->targets = t;
    }
    *cap = c;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */
/* ------------------------------------------------------------------------ */

/* csv.c reads the table (header allowed); here its columns become features
 * and a class label or targets. Row r of the table is line header + 1 + r. */
static bp_status csv_split(bp_dataset *ds, const char *path, const float *v, int rows, int cols,
                           int header, int target_cols, bp_error *err)
{
    int n_y = target_cols ? target_cols : 1;
    if (cols <= n_y)
        return bp_fail(err, BP_ERR_FORMAT, "%s:%d: %d columns: need at least 1 feature and %d %s",
                       path, header + 1, cols, n_y,
                       target_cols ? "target columns" : "label column");
    if (cols - n_y > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_FORMAT, "%s:%d: %d features, more than %d", path, header + 1,
                       cols - n_y, BP_MAX_WIDTH);
    ds->n = rows;
    ds->n_in = cols - n_y;
    ds->n_out = target_cols; /* the labels' n_out is their largest + 1 */
    size_t n_in = (size_t)ds->n_in;
    ds->x_f32 = malloc((size_t)rows * n_in * sizeof *ds->x_f32);
    if (ds->has_labels)
        ds->labels = malloc((size_t)rows * sizeof *ds->labels);
    else
        ds->targets = malloc((size_t)rows * (size_t)n_y * sizeof *ds->targets);
    if (!ds->x_f32 || (ds->has_labels ? !ds->labels : !ds->targets))
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %d examples", path, rows);
    for (int r = 0; r < rows; r++) {
        const float *row = v + (size_t)r * (size_t)cols;
        memcpy(ds->x_f32 + (size_t)r * n_in, row, n_in * sizeof *row);
        if (!ds->has_labels) {
            memcpy(ds->targets + (size_t)r * (size_t)n_y, row + n_in, (size_t)n_y * sizeof *row);
            continue;
        }
        /* a class label is an integer value ("3" and "3.0" both read as 3);
         * it becomes an output width, hence the upper bound */
        float c = row[n_in];
        if (c != floorf(c) || c < 0 || c >= (float)BP_MAX_WIDTH)
            return bp_fail(err, BP_ERR_FORMAT,
                           "%s:%d:%d: class label must be an integer in 0..%d: \"%g\"", path,
                           header + 1 + r, cols, BP_MAX_WIDTH - 1, (double)c);
        ds->labels[r] = (int32_t)c;
        if (ds->labels[r] >= ds->n_out)
            ds->n_out = ds->labels[r] + 1;
    }
    /* a file whose labels are all 0 stays legal (n_out 1): a test file may
     * hold examples of one class only */
    return BP_OK;
}

bp_status bp_dataset_load_csv(const char *path, int target_cols, bp_dataset **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return bp_arg_null(err, __func__, path ? "out" : "path");
    if (target_cols < 0 || target_cols > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_ARG, "%s: target_cols %d: expected 0 (a label) to %d", path,
                       target_cols, BP_MAX_WIDTH);
    float *v;
    int rows, cols, header;
    bp_status s = bp_csv_read_table(path, 1, &v, &rows, &cols, &header, err);
    if (s != BP_OK)
        return s;
    bp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        free(v);
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    }
    ds->has_labels = target_cols == 0;
    s = csv_split(ds, path, v, rows, cols, header, target_cols, err);
    free(v);
    if (s == BP_OK)
        s = find_one_hot(ds, path, err);
    if (s != BP_OK) {
        bp_dataset_free(ds);
        return s;
    }
    *out = ds;
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* FANN training data                                                        */
/* ------------------------------------------------------------------------ */

/* FANN's own reader is fscanf("%f "), so only the order of the numbers
 * matters, not how whitespace splits them into lines; this reads tokens the
 * same way but insists that each one is wholly a number. */

#define FANN_TOKEN_MAX 512 /* longer than any sane decimal */
#define QUOTED 136         /* room for bp_quote's 32 shown bytes, escaped */

typedef struct {
    FILE *f;
    long long line;           /* line of the next byte        */
    long long tok_line;       /* line where the token started */
    char tok[FANN_TOKEN_MAX + 1];
    size_t len;               /* bytes kept, plus 1 if it was longer */
} tokens;

/* The next whitespace-separated token: 1, or 0 at the end of the file or on
 * a read error (ferror says which). */
static int next_token(tokens *t)
{
    int c;
    while ((c = getc_unlocked(t->f)) != EOF && isspace(c))
        t->line += c == '\n';
    if (c == EOF)
        return 0;
    t->tok_line = t->line;
    t->len = 0;
    do {
        if (t->len < FANN_TOKEN_MAX)
            t->tok[t->len] = (char)c;
        t->len += t->len <= FANN_TOKEN_MAX;
    } while ((c = getc_unlocked(t->f)) != EOF && !isspace(c));
    t->line += c == '\n';
    /* an over-long token keeps a NUL at the end so strtof stops short of it */
    t->tok[t->len < FANN_TOKEN_MAX ? t->len : FANN_TOKEN_MAX] = '\0';
    return 1;
}

/* One of the three header counts: decimal digits only, 1..max. */
static bp_status fann_count(tokens *t, const char *path, const char *what, long long max, int *out,
                            bp_error *err)
{
    char q[QUOTED];
    if (!next_token(t))
        return ferror(t->f)
                   ? bp_fail(err, BP_ERR_IO, "%s: read failed: %s", path, strerror(errno))
                   : bp_fail(err, BP_ERR_FORMAT,
                             "%s: the header ends early: expected \"examples inputs outputs\"",
                             path);
    long long v = 0;
    size_t i = 0;
    while (i < t->len && i < FANN_TOKEN_MAX && isdigit((unsigned char)t->tok[i]) && v <= max)
        v = v * 10 + (t->tok[i++] - '0');
    if (i != t->len || v < 1 || v > max)
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld: %s: expected an integer in 1..%lld, got \"%s\"",
                       path, t->tok_line, what, max, bp_quote(q, sizeof q, t->tok, t->len));
    *out = (int)v;
    return BP_OK;
}

static bp_status fann_read(FILE *f, const char *path, bp_dataset *ds, bp_error *err)
{
    tokens t = {.f = f, .line = 1};
    int n;
    bp_status s;
    if ((s = fann_count(&t, path, "number of examples", INT_MAX, &n, err)) != BP_OK ||
        (s = fann_count(&t, path, "number of inputs", BP_MAX_WIDTH, &ds->n_in, err)) != BP_OK ||
        (s = fann_count(&t, path, "number of outputs", BP_MAX_WIDTH, &ds->n_out, err)) != BP_OK)
        return s;

    /* every number takes a byte and all but the last a separator, so a
     * header that promises more than the file can hold is refused before any
     * allocation it would size */
    uint64_t per = (uint64_t)ds->n_in + (uint64_t)ds->n_out, total = (uint64_t)n * per;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        total > ((uint64_t)st.st_size + 1) / 2)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: the header promises %d examples of %d inputs and %d outputs, %llu "
                       "numbers; a file of %lld bytes holds at most %llu",
                       path, n, ds->n_in, ds->n_out, (unsigned long long)total,
                       (long long)st.st_size, ((unsigned long long)st.st_size + 1) / 2);

    size_t cap = 0;
    char where[700];
    long long prev_line = t.tok_line; /* of the token before */
    int rows = -1; /* the examples are rows of lines (1), or free-form (0) */
    for (int i = 0; i < n; i++) {
        if (!reserve_examples(ds, &cap, (size_t)i + 1, (size_t)n))
            return bp_fail(err, BP_ERR_NOMEM, "%s: example %d: out of memory", path, i + 1);
        long long first_line = 0;
        int out_on_new_line = 1;
        for (int j = 0; j < ds->n_in + ds->n_out; j++) {
            int is_in = j < ds->n_in;
            int k = is_in ? j : j - ds->n_in;
            if (!next_token(&t)) {
                if (ferror(f))
                    return bp_fail(err, BP_ERR_IO, "%s: read failed: %s", path, strerror(errno));
                return bp_fail(err, BP_ERR_FORMAT,
                               "%s: the file ends in example %d of %d, at %s %d of %d", path,
                               i + 1, n, is_in ? "input" : "output", k + 1,
                               is_in ? ds->n_in : ds->n_out);
            }
            /* When the data starts a line after the header, the examples
             * are rows: whitespace is free inside an example, but each one
             * starts a line, and its outputs start one unless it is all on
             * one. A header whose counts disagree with the rows breaks one
             * of these within an example or two, where the token count
             * alone might happen to fit. Data that goes on from the
             * header's line is free-form, as FANN's fscanf reads it. */
            if (rows < 0)
                rows = t.tok_line != prev_line;
            if (rows && j == 0 && t.tok_line == prev_line)
                return bp_fail(err, BP_ERR_FORMAT,
                               "%s:%lld: example %d does not start a line: the header's %d "
                               "inputs and %d outputs disagree with the rows",
                               path, t.tok_line, i + 1, ds->n_in, ds->n_out);
            if (j == 0)
                first_line = t.tok_line;
            if (j == ds->n_in)
                out_on_new_line = t.tok_line != prev_line;
            prev_line = t.tok_line;
            float *v = is_in ? &ds->x_f32[(size_t)i * (size_t)ds->n_in + (size_t)k]
                             : &ds->targets[(size_t)i * (size_t)ds->n_out + (size_t)k];
            snprintf(where, sizeof where, "%s:%lld: example %d, %s %d", path, t.tok_line,
                     i + 1, is_in ? "input" : "output", k + 1);
            if ((s = bp_parse_number(t.tok, t.tok + t.len, v, where, err)) != BP_OK)
                return s;
        }
        if (rows && !out_on_new_line && prev_line != first_line)
            return bp_fail(err, BP_ERR_FORMAT,
                           "%s:%lld: example %d: its outputs do not start a line: the header's "
                           "%d inputs and %d outputs disagree with the rows",
                           path, prev_line, i + 1, ds->n_in, ds->n_out);
        ds->n = i + 1;
    }
    if (next_token(&t)) {
        char q[QUOTED];
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld: data after the %d examples promised: \"%s\"",
                       path, t.tok_line, n, bp_quote(q, sizeof q, t.tok, t.len));
    }
    if (ferror(f))
        return bp_fail(err, BP_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    return BP_OK;
}

bp_status bp_dataset_load_fann(const char *path, bp_dataset **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return bp_arg_null(err, __func__, path ? "out" : "path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: %s", path, strerror(errno));
    bp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        fclose(f);
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    }
    bp_status s = fann_read(f, path, ds, err);
    fclose(f);
    if (s == BP_OK)
        s = find_one_hot(ds, path, err);
    if (s != BP_OK) {
        bp_dataset_free(ds);
        return s;
    }
    *out = ds;
    return BP_OK;
}
