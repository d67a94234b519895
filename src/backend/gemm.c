/*
 * gemm.c — the one seam through which every matrix product of the engine
 * passes: C [M,N] = alpha op(A) op(B) + beta C, row-major.
 *
 * Two providers stand behind it:
 *   - oneDNN (dnnl_sgemm), the default wherever the build found it: it picks
 *     its kernels from the CPU's feature bits (AVX-512 where the CPU has it),
 *     not from a table of model names, so it runs the machine's full width
 *     even where OpenBLAS has been pinned to its AVX2 kernels by
 *     OPENBLAS_CORETYPE. Small products go to CBLAS even so: a side under 16
 *     (a single example, a 10-class output layer, the outer product of
 *     eq. 43) or fewer than SMALL_MACS multiply-adds in all. There oneDNN's
 *     packing costs more than the product (measured on one core against
 *     OpenBLAS's AVX-512 kernels: 16×32×21, 0.42–0.67×; 64³, 0.87–0.90×;
 *     16×128×128, 0.94–1.26×; 16×256×784, 1.3–1.5×). The choice depends
 *     on the shape alone, so results stay reproducible;
 *   - CBLAS (any BLAS; OpenBLAS in the Debian build), kept as the fallback
 *     and as the oracle the oneDNN results are tested against.
 *
 * The engine's pool is the only source of parallelism: inside a band every
 * product runs on one thread. oneDNN threads with OpenMP, and each pthread
 * that calls it would start its own OpenMP team, so the calling thread's
 * OpenMP thread count is set to one for the call and restored after it.
 * OpenBLAS's thread count is process-wide, shared with the rest of the
 * process (numpy loads the same libopenblas.so.0), and is left as it is:
 * OpenBLAS runs a product of at most BLAS_SOLO_MACS multiply-adds on the
 * calling thread whatever its count, and only a larger one going to CBLAS
 * (--gemm cblas, or a side under 16 on the oneDNN provider) holds the
 * count at one while it runs (blas_hold), restored when the last such
 * product ends.
 */
#include "backend/backend.h"

#ifndef BP_HAVE_ONEDNN
#define BP_HAVE_ONEDNN 0
#endif
#ifndef BP_HAVE_OPENBLAS
#define BP_HAVE_OPENBLAS 0
#endif

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if BP_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#endif

#if BP_HAVE_OPENBLAS
/* OpenBLAS's own extensions; declared here so that only this file knows them */
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
#endif

static const char *const names[] = {"onednn", "cblas"};

const char *bp_gemm_name(bp_gemm g)
{
    return (unsigned)g < sizeof names / sizeof *names ? names[g] : "?";
}

bp_status bp_gemm_parse(const char *name, bp_gemm *out)
{
    int k;
    bp_status s = bp_name_parse(__func__, names, (int)(sizeof names / sizeof *names), name,
                                out ? &k : NULL);
    if (s == BP_OK)
        *out = (bp_gemm)k;
    return s;
}

int bp_gemm_available(bp_gemm g)
{
    return g == BP_GEMM_CBLAS || (g == BP_GEMM_ONEDNN && BP_HAVE_ONEDNN);
}

/* BP_GEMM in the environment lets a whole program (a test suite, say) run
 * on the other provider without a change to its code. */
bp_gemm bp_gemm_default(void)
{
    bp_gemm g;
    const char *e = getenv("BP_GEMM");
    if (e && bp_gemm_parse(e, &g) == BP_OK && bp_gemm_available(g))
        return g;
    return BP_HAVE_ONEDNN ? BP_GEMM_ONEDNN : BP_GEMM_CBLAS;
}

#if BP_HAVE_ONEDNN
/* oneDNN's name for the instruction set its kernels use. */
static const char *onednn_isa(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}
#endif

/* OpenBLAS's kernel name is the last word of its configuration string
 * ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Haswell MAX_THREADS=64"). */
static void cblas_describe(char *buf, size_t size, char *isa, size_t isa_size)
{
#if BP_HAVE_OPENBLAS
    const char *c = openblas_get_config();
    snprintf(buf, size, "%s", c);
    /* the core name is the word before "MAX_THREADS" */
    const char *m = strstr(c, " MAX_THREADS");
    const char *b = m;
    while (b && b > c && b[-1] != ' ')
        b--;
    if (isa)
        snprintf(isa, isa_size, "%.*s", m && b ? (int)(m - b) : 1, m && b ? b : "?");
#else
    snprintf(buf, size, "CBLAS");
    if (isa)
        snprintf(isa, isa_size, "unknown");
#endif
}

void bp_gemm_isa(bp_gemm g, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
#if BP_HAVE_ONEDNN
    if (g == BP_GEMM_ONEDNN) {
        snprintf(buf, size, "%s", onednn_isa());
        return;
    }
#endif
    char desc[256];
    if (g == BP_GEMM_CBLAS)
        cblas_describe(desc, sizeof desc, buf, size);
    else
        snprintf(buf, size, "none");
}

bp_status bp_gemm_info(bp_gemm g, char *buf, size_t size)
{
    char line[320];
#if BP_HAVE_ONEDNN
    if (g == BP_GEMM_ONEDNN) {
        const dnnl_version_t *v = dnnl_version();
        snprintf(line, sizeof line, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
                 onednn_isa());
        goto done;
    }
#endif
    if (g == BP_GEMM_CBLAS) {
        char isa[64];
        cblas_describe(line, sizeof line, isa, sizeof isa);
        goto done;
    }
    snprintf(line, sizeof line, "%s: not in this build", bp_gemm_name(g));
    if (buf && size)
        snprintf(buf, size, "%s", line);
    return bp_fail(NULL, BP_ERR_ARG, "bp_gemm_info: %s", line);
done:
    if (buf && size)
        snprintf(buf, size, "%s", line);
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* OpenBLAS's thread count                                                   */
/* ------------------------------------------------------------------------ */

/* OpenBLAS (interface/gemm.c) runs a product on the calling thread when
 * M N K <= SMP_THRESHOLD_MIN (65536) × GEMM_MULTITHREAD_THRESHOLD (4 by
 * default), so below this the count need not be touched. Measured on
 * Debian's 0.3.21 at two threads: 64×64×64 ran on the caller alone,
 * 65×64×64 on both. */
#define BLAS_SOLO_MACS (1L << 18)

/* A larger product runs inside a band of the engine's pool: OpenBLAS's own
 * threads would compete with the pool's. While any such product runs the
 * count is held at one; the first to start saves it, the last to end puts
 * it back. Process-wide by nature, like the count it guards. */
static struct {
    pthread_mutex_t lock;
    int held;  /* products running under the hold */
    int saved; /* the count before the first of them */
} hold = {PTHREAD_MUTEX_INITIALIZER, 0, 1};

static void blas_hold(int on)
{
#if BP_HAVE_OPENBLAS
    pthread_mutex_lock(&hold.lock);
    if (on && hold.held++ == 0 && (hold.saved = openblas_get_num_threads()) > 1)
        openblas_set_num_threads(1);
    if (!on && --hold.held == 0 && hold.saved > 1)
        openblas_set_num_threads(hold.saved);
    pthread_mutex_unlock(&hold.lock);
#else
    (void)on;
#endif
}

/* fork(): the child gets the lock free, and the count back if a product of
 * a thread that is not in the child held it. */
static void hold_prepare(void) { pthread_mutex_lock(&hold.lock); }
static void hold_parent(void) { pthread_mutex_unlock(&hold.lock); }
static void hold_child(void)
{
#if BP_HAVE_OPENBLAS
    if (hold.held > 0 && hold.saved > 1)
        openblas_set_num_threads(hold.saved);
#endif
    hold.held = 0;
    pthread_mutex_unlock(&hold.lock);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void hold_atfork(void) { pthread_atfork(hold_prepare, hold_parent, hold_child); }

void gemm_init(void) { pthread_once(&once, hold_atfork); }

#define SMALL_SIDE 16
#define SMALL_MACS (1L << 18)

void gemm(bp_gemm g, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc)
{
#if BP_HAVE_ONEDNN
    if (g == BP_GEMM_ONEDNN && M >= SMALL_SIDE && N >= SMALL_SIDE && K >= SMALL_SIDE &&
        (long)M * N * K >= SMALL_MACS) {
        int saved = omp_get_max_threads();
        if (saved != 1)
            omp_set_num_threads(1);
        /* dnnl_sgemm allocates its packing buffer on every call. Should that
         * fail, CBLAS computes the product below; this assumes oneDNN's
         * driver allocates before it writes C (true of its sequential path
         * as we read it, not verified in its source). Arguments are checked
         * by the engine, so no other failure is possible. */
        dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B,
                                      ldb, beta, C, ldc);
        if (saved != 1)
            omp_set_num_threads(saved);
        if (st == dnnl_success)
            return;
    }
#endif
    (void)g;
    int held = (long)M * N * K > BLAS_SOLO_MACS;
    if (held)
        blas_hold(1);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (held)
        blas_hold(0);
}

bp_status bp_net_set_gemm(bp_net *net, bp_gemm g)
{
    BP_NEED(net, NULL);
    if (!bp_gemm_available(g))
        return bp_fail(NULL, BP_ERR_ARG, "%s: GEMM provider %d (%s) is not in this build",
                       __func__, (int)g, bp_gemm_name(g));
    net->gemm = g;
    return BP_OK;
}

bp_gemm bp_net_gemm(const bp_net *net)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net"), BP_GEMM_CBLAS;
    return net->gemm;
}
