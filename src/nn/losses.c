/*
 * losses.c — the output layer's losses and their error terms δ(L):
 *   mse          eq. 6,  δ = −(t − y) ⊙ f'(z)               eq. 13/32
 *   softmax_ce   eq. 62 on softmax(z/T) (eq. 57, 69),  δ = (y − t)/T  eq. 68/69
 *   sigmoid_bce  −Σ t log y + (1 − t) log(1 − y),     δ = y − t
 * and the softmax forward pass (eq. 61), which only exists fused with its
 * cross-entropy. Per-example losses are summed over outputs and averaged
 * over the batch (docs/algorithm.md).
 *
 * Never computed: log(softmax) or log(sigmoid) as two steps, which lose
 * everything for |z| large; the losses are written in log-sum-exp and
 * softplus form instead. The double-precision reference of the same maths
 * is in scalar.c.
 */
#include "nn/nn.h"

#include <math.h>
#include <string.h>

static const char *const loss_names[BP_LOSS_COUNT] = {
    [BP_LOSS_MSE] = "mse",
    [BP_LOSS_SOFTMAX_CE] = "softmax_ce",
    [BP_LOSS_SIGMOID_BCE] = "sigmoid_bce",
};

const char *bp_loss_name(bp_loss l)
{
    return (unsigned)l < BP_LOSS_COUNT ? loss_names[l] : "unknown";
}

bp_status bp_loss_parse(const char *name, bp_loss *out)
{
    int k;
    bp_status s = bp_name_parse(__func__, loss_names, BP_LOSS_COUNT, name, out ? &k : NULL);
    if (s == BP_OK)
        *out = (bp_loss)k;
    return s;
}

bp_status bp_check_targets(const char *fn, const bp_net *net, bp_targets tg, int M)
{
    int n = net->sizes[net->L];
    if (!tg.t == !tg.labels)
        return bp_fail(NULL, BP_ERR_ARG, "%s: targets: give exactly one of t and labels (%s)",
                       fn, tg.t ? "both given" : "both NULL");
    if (tg.labels && net->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(NULL, BP_ERR_ARG, "%s: class labels need loss softmax_ce, not %s", fn,
                       bp_loss_name(net->loss));
    for (int m = 0; tg.labels && m < M; m++)
        if (tg.labels[m] < 0 || tg.labels[m] >= n)
            return bp_fail(NULL, BP_ERR_ARG, "%s: example %d: label %d not in 0..%d", fn, m,
                           (int)tg.labels[m], n - 1);
    return BP_OK;
}

/* z [M,n] += b; y = softmax(z/T) per row   eq. 57, 61, 69 */
void softmax_forward(float *z, float *y, const float *b, int M, int n, float T)
{
    float inv_T = 1.0f / T;
    for (int m = 0; m < M; m++) {
        float *zr = z + (size_t)m * n, *yr = y + (size_t)m * n;
        float zmax = -INFINITY;
        for (int j = 0; j < n; j++) {
            zr[j] += b[j];
            if (zr[j] > zmax)
                zmax = zr[j];
        }
        /* subtracting max z (eq. 61) keeps every exponent <= 0: no overflow */
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            yr[j] = expf((zr[j] - zmax) * inv_T);
            sum += yr[j];
        }
        float inv_sum = 1.0f / sum;
        for (int j = 0; j < n; j++)
            yr[j] *= inv_sum;
    }
}

/* log Σ_j exp(z_j / T) of one row, shifted by its maximum (eq. 61) */
static double log_sum_exp(const float *z, int n, double T)
{
    double zmax = -INFINITY, sum = 0.0;
    for (int j = 0; j < n; j++)
        if (z[j] > zmax)
            zmax = z[j];
    for (int j = 0; j < n; j++)
        sum += exp((z[j] - zmax) / T);
    return zmax / T + log(sum);
}

/* −t log σ(z) − (1 − t) log(1 − σ(z)) = max(z, 0) − t z + log(1 + e^−|z|) */
static double bce_with_logit(double z, double t)
{
    return (z > 0 ? z : 0.0) - t * z + log1p(exp(-fabs(z)));
}

bp_status loss_delta(const bp_net *net, const float *z, const float *y, bp_targets tg, int M,
                     float *delta, double *loss)
{
    int n = net->sizes[net->L];
    double T = net->temperature, total = 0.0;

    if (tg.labels && net->loss != BP_LOSS_SOFTMAX_CE)
        return BP_ERR_ARG; /* class labels mean a one-hot t for softmax only */
    if (tg.labels)
        for (int m = 0; m < M; m++)
            if (tg.labels[m] < 0 || tg.labels[m] >= n)
                return BP_ERR_ARG;

    for (int m = 0; m < M; m++) {
        const float *zr = z + (size_t)m * n, *yr = y + (size_t)m * n;
        const float *tr = tg.t ? tg.t + (size_t)m * n : NULL;
        float *dr = delta ? delta + (size_t)m * n : NULL;
        double row = 0.0;

        switch (net->loss) {
        case BP_LOSS_MSE: /* eq. 6; δ = −(t − y), times f'(z) below */
            for (int j = 0; j < n; j++) {
                double e = (double)tr[j] - yr[j];
                row += 0.5 * e * e;
                if (dr)
                    dr[j] = yr[j] - tr[j];
            }
            break;
        case BP_LOSS_SOFTMAX_CE: {
            /* L = −Σ t_j log y_j = Σ_j t_j (lse − z_j/T)   eq. 62 with eq. 61's shift.
             * δ = (y Σt − t)/T: eq. 68/69, exact also for soft targets that
             * do not sum to 1 */
            double lse = log_sum_exp(zr, n, T);
            if (tg.labels) {
                int c = tg.labels[m];
                row = lse - zr[c] / T;
                if (dr) {
                    for (int j = 0; j < n; j++)
                        dr[j] = (float)(yr[j] / T);
                    dr[c] = (float)((yr[c] - 1.0) / T);
                }
            } else {
                double sum_t = 0.0;
                for (int j = 0; j < n; j++) {
                    sum_t += tr[j];
                    row -= tr[j] * (zr[j] / T);
                }
                row += sum_t * lse;
                if (dr)
                    for (int j = 0; j < n; j++)
                        dr[j] = (float)((yr[j] * sum_t - tr[j]) / T);
            }
            break;
        }
        case BP_LOSS_SIGMOID_BCE: /* fused: δ = y − t */
            for (int j = 0; j < n; j++) {
                row += bce_with_logit(zr[j], tr[j]);
                if (dr)
                    dr[j] = yr[j] - tr[j];
            }
            break;
        case BP_LOSS_COUNT: return BP_ERR_ARG;
        }
        total += row;
    }
    if (delta && net->loss == BP_LOSS_MSE) /* eq. 32 with a non-linear output */
        act_backward(net->acts[net->L], delta, z, y, M, n, n, (float)net->slope);
    if (loss)
        *loss = total / M;
    return BP_OK;
}
