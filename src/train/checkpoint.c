/*
 * checkpoint.c — one file holding all a training run needs to continue
 * bit-identically: the parameters, the input standardisation, the
 * optimiser's settings, step count and state, and the caller's blobs.
 *
 * Layout (native byte order; the file is for resuming, not for exchange):
 *   "BPCKPT02" (01: before l2, power_t and the schedule's counts)
 *   sections, each: name [16] NUL-padded, size u64, size bytes
 *     net          L, N(0..L), activations, loss (int32), T, slope (double)
 *     optim        the optimiser's settings, one double each (OPT_FIELDS)
 *     params       [P] float
 *     standardize  [2 N(0)] float (mean then std), or empty
 *     optim.state  steps, examples, plateaus (int64), then m, v as the kind
 *                  has them [P]
 *     the caller's blobs, in the caller's order
 *     end          CRC-32 (zlib) of every byte before this section
 *
 * A checkpoint of another network or other optimiser settings is refused
 * with the first difference named: resuming it would not continue the run.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const char MAGIC[8] = {'B', 'P', 'C', 'K', 'P', 'T', '0', '2'};
static const char MAGIC_01[8] = {'B', 'P', 'C', 'K', 'P', 'T', '0', '1'};
#define COUNTS 3 /* the optimiser's int64 counts: steps, examples, plateaus */
#define NAME_LEN 16
#define HEAD_LEN (NAME_LEN + 8) /* a section's name and size */
#define SMALL_MAX 4096          /* net and optim sections are at most this */

/* The optimiser's settings as saved: every field that shapes a step, as
 * doubles, in tools.h's order. A checkpoint made before the fields were
 * taken literally holds the values then in force (defaults in place of
 * zeros), so it compares with the same meaning. */
#define AS_NAME(f, ...) #f,
#define AS_VALUE(f, ...) (double)c->f,
#define RUN_NAME(f) #f,
#define RUN_VALUE(f) (double)c->f,
#define OPT_FIELDS (int)(sizeof opt_field_names / sizeof *opt_field_names)
static const char *const opt_field_names[] = {
    "optimiser", "schedule", BP_OPT_FIELDS(AS_NAME, RUN_NAME) "parameters"};

static size_t opt_settings(const bp_optimizer *opt, double v[OPT_FIELDS])
{
    const bp_opt_config *c = &opt->cfg;
    double f[] = {c->kind, c->schedule, BP_OPT_FIELDS(AS_VALUE, RUN_VALUE)(double)opt->n};
    _Static_assert(sizeof f / sizeof *f == OPT_FIELDS, "one value per name");
    memcpy(v, f, sizeof f);
    return sizeof f;
}

/* The net section into buf [SMALL_MAX]; returns its size. */
static size_t net_section(const bp_net *net, unsigned char *buf)
{
    int32_t i[2 * BP_MAX_LAYERS + 3];
    int L = net->L, k = 0;
    i[k++] = L;
    for (int l = 0; l <= L; l++)
        i[k++] = net->sizes[l];
    for (int l = 1; l <= L; l++)
        i[k++] = net->acts[l];
    i[k++] = net->loss;
    double d[2] = {net->temperature, net->slope};
    memcpy(buf, i, k * sizeof *i);
    memcpy(buf + k * sizeof *i, d, sizeof d);
    return k * sizeof *i + sizeof d;
}

/* "784,256,10 relu,softmax softmax_ce T=1 a=0.01" from a net section of n
 * bytes (checked: it may come from a file). */
static const char *describe_net(const unsigned char *buf, size_t n, char *out, size_t cap)
{
    int32_t L;
    if (n < sizeof L || (memcpy(&L, buf, sizeof L), L < 1 || L > BP_MAX_LAYERS) ||
        n != (2 * (size_t)L + 3) * sizeof L + 2 * sizeof(double)) {
        snprintf(out, cap, "(malformed)");
        return out;
    }
    int32_t v[2 * BP_MAX_LAYERS + 3];
    double d[2];
    memcpy(v, buf, (2 * (size_t)L + 3) * sizeof L);
    memcpy(d, buf + (2 * (size_t)L + 3) * sizeof L, sizeof d);
    size_t len = 0;
    for (int l = 0; l <= L && len < cap; l++)
        len += snprintf(out + len, cap - len, "%s%d", l ? "," : "", v[1 + l]);
    for (int l = 1; l <= L && len < cap; l++)
        len += snprintf(out + len, cap - len, "%s%s", l > 1 ? "," : " ",
                        bp_act_name((bp_act)v[1 + L + l]));
    if (len < cap)
        snprintf(out + len, cap - len, " %s T=%g a=%g", bp_loss_name((bp_loss)v[2 * L + 2]),
                 d[0], d[1]);
    return out;
}

static size_t state_floats(const bp_optimizer *opt)
{
    return (opt->m ? opt->n : 0) + (opt->v ? opt->n : 0);
}

/* ------------------------------------------------------------------------ */
/* Save                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct {
    bp_atomic a;
    uLong crc;
} writer;

/* zlib's crc32 takes uInt lengths: large buffers go in pieces */
static uLong crc_update(uLong crc, const unsigned char *b, size_t n)
{
    while (n > 0) {
        uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
        crc = crc32(crc, b, k);
        b += k, n -= k;
    }
    return crc;
}

static void put(writer *w, const void *p, size_t n)
{
    fwrite(p, 1, n, w->a.f);
    w->crc = crc_update(w->crc, p, n);
}

static void put_head(writer *w, const char *name, uint64_t size)
{
    char head[NAME_LEN] = {0};
    strncpy(head, name, NAME_LEN - 1);
    put(w, head, NAME_LEN);
    put(w, &size, sizeof size);
}

static void put_section(writer *w, const char *name, const void *p, size_t n)
{
    put_head(w, name, n);
    if (n)
        put(w, p, n);
}

/* NULL pointers, blobs that cannot be, an optimiser of another network:
 * BP_ERR_ARG naming fn or the path. */
static bp_status check_args(const char *fn, const char *path, const bp_net *net,
                            const bp_optimizer *opt, const bp_blob *blobs, int n_blobs,
                            bp_error *err)
{
    if (!path || !net || !opt)
        return bp_arg_null(err, fn, !path ? "path" : !net ? "net" : "opt");
    if (n_blobs < 0 || (n_blobs > 0 && !blobs))
        return bp_fail(err, BP_ERR_ARG, "%s: %d blobs at %p", fn, n_blobs, (const void *)blobs);
    if (n_blobs > BP_MAX_BLOBS) /* saved and loaded alike */
        return bp_fail(err, BP_ERR_ARG, "%s: %d blobs, at most %d", fn, n_blobs, BP_MAX_BLOBS);
    for (int i = 0; i < n_blobs; i++)
        if (!blobs[i].name || (!blobs[i].data && blobs[i].size))
            return bp_fail(err, BP_ERR_ARG, "%s: blob %d: NULL %s", fn, i,
                           blobs[i].name ? "data" : "name");
    if (opt->n != net->n_params)
        return bp_fail(err, BP_ERR_ARG, "%s: the optimiser has %zu parameters, the network %zu",
                       path, opt->n, net->n_params);
    return BP_OK;
}

bp_status bp_checkpoint_save(const char *path, const bp_net *net, const bp_optimizer *opt,
                             const bp_blob *blobs, int n_blobs, bp_error *err)
{
    bp_status s0 = check_args(__func__, path, net, opt, blobs, n_blobs, err);
    if (s0 != BP_OK)
        return s0;
    for (int i = 0; i < n_blobs; i++)
        if (strlen(blobs[i].name) >= NAME_LEN)
            return bp_fail(err, BP_ERR_ARG, "%s: blob name '%s' is longer than %d bytes", path,
                           blobs[i].name, NAME_LEN - 1);
    /* a device's steps may hold a newer state than the host's: logically
     * const, the host buffers are its cache */
    if ((s0 = optim_home((bp_optimizer *)opt)) != BP_OK)
        return bp_fail(err, s0, "%s: the optimiser's state could not be read back from the "
                       "device", path);
    writer w = {.crc = crc32(0, Z_NULL, 0)};
    bp_status s = bp_atomic_open(&w.a, path, err);
    if (s != BP_OK)
        return s;
    unsigned char small[SMALL_MAX];
    double settings[OPT_FIELDS];
    int64_t t[COUNTS] = {opt->t, opt->examples, opt->plateaus};
    size_t P = net->n_params, n0 = (size_t)net->sizes[0], nm = net->mean ? n0 : 0;

    put(&w, MAGIC, sizeof MAGIC);
    put_section(&w, "net", small, net_section(net, small));
    put_section(&w, "optim", settings, opt_settings(opt, settings));
    put_section(&w, "params", bp_net_params_const(net), P * sizeof(float)); /* CUDA: current */
    put_head(&w, "standardize", 2 * nm * sizeof(float));
    if (nm) {
        put(&w, net->mean, nm * sizeof(float));
        put(&w, net->std, nm * sizeof(float));
    }
    put_head(&w, "optim.state", sizeof t + state_floats(opt) * sizeof(float));
    put(&w, t, sizeof t);
    if (opt->m)
        put(&w, opt->m, P * sizeof(float));
    if (opt->v)
        put(&w, opt->v, P * sizeof(float));
    for (int i = 0; i < n_blobs; i++)
        put_section(&w, blobs[i].name, blobs[i].data, blobs[i].size);
    uint32_t crc = (uint32_t)w.crc;
    put_section(&w, "end", &crc, sizeof crc);
    return bp_atomic_commit(&w.a, err);
}

/* ------------------------------------------------------------------------ */
/* Load                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *path;
    const unsigned char *p, *end; /* what is left of the file's bytes */
    bp_error *err;
} reader;

/* The next section, which must be called name and hold size bytes (any
 * size if size is SIZE_MAX); its bytes in *data, its size in *got. */
static bp_status take(reader *r, const char *name, size_t size, const unsigned char **data,
                      size_t *got)
{
    char head[NAME_LEN + 1] = {0};
    uint64_t n;
    if ((size_t)(r->end - r->p) < HEAD_LEN)
        return bp_fail(r->err, BP_ERR_FORMAT, "%s: truncated before section '%s'", r->path, name);
    memcpy(head, r->p, NAME_LEN);
    memcpy(&n, r->p + NAME_LEN, sizeof n);
    r->p += HEAD_LEN;
    if (strncmp(head, name, NAME_LEN) != 0 || memchr(head, 0, NAME_LEN) == NULL) {
        char q[40];
        return bp_fail(r->err, BP_ERR_FORMAT, "%s: section \"%s\" where '%s' belongs", r->path,
                       bp_quote(q, sizeof q, head, strnlen(head, NAME_LEN)), name);
    }
    if (n > (uint64_t)(r->end - r->p))
        return bp_fail(r->err, BP_ERR_FORMAT, "%s: section '%s' claims %llu bytes, %zu are left",
                       r->path, name, (unsigned long long)n, (size_t)(r->end - r->p));
    if (size != SIZE_MAX && n != size)
        return bp_fail(r->err, BP_ERR_SHAPE,
                       "%s: section '%s' holds %llu bytes where this run needs %zu (a checkpoint "
                       "of a run with other options?)",
                       r->path, name, (unsigned long long)n, size);
    *data = r->p;
    *got = (size_t)n;
    r->p += n;
    return BP_OK;
}

/* Reads the file, at most limit bytes of it (this run's checkpoint size):
 * *too_big says there was more, which is an error once the sections that
 * name the difference have been compared. */
static bp_status slurp(const char *path, size_t limit, unsigned char **buf, size_t *len,
                       int *too_big, bp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return bp_fail(err, BP_ERR_IO, "%s: not a regular file", path);
    }
    *too_big = (uint64_t)st.st_size > limit;
    *len = *too_big ? limit : (size_t)st.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        fclose(f);
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %zu bytes", path, *len);
    }
    size_t got = fread(*buf, 1, *len, f);
    fclose(f);
    if (got != *len) {
        free(*buf);
        return bp_fail(err, BP_ERR_IO, "%s: read failed", path);
    }
    return BP_OK;
}

static bp_status check_settings(reader *r, const bp_optimizer *opt, const unsigned char *data)
{
    double want[OPT_FIELDS], have[OPT_FIELDS];
    opt_settings(opt, want);
    memcpy(have, data, sizeof have);
    for (int i = 0; i < OPT_FIELDS; i++)
        if (memcmp(&want[i], &have[i], sizeof want[i]) != 0) {
            /* the file's number may be anything: named only when it is a kind */
            int kind = have[0] >= 0 && have[0] < BP_OPT_COUNT ? (int)have[0] : BP_OPT_COUNT;
            if (i == 0)
                return bp_fail(r->err, BP_ERR_SHAPE, "%s: a checkpoint of optimiser %s; this run "
                               "uses %s", r->path, bp_opt_name((bp_opt_kind)kind),
                               bp_opt_name(opt->cfg.kind));
            return bp_fail(r->err, BP_ERR_SHAPE, "%s: a checkpoint with %s = %.17g; this run has "
                           "%.17g", r->path, opt_field_names[i], have[i], want[i]);
        }
    return BP_OK;
}

bp_status bp_checkpoint_load(const char *path, bp_net *net, bp_optimizer *opt,
                             const bp_blob *blobs, int n_blobs, bp_error *err)
{
    bp_status s0 = check_args(__func__, path, net, opt, blobs, n_blobs, err);
    if (s0 != BP_OK)
        return s0;
    size_t P = net->n_params, nm = net->mean ? (size_t)net->sizes[0] : 0;
    size_t n_state = state_floats(opt);
    unsigned char small[SMALL_MAX];
    size_t net_len = net_section(net, small);
    /* the exact size of this run's checkpoint: nothing larger is read */
    size_t limit = sizeof MAGIC + (6 + (size_t)n_blobs) * HEAD_LEN + net_len +
                   OPT_FIELDS * sizeof(double) + (P + 2 * nm + n_state) * sizeof(float) +
                   COUNTS * sizeof(int64_t) + sizeof(uint32_t);
    for (int i = 0; i < n_blobs; i++)
        limit += blobs[i].size;

    unsigned char *buf = NULL;
    size_t len = 0;
    int too_big = 0;
    bp_status s = slurp(path, limit, &buf, &len, &too_big, err);
    if (s != BP_OK)
        return s;
    reader r = {path, buf, buf + len, err};
    const unsigned char *d, *params, *stdz, *state, *crc_at;
    size_t n;
    if (len >= sizeof MAGIC && memcmp(buf, MAGIC_01, sizeof MAGIC) == 0) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: a checkpoint of backprop before 0.2 (BPCKPT01): "
                    "resume it with the version that wrote it", path);
        goto done;
    }
    if (len < sizeof MAGIC || memcmp(buf, MAGIC, sizeof MAGIC) != 0) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: not a backprop checkpoint (no BPCKPT02 magic)", path);
        goto done;
    }
    r.p += sizeof MAGIC;
    if ((s = take(&r, "net", SIZE_MAX, &d, &n)) != BP_OK)
        goto done;
    if (n != net_len || memcmp(d, small, n) != 0) {
        char have[256], want[256];
        s = bp_fail(err, BP_ERR_SHAPE, "%s: a checkpoint of network %s; this run's is %s", path,
                    describe_net(d, n, have, sizeof have),
                    describe_net(small, net_len, want, sizeof want));
        goto done;
    }
    if ((s = take(&r, "optim", OPT_FIELDS * sizeof(double), &d, &n)) != BP_OK ||
        (s = check_settings(&r, opt, d)) != BP_OK)
        goto done;
    if (too_big) {
        s = bp_fail(err, BP_ERR_SHAPE, "%s: larger than this run's checkpoint (%zu bytes): one of "
                    "a run with other options?", path, limit);
        goto done;
    }
    if ((s = take(&r, "params", P * sizeof(float), &params, &n)) != BP_OK ||
        (s = take(&r, "standardize", 2 * nm * sizeof(float), &stdz, &n)) != BP_OK ||
        (s = take(&r, "optim.state", COUNTS * sizeof(int64_t) + n_state * sizeof(float), &state,
                  &n)) != BP_OK)
        goto done;
    const unsigned char *blob_at[BP_MAX_BLOBS];
    for (int i = 0; i < n_blobs; i++)
        if ((s = take(&r, blobs[i].name, blobs[i].size, &blob_at[i], &n)) != BP_OK)
            goto done;
    crc_at = r.p;
    if ((s = take(&r, "end", sizeof(uint32_t), &d, &n)) != BP_OK)
        goto done;
    uint32_t want_crc = (uint32_t)crc_update(crc32(0, Z_NULL, 0), buf, (size_t)(crc_at - buf));
    uint32_t have_crc;
    memcpy(&have_crc, d, sizeof have_crc);
    if (have_crc != want_crc || r.p != r.end) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: %s", path,
                    r.p != r.end ? "trailing bytes after the end section"
                                 : "CRC mismatch: the file is damaged");
        goto done;
    }
    /* every check passed: only now is anything changed */
    memcpy(bp_net_params(net), params, P * sizeof(float)); /* CUDA: uploaded before next use */
    if (nm) {
        memcpy(net->mean, stdz, nm * sizeof(float));
        memcpy(net->std, stdz + nm * sizeof(float), nm * sizeof(float));
    }
    int64_t t[COUNTS];
    memcpy(t, state, sizeof t);
    opt->t = (long)t[0], opt->examples = (long)t[1], opt->plateaus = (long)t[2];
    opt->id = optim_new_id(); /* new state: a GPU's copy of the old is stale */
    if (opt->held_by)
        opt->held_by->opt_held = NULL, opt->held_by = NULL;
    if (opt->m)
        memcpy(opt->m, state + sizeof t, P * sizeof(float));
    if (opt->v)
        memcpy(opt->v, state + sizeof t + P * sizeof(float), P * sizeof(float));
    for (int i = 0; i < n_blobs; i++)
        memcpy(blobs[i].data, blob_at[i], blobs[i].size);
done:
    free(buf);
    return s;
}
