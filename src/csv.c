/*
 * csv.c — the numeric CSV that carries inputs, targets and outputs.
 *
 * A strict reader: no header, comma-separated numbers, the same number of
 * columns on every row, every value a finite float; spaces and tabs around a
 * value, CRLF line ends and blank lines at the very end are tolerated. Any
 * other deviation is an error naming the line, the column and the token —
 * a bad file is never guessed at. A writer that prints the shortest decimal
 * that reads back as the same float, so write→read is bit-exact.
 *
 * Deliberately not a general CSV library: no quoting, no header, no text
 * fields, no locale, no missing values.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

#define TOKEN_SHOWN 32 /* bytes of an offending token quoted in a message */

/* Quotes a token for a one-line message: at most TOKEN_SHOWN bytes, bytes
 * that could break the line or the terminal escaped as \xHH. */
static void quote_token(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0, shown = n < TOKEN_SHOWN ? n : TOKEN_SHOWN;
    for (size_t i = 0; i < shown && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    if (shown < n && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* The values read so far: grown by doubling, capped at INT_MAX values so
 * that every index and the caller's rows*cols fit an int. */
typedef struct {
    float *v;
    size_t n, cap;
} values;

static int values_reserve(values *vs, size_t more)
{
    if (vs->n + more <= vs->cap)
        return 1;
    size_t cap = vs->cap ? vs->cap : 1024;
    while (cap < vs->n + more)
        cap = cap > (size_t)INT_MAX / 2 ? (size_t)INT_MAX : cap * 2;
    if (cap > SIZE_MAX / sizeof(float))
        return 0;
    float *v = realloc(vs->v, cap * sizeof(float));
    if (!v)
        return 0;
    vs->v = v;
    vs->cap = cap;
    return 1;
}

/* Parses the fields of one line (NUL-terminated at len, end of line
 * stripped) into vs. lineno and the 1-based field index go into messages. */
static bp_status parse_line(const char *path, long long lineno, char *line, size_t len,
                            values *vs, bp_error *err)
{
    char tok[TOKEN_SHOWN * 4 + 8];
    const char *end_of_line = line + len;
    const char *p = line;
    for (long long col = 1;; col++) {
        const char *comma = memchr(p, ',', (size_t)(end_of_line - p));
        const char *field_end = comma ? comma : end_of_line;
        while (p < field_end && is_blank(*p))
            p++;
        const char *tok_end = field_end;
        while (tok_end > p && is_blank(tok_end[-1]))
            tok_end--;
        if (p == tok_end)
            return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: empty value", path, lineno, col);

        /* strtof rounds the decimal once, straight to float (strtod then a
         * cast could round twice); it would also skip \r, \v, \f itself. */
        char *num_end = NULL;
        errno = 0;
        float f = isspace((unsigned char)*p) ? 0.0f : strtof(p, &num_end);
        int range = errno == ERANGE;
        if (num_end != tok_end) {
            quote_token(tok, sizeof tok, p, (size_t)(tok_end - p));
            return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: not a number: \"%s\"", path,
                           lineno, col, tok);
        }
        if (!isfinite(f)) {
            quote_token(tok, sizeof tok, p, (size_t)(tok_end - p));
            /* overflow is a number float cannot hold, not a written NaN/Inf */
            if (range && isinf(f))
                return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: out of range for float: \"%s\"",
                               path, lineno, col, tok);
            return bp_fail(err, BP_ERR_NONFINITE, "%s:%lld:%lld: not finite: \"%s\"", path,
                           lineno, col, tok);
        }
        /* underflow to a subnormal or zero is the nearest float: accepted */
        vs->v[vs->n++] = f;
        if (!comma)
            return BP_OK;
        p = comma + 1;
    }
}

static size_t count_fields(const char *line, size_t len)
{
    size_t n = 1;
    for (const char *p = line; (p = memchr(p, ',', len - (size_t)(p - line))) != NULL; p++)
        n++;
    return n;
}

bp_status bp_csv_read(const char *path, float **data, int *rows, int *cols, bp_error *err)
{
    if (data)
        *data = NULL;
    if (rows)
        *rows = 0;
    if (cols)
        *cols = 0;
    if (!path || !data || !rows || !cols)
        return bp_fail(err, BP_ERR_ARG, "bp_csv_read: NULL argument");

    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: %s", path, strerror(errno));

    bp_status s = BP_OK;
    values vs = {NULL, 0, 0};
    char *line = NULL;
    size_t line_cap = 0;
    long long lineno = 0, n_rows = 0, first_blank = 0;
    size_t n_cols = 0;
    ssize_t got;

    /* getline grows its buffer, so a line of any length is read whole */
    while ((errno = 0, got = getline(&line, &line_cap, f)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        const char *nul = memchr(line, '\0', len);
        if (nul) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%zu: NUL byte", path, lineno,
                        count_fields(line, (size_t)(nul - line)));
            goto done;
        }
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        line[len] = '\0';

        size_t k = 0;
        while (k < len && is_blank(line[k]))
            k++;
        if (k == len) {
            /* blank: fine only if nothing but blank lines follows */
            if (!first_blank)
                first_blank = lineno;
            continue;
        }
        if (first_blank) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: blank line before the end of the data",
                        path, first_blank);
            goto done;
        }

        size_t fields = count_fields(line, len);
        if (n_rows == 0) {
            if (fields > (size_t)INT_MAX) {
                s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: %zu columns, more than %d", path,
                            lineno, fields, INT_MAX);
                goto done;
            }
            n_cols = fields;
        } else if (fields != n_cols) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: expected %zu columns, got %zu", path, lineno,
                        n_cols, fields);
            goto done;
        }
        if (vs.n + n_cols > (size_t)INT_MAX) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: more than %d values", path, lineno,
                        INT_MAX);
            goto done;
        }
        if (!values_reserve(&vs, n_cols)) {
            s = bp_fail(err, BP_ERR_NOMEM, "%s:%lld: out of memory", path, lineno);
            goto done;
        }
        s = parse_line(path, lineno, line, len, &vs, err);
        if (s != BP_OK)
            goto done;
        n_rows++;
    }
    /* getline's -1 is either the end of the file or a failure (EISDIR,
     * ENOMEM, a read error); only the first leaves feof set */
    if (ferror(f) || !feof(f)) {
        s = errno == ENOMEM ? BP_ERR_NOMEM : BP_ERR_IO;
        s = bp_fail(err, s, "%s: read failed: %s", path, strerror(errno ? errno : EIO));
        goto done;
    }
    if (n_rows == 0)
        s = bp_fail(err, BP_ERR_FORMAT, "%s: no data: the file is empty or blank", path);

done:
    free(line);
    fclose(f);
    if (s != BP_OK) {
        free(vs.v);
        return s;
    }
    *data = vs.v;
    *rows = (int)n_rows;
    *cols = (int)n_cols;
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* The shortest %.{p}g that strtof reads back to the same bits; p = 9 always
 * does for a float, so the loop ends there. */
static void shortest_decimal(char *buf, size_t cap, float x)
{
    uint32_t want, got;
    memcpy(&want, &x, sizeof want);
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, cap, "%.*g", p, (double)x);
        float y = strtof(buf, NULL);
        memcpy(&got, &y, sizeof got);
        if (got == want)
            return;
    }
}

/* Returns 0 on a write error; the stream's error flag says so as well. */
static int write_rows(FILE *f, const float *data, int rows, int cols)
{
    char buf[32];
    for (size_t i = 0; i < (size_t)rows; i++) {
        for (size_t j = 0; j < (size_t)cols; j++) {
            shortest_decimal(buf, sizeof buf, data[i * (size_t)cols + j]);
            if ((j && fputc(',', f) == EOF) || fputs(buf, f) == EOF)
                return 0;
        }
        if (fputc('\n', f) == EOF)
            return 0;
    }
    return 1;
}

bp_status bp_csv_write(const char *path, const float *data, int rows, int cols, bp_error *err)
{
    if (!path)
        return bp_fail(err, BP_ERR_ARG, "bp_csv_write: NULL path");
    if (rows < 0 || (rows > 0 && (cols <= 0 || !data)))
        return bp_fail(err, BP_ERR_ARG, "%s: bad shape [%d, %d] or NULL data", path, rows, cols);

    /* checked before anything is written: a NaN never reaches a file */
    for (size_t i = 0; i < (size_t)rows; i++)
        for (size_t j = 0; j < (size_t)cols; j++)
            if (!isfinite(data[i * (size_t)cols + j]))
                return bp_fail(err, BP_ERR_NONFINITE,
                               "%s: row %zu, column %zu: %s value, nothing written", path,
                               i + 1, j + 1, isnan(data[i * (size_t)cols + j]) ? "NaN" : "Inf");

    if (strcmp(path, "-") == 0) {
        errno = 0;
        int ok = write_rows(stdout, data, rows, cols);
        ok = fflush(stdout) == 0 && ok && !ferror(stdout);
        if (!ok)
            return bp_fail(err, BP_ERR_IO, "stdout: write failed: %s",
                           strerror(errno ? errno : EIO));
        return BP_OK;
    }

    bp_atomic a;
    bp_status s = bp_atomic_open(&a, path, err);
    if (s != BP_OK)
        return s;
    errno = 0;
    if (!write_rows(a.f, data, rows, cols)) {
        int e = errno;
        bp_atomic_abort(&a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return bp_atomic_commit(&a, err);
}
