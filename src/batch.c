/*
 * batch.c — the batch form of section 7 (eq. 51–56): M examples at once,
 * float32, every matrix product one CBLAS sgemm. This is the engine that
 * training uses.
 *
 * Rows are examples (SPEC.md §2), so the note's Z = W Y + B (N×M) appears
 * transposed: Z [M,out] = Y [M,in] · Wᵀ + b. Transposes are expressed in the
 * sgemm call, never materialised. Nothing here allocates.
 */
#include "internal.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>

bp_status bp_forward(bp_net *net, const float *x, int M)
{
    if (!x || M < 1 || M > net->max_batch)
        return BP_ERR_ARG;
    net->x = x;
    net->M = M;
    for (int l = 0; l < net->L; l++) {
        const bp_layer *ly = &net->layer[l];
        float *z = net->z[l + 1], *y = net->y[l + 1];
        /* Z(l+1) = Y(l) W(l)ᵀ   [M,in]·[in,out] -> [M,out]   eq. 51, rows = examples;
         * beta = 0 overwrites Z, so it needs no clearing */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, ly->out, ly->in, 1.0f,
                    bp_net_Y(net, l), ly->in, ly->W, ly->in, 0.0f, z, ly->out);
        /* + b, then y = f(z)   eq. 51–52, one pass */
        if (net->acts[l + 1] == BP_ACT_SOFTMAX)
            softmax_forward(z, y, ly->b, M, ly->out, (float)net->T);
        else
            act_forward(net->acts[l + 1], z, y, ly->b, M, ly->out, (float)net->slope);
    }
    return BP_OK;
}

const float *bp_net_output(const bp_net *net) { return net->y[net->L]; }

bp_status bp_loss_value(const bp_net *net, bp_targets tg, double *loss)
{
    if (net->M < 1 || (!tg.t == !tg.labels))
        return BP_ERR_ARG;
    return loss_delta(net, net->z[net->L], net->y[net->L], tg, net->M, NULL, loss);
}

/* The backward pass (eq. 52–56). With opt NULL it overwrites the gradient
 * buffer; otherwise each layer's gradient goes straight into a descent step
 * (eq. 49–50), taken after that layer's δ(l) has used the old W(l). */
static bp_status backward(bp_net *net, bp_targets tg, bp_optimizer *opt, double *loss)
{
    int M = net->M, L = net->L;
    if (M < 1 || (!tg.t == !tg.labels))
        return BP_ERR_ARG;

    /* Δ(L): eq. 13/32 (mse) or the fused eq. 68/69 (softmax_ce, sigmoid_bce) */
    bp_status s = loss_delta(net, net->z[L], net->y[L], tg, M, net->delta[L], loss);
    if (s != BP_OK)
        return s;

    /* ∇ carries 1/M (eq. 52); a fused step carries −α/M */
    float scale = opt ? (float)(-optim_fused_sgd_rate(opt) / M) : 1.0f / (float)M;
    for (int l = L - 1; l >= 0; l--) {
        const bp_layer *ly = &net->layer[l];
        const float *d = net->delta[l + 1];
        /* Δ(l) = (Δ(l+1) W(l)) ⊙ f'(Z(l))   [M,out]·[out,in] -> [M,in]   eq. 56;
         * the input layer gets none */
        if (l > 0) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, ly->in, ly->out, 1.0f, d,
                        ly->out, ly->W, ly->in, 0.0f, net->delta[l], ly->in);
            act_backward(net->acts[l], net->delta[l], net->z[l], net->y[l], M, ly->in,
                         (float)net->slope);
        }
        /* ∇W(l) = (1/M) Δ(l+1)ᵀ Y(l)   [out,M]·[M,in] -> [out,in]   eq. 52/55:
         * beta = 0 overwrites the gradient; fused, beta = 1 adds −α ∇W to W */
        float *C = opt ? ly->W : ly->gW, *c = opt ? ly->b : ly->gb;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ly->out, ly->in, M, scale, d,
                    ly->out, bp_net_Y(net, l), ly->in, opt ? 1.0f : 0.0f, C, ly->in);
        /* ∇b(l) = (1/M) Σ_k δ_k(l+1)   [M,out] -> [out]   eq. 53 */
        if (!opt)
            memset(c, 0, (size_t)ly->out * sizeof(float));
        for (int m = 0; m < M; m++)
            for (int j = 0; j < ly->out; j++)
                c[j] += scale * d[(size_t)m * ly->out + j];
    }
    return BP_OK;
}

bp_status bp_backward(bp_net *net, bp_targets tg, double *loss)
{
    return backward(net, tg, NULL, loss);
}

bp_status backward_fused_sgd(bp_net *net, bp_targets tg, bp_optimizer *opt, double *loss)
{
    return backward(net, tg, opt, loss);
}

double bp_step_flops(const bp_net *net)
{
    double f = 0;
    for (int l = 0; l < net->L; l++)
        f += 2.0 * net->layer[l].in * net->layer[l].out * (l > 0 ? 3 : 2);
    return f;
}

void bp_step_sgemm_only(bp_net *net, const float *x, int M, int reps)
{
    for (int r = 0; r < reps; r++) {
        for (int l = 0; l < net->L; l++) {
            const bp_layer *ly = &net->layer[l];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, ly->out, ly->in, 1.0f,
                        l ? net->y[l] : x, ly->in, ly->W, ly->in, 0.0f, net->z[l + 1], ly->out);
        }
        for (int l = net->L - 1; l >= 0; l--) {
            const bp_layer *ly = &net->layer[l];
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ly->out, ly->in, M, 1.0f,
                        net->delta[l + 1], ly->out, l ? net->y[l] : x, ly->in, 0.0f, ly->gW,
                        ly->in);
            if (l > 0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, ly->in, ly->out, 1.0f,
                            net->delta[l + 1], ly->out, ly->W, ly->in, 0.0f, net->delta[l],
                            ly->in);
        }
    }
}

#if BP_HAVE_OPENBLAS
/* OpenBLAS's own extensions; declared here so that only this file knows them */
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
#endif

void bp_set_threads(int threads)
{
#if BP_HAVE_OPENBLAS
    if (threads > 0)
        openblas_set_num_threads(threads);
#else
    (void)threads;
#endif
}

void bp_blas_info(char *buf, size_t size)
{
#if BP_HAVE_OPENBLAS
    snprintf(buf, size, "%s, %d threads", openblas_get_config(), openblas_get_num_threads());
#else
    snprintf(buf, size, "CBLAS");
#endif
}
