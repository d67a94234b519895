/*
 * csv.c — the numeric CSV that carries inputs, targets and outputs.
 *
 * A strict reader: numbers separated by ',' ';' or a tab (detected from the
 * first line, ';' first), fields quoted as RFC 4180 has it (the separator
 * and doubled quotes inside quotes; a quoted field does not span lines),
 * the same number of columns on every row, every value a finite float;
 * blanks around a value, CRLF line ends and blank lines at the very end are
 * tolerated. Any other deviation is an error naming the line, the column
 * and the token, a decimal comma by name — a bad file is never guessed at.
 * The writer is csv_write.c.
 *
 * The same reader serves the data sets (src/io/tabular.c), where a header
 * line is allowed and so are words (a column of numbers or of words in
 * every row: csv_words.c keeps them) and missing values (empty, NA, NaN,
 * ?); its number parser serves the FANN reader.
 *
 * Kept ours rather than a general CSV library (libcsv): the numeric path
 * must refuse what libcsv would accept silently (ragged rows, a stray
 * quote), name line and column in every refusal, and stay allocation-free
 * per field; the new quoted paths are covered by fuzz/fuzz_csv.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

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

/* The field separator of a file and the blanks tolerated around a value:
 * a tab is a blank unless it separates. */
typedef struct {
    char sep;
    bp_csv_text *text; /* words and missing values allowed: what they were; or NULL */
    int max_words;     /* distinct words a column may hold */
    long long *first;  /* [cols] the line of each column's first value */
    bp_csv_dict *dict; /* [cols] each column's words */
} dialect;

static int is_blank(const dialect *d, char c) { return c == ' ' || (c == '\t' && d->sep != '\t'); }

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

typedef struct {
    const char *b, *e; /* the value: inside the quotes for a quoted field */
    int quoted;
} span;

enum { FIELD_OK, FIELD_UNCLOSED, FIELD_AFTER_QUOTE };

/* The next field of [*p, end) as RFC 4180 has it, without its blanks: a
 * quoted field may hold the separator and doubled quotes. *p moves past the
 * separator, or becomes NULL after the last field. A field does not span
 * lines: a quote still open at the end of the line is an error. */
static int next_field(const dialect *d, const char **p, const char *end, span *f)
{
    const char *b = *p;
    while (b < end && is_blank(d, *b))
        b++;
    if (b < end && *b == '"') {
        const char *q = b + 1;
        for (;; q++) {
            q = memchr(q, '"', (size_t)(end - q));
            if (!q)
                return FIELD_UNCLOSED;
            if (q + 1 < end && q[1] == '"') {
                q++; /* a doubled quote: the loop steps past both */
                continue;
            }
            break;
        }
        *f = (span){b + 1, q, 1};
        const char *r = q + 1;
        while (r < end && is_blank(d, *r))
            r++;
        if (r < end && *r != d->sep)
            return FIELD_AFTER_QUOTE;
        *p = r < end ? r + 1 : NULL;
        return FIELD_OK;
    }
    const char *sep = memchr(b, d->sep, (size_t)(end - b));
    const char *e = sep ? sep : end;
    *p = sep ? sep + 1 : NULL;
    while (e > b && is_blank(d, e[-1]))
        e--;
    *f = (span){b, e, 0};
    return FIELD_OK;
}

/* The number of fields of a line, or 0 with the message in err when a
 * quote is malformed. */
static size_t count_fields(const dialect *d, const char *path, long long lineno,
                           const char *line, const char *end, bp_error *err)
{
    size_t n = 0;
    for (const char *p = line; p;) {
        span f;
        n++;
        int r = next_field(d, &p, end, &f);
        if (r != FIELD_OK) {
            bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%zu: %s", path, lineno, n,
                    r == FIELD_UNCLOSED ? "a quote never closed on this line"
                                        : "text after the closing quote");
            return 0;
        }
    }
    return n;
}

/* The separator, from the first line: a ';' outside quotes wins (a
 * semicolon file may hold decimal commas, which are then refused by name),
 * then ',', then a tab between values; a single column is comma-separated. */
static char detect_sep(const char *b, const char *e)
{
    int comma = 0, tab = 0, in_quotes = 0;
    for (const char *p = b; p < e; p++) {
        if (*p == '"')
            in_quotes = !in_quotes;
        else if (in_quotes)
            continue;
        else if (*p == ';')
            return ';';
        else if (*p == ',')
            comma = 1;
        else if (*p == '\t' && p > b && p + 1 < e && !isspace((unsigned char)p[-1]) &&
                 !isspace((unsigned char)p[1]))
            tab = 1;
    }
    return comma || !tab ? ',' : '\t';
}

/* A header has a field that is text: not empty and not a number. NaN, Inf
 * and out-of-range numbers count as numbers, so a first data row holding
 * one is refused as such rather than silently skipped as a header. */
static int is_decimal_comma(const dialect *d, const char *b, const char *e);
static int is_missing(const span *f);

/* What a field is, for the header's detection: 1 a word, 0 a number or
 * missing. */
static int is_word(const dialect *d, const span *f)
{
    float v;
    return f->b != f->e && bp_parse_float(f->b, f->e, &v) == BP_NUM_NOT_A_NUMBER &&
           !is_decimal_comma(d, f->b, f->e) && !(d->text && is_missing(f));
}

/* Numbers only: a line with a word is a header. With words allowed, a
 * line of words only; a line 1 read as data turns out to be the header
 * where the next line has a number under one of its words (header_after). */
static int is_header(const dialect *d, const char *line, const char *end)
{
    int words = 0, fields = 0;
    for (const char *p = line; p; fields++) {
        span f = {NULL, NULL, 0};
        if (next_field(d, &p, end, &f) != FIELD_OK)
            return 0;
        words += is_word(d, &f);
    }
    return d->text ? words == fields : words > 0;
}

/* Whether line 2 has a number under a column whose first value, on line
 * 1, was a word ("1,2,label" over "1,2,0"). */
static int header_after(const dialect *d, const char *line, const char *end)
{
    float v;
    long long col = 0;
    for (const char *p = line; p; col++) {
        span f = {NULL, NULL, 0};
        if (next_field(d, &p, end, &f) != FIELD_OK)
            return 0;
        if (d->text->kind[col] == BP_COL_WORDS && d->first[col] == 1 && f.b != f.e &&
            !is_missing(&f) && bp_parse_float(f.b, f.e, &v) != BP_NUM_NOT_A_NUMBER)
            return 1;
    }
    return 0;
}

/* "5,1" in a file that is not comma-separated: digits, one comma, digits. */
static int is_decimal_comma(const dialect *d, const char *b, const char *e)
{
    if (d->sep == ',')
        return 0;
    if (b < e && (*b == '-' || *b == '+'))
        b++;
    const char *comma = memchr(b, ',', (size_t)(e - b));
    if (!comma || comma == b || comma + 1 == e)
        return 0;
    for (const char *p = b; p < e; p++)
        if (p != comma && !isdigit((unsigned char)*p))
            return 0;
    return 1;
}

/* An empty field, NA, NaN or ? (as the UCI files write it). */
static int is_missing(const span *f)
{
    size_t n = (size_t)(f->e - f->b);
    return n == 0 || (n == 1 && f->b[0] == '?') || (n == 2 && memcmp(f->b, "NA", 2) == 0) ||
           (n == 3 && (memcmp(f->b, "NaN", 3) == 0 || memcmp(f->b, "nan", 3) == 0));
}

/* A value where words are allowed: missing is NaN; otherwise the column is
 * all numbers or all words, as its first value is; a word becomes its
 * index among the column's words (a float, exact below 2^24), checked as a
 * name (BP_CLASS_NAME_MAX). col is 0-based. */
static bp_status take_value(dialect *d, const char *path, long long lineno, size_t col, span f,
                            float *out, bp_error *err)
{
    char where[600], q[160], word[BP_CLASS_NAME_MAX + 1];
    int *kind = &d->text->kind[col];
    long long c1 = (long long)col + 1;
    if (is_missing(&f)) {
        *out = NAN;
        d->text->missing++;
        return BP_OK;
    }
    int w = is_word(d, &f);
    if (*kind == BP_COL_NONE) {
        *kind = w ? BP_COL_WORDS : BP_COL_NUMBERS;
        d->first[col] = lineno;
    }
    size_t n = (size_t)(f.e - f.b);
    if (w != (*kind == BP_COL_WORDS))
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: \"%s\" is a %s, but the column's "
                       "first value (line %lld) is a %s: a column holds numbers or words, not "
                       "both", path, lineno, c1, bp_quote(q, sizeof q, f.b, n),
                       w ? "word" : "number", d->first[col], w ? "number" : "word");
    if (!w) {
        if (is_decimal_comma(d, f.b, f.e))
            return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: decimal comma in \"%.*s\": not "
                           "supported, write numbers with a point", path, lineno, c1,
                           (int)(n < 40 ? n : 40), f.b);
        snprintf(where, sizeof where, "%s:%lld:%lld", path, lineno, c1);
        return bp_parse_number(f.b, f.e, out, where, err);
    }
    /* the word as written: a quoted field's doubled quotes undone */
    size_t len = 0;
    for (const char *p = f.b; p < f.e && len <= BP_CLASS_NAME_MAX; p++) {
        word[len++] = *p;
        p += f.quoted && *p == '"';
    }
    const char *why = bp_name_problem(word, len, BP_CLASS_NAME_MAX);
    if (why)
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: \"%s\" %s (a word is at most %d bytes "
                       "of UTF-8, no control characters)", path, lineno, c1,
                       bp_quote(q, sizeof q, f.b, n), why, BP_CLASS_NAME_MAX);
    bp_csv_words *cw = &d->text->words[col];
    int before = cw->n, i = bp_csv_dict_find(&d->dict[col], word, len, lineno);
    if (i < 0)
        return bp_fail(err, BP_ERR_NOMEM, "%s:%lld: out of memory for the words", path, lineno);
    if (cw->n > before && cw->n > d->max_words)
        return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: more than %d distinct words in column "
                       "%lld (raise the limit with --max-categories)", path, lineno, c1,
                       d->max_words, c1);
    *out = (float)i;
    return BP_OK;
}

/* Parses the fields of one line into vs; lineno and the 1-based field index
 * go into messages. */
static bp_status parse_line(dialect *d, const char *path, long long lineno, const char *line,
                            const char *end, values *vs, bp_error *err)
{
    char where[600];
    const char *p = line;
    for (long long col = 1; p; col++) {
        span f = {NULL, NULL, 0};
        if (next_field(d, &p, end, &f) != FIELD_OK) /* count_fields has passed the line */
            return bp_fail(err, BP_ERR_FORMAT, "%s:%lld:%lld: bad quoting", path, lineno, col);
        if (f.quoted) /* blanks inside the quotes are the value's own */
            while (f.b < f.e && is_blank(d, *f.b))
                f.b++;
        if (f.quoted)
            while (f.e > f.b && is_blank(d, f.e[-1]))
                f.e--;
        if (d->text) {
            bp_status s = take_value(d, path, lineno, (size_t)col - 1, f, &vs->v[vs->n], err);
            if (s != BP_OK)
                return s;
            vs->n++;
            continue;
        }
        if (bp_parse_float(f.b, f.e, &vs->v[vs->n]) != BP_NUM_OK) {
            if (is_decimal_comma(d, f.b, f.e))
                return bp_fail(err, BP_ERR_FORMAT,
                               "%s:%lld:%lld: decimal comma in \"%.*s\": not supported, write "
                               "numbers with a point",
                               path, lineno, col, (int)(f.e - f.b < 40 ? f.e - f.b : 40), f.b);
            snprintf(where, sizeof where, "%s:%lld:%lld", path, lineno, col);
            return bp_parse_number(f.b, f.e, &vs->v[vs->n], where, err);
        }
        vs->n++;
    }
    return BP_OK;
}

/* The per-column state, once the first row gives the number of columns. */
static bp_status text_open(dialect *d, const char *path, size_t cols, bp_error *err)
{
    bp_csv_text *t = d->text;
    t->cols = (int)cols;
    t->kind = calloc(cols, sizeof *t->kind);
    t->words = calloc(cols, sizeof *t->words);
    d->first = calloc(cols, sizeof *d->first);
    d->dict = calloc(cols, sizeof *d->dict);
    if (!t->kind || !t->words || !d->first || !d->dict)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %zu columns", path, cols);
    for (size_t c = 0; c < cols; c++)
        d->dict[c].out = &t->words[c];
    return BP_OK;
}

/* The header's fields, unquoted, as the columns' names. */
static bp_status header_names(const dialect *d, const char *path, const char *line,
                              bp_csv_text *t, bp_error *err)
{
    if (!(t->names = calloc((size_t)t->cols, sizeof *t->names)))
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    const char *end = line + strlen(line), *p = line;
    for (int c = 0; c < t->cols && p; c++) {
        span f = {NULL, NULL, 0};
        next_field(d, &p, end, &f);
        char *name = malloc((size_t)(f.e - f.b) + 1), *o = name;
        if (!name)
            return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
        for (const char *q = f.b; q < f.e; q++) {
            *o++ = *q;
            q += f.quoted && *q == '"';
        }
        *o = '\0';
        t->names[c] = name;
    }
    return BP_OK;
}

static bp_status read_table(const char *path, int header_mode, char sep, bp_csv_text *text,
                            int max_words, float **data, int *rows, int *cols, int *header,
                            bp_error *err)
{
    int allow_header = header_mode != BP_CSV_HEADER_NO;
    dialect d = {sep, text, max_words, NULL, NULL};
    char *line1 = NULL; /* words allowed: line 1, for the header's names */
    *data = NULL;
    *rows = *cols = *header = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: %s", path, strerror(errno));

    bp_status s = BP_OK;
    values vs = {NULL, 0, 0};
    char *line = NULL;
    size_t line_cap = 0, n_cols = 0, header_cols = 0;
    long long lineno = 0, n_rows = 0, first_blank = 0;
    ssize_t got;

    /* getline grows its buffer, so a line of any length is read whole */
    while ((errno = 0, got = getline(&line, &line_cap, f)) >= 0) {
        char *b = line, *e = line + got;
        lineno++;
        const char *nul = memchr(b, '\0', (size_t)got);
        if (nul) {
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: NUL byte", path, lineno);
            goto done;
        }
        if (e > b && e[-1] == '\n')
            e--;
        if (e > b && e[-1] == '\r')
            e--;
        *e = '\0';
        /* a spreadsheet's UTF-8 byte order mark would make row 1 look like text */
        if (allow_header && lineno == 1 && e - b >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
            b += 3;

        const char *k = b;
        while (k < e && (*k == ' ' || *k == '\t'))
            k++;
        if (k == e) {
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

        if (!d.sep)
            d.sep = detect_sep(b, e);
        size_t fields = count_fields(&d, path, lineno, b, e, err);
        if (!fields) {
            s = BP_ERR_FORMAT;
            goto done;
        }
        if (allow_header && lineno == 1 &&
            (header_mode == BP_CSV_HEADER_YES || is_header(&d, b, e))) {
            header_cols = fields;
            *header = 1;
            if (text && !(line1 = strdup(b))) {
                s = bp_fail(err, BP_ERR_NOMEM, "%s:1: out of memory", path);
                goto done;
            }
            continue;
        }
        /* words allowed: "1,2,label" over "1,2,0" was the header after all */
        if (text && n_rows == 1 && header_mode == BP_CSV_HEADER_DETECT && lineno == 2 &&
            fields == n_cols && header_after(&d, b, e)) {
            vs.n = 0, n_rows = 0, header_cols = n_cols, *header = 1;
            for (size_t c = 0; c < n_cols; c++) {
                bp_csv_words_free(&text->words[c]);
                if (d.dict[c].slot)
                    memset(d.dict[c].slot, 0, d.dict[c].n_slots * sizeof *d.dict[c].slot);
                text->kind[c] = BP_COL_NONE;
            }
            text->missing = 0;
        }
        if (text && n_rows == 0 && !text->kind && (s = text_open(&d, path, fields, err)))
            goto done;
        if (text && lineno == 1 && !(line1 = strdup(b))) {
            s = bp_fail(err, BP_ERR_NOMEM, "%s:1: out of memory", path);
            goto done;
        }
        if (n_rows == 0) {
            if (header_cols && header_cols != fields) {
                s = bp_fail(err, BP_ERR_FORMAT, "%s:1: the header has %zu fields, the data %zu",
                            path, header_cols, fields);
                goto done;
            }
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
        s = parse_line(&d, path, lineno, b, e, &vs, err);
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
        s = bp_fail(err, BP_ERR_FORMAT, "%s: no data: %s", path,
                    header_cols ? "a header and nothing after it" : "the file is empty or blank");

    if (s == BP_OK && text && *header)
        s = header_names(&d, path, line1, text, err);

done:
    free(line);
    free(line1);
    fclose(f);
    for (size_t c = 0; d.dict && c < n_cols; c++)
        free(d.dict[c].slot);
    free(d.dict);
    free(d.first);
    if (s != BP_OK) {
        free(vs.v);
        if (text)
            bp_csv_text_free(text);
        *header = 0;
        return s;
    }
    *data = vs.v;
    *rows = (int)n_rows;
    *cols = (int)n_cols;
    return BP_OK;
}

bp_status bp_csv_read_table(const char *path, int header_mode, char sep, float **data,
                            int *rows, int *cols, int *header, bp_error *err)
{
    return read_table(path, header_mode, sep, NULL, 0, data, rows, cols, header, err);
}

bp_status bp_csv_read_text(const char *path, int header_mode, char sep, int max_words,
                           float **data, int *rows, int *cols, int *header, bp_csv_text *text,
                           bp_error *err)
{
    *text = (bp_csv_text){0};
    return read_table(path, header_mode, sep, text, max_words, data, rows, cols, header, err);
}

void bp_csv_text_free(bp_csv_text *t)
{
    for (int c = 0; c < t->cols; c++) {
        if (t->words) /* NULL when text_open failed */
            bp_csv_words_free(&t->words[c]);
        free(t->names ? t->names[c] : NULL);
    }
    free(t->words);
    free(t->names);
    free(t->kind);
    *t = (bp_csv_text){0};
}

bp_status bp_csv_read(const char *path, float **data, int *rows, int *cols, bp_error *err)
{
    int header;
    if (data)
        *data = NULL;
    if (rows)
        *rows = 0;
    if (cols)
        *cols = 0;
    if (!path || !data || !rows || !cols)
        return bp_arg_null(err, __func__, !path ? "path" : !data ? "data" : !rows ? "rows" : "cols");
    return bp_csv_read_table(path, BP_CSV_HEADER_NO, 0, data, rows, cols, &header, err);
}
