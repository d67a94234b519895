/*
 * test_epoch.c — bp_train_epoch on the CPU is exactly the loop it replaces:
 * gather + bp_train_step per batch (the last one short), bit for bit, with
 * Σ (batch loss × batch size) as its loss; and it refuses what does not fit
 * (indices outside the data set, a batch over the maximum, a shape) and
 * reports a non-finite pass.
 */
#include "check.h"
#include "testnet.h"

int main(void)
{
    bp_rng r;
    bp_rng_seed(&r, 42);
    int n = 100, n_in = 6, k = 3, B = 16;
    uint8_t *px = malloc((size_t)n * n_in);
    int32_t *lab = malloc(sizeof(int32_t) * n), idx[100];
    for (int i = 0; i < n; i++) {
        lab[i] = (int32_t)(bp_rng_next(&r) % (uint64_t)k);
        for (int j = 0; j < n_in; j++)
            px[i * n_in + j] = (uint8_t)(bp_rng_next(&r) >> 56);
        idx[i] = i;
    }
    bp_dataset *ds = bp_dataset_adopt_u8(n, n_in, k, px, lab);
    int sizes[3] = {n_in, 8, k};
    bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = {sizeof(bp_config), 2, sizes, acts, BP_LOSS_SOFTMAX_CE, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    float mean[6], std[6];
    bp_dataset_moments(ds, idx, n, mean, std);
    bp_shuffle(&r, idx, n);

    for (int kind = 0; kind < BP_OPT_COUNT; kind++) {
        bp_net *a = bp_net_create(&cfg, B, NULL), *b = bp_net_create(&cfg, B, NULL);
        bp_net_init(a, 5);
        bp_net_init(b, 5);
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.kind = (bp_opt_kind)kind;
        oc.lr = 0.01;
        oc.clip_norm = kind == 1 ? 0.1 : 0;
        size_t P = bp_net_n_params(a);
        bp_optimizer *oa = bp_optimizer_create(&oc, P, NULL), *ob = bp_optimizer_create(&oc, P, NULL);
        double sum_a, sum_b = 0;
        /* the epoch standardises with a's own; the loop gathers with the same */
        CHECK(bp_net_set_standardize(a, mean, std) == BP_OK, "standardisation");
        CHECK(bp_train_epoch(a, oa, ds, idx, n, B, NULL, &sum_a, NULL) == BP_OK, "epoch");
        float x[16 * 6];
        int32_t l[16];
        for (int m0 = 0; m0 < n; m0 += B) {
            int M = n - m0 < B ? n - m0 : B;
            double loss;
            bp_dataset_gather(ds, idx + m0, M, mean, std, x, NULL, l);
            CHECK(bp_train_step(b, ob, x, (bp_targets){NULL, l}, M, &loss) == BP_OK, "step");
            sum_b += loss * M;
        }
        CHECK(memcmp(bp_net_params_const(a), bp_net_params_const(b), P * sizeof(float)) == 0,
              "%s: epoch vs the loop", bp_opt_name(oc.kind));
        CHECK(sum_a == sum_b, "%s: loss sum %.17g vs %.17g", bp_opt_name(oc.kind), sum_a, sum_b);
        CHECK(bp_optimizer_steps(oa) == (n + B - 1) / B, "steps");
        bp_optimizer_free(oa), bp_optimizer_free(ob);
        bp_net_free(a), bp_net_free(b);
    }

    acts[0] = BP_ACT_RELU; /* unbounded: a rate of 1e30 overflows z */
    bp_net *net = bp_net_create(&cfg, B, NULL);
    bp_net_init(net, 1);
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_SGD;
    oc.lr = 1e30;
    bp_optimizer *opt = bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
    double s;
    CHECK(bp_train_epoch(net, opt, ds, idx, n, B + 1, NULL, &s, NULL) == BP_ERR_ARG, "batch > max");
    idx[7] = n;
    CHECK(bp_train_epoch(net, opt, ds, idx, n, B, NULL, &s, NULL) == BP_ERR_ARG, "index out of range");
    idx[7] = 0;
    CHECK(bp_train_epoch(net, opt, ds, idx, n, B, NULL, &s, NULL) == BP_ERR_NONFINITE, "divergence");
    bp_optimizer_free(opt);
    bp_net_free(net);
    sizes[0] = n_in + 1;
    net = bp_net_create(&cfg, B, NULL);
    opt = bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
    CHECK(bp_train_epoch(net, opt, ds, idx, n, B, NULL, &s, NULL) == BP_ERR_SHAPE, "input width");
    bp_optimizer_free(opt);
    bp_net_free(net);

    /* CPU-only: the device names, and CUDA asked of a build or machine without it */
    bp_device d;
    CHECK(bp_device_parse("cuda", &d) == BP_OK && d == BP_DEVICE_CUDA, "parse cuda");
    CHECK(bp_device_parse("gpu", &d) == BP_ERR_ARG, "parse gpu");
    CHECK(strcmp(bp_device_name(BP_DEVICE_CPU), "cpu") == 0, "name");
    bp_error err;
    if (bp_cuda_probe(&err) != BP_OK) {
        cfg.device = BP_DEVICE_CUDA;
        sizes[0] = n_in;
        /* the library's message names the problem, not a CLI flag */
        CHECK(bp_net_create(&cfg, B, &err) == NULL && strstr(err.msg, "CUDA") &&
                  !strstr(err.msg, "--"),
              "no device: %s", err.msg);
    }
    bp_dataset_free(ds);
    CHECK_DONE();
}
