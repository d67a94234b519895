/*
 * cmd_bench.c — `backprop bench`: examples per second of whole training
 * steps (forward, backward, SGD update) on synthetic data, against two
 * limits measured in the same run: the machine's FP32 FMA peak on the same
 * threads (the physical limit), and the ceiling that the same step's
 * products alone reach through the GEMM provider (what the provider
 * allows). Figures are medians of several timed rounds. With --device
 * cuda: steps through bp_train_epoch's device path (data on the GPU, one
 * graph replay per step) against the same products in cuBLAS alone.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cli_opt opts[] = {
    CLI_NETWORK_OPTS("784,256,128,10", "relu", "identity", "softmax_ce"),
    {"batch", "B[,B2,...]", "1,16,64,256,1024", "batch sizes to time", NULL},
    {"threads", "T", "0", "threads of the step's pool, the ceiling and the peak (0 = cores)", NULL},
    {"seconds", "S", "1", "timed seconds per batch size and per measurement", NULL},
    {"json", NULL, NULL, "print the results as one JSON object", NULL},
    CLI_DEVICE_OPTS,
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"bench", "Times training steps against the FMA peak and the GEMM ceiling.",
                          "--layers 784,256,128,10 --batch 1,64,1024 --threads 2 [--json]", opts};

#define ROUNDS 7

typedef struct {
    bp_net *net;
    bp_optimizer *opt;
    const float *x;
    const int32_t *labels;
    const float *t;
    int M;
} step_args;

static void run_steps(const step_args *a, int reps)
{
    bp_targets tg = {a->t, a->labels};
    for (int r = 0; r < reps; r++)
        bp_train_step(a->net, a->opt, a->x, tg, a->M, NULL);
}

/* The ceiling: the step's products alone, in the engine's bands, all threads. */
static void run_gemm(const step_args *a, int reps) { bp_step_gemm_only(a->net, a->x, a->M, reps); }

/* Repetitions of fn that last about `seconds`, found by doubling (which
 * doubles as the warm-up). */
static int calibrate(void (*fn)(const step_args *, int), const step_args *a, double seconds)
{
    int reps = 1;
    double t;
    for (;;) {
        t = cli_now();
        fn(a, reps);
        t = cli_now() - t;
        if (t > seconds / 10 || reps > (1 << 24))
            break;
        reps *= 2;
    }
    return (int)(reps * seconds / (t > 0 ? t : 1e-9)) + 1;
}

/* CUDA: the device times itself (events around graph replays); reps of
 * the step and of its products alone, alternating as on the host. */
static int measure_cuda(const step_args *a, double seconds, double *step, double *ceiling)
{
    double rs[ROUNDS], rc[ROUNDS], ts, tc;
    bp_error err;
    long reps = 1;
    for (;;) { /* doubling: the warm-up, the capture, the calibration */
        if (bp_cuda_bench_step(a->net, a->M, reps, &ts, &tc, &err) != BP_OK)
            return cli_error(&cmd, "%s", err.msg);
        if (ts * reps > seconds / ROUNDS / 10 || reps > (1L << 20))
            break;
        reps *= 2;
    }
    reps = (long)(seconds / ROUNDS / (ts > 0 ? ts : 1e-9)) + 1;
    for (int i = 0; i < ROUNDS; i++) {
        if (bp_cuda_bench_step(a->net, a->M, reps, &rs[i], &rc[i], &err) != BP_OK)
            return cli_error(&cmd, "%s", err.msg);
    }
    *step = cli_median(rs, ROUNDS);
    *ceiling = cli_median(rc, ROUNDS);
    return 0;
}

/* Seconds per step of the whole step and of its products alone: rounds
 * of the two alternate, so that a noisy neighbour slows both alike; each is
 * the median of ROUNDS rounds. */
static void measure(const step_args *a, double seconds, double *step, double *ceiling)
{
    double rs[ROUNDS], rc[ROUNDS];
    int ns = calibrate(run_steps, a, seconds / ROUNDS);
    int nc = calibrate(run_gemm, a, seconds / ROUNDS);
    for (int i = 0; i < ROUNDS; i++) {
        double t = cli_now();
        run_steps(a, ns);
        rs[i] = (cli_now() - t) / ns;
        t = cli_now();
        run_gemm(a, nc);
        rc[i] = (cli_now() - t) / nc;
    }
    *step = cli_median(rs, ROUNDS);
    *ceiling = cli_median(rc, ROUNDS);
}

int cmd_bench(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    bp_config cfg;
    long threads;
    double seconds;
    if (cli_network_config(&cmd, sizes, acts, &cfg))
        return 1;
    if (cli_int(cli_get(&cmd, "threads"), 0, 4096, &threads))
        return cli_error(&cmd, "--threads: '%s' is not in 0..4096", cli_get(&cmd, "threads"));
    if (cli_double(cli_get(&cmd, "seconds"), &seconds) || seconds <= 0 || seconds > 3600)
        return cli_error(&cmd, "--seconds: '%s' is not in (0, 3600]", cli_get(&cmd, "seconds"));
    bp_gemm gemm_kind;
    if (cli_device(&cmd, &cfg.device) || cli_gemm(&cmd, &gemm_kind))
        return 1;
    int cuda = cfg.device == BP_DEVICE_CUDA;
    if (cuda && cfg.loss != BP_LOSS_SOFTMAX_CE)
        return cli_error(&cmd, "--device cuda: bench times softmax_ce networks only");

    long batches[64];
    int nb = 0;
    char buf[512];
    const char *bs = cli_get(&cmd, "batch");
    if (strlen(bs) >= sizeof buf)
        return cli_error(&cmd, "--batch: too long");
    strcpy(buf, bs);
    for (char *p = buf, *tok; (tok = cli_next_item(&p)) != NULL; nb++) {
        if (nb == 64 || cli_int(tok, 1, 1 << 16, &batches[nb]))
            return cli_error(&cmd, "--batch: '%s' is not a batch size in 1..65536 (64 at most)",
                             tok);
    }
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? cores : 1;
    }
    char prov[256];
    bp_gemm_info(gemm_kind, prov, sizeof prov);
    int json = cli_flag(&cmd, "json"), L = cfg.n_layers, rc = 1;
    if (cuda) /* the host's products play no part */
        snprintf(prov, sizeof prov, "cuBLAS, TF32 %s", cli_flag(&cmd, "tf32") ? "on" : "off");
    /* the machine's limit on the same threads: the step's fraction of it is
     * what no provider can change */
    const char *isa = "";
    double peak = cuda ? 0 : cli_fma_peak((int)threads, seconds < 1 ? seconds : 1, &isa);
    if (json) {
        printf("{\"gemm\": \"%s\", \"device\": \"%s\", ", prov, bp_device_name(cfg.device));
        cli_json_field(stdout, "peak_gflops", peak, ", ");
        printf("\"peak_isa\": \"%s\", \"results\": [", isa);
    } else {
        printf("layers %s, %s, %ld threads; GEMM: %s\n", cli_get(&cmd, "layers"),
               bp_device_name(cfg.device), threads, prov);
        if (!cuda)
            printf("FMA peak: %.1f GFLOP/s (%s, %ld threads)\n", peak, isa, threads);
        printf("%7s %14s %9s %8s %16s %9s\n", "batch", "examples/s", "GFLOP/s", "of peak",
               "GEMM ceiling/s", "of ceil.");
    }

    for (int b = 0; b < nb; b++) {
        int M = (int)batches[b];
        bp_error err;
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.lr = 1e-4;
        bp_net *net = bp_net_create(&cfg, M, &err);
        bp_optimizer *opt = net ? bp_optimizer_create(&oc, bp_net_n_params(net), &err) : NULL;
        float *x = malloc((size_t)M * sizes[0] * sizeof *x);
        float *t = malloc((size_t)M * sizes[L] * sizeof *t);
        int32_t *lab = malloc((size_t)M * sizeof *lab);
        if (!net || !opt || !x || !t || !lab) {
            cli_error(&cmd, "batch %d: %s", M, net && opt ? "out of memory" : err.msg);
            bp_optimizer_free(opt), bp_net_free(net), free(x), free(t), free(lab);
            goto done;
        }
        bp_net_init(net, 1);
        (void)bp_net_set_gemm(net, gemm_kind); /* checked by cli_gemm */
        if (bp_net_set_threads(net, (int)threads) != BP_OK) {
            cli_error(&cmd, "cannot start %ld threads", threads);
            bp_optimizer_free(opt), bp_net_free(net), free(x), free(t), free(lab);
            goto done;
        }
        if (bp_net_set_tf32(net, cli_flag(&cmd, "tf32")) != BP_OK) {
            cli_error(&cmd, "--tf32: %s", bp_last_error());
            bp_optimizer_free(opt), bp_net_free(net), free(x), free(t), free(lab);
            goto done;
        }
        bp_rng rng;
        bp_rng_seed(&rng, 7);
        for (size_t k = 0; k < (size_t)M * sizes[0]; k++)
            x[k] = (float)bp_rng_uniform(&rng);
        for (size_t k = 0; k < (size_t)M * sizes[L]; k++)
            t[k] = (float)bp_rng_uniform(&rng);
        for (int m = 0; m < M; m++)
            lab[m] = (int32_t)(bp_rng_next(&rng) % (uint64_t)sizes[L]);
        int labels = cfg.loss == BP_LOSS_SOFTMAX_CE;
        step_args a = {net, opt, x, labels ? lab : NULL, labels ? NULL : t, M};

        double step = 0, ceil = 0;
        if (cuda && measure_cuda(&a, seconds, &step, &ceil)) {
            bp_optimizer_free(opt), bp_net_free(net), free(x), free(t), free(lab);
            goto done;
        }
        if (!cuda)
            measure(&a, seconds, &step, &ceil);
        double eps = M / step, ceps = M / ceil, gf = bp_step_flops(net) * eps * 1e-9;
        double of_peak = peak > 0 ? gf / peak : 0;
        if (json) {
            printf("%s{\"layers\": \"%s\", \"batch\": %d, \"threads\": %d, ", b ? ", " : "",
                   cli_get(&cmd, "layers"), M, (int)threads);
            cli_json_field(stdout, "examples_per_s", eps, ", ");
            cli_json_field(stdout, "gflops", gf, ", ");
            cli_json_field(stdout, "peak_gflops", peak, ", ");
            cli_json_field(stdout, "fraction_of_peak", of_peak, ", ");
            cli_json_field(stdout, "ceiling_examples_per_s", ceps, ", ");
            cli_json_field(stdout, "fraction_of_ceiling", eps / ceps, "}");
        } else
            printf("%7d %14.0f %9.1f %7.1f%% %16.0f %8.1f%%\n", M, eps, gf, 100 * of_peak, ceps,
                   100 * eps / ceps);
        fflush(stdout);
        bp_optimizer_free(opt), bp_net_free(net), free(x), free(t), free(lab);
    }
    if (json)
        printf("]}\n");
    rc = 0;
done:
    return rc;
}
