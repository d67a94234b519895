/*
 * idx.c — the IDX loader: the MNIST family's image and label files, plain or
 * gzip'ed, read strictly through zlib into a data set of byte pixels.
 *
 * An IDX file is a big-endian header — magic 0x000008DD (0x08: unsigned
 * bytes, DD: dimensions), then one uint32 size per dimension — followed by
 * exactly the product of the sizes in bytes. Everything the header claims is
 * checked against what the file holds: the magic, sane sizes, the images'
 * count against the labels', and the byte count both ways (truncated or
 * trailing data). The header never sizes an allocation by itself: the buffer
 * grows as bytes arrive, so a header promising 2^55 bytes in a 16-byte file
 * costs one small buffer and a clean "truncated" error.
 *
 * Deliberately not: other IDX element types (int8, int16, float — none of the
 * MNIST family uses them), memory mapping, or a loader for images alone. Not
 * by choice: bytes after a complete gzip member that do not start another
 * member are skipped by zlib's gzread unseen; the IDX data is checked whole.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_UBYTE 0x08
#define READ_CHUNK ((size_t)1 << 20) /* first buffer, and the most one gzread asks */

typedef struct {
    gzFile gz;
    char *path;         /* the name opened: plain or with .gz; malloc'ed */
    int ndims;
    uint32_t dim[3];
    uint64_t body;      /* bytes after the header, as the header promises */
} idx_file;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* zlib's gzerror prefixes its text with the path it was opened with. */
static bp_status gz_fail(idx_file *f, bp_error *err)
{
    int zerr;
    const char *m = gzerror(f->gz, &zerr);
    size_t n = strlen(f->path);
    if (strncmp(m, f->path, n) == 0 && m[n] == ':')
        m += n + (m[n + 1] == ' ' ? 2 : 1);
    if (zerr == Z_ERRNO)
        return bp_fail(err, BP_ERR_IO, "%s: read failed: %s", f->path, strerror(errno));
    if (zerr == Z_MEM_ERROR)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", f->path);
    return bp_fail(err, BP_ERR_FORMAT, "%s: corrupt gzip data: %s", f->path, m);
}

/* Reads into buf [len] until it is full or the data ends; *got says how far.
 * Only a zlib or system error is an error here — a short count is for the
 * caller to judge. *cut is set when a gzip stream ends before its trailer. */
static bp_status fill(idx_file *f, uint8_t *buf, size_t len, size_t *got, int *cut,
                      bp_error *err)
{
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < READ_CHUNK ? len - *got : READ_CHUNK;
        int r = gzread(f->gz, buf + *got, (unsigned)want);
        if (r < 0)
            return gz_fail(f, err);
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    int zerr;
    gzerror(f->gz, &zerr);
    *cut = zerr == Z_BUF_ERROR; /* zlib's "unexpected end of file" */
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return gz_fail(f, err);
    return BP_OK;
}

/* Opens DIR/PREFIX-NAME, else DIR/PREFIX-NAME.gz (an unpacked copy wins),
 * and reads and checks the header. */
static bp_status idx_open(idx_file *f, const char *dir, const char *prefix, const char *name,
                          int ndims, bp_error *err)
{
    size_t n = strlen(dir) + strlen(prefix) + strlen(name) + 8;
    const char *sep = *dir && dir[strlen(dir) - 1] == '/' ? "" : "/";
    f->ndims = ndims;
    if (!(f->path = malloc(n)))
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", dir);
    snprintf(f->path, n, "%s%s%s-%s", dir, sep, prefix, name);
    errno = 0;
    f->gz = gzopen(f->path, "rb");
    if (!f->gz && errno == ENOENT) {
        strcat(f->path, ".gz");
        errno = 0;
        f->gz = gzopen(f->path, "rb");
        if (!f->gz && errno == ENOENT) {
            f->path[strlen(f->path) - 3] = '\0';
            return bp_fail(err, BP_ERR_IO, "%s: no such file, nor %s.gz", f->path, f->path);
        }
    }
    if (!f->gz) /* gzopen leaves errno 0 when its own allocation failed */
        return errno ? bp_fail(err, BP_ERR_IO, "%s: %s", f->path, strerror(errno))
                     : bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", f->path);
    gzbuffer(f->gz, 1 << 17);

    uint8_t h[16];
    size_t hsize = 4 + 4 * (size_t)ndims, got;
    int cut;
    bp_status s = fill(f, h, hsize, &got, &cut, err);
    if (s != BP_OK)
        return s;
    uint32_t want = IDX_UBYTE << 8 | (uint32_t)ndims;
    if (got >= 4 && be32(h) != want)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: bad magic 0x%08x, expected 0x%08x (IDX, unsigned bytes, %d %s)",
                       f->path, be32(h), want, ndims, ndims == 1 ? "dimension" : "dimensions");
    if (got < hsize)
        return bp_fail(err, BP_ERR_FORMAT, "%s: truncated: the header needs %zu bytes, %zu present",
                       f->path, hsize, got);

    f->body = 1;
    for (int d = 0; d < ndims; d++) {
        f->dim[d] = be32(h + 4 + 4 * d);
        f->body *= f->dim[d]; /* at most 2^31 · 2^24 once the checks below pass */
    }
    if (f->dim[0] < 1 || f->dim[0] > INT32_MAX)
        return bp_fail(err, BP_ERR_FORMAT, "%s: %u examples: expected 1..%d", f->path,
                       (unsigned)f->dim[0], INT32_MAX);
    if (ndims == 3) {
        uint64_t pixels = (uint64_t)f->dim[1] * f->dim[2];
        if (pixels < 1 || pixels > BP_MAX_WIDTH)
            return bp_fail(err, BP_ERR_FORMAT, "%s: images of %u x %u pixels: expected 1..%d pixels",
                           f->path, (unsigned)f->dim[1], (unsigned)f->dim[2], BP_MAX_WIDTH);
    }
    if (f->body > SIZE_MAX)
        return bp_fail(err, BP_ERR_FORMAT, "%s: %llu bytes of data: more than memory can address",
                       f->path, (unsigned long long)f->body);
    return BP_OK;
}

/* Reads exactly the promised body, then checks that nothing follows. */
static bp_status idx_body(idx_file *f, uint8_t **out, bp_error *err)
{
    size_t body = (size_t)f->body, have = 0, cap = body < READ_CHUNK ? body : READ_CHUNK, got;
    unsigned long long hsize = 4 + 4 * (unsigned)f->ndims, promised = hsize + f->body;
    int cut = 0;
    bp_status s = BP_OK;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", f->path);
    for (;;) {
        if ((s = fill(f, buf + have, cap - have, &got, &cut, err)) != BP_OK)
            break;
        have += got;
        if (have < cap || have == body)
            break;
        /* the bytes so far are real, so doubling at most doubles what the
         * file has shown, never what its header merely claims */
        size_t next = body - cap < cap ? body : cap * 2;
        uint8_t *bigger = realloc(buf, next);
        if (!bigger) {
            s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %zu bytes", f->path, next);
            break;
        }
        buf = bigger;
        cap = next;
    }
    if (s == BP_OK && have < body)
        s = bp_fail(err, BP_ERR_FORMAT, "%s: truncated: %llu bytes promised, %llu present%s",
                    f->path, promised, hsize + have,
                    cut ? " (the gzip stream is cut short)" : "");
    if (s == BP_OK) {
        /* reading on also makes zlib check the gzip trailer's CRC and length */
        uint8_t extra[4096];
        s = fill(f, extra, sizeof extra, &got, &cut, err);
        if (s == BP_OK && got > 0)
            s = bp_fail(err, BP_ERR_FORMAT, "%s: trailing data: %llu bytes promised, %s%llu present",
                        f->path, promised, got == sizeof extra ? "at least " : "", promised + got);
        else if (s == BP_OK && cut)
            s = bp_fail(err, BP_ERR_FORMAT, "%s: truncated: the gzip stream ends before its trailer",
                        f->path);
    }
    if (s != BP_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    return BP_OK;
}

static void idx_close(idx_file *f)
{
    if (f->gz)
        gzclose(f->gz);
    free(f->path);
}

bp_status bp_dataset_load_idx(const char *dir, const char *prefix, bp_dataset **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!dir || !prefix || !out)
        return bp_arg_null(err, __func__, !dir ? "dir" : !prefix ? "prefix" : "out");

    idx_file im = {0}, lb = {0};
    uint8_t *pixels = NULL, *bytes = NULL;
    int32_t *labels = NULL;
    /* both headers first: a count mismatch is found before megabytes are read */
    bp_status s = idx_open(&im, dir, prefix, "images-idx3-ubyte", 3, err);
    if (s == BP_OK)
        s = idx_open(&lb, dir, prefix, "labels-idx1-ubyte", 1, err);
    if (s == BP_OK && im.dim[0] != lb.dim[0])
        s = bp_fail(err, BP_ERR_FORMAT, "%s: %u labels for the %u images of %s", lb.path,
                    (unsigned)lb.dim[0], (unsigned)im.dim[0], im.path);
    if (s == BP_OK)
        s = idx_body(&im, &pixels, err);
    if (s == BP_OK)
        s = idx_body(&lb, &bytes, err);

    int n = (int)lb.dim[0], max_label = 0;
    if (s == BP_OK && !(labels = malloc((size_t)n * sizeof *labels)))
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", lb.path);
    for (int i = 0; s == BP_OK && i < n; i++) {
        labels[i] = bytes[i];
        max_label = bytes[i] > max_label ? bytes[i] : max_label;
    }
    if (s == BP_OK && max_label < 1)
        s = bp_fail(err, BP_ERR_FORMAT,
                    "%s: every label is 0: a classification needs at least 2 classes", lb.path);
    bp_dataset *ds = NULL;
    if (s == BP_OK &&
        !(ds = bp_dataset_adopt_u8(n, (int)(im.dim[1] * im.dim[2]), max_label + 1, pixels, labels)))
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", im.path);
    idx_close(&im);
    idx_close(&lb);
    free(bytes);
    if (s != BP_OK) {
        free(pixels);
        free(labels);
        return s;
    }
    *out = ds;
    return BP_OK;
}
