/*
 * test_y0.c — the network owns Y(0), the input of its last forward pass
 * (issue 13's use-after-free: the network used to borrow the caller's
 * buffer until the backward pass, and bp_evaluate followed by bp_backward
 * read the block evaluate had freed). Each backward below goes back
 * through an input that is gone, and its gradient is checked against the
 * scalar form's in double on the input as it was. Under ASan (make asan) a
 * read of the freed block would also stop the test.
 */
#include "check.h"

#include "backprop.h"
#include "backprop_ref.h"

static bp_net *net;

/* ∇ of the batch form against the scalar form's double, for x [M, 3]. */
static void check_grad(const char *what, const float *x, const int32_t *lab, int M)
{
    static double params[64], want[64];
    size_t P = bp_net_n_params(net);
    const float *p = bp_net_params_const(net);
    for (size_t k = 0; k < P; k++)
        params[k] = p[k];
    double loss;
    CHECK(bp_scalar_gradient(net, params, x, (bp_targets){NULL, lab}, M, want, &loss, NULL) ==
              BP_OK,
          "%s: scalar", what);
    const float *g = bp_net_grads(net);
    for (size_t k = 0; k < P; k++)
        CHECK_CLOSE(g[k], want[k], 1e-5, "%s: gradient %zu", what, k);
}

int main(void)
{
    int sizes[] = {3, 4, 2};
    bp_act acts[] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = {.size = sizeof(bp_config), .temperature = 1.0, .leaky_slope = BP_LEAKY_SLOPE_DEFAULT, .n_layers = 2, .sizes = sizes, .acts = acts, .loss = BP_LOSS_SOFTMAX_CE};
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_ADAM;
    oc.lr = 0.1;
    float x[8 * 3];
    int32_t lab[8], idx[8];
    for (int i = 0; i < 24; i++)
        x[i] = (float)((i * 5) % 7) / 6.0f - 0.5f;
    for (int i = 0; i < 8; i++)
        lab[i] = i % 2, idx[i] = i;
    net = bp_net_create(&cfg, 4, NULL);
    bp_dataset *ds = bp_dataset_from_memory(x, NULL, lab, 8, 3, 2, NULL);
    bp_optimizer *opt = net ? bp_optimizer_create(&oc, bp_net_n_params(net), NULL) : NULL;
    if (!net || !ds || !opt) {
        fprintf(stderr, "fixtures: %s\n", bp_last_error());
        return 1;
    }
    double loss, l;

    /* the input dies between forward and backward */
    float *xh = malloc(4 * 3 * sizeof *xh);
    memcpy(xh, x, 4 * 3 * sizeof *xh);
    CHECK(bp_forward(net, xh, 4) == BP_OK, "forward");
    for (int i = 0; i < 12; i++)
        xh[i] = 1e30f; /* what a reused buffer would hold */
    free(xh);
    CHECK(bp_backward(net, (bp_targets){NULL, lab}, &loss) == BP_OK,
          "backward after the input was freed: %s", bp_last_error());
    check_grad("freed input", x, lab, 4);

    /* bp_evaluate's batch buffer is freed when it returns: backward goes
     * through its last batch, 8 = 4 + 4 examples, so examples 4..7 */
    bp_metrics m;
    CHECK(bp_evaluate(net, ds, idx, 8, &m, NULL) == BP_OK, "evaluate");
    CHECK(bp_backward(net, (bp_targets){NULL, lab + 4}, &loss) == BP_OK,
          "backward after evaluate: %s", bp_last_error());
    check_grad("after evaluate", x + 4 * 3, lab + 4, 4);

    /* an epoch's steps spent its forward passes: nothing to go back through */
    CHECK(bp_train_epoch(net, opt, ds, idx, 8, 4, NULL, &l, NULL) == BP_OK, "epoch");
    CHECK(bp_backward(net, (bp_targets){NULL, lab}, &loss) == BP_ERR_ARG &&
              strstr(bp_last_error(), "no forward pass to go back through"),
          "backward after an epoch: %s", bp_last_error());

    bp_optimizer_free(opt);
    bp_dataset_free(ds);
    bp_net_free(net);
    CHECK_DONE();
}
