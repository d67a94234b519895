/*
 * step_parts.c — a small network's training step taken apart: bp_forward
 * alone, bp_forward + bp_backward, bp_optimizer_step alone and the whole
 * bp_train_step (Adam, L2 1e-4), each a loop of 20,000 calls, 3 rounds.
 * N0-H-K with tanh hidden units and a softmax_ce output, at batch M, on
 * T threads. Against another build of the library, run it with
 * LD_LIBRARY_PATH=that/build (the runpath below gives way to it).
 *   cc -O2 -Iinclude bench/step_parts.c -Lbuild -lbackprop -Wl,-rpath,$PWD/build -o /tmp/step_parts
 *   /tmp/step_parts 125 32 2 16 1
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

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: step_parts N0 H K M [THREADS]\n");
        return 2;
    }
    int sizes[3] = {atoi(argv[1]), atoi(argv[2]), atoi(argv[3])}, M = atoi(argv[4]);
    int threads = argc > 5 ? atoi(argv[5]) : 1;
    bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config c = BP_CONFIG_DEFAULT;
    c.n_layers = 2, c.sizes = sizes, c.acts = acts, c.loss = BP_LOSS_SOFTMAX_CE;
    bp_error err;
    bp_net *net = bp_net_create(&c, M, &err);
    if (!net || bp_net_init(net, 1) != BP_OK || bp_net_set_threads(net, threads) != BP_OK) {
        fprintf(stderr, "step_parts: %s\n", net ? bp_last_error() : err.msg);
        return 1;
    }
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_ADAM, oc.lr = 1e-3, oc.l2 = 1e-4;
    bp_optimizer *opt = bp_optimizer_create(&oc, bp_net_n_params(net), &err);
    float *x = malloc(sizeof(float) * (size_t)M * (size_t)sizes[0]);
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)M);
    if (!opt || !x || !labels) {
        fprintf(stderr, "step_parts: %s\n", opt ? "out of memory" : err.msg);
        return 1;
    }
    for (long i = 0; i < (long)M * sizes[0]; i++) /* one-hot-like inputs, as mushroom's */
        x[i] = (float)(rand() % 2);
    for (int i = 0; i < M; i++)
        labels[i] = i % sizes[2];
    bp_targets tg = {NULL, labels};
    double loss;
    const int R = 20000;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (int r = 0; r < R; r++)
            bp_forward(net, x, M);
        double t1 = now();
        for (int r = 0; r < R; r++)
            bp_forward(net, x, M), bp_backward(net, tg, &loss);
        double t2 = now();
        for (int r = 0; r < R; r++)
            bp_optimizer_step(opt, bp_net_params(net), bp_net_grads(net), bp_net_n_params(net),
                              NULL);
        double t3 = now();
        for (int r = 0; r < R; r++)
            bp_train_step(net, opt, x, tg, M, &loss);
        double t4 = now();
        printf("forward %.2f us  forward+backward %.2f us  optimizer %.2f us  train_step %.2f us\n",
               (t1 - t0) / R * 1e6, (t2 - t1) / R * 1e6, (t3 - t2) / R * 1e6,
               (t4 - t3) / R * 1e6);
    }
    bp_optimizer_free(opt);
    bp_net_free(net);
    free(x);
    free(labels);
    return 0;
}
