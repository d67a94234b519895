/*
 * test_forms.c — the note's three forms agree: the batch engine (float32,
 * sgemm) and the vector form (float32, sgemv) against the scalar form
 * (double, one weight at a time), for every activation × loss, temperatures
 * other than 1, hard and soft targets, several shapes and batch sizes.
 */
#include "check.h"
#include "testnet.h"

static double worst_batch = 0, worst_vector = 0, worst_loss = 0;

/* per tensor: ‖got − want‖∞/‖want‖∞ ≤ tol (a tensor that is zero in the
 * oracle must be zero here too) */
static void compare_tensors(const bp_net *net, const float *got, const double *want, double tol,
                            double *worst, const char *what)
{
    for (int l = 0; l < bp_net_n_layers(net); l++) {
        size_t w = bp_net_weight_offset(net, l), b = bp_net_bias_offset(net, l);
        size_t n_w = b - w, n_b = (size_t)bp_net_size(net, l + 1);
        const size_t off[2] = {w, b}, len[2] = {n_w, n_b};
        for (int k = 0; k < 2; k++) {
            double e = test_rel_err_f(got + off[k], want + off[k], len[k]);
            int all_zero = 1;
            for (size_t i = 0; i < len[k]; i++)
                all_zero &= want[off[k] + i] == 0.0 && got[off[k] + i] == 0.0f;
            if (all_zero)
                e = 0;
            if (e > *worst)
                *worst = e;
            CHECK(e <= tol, "%s: layer %d %s: relative error %.3g", what, l,
                  k ? "bias" : "weight", e);
        }
    }
}

static int case_no = 0;

static void one_case(bp_rng *r, int L, bp_act hidden, bp_loss loss, bp_act out, double T, int M,
                     int labels)
{
    bp_net *net = test_net(r, L, 40, hidden, loss, out, T, M);
    /* the engine on 1, 2 and 3 threads: every band split must give the same maths */
    int threads = 1 + case_no++ % 3;
    CHECK(bp_net_set_threads(net, threads) == BP_OK, "threads");
    int n0 = bp_net_size(net, 0), nL = bp_net_size(net, L);
    size_t P = bp_net_n_params(net);
    float *x = malloc(sizeof(float) * M * n0), *t = malloc(sizeof(float) * M * nL);
    int32_t *lab = malloc(sizeof(int32_t) * M);
    float *gv = malloc(sizeof(float) * P);
    double *gs = malloc(sizeof(double) * P), *p = test_params_d(net);
    bp_targets tg = test_batch(r, net, M, labels, x, t, lab);

    char what[160];
    snprintf(what, sizeof what, "L=%d %s/%s/%s T=%g M=%d%s threads=%d", L, bp_act_name(hidden),
             bp_act_name(out), bp_loss_name(loss), T, M, labels ? " labels" : "", threads);

    double ls, lb;
    CHECK(bp_scalar_gradient(net, p, x, tg, M, gs, &ls, NULL) == BP_OK, "%s", what);
    CHECK(bp_forward(net, x, M) == BP_OK, "%s", what);
    CHECK(bp_backward(net, tg, &lb) == BP_OK, "%s", what);
    compare_tensors(net, bp_net_grads(net), gs, 1e-5, &worst_batch, what);
    double le = fabs(lb - ls) / fmax(fabs(ls), 1e-30);
    if (le > worst_loss)
        worst_loss = le;
    CHECK(le <= 1e-5, "%s: loss %.9g vs scalar %.9g", what, lb, ls);

    /* the vector form, one example */
    double l1s, l1v;
    bp_targets tg1 = labels ? (bp_targets){NULL, lab} : (bp_targets){t, NULL};
    CHECK(bp_scalar_gradient(net, p, x, tg1, 1, gs, &l1s, NULL) == BP_OK, "%s", what);
    CHECK(bp_vector_gradient(net, x, labels ? NULL : t, lab[0], gv, &l1v) == BP_OK, "%s", what);
    compare_tensors(net, gv, gs, 1e-5, &worst_vector, what);
    CHECK(fabs(l1v - l1s) <= 1e-5 * fmax(fabs(l1s), 1e-30), "%s: vector loss", what);

    free(x), free(t), free(lab), free(gv), free(gs), free(p);
    bp_net_free(net);
}

int main(void)
{
    bp_rng r;
    bp_rng_seed(&r, 20261126);
    static const int batches[] = {1, 7, 64};
    int cases = 0;
    for (int h = 0; h < TEST_N_ACTS; h++)
        for (int L = 1; L <= 4; L++)
            for (int b = 0; b < 3; b++) {
                int M = batches[b];
                for (int o = 0; o < TEST_N_ACTS; o++, cases++)
                    one_case(&r, L, test_hidden[h], BP_LOSS_MSE, test_mse_out[o], 1.0, M, 0);
                one_case(&r, L, test_hidden[h], BP_LOSS_SIGMOID_BCE, 0, 1.0, M, 0);
                one_case(&r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 1.0, M, 0);
                one_case(&r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 0.5, M, 1);
                one_case(&r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 2.5, M, 0);
                cases += 4;
            }

    /* labels are a one-hot t: both give the same gradient, bit for bit */
    {
        bp_net *net = test_net(&r, 3, 20, BP_ACT_RELU, BP_LOSS_SOFTMAX_CE, 0, 1.5, 16);
        int n0 = bp_net_size(net, 0), nL = bp_net_size(net, 3);
        size_t P = bp_net_n_params(net);
        float *x = malloc(sizeof(float) * 16 * n0), *t = calloc((size_t)16 * nL, sizeof(float));
        float *g = malloc(sizeof(float) * P);
        int32_t lab[16];
        test_fill(&r, x, (size_t)16 * n0, -1, 1);
        for (int m = 0; m < 16; m++) {
            lab[m] = (int32_t)(bp_rng_next(&r) % (uint64_t)nL);
            t[m * nL + lab[m]] = 1.0f;
        }
        double l1, l2;
        bp_forward(net, x, 16);
        bp_backward(net, (bp_targets){t, NULL}, &l1);
        memcpy(g, bp_net_grads(net), sizeof(float) * P);
        bp_backward(net, (bp_targets){NULL, lab}, &l2);
        CHECK(memcmp(g, bp_net_grads(net), sizeof(float) * P) == 0, "labels vs one-hot");
        CHECK_CLOSE(l2, l1, 1e-12, "labels vs one-hot loss");
        /* a label out of range is an error, not a read out of bounds */
        lab[3] = nL;
        CHECK(bp_backward(net, (bp_targets){NULL, lab}, NULL) == BP_ERR_ARG, "label range");
        free(x), free(t), free(g);
        bp_net_free(net);
    }

    /* bp_scalar_example, x and t in double, is bp_scalar_gradient's arithmetic
     * at M = 1 (bit for bit on values a float holds), labels as one-hot */
    {
        bp_net *net = test_net(&r, 2, 6, BP_ACT_TANH, BP_LOSS_SOFTMAX_CE, 0, 2.0, 1);
        bp_net *other = test_net(&r, 3, 6, BP_ACT_TANH, BP_LOSS_SOFTMAX_CE, 0, 2.0, 1);
        int n0 = bp_net_size(net, 0), nL = bp_net_size(net, 2);
        size_t P = bp_net_n_params(net);
        float *x = malloc(sizeof(float) * n0), *t = calloc((size_t)nL, sizeof(float));
        double *xd = malloc(sizeof(double) * n0), *td = calloc((size_t)nL, sizeof(double));
        double *p = malloc(sizeof(double) * P), *g1 = malloc(sizeof(double) * P);
        double *g2 = malloc(sizeof(double) * P);
        bp_trace *tr = bp_trace_create(net), *tr_other = bp_trace_create(other);
        test_fill(&r, x, (size_t)n0, -1, 1);
        for (int i = 0; i < n0; i++)
            xd[i] = x[i];
        t[nL - 1] = 1.0f, td[nL - 1] = 1.0;
        for (size_t k = 0; k < P; k++)
            p[k] = bp_net_params(net)[k];
        double l1, l2, l3;
        CHECK(bp_scalar_gradient(net, p, x, (bp_targets){t, NULL}, 1, g1, &l1, NULL) == BP_OK,
              "scalar gradient");
        CHECK(bp_scalar_example(net, p, xd, td, 0, g2, &l2, tr) == BP_OK, "scalar example");
        CHECK(memcmp(g1, g2, sizeof(double) * P) == 0 && l1 == l2, "example vs gradient at M = 1");
        CHECK(bp_scalar_example(net, p, xd, NULL, nL - 1, g2, &l3, tr) == BP_OK, "label");
        CHECK(memcmp(g1, g2, sizeof(double) * P) == 0 && l1 == l3, "label vs one-hot");
        CHECK(bp_scalar_example(net, p, xd, NULL, nL, g2, &l3, tr) == BP_ERR_ARG, "label range");
        CHECK(bp_scalar_example(net, p, xd, td, 0, g2, &l3, NULL) == BP_ERR_ARG, "no trace");
        CHECK(bp_scalar_example(net, p, xd, td, 0, g2, &l3, tr_other) == BP_ERR_SHAPE,
              "another network's trace");
        CHECK(bp_scalar_example(NULL, p, xd, td, 0, g2, &l3, tr) == BP_ERR_ARG, "no network");
        free(x), free(t), free(xd), free(td), free(p), free(g1), free(g2);
        bp_trace_free(tr), bp_trace_free(tr_other);
        bp_net_free(net), bp_net_free(other);
    }

    printf("%d cases: largest relative disagreement with the scalar form: batch %.3g, "
           "vector %.3g, loss %.3g\n", cases, worst_batch, worst_vector, worst_loss);
    CHECK_DONE();
}
