/*
 * test_gradients.c — the scalar form against central finite differences in
 * double, for every activation × loss and several shapes: every parameter is
 * perturbed. The comparison cannot pass a zero or a wrong-sign gradient.
 */
#include "check.h"
#include "testnet.h"

static double worst = 0;

/* Smallest |z| over the ReLU-family units of M examples: finite differences
 * across the kink at 0 measure nothing, so such draws are redrawn. */
static double kink_margin(const bp_net *net, const double *p, const float *x, bp_targets tg,
                          int M, double *g, bp_trace *tr)
{
    double margin = INFINITY;
    int n0 = bp_net_size(net, 0), nL = bp_net_size(net, bp_net_n_layers(net));
    for (int m = 0; m < M; m++) {
        bp_targets one = tg.t ? (bp_targets){tg.t + (size_t)m * nL, NULL}
                              : (bp_targets){NULL, tg.labels + m};
        bp_scalar_gradient(net, p, x + (size_t)m * n0, one, 1, g, NULL, tr);
        for (int l = 1; l <= bp_net_n_layers(net); l++) {
            bp_act a = bp_net_act(net, l);
            if (a != BP_ACT_RELU && a != BP_ACT_LEAKY_RELU)
                continue;
            for (int j = 0; j < bp_net_size(net, l); j++)
                margin = fmin(margin, fabs(tr->z[tr->offset[l] + j]));
        }
    }
    return margin;
}

/* Returns ‖g − fd‖∞/‖fd‖∞ over the whole gradient. */
static double fd_check(const bp_net *net, double *p, const float *x, bp_targets tg, int M,
                       const double *g)
{
    size_t P = bp_net_n_params(net);
    double *fd = malloc(P * sizeof *fd), *scratch = malloc(P * sizeof *scratch);
    const double h = 1e-5;
    for (size_t k = 0; k < P; k++) {
        double keep = p[k], lp, lm;
        p[k] = keep + h;
        bp_scalar_gradient(net, p, x, tg, M, scratch, &lp, NULL);
        p[k] = keep - h;
        bp_scalar_gradient(net, p, x, tg, M, scratch, &lm, NULL);
        p[k] = keep;
        fd[k] = (lp - lm) / (2 * h);
    }
    double e = test_rel_err_d(g, fd, P);
    free(fd), free(scratch);
    return e;
}

static void one_case(bp_rng *r, int L, bp_act hidden, bp_loss loss, bp_act out, double T, int M)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        bp_net *net = test_net(r, L, 6, hidden, loss, out, T, M);
        int n0 = bp_net_size(net, 0), nL = bp_net_size(net, L);
        size_t P = bp_net_n_params(net);
        float *x = malloc(sizeof(float) * M * n0), *t = malloc(sizeof(float) * M * nL);
        double *p = test_params_d(net), *g = malloc(P * sizeof *g);
        bp_trace *tr = bp_trace_create(net);
        test_fill(r, x, (size_t)M * n0, -2.0, 2.0);
        test_targets(r, net, t, M, attempt % 2);
        bp_targets tg = {t, NULL};

        int ok = kink_margin(net, p, x, tg, M, g, tr) > 1e-3;
        double norm = 0, loss_v;
        if (ok) {
            bp_scalar_gradient(net, p, x, tg, M, g, &loss_v, NULL);
            for (size_t k = 0; k < P; k++)
                norm = fmax(norm, fabs(g[k]));
            /* a dead network (every ReLU off) has a zero gradient: redraw */
            ok = norm > 1e-6;
        }
        if (ok) {
            double e = fd_check(net, p, x, tg, M, g);
            worst = fmax(worst, e);
            CHECK(e <= 1e-6, "L=%d %s/%s/%s T=%g M=%d: scalar vs finite differences %.3g", L,
                  bp_act_name(hidden), bp_act_name(out), bp_loss_name(loss), T, M, e);
        }
        free(x), free(t), free(p), free(g);
        bp_trace_free(tr);
        bp_net_free(net);
        if (ok)
            return;
    }
    CHECK(0, "no usable draw for L=%d %s/%s", L, bp_act_name(hidden), bp_loss_name(loss));
}

int main(void)
{
    bp_rng r;
    bp_rng_seed(&r, 49);
    int cases = 0;
    for (int h = 0; h < TEST_N_ACTS; h++)
        for (int L = 1; L <= 3; L++) {
            int M = L == 2 ? 5 : 1;
            for (int o = 0; o < TEST_N_ACTS; o++, cases++)
                one_case(&r, L, test_hidden[h], BP_LOSS_MSE, test_mse_out[o], 1.0, M);
            one_case(&r, L, test_hidden[h], BP_LOSS_SIGMOID_BCE, 0, 1.0, M);
            one_case(&r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 1.0, M);
            one_case(&r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 0.3, M);
            one_case(&r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 4.0, M);
            cases += 4;
        }

    /* The comparison itself must fail a zero gradient and a flipped one. */
    {
        double fd[3] = {0.5, -0.25, 1e-3}, zero[3] = {0, 0, 0}, flip[3] = {-0.5, 0.25, -1e-3};
        CHECK(test_rel_err_d(zero, fd, 3) > 1e-6, "a zero gradient passed");
        CHECK(test_rel_err_d(flip, fd, 3) > 1e-6, "a flipped gradient passed");
        CHECK(test_rel_err_d(fd, zero, 3) > 1e-6, "an all-zero oracle passed");
    }
    printf("%d cases: largest relative disagreement of the scalar form with finite "
           "differences: %.3g\n", cases, worst);
    CHECK_DONE();
}
