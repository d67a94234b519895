/*
 * safetensors.c — the model file and the gradient file (docs/formats.md):
 * the strict reader of models. The writer of both is safetensors_write.c.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON (padded
 * with spaces to a multiple of 8, as the reference writer does), then the
 * data: layers.{l}.weight [N(l+1), N(l)] and layers.{l}.bias [N(l+1)], F32,
 * back to back in that order. __metadata__ carries what the numbers alone do
 * not: format, sizes, activations, loss, temperature, leaky_slope.
 *
 * The reader trusts nothing: every length is checked against the file's real
 * size before it is used, so no allocation is larger than the file, and each
 * problem becomes one message naming the file and what was expected.
 *
 * Deliberately not: a general safetensors library. Only F32 and only the
 * tensor names above are read, and only on little-endian hosts (floats are
 * copied byte for byte).
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies float32 bytes as they are: little-endian hosts only"
#endif
_Static_assert(sizeof(float) == 4 && FLT_RADIX == 2 && FLT_MANT_DIG == 24 && FLT_MAX_EXP == 128,
               "F32 tensors are read straight into float: IEEE-754 binary32 required");

#define HEADER_MAX 100000000ull /* the reference reader's limit on N */
/* cJSON spends ~64 bytes per value, so a 100 MB header of "[0,0,0,..." would
 * cost gigabytes; a real model needs a few hundred values. */
#define VALUES_MAX 100000
#define EXACT_INT_MAX 9007199254740992.0 /* 2^53: larger JSON numbers are not exact */
#define SHOW 80                          /* characters of a file's string put in a message */

/* ------------------------------------------------------------------------ */
/* Reading: the header's bytes                                               */
/* ------------------------------------------------------------------------ */

/* What the header says, checked, before any network exists. */
typedef struct {
    bool seen;
    uint64_t begin, end; /* bytes, relative to the data section */
    int l, kind;
} slot;

typedef struct {
    const char *path;
    bp_error *err;
    int L;
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    bp_loss loss;
    double T, slope;
    float *mean, *std;         /* [N(0)] standardisation, or NULL */
    char **classes;            /* [N(L)] class names, or NULL */
    char *columns;             /* the CSV encoding's JSON, checked, or NULL */
    slot t[2 * BP_MAX_LAYERS]; /* [2l + kind] */
    bool header_only;          /* bp_model_sizes: stop once the header is checked */
} model;

/* bp_fail with the file's name in front: every message of the reader. */
__attribute__((format(printf, 3, 4)))
static bp_status fail(const model *m, bp_status s, const char *fmt, ...)
{
    char msg[sizeof m->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bp_fail(m->err, s, "%s: %s", m->path, msg);
}

/* What cJSON lets through and we do not: bytes that are not UTF-8, control
 * characters (cJSON skips any byte <= 0x20 as white space), NUL and \u0000
 * (they would cut a name short: "layers.0.bias\u0000x" would read as
 * "layers.0.bias"); and more values than VALUES_MAX. */
static bp_status check_text(const model *m, const unsigned char *p, size_t n)
{
    bool in_str = false;
    size_t values = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t len = bp_utf8_len(p + i, n - i);
            if (!len)
                return fail(m, BP_ERR_FORMAT, "header is not valid UTF-8 (byte %zu)", i);
            i += len - 1;
        } else if (c < 0x20 && (in_str || !strchr(" \t\n\r", c) || !c)) {
            return fail(m, BP_ERR_FORMAT, "header has control character 0x%02x (byte %zu)", c,
                        i);
        } else if (in_str && c == '\\' && i + 1 < n) {
            if (n - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
                return fail(m, BP_ERR_FORMAT, "header has \\u0000 in a string (byte %zu)", i);
            i += p[i + 1] < 0x80; /* an escaped quote does not end the string */
        } else if (c == '"') {
            in_str = !in_str;
        } else if (!in_str && (c == ',' || c == ':' || c == '[') && ++values > VALUES_MAX) {
            return fail(m, BP_ERR_FORMAT, "header has more than %d JSON values", VALUES_MAX);
        }
    }
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading: __metadata__                                                     */
/* ------------------------------------------------------------------------ */

/* "784,256,10": 2 to BP_MAX_LAYERS+1 integers in 1..BP_MAX_WIDTH, digits
 * only, nothing else. */
static bp_status parse_sizes(model *m, const char *s)
{
    int n = 0;
    for (const char *p = s;; p++) {
        long v = 0;
        for (; *p >= '0' && *p <= '9' && v <= BP_MAX_WIDTH; p++)
            v = v * 10 + (*p - '0');
        if (v < 1 || v > BP_MAX_WIDTH || (*p != ',' && *p != '\0'))
            return fail(m, BP_ERR_FORMAT, "sizes \"%.*s\": item %d is not an integer in 1..%d",
                        SHOW, s, n + 1, BP_MAX_WIDTH);
        if (n == BP_MAX_LAYERS + 1)
            return fail(m, BP_ERR_FORMAT, "sizes \"%.*s\": more than %d weight layers", SHOW, s,
                        BP_MAX_LAYERS);
        m->sizes[n++] = (int)v;
        if (*p == '\0')
            break;
    }
    if (n < 2)
        return fail(m, BP_ERR_FORMAT, "sizes \"%.*s\": need an input and an output width", SHOW,
                    s);
    m->L = n - 1;
    return BP_OK;
}

/* "relu,softmax": exactly L known names. */
static bp_status parse_acts(model *m, const char *s)
{
    int count = 1;
    for (const char *q = s; *q; q++)
        count += *q == ',';
    if (count != m->L)
        return fail(m, BP_ERR_FORMAT, "activations \"%.*s\": %d given for %d layers after the "
                    "input", SHOW, s, count, m->L);
    const char *p = s;
    for (int l = 0; l < m->L; l++) {
        size_t len = strcspn(p, ",");
        char name[16] = "";
        if (len < sizeof name)
            memcpy(name, p, len);
        if (len >= sizeof name || bp_act_parse(name, &m->acts[l]) != BP_OK)
            return fail(m, BP_ERR_FORMAT, "activations \"%.*s\": unknown activation \"%.*s\"",
                        SHOW, s, (int)(len < SHOW ? len : SHOW), p);
        p += len + (p[len] == ',');
    }
    return BP_OK;
}

/* A plain decimal ("0.5", "-2e-3"): strtod alone would also take " 1",
 * "0x1p1", "inf" and "nan". */
static bool parse_decimal(const char *s, double *out)
{
    char *end;
    if (!*s || s[strspn(s, "0123456789+-.eE")] != '\0')
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

/* Exactly N(0) finite decimals separated by commas, into a malloc'ed array. */
static bp_status parse_floats(model *m, const char *key, const char *s, float **out)
{
    int n = m->sizes[0];
    /* n numbers need at least 2n − 1 characters: checked before the
     * allocation, which is then no larger than the header */
    if (strlen(s) < 2 * (size_t)n - 1)
        return fail(m, BP_ERR_FORMAT, "%s: expected %d comma-separated numbers", key, n);
    float *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return fail(m, BP_ERR_NOMEM, "out of memory");
    *out = v;
    for (int i = 0; i < n; i++) {
        char *end;
        if (i && *s++ != ',')
            return fail(m, BP_ERR_FORMAT, "%s: expected %d comma-separated numbers", key, n);
        errno = 0;
        v[i] = strtof(s, &end);
        if (end == s || errno == ERANGE || !isfinite(v[i]) || *s == ' ')
            return fail(m, BP_ERR_FORMAT, "%s: entry %d is not a finite number", key, i + 1);
        s = end;
    }
    if (*s)
        return fail(m, BP_ERR_FORMAT, "%s: more than %d numbers", key, n);
    return BP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bp_status parse_meta(model *m, const cJSON *meta)
{
    if (!cJSON_IsObject(meta))
        return fail(m, BP_ERR_FORMAT, "__metadata__ is not an object");
    size_t n = 0;
    for (const cJSON *c = meta->child; c; c = c->next, n++)
        if (!cJSON_IsString(c))
            return fail(m, BP_ERR_FORMAT, "__metadata__ \"%.*s\" is not a string", SHOW,
                        c->string);
    /* cJSON keeps duplicate keys and finds the first; sorting finds them all */
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys)
        return fail(m, BP_ERR_NOMEM, "out of memory");
    n = 0;
    for (const cJSON *c = meta->child; c; c = c->next)
        keys[n++] = c->string;
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            bp_status s = fail(m, BP_ERR_FORMAT, "__metadata__ key \"%.*s\" appears twice",
                               SHOW, keys[i]);
            free(keys);
            return s;
        }
    free(keys);

    static const char *const required[] = {"format", "sizes", "activations", "loss"};
    const char *v[4];
    for (int i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(meta, required[i]);
        if (!c)
            return fail(m, BP_ERR_FORMAT, "__metadata__ has no \"%s\"%s", required[i],
                        i ? "" : ": not a backprop model");
        v[i] = c->valuestring;
    }
    if (strcmp(v[0], "backprop") != 0)
        return fail(m, BP_ERR_FORMAT, "format \"%.*s\", expected \"backprop\"", SHOW, v[0]);
    bp_status s = parse_sizes(m, v[1]);
    if (s == BP_OK)
        s = parse_acts(m, v[2]);
    if (s != BP_OK)
        return s;
    if (bp_loss_parse(v[3], &m->loss) != BP_OK)
        return fail(m, BP_ERR_FORMAT, "unknown loss \"%.*s\"", SHOW, v[3]);

    const cJSON *c = cJSON_GetObjectItemCaseSensitive(meta, "temperature");
    m->T = 1.0;
    if (c && (!parse_decimal(c->valuestring, &m->T) || !(m->T > 0)))
        return fail(m, BP_ERR_FORMAT, "temperature \"%.*s\": expected a finite number > 0",
                    SHOW, c->valuestring);
    c = cJSON_GetObjectItemCaseSensitive(meta, "leaky_slope");
    m->slope = BP_LEAKY_SLOPE_DEFAULT;
    if (c && !parse_decimal(c->valuestring, &m->slope))
        return fail(m, BP_ERR_FORMAT, "leaky_slope \"%.*s\": expected a finite number", SHOW,
                    c->valuestring);
    c = cJSON_GetObjectItemCaseSensitive(meta, "classes");
    char why[400];
    if (c && (s = bp_classes_parse(c->valuestring, m->sizes[m->L], &m->classes, why,
                                   sizeof why)) != BP_OK)
        return fail(m, s, "classes \"%.*s\": %s", SHOW, c->valuestring, why);
    c = cJSON_GetObjectItemCaseSensitive(meta, "columns");
    if (c && (s = bp_enc_check(c->valuestring, m->sizes[0], &m->columns, why, sizeof why)))
        return fail(m, s, "columns: %s", why);
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(meta, "standardize_mean");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(meta, "standardize_std");
    if (!cm != !cs)
        return fail(m, BP_ERR_FORMAT, "standardize_mean and standardize_std come together");
    if (cm) {
        s = parse_floats(m, "standardize_mean", cm->valuestring, &m->mean);
        if (s == BP_OK)
            s = parse_floats(m, "standardize_std", cs->valuestring, &m->std);
        for (int i = 0; s == BP_OK && i < m->sizes[0]; i++)
            if (!(m->std[i] > 0))
                s = fail(m, BP_ERR_FORMAT, "standardize_std: entry %d is not positive", i + 1);
        return s;
    }
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading: the tensors                                                      */
/* ------------------------------------------------------------------------ */

/* "layers.{l}.weight" or "layers.{l}.bias", l in 0..L-1, spelled the one way
 * the writer spells it (no sign, no leading zero). */
static bool parse_tensor_name(const char *s, int L, int *l, int *kind)
{
    const char *p = s + 7;
    long v = 0;
    if (strncmp(s, "layers.", 7) != 0 || *p < '0' || *p > '9' ||
        (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((v = v * 10 + (*p - '0')) >= L)
            return false;
    *l = (int)v;
    *kind = strcmp(p, ".weight") == 0 ? T_WEIGHT : strcmp(p, ".bias") == 0 ? T_BIAS : -1;
    return *kind >= 0;
}

/* A JSON number that is a non-negative integer, exact in a double. */
static bool json_uint(const cJSON *x, uint64_t *out)
{
    double d = cJSON_IsNumber(x) ? x->valuedouble : -1;
    if (!(d >= 0 && d <= EXACT_INT_MAX) || d != floor(d))
        return false;
    *out = (uint64_t)d;
    return true;
}

/* {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} and nothing else,
 * with the shape the sizes call for. */
static bp_status parse_entry(const model *m, const cJSON *e, slot *t)
{
    static const char *const keys[3] = {"dtype", "shape", "data_offsets"};
    const char *name = e->string;
    const cJSON *f[3] = {NULL, NULL, NULL};
    if (!cJSON_IsObject(e))
        return fail(m, BP_ERR_FORMAT, "tensor %s: not an object", name);
    for (const cJSON *c = e->child; c; c = c->next) {
        int k = 0;
        while (k < 3 && strcmp(c->string, keys[k]) != 0)
            k++;
        if (k == 3 || f[k])
            return fail(m, BP_ERR_FORMAT, "tensor %s: %s key \"%.*s\"", name,
                        k == 3 ? "unexpected" : "duplicate", SHOW, c->string);
        f[k] = c;
    }
    for (int k = 0; k < 3; k++)
        if (!f[k])
            return fail(m, BP_ERR_FORMAT, "tensor %s: no \"%s\"", name, keys[k]);
    if (!cJSON_IsString(f[0]) || strcmp(f[0]->valuestring, "F32") != 0)
        return fail(m, BP_ERR_FORMAT, "tensor %s: dtype %.*s, expected F32", name, SHOW,
                    cJSON_IsString(f[0]) ? f[0]->valuestring : "(not a string)");

    /* the shape as written (up to 4 dimensions kept for the message); its
     * element count saturates instead of overflowing */
    uint64_t dims[4] = {0}, count = 1, d;
    int ndim = 0;
    if (!cJSON_IsArray(f[1]))
        return fail(m, BP_ERR_FORMAT, "tensor %s: shape is not a list", name);
    for (const cJSON *c = f[1]->child; c; c = c->next, ndim++) {
        if (!json_uint(c, &d))
            return fail(m, BP_ERR_FORMAT, "tensor %s: shape has an item that is not a "
                        "non-negative integer", name);
        if (ndim < 4)
            dims[ndim] = d;
        count = d && count > UINT64_MAX / d ? UINT64_MAX : count * d;
    }
    const cJSON *o = f[2];
    if (!cJSON_IsArray(o) || cJSON_GetArraySize(o) != 2 || !json_uint(o->child, &t->begin) ||
        !json_uint(o->child->next, &t->end) || t->begin > t->end)
        return fail(m, BP_ERR_FORMAT, "tensor %s: data_offsets is not [begin, end] with "
                    "0 <= begin <= end", name);
    if (count > UINT64_MAX / 4 || count * 4 != t->end - t->begin)
        return fail(m, BP_ERR_FORMAT, "tensor %s: shape has %llu elements, data_offsets hold "
                    "%llu bytes", name, (unsigned long long)count,
                    (unsigned long long)(t->end - t->begin));

    uint64_t out = (uint64_t)m->sizes[t->l + 1], in = (uint64_t)m->sizes[t->l];
    if (t->kind == T_WEIGHT ? ndim == 2 && dims[0] == out && dims[1] == in
                            : ndim == 1 && dims[0] == out)
        return BP_OK;
    char got[96] = "[", want[48];
    for (int i = 0; i < ndim && i < 4; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "",
                 (unsigned long long)dims[i]);
    strcat(got, ndim > 4 ? ", ...]" : "]");
    if (t->kind == T_WEIGHT)
        snprintf(want, sizeof want, "[%d, %d]", m->sizes[t->l + 1], m->sizes[t->l]);
    else
        snprintf(want, sizeof want, "[%d]", m->sizes[t->l + 1]);
    return fail(m, BP_ERR_SHAPE, "tensor %s: shape %s, expected %s from sizes", name, got, want);
}

static int cmp_begin(const void *a, const void *b)
{
    const slot *x = *(const slot *const *)a, *y = *(const slot *const *)b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* Every tensor present and, sorted by begin, tiling the data section
 * exactly: from 0, no gap, no overlap, nothing after the last. Fills
 * order[2L]. */
static bp_status check_layout(model *m, uint64_t data_len, slot **order)
{
    char a[32], b[32];
    uint64_t pos = 0;
    for (int i = 0; i < 2 * m->L; i++) {
        tensor_name(a, sizeof a, i / 2, i % 2);
        if (!m->t[i].seen)
            return fail(m, BP_ERR_FORMAT, "no tensor %s", a);
        order[i] = &m->t[i];
    }
    qsort(order, (size_t)(2 * m->L), sizeof *order, cmp_begin);
    for (int i = 0; i < 2 * m->L; i++) {
        const slot *t = order[i];
        tensor_name(a, sizeof a, t->l, t->kind);
        if (t->begin > pos)
            return fail(m, BP_ERR_FORMAT, "bytes %llu..%llu of the data belong to no tensor "
                        "(before %s)", (unsigned long long)pos, (unsigned long long)t->begin, a);
        if (t->begin < pos) {
            tensor_name(b, sizeof b, order[i - 1]->l, order[i - 1]->kind);
            return fail(m, BP_ERR_FORMAT, "tensors %s and %s overlap", b, a);
        }
        pos = t->end;
    }
    if (pos != data_len)
        return fail(m, BP_ERR_FORMAT, pos < data_len ? "%llu bytes of data, the tensors use "
                    "%llu: trailing bytes" : "%llu bytes of data, the tensors need %llu: "
                    "truncated", (unsigned long long)data_len, (unsigned long long)pos);
    return BP_OK;
}

/* The whole header: JSON, __metadata__, every entry, the layout. */
static bp_status parse_header(model *m, const char *hdr, size_t n, uint64_t data_len,
                              slot **order)
{
    if (hdr[0] != '{')
        return fail(m, BP_ERR_FORMAT, "header does not start with '{'");
    bp_status s = check_text(m, (const unsigned char *)hdr, n);
    if (s != BP_OK)
        return s;
    const char *end = NULL;
    errno = 0;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, n, &end, 0);
    /* cJSON returns NULL alike for bad JSON and for a failed allocation;
     * only the latter leaves malloc's ENOMEM */
    if (!root && errno == ENOMEM)
        return fail(m, BP_ERR_NOMEM, "out of memory for the header's JSON");
    /* end is just after the object; the writer pads with spaces */
    while (root && end < hdr + n && *end && strchr(" \t\n\r", *end))
        end++;
    if (!root || end != hdr + n) {
        cJSON_Delete(root);
        return fail(m, BP_ERR_FORMAT, "header is not one JSON object (byte %zu)",
                    end && end >= hdr && end <= hdr + n ? (size_t)(end - hdr) : 0);
    }

    const cJSON *meta = NULL;
    for (const cJSON *c = root->child; c && s == BP_OK; c = c->next)
        if (strcmp(c->string, "__metadata__") == 0) {
            if (meta)
                s = fail(m, BP_ERR_FORMAT, "__metadata__ appears twice");
            meta = c;
        }
    if (s == BP_OK && !meta)
        s = fail(m, BP_ERR_FORMAT, "no __metadata__: not a backprop model");
    if (s == BP_OK)
        s = parse_meta(m, meta);
    /* each name has one slot, so duplicates show without comparing names */
    for (const cJSON *c = root->child; c && s == BP_OK; c = c->next) {
        int l, kind;
        if (c == meta)
            continue;
        if (!parse_tensor_name(c->string, m->L, &l, &kind))
            s = fail(m, BP_ERR_FORMAT, "unexpected tensor \"%.*s\" in a model of %d layers",
                     SHOW, c->string, m->L);
        else if (m->t[2 * l + kind].seen)
            s = fail(m, BP_ERR_FORMAT, "tensor %s appears twice", c->string);
        else {
            m->t[2 * l + kind] = (slot){.seen = true, .l = l, .kind = kind};
            s = parse_entry(m, c, &m->t[2 * l + kind]);
        }
    }
    cJSON_Delete(root);
    return s == BP_OK ? check_layout(m, data_len, order) : s;
}

/* ------------------------------------------------------------------------ */
/* Reading: the file                                                         */
/* ------------------------------------------------------------------------ */

/* Reads the tensors in file order straight into the network's parameters,
 * so the data is never held twice; then every value must be finite. */
static bp_status read_data(const model *m, FILE *f, slot *const *order, bp_net *net)
{
    for (int i = 0; i < 2 * m->L; i++) {
        const slot *t = order[i];
        char name[32];
        tensor_name(name, sizeof name, t->l, t->kind);
        float *v = bp_net_params(net) + tensor_offset(net, t->l, t->kind);
        size_t n = tensor_count(net, t->l, t->kind);
        if (fread(v, sizeof(float), n, f) != n)
            return fail(m, BP_ERR_IO, "tensor %s: read failed: %s", name,
                        ferror(f) ? strerror(errno) : "the file shrank");
        for (size_t j = 0; j < n; j++)
            if (!isfinite(v[j]))
                return fail(m, BP_ERR_NONFINITE, "tensor %s: element %zu is %g", name, j,
                            (double)v[j]);
    }
    return BP_OK;
}

/* Everything between opening and closing f. */
static bp_status load(model *m, FILE *f, int max_batch, bp_net **out)
{
    struct stat st;
    unsigned char n8[8];
    if (fstat(fileno(f), &st) != 0)
        return fail(m, BP_ERR_IO, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(m, BP_ERR_IO, "not a regular file");
    uint64_t size = (uint64_t)st.st_size, N = 0;
    if (size < 8)
        return fail(m, BP_ERR_FORMAT, "%llu bytes, too short for a safetensors file",
                    (unsigned long long)size);
    if (fread(n8, 1, 8, f) != 8)
        return fail(m, BP_ERR_IO, "read failed");
    for (int i = 0; i < 8; i++)
        N |= (uint64_t)n8[i] << (8 * i);
    if (N == 0 || N > HEADER_MAX)
        return fail(m, BP_ERR_FORMAT, "header length %llu, expected 1 to %llu",
                    (unsigned long long)N, HEADER_MAX);
    if (N > size - 8)
        return fail(m, BP_ERR_FORMAT, "header length %llu, but %llu bytes follow: truncated",
                    (unsigned long long)N, (unsigned long long)(size - 8));

    /* N is at most the file's real size, so this allocation is too */
    char *hdr = malloc((size_t)N + 1);
    if (!hdr)
        return fail(m, BP_ERR_NOMEM, "out of memory for a header of %llu bytes",
                    (unsigned long long)N);
    slot *order[2 * BP_MAX_LAYERS];
    bp_status s = fread(hdr, 1, (size_t)N, f) == (size_t)N ? BP_OK
                                                           : fail(m, BP_ERR_IO, "read failed");
    hdr[N] = '\0';
    if (s == BP_OK)
        s = parse_header(m, hdr, (size_t)N, size - 8 - N, order);
    free(hdr);
    if (s != BP_OK || m->header_only)
        return s;

    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = m->L, cfg.sizes = m->sizes, cfg.acts = m->acts, cfg.loss = m->loss;
    cfg.temperature = m->T, cfg.leaky_slope = m->slope;
    bp_error e = {{0}};
    errno = 0;
    bp_net *net = bp_net_new(&cfg, max_batch, 0, &e); /* read_data fills it */
    /* what the header alone cannot show (output/loss pairing) is the file's
     * fault; a failed calloc, which leaves ENOMEM, is not */
    if (!net)
        return fail(m, errno == ENOMEM ? BP_ERR_NOMEM : BP_ERR_FORMAT, "%s",
                    e.msg[0] ? e.msg : "not a valid network");
    s = read_data(m, f, order, net);
    if (s == BP_OK && m->mean && bp_net_set_standardize(net, m->mean, m->std) != BP_OK)
        s = fail(m, BP_ERR_NOMEM, "out of memory");
    if (s == BP_OK && m->classes &&
        bp_net_set_classes(net, m->sizes[m->L], (const char *const *)m->classes) != BP_OK)
        s = fail(m, BP_ERR_NOMEM, "out of memory");
    if (s == BP_OK && m->columns && bp_net_set_columns(net, m->columns) != BP_OK)
        s = fail(m, BP_ERR_NOMEM, "out of memory");
    if (s != BP_OK) {
        bp_net_free(net);
        return s;
    }
    *out = net;
    return BP_OK;
}

static bp_status load_path(model *m, int max_batch, bp_net **out)
{
    FILE *f = fopen(m->path, "rb");
    bp_status s = f ? load(m, f, max_batch, out)
                    : bp_fail(m->err, BP_ERR_IO, "%s: cannot open: %s", m->path, strerror(errno));
    if (f)
        fclose(f);
    free(m->mean), free(m->std), free(m->classes), free(m->columns);
    return s;
}

int bp_model_sizes(const char *path, int *sizes, bp_error *err)
{
    model m = {.path = path, .err = err, .header_only = true};
    bp_status s = load_path(&m, 1, NULL);
    memcpy(sizes, m.sizes, sizeof m.sizes);
    return s == BP_OK ? m.L : 0;
}

bp_status bp_model_load(const char *path, int max_batch, bp_net **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return bp_fail(err, BP_ERR_ARG, "bp_model_load: %s is NULL", path ? "out" : "path");
    if (max_batch < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: max_batch %d, expected >= 1", path, max_batch);
    model m = {.path = path, .err = err};
    return load_path(&m, max_batch, out);
}
