/*
 * pool.c — the engine's one thread pool: T threads (the caller and T − 1
 * workers) that run each phase of a training step on their share of it,
 * fork–join. The BLAS runs single-threaded inside each share, so there is
 * never a second pool competing for the cores.
 *
 * A phase is handed over by bumping a generation counter; workers spin on
 * it for a short while (a step's phases follow each other within
 * microseconds) and then sleep on a condition variable, so an idle pool
 * costs nothing.
 *
 * Share k of a phase is worker k's, but whoever claims it first runs it:
 * the caller, done with its own share 0, claims and runs every share whose
 * worker has not begun. A worker that the machine does not schedule (a
 * vCPU taken by another process, a core shared with a busy one) then costs
 * the phase its share's time instead of holding it up for a time slice:
 * with a busy loop on one of this machine's 2 vCPUs, 784-256-128-10 at
 * batch 16 with Adam trained at 5–25k examples/s on 2 threads, against 31k
 * on one, while the caller spun waiting for a worker that could not run.
 * The shares are the same whoever runs them, so results still depend only
 * on T. Completion is a count of shares done that the caller spins on.
 *
 * Deliberately not: a task queue or work stealing beyond that. Every phase
 * splits its work evenly and statically.
 *
 * fork(): the child has only the thread that forked, not the workers, and
 * the pool's lock and condition variable in whatever state the workers left
 * them. A fork handler counts forks; a pool made before the last one starts
 * fresh workers on its next phase (or, if it cannot, runs the shares one
 * after the other on the caller: the same bands, so the same numbers).
 */
#define _POSIX_C_SOURCE 200809L
#include "base/base.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define SPINS 20000 /* polls before a worker sleeps, or the caller yields:
                     * some tens of microseconds */

/* A thread takes a share of a pass only if the share holds at least this
 * many floating-point operations: about 5 µs of one core's products, a few
 * times what handing a phase to the pool and waiting for it costs. Below
 * that, splitting ran slower than one thread (small nets and M = 1 most of
 * all; this machine's second vCPU is not always there when a thread spins
 * for it). An element-wise pass counts its flops the same way, which
 * undercounts its time (it is bound by memory, not by the FMA units), so it
 * splits later rather than sooner. */
#define MIN_FLOPS_PER_THREAD (1 << 19)

/* Forks this process has gone through: process-wide by nature (a fork is),
 * and the one mutable global of the pool. */
static atomic_uint forks;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void count_fork(void) { atomic_fetch_add(&forks, 1); }
static void register_atfork(void) { pthread_atfork(NULL, NULL, count_fork); }

struct bp_pool {
    int T;
    int started;         /* workers running (T − 1 unless a restart failed) */
    unsigned forks;      /* `forks` when the workers were started          */
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint_least64_t gen; /* bumped once per phase; never wraps      */
    atomic_uint_least64_t claim[BP_MAX_THREADS]; /* the last phase whose
                                                  * share k was taken      */
    atomic_int done;     /* shares of the current phase finished           */
    atomic_int sleepers; /* workers waiting on `wake`                      */
    atomic_bool quit;
    pool_fn fn;          /* the current phase, read after `gen` changes    */
    int n;               /* its shares (the first n threads')              */
    void *arg;
};

typedef struct {
    bp_pool *p;
    int k;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Share k of phase g, if nobody has taken it: fn, arg and n are read only
 * after the claim, and the phase cannot end before a claimed share is done,
 * so they are phase g's. A claim for a phase already past fails (claim[k]
 * only grows), and so does one for a share the phase does not have (the
 * caller marks those taken when it publishes). */
static void run_share(bp_pool *p, int k, uint_least64_t g)
{
    uint_least64_t old = atomic_load(&p->claim[k]);
    if (old >= g || !atomic_compare_exchange_strong(&p->claim[k], &old, g))
        return;
    p->fn(p->arg, k, p->n);
    atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
}

static void *worker(void *v)
{
    worker_arg *w = v;
    bp_pool *p = w->p;
    int k = w->k;
    free(w);
    /* gen starts at 0: a phase published before this thread got here is
     * still seen as new */
    uint_least64_t seen = 0;
    for (;;) {
        uint_least64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               spins++ < SPINS)
            cpu_relax();
        if (g == seen) {
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->gen)) == seen)
                pthread_cond_wait(&p->wake, &p->lock);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->lock);
        }
        seen = g;
        if (atomic_load(&p->quit))
            return NULL;
        run_share(p, k, g);
    }
}

/* The next phase (fn, arg, n set) to the workers; its generation. */
static uint_least64_t publish(bp_pool *p)
{
    uint_least64_t g = atomic_load(&p->gen) + 1;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    for (int k = p->n; k < p->T; k++) /* shares this phase does not have */
        atomic_store_explicit(&p->claim[k], g, memory_order_relaxed);
    /* sequentially consistent, like the worker's sleepers++ then gen check:
     * either it sees the new gen or this sees it asleep and wakes it */
    atomic_store(&p->gen, g);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    return g;
}

/* The lock, the condition variable and the counters, from scratch. */
static void init_sync(bp_pool *p)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_store(&p->gen, 0);
    for (int k = 0; k < BP_MAX_THREADS; k++)
        atomic_store(&p->claim[k], 0);
    atomic_store(&p->done, 0);
    atomic_store(&p->sleepers, 0);
    atomic_store(&p->quit, false);
}

/* T − 1 workers; 0, or -1 with p->started of them running. */
static int start(bp_pool *p)
{
    p->forks = atomic_load(&forks);
    for (p->started = 0; p->started < p->T - 1; p->started++) {
        worker_arg *w = malloc(sizeof *w);
        if (!w || (w->p = p, w->k = p->started + 1,
                   pthread_create(&p->workers[p->started], NULL, worker, w))) {
            free(w);
            return -1;
        }
    }
    return 0;
}

/* The workers started told to quit and joined. */
static void stop(bp_pool *p)
{
    if (p->started > 0) {
        atomic_store(&p->quit, true);
        publish(p);
        for (int k = 0; k < p->started; k++)
            pthread_join(p->workers[k], NULL);
    }
    p->started = 0;
}

bp_pool *pool_create(int T)
{
    pthread_once(&atfork_once, register_atfork);
    bp_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->T = T;
    init_sync(p);
    p->workers = calloc((size_t)(T > 1 ? T - 1 : 1), sizeof *p->workers);
    if (!p->workers || start(p)) {
        pool_free(p);
        return NULL;
    }
    return p;
}

void pool_free(bp_pool *p)
{
    if (!p)
        return;
    if (p->forks == atomic_load(&forks)) {
        stop(p);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
    }
    /* else a pool from before a fork: its workers are the parent's, not
     * here to join, and its condition variable still counts them as
     * waiters, so destroying it would wait for them forever */
    free(p->workers);
    free(p);
}

int pool_threads(const bp_pool *p) { return p ? p->T : 1; }

void pool_run(bp_pool *p, pool_fn fn, void *arg) { pool_run_n(p, pool_threads(p), fn, arg); }

void pool_run_n(bp_pool *p, int T, pool_fn fn, void *arg)
{
    if (!p || p->T == 1 || T <= 1) {
        fn(arg, 0, 1);
        return;
    }
    int n = T < p->T ? T : p->T;
    if (p->forks != atomic_load_explicit(&forks, memory_order_relaxed)) {
        /* a forked child: the parent's workers are not here, and only this
         * thread can be in the lock or wait on wake, so all starts anew */
        p->started = 0;
        init_sync(p);
        if (start(p))
            stop(p); /* the shares run on this thread */
    }
    if (p->started < p->T - 1) { /* no workers: the same shares, in turn */
        for (int k = 0; k < n; k++)
            fn(arg, k, n);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    uint_least64_t g = publish(p);
    run_share(p, 0, g);
    for (int k = 1; k < n; k++) /* the shares no worker has begun */
        run_share(p, k, g);
    for (int spins = 0; atomic_load_explicit(&p->done, memory_order_acquire) < n; spins++)
        if (spins < SPINS)
            cpu_relax();
        else
            sched_yield(); /* a worker mid-share may want this core */
}

int pool_threads_for(const bp_pool *p, double flops)
{
    int T = pool_threads(p);
    double t = flops / MIN_FLOPS_PER_THREAD;
    return t < 2 ? 1 : t < T ? (int)t : T;
}

void pool_share(int n, int align, int k, int T, int *lo, int *hi)
{
    /* equal shares, rounded to `align` so that two threads never write the
     * same cache line of an output row */
    int units = (n + align - 1) / align;
    int a = (int)((long)units * k / T), b = (int)((long)units * (k + 1) / T);
    *lo = a * align < n ? a * align : n;
    *hi = b * align < n ? b * align : n;
}
