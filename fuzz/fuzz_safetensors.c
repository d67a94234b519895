/*
 * fuzz_safetensors.c — libFuzzer harness for bp_model_load, the reader of
 * model files (safetensors: 8-byte length, JSON header, F32 data).
 *
 * The input is the whole file. It is written to one scratch file (made once
 * per process, rewritten with ftruncate + pwrite, removed at exit); a model
 * that loads is run forward once on zeros and freed.
 */
#include "fuzz_common.h"

#include <math.h>

static int model_fd = -1;
static const char *model_path;

static void model_setup(void)
{
    /* fuzz_path registers the name for the clean-up at exit */
    char *p = (char *)fuzz_path("model-XXXXXX");
    model_fd = mkstemp(p);
    if (model_fd < 0)
        abort();
    model_path = p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (model_fd < 0)
        model_setup();
    if (ftruncate(model_fd, 0) != 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t w = pwrite(model_fd, data + done, size - done, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            abort();
        done += (size_t)w;
    }

    bp_net *net = NULL;
    bp_error err;
    bp_status s = bp_model_load(model_path, 4, &net, &err);
    if (s != BP_OK) {
        if (net) /* a failed load must leave no network behind */
            __builtin_trap();
        return 0;
    }
    if (!net)
        __builtin_trap();
    int L = bp_net_n_layers(net);
    if (L < 1 || L > BP_MAX_LAYERS || bp_net_max_batch(net) != 4)
        __builtin_trap();
    for (int l = 0; l <= L; l++)
        if (bp_net_size(net, l) < 1 || bp_net_size(net, l) > BP_MAX_WIDTH)
            __builtin_trap();
    /* the engine works in float: T, 1/T and the leaky slope must be finite
     * there (fuzz/crashes/nan-output-*.safetensors once loaded and gave NaN) */
    float T = (float)bp_net_temperature(net), slope = (float)bp_net_leaky_slope(net);
    if (!(T > 0) || !isfinite(T) || !isfinite(1.0f / T) || !isfinite(slope))
        __builtin_trap();
    float *x = calloc((size_t)bp_net_size(net, 0), sizeof *x);
    if (!x)
        abort();
    if (bp_forward(net, x, 1) != BP_OK || !bp_net_output(net))
        __builtin_trap();
    /* touch the whole output row, so ASan checks its extent */
    volatile float sink = 0;
    const float *y = bp_net_output(net);
    for (int j = 0; j < bp_net_size(net, L); j++)
        sink += y[j];
    (void)sink;
    free(x);
    bp_net_free(net);
    return 0;
}
