/*
 * test_sklearn_rules.c — what the library does for scikit-learn's MLP
 * parameters, against numbers computed here independently:
 *   - l2 (sklearn's alpha): the step's direction is the central finite
 *     difference of the regularised batch loss, data loss (bp_loss_value)
 *     plus (l2 / 2M) Σ ‖W‖² summed here in double over the weights only;
 *     the reported loss is that sum; biases are not decayed;
 *   - the invscaling and adaptive rates, by hand;
 *   - the stratified split's per-class counts, by hand, as sklearn's
 *     _approximate_mode gives them;
 *   - a checkpoint keeps the schedule's counts.
 */
#include "backprop.h"
#include "check.h"
#include "tmpdir.h"

#include <math.h>
#include <string.h>

enum { N0 = 3, N1 = 4, N2 = 2, M = 5 };

static bp_net *make_net(void)
{
    int sizes[] = {N0, N1, N2};
    bp_act acts[] = {BP_ACT_TANH, BP_ACT_IDENTITY};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 2, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_MSE;
    bp_error err;
    bp_net *net = bp_net_create(&cfg, M, &err);
    CHECK(net != NULL, "create: %s", err.msg);
    bp_net_init(net, 7);
    float *p = bp_net_params(net);
    for (int j = 0; j < N1; j++) /* biases away from 0: a decay of them would show */
        p[bp_net_bias_offset(net, 0) + j] = 0.3f * (float)(j + 1);
    return net;
}

static const float X[M][N0] = {{0.1f, -0.5f, 0.9f}, {1.2f, 0.3f, -0.7f}, {-0.4f, 0.8f, 0.2f},
                               {0.6f, -1.1f, 0.05f}, {0.0f, 0.4f, -0.3f}};
static const float T[M][N2] = {{0.2f, -0.1f}, {1.0f, 0.5f}, {-0.3f, 0.7f}, {0.4f, 0.0f},
                               {-0.6f, 0.2f}};

/* data loss + (l2 / 2M) Σ_l ‖W(l)‖² at the network's parameters, in double */
static double regularised_loss(bp_net *net, double l2)
{
    double loss = NAN, sq = 0;
    CHECK(bp_forward(net, &X[0][0], M) == BP_OK, "forward");
    CHECK(bp_loss_value(net, (bp_targets){&T[0][0], NULL}, &loss) == BP_OK, "loss");
    const float *p = bp_net_params(net);
    for (int l = 0; l < 2; l++) {
        size_t o = bp_net_weight_offset(net, l), n = l ? N2 * N1 : N1 * N0;
        for (size_t k = 0; k < n; k++)
            sq += (double)p[o + k] * p[o + k];
    }
    return loss + l2 / (2.0 * M) * sq;
}

static bp_status pass_through(void *ctx, bp_net *net, bp_step_info *info)
{
    (void)ctx, (void)net;
    return info->status;
}

static void test_l2_step(void)
{
    const double l2 = 0.7, lr = 1e-3;
    bp_net *net = make_net();
    size_t P = bp_net_n_params(net);
    float before[64], fd[64];
    memcpy(before, bp_net_params(net), P * sizeof(float));
    double want_loss = regularised_loss(net, l2);
    /* ∂/∂θ of the regularised loss by central differences */
    for (size_t k = 0; k < P; k++) {
        float *p = bp_net_params(net);
        const float h = 1e-2f;
        p[k] = before[k] + h;
        double up = regularised_loss(net, l2);
        p = bp_net_params(net);
        p[k] = before[k] - h;
        double down = regularised_loss(net, l2);
        bp_net_params(net)[k] = before[k];
        fd[k] = (float)((up - down) / (2.0 * h));
    }
    bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
    c.lr = lr, c.l2 = l2;
    bp_optimizer *opt = bp_optimizer_create(&c, P, NULL);
    double loss = NAN;
    CHECK(bp_train_step(net, opt, &X[0][0], (bp_targets){&T[0][0], NULL}, M, &loss) == BP_OK,
          "step: %s", bp_last_error());
    CHECK_CLOSE(loss, want_loss, 1e-6, "the reported loss holds the penalty");
    const float *after = bp_net_params(net);
    for (size_t k = 0; k < P; k++) {
        double step = (before[k] - after[k]) / lr;
        CHECK(fabs(step - fd[k]) <= 2e-3 * (1 + fabs(fd[k])), "θ[%zu]: step %g, finite "
              "difference %g", k, step, fd[k]);
    }
    /* the same step without l2 moves the weights less towards 0 and the
     * biases the same: the penalty is on the weights alone */
    bp_net *plain = make_net();
    bp_opt_config c0 = c;
    c0.l2 = 0;
    bp_optimizer *o0 = bp_optimizer_create(&c0, P, NULL);
    CHECK(bp_train_step(plain, o0, &X[0][0], (bp_targets){&T[0][0], NULL}, M, NULL) == BP_OK,
          "plain step");
    const float *q = bp_net_params(plain);
    size_t b0 = bp_net_bias_offset(net, 0);
    for (int j = 0; j < N1; j++)
        CHECK(fabsf(after[b0 + j] - q[b0 + j]) <= 1e-6f * fabsf(q[b0 + j]), "bias %d not decayed: %.9g, %.9g", j,
              after[b0 + j], q[b0 + j]); /* l2 = 0 takes the fused step: rounding apart */
    size_t w1 = bp_net_weight_offset(net, 1);
    double shrink = (double)(q[w1] - after[w1]) / (lr * l2 / M * before[w1]);
    CHECK_CLOSE(shrink, 1.0, 1e-3, "W(1)[0] moves by lr·(l2/M)·W more");
    bp_optimizer_free(o0);
    bp_net_free(plain);

    /* an epoch whose steps go through a hook (the separate calls) takes the
     * penalty as the fused one does */
    bp_net *a = make_net(), *b = make_net();
    bp_optimizer *oa = bp_optimizer_create(&c, P, NULL), *ob = bp_optimizer_create(&c, P, NULL);
    bp_dataset *ds = bp_dataset_from_memory(&X[0][0], &T[0][0], NULL, M, N0, N2, NULL);
    int32_t idx[M] = {0, 1, 2, 3, 4};
    double sa = NAN, sb = NAN;
    bp_epoch_hooks h = BP_EPOCH_HOOKS_DEFAULT;
    h.after_backward = pass_through;
    CHECK(bp_train_epoch(a, oa, ds, idx, M, 2, NULL, &sa, NULL) == BP_OK, "epoch");
    CHECK(bp_train_epoch(b, ob, ds, idx, M, 2, &h, &sb, NULL) == BP_OK, "hooked epoch: %s",
          bp_last_error());
    CHECK_CLOSE(sa, sb, 1e-6, "the hooked pass's loss");
    for (size_t k = 0; k < P; k++)
        CHECK(fabsf(bp_net_params(a)[k] - bp_net_params(b)[k]) <= 1e-6f, "θ[%zu] hooked", k);
    CHECK(bp_optimizer_examples(oa) == M, "examples counted: %ld", bp_optimizer_examples(oa));
    bp_dataset_free(ds);
    bp_optimizer_free(oa), bp_optimizer_free(ob);
    bp_net_free(a), bp_net_free(b);
    bp_optimizer_free(opt);
    bp_net_free(net);

    bp_opt_config bad = BP_OPT_CONFIG_DEFAULT;
    bad.l2 = -1;
    CHECK(bp_optimizer_create(&bad, 4, NULL) == NULL && strstr(bp_last_error(), "l2"),
          "l2 < 0 refused: %s", bp_last_error());
    bad.l2 = 0, bad.power_t = NAN;
    CHECK(bp_optimizer_create(&bad, 4, NULL) == NULL && strstr(bp_last_error(), "power_t"),
          "power_t NaN refused: %s", bp_last_error());
}

static void test_rates(void)
{
    bp_net *net = make_net();
    size_t P = bp_net_n_params(net);
    bp_dataset *ds = bp_dataset_from_memory(&X[0][0], &T[0][0], NULL, M, N0, N2, NULL);
    int32_t idx[M] = {4, 2, 0, 1, 3};
    bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
    c.lr = 0.01, c.schedule = BP_SCHED_INVSCALING, c.power_t = 0.25;
    bp_optimizer *opt = bp_optimizer_create(&c, P, NULL);
    double sum;
    CHECK_CLOSE(bp_optimizer_lr(opt), 0.01, 1e-15, "invscaling before any pass");
    CHECK(bp_train_epoch(net, opt, ds, idx, M, 2, NULL, &sum, NULL) == BP_OK, "pass 1");
    CHECK_CLOSE(bp_optimizer_lr(opt), 0.01 / pow(6, 0.25), 1e-15, "after 5 examples: α/6^¼");
    CHECK(bp_train_epoch(net, opt, ds, idx, 3, 2, NULL, &sum, NULL) == BP_OK, "pass 2");
    CHECK_CLOSE(bp_optimizer_lr(opt), 0.01 / pow(9, 0.25), 1e-15, "after 8 examples: α/9^¼");
    int stop = -1;
    CHECK(bp_optimizer_plateau(opt, &stop) == BP_OK && stop == 1, "invscaling: a plateau stops");

    /* checkpointed and read back, the counts carry the rate on */
    tmp_make("sklearn_rules");
    const char *path = tmp_path("ck.bin");
    bp_error err;
    CHECK(bp_checkpoint_save(path, net, opt, NULL, 0, &err) == BP_OK, "save: %s", err.msg);
    bp_optimizer *back = bp_optimizer_create(&c, P, NULL);
    CHECK(bp_checkpoint_load(path, net, back, NULL, 0, &err) == BP_OK, "load: %s", err.msg);
    CHECK(bp_optimizer_lr(back) == bp_optimizer_lr(opt), "rate after load");
    CHECK(bp_optimizer_examples(back) == 8, "examples after load");
    bp_optimizer_free(back);
    /* a checkpoint of other l2 is another run */
    bp_opt_config c2 = c;
    c2.l2 = 0.5;
    back = bp_optimizer_create(&c2, P, NULL);
    CHECK(bp_checkpoint_load(path, net, back, NULL, 0, &err) == BP_ERR_SHAPE &&
              strstr(err.msg, "l2"), "other l2 refused: %s", err.msg);
    bp_optimizer_free(back);
    bp_optimizer_free(opt);

    c.schedule = BP_SCHED_ADAPTIVE, c.lr = 1e-3;
    opt = bp_optimizer_create(&c, P, NULL);
    /* 1e-3 / 5^k: 2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7 — four divisions, then the stop */
    const double want[] = {1e-3, 2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7};
    for (int k = 0; k < 5; k++) {
        CHECK_CLOSE(bp_optimizer_lr(opt), want[k], 1e-12, "adaptive after %d plateaus", k);
        CHECK(bp_optimizer_plateau(opt, &stop) == BP_OK && stop == 0, "plateau %d goes on", k);
    }
    CHECK_CLOSE(bp_optimizer_lr(opt), want[5], 1e-12, "adaptive after 5 plateaus");
    CHECK(bp_optimizer_plateau(opt, &stop) == BP_OK && stop == 1, "at most 1e-6: stop");
    CHECK_CLOSE(bp_optimizer_lr(opt), want[5], 1e-12, "a stop leaves the rate");
    CHECK(bp_optimizer_plateau(NULL, &stop) == BP_ERR_ARG, "NULL opt");
    CHECK(bp_optimizer_plateau(opt, NULL) == BP_ERR_ARG, "NULL stop");
    bp_optimizer_free(opt);
    bp_dataset_free(ds);
    bp_net_free(net);
    tmp_remove();
}

static void test_split_classes(void)
{
    /* 10 examples of classes with 5, 3 and 2 examples, 3 held out: floors
     * 1, 0, 0 (of 1.5, 0.9, 0.6), the two left to the largest remainders
     * 0.9 and 0.6: one of each class */
    const int32_t labels[10] = {0, 1, 0, 2, 0, 1, 0, 2, 1, 0};
    int32_t perm[10];
    bp_rng rng;
    CHECK(bp_split_classes(42, labels, 10, 3, 3, perm, &rng) == BP_OK, "split: %s",
          bp_last_error());
    int seen[10] = {0}, val[3] = {0};
    for (int i = 0; i < 10; i++)
        seen[perm[i]]++;
    for (int i = 0; i < 10; i++)
        CHECK(seen[i] == 1, "a permutation: %d seen %d times", i, seen[i]);
    for (int i = 0; i < 3; i++)
        val[labels[perm[i]]]++;
    CHECK(val[0] == 1 && val[1] == 1 && val[2] == 1, "held out per class: %d %d %d", val[0],
          val[1], val[2]);
    /* 7 of 10 held out: floors 3, 2, 1 (3.5, 2.1, 1.4), the one left to class 0 */
    CHECK(bp_split_classes(42, labels, 10, 3, 7, perm, &rng) == BP_OK, "split 7");
    memset(val, 0, sizeof val);
    for (int i = 0; i < 7; i++)
        val[labels[perm[i]]]++;
    CHECK(val[0] == 4 && val[1] == 2 && val[2] == 1, "7 held out: %d %d %d", val[0], val[1],
          val[2]);
    /* another seed, another choice of the same counts */
    int32_t other[10];
    CHECK(bp_split_classes(43, labels, 10, 3, 7, other, &rng) == BP_OK, "seed 43");
    CHECK(memcmp(perm, other, sizeof perm) != 0, "the seed chooses");
    const int32_t bad[3] = {0, 3, 1};
    CHECK(bp_split_classes(1, bad, 3, 3, 1, perm, &rng) == BP_ERR_ARG, "label out of range");
    CHECK(bp_split_classes(1, labels, 10, 3, 10, perm, &rng) == BP_ERR_ARG, "n_val = n");
    CHECK(bp_split_classes(1, labels, 10, 3, 0, perm, &rng) == BP_ERR_ARG, "n_val = 0");
    CHECK(bp_split_classes(1, NULL, 10, 3, 1, perm, &rng) == BP_ERR_ARG, "NULL labels");
}

/* bp_predict_rows: each row's outputs the same bits alone as among others,
 * and bp_predict's to float32 rounding */
static void test_predict_rows(void)
{
    int sizes[] = {7, 64, 33, 3};
    bp_act acts[] = {BP_ACT_RELU, BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 3, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_SOFTMAX_CE;
    bp_net *net = bp_net_create(&cfg, 64, NULL);
    enum { N = 50 };
    static float x[N][7], all[N][3], one[3], batch[N][3];
    bp_rng r;
    bp_rng_seed(&r, 5);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 7; j++)
            x[i][j] = (float)bp_rng_normal(&r);
    const float mean[7] = {0.1f, -0.2f, 0, 0.3f, 0, 0, 1}, std[7] = {1, 2, 1, 0.5f, 1, 1, 3};
    CHECK(bp_net_set_standardize(net, mean, std) == BP_OK, "standardize");
    CHECK(bp_predict_rows(net, &x[0][0], N, &all[0][0], NULL) == BP_OK, "rows");
    CHECK(bp_predict(net, &x[0][0], N, &batch[0][0], NULL) == BP_OK, "batch");
    for (int i = 0; i < N; i++) {
        CHECK(bp_predict_rows(net, x[i], 1, one, NULL) == BP_OK, "row %d", i);
        CHECK(memcmp(one, all[i], sizeof one) == 0, "row %d alone: the same bits", i);
        for (int j = 0; j < 3; j++)
            CHECK(fabsf(all[i][j] - batch[i][j]) <= 1e-6f, "row %d, output %d: %g vs %g", i, j,
                  all[i][j], batch[i][j]);
    }
    CHECK(bp_predict_rows(NULL, &x[0][0], 1, one, NULL) == BP_ERR_ARG, "NULL net");
    CHECK(bp_predict_rows(net, &x[0][0], -1, one, NULL) == BP_ERR_ARG, "n < 0");
    bp_net_free(net);
}

/* bp_net_init_uniform: every weight and bias inside ±sqrt(gain/(in+out)),
 * spread over it (the extremes near the bound, the mean near 0) */
static void test_init_uniform(void)
{
    int sizes[] = {40, 60, 3};
    bp_act acts[] = {BP_ACT_RELU, BP_ACT_SOFTMAX};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 2, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_SOFTMAX_CE;
    bp_net *net = bp_net_create(&cfg, 4, NULL);
    CHECK(bp_net_init_uniform(net, 3, 6.0) == BP_OK, "init");
    const float *p = bp_net_params(net);
    for (int l = 0; l < 2; l++) {
        double lim = sqrt(6.0 / (sizes[l] + sizes[l + 1])), lo = 0, hi = 0, sum = 0;
        size_t o = bp_net_weight_offset(net, l), n = (size_t)sizes[l] * sizes[l + 1];
        for (size_t k = 0; k < n; k++) {
            lo = fmin(lo, p[o + k]), hi = fmax(hi, p[o + k]), sum += p[o + k];
        }
        CHECK(lo >= -lim && hi <= lim && lo < -0.95 * lim && hi > 0.95 * lim,
              "W(%d) in [%g, %g] of ±%g", l, lo, hi, lim);
        CHECK(fabs(sum / n) < 0.05 * lim, "W(%d) mean %g", l, sum / n);
        size_t b = bp_net_bias_offset(net, l);
        int nonzero = 0;
        for (int j = 0; j < sizes[l + 1]; j++) {
            CHECK(fabs(p[b + j]) <= lim, "b(%d)[%d] = %g", l, j, p[b + j]);
            nonzero += p[b + j] != 0;
        }
        CHECK(nonzero == sizes[l + 1], "b(%d) drawn", l);
    }
    CHECK(bp_net_init_uniform(net, 3, 0) == BP_ERR_ARG, "gain 0");
    CHECK(bp_net_init_uniform(net, 3, NAN) == BP_ERR_ARG, "gain NaN");
    CHECK(bp_net_init_uniform(NULL, 3, 6) == BP_ERR_ARG, "NULL net");
    bp_net_free(net);
}

int main(void)
{
    test_init_uniform();
    test_predict_rows();
    test_l2_step();
    test_rates();
    test_split_classes();
    CHECK_DONE();
}
