/*
 * cpu.c — the batch form of section 7 (eq. 51–56): M examples at once,
 * float32, every matrix product one call of the GEMM seam (gemm.c). This is
 * the engine that training uses. It stands alone: device dispatch happens
 * above it (device.c), and a fused descent step reaches it as a rate.
 *
 * Rows are examples (docs/algorithm.md), so the note's Z = W Y + B (N×M)
 * appears transposed: Z [M,out] = Y [M,in] · Wᵀ + b. Transposes are
 * expressed in the product call, never materialised. Nothing here allocates.
 *
 * Each pass is a few phases run by the network's thread pool (pool.c);
 * thread k of T takes a band of the phase's output — columns of Z and Δ,
 * rows of W — so every output has one writer. A phase's product runs on one
 * thread inside its band. T follows the phase's work (pool_threads_for), so the
 * result depends only on the shapes and the pool's size.
 */
#include "backend/backend.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Column bands start on 16 floats (a 64-byte cache line). */
#define ALIGN 16

/* One phase of a pass: what each thread does to its band. */
typedef struct {
    bp_net *net;
    int l;              /* forward: the layer W(l) that makes Z(l+1)             */
    int delta;          /* backward: Δ(delta) to compute, or 0 for none          */
    int update[2];      /* backward: layers whose ∇W, ∇b to form, −1 for none     */
    int r0, r1;         /* with r1 > 0, only ∇W of neurons [r0, r1) of update[0],
                         * and its ∇b whole where r1 is the last (a ready block) */
    float scale, beta;  /* ∇: 1/M and 0 (overwrite); fused descent: −α/M and 1    */
    bp_targets tg;      /* the loss phase's targets                              */
    int T;              /* threads this phase runs on                            */
    bp_status status[BP_MAX_THREADS];
} phase;

/* ------------------------------------------------------------------------ */
/* Per-example descent (M = 1): one pass over W(0) per step                  */
/* ------------------------------------------------------------------------ */

/* At M = 1 a step is bound by streaming the weights through the cache, and
 * W(0) holds most of them (85% in 784-256-128-10). Its descent step
 * W(0) ← W(0) − α δ(1) y(0)ᵀ (eq. 43, 49) is one pass over W(0), and the
 * next example's Z(1) = W(0) y(0) + b(0) (eq. 40) another. So the step is
 * left pending and taken row by row inside the next forward's pass: each
 * row is read and written once per example instead of read twice and
 * written once. Whoever else reads W(0) first takes the step with the same
 * loop (apply_pending, through the mirror's sync_host), so the numbers do
 * not depend on when. The pending step is this backend's own state. */
typedef struct bp_cpu_state {
    int pending;   /* W(0) lags one per-example step   */
    float scale;   /* its −α                           */
    float *y;      /* [N(0)] its y(0); its δ(1) is delta[1] */
    int widest;    /* threads of the widest phase since the last forward pass */
} cpu_state;

static cpu_state *cpu(const bp_net *net) { return net->cpu; }

/* Runs a phase on the threads its work deserves (ph->T, set here). */
static void run(bp_net *net, pool_fn fn, phase *ph, double flops)
{
    ph->T = pool_threads_for(net->pool, flops);
    if (ph->T > cpu(net)->widest)
        cpu(net)->widest = ph->T;
    pool_run_n(net->pool, ph->T, fn, ph);
}

/* The dot product wants several independent sums (one chain of additions
 * costs its latency per element): CLONES (base.h). */
#define LANES 16

static inline float descend(float w, float c, float y) { return w + c * y; }

/* W [out,in]: row j += (s δ_j) ŷ   eq. 43 + 49; then, if y is not NULL,
 * z_j = w_j · y   [out,in]·[in] -> [out]   eq. 40 (bias added by the caller) */
CLONES static void rank1_then_gemv(float *W, int out, int in, float s, const float *d,
                                   const float *yp, const float *y, float *z)
{
    for (int j = 0; j < out; j++) {
        float *w = W + (size_t)j * in, c = s * d[j];
        if (!y) {
            for (int i = 0; i < in; i++)
                w[i] = descend(w[i], c, yp[i]);
            continue;
        }
        float acc[LANES] = {0}, t = 0;
        int i = 0;
        for (; i + LANES <= in; i += LANES)
            for (int k = 0; k < LANES; k++) {
                w[i + k] = descend(w[i + k], c, yp[i + k]);
                acc[k] += w[i + k] * y[i + k];
            }
        for (; i < in; i++) {
            w[i] = descend(w[i], c, yp[i]);
            t += w[i] * y[i];
        }
        for (int k = 0; k < LANES; k++)
            t += acc[k];
        z[j] = t;
    }
}

static void apply_pending(bp_net *net)
{
    cpu_state *c = cpu(net);
    if (!c->pending)
        return;
    const bp_layer *ly = &net->layer[0];
    rank1_then_gemv(ly->W, ly->out, ly->in, c->scale, net->delta[1], c->y, NULL, NULL);
    c->pending = 0;
}

/* ------------------------------------------------------------------------ */
/* Forward                                                                   */
/* ------------------------------------------------------------------------ */

static void forward_band(void *arg, int k, int T)
{
    phase *ph = arg;
    bp_net *net = ph->net;
    int l = ph->l, M = net->M, lo, hi;
    const bp_layer *ly = &net->layer[l];
    const float *Y = bp_net_Y(net, l);
    float *z = net->z[l + 1], *y = net->y[l + 1];
    if (net->acts[l + 1] == BP_ACT_SOFTMAX) {
        /* softmax needs whole rows: this band is examples [lo, hi) */
        pool_share(M, 1, k, T, &lo, &hi);
        if (lo == hi)
            return;
        /* Z(l+1) = Y(l) W(l)ᵀ   [M,in]·[in,out] -> [M,out]   eq. 51, rows = examples;
         * beta = 0 overwrites Z, so it needs no clearing */
        gemm(net->gemm, 0, 1, hi - lo, ly->out, ly->in, 1.0f, Y + (size_t)lo * ly->in,
             ly->in, ly->W, ly->in, 0.0f, z + (size_t)lo * ly->out, ly->out);
        /* + b, then softmax(z/T)   eq. 51, 57, 61, 69, one pass */
        softmax_forward(z + (size_t)lo * ly->out, y + (size_t)lo * ly->out, ly->b, hi - lo,
                        ly->out, (float)net->temperature);
        return;
    }
    /* this band is neurons [lo, hi) of layer l+1: rows lo..hi of W(l) */
    pool_share(ly->out, ALIGN, k, T, &lo, &hi);
    if (lo == hi)
        return;
    /* Z(l+1) = Y(l) W(l)ᵀ, columns lo..hi   eq. 51 */
    gemm(net->gemm, 0, 1, M, hi - lo, ly->in, 1.0f, Y, ly->in, ly->W + (size_t)lo * ly->in,
         ly->in, 0.0f, z + lo, ly->out);
    /* + b, then y = f(z)   eq. 51–52, one pass */
    act_forward(net->acts[l + 1], z + lo, y + lo, ly->b + lo, M, hi - lo, ly->out,
                (float)net->slope);
}

bp_status batch_forward(bp_net *net, const float *x, int M)
{
    if (!x || M < 1 || M > net->max_batch)
        return BP_ERR_ARG;
    /* Y(0) is the network's own copy: the caller's x may go before backward */
    memcpy(net->x, x, (size_t)M * net->sizes[0] * sizeof(float));
    int l0 = 0;
    cpu_state *c = cpu(net);
    if (c->pending && M == 1) { /* the pending step and Z(1), one pass */
        const bp_layer *ly = &net->layer[0];
        float *z = net->z[1], *y = net->y[1];
        rank1_then_gemv(ly->W, ly->out, ly->in, c->scale, net->delta[1], c->y, net->x, z);
        c->pending = 0;
        if (net->acts[1] == BP_ACT_SOFTMAX)
            softmax_forward(z, y, ly->b, 1, ly->out, (float)net->temperature);
        else
            act_forward(net->acts[1], z, y, ly->b, 1, ly->out, ly->out, (float)net->slope);
        l0 = 1;
    }
    apply_pending(net);
    net->M = M;
    c->widest = 1;
    phase ph = {.net = net};
    for (int l = l0; l < net->L; l++) {
        ph.l = l;
        run(net, forward_band, &ph, 2.0 * M * net->layer[l].in * net->layer[l].out);
    }
    return BP_OK;
}

bp_status batch_loss_value(const bp_net *net, bp_targets tg, double *loss)
{
    if (net->M < 1 || (!tg.t == !tg.labels))
        return BP_ERR_ARG;
    return loss_delta(net, net->z[net->L], net->y[net->L], tg, net->M, NULL, loss);
}

/* ------------------------------------------------------------------------ */
/* Backward                                                                  */
/* ------------------------------------------------------------------------ */

/* Δ(L) and the loss of examples [lo, hi): eq. 13/32 (mse) or the fused
 * eq. 68/69 (softmax_ce, sigmoid_bce). Each thread keeps its partial sum;
 * they are added in thread order, so the loss depends only on T. */
static void loss_band(void *arg, int k, int T)
{
    phase *ph = arg;
    bp_net *net = ph->net;
    int L = net->L, n = net->sizes[L], lo, hi;
    pool_share(net->M, 1, k, T, &lo, &hi);
    net->part_loss[k] = 0;
    ph->status[k] = BP_OK;
    if (lo == hi)
        return;
    size_t at = (size_t)lo * n;
    bp_targets tg = {ph->tg.t ? ph->tg.t + at : NULL, ph->tg.labels ? ph->tg.labels + lo : NULL};
    double mean;
    ph->status[k] = loss_delta(net, net->z[L] + at, net->y[L] + at, tg, hi - lo,
                               net->delta[L] + at, &mean);
    net->part_loss[k] = mean * (hi - lo);
}

/* ∇W(l), ∇b(l) of neurons [lo, hi) of layer l+1, written with ph's scale
 * and beta: the gradient, or a descent step straight into W and b. */
static void update_band(const phase *ph, int l, int k, int T)
{
    bp_net *net = ph->net;
    const bp_layer *ly = &net->layer[l];
    const float *d = net->delta[l + 1];
    int M = net->M, lo, hi, r0 = ph->r1 > 0 ? ph->r0 : 0, r1 = ph->r1 > 0 ? ph->r1 : ly->out;
    int blo, bhi; /* the ∇b rows: the band's, or in a ready block's first, all */
    pool_share(r1 - r0, ALIGN, k, T, &lo, &hi);
    lo += r0, hi += r0, blo = lo, bhi = hi;
    if (ph->r1 == ly->out)
        pool_share(ly->out, ALIGN, k, T, &blo, &bhi);
    float *C = ph->beta != 0 ? ly->W : ly->gW, *c = ph->beta != 0 ? ly->b : ly->gb;
    if (lo == hi)
        goto bias;
    /* ∇W(l) = (1/M) Δ(l+1)ᵀ Y(l)   [out,M]·[M,in] -> [out,in]   eq. 52/55;
     * rows lo..hi. beta = 0 overwrites ∇W; fused, beta = 1 adds −α ∇W to W */
    if (M == 1 && ph->beta != 0 && l == 0 && T == 1) { /* left for the next forward */
        cpu_state *c = cpu(net);
        memcpy(c->y, net->x, (size_t)ly->in * sizeof(float));
        c->scale = ph->scale;
        c->pending = 1;
    } else /* at M = 1, eq. 43's outer product δ yᵀ: a product of inner size 1 */
        gemm(net->gemm, 1, 0, hi - lo, ly->in, M, ph->scale, d + lo, ly->out,
             bp_net_Y(net, l), ly->in, ph->beta, C + (size_t)lo * ly->in, ly->in);
bias: /* ∇b(l) = (1/M) Σ_k δ_k(l+1)   [M,out] -> [out]   eq. 53 */
    if (ph->r1 > 0 && ph->r1 < ly->out)
        return; /* a later ready block's: its first took ∇b whole */
    if (ph->beta == 0)
        memset(c + blo, 0, (size_t)(bhi - blo) * sizeof(float));
    for (int m = 0; m < M; m++)
        for (int j = blo; j < bhi; j++)
            c[j] += ph->scale * d[(size_t)m * ly->out + j];
}

/* Δ(l) of neurons [lo, hi) of layer l, from Δ(l+1) and the old W(l) */
static void delta_band(const phase *ph, int l, int k, int T)
{
    bp_net *net = ph->net;
    const bp_layer *ly = &net->layer[l];
    int M = net->M, lo, hi;
    pool_share(ly->in, ALIGN, k, T, &lo, &hi);
    if (lo == hi)
        return;
    /* Δ(l) = (Δ(l+1) W(l)) ⊙ f'(Z(l))   [M,out]·[out,in] -> [M,in]   eq. 56 */
    gemm(net->gemm, 0, 0, M, hi - lo, ly->out, 1.0f, net->delta[l + 1], ly->out, ly->W + lo,
         ly->in, 0.0f, net->delta[l] + lo, ly->in);
    act_backward(net->acts[l], net->delta[l] + lo, net->z[l] + lo, net->y[l] + lo, M, hi - lo,
                 ly->in, (float)net->slope);
}

static void backward_band(void *arg, int k, int T)
{
    phase *ph = arg;
    for (int i = 0; i < 2; i++)
        if (ph->update[i] >= 0)
            update_band(ph, ph->update[i], k, T);
    if (ph->delta > 0)
        delta_band(ph, ph->delta, k, T);
}

/* The flops of a backward phase: its ∇W products and its Δ product. */
static double backward_flops(const bp_net *net, const phase *ph)
{
    double f = 0;
    for (int i = 0; i < 2; i++)
        if (ph->update[i] >= 0)
            f += 2.0 * net->M * net->layer[ph->update[i]].in *
                 (ph->r1 > 0 ? ph->r1 - ph->r0 : net->layer[ph->update[i]].out);
    if (ph->delta > 0)
        f += 2.0 * net->M * net->layer[ph->delta].in * net->layer[ph->delta].out;
    return f;
}

/* The gradients with a ready plan (nn.h): layer by layer from the output
 * down, ∇(l) in its blocks of rows, each block followed by the points it
 * completes, then Δ(l) for the layer below, from the old W(l) (eq. 56). Each
 * element is the same product as in the phases below, at another band. */
static void ready_backward(bp_net *net, phase *ph)
{
    bp_ready_plan *p = net->ready;
    for (int l = net->L - 1; l >= 0; l--) {
        const bp_layer *ly = &net->layer[l];
        ph->update[0] = l, ph->delta = 0;
        for (int hi = ly->out; hi > 0; hi -= p->rows[l]) {
            ph->r0 = hi > p->rows[l] ? hi - p->rows[l] : 0, ph->r1 = hi;
            run(net, backward_band, ph, backward_flops(net, ph));
            size_t from = (size_t)(ly->gW - net->grads) + (size_t)ph->r0 * ly->in;
            while (p->next < p->n && p->at[p->next] >= from)
                p->ready(p->ctx, p->next++);
        }
        ph->update[0] = -1, ph->r1 = 0, ph->delta = l;
        if (l > 0)
            run(net, backward_band, ph, backward_flops(net, ph));
    }
}

/* The backward pass (eq. 52–56). With rate 0 it overwrites the gradient
 * buffer; otherwise each layer's gradient goes straight into a descent step
 * (eq. 49–50), taken after that layer's δ(l) has used the old W(l).
 * Phases: [Δ(L)], [Δ(L−1)], [∇(L−1), Δ(L−2)], ..., [∇(1), ∇(0)]: each needs
 * only what earlier phases finished, and no phase reads a W it changes.
 * The input layer gets no error term: Δ(0) is never computed. */
bp_status batch_backward(bp_net *net, bp_targets tg, double rate, double *loss)
{
    int M = net->M, L = net->L;
    if (M < 1 || (!tg.t == !tg.labels) || !(rate >= 0))
        return BP_ERR_ARG;
    apply_pending(net); /* Δ(1) is about to be overwritten */

    phase ph = {.net = net, .tg = tg, .update = {-1, -1}};
    run(net, loss_band, &ph, 8.0 * M * net->sizes[L]);
    double total = 0;
    for (int k = 0; k < ph.T; k++) {
        if (ph.status[k] != BP_OK)
            return ph.status[k];
        total += net->part_loss[k];
    }
    if (loss)
        *loss = total / M;
    if (rate > 0 && !isfinite(total)) /* a diverged descent step is not taken */
        return BP_ERR_NONFINITE;

    /* ∇ carries 1/M (eq. 52); a fused step carries −α/M */
    ph.scale = rate > 0 ? (float)(-rate / M) : 1.0f / (float)M;
    ph.beta = rate > 0 ? 1.0f : 0.0f;
    if (net->ready && rate == 0) {
        ready_backward(net, &ph);
        return BP_OK;
    }
    if (L > 1) {
        ph.delta = L - 1;
        run(net, backward_band, &ph, backward_flops(net, &ph));
    }
    for (int l = L - 1; l >= 2; l--) {
        ph.update[0] = l;
        ph.delta = l - 1;
        run(net, backward_band, &ph, backward_flops(net, &ph));
    }
    ph.update[0] = L > 1 ? 1 : 0;
    ph.update[1] = L > 1 ? 0 : -1;
    ph.delta = 0;
    run(net, backward_band, &ph, backward_flops(net, &ph));
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Anomalies                                                                 */
/* ------------------------------------------------------------------------ */

/* The first non-finite value of v [rows, cols]: 0 and its place, or 1. */
static int first_bad(const float *v, int rows, int cols, int *row, int *col)
{
    for (size_t k = 0; k < (size_t)rows * cols; k++)
        if (!isfinite(v[k])) {
            *row = (int)(k / (size_t)cols);
            *col = (int)(k % (size_t)cols);
            return 0;
        }
    return 1;
}

bp_status batch_find_nonfinite(const bp_net *net, char *where, size_t size)
{
    int L = net->L, M = net->M, r, c;
    for (int l = 1; l <= L && M > 0; l++) {
        if (!first_bad(net->z[l], M, net->sizes[l], &r, &c)) {
            snprintf(where, size, "z of layer %d (example %d, neuron %d)", l, r + 1, c + 1);
            return BP_ERR_NONFINITE;
        }
        if (!first_bad(net->y[l], M, net->sizes[l], &r, &c)) {
            snprintf(where, size, "y of layer %d (example %d, neuron %d)", l, r + 1, c + 1);
            return BP_ERR_NONFINITE;
        }
    }
    for (int l = L; l >= 1 && M > 0; l--)
        if (!first_bad(net->delta[l], M, net->sizes[l], &r, &c)) {
            snprintf(where, size, "δ of layer %d (example %d, neuron %d)", l, r + 1, c + 1);
            return BP_ERR_NONFINITE;
        }
    const float *bufs[2] = {net->grads, net->params};
    const char *names[2] = {"gradient", "parameter"};
    for (int b = 0; b < 2; b++)
        for (int l = L - 1; l >= 0; l--) {
            const bp_layer *ly = &net->layer[l];
            size_t w = (size_t)(ly->W - net->params), bias = (size_t)(ly->b - net->params);
            if (!first_bad(bufs[b] + w, ly->out, ly->in, &r, &c)) {
                snprintf(where, size, "%s of W(%d) (row %d, column %d)", names[b], l, r + 1,
                         c + 1);
                return BP_ERR_NONFINITE;
            }
            if (!first_bad(bufs[b] + bias, 1, ly->out, &r, &c)) {
                snprintf(where, size, "%s of b(%d) (entry %d)", names[b], l, c + 1);
                return BP_ERR_NONFINITE;
            }
        }
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* The CPU backend                                                           */
/* ------------------------------------------------------------------------ */

/* The host buffers are the network's own: only a pending step to take. */
static void cpu_sync_host(const bp_net *net, unsigned what)
{
    /* taking a deferred step does not change what the network is (the step
     * was taken), hence the cast */
    if (what & BP_MIRROR_PARAMS)
        apply_pending((bp_net *)net);
}

static void cpu_host_wrote(bp_net *net, unsigned what) { (void)net, (void)what; }

static void cpu_release(bp_net *net)
{
    cpu_state *c = cpu(net);
    if (c)
        free(c->y);
    free(c);
    net->cpu = NULL;
}

bp_status cpu_create(bp_net *net, bp_error *err)
{
    cpu_state *c = calloc(1, sizeof *c);
    float *y = calloc((size_t)net->sizes[0], sizeof *y);
    if (!c || !y) {
        free(c), free(y);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the CPU backend");
    }
    c->y = y;
    c->widest = pool_threads(net->pool);
    net->cpu = c;
    return BP_OK;
}

int batch_threads(const bp_net *net) { return net->cpu ? net->cpu->widest : 1; }

const bp_backend_i bp_backend_cpu = {
    .mirror = {cpu_sync_host, cpu_host_wrote, cpu_release, NULL},
    .forward = batch_forward,
    .backward = batch_backward,
};
