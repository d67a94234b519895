/*
 * data_files.c — data sets from FANN training files (CSV: tabular.c), and
 * the loaders' common end. The IDX loader is idx.c; the struct and the gather are
 * src/train/dataset.c.
 *
 * The readers are as strict as csv.c: a malformed file is an error naming the
 * path, the line or example, and what was expected; nothing is guessed, and a
 * count written in a file never sizes an allocation before the data behind it
 * has been seen or bounded by the file's size.
 *
 * Deliberately not: a streaming loader (files are read whole).
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A loader's end: one-hot targets get their labels, and the data set is
 * handed over, or freed on any failure. */
bp_status bp_dataset_finish(bp_dataset *ds, bp_status s, const char *path, bp_dataset **out,
                            bp_error *err)
{
    if (s == BP_OK)
        s = bp_dataset_find_one_hot(ds, path, err);
    if (s != BP_OK) {
        bp_dataset_free(ds);
        return s;
    }
    *out = ds;
    return BP_OK;
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
    return bp_dataset_finish(ds, s, path, out, err);
}
