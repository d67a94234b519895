/*
 * util.c — status strings, error messages, atomic file writes and the seeded
 * generator: the small services every other file of the library uses.
 */
#define _GNU_SOURCE /* O_TMPFILE, linkat */
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

const char *bp_version(void) { return BP_VERSION; }

void bp_free(void *p) { free(p); }

const char *bp_status_string(bp_status s)
{
    switch (s) {
    case BP_OK: return "ok";
    case BP_ERR_ARG: return "invalid argument";
    case BP_ERR_NOMEM: return "out of memory";
    case BP_ERR_IO: return "input/output error";
    case BP_ERR_FORMAT: return "malformed file";
    case BP_ERR_SHAPE: return "shape mismatch";
    case BP_ERR_NONFINITE: return "non-finite value";
    case BP_STOPPED: return "stopped on request";
    }
    return "unknown status";
}

bp_status bp_name_parse(const char *fn, const char *const *names, int count, const char *name,
                        int *out)
{
    if (!name || !out)
        return bp_arg_null(NULL, fn, name ? "out" : "name");
    for (int k = 0; k < count; k++)
        if (names[k] && strcmp(name, names[k]) == 0) {
            *out = k;
            return BP_OK;
        }
    char q[40];
    return bp_fail(NULL, BP_ERR_ARG, "%s: unknown name \"%s\"", fn,
                   bp_quote(q, sizeof q, name, strlen(name)));
}

/* The message of the last failure on this thread: calls without a bp_error
 * (and callers that passed none) read it back with bp_last_error. */
static _Thread_local char last_error[sizeof(((bp_error *)0)->msg)];

const char *bp_last_error(void) { return last_error; }

bp_status bp_arg_null(bp_error *err, const char *fn, const char *arg)
{
    return bp_fail(err, BP_ERR_ARG, "%s: %s is NULL", fn, arg);
}

bp_status bp_fail(bp_error *err, bp_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* one line: a message never carries a newline from a file's bytes */
    for (char *p = last_error; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (err)
        memcpy(err->msg, last_error, sizeof err->msg);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Atomic file writes                                                        */
/* ------------------------------------------------------------------------ */

/* The folder path names, into dir [cap]. */
static void parent_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else if (slash == path)
        snprintf(dir, cap, "/");
    else
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* The folder's entry for the rename must reach the disk too. */
static void fsync_parent(const char *path)
{
    char dir[4096];
    parent_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

bp_status bp_atomic_open(bp_atomic *a, const char *path, bp_error *err)
{
    a->unnamed = 0;
    a->f = NULL;
    a->path = path;
    size_t n = strlen(path) + 16;
    a->tmp = malloc(n);
    if (!a->tmp)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    /* same folder as the target, so rename() is atomic */
    snprintf(a->tmp, n, "%s.tmpXXXXXX", path);
    int fd = -1;
#ifdef O_TMPFILE
    char dir[4096];
    parent_of(path, dir, sizeof dir);
    /* linked at commit through /proc's name for the descriptor */
    if (access("/proc/self/fd", X_OK) == 0)
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    a->unnamed = fd >= 0;
#endif
    if (fd < 0) /* no O_TMPFILE here: a named temporary */
        fd = mkstemp(a->tmp);
    if (fd < 0) {
        bp_status s = bp_fail(err, BP_ERR_IO, "%s: cannot create a file there: %s", path,
                              strerror(errno));
        free(a->tmp);
        a->tmp = NULL;
        return s;
    }
    fchmod(fd, 0644);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        close(fd);
        if (!a->unnamed)
            unlink(a->tmp);
        free(a->tmp);
        a->tmp = NULL;
        return bp_fail(err, BP_ERR_IO, "%s: %s", path, strerror(errno));
    }
    return BP_OK;
}

void bp_atomic_abort(bp_atomic *a)
{
    if (a->f)
        fclose(a->f); /* an unnamed temporary vanishes with its descriptor */
    if (a->tmp) {
        if (!a->unnamed)
            unlink(a->tmp);
        free(a->tmp);
    }
    a->f = NULL;
    a->tmp = NULL;
}

/* Links the unnamed temporary at a fresh a->tmp (PATH.tmpXXXXXX, its
 * last six characters counted up until a name is free); 0 on success. */
static int link_unnamed(bp_atomic *a)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(a->f));
    char *x = a->tmp + strlen(a->tmp) - 6;
    for (unsigned k = (unsigned)getpid(); k < (unsigned)getpid() + 1000; k++) {
        snprintf(x, 7, "%06u", k % 1000000);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, a->tmp, AT_SYMLINK_FOLLOW) == 0) {
            a->unnamed = 0; /* named now: an abort unlinks it */
            return 0;
        }
        if (errno != EEXIST)
            return 1;
    }
    return 1;
}

bp_status bp_atomic_commit(bp_atomic *a, bp_error *err)
{
    int bad = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int e = errno;
    if (!bad && a->unnamed) /* a name, for the moment between link and rename */
        bad = link_unnamed(a), e = errno;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad) {
        bp_atomic_abort(a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed: %s", a->path, strerror(e ? e : EIO));
    }
    if (rename(a->tmp, a->path) != 0) {
        e = errno;
        bp_atomic_abort(a);
        return bp_fail(err, BP_ERR_IO, "%s: cannot replace: %s", a->path, strerror(e));
    }
    fsync_parent(a->path);
    free(a->tmp);
    a->tmp = NULL;
    return BP_OK;
}

bp_status bp_file_write(const char *path, const void *data, size_t n, bp_error *err)
{
    BP_NEED(path, err);
    if (!data && n)
        return bp_arg_null(err, __func__, "data");
    bp_atomic a;
    bp_status s = bp_atomic_open(&a, path, err);
    if (s != BP_OK)
        return s;
    if (fwrite(data, 1, n, a.f) != n) {
        bp_atomic_abort(&a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed", path);
    }
    return bp_atomic_commit(&a, err);
}

/* ------------------------------------------------------------------------ */
/* xoshiro256** seeded through splitmix64                                    */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bp_rng_seed(bp_rng *r, uint64_t seed)
{
    if (!r) {
        bp_arg_null(NULL, __func__, "r");
        return;
    }
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t bp_rng_next(bp_rng *r)
{
    if (!r)
        return bp_arg_null(NULL, __func__, "r"), 0;
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double bp_rng_uniform(bp_rng *r)
{
    if (!r)
        return bp_arg_null(NULL, __func__, "r"), NAN;
    return (double)(bp_rng_next(r) >> 11) * 0x1.0p-53;
}

double bp_rng_normal(bp_rng *r)
{
    if (!r)
        return bp_arg_null(NULL, __func__, "r"), NAN;
    /* Box–Muller; 1 - u keeps the logarithm's argument in (0, 1] */
    double u = 1.0 - bp_rng_uniform(r), v = bp_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

bp_status bp_shuffle(bp_rng *r, int32_t *idx, int n)
{
    if (!r || (!idx && n > 0))
        return bp_arg_null(NULL, __func__, r ? "idx" : "r");
    if (n < 0)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d < 0", __func__, n);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(bp_rng_next(r) % (uint64_t)(i + 1));
        int32_t keep = idx[i];
        idx[i] = idx[j];
        idx[j] = keep;
    }
    return BP_OK;
}
