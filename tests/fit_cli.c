/*
 * fit_cli.c — bp_fit with the options of the run
 *     backprop train --data DATA.csv --layers 2,8,3 --act tanh --loss softmax_ce
 *         --opt adam --lr 0.05 --batch 16 --epochs 5 --seed 3 --val 0.2
 * printing "epoch,train_loss,val_loss" per epoch as that run's --metrics
 * does (%.9g): test_examples.sh compares the two, which agree digit for
 * digit because bp_fit runs the CLI's loop (its split, its shuffles,
 * bp_train_step on each batch, bp_evaluate on the held-out examples).
 * usage: fit_cli DATA.csv (two features, then the label)
 */
#include "backprop.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: fit_cli DATA.csv\n"), 1;
    int sizes[3] = {2, 8, 3};
    bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = {.size = sizeof(bp_config), .temperature = 1.0, .leaky_slope = BP_LEAKY_SLOPE_DEFAULT, .n_layers = 2, .sizes = sizes, .acts = acts, .loss = BP_LOSS_SOFTMAX_CE};
    bp_opt_config opt = BP_OPT_CONFIG_DEFAULT;
    opt.kind = BP_OPT_ADAM;
    opt.lr = 0.05;
    double train[5], val[5];
    bp_error err;
    bp_dataset *ds = NULL;
    bp_net *net = bp_net_create(&cfg, 16, &err); /* the CLI's: the batch */
    if (!net || bp_dataset_load_csv(argv[1], 0, &ds, &err) != BP_OK) {
        bp_net_free(net);
        return fprintf(stderr, "fit_cli: %s\n", err.msg), 1;
    }
    bp_net_init(net, 3); /* train --seed 3 seeds the initialisation too */
    bp_status s = bp_fit(net, ds, &opt, 5, 16, 3, 0.2, train, val, &err);
    if (s != BP_OK)
        fprintf(stderr, "fit_cli: %s\n", err.msg);
    for (int e = 0; s == BP_OK && e < 5; e++)
        printf("%d,%.9g,%.9g\n", e + 1, train[e], val[e]);
    bp_dataset_free(ds);
    bp_net_free(net);
    return s != BP_OK;
}
