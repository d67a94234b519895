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
