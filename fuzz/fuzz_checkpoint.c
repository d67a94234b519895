/*
 * fuzz_checkpoint.c — libFuzzer harness for bp_checkpoint_load, the reader
 * behind `train --resume`.
 *
 * The input is the whole file, loaded into one fixed network (3-4-2,
 * standardised inputs) with an Adam optimiser and two caller blobs, the
 * shape of a small run. The reader promises that a refused file changes
 * nothing: the parameters, the standardisation, the optimiser's state and
 * the blobs are compared with a snapshot after every refusal. With
 * BP_FUZZ_SEED=PATH set, the harness writes a valid checkpoint of its run
 * there first (how fuzz/corpus/checkpoint/valid.bin was made).
 */
#include "fuzz_common.h"

#include "io/io.h"

static bp_net *net;
static bp_optimizer *opt;
static unsigned char run_blob[24], order_blob[12];
static bp_blob blobs[2] = {{"run", run_blob, sizeof run_blob},
                           {"order", order_blob, sizeof order_blob}};
static const char *path;

/* Everything a load may change, flattened: compared after a refusal. */
static size_t snapshot(unsigned char *out)
{
    size_t P = bp_net_n_params(net), k = 0;
    memcpy(out + k, bp_net_params_const(net), P * sizeof(float)), k += P * sizeof(float);
    memcpy(out + k, bp_net_mean(net), 3 * sizeof(float)), k += 3 * sizeof(float);
    memcpy(out + k, bp_net_std(net), 3 * sizeof(float)), k += 3 * sizeof(float);
    memcpy(out + k, opt->m, 2 * P * sizeof(float)), k += 2 * P * sizeof(float);
    memcpy(out + k, &opt->t, sizeof opt->t), k += sizeof opt->t;
    memcpy(out + k, run_blob, sizeof run_blob), k += sizeof run_blob;
    memcpy(out + k, order_blob, sizeof order_blob), k += sizeof order_blob;
    return k;
}

static void setup(void)
{
    static const int sizes[3] = {3, 4, 2};
    static const bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = {sizeof(bp_config), 2, sizes, acts, BP_LOSS_SOFTMAX_CE, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_ADAM;
    oc.lr = 0.01;
    static const float mean[3] = {0.5f, -1, 2}, std[3] = {1, 2, 0.25f};
    net = bp_net_create(&cfg, 2, NULL);
    opt = net ? bp_optimizer_create(&oc, bp_net_n_params(net), NULL) : NULL;
    if (!opt || bp_net_set_standardize(net, mean, std) != BP_OK)
        abort();
    bp_net_init(net, 7);
    for (size_t k = 0; k < 2 * bp_net_n_params(net); k++)
        opt->m[k] = (float)k / 64; /* m then v, one allocation */
    opt->t = 5;
    for (size_t k = 0; k < sizeof run_blob; k++)
        run_blob[k] = (unsigned char)k;
    const char *seed = getenv("BP_FUZZ_SEED");
    if (seed && bp_checkpoint_save(seed, net, opt, blobs, 2, NULL) != BP_OK)
        abort();
    char *p = (char *)fuzz_path("checkpoint.bin");
    path = p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!net)
        setup();
    fuzz_write(path, data, size);
    static unsigned char before[4096], after[4096];
    size_t n = snapshot(before);
    bp_error err;
    bp_status s = bp_checkpoint_load(path, net, opt, blobs, 2, &err);
    if (s != BP_OK) {
        if (snapshot(after) != n || memcmp(before, after, n) != 0 || !err.msg[0] ||
            strchr(err.msg, '\n'))
            __builtin_trap(); /* a refusal changed something, or said nothing */
        return 0;
    }
    /* a load that succeeded: the network still works */
    float x[6] = {0};
    if (bp_forward(net, x, 2) != BP_OK)
        __builtin_trap();
    return 0;
}
