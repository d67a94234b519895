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
    int has_labels;     /* 1: labels is set; 0: targets is set               */
    uint8_t *x_u8;      /* [n, n_in] IDX pixels, x = byte/255; or NULL       */
    float *x_f32;       /* [n, n_in] features as read; or NULL               */
    int32_t *labels;    /* [n] classes 0..n_out-1                            */
    float *targets;     /* [n, n_out]                                        */
};

/* ------------------------------------------------------------------------ */
/* The data set                                                              */
/* ------------------------------------------------------------------------ */

/* For idx.c, which declares it until internal.h carries the prototype: the
 * loader there owns the file format, this file owns the struct. */
bp_dataset *bp_dataset_adopt_u8(int n, int n_in, int n_out, uint8_t *x, int32_t *labels)
{
    bp_dataset *ds = malloc(sizeof *ds);
    if (!ds)
        return NULL;
    *ds = (bp_dataset){n, n_in, n_out, 1, x, NULL, labels, NULL};
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

int bp_dataset_n(const bp_dataset *ds) { return ds ? ds->n : 0; }
int bp_dataset_n_in(const bp_dataset *ds) { return ds ? ds->n_in : 0; }
int bp_dataset_n_out(const bp_dataset *ds) { return ds ? ds->n_out : 0; }
int bp_dataset_has_labels(const bp_dataset *ds) { return ds ? ds->has_labels : 0; }

/* Features j0..j0+m-1 of example r as the network sees them. Division, not a
 * multiply by a rounded 1/255, so a pixel is the float nearest byte/255 —
 * bit for bit what torchvision's ToTensor gives. */
static void example_floats(const bp_dataset *ds, int32_t r, int j0, int m, float *dst)
{
    assert(r >= 0 && r < ds->n);
    size_t at = (size_t)r * (size_t)ds->n_in + (size_t)j0;
    if (ds->x_u8)
        for (int j = 0; j < m; j++)
            dst[j] = (float)ds->x_u8[at + (size_t)j] / 255.0f;
    else
        memcpy(dst, ds->x_f32 + at, (size_t)m * sizeof *dst);
}

void bp_dataset_moments(const bp_dataset *ds, const int32_t *idx, int n, float *mean, float *std)
{
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
    size_t n_in = (size_t)ds->n_in, n_out = (size_t)ds->n_out;
    for (int i = 0; i < M; i++) {
        float *xi = x + (size_t)i * n_in;
        example_floats(ds, idx[i], 0, ds->n_in, xi);
        if (mean)
            for (size_t j = 0; j < n_in; j++)
                xi[j] = (xi[j] - mean[j]) / std[j];
        if (ds->has_labels && labels)
            labels[i] = ds->labels[idx[i]];
        else if (!ds->has_labels && t)
            memcpy(t + (size_t)i * n_out, ds->targets + (size_t)idx[i] * n_out,
                   n_out * sizeof *t);
    }
}

/* ------------------------------------------------------------------------ */
/* What the text loaders share: rows that grow, numbers that are strict       */
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

/* Gives back what doubling over-reserved; keeping the larger block on
 * failure is harmless. */
static void trim_examples(bp_dataset *ds)
{
    size_t n = ds->n ? (size_t)ds->n : 1;
    float *x = realloc(ds->x_f32, n * (size_t)ds->n_in * sizeof *x);
    if (x)
        ds->x_f32 = x;
    if (ds->has_labels) {
        int32_t *l = realloc(ds->labels, n * sizeof *l);
        if (l)
            ds->labels = l;
    } else {
        float *t = realloc(ds->targets, n * (size_t)ds->n_out * sizeof *t);
        if (t)
            ds->targets = t;
    }
}

#define TOKEN_SHOWN 32 /* bytes of an offending token quoted in a message */

/* Quotes [s, s+n) for a one-line message: at most TOKEN_SHOWN bytes, bytes
 * that could break the line or the terminal escaped as \xHH. */
static const char *quote(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0, shown = n < TOKEN_SHOWN ? n : TOKEN_SHOWN;
    for (size_t i = 0; i < shown && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    if (shown < n && o + 4 < cap)
        o += (size_t)snprintf(out + o, cap - o, "...");
    out[o] = '\0';
    return out;
}

typedef enum { NUM_OK, NUM_NOT_A_NUMBER, NUM_RANGE, NUM_NONFINITE } num_kind;

/* The whole of [b, e) as a float. The byte at e must stop strtof (a comma,
 * blank or NUL). strtof rounds the decimal once, straight to float; strtod
 * then a cast could round twice. */
static num_kind parse_float(const char *b, const char *e, float *out)
{
    if (b == e || isspace((unsigned char)*b)) /* strtof would skip \r \v \f */
        return NUM_NOT_A_NUMBER;
    char *end = NULL;
    errno = 0;
    *out = strtof(b, &end);
    if (end != e)
        return NUM_NOT_A_NUMBER;
    if (!isfinite(*out))
        /* overflow is a number float cannot hold, not a written NaN/Inf */
        return errno == ERANGE ? NUM_RANGE : NUM_NONFINITE;
    return NUM_OK; /* underflow to a subnormal or zero is the nearest float */
}

/* The message for a number that parse_float refused; `where` is
 * "path:line:col" or the like. */
static bp_status number_fail(bp_error *err, num_kind k, const char *where, const char *b,
                             const char *e)
{
    char q[TOKEN_SHOWN * 4 + 8];
    quote(q, sizeof q, b, (size_t)(e - b));
    if (b == e)
        return bp_fail(err, BP_ERR_FORMAT, "%s: empty value", where);
    if (k == NUM_NONFINITE)
        return bp_fail(err, BP_ERR_NONFINITE, "%s: not finite: \"%s\"", where, q);
    if (k == NUM_RANGE)
        return bp_fail(err, BP_ERR_FORMAT, "%s: out of range for float: \"%s\"", where, q);
    return bp_fail(err, BP_ERR_FORMAT, "%s: not a number: \"%s\"", where, q);
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */
/* ------------------------------------------------------------------------ */

/* csv.c's bp_csv_read takes a path and knows no header, so it cannot read
 * the rows after one; this is its line discipline again (same messages,
 * blanks, CRLF, blank lines only at the end), plus the header, the label
 * column and the split into features and targets. */

static int is_blank(char c) { return c == ' ' || c == '\t'; }

typedef struct {
    const char *b, *e;
} span;

/* The next comma-separated field of [*p, end) without its blanks; *p moves
 * past the comma, or becomes NULL after the last field. */
static span next_field(const char **p, const char *end)
{
    const char *b = *p;
    const char *comma = memchr(b, ',', (size_t)(end - b));
    const char *e = comma ? comma : end;
    *p = comma ? comma + 1 : NULL;
    while (b < e && is_blank(*b))
        b++;
    while (e > b && is_blank(e[-1]))
        e--;
    return (span){b, e};
}

static size_t count_fields(const char *line, const char *end)
{
    size_t n = 1;
    for (const char *p = line; (p = memchr(p, ',', (size_t)(end - p))) != NULL; p++)
        n++;
    return n;
}

/* A header has a field that is text: not empty and not a number. NaN, Inf
 * and out-of-range numbers count as numbers, so a first data row holding
 * one is refused as such rather than silently skipped as a header. */
static int is_header(const char *line, const char *end)
{
    for (const char *p = line; p;) {
        span f = next_field(&p, end);
        float v;
        if (f.b != f.e && parse_float(f.b, f.e, &v) == NUM_NOT_A_NUMBER)
            return 1;
    }
    return 0;
}

/* A class label: a finite number with an integer value, so "3" and "3.0"
 * both read as 3; it becomes an output width, hence the upper bound. */
static bp_status parse_label(const char *where, span f, int32_t *out, bp_error *err)
{
    char q[TOKEN_SHOWN * 4 + 8];
    float unused;
    num_kind k = parse_float(f.b, f.e, &unused);
    if (k != NUM_OK)
        return number_fail(err, k, where, f.b, f.e);
    double v = strtod(f.b, NULL); /* exact for every integer up to 2^53 */
    if (v != floor(v) || v < 0 || v >= BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_FORMAT, "%s: class label must be an integer in 0..%d: \"%s\"",
                       where, BP_MAX_WIDTH - 1, quote(q, sizeof q, f.b, (size_t)(f.e - f.b)));
    *out = (int32_t)v;
    return BP_OK;
}

/* Checks the first data row's width (against the header, if any) and sets
 * the data set's shape from it. */
static bp_status csv_shape(bp_dataset *ds, const char *path, long long lineno, size_t cols,
                           size_t header_cols, int target_cols, bp_error *err)
{
    if (header_cols && header_cols != cols)
        return bp_fail(err, BP_ERR_FORMAT, "%s:1: the header has %zu fields, the data %zu",
                       path, header_cols, cols);
    size_t n_y = target_cols ? (size_t)target_cols : 1;
    if (cols <= n_y)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s:%lld: %zu columns: need at least 1 feature and %zu %s", path,
                       lineno, cols, n_y, target_cols ? "target columns" : "label column");
    if (cols - n_y > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld: %zu features, more than %d", path,
                       lineno, cols - n_y, BP_MAX_WIDTH);
    ds->n_in = (int)(cols - n_y);
    ds->n_out = target_cols; /* the labels' n_out is known at the end */
    return BP_OK;
}

/* One data row into example ds->n. */
static bp_status csv_row(bp_dataset *ds, const char *path, long long lineno, const char *line,
                         const char *end, bp_error *err)
{
    char where[600];
    size_t i = (size_t)ds->n;
    const char *p = line;
    for (int c = 0; p; c++) {
        span f = next_field(&p, end);
        snprintf(where, sizeof where, "%s:%lld:%d", path, lineno, c + 1);
        if (c < ds->n_in) {
            num_kind k = parse_float(f.b, f.e, &ds->x_f32[i * (size_t)ds->n_in + (size_t)c]);
            if (k != NUM_OK)
                return number_fail(err, k, where, f.b, f.e);
        } else if (ds->has_labels) {
            bp_status s = parse_label(where, f, &ds->labels[i], err);
            if (s != BP_OK)
                return s;
            if (ds->labels[i] >= ds->n_out)
                ds->n_out = ds->labels[i] + 1;
        } else {
            float *t = &ds->targets[i * (size_t)ds->n_out + (size_t)(c - ds->n_in)];
            num_kind k = parse_float(f.b, f.e, t);
            if (k != NUM_OK)
                return number_fail(err, k, where, f.b, f.e);
        }
    }
    return BP_OK;
}

static bp_status csv_lines(FILE *f, const char *path, int target_cols, bp_dataset *ds,
                           bp_error *err)
{
    bp_status s = BP_OK;
    char *line = NULL;
    size_t line_cap = 0, cols = 0, header_cols = 0, cap = 0;
    long long lineno = 0, first_blank = 0;
    ssize_t got;

    while ((errno = 0, got = getline(&line, &line_cap, f)) >= 0) {
        char *b = line, *e = line + got;
        lineno++;
        if (memchr(b, '\0', (size_t)got)) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: NUL byte", path, lineno);
            break;
        }
        if (e > b && e[-1] == '\n')
            e--;
        if (e > b && e[-1] == '\r')
            e--;
        *e = '\0';
        /* a spreadsheet's UTF-8 byte order mark would make row 1 look like text */
        if (lineno == 1 && e - b >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
            b += 3;
        const char *k = b;
        while (k < e && is_blank(*k))
            k++;
        if (k == e) {
            if (!first_blank)
                first_blank = lineno;
            continue;
        }
        if (first_blank) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: blank line before the end of the data",
                        path, first_blank);
            break;
        }
        size_t fields = count_fields(b, e);
        if (lineno == 1 && is_header(b, e)) {
            header_cols = fields;
            continue;
        }
        if (ds->n == 0)
            s = csv_shape(ds, path, lineno, fields, header_cols, target_cols, err);
        else if (fields != cols)
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: expected %zu columns, got %zu", path,
                        lineno, cols, fields);
        if (s != BP_OK)
            break;
        cols = fields;
        if (ds->n == INT_MAX) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: more than %d examples", path, lineno,
                        INT_MAX);
            break;
        }
        if (!reserve_examples(ds, &cap, (size_t)ds->n + 1, INT_MAX)) {
            s = bp_fail(err, BP_ERR_NOMEM, "%s:%lld: out of memory", path, lineno);
            break;
        }
        if ((s = csv_row(ds, path, lineno, b, e, err)) != BP_OK)
            break;
        ds->n++;
    }
    /* getline's -1 is the end of the file or a failure (EISDIR, ENOMEM, a
     * read error); only the first leaves feof set */
    if (s == BP_OK && (ferror(f) || !feof(f)))
        s = bp_fail(err, errno == ENOMEM ? BP_ERR_NOMEM : BP_ERR_IO, "%s: read failed: %s",
                    path, strerror(errno ? errno : EIO));
    free(line);
    if (s == BP_OK && ds->n == 0)
        s = bp_fail(err, BP_ERR_FORMAT, "%s: no data: %s", path,
                    header_cols ? "a header and nothing after it" : "the file is empty or blank");
    /* a file whose labels are all 0 stays legal (n_out 1): a test file may
     * hold examples of one class only */
    return s;
}

bp_status bp_dataset_load_csv(const char *path, int target_cols, bp_dataset **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return bp_fail(err, BP_ERR_ARG, "bp_dataset_load_csv: NULL argument");
    if (target_cols < 0 || target_cols > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_ARG, "%s: target_cols %d: expected 0 (a label) to %d", path,
                       target_cols, BP_MAX_WIDTH);
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: %s", path, strerror(errno));
    bp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        fclose(f);
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    }
    ds->has_labels = target_cols == 0;
    bp_status s = csv_lines(f, path, target_cols, ds, err);
    fclose(f);
    if (s != BP_OK) {
        bp_dataset_free(ds);
        return s;
    }
    trim_examples(ds);
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
    char q[TOKEN_SHOWN * 4 + 8];
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
                       path, t->tok_line, what, max, quote(q, sizeof q, t->tok, t->len));
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
    for (int i = 0; i < n; i++) {
        if (!reserve_examples(ds, &cap, (size_t)i + 1, (size_t)n))
            return bp_fail(err, BP_ERR_NOMEM, "%s: example %d: out of memory", path, i + 1);
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
            float *v = is_in ? &ds->x_f32[(size_t)i * (size_t)ds->n_in + (size_t)k]
                             : &ds->targets[(size_t)i * (size_t)ds->n_out + (size_t)k];
            num_kind nk = parse_float(t.tok, t.tok + t.len, v);
            if (nk != NUM_OK) {
                snprintf(where, sizeof where, "%s:%lld: example %d, %s %d", path, t.tok_line,
                         i + 1, is_in ? "input" : "output", k + 1);
                return number_fail(err, nk, where, t.tok, t.tok + t.len);
            }
        }
        ds->n = i + 1;
    }
    if (next_token(&t)) {
        char q[TOKEN_SHOWN * 4 + 8];
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld: data after the %d examples promised: \"%s\"",
                       path, t.tok_line, n, quote(q, sizeof q, t.tok, t.len));
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
        return bp_fail(err, BP_ERR_ARG, "bp_dataset_load_fann: NULL argument");
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
    if (s != BP_OK) {
        bp_dataset_free(ds);
        return s;
    }
    *out = ds;
    return BP_OK;
}
