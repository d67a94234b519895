/*
 * bench.c — what `backprop bench` measures a step against: the flops of a
 * step, the same step's products alone through the GEMM seam on the
 * network's threads (the ceiling of the provider), and the machine's own limit, the FP32 FMA peak of its
 * widest vector unit on the same number of threads.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

double bp_step_flops(const bp_net *net)
{
    double f = 0;
    for (int l = 0; l < net->L; l++)
        f += 2.0 * net->layer[l].in * net->layer[l].out * (l > 0 ? 3 : 2);
    return f;
}

/* One product of the step, split over the pool as the engine splits it:
 * thread k takes a band of C's columns (rows for ∇W, whose band is rows of
 * W), so the ceiling is what the provider allows inside the same bands. */
typedef struct {
    bp_gemm g;
    int ta, tb, M, N, K, lda, ldb, ldc, rows; /* rows: band C's rows, not columns */
    const float *A, *B;
    float *C;
} product;

static void product_band(void *arg, int k, int T)
{
    const product *p = arg;
    int lo, hi;
    pool_share(p->rows ? p->M : p->N, 16, k, T, &lo, &hi);
    if (lo == hi)
        return;
    if (p->rows) /* rows lo..hi of C = rows lo..hi of op(A) = columns of A when ta */
        gemm(p->g, 1, p->ta, p->tb, hi - lo, p->N, p->K, 1.0f, p->A + (p->ta ? (size_t)lo : (size_t)lo * p->lda),
             p->lda, p->B, p->ldb, 0.0f, p->C + (size_t)lo * p->ldc, p->ldc);
    else /* columns lo..hi of C = columns of op(B) = rows of B when tb */
        gemm(p->g, 1, p->ta, p->tb, p->M, hi - lo, p->K, 1.0f, p->A, p->lda,
             p->B + (p->tb ? (size_t)lo * p->ldb : (size_t)lo), p->ldb, 0.0f, p->C + lo, p->ldc);
}

static void run_product(bp_net *net, product p) { pool_run(net->pool, product_band, &p); }

void bp_step_gemm_only(bp_net *net, const float *x, int M, int reps)
{
    bp_net_apply_pending(net);
    bp_gemm g = net->gemm;
    for (int r = 0; r < reps; r++) {
        for (int l = 0; l < net->L; l++) { /* Z(l+1) = Y(l) W(l)ᵀ */
            const bp_layer *ly = &net->layer[l];
            run_product(net, (product){g, 0, 1, M, ly->out, ly->in, ly->in, ly->in, ly->out, 0,
                                       l ? net->y[l] : x, ly->W, net->z[l + 1]});
        }
        for (int l = net->L - 1; l >= 0; l--) {
            const bp_layer *ly = &net->layer[l];
            /* ∇W(l) = Δ(l+1)ᵀ Y(l) */
            run_product(net, (product){g, 1, 0, ly->out, ly->in, M, ly->out, ly->in, ly->in, 1,
                                       net->delta[l + 1], l ? net->y[l] : x, ly->gW});
            if (l > 0) /* Δ(l) = Δ(l+1) W(l) */
                run_product(net, (product){g, 0, 0, M, ly->in, ly->out, ly->out, ly->in, ly->in,
                                           0, net->delta[l + 1], ly->W, net->delta[l]});
        }
    }
}

/* ------------------------------------------------------------------------ */
/* The FMA peak                                                              */
/* ------------------------------------------------------------------------ */

/* CHAINS independent chains of fused multiply-adds: enough to cover the
 * FMA latency (4 cycles) on two pipes with room to spare, and few enough
 * to stay in registers (16 on AVX2). Written out, so that the loop does
 * not depend on the optimiser unrolling it. Returns a sum of the chains so
 * that none is dead code. */
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
    volatile float sink[BP_MAX_THREADS];
} peak_job;

static void peak_band(void *arg, int k, int T)
{
    (void)T;
    peak_job *j = arg;
#if defined(__x86_64__) && defined(__GNUC__)
    if (j->lanes == 16) {
        j->sink[k] = fma_avx512(j->n);
        return;
    }
    if (j->lanes == 8) {
        j->sink[k] = fma_avx2(j->n);
        return;
    }
#endif
    j->sink[k] = fma_scalar(j->n);
}

static double now(void)
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

double bp_fma_peak(int threads, double seconds, const char **isa)
{
    const char *name;
    int lanes = widest(&name);
    if (isa)
        *isa = name;
    if (threads < 1)
        threads = 1;
    if (threads > BP_MAX_THREADS)
        threads = BP_MAX_THREADS;
    bp_pool *pool = threads > 1 ? pool_create(threads) : NULL;
    if (threads > 1 && !pool)
        return 0;
    peak_job j = {.n = 1000, .lanes = lanes};
    /* doubling to about a tenth of a round (also the warm-up: the clock
     * rises under load), then 5 rounds, the median */
    enum { ROUNDS = 5 };
    double t, per = seconds / ROUNDS, r[ROUNDS];
    for (;;) {
        t = now();
        pool_run(pool, peak_band, &j);
        t = now() - t;
        if (t > per / 10 || j.n > (1L << 40))
            break;
        j.n *= 2;
    }
    j.n = (long)(j.n * per / (t > 0 ? t : 1e-9)) + 1;
    for (int i = 0; i < ROUNDS; i++) {
        t = now();
        pool_run(pool, peak_band, &j);
        t = now() - t;
        r[i] = 2.0 * CHAINS * lanes * (double)j.n * threads / t * 1e-9;
    }
    pool_free(pool);
    qsort(r, ROUNDS, sizeof r[0], cmp_double);
    return r[ROUNDS / 2];
}
