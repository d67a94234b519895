/*
 * y0_copy.c — what the network's own copy of Y(0) costs: the thread CPU time
 * of bp_train_step (784-256-128-10, relu, softmax_ce, plain SGD) and of a
 * memcpy of the same M x N(0) floats, interleaved in 15 blocks, medians.
 * CPU time, not wall time: the shared VM's other load counts less.
 *   cc -O2 -Iinclude bench/y0_copy.c -Lbuild -lbackprop -Wl,-rpath,$PWD/build -o /tmp/y0_copy
 *   OPENBLAS_NUM_THREADS=1 /tmp/y0_copy
 */
#define _POSIX_C_SOURCE 200809L
#include <backprop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(void)
{
    int sizes[] = {784, 256, 128, 10}, Ms[] = {1, 64, 1024};
    bp_act acts[] = {BP_ACT_RELU, BP_ACT_RELU, BP_ACT_SOFTMAX};
    bp_config cfg = {.size = sizeof(bp_config), .temperature = 1.0, .leaky_slope = BP_LEAKY_SLOPE_DEFAULT, .n_layers = 3, .sizes = sizes, .acts = acts, .loss = BP_LOSS_SOFTMAX_CE};
    for (int k = 0; k < 3; k++) {
        int M = Ms[k];
        bp_net *net = bp_net_create(&cfg, M, NULL);
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.kind = BP_OPT_SGD;
        oc.lr = 1e-4;
        bp_optimizer *opt = bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
        float *x = malloc((size_t)M * 784 * 4), *dst = malloc((size_t)M * 784 * 4);
        int32_t *lab = malloc(M * 4);
        for (int i = 0; i < M * 784; i++) x[i] = (float)(i % 255) / 255.0f;
        for (int i = 0; i < M; i++) lab[i] = i % 10;
        int reps = M == 1 ? 4000 : M == 64 ? 200 : 15;
        double step[15], copy[15];
        for (int b = 0; b < 15; b++) {
            double t = cpu();
            for (int r = 0; r < reps; r++) bp_train_step(net, opt, x, (bp_targets){NULL, lab}, M, NULL);
            step[b] = (cpu() - t) / reps;
            t = cpu();
            for (int r = 0; r < reps; r++) { memcpy(dst, x, (size_t)M * 784 * 4); __asm__ volatile("" ::"r"(dst) : "memory"); }
            copy[b] = (cpu() - t) / reps;
        }
        qsort(step, 15, 8, cmp), qsort(copy, 15, 8, cmp);
        printf("batch %4d: step %9.2f us, copy of Y(0) %7.3f us = %.2f%% of a step\n", M, step[7] * 1e6, copy[7] * 1e6, 100 * copy[7] / step[7]);
        bp_net_free(net), bp_optimizer_free(opt), free(x), free(dst), free(lab);
    }
    return 0;
}
