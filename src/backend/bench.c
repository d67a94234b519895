/*
 * bench.c — what `backprop bench` measures a step against, where it needs
 * the network's insides: the flops of a step, and the same step's products
 * alone through the GEMM seam, split over the network's threads as the
 * engine splits them (the ceiling of the provider). The machine's own limit,
 * the FMA peak, is measured by the CLI (cli/peak.c).
 */
#include "backend/backend.h"

double bp_step_flops(const bp_net *net)
{
    double f = 0;
    for (int l = 0; l < net->L; l++)
        f += 2.0 * net->layer[l].in * net->layer[l].out * (l > 0 ? 3 : 2);
    return f;
}

/* One product of the step, split over all the pool's threads in the bands
 * the engine uses (the engine keeps phases too small to split on one):
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
        gemm(p->g, p->ta, p->tb, hi - lo, p->N, p->K, 1.0f,
             p->A + (p->ta ? (size_t)lo : (size_t)lo * p->lda), p->lda, p->B, p->ldb, 0.0f,
             p->C + (size_t)lo * p->ldc, p->ldc);
    else /* columns lo..hi of C = columns of op(B) = rows of B when tb */
        gemm(p->g, p->ta, p->tb, p->M, hi - lo, p->K, 1.0f, p->A, p->lda,
             p->B + (p->tb ? (size_t)lo * p->ldb : (size_t)lo), p->ldb, 0.0f, p->C + lo, p->ldc);
}

static void run_product(bp_net *net, product p) { pool_run(net->pool, product_band, &p); }

void bp_step_gemm_only(bp_net *net, const float *x, int M, int reps)
{
    bp_net_sync_host(net, BP_MIRROR_PARAMS); /* a deferred step taken */
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
