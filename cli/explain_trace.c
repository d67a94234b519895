/*
 * explain_trace.c — the numbers explain prints, all in double: each example
 * through the library's scalar form (bp_scalar_example: eq. 1, 2, 13/68, 17,
 * 26, 37), the batch mean with its 1/M (eq. 52–55), central finite
 * differences of the loss (the check that proves the derivative, since it
 * never differentiates), and repeated descent steps (eq. 49–50).
 *
 * Deliberately not the engine: nothing here is float32 or BLAS.
 */
#include "explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ex_softmax(const double *z, int n, double T, double *y, double *zmax, double *sum)
{
    double m = z[0], s = 0;
    for (int j = 1; j < n; j++)
        m = z[j] > m ? z[j] : m;
    for (int j = 0; j < n; j++)
        s += exp((z[j] - m) / T); /* e^{(z_j − max z)/T}   eq. 61, 69 */
    for (int j = 0; j < n; j++)
        y[j] = exp((z[j] - m) / T) / s;
    if (zmax)
        *zmax = m;
    if (sum)
        *sum = s;
}

/* Each example's gradient into g [M, P], losses into loss_m; mean into
 * grad and *loss. Uses params, not e->p, so that descent and finite
 * differences can move them. */
static int run_examples(const ex_trace *e, const double *params, double *g, double *loss_m,
                        double *grad, double *loss)
{
    double total = 0;
    if (grad)
        memset(grad, 0, e->P * sizeof *grad);
    for (int m = 0; m < e->M; m++) {
        const double *x = e->x + (size_t)m * e->N[0], *t = e->t + (size_t)m * e->N[e->L];
        double lm;
        bp_status s =
            bp_scalar_example(e->net, params, x, t, 0, g + (size_t)m * e->P, &lm, e->tr[m]);
        if (s != BP_OK)
            return s;
        if (loss_m)
            loss_m[m] = lm;
        total += lm;
        for (size_t k = 0; grad && k < e->P; k++)
            grad[k] += g[(size_t)m * e->P + k];
    }
    /* ∇W = (1/M) Σ_k ∇W_k   eq. 52, 54, 55 */
    for (size_t k = 0; grad && k < e->P; k++)
        grad[k] /= e->M;
    *loss = total / e->M;
    return BP_OK;
}

double ex_loss_at(const ex_trace *e, const double *params)
{
    double loss = NAN;
    /* the traces are scratch here; the caller recomputes the shown ones */
    if (run_examples(e, params, e->g, NULL, NULL, &loss) != BP_OK)
        return NAN;
    return loss;
}

int ex_param_shown(const ex_trace *e, const ex_opts *opt, size_t k)
{
    for (int l = 0; l < e->L; l++) {
        size_t w = bp_net_weight_offset(e->net, l), b = bp_net_bias_offset(e->net, l);
        size_t nw = (size_t)e->N[l + 1] * (size_t)e->N[l];
        int j = k >= w && k < w + nw                    ? (int)((k - w) / (size_t)e->N[l])
                : k >= b && k < b + (size_t)e->N[l + 1] ? (int)(k - b)
                                                        : -1;
        if (j >= 0)
            return ex_shown_layer(opt, l + 1) && ex_shown_neuron(opt, j);
    }
    return 0;
}

int ex_compute(ex_trace *e, const ex_opts *opt)
{
    int check = opt->check, steps = opt->steps;
    double lr = opt->lr;
    size_t MP = (size_t)e->M * e->P;
    e->tr = calloc((size_t)e->M, sizeof *e->tr);
    e->g = malloc(MP * sizeof *e->g);
    e->loss_m = malloc((size_t)e->M * sizeof *e->loss_m);
    e->grad = malloc(e->P * sizeof *e->grad);
    e->fd = check ? malloc(e->P * sizeof *e->fd) : NULL;
    e->step_loss = steps ? malloc((size_t)(steps + 1) * sizeof *e->step_loss) : NULL;
    double *q = (check || steps) ? malloc(e->P * sizeof *q) : NULL;
    int s = BP_ERR_NOMEM;
    if (!e->tr || !e->g || !e->loss_m || !e->grad || (check && !e->fd) ||
        (steps && !e->step_loss) || ((check || steps) && !q))
        goto done;
    for (int m = 0; m < e->M; m++)
        if (!(e->tr[m] = bp_trace_create(e->net)))
            goto done;

    if (check) {
        /* ∂𝓛/∂p ≈ (𝓛(p + h) − 𝓛(p − h)) / 2h; h ~ cbrt(ε) scaled to p balances
         * truncation (h²) against rounding (ε/h) */
        memcpy(q, e->p, e->P * sizeof *q);
        for (size_t k = 0; k < e->P; k++) {
            e->fd[k] = NAN;
            if (!ex_param_shown(e, opt, k))
                continue;
            double h = 6e-6 * fmax(1.0, fabs(e->p[k]));
            q[k] = e->p[k] + h;
            double up = ex_loss_at(e, q);
            q[k] = e->p[k] - h;
            double down = ex_loss_at(e, q);
            q[k] = e->p[k];
            e->fd[k] = (up - down) / (2 * h);
        }
    }
    if (steps) {
        /* W ← W − α ∇W, b ← b − α ∇b   eq. 49, 50, on a copy */
        memcpy(q, e->p, e->P * sizeof *q);
        for (int n = 0; n <= steps; n++) {
            if ((s = run_examples(e, q, e->g, NULL, e->grad, &e->step_loss[n])) != BP_OK)
                goto done;
            for (size_t k = 0; k < e->P; k++)
                q[k] -= lr * e->grad[k];
        }
        e->n_steps = steps;
    }
    /* last, so that the traces and gradients shown are those of e->p */
    s = run_examples(e, e->p, e->g, e->loss_m, e->grad, &e->loss);
done:
    free(q);
    return s;
}

void ex_trace_free(ex_trace *e)
{
    for (int m = 0; e->tr && m < e->M; m++)
        bp_trace_free(e->tr[m]);
    free(e->tr);
    free(e->g);
    free(e->loss_m);
    free(e->grad);
    free(e->fd);
    free(e->step_loss);
    free(e->p);
    free(e->x);
    free(e->x_raw);
    free(e->mu);
    free(e->sigma);
    free(e->t);
    free(e->label);
    bp_net_free(e->net);
    memset(e, 0, sizeof *e);
}
