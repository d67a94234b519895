/*
 * scalar.c — the scalar form of sections 4–5: one example at a time, one
 * neuron and one weight at a time, in double, following eq. 1, 2, 13, 17, 26
 * and 37 literally (and eq. 57–69 for softmax and cross-entropy).
 *
 * This is the readable reference and the test oracle, not the engine: it is
 * deliberately unoptimised and shares no arithmetic with cpu.c or
 * losses.c beyond the scalar f and f' of activations.c.
 *
 * Indices as in the note: w_ij(l) joins neuron i of layer l to neuron j of
 * layer l+1; it is stored at W(l)[j*N(l) + i] (the row-major layout of docs/algorithm.md).
 */
#include "nn/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bp_trace *bp_trace_create(const bp_net *net)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net"), NULL;
    bp_trace *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    size_t units = 0;
    tr->n_layers = net->L;
    tr->sizes = net->sizes;
    tr->offset = malloc((size_t)(net->L + 1) * sizeof(size_t));
    if (tr->offset)
        for (int l = 0; l <= net->L; l++) {
            tr->offset[l] = units;
            units += (size_t)net->sizes[l];
        }
    tr->z = calloc(units, sizeof(double));
    tr->y = calloc(units, sizeof(double));
    tr->delta = calloc(units, sizeof(double));
    if (!tr->offset || !tr->z || !tr->y || !tr->delta) {
        bp_trace_free(tr);
        return NULL;
    }
    return tr;
}

void bp_trace_free(bp_trace *tr)
{
    if (!tr)
        return;
    free(tr->offset);
    free(tr->z);
    free(tr->y);
    free(tr->delta);
    free(tr);
}

/* w_ij(l) and the matching gradient entry */
#define W_IJ(l, i, j) params[(net->layer[l].W - net->params) + (size_t)(j) * net->sizes[l] + (i)]
#define B_J(l, j) params[(net->layer[l].b - net->params) + (j)]
#define GW_IJ(l, i, j) grad[(net->layer[l].W - net->params) + (size_t)(j) * net->sizes[l] + (i)]
#define GB_J(l, j) grad[(net->layer[l].b - net->params) + (j)]

/* One example: forward, output error, backward; adds its gradient to grad
 * (accumulates: the caller sums over the batch, eq. 52) and returns its loss. */
static double scalar_example(const bp_net *net, const double *params, const double *x,
                             const double *t, int label, double *grad, bp_trace *tr)
{
    int L = net->L;
    double slope = net->slope, T = net->temperature;
    double *z, *y, *delta;

    /* ---- forward: eq. 1 and 2, neuron by neuron ---- */
    y = tr->y + tr->offset[0];
    for (int i = 0; i < net->sizes[0]; i++)
        y[i] = x[i];
    for (int l = 0; l < L; l++) {
        const double *y_in = tr->y + tr->offset[l];
        z = tr->z + tr->offset[l + 1];
        y = tr->y + tr->offset[l + 1];
        for (int j = 0; j < net->sizes[l + 1]; j++) {
            double sum = B_J(l, j);
            for (int i = 0; i < net->sizes[l]; i++)
                sum += y_in[i] * W_IJ(l, i, j); /* z_j = Σ_i y_i w_ij + b_j   eq. 1 */
            z[j] = sum;
            if (net->acts[l + 1] != BP_ACT_SOFTMAX)
                y[j] = bp_act_f(net->acts[l + 1], z[j], slope); /* eq. 2 */
        }
    }

    /* ---- output layer: loss and δ(L) ---- */
    int n = net->sizes[L];
    z = tr->z + tr->offset[L];
    y = tr->y + tr->offset[L];
    delta = tr->delta + tr->offset[L];
    double loss = 0.0;
#define T_J(j) (t ? t[j] : ((j) == label ? 1.0 : 0.0))
    switch (net->loss) {
    case BP_LOSS_MSE:
        for (int j = 0; j < n; j++) {
            loss += 0.5 * (T_J(j) - y[j]) * (T_J(j) - y[j]); /* eq. 6 */
            /* δ_j = ∂L/∂y_j · ∂y_j/∂z_j = −(t_j − y_j) f'(z_j)   eq. 13, 9 */
            delta[j] = -(T_J(j) - y[j]) * bp_act_df(net->acts[L], z[j], y[j], slope);
        }
        break;
    case BP_LOSS_SOFTMAX_CE: {
        /* y_j = e^{(z_j − max z)/T} / Σ_k e^{(z_k − max z)/T}   eq. 57, 61, 69 */
        double zmax = z[0], sum = 0.0, sum_t = 0.0;
        for (int j = 1; j < n; j++)
            if (z[j] > zmax)
                zmax = z[j];
        for (int j = 0; j < n; j++)
            sum += exp((z[j] - zmax) / T);
        for (int j = 0; j < n; j++) {
            y[j] = exp((z[j] - zmax) / T) / sum;
            /* L = −Σ t_j log y_j, log y_j = (z_j − max z)/T − log Σ   eq. 62 */
            loss -= T_J(j) * ((z[j] - zmax) / T - log(sum));
            sum_t += T_J(j);
        }
        /* δ_j = (y_j − t_j)/T   eq. 68, 69; y_j Σt keeps it exact for soft
         * targets that do not sum to 1 */
        for (int j = 0; j < n; j++)
            delta[j] = (y[j] * sum_t - T_J(j)) / T;
        break;
    }
    case BP_LOSS_SIGMOID_BCE:
        for (int j = 0; j < n; j++) {
            /* −t log σ(z) − (1−t) log(1−σ(z)), as softplus so that it stays
             * finite where σ(z) rounds to 0 or 1 */
            loss += (z[j] > 0 ? z[j] : 0.0) - T_J(j) * z[j] + log1p(exp(-fabs(z[j])));
            delta[j] = y[j] - T_J(j);
        }
        break;
    case BP_LOSS_COUNT: break;
    }
#undef T_J

    /* ---- backward, layer by layer, weight by weight ---- */
    for (int l = L - 1; l >= 0; l--) {
        const double *y_in = tr->y + tr->offset[l];
        const double *d_out = tr->delta + tr->offset[l + 1];
        for (int j = 0; j < net->sizes[l + 1]; j++) {
            for (int i = 0; i < net->sizes[l]; i++)
                GW_IJ(l, i, j) += d_out[j] * y_in[i]; /* ∂L/∂w_ij = δ_j(l+1) y_i(l)   eq. 17 */
            GB_J(l, j) += d_out[j];                   /* ∂L/∂b_j = δ_j(l+1)   eq. 37 */
        }
        if (l == 0)
            break; /* the input layer has no error term */
        double *d_in = tr->delta + tr->offset[l];
        const double *z_in = tr->z + tr->offset[l];
        for (int i = 0; i < net->sizes[l]; i++) {
            double sum = 0.0;
            for (int k = 0; k < net->sizes[l + 1]; k++)
                sum += d_out[k] * W_IJ(l, i, k); /* Σ_k δ_k(l+1) w_ik   eq. 26 */
            d_in[i] = sum * bp_act_df(net->acts[l], z_in[i], y_in[i], slope);
        }
    }
    return loss;
}

bp_status bp_scalar_gradient(const bp_net *net, const double *params, const float *x,
                             bp_targets tg, int M, double *grad, double *loss, bp_trace *trace)
{
    BP_NEED(net, NULL);
    BP_NEED(params, NULL);
    BP_NEED(x, NULL);
    BP_NEED(grad, NULL);
    int n_in = net->sizes[0], n_out = net->sizes[net->L];
    if (M < 1)
        return bp_fail(NULL, BP_ERR_ARG, "%s: M = %d < 1", __func__, M);
    bp_status s = bp_check_targets(__func__, net, tg, M);
    if (s != BP_OK)
        return s;
    if (trace && (trace->n_layers != net->L ||
                  memcmp(trace->sizes, net->sizes, (size_t)(net->L + 1) * sizeof(int)) != 0))
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: the trace is another network's", __func__);

    bp_trace *tr = trace ? trace : bp_trace_create(net);
    /* one example's x and t widened to double, as scalar_example reads them */
    double *xd = malloc((size_t)(n_in + n_out) * sizeof *xd), *td = xd + n_in;
    if (!tr || !xd) {
        free(xd);
        if (!trace)
            bp_trace_free(tr);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory", __func__);
    }
    memset(grad, 0, net->n_params * sizeof(double));
    double total = 0.0;
    for (int m = 0; m < M; m++) {
        for (int i = 0; i < n_in; i++)
            xd[i] = x[(size_t)m * n_in + i];
        for (int j = 0; tg.t && j < n_out; j++)
            td[j] = tg.t[(size_t)m * n_out + j];
        total += scalar_example(net, params, xd, tg.t ? td : NULL, tg.labels ? tg.labels[m] : -1,
                                grad, tr);
    }
    /* ∇ = (1/M) Σ_k ∇_k   eq. 52–53 */
    for (size_t k = 0; k < net->n_params; k++)
        grad[k] /= M;
    if (loss)
        *loss = total / M;
    free(xd);
    if (!trace)
        bp_trace_free(tr);
    return BP_OK;
}

bp_status bp_scalar_example(const bp_net *net, const double *params, const double *x,
                            const double *t, int32_t label, double *grad, double *loss,
                            bp_trace *trace)
{
    BP_NEED(net, NULL);
    BP_NEED(params, NULL);
    BP_NEED(x, NULL);
    BP_NEED(grad, NULL);
    BP_NEED(trace, NULL);
    /* a trace of another network would be written out of its bounds */
    if (trace->n_layers != net->L ||
        memcmp(trace->sizes, net->sizes, (size_t)(net->L + 1) * sizeof(int)) != 0)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: the trace is another network's", __func__);
    if (!t && net->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(NULL, BP_ERR_ARG, "%s: a class label needs loss softmax_ce, not %s",
                       __func__, bp_loss_name(net->loss));
    if (!t && (label < 0 || label >= net->sizes[net->L]))
        return bp_fail(NULL, BP_ERR_ARG, "%s: label %d not in 0..%d", __func__, (int)label,
                       net->sizes[net->L] - 1);
    memset(grad, 0, net->n_params * sizeof(double));
    double l = scalar_example(net, params, x, t, label, grad, trace);
    if (loss)
        *loss = l;
    return BP_OK;
}
