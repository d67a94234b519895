/*
 * peak.c — the machine's FP32 limit for `backprop bench`: independent chains
 * of fused multiply-adds at the widest vector ISA the CPU has, on T threads
 * at once. A step's GFLOP/s over this is its fraction of what the cores can
 * do, whatever any library's kernels reach.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cli_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* CHAINS independent chains: enough to cover the FMA latency (4 cycles) on
 * two pipes with room to spare, and few enough to stay in registers (16 on
 * AVX2). Written out, so that the loop does not depend on the optimiser
 * unrolling it. Each returns a sum of its chains so that none is dead. */
#define CHAINS 12
#define FMA12(op, a, m, c)                                                                     \
    a[0] = op(a[0], m, c), a[1] = op(a[1], m, c), a[2] = op(a[2], m, c),                       \
    a[3] = op(a[3], m, c), a[4] = op(a[4], m, c), a[5] = op(a[5], m, c),                       \
    a[6] = op(a[6], m, c), a[7] = op(a[7], m, c), a[8] = op(a[8], m, c),                       \
    a[9] = op(a[9], m, c), a[10] = op(a[10], m, c), a[11] = op(a[11], m, c)

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static float fma_avx512(long n)
{
    __m512 a[CHAINS], m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
    for (int i = 0; i < CHAINS; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        FMA12(_mm512_fmadd_ps, a, m, c);
    for (int i = 1; i < CHAINS; i++)
        a[0] = _mm512_add_ps(a[0], a[i]);
    return _mm512_reduce_add_ps(a[0]);
}

__attribute__((target("avx2,fma"))) static float fma_avx2(long n)
{
    __m256 a[CHAINS], m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
    for (int i = 0; i < CHAINS; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        FMA12(_mm256_fmadd_ps, a, m, c);
    float o[8];
    for (int i = 1; i < CHAINS; i++)
        a[0] = _mm256_add_ps(a[0], a[i]);
    _mm256_storeu_ps(o, a[0]);
    return o[0] + o[7];
}
#endif

static float mul_add(float a, float m, float c) { return a * m + c; }

static float fma_scalar(long n)
{
    float a[CHAINS], m = 0.999f, c = 1e-3f;
    for (int i = 0; i < CHAINS; i++)
        a[i] = (float)i;
    for (long k = 0; k < n; k++)
        FMA12(mul_add, a, m, c);
    for (int i = 1; i < CHAINS; i++)
        a[0] += a[i];
    return a[0];
}

/* The widest unit the CPU has: its name and its floats per instruction. */
static int widest(const char **isa)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return *isa = "avx512f", 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return *isa = "avx2+fma", 8;
#endif
    return *isa = "scalar", 1;
}

typedef struct {
    long n;
    int lanes;
    float sink;
} chains_job;

static void *chains(void *arg)
{
    chains_job *j = arg;
#if defined(__x86_64__) && defined(__GNUC__)
    if (j->lanes == 16)
        return j->sink = fma_avx512(j->n), NULL;
    if (j->lanes == 8)
        return j->sink = fma_avx2(j->n), NULL;
#endif
    j->sink = fma_scalar(j->n);
    return NULL;
}

/* Seconds for `threads` threads to run n iterations each, started together
 * (thread start-up is microseconds against rounds of a tenth of a second);
 * 0 if a thread cannot start. */
static double run(chains_job *jobs, int threads, long n, int lanes)
{
    pthread_t t[256];
    double t0 = cli_now();
    int started = 0;
    for (int k = 0; k < threads; k++) {
        jobs[k] = (chains_job){n, lanes, 0};
        if (k > 0 && pthread_create(&t[k], NULL, chains, &jobs[k]) != 0)
            break;
        started = k + 1;
    }
    if (started == threads)
        chains(&jobs[0]);
    for (int k = 1; k < started; k++)
        pthread_join(t[k], NULL);
    return started == threads ? cli_now() - t0 : 0;
}

double cli_fma_peak(int threads, double seconds, const char **isa)
{
    enum { ROUNDS = 5 };
    int lanes = widest(isa);
    threads = threads < 1 ? 1 : threads > 256 ? 256 : threads;
    chains_job *jobs = malloc((size_t)threads * sizeof *jobs);
    if (!jobs)
        return 0;
    /* doubling to a tenth of a round (the warm-up too: the clock rises
     * under load), then ROUNDS rounds, the median */
    double t = 0, per = seconds / ROUNDS, r[ROUNDS];
    long n = 1000;
    while ((t = run(jobs, threads, n, lanes)) > 0 && t < per / 10 && n < (1L << 40))
        n *= 2;
    if (t > 0)
        n = (long)(n * per / t) + 1;
    for (int i = 0; i < ROUNDS && t > 0; i++) {
        t = run(jobs, threads, n, lanes);
        r[i] = t > 0 ? 2.0 * CHAINS * lanes * (double)n * threads / t * 1e-9 : 0;
    }
    free(jobs);
    return t > 0 ? cli_median(r, ROUNDS) : 0;
}
