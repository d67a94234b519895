/*
 * network.c — a network's life: checking its configuration, laying out the
 * one parameter buffer, the one gradient buffer and the work buffers, the
 * accessors, and the seeded initialisation.
 *
 * Layout of the parameter (and gradient) buffer (docs/algorithm.md):
 *   W(0) [N(1),N(0)] | b(0) [N(1)] | W(1) [N(2),N(1)] | b(1) [N(2)] | ...
 * Every buffer is allocated here, once, for the largest batch: the forward
 * and backward passes never allocate.
 */
#define _POSIX_C_SOURCE 200809L
#include "nn/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rejects what the note does not define: softmax inside the network, a loss
 * without its output activation, a temperature outside softmax_ce. cfg has
 * its defaults in. */
static bp_status check_config(const bp_config *cfg, int max_batch, bp_error *err)
{
    int L = cfg->n_layers;
    if (L < 1 || L > BP_MAX_LAYERS)
        return bp_fail(err, BP_ERR_ARG, "a network needs 1 to %d weight layers, not %d",
                       BP_MAX_LAYERS, L);
    for (int l = 0; l <= L; l++)
        if (cfg->sizes[l] < 1 || cfg->sizes[l] > BP_MAX_WIDTH)
            return bp_fail(err, BP_ERR_ARG, "layer %d: width %d is not in 1..%d", l,
                           cfg->sizes[l], BP_MAX_WIDTH);
    for (int l = 0; l < L; l++) {
        bp_act a = cfg->acts[l];
        if ((unsigned)a >= BP_ACT_COUNT)
            return bp_fail(err, BP_ERR_ARG, "layer %d: unknown activation", l + 1);
        if (a == BP_ACT_SOFTMAX && l != L - 1)
            return bp_fail(err, BP_ERR_ARG,
                           "layer %d: softmax is only for the output layer", l + 1);
    }
    bp_act out = cfg->acts[L - 1];
    switch (cfg->loss) {
    case BP_LOSS_MSE:
        if (out == BP_ACT_SOFTMAX)
            return bp_fail(err, BP_ERR_ARG,
                           "loss mse takes an element-wise output activation, not softmax");
        break;
    case BP_LOSS_SOFTMAX_CE:
        if (out != BP_ACT_SOFTMAX)
            return bp_fail(err, BP_ERR_ARG, "loss softmax_ce needs a softmax output, not %s",
                           bp_act_name(out));
        break;
    case BP_LOSS_SIGMOID_BCE:
        if (out != BP_ACT_SIGMOID)
            return bp_fail(err, BP_ERR_ARG, "loss sigmoid_bce needs a sigmoid output, not %s",
                           bp_act_name(out));
        break;
    default: return bp_fail(err, BP_ERR_ARG, "unknown loss");
    }
    /* the engine divides by T in float: T and 1/T must both be finite floats */
    float T32 = (float)cfg->temperature;
    if (!isfinite(cfg->temperature) || !(T32 > 0) || !isfinite(T32) || !isfinite(1.0f / T32))
        return bp_fail(err, BP_ERR_ARG,
                       "temperature %g is not a positive number with T and 1/T finite in float32",
                       cfg->temperature);
    if (cfg->temperature != 1.0 && cfg->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(err, BP_ERR_ARG, "a temperature applies to softmax_ce only");
    if (!isfinite((float)cfg->leaky_slope))
        return bp_fail(err, BP_ERR_ARG, "leaky ReLU slope %g is not finite in float32",
                       cfg->leaky_slope);
    if (max_batch < 1)
        return bp_fail(err, BP_ERR_ARG, "maximum batch %d is not positive", max_batch);
    if ((unsigned)cfg->device >= BP_DEVICE_COUNT)
        return bp_fail(err, BP_ERR_ARG, "unknown device %d", (int)cfg->device);
    return BP_OK;
}

bp_net *bp_net_layout(const bp_config *config, int max_batch, int init, bp_error *err)
{
    if (!config || !config->sizes || !config->acts) {
        bp_arg_null(err, "bp_net_create", !config ? "cfg" : !config->sizes ? "cfg->sizes" : "cfg->acts");
        return NULL;
    }
    if (config->size != sizeof(bp_config)) {
        bp_fail(err, BP_ERR_ARG, "bp_net_create: cfg->size is %zu, not sizeof(bp_config) = %zu: "
                "start from BP_CONFIG_DEFAULT", config->size, sizeof(bp_config));
        return NULL;
    }
    const bp_config *cfg = config;
    if (check_config(cfg, max_batch, err) != BP_OK)
        return NULL;

    int L = cfg->n_layers;
    /* Sizes are bounded by BP_MAX_WIDTH (2^24) and BP_MAX_LAYERS, so these
     * sums fit in size_t on a 64-bit machine; the products with max_batch
     * are checked. */
    size_t n_params = 0, units = 0;
    for (int l = 0; l < L; l++) {
        n_params += (size_t)cfg->sizes[l + 1] * cfg->sizes[l] + cfg->sizes[l + 1];
        units += (size_t)cfg->sizes[l + 1];
    }
    /* z, y and delta for layers 1..L: 3 floats per unit per example */
    if (units + (size_t)cfg->sizes[0] > SIZE_MAX / 4 / sizeof(float) / (size_t)max_batch ||
        n_params > SIZE_MAX / 2 / sizeof(float)) {
        bp_fail(err, BP_ERR_NOMEM, "network too large for this machine");
        return NULL;
    }

    bp_net *net = calloc(1, sizeof *net);
    if (!net) {
        bp_fail(err, BP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    net->L = L;
    memcpy(net->sizes, cfg->sizes, (size_t)(L + 1) * sizeof(int));
    for (int l = 0; l < L; l++)
        net->acts[l + 1] = cfg->acts[l];
    net->loss = cfg->loss;
    net->temperature = cfg->temperature;
    net->slope = cfg->leaky_slope;
    net->max_batch = max_batch;
    net->n_params = n_params;
    net->params = calloc(n_params, sizeof(float));
    net->grads = calloc(n_params, sizeof(float));
    /* + Y(0) [max_batch, N(0)], the copy of the input */
    net->work_size = (units * 3 + (size_t)cfg->sizes[0]) * (size_t)max_batch;
    net->work = calloc(net->work_size, sizeof(float));
    if (!net->params || !net->grads || !net->work) {
        bp_net_free(net);
        bp_fail(err, BP_ERR_NOMEM, "out of memory for %zu parameters and a batch of %d",
                n_params, max_batch);
        return NULL;
    }

    size_t off = 0;
    float *w = net->work;
    for (int l = 0; l < L; l++) {
        bp_layer *ly = &net->layer[l];
        ly->in = net->sizes[l];
        ly->out = net->sizes[l + 1];
        ly->W = net->params + off;
        ly->gW = net->grads + off;
        off += (size_t)ly->out * ly->in;
        ly->b = net->params + off;
        ly->gb = net->grads + off;
        off += (size_t)ly->out;

        size_t rows = (size_t)max_batch * ly->out;
        net->z[l + 1] = w;
        /* the identity's y is its z: no copy, no pass */
        net->y[l + 1] = net->acts[l + 1] == BP_ACT_IDENTITY ? w : w + rows;
        net->delta[l + 1] = w + 2 * rows;
        w += 3 * rows;
    }
    net->x = w;
    /* never all zeros: a network trains from the moment it exists */
    if (init)
        bp_net_init(net, BP_INIT_SEED);
    return net;
}

void bp_net_free(bp_net *net)
{
    if (!net)
        return;
    if (net->opt_held) /* the optimiser outlives the device's copy of its state */
        (void)optim_home(net->opt_held);
    if (net->mirror)
        net->mirror->release(net);
    free(net->params);
    free(net->grads);
    pool_free(net->pool);
    free(net->work);
    free(net->mean);
    free(net->std);
    free(net->classes);
    free(net->columns);
    free(net);
}

bp_status bp_net_set_standardize(bp_net *net, const float *mean, const float *std)
{
    BP_NEED(net, NULL);
    if (!mean != !std)
        return bp_arg_null(NULL, __func__, mean ? "std" : "mean");
    size_t n = (size_t)net->sizes[0];
    for (size_t i = 0; mean && i < n; i++)
        if (!isfinite(mean[i]) || !isfinite(std[i]) || std[i] <= 0)
            return bp_fail(NULL, BP_ERR_ARG,
                           "%s: feature %zu: mean %g, std %g: need finite values and std > 0",
                           __func__, i, mean[i], std[i]);
    float *m = mean ? malloc(n * sizeof(float)) : NULL, *d = mean ? malloc(n * sizeof(float)) : NULL;
    if (mean && (!m || !d)) {
        free(m);
        free(d);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory", __func__);
    }
    if (mean) {
        memcpy(m, mean, n * sizeof(float));
        memcpy(d, std, n * sizeof(float));
    }
    free(net->mean);
    free(net->std);
    net->mean = m;
    net->std = d;
    return BP_OK;
}

bp_status bp_net_set_threads(bp_net *net, int threads)
{
    BP_NEED(net, NULL);
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)cores : 1;
    }
    if (threads > BP_MAX_THREADS)
        threads = BP_MAX_THREADS;
    pool_free(net->pool);
    net->pool = NULL;
    if (threads > 1 && !(net->pool = pool_create(threads)))
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: cannot start %d threads", __func__, threads);
    return BP_OK;
}

/* The accessors' answer to a NULL net or an index out of range: the
 * documented value, and the reason at bp_last_error. */
#define NET_OR(v)                                                                        \
    do {                                                                                 \
        if (!net)                                                                        \
            return bp_arg_null(NULL, __func__, "net"), (v);                              \
    } while (0)
#define LAYER_OR(lo, hi, v)                                                              \
    do {                                                                                 \
        NET_OR(v);                                                                       \
        if (l < (lo) || l > (hi))                                                        \
            return bp_fail(NULL, BP_ERR_ARG, "%s: layer %d not in %d..%d", __func__, l,  \
                           (lo), (hi)),                                                  \
                   (v);                                                                  \
    } while (0)

int bp_net_threads(const bp_net *net)
{
    NET_OR(0);
    return pool_threads(net->pool);
}

const float *bp_net_mean(const bp_net *net)
{
    NET_OR(NULL);
    return net->mean;
}

const float *bp_net_std(const bp_net *net)
{
    NET_OR(NULL);
    return net->std;
}

int bp_net_n_layers(const bp_net *net)
{
    NET_OR(0);
    return net->L;
}

int bp_net_size(const bp_net *net, int l)
{
    LAYER_OR(0, net->L, 0);
    return net->sizes[l];
}

bp_act bp_net_act(const bp_net *net, int l)
{
    LAYER_OR(1, net->L, BP_ACT_COUNT);
    return net->acts[l];
}

bp_loss bp_net_loss(const bp_net *net)
{
    NET_OR(BP_LOSS_COUNT);
    return net->loss;
}

double bp_net_temperature(const bp_net *net)
{
    NET_OR(NAN);
    return net->temperature;
}

double bp_net_leaky_slope(const bp_net *net)
{
    NET_OR(NAN);
    return net->slope;
}

int bp_net_max_batch(const bp_net *net)
{
    NET_OR(0);
    return net->max_batch;
}

size_t bp_net_n_params(const bp_net *net)
{
    NET_OR(0);
    return net->n_params;
}

/* On a CUDA network: the host mirror, current (see backprop.h). */
float *bp_net_params(bp_net *net)
{
    NET_OR(NULL);
    bp_net_sync_host(net, BP_MIRROR_PARAMS);
    bp_net_host_wrote(net, BP_MIRROR_PARAMS); /* the caller may write */
    return net->params;
}

const float *bp_net_params_const(const bp_net *net)
{
    NET_OR(NULL);
    bp_net_sync_host(net, BP_MIRROR_PARAMS);
    return net->params;
}

float *bp_net_grads(bp_net *net)
{
    NET_OR(NULL);
    bp_net_sync_host(net, BP_MIRROR_GRADS);
    return net->grads;
}

size_t bp_net_weight_offset(const bp_net *net, int l)
{
    LAYER_OR(0, net->L - 1, SIZE_MAX);
    return (size_t)(net->layer[l].W - net->params);
}

size_t bp_net_bias_offset(const bp_net *net, int l)
{
    LAYER_OR(0, net->L - 1, SIZE_MAX);
    return (size_t)(net->layer[l].b - net->params);
}

/* He (normal, variance 2/in) keeps the variance of z through ReLU layers;
 * Xavier/Glorot (uniform, variance 2/(in+out)) through the saturating ones. */
bp_status bp_net_init(bp_net *net, uint64_t seed)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net");
    (void)bp_net_params(net); /* the host writes the parameters (a CUDA net: its mirror) */
    bp_rng rng;
    bp_rng_seed(&rng, seed);
    for (int l = 0; l < net->L; l++) {
        bp_layer *ly = &net->layer[l];
        size_t n = (size_t)ly->out * ly->in;
        bp_act a = net->acts[l + 1];
        if (a == BP_ACT_RELU || a == BP_ACT_LEAKY_RELU) {
            double sd = sqrt(2.0 / ly->in);
            for (size_t k = 0; k < n; k++)
                ly->W[k] = (float)(sd * bp_rng_normal(&rng));
        } else {
            double lim = sqrt(6.0 / (ly->in + ly->out));
            for (size_t k = 0; k < n; k++)
                ly->W[k] = (float)(lim * (2.0 * bp_rng_uniform(&rng) - 1.0));
        }
        memset(ly->b, 0, (size_t)ly->out * sizeof(float));
    }
    return BP_OK;
}

bp_status bp_net_init_uniform(bp_net *net, uint64_t seed, double gain)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net");
    if (!(gain > 0) || !isfinite(gain))
        return bp_fail(NULL, BP_ERR_ARG, "%s: gain %g is not a finite positive number", __func__,
                       gain);
    (void)bp_net_params(net);
    bp_rng rng;
    bp_rng_seed(&rng, seed);
    for (int l = 0; l < net->L; l++) {
        bp_layer *ly = &net->layer[l];
        double lim = sqrt(gain / (ly->in + ly->out));
        /* W(l) row by row, then b(l): both drawn */
        for (size_t k = 0; k < (size_t)ly->out * ly->in; k++)
            ly->W[k] = (float)(lim * (2.0 * bp_rng_uniform(&rng) - 1.0));
        for (int j = 0; j < ly->out; j++)
            ly->b[j] = (float)(lim * (2.0 * bp_rng_uniform(&rng) - 1.0));
    }
    return BP_OK;
}
