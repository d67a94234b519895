/*
 * cmd_init.c — `backprop init`: a new model file from a network description
 * and a seed.
 */
#include "cli.h"

#include <stdio.h>

static cli_opt opts[] = {
    CLI_NETWORK_OPTS(NULL, "relu", "identity", "softmax_ce"),
    {"seed", "S", "1", "seed of the weight initialisation", NULL},
    {"out", "FILE", NULL, "model file to write (safetensors)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"init",
                          "Writes a new model: He initialisation before ReLU-family layers, "
                          "Xavier before the others, zero biases.",
                          "--layers 784,256,10 --act relu --loss softmax_ce --out M", opts};

int cmd_init(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    bp_config cfg;
    const char *out;
    uint64_t seed;
    if (cli_require(&cmd, "out", &out) || cli_network_config(&cmd, sizes, acts, &cfg))
        return 1;
    if (cli_u64(cli_get(&cmd, "seed"), &seed))
        return cli_error(&cmd, "--seed: '%s' is not a non-negative integer", cli_get(&cmd, "seed"));

    bp_error err;
    bp_net *net = bp_net_create(&cfg, 1, &err);
    if (!net)
        return cli_error(&cmd, "%s", err.msg);
    bp_net_init(net, seed);
    bp_status s = bp_model_save(net, out, &err);
    bp_net_free(net);
    if (s != BP_OK)
        return cli_error(&cmd, "%s", err.msg);
    return 0;
}
