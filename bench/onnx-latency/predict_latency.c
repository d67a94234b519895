/*
 * predict_latency.c — bp_predict's latency on a model file: the median wall
 * time of one call on 1 row and on 1000 rows of uniform [0, 1) inputs,
 * beside ONNX Runtime's on the same model exported (ort_latency.js; both
 * run by bench/onnx-latency/run).
 *   usage: predict_latency MODEL.safetensors THREADS
 */
#define _POSIX_C_SOURCE 200809L
#include <backprop.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: predict_latency MODEL.safetensors THREADS\n"), 1;
    bp_error err;
    bp_net *net = NULL;
    if (bp_model_load(argv[1], 1000, &net, &err) != BP_OK || bp_net_set_threads(net, atoi(argv[2])))
        return fprintf(stderr, "%s\n", err.msg), 1;
    int n_in = bp_net_size(net, 0), n_out = bp_net_size(net, bp_net_n_layers(net));
    float *x = malloc(sizeof(float) * 1000 * n_in), *y = malloc(sizeof(float) * 1000 * n_out);
    bp_rng r;
    bp_rng_seed(&r, 1);
    for (long k = 0; k < 1000L * n_in; k++)
        x[k] = (float)bp_rng_uniform(&r);
    const long batches[2] = {1, 1000};
    for (int b = 0; b < 2; b++) {
        enum { REPS = 400 };
        double t[REPS];
        int reps = batches[b] == 1 ? REPS : REPS / 8;
        for (int i = 0; i < reps / 10; i++) /* warm-up */
            bp_predict(net, x, batches[b], y, NULL);
        for (int i = 0; i < reps; i++) {
            double t0 = now();
            bp_predict(net, x, batches[b], y, NULL);
            t[i] = now() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp);
        printf("bp_predict  batch %4ld: median %9.1f us (%d calls)\n", batches[b], 1e6 * t[reps / 2],
               reps);
    }
    free(x), free(y);
    bp_net_free(net);
    return 0;
}
