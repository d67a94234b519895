/*
 * network.c — a network's life: checking its configuration, laying out the
 * one parameter buffer, the one gradient buffer and the work buffers, the
 * accessors, and the seeded initialisation.
 *
 * Layout of the parameter (and gradient) buffer, SPEC.md §2:
 *   W(0) [N(1),N(0)] | b(0) [N(1)] | W(1) [N(2),N(1)] | b(1) [N(2)] | ...
 * Every buffer is allocated here, once, for the largest batch: the forward
 * and backward passes never allocate.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#ifdef BP_HAVE_CUDA
#include "cuda.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rejects what the note does not define: softmax inside the network, a loss
 * without its output activation, a temperature outside softmax_ce. */
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

bp_net *bp_net_create(const bp_config *cfg, int max_batch, bp_error *err)
{
    if (!cfg || !cfg->sizes || !cfg->acts) {
        bp_fail(err, BP_ERR_ARG, "no network configuration");
        return NULL;
    }
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
    if (units > SIZE_MAX / 3 / sizeof(float) / (size_t)max_batch ||
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
    net->T = cfg->temperature;
    net->slope = cfg->leaky_slope;
    net->max_batch = max_batch;
    net->gemm = bp_gemm_default();
    gemm_init(); /* the BLAS at one thread: the pool does the threading */
    net->n_params = n_params;
    net->params = calloc(n_params, sizeof(float));
    net->grads = calloc(n_params, sizeof(float));
    /* + y(0) of a pending per-example step */
    net->work_size = units * 3 * (size_t)max_batch + (size_t)cfg->sizes[0];
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
    net->pending_y = w;
    if (cfg->device != BP_DEVICE_CPU && bp_net_set_device(net, cfg->device, err) != BP_OK) {
        bp_net_free(net);
        return NULL;
    }
    return net;
}

void bp_net_free(bp_net *net)
{
    if (!net)
        return;
#ifdef BP_HAVE_CUDA
    bp_cuda_free(net);
#endif
    bp_dataset_free(net->bench_ds);
    bp_optimizer_free(net->bench_opt);
    free(net->params);
    free(net->grads);
    pool_free(net->pool);
    free(net->work);
    free(net->mean);
    free(net->std);
    free(net);
}

bp_status bp_net_set_standardize(bp_net *net, const float *mean, const float *std)
{
    free(net->mean);
    free(net->std);
    net->mean = net->std = NULL;
    if (!mean || !std)
        return BP_OK;
    size_t n = (size_t)net->sizes[0];
    for (size_t i = 0; i < n; i++)
        if (!isfinite(mean[i]) || !isfinite(std[i]) || std[i] <= 0)
            return BP_ERR_ARG;
    net->mean = malloc(n * sizeof(float));
    net->std = malloc(n * sizeof(float));
    if (!net->mean || !net->std) {
        free(net->mean);
        free(net->std);
        net->mean = net->std = NULL;
        return BP_ERR_NOMEM;
    }
    memcpy(net->mean, mean, n * sizeof(float));
    memcpy(net->std, std, n * sizeof(float));
    return BP_OK;
}

bp_status bp_net_set_threads(bp_net *net, int threads)
{
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)cores : 1;
    }
    if (threads > BP_MAX_THREADS)
        threads = BP_MAX_THREADS;
    pool_free(net->pool);
    net->pool = NULL;
    if (threads > 1 && !(net->pool = pool_create(threads)))
        return BP_ERR_NOMEM;
    return BP_OK;
}

int bp_net_threads(const bp_net *net) { return pool_threads(net->pool); }

bp_status bp_net_set_gemm(bp_net *net, bp_gemm g)
{
    if (!net || !bp_gemm_available(g))
        return BP_ERR_ARG;
    net->gemm = g;
    return BP_OK;
}

bp_gemm bp_net_gemm(const bp_net *net) { return net->gemm; }

const float *bp_net_mean(const bp_net *net) { return net->mean; }
const float *bp_net_std(const bp_net *net) { return net->std; }

int bp_net_n_layers(const bp_net *net) { return net->L; }
int bp_net_size(const bp_net *net, int l) { return net->sizes[l]; }
bp_act bp_net_act(const bp_net *net, int l) { return net->acts[l]; }
bp_loss bp_net_loss(const bp_net *net) { return net->loss; }
double bp_net_temperature(const bp_net *net) { return net->T; }
double bp_net_leaky_slope(const bp_net *net) { return net->slope; }
int bp_net_max_batch(const bp_net *net) { return net->max_batch; }
size_t bp_net_n_params(const bp_net *net) { return net->n_params; }
/* On a CUDA network: the host mirror, current (see backprop.h). */
float *bp_net_params(bp_net *net)
{
    bp_net_sync_host(net, BP_MIRROR_PARAMS);
    if (net->device != BP_DEVICE_CPU)
        net->host_newer = 1; /* the caller may write: upload before the next device use */
    return net->params;
}

const float *bp_net_params_const(const bp_net *net)
{
    bp_net_sync_host(net, BP_MIRROR_PARAMS);
    return net->params;
}

float *bp_net_grads(bp_net *net)
{
    bp_net_sync_host(net, BP_MIRROR_GRADS);
    return net->grads;
}

size_t bp_net_weight_offset(const bp_net *net, int l)
{
    return (size_t)(net->layer[l].W - net->params);
}

size_t bp_net_bias_offset(const bp_net *net, int l)
{
    return (size_t)(net->layer[l].b - net->params);
}

/* He (normal, variance 2/in) keeps the variance of z through ReLU layers;
 * Xavier/Glorot (uniform, variance 2/(in+out)) through the saturating ones. */
void bp_net_init(bp_net *net, uint64_t seed)
{
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
}
