/*
 * test_descent.c — gradient descent (eq. 49–50): the note's worked example
 * with the well-known hand-computed numbers of the 2-2-2 sigmoid network
 * (x = (0.05, 0.10), t = (0.01, 0.99), α = 0.5), one update checked weight
 * by weight, and the loss falling on a small problem.
 */
#include "check.h"
#include "io/io.h"
#include "testnet.h"

#include <stdlib.h>

static bp_net *worked_example(void)
{
    int sizes[3] = {2, 2, 2};
    bp_act acts[2] = {BP_ACT_SIGMOID, BP_ACT_SIGMOID};
    bp_config cfg = {sizeof(bp_config), 2, sizes, acts, BP_LOSS_MSE, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    bp_net *net = bp_net_create(&cfg, 1, NULL);
    /* W(0) = [[w1 w2],[w3 w4]], b(0) = (b1 b1), W(1) = [[w5 w6],[w7 w8]], b(1) = (b2 b2) */
    const float p[12] = {0.15f, 0.20f, 0.25f, 0.30f, 0.35f, 0.35f,
                         0.40f, 0.45f, 0.50f, 0.55f, 0.60f, 0.60f};
    memcpy(bp_net_params(net), p, sizeof p);
    return net;
}

/* Per-example descent (M = 1) leaves W(0)'s step to the next forward pass:
 * K fused steps against K reference steps (gradient, then θ ← θ − α∇θ by
 * hand), every parameter, and the outputs of a forward in between, for
 * every loss, depths 1–3 (depth 1 with softmax puts the pending step in
 * front of softmax itself) and 1 or 2 threads. */
static void test_per_example(void)
{
    bp_rng r;
    bp_rng_seed(&r, 99);
    for (int c = 0; c < 18; c++) {
        int L = 1 + c % 3, K = 25;
        bp_loss loss = (bp_loss)(c % BP_LOSS_COUNT);
        bp_net *a = test_net(&r, L, 40, test_hidden[c % TEST_N_ACTS], loss, BP_ACT_TANH,
                             c % 2 ? 1.0 : 0.7, 4);
        int n0 = bp_net_size(a, 0), nL = bp_net_size(a, L);
        bp_config cfg = {sizeof(bp_config), L, NULL, NULL, loss, bp_net_temperature(a), bp_net_leaky_slope(a), BP_DEVICE_CPU};
        int sizes[BP_MAX_LAYERS + 1];
        bp_act acts[BP_MAX_LAYERS];
        for (int l = 0; l <= L; l++)
            sizes[l] = bp_net_size(a, l);
        for (int l = 1; l <= L; l++)
            acts[l - 1] = bp_net_act(a, l);
        cfg.sizes = sizes, cfg.acts = acts;
        bp_net *b = bp_net_create(&cfg, 4, NULL);
        size_t P = bp_net_n_params(a);
        memcpy(bp_net_params(b), bp_net_params_const(a), P * sizeof(float));
        bp_net_set_threads(a, 1 + c % 2);
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.kind = BP_OPT_SGD;
        oc.lr = 0.05;
        bp_optimizer *opt = bp_optimizer_create(&oc, P, NULL);
        float *x = malloc(sizeof(float) * n0), *t = malloc(sizeof(float) * nL);
        float worst_out = 0;
        for (int k = 0; k < K; k++) {
            test_fill(&r, x, (size_t)n0, -1, 1);
            test_targets(&r, a, t, 1, 1);
            bp_targets tg = {t, NULL};
            CHECK(bp_train_step(a, opt, x, tg, 1, NULL) == BP_OK, "case %d step %d", c, k);
            bp_forward(b, x, 1);
            bp_backward(b, tg, NULL);
            float *pb = bp_net_params(b);
            const float *g = bp_net_grads(b);
            for (size_t i = 0; i < P; i++)
                pb[i] -= 0.05f * g[i];
            /* a forward that takes the pending step on the way */
            if (k % 5 == 4) {
                test_fill(&r, x, (size_t)n0, -1, 1);
                bp_forward(a, x, 1);
                bp_forward(b, x, 1);
                for (int j = 0; j < nL; j++)
                    worst_out = fmaxf(worst_out, fabsf(bp_net_output(a)[j] - bp_net_output(b)[j]));
            }
        }
        const float *pa = bp_net_params_const(a), *pb = bp_net_params_const(b);
        float worst = 0, size = 1;
        for (size_t i = 0; i < P; i++) {
            worst = fmaxf(worst, fabsf(pa[i] - pb[i]));
            size = fmaxf(size, fabsf(pb[i]));
        }
        CHECK(worst <= 1e-5f * size, "case %d (L=%d, %s): %d per-example steps differ by %g", c,
              L, bp_loss_name(loss), K, (double)worst);
        CHECK(worst_out <= 1e-5f, "case %d: outputs after a pending step differ by %g", c,
              (double)worst_out);
        free(x), free(t);
        bp_optimizer_free(opt);
        bp_net_free(a), bp_net_free(b);
    }
}

int main(void)
{
    const float x[2] = {0.05f, 0.10f}, t[2] = {0.01f, 0.99f};
    bp_targets tg = {t, NULL};

    /* the worked example, by hand: outputs, total error, ∂E/∂w5, ∂E/∂w1 */
    {
        bp_net *net = worked_example();
        double loss;
        CHECK(bp_forward(net, x, 1) == BP_OK, "forward");
        CHECK_CLOSE(bp_net_output(net)[0], 0.75136507, 1e-6, "out_o1");
        CHECK_CLOSE(bp_net_output(net)[1], 0.772928465, 1e-6, "out_o2");
        CHECK(bp_backward(net, tg, &loss) == BP_OK, "backward");
        CHECK_CLOSE(loss, 0.298371109, 1e-6, "E_total (eq. 6)");
        const float *g = bp_net_grads(net);
        CHECK_CLOSE(g[6], 0.082167041, 1e-6, "dE/dw5 (eq. 17)");
        CHECK_CLOSE(g[0], 0.000438568, 1e-6, "dE/dw1 (eq. 17, 26)");

        /* one step of eq. 49 with α = 0.5 */
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.kind = BP_OPT_SGD;
        oc.lr = 0.5;
        bp_optimizer *opt = bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
        float before[12], grad[12];
        memcpy(before, bp_net_params(net), sizeof before);
        memcpy(grad, g, sizeof grad);
        CHECK(bp_optimizer_step(opt, bp_net_params(net), bp_net_grads(net), bp_net_n_params(net),
                                NULL) == BP_OK, "the step");
        const float *p = bp_net_params(net);
        CHECK_CLOSE(p[6], 0.35891648, 1e-6, "w5 after one step");
        CHECK_CLOSE(p[7], 0.408666186, 1e-6, "w6 after one step");
        CHECK_CLOSE(p[0], 0.149780716, 1e-6, "w1 after one step");
        CHECK_CLOSE(p[1], 0.19956143, 1e-6, "w2 after one step");
        for (int k = 0; k < 12; k++)
            CHECK(p[k] == before[k] - 0.5f * grad[k], "eq. 49–50 at %d", k);
        bp_optimizer_free(opt);
        bp_net_free(net);
    }

    /* learning: 2-4-1 tanh/sigmoid with BCE learns XOR with plain descent */
    {
        int sizes[3] = {2, 4, 1};
        bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SIGMOID};
        bp_config cfg = {sizeof(bp_config), 2, sizes, acts, BP_LOSS_SIGMOID_BCE, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
        bp_net *net = bp_net_create(&cfg, 4, NULL);
        bp_net_init(net, 3);
        const float X[8] = {0, 0, 0, 1, 1, 0, 1, 1}, Y[4] = {0, 1, 1, 0};
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.kind = BP_OPT_SGD;
        oc.lr = 0.5;
        bp_optimizer *opt = bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
        double first = 0, last = 0;
        for (int step = 0; step < 3000; step++) {
            CHECK(bp_train_step(net, opt, X, (bp_targets){Y, NULL}, 4, &last) == BP_OK, "step");
            if (step == 0)
                first = last;
        }
        printf("XOR: loss %.4f -> %.4f after 3000 steps\n", first, last);
        CHECK(last < 0.05 * first, "loss fell from %g only to %g", first, last);
        bp_forward(net, X, 4);
        for (int m = 0; m < 4; m++)
            CHECK((bp_net_output(net)[m] > 0.5f) == (Y[m] > 0.5f), "XOR row %d", m);
        bp_optimizer_free(opt);
        bp_net_free(net);
    }

    /* the fused step (descent inside the backward pass, no gradient buffer)
     * against the gradient of bp_backward followed by eq. 49–50 */
    {
        bp_rng r;
        bp_rng_seed(&r, 11);
        static const int Ms[] = {1, 5, 64};
        for (int c = 0; c < 12; c++) {
            int M = Ms[c % 3];
            bp_loss loss = (bp_loss)(c % BP_LOSS_COUNT);
            bp_net *net = test_net(&r, 1 + c % 3, 30, test_hidden[c % TEST_N_ACTS], loss,
                                   BP_ACT_TANH, c % 2 ? 1.0 : 2.0, M);
            bp_net_set_threads(net, 1 + c % 2);
            int n0 = bp_net_size(net, 0), nL = bp_net_size(net, bp_net_n_layers(net));
            size_t P = bp_net_n_params(net);
            float *x = malloc(sizeof(float) * M * n0), *t = malloc(sizeof(float) * M * nL);
            float *want = malloc(sizeof(float) * P), *p = bp_net_params(net);
            test_fill(&r, x, (size_t)M * n0, -1, 1);
            test_targets(&r, net, t, M, 1);
            bp_targets tg = {t, NULL};
            double l1, l2;
            bp_forward(net, x, M);
            bp_backward(net, tg, &l1);
            float move = 0, size = 1;
            for (size_t k = 0; k < P; k++) {
                want[k] = p[k] - 0.5f * bp_net_grads(net)[k];
                move = fmaxf(move, fabsf(0.5f * bp_net_grads(net)[k]));
                size = fmaxf(size, fabsf(p[k]));
            }
            bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
            oc.kind = BP_OPT_SGD;
            oc.lr = 0.5;
            bp_optimizer *opt = bp_optimizer_create(&oc, P, NULL);
            CHECK(bp_train_step(net, opt, x, tg, M, &l2) == BP_OK, "fused step %d", c);
            p = bp_net_params(net); /* current again: at M = 1, W(0) lags until read */
            float worst = 0;
            for (size_t k = 0; k < P; k++)
                worst = fmaxf(worst, fabsf(p[k] - want[k]));
            CHECK(move > 1e-4f, "case %d: the step moves nothing (%g)", c, (double)move);
            CHECK(worst <= 1e-6f * size, "case %d (M=%d, %s): fused step differs by %g", c, M,
                  bp_loss_name(loss), (double)worst);
            CHECK_CLOSE(l2, l1, 1e-12, "case %d: loss of the fused step", c);
            CHECK(bp_optimizer_steps(opt) == 1, "case %d: the step is counted", c);
            bp_optimizer_free(opt);
            free(x), free(t), free(want);
            bp_net_free(net);
        }
    }

    /* a bad learning rate is refused */
    bp_opt_config bad = BP_OPT_CONFIG_DEFAULT;
    bad.kind = BP_OPT_SGD;
    bad.lr = -1;
    bp_error err;
    CHECK(bp_optimizer_create(&bad, 10, &err) == NULL && err.msg[0], "negative rate");
    test_per_example();
    CHECK_DONE();
}
