/*
 * vector.c — the vector form of section 6 (eq. 40–46): one example, each
 * layer one matrix–vector product (sgemv), each weight gradient one outer
 * product (sger), float32.
 *
 * It is the bridge between the scalar loops and the batch engine, kept so
 * that the tests can show all three forms agree; training does not use it.
 * It borrows row 0 of the network's work buffers, so no allocation here.
 */
#include "nn/nn.h"

#include <cblas.h>
#include <string.h>

void vector_forward(bp_net *net, const float *x)
{
    int L = net->L;
    float slope = (float)net->slope;
    /* a CUDA network: on its host mirror, whose work rows now hold this */
    bp_net_sync_host(net, BP_MIRROR_PARAMS);
    bp_net_host_wrote(net, BP_MIRROR_WORK | BP_MIRROR_OUTPUT);
    memcpy(net->x, x, (size_t)net->sizes[0] * sizeof(float));
    net->M = 1;
    for (int l = 0; l < L; l++) {
        const bp_layer *ly = &net->layer[l];
        float *z = net->z[l + 1], *y = net->y[l + 1];
        /* z(l+1) = W(l) y(l)   [out,in]·[in] -> [out]   eq. 40 */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, ly->out, ly->in, 1.0f, ly->W, ly->in,
                    bp_net_Y(net, l), 1, 0.0f, z, 1);
        /* + b, y = f(z)   eq. 40, eq. 2 */
        if (net->acts[l + 1] == BP_ACT_SOFTMAX)
            softmax_forward(z, y, ly->b, 1, ly->out, (float)net->temperature);
        else
            act_forward(net->acts[l + 1], z, y, ly->b, 1, ly->out, ly->out, slope);
    }
}

bp_status bp_vector_gradient(bp_net *net, const float *x, const float *t, int32_t label,
                             float *grad, double *loss)
{
    BP_NEED(net, NULL);
    BP_NEED(x, NULL);
    BP_NEED(grad, NULL);
    int L = net->L;
    float slope = (float)net->slope;
    bp_targets tg = {t, t ? NULL : &label};
    bp_status s = bp_check_targets(__func__, net, tg, 1);
    if (s != BP_OK)
        return s;

    vector_forward(net, x);

    /* δ(L)   eq. 13/32, 68/69 */
    s = loss_delta(net, net->z[L], net->y[L], tg, 1, net->delta[L], loss);
    if (s != BP_OK)
        return s;

    for (int l = L - 1; l >= 0; l--) {
        const bp_layer *ly = &net->layer[l];
        const float *d = net->delta[l + 1];
        float *gW = grad + (ly->W - net->params), *gb = grad + (ly->b - net->params);
        /* ∇W(l) = δ(l+1) y(l)ᵀ   [out]·[in]ᵀ -> [out,in]   eq. 43; sger accumulates,
         * so the buffer is cleared first: overwrites */
        memset(gW, 0, (size_t)ly->out * ly->in * sizeof(float));
        cblas_sger(CblasRowMajor, ly->out, ly->in, 1.0f, d, 1, bp_net_Y(net, l), 1, gW, ly->in);
        /* ∇b(l) = δ(l+1)   eq. 46; overwrites */
        memcpy(gb, d, (size_t)ly->out * sizeof(float));
        /* δ(l) = W(l)ᵀ δ(l+1) ⊙ f'(z(l))   [in,out]·[out] -> [in]   eq. 45 */
        if (l > 0) {
            cblas_sgemv(CblasRowMajor, CblasTrans, ly->out, ly->in, 1.0f, ly->W, ly->in, d, 1,
                        0.0f, net->delta[l], 1);
            act_backward(net->acts[l], net->delta[l], net->z[l], net->y[l], 1, ly->in, ly->in,
                         slope);
        }
    }
    return BP_OK;
}
