/* xor.c — the smallest network that needs a hidden layer, trained in one call. */
#include <backprop.h>
#include <stdio.h>

int main(void)
{
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, t[] = {0, 1, 1, 0}, y[4];
    int sizes[] = {2, 4, 1};
    bp_act acts[] = {BP_ACT_TANH, BP_ACT_SIGMOID};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 2, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_SIGMOID_BCE;
    bp_opt_config opt = BP_OPT_CONFIG_DEFAULT;
    opt.kind = BP_OPT_ADAM, opt.lr = 0.05;
    bp_net *net = bp_net_create(&cfg, 4, NULL);
    bp_dataset *data = bp_dataset_from_memory(x, t, NULL, 4, 2, 1, NULL);
    if (!net || !data || bp_fit(net, data, &opt, 500, 4, 1, 0, NULL, NULL, NULL) != BP_OK ||
        bp_predict(net, x, 4, y, NULL) != BP_OK)
        return fprintf(stderr, "xor: %s\n", bp_last_error()), 1;
    for (int i = 0; i < 4; i++)
        printf("%g xor %g = %.3f\n", x[2 * i], x[2 * i + 1], y[i]);
    return bp_net_free(net), bp_dataset_free(data), 0;
}
