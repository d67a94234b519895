/*
 * text.c — the text pieces every reader shares: a token quoted for a
 * one-line message, and the strict float parser behind the CSV, FANN and
 * model readers' numbers.
 */
#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_SHOWN 32 /* bytes of an offending token quoted in a message */

const char *bp_quote(char *out, size_t cap, const char *s, size_t n)
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
    return out;
}

size_t bp_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80; /* range of the second byte */
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (c < 0xC2 || c > 0xF4 || n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

const char *bp_name_problem(const char *s, size_t n, size_t max)
{
    if (n == 0)
        return "is empty";
    if (n > max)
        return "is too long";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return "has a control character";
        if (c >= 0x80) {
            size_t len = bp_utf8_len((const unsigned char *)s + i, n - i);
            if (!len)
                return "is not valid UTF-8";
            i += len - 1;
        }
    }
    return NULL;
}

/* The whole of [b, e) as a float. The byte at e must stop strtof (a comma,
 * blank or NUL). strtof rounds the decimal once, straight to float; strtod
 * then a cast could round twice. */
bp_num_kind bp_parse_float(const char *b, const char *e, float *out)
{
    if (b == e || isspace((unsigned char)*b)) /* strtof would skip \r \v \f */
        return BP_NUM_NOT_A_NUMBER;
    char *end = NULL;
    errno = 0;
    *out = strtof(b, &end);
    if (end != e)
        return BP_NUM_NOT_A_NUMBER;
    if (!isfinite(*out))
        /* overflow is a number float cannot hold, not a written NaN/Inf */
        return errno == ERANGE ? BP_NUM_RANGE : BP_NUM_NONFINITE;
    return BP_NUM_OK; /* underflow to a subnormal or zero is the nearest float */
}

bp_status bp_parse_number(const char *b, const char *e, float *out, const char *where,
                          bp_error *err)
{
    bp_num_kind k = bp_parse_float(b, e, out);
    if (k == BP_NUM_OK)
        return BP_OK;
    char q[TOKEN_SHOWN * 4 + 8];
    bp_quote(q, sizeof q, b, (size_t)(e - b));
    if (b == e)
        return bp_fail(err, BP_ERR_FORMAT, "%s: empty value", where);
    if (k == BP_NUM_NONFINITE)
        return bp_fail(err, BP_ERR_NONFINITE, "%s: not finite: \"%s\"", where, q);
    if (k == BP_NUM_RANGE)
        return bp_fail(err, BP_ERR_FORMAT, "%s: out of range for float: \"%s\"", where, q);
    return bp_fail(err, BP_ERR_FORMAT, "%s: not a number: \"%s\"", where, q);
}

/* The shortest "%.{p}g" that strtof reads back to the same bits (p = 9
 * always does for a finite float): write→read is bit-exact. */
void bp_shortest_float(char buf[32], float x)
{
    uint32_t want, got;
    memcpy(&want, &x, sizeof want);
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, 32, "%.*g", p, (double)x);
        float y = strtof(buf, NULL);
        memcpy(&got, &y, sizeof got);
        if (got == want)
            return;
    }
}

/* The same for a double with strtod (p = 17 always does). */
void bp_shortest_double(char buf[32], double v)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, 32, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* ------------------------------------------------------------------------ */
/* Lists of names (class names)                                              */
/* ------------------------------------------------------------------------ */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bp_status bp_names_copy(const char *fn, int k, const char *const *names, char ***out)
{
    if (k < 1 || k > BP_MAX_WIDTH || !names)
        return bp_fail(NULL, BP_ERR_ARG, "%s: %d names%s", fn, k, names ? "" : ", NULL list");
    size_t bytes = 0;
    for (int j = 0; j < k; j++) {
        if (!names[j])
            return bp_fail(NULL, BP_ERR_ARG, "%s: name %d is NULL", fn, j);
        size_t n = strlen(names[j]);
        const char *why = bp_name_problem(names[j], n, BP_CLASS_NAME_MAX);
        char q[160];
        if (why)
            return bp_fail(NULL, BP_ERR_ARG, "%s: name %d \"%s\" %s (at most %d bytes of "
                           "UTF-8, no control characters)", fn, j,
                           bp_quote(q, sizeof q, names[j], n), why, BP_CLASS_NAME_MAX);
        bytes += n + 1;
    }
    /* the pointers, then the bytes they point at: one allocation to free */
    char **v = malloc((size_t)k * sizeof *v + bytes);
    if (!v)
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory for %d names", fn, k);
    char *p = (char *)(v + k);
    for (int j = 0; j < k; j++) {
        size_t n = strlen(names[j]) + 1;
        v[j] = memcpy(p, names[j], n);
        p += n;
    }
    const char **sorted = malloc((size_t)k * sizeof *sorted);
    if (!sorted) {
        free(v);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory for %d names", fn, k);
    }
    memcpy(sorted, v, (size_t)k * sizeof *sorted);
    qsort(sorted, (size_t)k, sizeof *sorted, cmp_name);
    for (int j = 1; j < k; j++)
        if (strcmp(sorted[j - 1], sorted[j]) == 0) {
            char q[160];
            bp_fail(NULL, BP_ERR_ARG, "%s: name \"%s\" appears twice", fn,
                    bp_quote(q, sizeof q, sorted[j], strlen(sorted[j])));
            free(sorted);
            free(v);
            return BP_ERR_ARG;
        }
    free(sorted);
    *out = v;
    return BP_OK;
}
