/*
 * test_losses.c — the losses and the output error δ(L) against numbers
 * worked out by hand, through a one-layer network whose W = I and b = 0 so
 * that z = x and ∂L/∂b = mean δ. Both the batch engine and the scalar form
 * are held to the same numbers. Also: |z| = 1e4 gives finite losses.
 */
#include "check.h"
#include "io/io.h"

#include <stdlib.h>
#include <string.h>

static bp_net *identity_net(int n, bp_act out, bp_loss loss, double T, int M)
{
    int sizes[2] = {n, n};
    bp_act acts[1] = {out};
    bp_config cfg = {sizeof(bp_config), 1, sizes, acts, loss, T, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    bp_net *net = bp_net_create(&cfg, M, NULL);
    float *W = bp_net_params(net);
    memset(W, 0, bp_net_n_params(net) * sizeof *W); /* not the initialisation: the identity */
    for (int j = 0; j < n; j++)
        W[j * n + j] = 1.0f;
    return net;
}

/* Runs both forms on x with targets; checks loss and δ (= ∂L/∂b, mean). */
static void expect(const char *what, bp_act out, bp_loss loss, double T, int n, int M,
                   const float *x, bp_targets tg, double want_loss, const double *want_delta)
{
    bp_net *net = identity_net(n, out, loss, T, M);
    size_t P = bp_net_n_params(net), boff = bp_net_bias_offset(net, 0);
    double l;
    CHECK(bp_forward(net, x, M) == BP_OK && bp_backward(net, tg, &l) == BP_OK, "%s", what);
    CHECK(isfinite(l), "%s: loss not finite", what);
    CHECK_CLOSE(l, want_loss, 1e-6, "%s: batch loss", what);
    for (int j = 0; j < n; j++)
        CHECK_CLOSE(bp_net_grads(net)[boff + j], want_delta[j], 1e-6, "%s: batch δ_%d", what, j);

    double *p = malloc(P * sizeof *p), *g = malloc(P * sizeof *g);
    for (size_t k = 0; k < P; k++)
        p[k] = bp_net_params(net)[k];
    CHECK(bp_scalar_gradient(net, p, x, tg, M, g, &l, NULL) == BP_OK, "%s", what);
    CHECK_CLOSE(l, want_loss, 1e-12, "%s: scalar loss", what);
    for (int j = 0; j < n; j++)
        CHECK_CLOSE(g[boff + j], want_delta[j], 1e-12, "%s: scalar δ_%d", what, j);
    free(p), free(g);
    bp_net_free(net);
}

int main(void)
{
    /* softmax_ce, z = (1,2,3), class 2: y = e^z/Σe^z, L = −log y_2, δ = y − t (eq. 68) */
    {
        const float x[3] = {1, 2, 3};
        const int32_t lab[1] = {2};
        const double y[3] = {0.09003057317038045, 0.2447284710547976, 0.6652409557748218};
        const double d[3] = {y[0], y[1], y[2] - 1};
        expect("softmax_ce label", BP_ACT_SOFTMAX, BP_LOSS_SOFTMAX_CE, 1, 3, 1, x,
               (bp_targets){NULL, lab}, 0.40760596444438046, d);
        const float t[3] = {0, 0, 1};
        expect("softmax_ce one-hot", BP_ACT_SOFTMAX, BP_LOSS_SOFTMAX_CE, 1, 3, 1, x,
               (bp_targets){t, NULL}, 0.40760596444438046, d);
    }
    /* temperature T = 2 (eq. 69): y = softmax(z/2), δ = (y − t)/2 */
    {
        const float x[3] = {1, 2, 3};
        const int32_t lab[1] = {2};
        const double y[3] = {0.1863237232258476, 0.3071958857184984, 0.506480391055654};
        const double d[3] = {y[0] / 2, y[1] / 2, (y[2] - 1) / 2};
        expect("softmax_ce T=2", BP_ACT_SOFTMAX, BP_LOSS_SOFTMAX_CE, 2, 3, 1, x,
               (bp_targets){NULL, lab}, 0.6802696706417346, d);
    }
    /* soft targets (1/2, 1/2, 0) on z = (0,0,0): L = log 3, δ = 1/3 − t */
    {
        const float x[3] = {0, 0, 0}, t[3] = {0.5f, 0.5f, 0};
        const double d[3] = {1.0 / 3 - 0.5, 1.0 / 3 - 0.5, 1.0 / 3};
        expect("softmax_ce soft", BP_ACT_SOFTMAX, BP_LOSS_SOFTMAX_CE, 1, 3, 1, x,
               (bp_targets){t, NULL}, log(3.0), d);
    }
    /* extremes: z = (1e4, −1e4, 0), class 1: L = 2e4 exactly, y = (1, 0, 0) */
    {
        const float x[3] = {1e4f, -1e4f, 0};
        const int32_t lab[1] = {1};
        const double d[3] = {1, -1, 0};
        expect("softmax_ce |z|=1e4", BP_ACT_SOFTMAX, BP_LOSS_SOFTMAX_CE, 1, 3, 1, x,
               (bp_targets){NULL, lab}, 2e4, d);
    }
    /* sigmoid_bce: z = (0, 1e4, −1e4), t = (1, 0, 0): L = log 2 + 1e4 + 0,
     * δ = σ(z) − t = (−1/2, 1, 0) */
    {
        const float x[3] = {0, 1e4f, -1e4f}, t[3] = {1, 0, 0};
        const double d[3] = {-0.5, 1, 0};
        expect("sigmoid_bce", BP_ACT_SIGMOID, BP_LOSS_SIGMOID_BCE, 1, 3, 1, x,
               (bp_targets){t, NULL}, log(2.0) + 1e4, d);
    }
    /* mse, linear output (eq. 6, 13): z = (0.5, −1), t = (1, 1):
     * L = ½(0.25 + 4) = 2.125, δ = −(t − y) = (−0.5, −2) */
    {
        const float x[2] = {0.5f, -1}, t[2] = {1, 1};
        const double d[2] = {-0.5, -2};
        expect("mse identity", BP_ACT_IDENTITY, BP_LOSS_MSE, 1, 2, 1, x, (bp_targets){t, NULL},
               2.125, d);
    }
    /* mse, sigmoid output (eq. 32 with f'): z = 0, t = 1: y = ½, L = 1/8,
     * δ = −(1 − ½)·¼ = −1/8 */
    {
        const float x[1] = {0}, t[1] = {1};
        const double d[1] = {-0.125};
        expect("mse sigmoid", BP_ACT_SIGMOID, BP_LOSS_MSE, 1, 1, 1, x, (bp_targets){t, NULL},
               0.125, d);
    }
    /* a batch of two: the loss and ∂L/∂b are means over the rows (eq. 52–53):
     * rows give L = 2.125 and 0, δ = (−0.5, −2) and (0, 0) */
    {
        const float x[4] = {0.5f, -1, 3, 4}, t[4] = {1, 1, 3, 4};
        const double d[2] = {-0.25, -1};
        expect("mse batch mean", BP_ACT_IDENTITY, BP_LOSS_MSE, 1, 2, 2, x, (bp_targets){t, NULL},
               1.0625, d);
    }

    /* names round-trip, unknown ones are refused */
    for (int l = 0; l < BP_LOSS_COUNT; l++) {
        bp_loss back;
        CHECK(bp_loss_parse(bp_loss_name((bp_loss)l), &back) == BP_OK && back == (bp_loss)l,
              "name of %d", l);
    }
    bp_loss dummy;
    CHECK(bp_loss_parse("cross_entropy", &dummy) == BP_ERR_ARG, "unknown loss");
    CHECK_DONE();
}
