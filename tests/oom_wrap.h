/*
 * oom_wrap.h — allocation failure on demand, for test_oom and oom_cli: the
 * wrappers behind the linker's --wrap for every function the library's (and
 * the CLI's) own objects call that allocates, a counter that fails the Nth
 * call (or the Nth and all after it), and the set of what is live, so that
 * a leak is found in any build and named by the allocation that made it.
 *
 * malloc, calloc and realloc fail as themselves; fopen, fdopen, getline,
 * gzopen and pthread_create allocate inside the C library or zlib, where
 * --wrap cannot reach, so they fail as a whole, with ENOMEM or EAGAIN, as
 * they do when their allocation fails. cJSON is a shared library, out of
 * --wrap's reach too: oom_json_hooks routes its allocations here.
 *
 * Header-only and meant for one program each (its state is static); the
 * program is linked with the --wrap options of tests/CMakeLists.txt.
 */
#ifndef BP_OOM_WRAP_H
#define BP_OOM_WRAP_H

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

/* ------------------------------------------------------------------------ */
/* The counter behind the wrappers                                           */
/* ------------------------------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__real_fdopen(int fd, const char *mode);
int __real_fclose(FILE *f);
ssize_t __real_getline(char **line, size_t *cap, FILE *f);
gzFile __real_gzopen(const char *path, const char *mode);
int __real_gzclose(gzFile g);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_pthread_join(pthread_t t, void **ret);

#define LIVE_MAX 65536

/* The pool's workers free from their own threads, so all of this is
 * behind one lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool armed;          /* counting and tracking                        */
static long count;          /* allocations since armed                      */
static long fail_from;      /* the first that fails; 0: none                */
static bool fail_rest;      /* every one after fail_from fails as well      */
static const char *failed;  /* the kind of the first that failed, or NULL   */
static struct {
    void *p;                /* a block, FILE, gzFile or thread              */
    long n;                 /* the allocation that made it                  */
    const char *kind;
} live[LIVE_MAX];
static int n_live;
/* allocations of each kind in the run with nothing failing, for the summary */
static const char *kinds[16];
static long per_kind[16];

/* Counts one allocation of kind; true if it must fail. */
static bool inject(const char *kind)
{
    pthread_mutex_lock(&lock);
    bool fail = false;
    if (armed) {
        count++;
        for (int k = 0; !fail_from && k < 16; k++)
            if (!kinds[k] || strcmp(kinds[k], kind) == 0) {
                kinds[k] = kind;
                per_kind[k]++;
                break;
            }
        fail = fail_from && (count == fail_from || (fail_rest && count > fail_from));
        if (fail && !failed)
            failed = kind;
    }
    pthread_mutex_unlock(&lock);
    return fail;
}

static void track(void *p, const char *kind)
{
    if (!p)
        return;
    pthread_mutex_lock(&lock);
    if (armed) {
        if (n_live == LIVE_MAX) {
            fprintf(stderr, "test_oom: more than %d live allocations\n", LIVE_MAX);
            exit(1);
        }
        live[n_live].p = p, live[n_live].n = count, live[n_live].kind = kind;
        n_live++;
    }
    pthread_mutex_unlock(&lock);
}

/* Blocks cJSON allocated but free() released: right only while cJSON's
 * allocator is malloc, which a program may change with cJSON_InitHooks. */
static long mismatched;

/* Forgets p if it is tracked (things made before arming, or inside the C
 * library like getline's buffer, are not); by_json: released by cJSON. */
static void untrack(void *p, bool by_json)
{
    if (!p)
        return;
    pthread_mutex_lock(&lock);
    for (int i = n_live - 1; i >= 0; i--)
        if (live[i].p == p) {
            mismatched += !by_json && strcmp(live[i].kind, "cJSON") == 0;
            live[i] = live[--n_live];
            break;
        }
    pthread_mutex_unlock(&lock);
}

void *__wrap_malloc(size_t n)
{
    if (inject("malloc")) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_malloc(n);
    track(p, "malloc");
    return p;
}

void *__wrap_calloc(size_t k, size_t n)
{
    if (inject("calloc")) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_calloc(k, n);
    track(p, "calloc");
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (inject("realloc")) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = __real_realloc(p, n);
    if (q) {
        untrack(p, false);
        track(q, "realloc");
    }
    return q;
}

void __wrap_free(void *p)
{
    untrack(p, false);
    __real_free(p);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
    if (inject("fopen")) {
        errno = ENOMEM;
        return NULL;
    }
    FILE *f = __real_fopen(path, mode);
    track(f, "fopen");
    return f;
}

FILE *__wrap_fdopen(int fd, const char *mode)
{
    if (inject("fdopen")) {
        errno = ENOMEM;
        return NULL;
    }
    FILE *f = __real_fdopen(fd, mode);
    track(f, "fdopen");
    return f;
}

int __wrap_fclose(FILE *f)
{
    untrack(f, false);
    return __real_fclose(f);
}

/* Every call may grow the line buffer, so every call counts. */
ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
    if (inject("getline")) {
        errno = ENOMEM;
        return -1;
    }
    return __real_getline(line, cap, f);
}

gzFile __wrap_gzopen(const char *path, const char *mode)
{
    if (inject("gzopen")) {
        errno = ENOMEM;
        return NULL;
    }
    gzFile g = __real_gzopen(path, mode);
    track(g, "gzopen");
    return g;
}

int __wrap_gzclose(gzFile g)
{
    untrack(g, false);
    return __real_gzclose(g);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (inject("pthread_create"))
        return EAGAIN;
    int e = __real_pthread_create(t, a, fn, arg);
    if (e == 0)
        track((void *)(uintptr_t)*t, "pthread_create");
    return e;
}

int __wrap_pthread_join(pthread_t t, void **ret)
{
    untrack((void *)(uintptr_t)t, false);
    return __real_pthread_join(t, ret);
}

/* cJSON's allocator: counted like the library's own mallocs. */
static void *json_malloc(size_t n)
{
    if (inject("cJSON")) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __real_malloc(n);
    track(p, "cJSON");
    return p;
}

static void json_free(void *p)
{
    untrack(p, true);
    __real_free(p);
}

static void arm(long from, bool rest)
{
    pthread_mutex_lock(&lock);
    armed = true, count = 0, fail_from = from, fail_rest = rest, failed = NULL, n_live = 0;
    pthread_mutex_unlock(&lock);
}

static long disarm(void)
{
    pthread_mutex_lock(&lock);
    armed = false;
    long n = count;
    pthread_mutex_unlock(&lock);
    return n;
}

static inline void oom_json_hooks(void)
{
    cJSON_Hooks hooks = {json_malloc, json_free};
    cJSON_InitHooks(&hooks);
}

#endif
