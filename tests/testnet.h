/*
 * testnet.h — random networks, data and targets for the tests, and the one
 * comparison they share. Header-only: each test is one program.
 */
#ifndef BP_TESTNET_H
#define BP_TESTNET_H

#include "backprop.h"
#include "backprop_ref.h"
#include "io/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A network of L weight layers with widths drawn from 1..max_w, hidden
 * activation hidden, output fixed by loss (mse takes out_act). */
static inline bp_net *test_net(bp_rng *r, int L, int max_w, bp_act hidden, bp_loss loss, bp_act out_act,
                        double T, int max_batch)
{
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    for (int l = 0; l <= L; l++)
        sizes[l] = 1 + (int)(bp_rng_next(r) % (uint64_t)max_w);
    for (int l = 0; l < L - 1; l++)
        acts[l] = hidden;
    acts[L - 1] = loss == BP_LOSS_SOFTMAX_CE ? BP_ACT_SOFTMAX
                  : loss == BP_LOSS_SIGMOID_BCE ? BP_ACT_SIGMOID : out_act;
    if (loss == BP_LOSS_SOFTMAX_CE && sizes[L] < 2)
        sizes[L] = 2;
    bp_config cfg = {sizeof(bp_config), L, sizes, acts, loss, loss == BP_LOSS_SOFTMAX_CE ? T : 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    bp_error err;
    bp_net *net = bp_net_create(&cfg, max_batch, &err);
    if (!net) {
        fprintf(stderr, "test_net: %s\n", err.msg);
        exit(1);
    }
    /* non-zero biases so that ∂L/∂b is exercised */
    bp_net_init(net, bp_rng_next(r));
    float *p = bp_net_params(net);
    for (int l = 0; l < L; l++) {
        size_t b = bp_net_bias_offset(net, l);
        for (int j = 0; j < sizes[l + 1]; j++)
            p[b + j] = (float)(0.2 * bp_rng_normal(r));
    }
    return net;
}

static inline void test_fill(bp_rng *r, float *v, size_t n, double lo, double hi)
{
    for (size_t k = 0; k < n; k++)
        v[k] = (float)(lo + (hi - lo) * bp_rng_uniform(r));
}

/* Targets the loss accepts: soft rows summing to 1 or not (softmax_ce),
 * values in [0,1] (sigmoid_bce), anything (mse). */
static inline void test_targets(bp_rng *r, const bp_net *net, float *t, int M, int normalise)
{
    int n = bp_net_size(net, bp_net_n_layers(net));
    if (bp_net_loss(net) == BP_LOSS_MSE) {
        test_fill(r, t, (size_t)M * n, -1.0, 1.0);
        return;
    }
    test_fill(r, t, (size_t)M * n, 0.0, 1.0);
    if (normalise)
        for (int m = 0; m < M; m++) {
            double s = 0;
            for (int j = 0; j < n; j++)
                s += t[m * n + j];
            for (int j = 0; j < n; j++)
                t[m * n + j] = (float)(t[m * n + j] / s);
        }
}

/* A random batch of M examples for net: x [M, N(0)] in [-2, 2], dense
 * targets t [M, N(L)] (rows summing to 1 for odd M) and labels [M]; the
 * targets of the kind `labels` asks for. */
static inline bp_targets test_batch(bp_rng *r, const bp_net *net, int M, int labels, float *x,
                                    float *t, int32_t *lab)
{
    int nL = bp_net_size(net, bp_net_n_layers(net));
    test_fill(r, x, (size_t)M * bp_net_size(net, 0), -2.0, 2.0);
    test_targets(r, net, t, M, M % 2);
    for (int m = 0; m < M; m++)
        lab[m] = (int32_t)(bp_rng_next(r) % (uint64_t)nL);
    return labels ? (bp_targets){NULL, lab} : (bp_targets){t, NULL};
}

static inline double *test_params_d(const bp_net *net)
{
    size_t P = bp_net_n_params(net);
    double *p = malloc(P * sizeof *p);
    const float *f = bp_net_params_const(net);
    for (size_t k = 0; k < P; k++)
        p[k] = f[k];
    return p;
}

/* ‖got − want‖∞ / ‖want‖∞ over n values, in double; +inf when want is all
 * zeros, so that a zero gradient can never pass by comparing with itself. */
static inline double test_rel_err_f(const float *got, const double *want, size_t n)
{
    double d = 0, s = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs((double)got[k] - want[k]);
        if (e > d || isnan(e))
            d = e;
        if (fabs(want[k]) > s)
            s = fabs(want[k]);
    }
    return s > 0 ? d / s : INFINITY;
}

static inline double test_rel_err_d(const double *got, const double *want, size_t n)
{
    double d = 0, s = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs(got[k] - want[k]);
        if (e > d || isnan(e))
            d = e;
        if (fabs(want[k]) > s)
            s = fabs(want[k]);
    }
    return s > 0 ? d / s : INFINITY;
}

static const bp_act test_hidden[] = {BP_ACT_IDENTITY, BP_ACT_SIGMOID, BP_ACT_RELU,
                                     BP_ACT_LEAKY_RELU, BP_ACT_TANH};
static const bp_act test_mse_out[] = {BP_ACT_IDENTITY, BP_ACT_SIGMOID, BP_ACT_RELU,
                                      BP_ACT_LEAKY_RELU, BP_ACT_TANH};
#define TEST_N_ACTS 5

#endif
