/*
 * base.h — the bottom of the library (src/base/): error reporting, names,
 * atomic file writes, the strict number parser and the thread pool. It
 * knows nothing of networks; every other folder may include it.
 * Not installed.
 */
#ifndef BP_BASE_H
#define BP_BASE_H

#include "backprop.h"
#include "tools.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" { /* the CUDA files include this too */
#endif

#define BP_MAX_THREADS 256

/* Loops that want several independent sums or wide lanes: clones for
 * AVX-512 and AVX2 where the machine has them, as the BLAS does.
 * CLONES_EXACT also keeps a * b + c two roundings in every clone (no
 * contraction into an FMA), so that each clone gives the default one's
 * bits: for element rules whose results are compared bit for bit. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define CLONES_EXACT \
    __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#else
#define CLONES_EXACT
#endif

/* util.c: name's index in names [count] into *out (behind every bp_*_parse
 * of a name table); BP_ERR_ARG naming fn for NULL or an unknown name. */
bp_status bp_name_parse(const char *fn, const char *const *names, int count, const char *name,
                        int *out);

/* util.c: BP_ERR_ARG with "fn: arg is NULL" (in err, if not NULL, and as
 * bp_last_error). BP_NEED(p, err) returns it from a function when p is 0. */
bp_status bp_arg_null(bp_error *err, const char *fn, const char *arg);
#define BP_NEED(p, err)                                                                  \
    do {                                                                                 \
        if (!(p))                                                                        \
            return bp_arg_null(err, __func__, #p);                                       \
    } while (0)

/* Writes a formatted one-line message to err (if not NULL) and to this
 * thread's bp_last_error, and returns s. Never from the pool's threads. */
bp_status bp_fail(bp_error *err, bp_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Atomic file writing: a temporary file beside the target, flushed, fsync'ed,
 * renamed over the target, then the folder fsync'ed. A failed or aborted
 * write leaves the target as it was and no temporary behind. Where the
 * file system has O_TMPFILE (Linux: ext4, xfs, tmpfs, btrfs) the temporary
 * has no name until the commit links it, so that a process killed while
 * writing (SIGKILL, power loss) leaves nothing behind either; elsewhere it
 * is PATH.tmpXXXXXX, which a kill leaves. */
typedef struct {
    FILE *f;
    char *tmp;        /* temporary path, malloc'ed (named once linked) */
    int unnamed;      /* an O_TMPFILE file, not yet linked at tmp */
    const char *path; /* target */
} bp_atomic;

bp_status bp_atomic_open(bp_atomic *a, const char *path, bp_error *err);
bp_status bp_atomic_commit(bp_atomic *a, bp_error *err);
void bp_atomic_abort(bp_atomic *a);

/* text.c: [b, e) wholly a finite float? The byte at e must stop strtof (a
 * comma, blank or NUL). */
typedef enum { BP_NUM_OK, BP_NUM_NOT_A_NUMBER, BP_NUM_RANGE, BP_NUM_NONFINITE } bp_num_kind;
bp_num_kind bp_parse_float(const char *b, const char *e, float *out);
/* text.c: [b, e) wholly a finite float, or an error "WHERE: not a number:
 * \"tok\"" (also: empty value, out of range for float, not finite). */
bp_status bp_parse_number(const char *b, const char *e, float *out, const char *where,
                          bp_error *err);
/* text.c: [s, s+n) quoted for a one-line message (32 bytes at most, odd
 * bytes as \xHH); returns out. */
const char *bp_quote(char *out, size_t cap, const char *s, size_t n);
/* text.c: length of the valid UTF-8 sequence at p (n >= 1 bytes left), 0 if
 * invalid: no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t bp_utf8_len(const unsigned char *p, size_t n);
/* text.c: NULL if [s, s+n) is a valid name (1..max bytes, UTF-8, no
 * control character), else what is wrong with it, for a message. */
const char *bp_name_problem(const char *s, size_t n, size_t max);
/* text.c: a checked copy of names [k] (each a valid name of at most
 * BP_CLASS_NAME_MAX bytes, all distinct) in one allocation, freed with
 * free(*out); BP_ERR_ARG naming fn and the name, or BP_ERR_NOMEM. */
bp_status bp_names_copy(const char *fn, int k, const char *const *names, char ***out);

/* pool.c: T threads running each phase of a step on their share of it. */
typedef struct bp_pool bp_pool;
typedef void (*pool_fn)(void *arg, int k, int T); /* share k of T, on whichever thread */
bp_pool *pool_create(int T);                       /* NULL if threads can't start */
void pool_free(bp_pool *p);
int pool_threads(const bp_pool *p);                /* 1 for NULL */
/* Runs fn on every thread (the caller is thread 0); returns when all are done. */
void pool_run(bp_pool *p, pool_fn fn, void *arg);
/* The same on the first T of its threads (1 <= T <= pool_threads(p)). */
void pool_run_n(bp_pool *p, int T, pool_fn fn, void *arg);
/* The threads a pass of `flops` floating-point operations deserves: the one
 * rule every pass (the engine's phases, the optimiser's) sizes itself by. */
int pool_threads_for(const bp_pool *p, double flops);
/* Share k of T of [0, n): [*lo, *hi), boundaries on multiples of align. */
void pool_share(int n, int align, int k, int T, int *lo, int *hi);

#ifdef __cplusplus
}
#endif
#endif
