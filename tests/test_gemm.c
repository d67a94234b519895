/*
 * test_gemm.c — the GEMM seam (src/backend/gemm.c) against a plain double-precision
 * product, on every provider of the build: all four transpositions, shapes
 * on both sides of the small-product threshold (so oneDNN and its CBLAS
 * fallback both run), leading dimensions wider than the product (the
 * engine's column bands), alpha and beta as the engine uses them (1, 0;
 * −α/M, 1 for the fused step).
 */
#include "check.h"
#include "io/io.h"

#include <stdlib.h>

static float rnd(bp_rng *r) { return (float)(2 * bp_rng_uniform(r) - 1); }

/* C [M,N] (ldc) = alpha op(A) op(B) + beta C in double; op(A) is [M,K] */
static void reference(int ta, int tb, int M, int N, int K, double alpha, const float *A, int lda,
                      const float *B, int ldb, double beta, const float *C, int ldc, double *out)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            out[(size_t)i * N + j] = alpha * s + beta * C[(size_t)i * ldc + j];
        }
}

int main(void)
{
    static const int dims[][3] = {{1, 256, 784}, {16, 10, 128}, {64, 128, 256}, {7, 33, 1},
                                  {300, 17, 40}, {16, 16, 16}, {128, 96, 200}, {2, 3, 5}};
    bp_rng r;
    bp_rng_seed(&r, 5);
    int providers = 0;
    for (int g = 0; g < 2; g++) {
        if (!bp_gemm_available((bp_gemm)g))
            continue;
        providers++;
        double worst = 0;
        for (size_t d = 0; d < sizeof dims / sizeof *dims; d++)
            for (int t = 0; t < 8; t++) {
                int ta = t & 1, tb = (t >> 1) & 1, fused = (t >> 2) & 1;
                int M = dims[d][0], N = dims[d][1], K = dims[d][2], pad = 3;
                int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb,
                       nc = (size_t)M * ldc;
                float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B),
                      *C = malloc(nc * sizeof *C), *C0 = malloc(nc * sizeof *C0);
                double *want = malloc((size_t)M * N * sizeof *want);
                for (size_t k = 0; k < na; k++)
                    A[k] = rnd(&r);
                for (size_t k = 0; k < nb; k++)
                    B[k] = rnd(&r);
                for (size_t k = 0; k < nc; k++)
                    C[k] = C0[k] = rnd(&r);
                float alpha = fused ? -0.05f / M : 1.0f, beta = fused ? 1.0f : 0.0f;
                reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, want);
                gemm((bp_gemm)g, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) {
                        /* float32 sums of K terms of size ~1: ~K·2⁻²⁴ relative */
                        double w = want[(size_t)i * N + j], e = fabs(C[(size_t)i * ldc + j] - w);
                        double tol = 1e-6 * (K + 4) * fmax(1.0, fabs(w));
                        if (e / fmax(1.0, fabs(w)) > worst)
                            worst = e / fmax(1.0, fabs(w));
                        CHECK(e <= tol, "%s %c%c M=%d N=%d K=%d [%d,%d]: %.9g vs %.9g",
                              bp_gemm_name((bp_gemm)g), ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K,
                              i, j, C[(size_t)i * ldc + j], w);
                    }
                    /* the padding past N is not C's: untouched */
                    for (int j = N; j < ldc; j++)
                        CHECK(C[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j], "%s wrote past N",
                              bp_gemm_name((bp_gemm)g));
                }
                free(A), free(B), free(C), free(C0), free(want);
            }
        char info[256];
        bp_gemm_info((bp_gemm)g, info, sizeof info);
        printf("%s: worst relative error %.3g (%s)\n", bp_gemm_name((bp_gemm)g), worst, info);
    }
    CHECK(providers >= 1, "no provider");
    CHECK(bp_gemm_available(BP_GEMM_CBLAS), "CBLAS is always there");
    bp_gemm g;
    CHECK(bp_gemm_parse("mkl", &g) == BP_ERR_ARG, "unknown name");
    CHECK(bp_gemm_parse("cblas", &g) == BP_OK && g == BP_GEMM_CBLAS, "cblas");
    CHECK(bp_gemm_available((bp_gemm)7) == 0, "out of range");
    CHECK_DONE();
}
