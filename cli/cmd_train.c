/*
 * cmd_train.c — `backprop train`: mini-batch training (section 7's batch
 * form, eq. 52–56, with the optimiser of choice) on a data set, with a
 * validation split, progress, early stopping, JSON, metrics and plots.
 *
 * Everything the loop needs is allocated before the first epoch; the
 * per-batch loop only gathers, steps and checks the loss.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static cli_opt opts[] = {
    {"data", "D", NULL, "fashion-mnist, mnist, an IDX folder, a .csv or a FANN file", NULL},
    {"target-cols", "K", "0", "CSV: 0 = last column is a class label; K = last K columns are targets",
     NULL},
    {"val", "F", "0.1", "fraction of the training data held out for validation (seeded)", NULL},
    {"standardize", NULL, NULL, "standardise inputs with the training split's mean and std", NULL},
    CLI_NETWORK_OPTS(NULL, "relu", "identity", "softmax_ce"),
    {"opt", "NAME", "sgd", "sgd, momentum, nesterov, adam, adamw", NULL},
    {"lr", "ALPHA", "0.1", "learning rate (eq. 49-50)", NULL},
    {"momentum", "MU", "0.9", "momentum and nesterov", NULL},
    {"beta1", "B1", "0.9", "adam, adamw", NULL},
    {"beta2", "B2", "0.999", "adam, adamw", NULL},
    {"eps", "E", "1e-8", "adam, adamw", NULL},
    {"weight-decay", "L", "0", "L2 (sgd family, adam) or decoupled (adamw)", NULL},
    {"clip-norm", "C", "0", "clip the global gradient norm to C (0 = off)", NULL},
    {"schedule", "NAME", "constant", "constant, step or cosine (over all steps)", NULL},
    {"warmup", "EPOCHS", "0", "linear warm-up over this many epochs (may be fractional)", NULL},
    {"step-epochs", "N", "1", "step schedule: epochs between decays", NULL},
    {"gamma", "G", "0.1", "step schedule: decay factor", NULL},
    {"min-lr", "ALPHA", "0", "cosine schedule: the floor", NULL},
    {"batch", "M", "64", "examples per step", NULL},
    {"epochs", "N", "10", "passes over the training data", NULL},
    {"patience", "N", "0", "stop after N epochs without a better validation loss (0 = off)", NULL},
    {"seed", "S", "1", "seed of initialisation, split and shuffling", NULL},
    {"threads", "T", "0", "threads of the training step (0 = one per core)", NULL},
    {"out", "FILE", NULL, "model file to write (safetensors)", NULL},
    {"metrics", "FILE", NULL, "write the per-epoch table as CSV", NULL},
    {"plot", "FILE", NULL, "draw loss and accuracy curves as SVG", NULL},
    {"json", NULL, NULL, "print the results as one JSON object on stdout", NULL},
    {"detect-anomaly", NULL, NULL, "check every value of every step; name the first non-finite "
                                   "one (slow)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"train", "Trains a network on a data set and writes the model.",
                          "--data fashion-mnist --layers 784,256,128,10 --act relu "
                          "--loss softmax_ce --opt sgd --lr 0.1 --batch 64 --epochs 10 --out M",
                          opts};

typedef struct {
    double train_loss, val_loss, val_acc, ex_per_s, seconds, lr;
} epoch_row;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void json_num(FILE *f, const char *key, double v, const char *sep)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.17g%s", key, v, sep);
    else
        fprintf(f, "\"%s\": null%s", key, sep);
}

static int write_metrics(const char *path, const epoch_row *rows, int n)
{
    size_t cap = 128 + (size_t)n * 160, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return cli_error(&cmd, "%s: out of memory", path);
    len += snprintf(buf + len, cap - len,
                    "epoch,train_loss,val_loss,val_accuracy,examples_per_s,seconds,lr\n");
    for (int e = 0; e < n; e++)
        len += snprintf(buf + len, cap - len, "%d,%.9g,%.9g,%.9g,%.6g,%.6g,%.6g\n", e + 1,
                        rows[e].train_loss, rows[e].val_loss, rows[e].val_acc, rows[e].ex_per_s,
                        rows[e].seconds, rows[e].lr);
    bp_error err;
    bp_status s = bp_file_write(path, buf, len, &err);
    free(buf);
    return s == BP_OK ? 0 : cli_error(&cmd, "%s", err.msg);
}

static void progress(int epoch, int epochs, long done, long total, double loss, double t0)
{
    double el = now() - t0, rate = done / (el > 0 ? el : 1e-9);
    int width = 30, fill = (int)(width * done / total);
    fprintf(stderr, "\repoch %d/%d [", epoch, epochs);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '=' : i == fill ? '>' : ' ', stderr);
    fprintf(stderr, "] %3d%%  %.0f ex/s  loss %.4f  ETA %.0fs ", (int)(100 * done / total), rate,
            loss, (total - done) / (rate > 0 ? rate : 1));
    fflush(stderr);
}

/* A step in separate passes (gradient buffer, then the optimiser) with every
 * value checked after each; the first non-finite one is named. */
static bp_status anomaly_step(bp_net *net, bp_optimizer *opt, const float *x, bp_targets tg,
                              int M, double *loss, int epoch, int step)
{
    char where[160];
    bp_status s = bp_forward(net, x, M);
    if (s == BP_OK)
        s = bp_backward(net, tg, loss);
    if (s == BP_OK && (s = bp_net_find_nonfinite(net, where, sizeof where)) == BP_OK) {
        bp_optimizer_step(opt, bp_net_params(net), bp_net_grads(net), bp_net_n_params(net));
        s = bp_net_find_nonfinite(net, where, sizeof where);
    }
    if (s == BP_ERR_NONFINITE)
        fprintf(stderr, "backprop train: anomaly at epoch %d, step %d: first non-finite value: "
                        "%s\n", epoch, step, where);
    return s;
}

/* The options that make the optimiser, with the step counts of this run. */
static int opt_config(bp_opt_config *oc, long steps_per_epoch, int epochs)
{
    const char *names[] = {"lr", "momentum", "beta1", "beta2", "eps", "weight-decay", "clip-norm",
                           "warmup", "step-epochs", "gamma", "min-lr"};
    double v[11];
    for (int i = 0; i < 11; i++)
        if (cli_double(cli_get(&cmd, names[i]), &v[i]) || v[i] < 0)
            return cli_error(&cmd, "--%s: '%s' is not a non-negative number", names[i],
                             cli_get(&cmd, names[i]));
    memset(oc, 0, sizeof *oc);
    if (bp_opt_parse(cli_get(&cmd, "opt"), &oc->kind) != BP_OK)
        return cli_error(&cmd, "--opt: unknown optimiser '%s' (sgd, momentum, nesterov, adam, adamw)",
                         cli_get(&cmd, "opt"));
    if (bp_sched_parse(cli_get(&cmd, "schedule"), &oc->schedule) != BP_OK)
        return cli_error(&cmd, "--schedule: unknown schedule '%s' (constant, step, cosine)",
                         cli_get(&cmd, "schedule"));
    oc->lr = v[0], oc->momentum = v[1], oc->beta1 = v[2], oc->beta2 = v[3], oc->eps = v[4];
    oc->weight_decay = v[5], oc->clip_norm = v[6];
    oc->warmup_steps = (long)(v[7] * steps_per_epoch);
    oc->step_size = (long)(v[8] * steps_per_epoch);
    oc->gamma = v[9], oc->min_lr = v[10];
    oc->total_steps = steps_per_epoch * epochs;
    return 0;
}

int cmd_train(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *data, *out;
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    bp_config cfg;
    long batch, epochs, patience, threads, target_cols;
    double val_frac;
    uint64_t seed;
    if (cli_require(&cmd, "data", &data) || cli_require(&cmd, "out", &out) ||
        cli_network_config(&cmd, sizes, acts, &cfg))
        return 1;
    if (cli_int(cli_get(&cmd, "batch"), 1, 1 << 20, &batch))
        return cli_error(&cmd, "--batch: '%s' is not in 1..%d", cli_get(&cmd, "batch"), 1 << 20);
    if (cli_int(cli_get(&cmd, "epochs"), 1, 1000000, &epochs))
        return cli_error(&cmd, "--epochs: '%s' is not in 1..1000000", cli_get(&cmd, "epochs"));
    if (cli_int(cli_get(&cmd, "patience"), 0, 1000000, &patience))
        return cli_error(&cmd, "--patience: '%s' is not a count", cli_get(&cmd, "patience"));
    if (cli_int(cli_get(&cmd, "threads"), 0, 4096, &threads))
        return cli_error(&cmd, "--threads: '%s' is not in 0..4096", cli_get(&cmd, "threads"));
    if (cli_int(cli_get(&cmd, "target-cols"), 0, BP_MAX_WIDTH, &target_cols))
        return cli_error(&cmd, "--target-cols: '%s' is not a count", cli_get(&cmd, "target-cols"));
    if (cli_double(cli_get(&cmd, "val"), &val_frac) || val_frac < 0 || val_frac >= 1)
        return cli_error(&cmd, "--val: '%s' is not a fraction in [0, 1)", cli_get(&cmd, "val"));
    if (cli_u64(cli_get(&cmd, "seed"), &seed))
        return cli_error(&cmd, "--seed: '%s' is not a non-negative integer", cli_get(&cmd, "seed"));

    int json = cli_flag(&cmd, "json"), anomaly = cli_flag(&cmd, "detect-anomaly"), rc = 1;
    FILE *log = json ? stderr : stdout;
    int bar = isatty(fileno(stderr)) && isatty(fileno(stdout));
    bp_dataset *ds = NULL, *test = NULL;
    bp_net *net = NULL;
    bp_optimizer *opt = NULL;
    bp_error err;
    int32_t *perm = NULL, *lab = NULL, *test_idx = NULL;
    float *x = NULL, *t = NULL, *mean = NULL, *std = NULL, *best = NULL;
    epoch_row *rows = NULL;
    double *curves = NULL;

    if (cli_load_data(&cmd, data, 0, (int)target_cols, &ds) ||
        cli_load_data(&cmd, data, 1, (int)target_cols, &test))
        goto done;
    int L = cfg.n_layers, n = bp_dataset_n(ds), n_in = sizes[0], k = sizes[L];
    int labelled = bp_dataset_has_labels(ds);
    if (bp_dataset_n_in(ds) != n_in) {
        cli_error(&cmd, "%s: %d features per example, but --layers starts with %d", data,
                  bp_dataset_n_in(ds), n_in);
        goto done;
    }
    if (labelled ? bp_dataset_n_out(ds) > k : bp_dataset_n_out(ds) != k) {
        cli_error(&cmd, "%s: %d %s, but --layers ends with %d outputs", data, bp_dataset_n_out(ds),
                  labelled ? "classes" : "targets", k);
        goto done;
    }
    if (labelled && cfg.loss != BP_LOSS_SOFTMAX_CE) {
        cli_error(&cmd, "%s: class labels need --loss softmax_ce (or a CSV with --target-cols)",
                  data);
        goto done;
    }
    int n_val = (int)(val_frac * n), n_train = n - n_val;
    if (n_train < 1) {
        cli_error(&cmd, "%s: no training examples left after --val %g", data, val_frac);
        goto done;
    }
    int B = batch < n_train ? (int)batch : n_train;
    long steps_per_epoch = (n_train + B - 1) / B;

    bp_opt_config oc;
    if (opt_config(&oc, steps_per_epoch, (int)epochs))
        goto done;
    net = bp_net_create(&cfg, B, &err);
    opt = net ? bp_optimizer_create(&oc, bp_net_n_params(net), &err) : NULL;
    if (!net || !opt) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    bp_net_init(net, seed);
    if (bp_net_set_threads(net, (int)threads) != BP_OK) {
        cli_error(&cmd, "cannot start %ld threads", threads);
        goto done;
    }

    size_t P = bp_net_n_params(net);
    perm = malloc((size_t)n * sizeof *perm);
    x = malloc((size_t)B * n_in * sizeof *x);
    t = malloc((size_t)B * k * sizeof *t);
    lab = malloc((size_t)B * sizeof *lab);
    best = malloc(P * sizeof *best);
    rows = calloc((size_t)epochs, sizeof *rows);
    curves = malloc(3 * (size_t)epochs * sizeof *curves);
    if (!perm || !x || !t || !lab || !best || !rows || !curves) {
        cli_error(&cmd, "out of memory");
        goto done;
    }

    /* the split: a seeded permutation; validation first, training after */
    bp_rng rng;
    bp_rng_seed(&rng, seed ^ 0x5851f42d4c957f2dULL);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    bp_shuffle(&rng, perm, n);
    int32_t *val_idx = perm, *train_idx = perm + n_val;

    if (cli_flag(&cmd, "standardize")) {
        mean = malloc((size_t)n_in * sizeof *mean);
        std = malloc((size_t)n_in * sizeof *std);
        if (!mean || !std) {
            cli_error(&cmd, "out of memory");
            goto done;
        }
        bp_dataset_moments(ds, train_idx, n_train, mean, std);
        if (bp_net_set_standardize(net, mean, std) != BP_OK) {
            cli_error(&cmd, "out of memory");
            goto done;
        }
    }

    if (!json)
        fprintf(log, "training on %d examples (%d held out), %ld steps of %d per epoch, %zu "
                     "parameters\n", n_train, n_val, steps_per_epoch, B, P);
    double best_val = INFINITY;
    int best_epoch = 0, ran = 0;
    for (int e = 0; e < epochs; e++) {
        double t0 = now(), sum = 0, lr = bp_optimizer_lr(opt);
        bp_shuffle(&rng, train_idx, n_train);
        for (int m0 = 0; m0 < n_train; m0 += B) {
            int M = n_train - m0 < B ? n_train - m0 : B;
            bp_dataset_gather(ds, train_idx + m0, M, mean, std, x, t, lab);
            double l;
            bp_targets tg = labelled ? (bp_targets){NULL, lab} : (bp_targets){t, NULL};
            bp_status s = anomaly ? anomaly_step(net, opt, x, tg, M, &l, e + 1, m0 / B + 1)
                                  : bp_train_step(net, opt, x, tg, M, &l);
            if (s == BP_ERR_NONFINITE) {
                rc = 2;
                goto done;
            }
            if (s != BP_OK) {
                cli_error(&cmd, "%s: %s", data, bp_status_string(s));
                goto done;
            }
            if (!isfinite(l)) {
                if (bar)
                    fputc('\n', stderr);
                fprintf(stderr, "backprop train: diverged at epoch %d, step %d: the loss is %g "
                                "(learning rate %g too high, or inputs too large?)\n", e + 1,
                        m0 / B + 1, l, bp_optimizer_lr(opt));
                rc = 2;
                goto done;
            }
            sum += l * M;
            if (bar && ((m0 / B) % 50 == 0 || m0 + M == n_train))
                progress(e + 1, (int)epochs, m0 + M, n_train, sum / (m0 + M), t0);
        }
        double secs = now() - t0;
        epoch_row *row = &rows[e];
        row->train_loss = sum / n_train;
        row->seconds = secs;
        row->ex_per_s = n_train / secs;
        row->lr = lr;
        row->val_loss = row->val_acc = NAN;
        if (n_val > 0 && bp_evaluate(net, ds, val_idx, n_val, mean, std, &row->val_loss,
                                     &row->val_acc, NULL) != BP_OK) {
            cli_error(&cmd, "%s: validation failed", data);
            goto done;
        }
        ran = e + 1;
        if (bar)
            fputc('\n', stderr);
        if (!json || bar)
            fprintf(log, "epoch %d/%ld  train loss %.4f  val loss %.4f  val acc %.4f  %.0f ex/s  "
                         "%.1fs\n", e + 1, epochs, row->train_loss, row->val_loss, row->val_acc,
                    row->ex_per_s, secs);
        if (cli_get(&cmd, "metrics") && write_metrics(cli_get(&cmd, "metrics"), rows, ran))
            goto done;
        /* early stopping keeps the parameters of the best validation loss */
        if (patience > 0 && n_val > 0) {
            if (row->val_loss < best_val) {
                best_val = row->val_loss;
                best_epoch = e + 1;
                memcpy(best, bp_net_params(net), P * sizeof *best);
            } else if (e + 1 - best_epoch >= patience) {
                memcpy(bp_net_params(net), best, P * sizeof *best);
                fprintf(log, "early stop: no better validation loss for %ld epochs; keeping "
                             "epoch %d\n", patience, best_epoch);
                break;
            }
        }
    }

    double test_loss = NAN, test_acc = NAN;
    if (test) {
        int nt = bp_dataset_n(test);
        test_idx = malloc((size_t)nt * sizeof *test_idx);
        if (!test_idx) {
            cli_error(&cmd, "out of memory");
            goto done;
        }
        for (int i = 0; i < nt; i++)
            test_idx[i] = i;
        bp_status es = bp_dataset_n_in(test) != n_in ? BP_ERR_SHAPE
                       : bp_evaluate(net, test, test_idx, nt, mean, std, &test_loss, &test_acc, NULL);
        if (es != BP_OK) {
            cli_error(&cmd, "%s: the test split %s", data,
                      es == BP_ERR_SHAPE ? "does not fit the network" : bp_status_string(es));
            goto done;
        }
        if (!json)
            fprintf(log, "test loss %.4f  test accuracy %.4f\n", test_loss, test_acc);
    }
    if (bp_model_save(net, out, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    if (cli_get(&cmd, "plot")) {
        for (int e = 0; e < ran; e++) {
            curves[e] = rows[e].train_loss;
            curves[epochs + e] = rows[e].val_loss;
            curves[2 * epochs + e] = rows[e].val_acc;
        }
        if (bp_plot_curves(cli_get(&cmd, "plot"), ran, curves, n_val ? curves + epochs : NULL,
                           n_val && labelled ? curves + 2 * epochs : NULL, &err) != BP_OK) {
            cli_error(&cmd, "%s", err.msg);
            goto done;
        }
    }
    if (json) {
        printf("{\"epochs\": [");
        for (int e = 0; e < ran; e++) {
            printf("%s{\"epoch\": %d, ", e ? ", " : "", e + 1);
            json_num(stdout, "train_loss", rows[e].train_loss, ", ");
            json_num(stdout, "val_loss", rows[e].val_loss, ", ");
            json_num(stdout, "val_accuracy", rows[e].val_acc, ", ");
            json_num(stdout, "examples_per_s", rows[e].ex_per_s, ", ");
            json_num(stdout, "seconds", rows[e].seconds, "}");
        }
        printf("], ");
        json_num(stdout, "test_loss", test_loss, ", ");
        json_num(stdout, "test_accuracy", test_acc, "}\n");
    }
    rc = 0;
done:
    free(perm), free(x), free(t), free(lab), free(best), free(rows), free(curves);
    free(mean), free(std), free(test_idx);
    bp_optimizer_free(opt);
    bp_net_free(net);
    bp_dataset_free(ds);
    bp_dataset_free(test);
    return rc;
}
