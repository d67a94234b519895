/*
 * cmd_train.c — `backprop train`: mini-batch training (section 7's batch
 * form, eq. 52–56, with the optimiser of choice) on a data set, with a
 * validation split, progress, early stopping, JSON, metrics and plots.
 *
 * Everything the loop needs is allocated before the first epoch; the
 * per-batch loop only gathers, steps and checks the loss.
 *
 * Checkpoints (--checkpoint DIR) hold the parameters, the optimiser's state
 * and the run's position (epoch, step, the shuffled order, the generator,
 * the metrics so far), so --resume DIR continues bit-identically. Under
 * mpirun, each rank takes its share of every global batch and the
 * gradients are summed (dist.c); rank 0 alone prints and writes.
 */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

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
    {"test", "D", NULL, "the test set scored at the end (a .csv, FANN file or IDX folder); "
                        "default: --data's test split, if it has one", NULL},
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
    CLI_DEVICE_OPTS,
    {"out", "FILE", NULL, "model file to write (safetensors)", NULL},
    {"checkpoint", "DIR", NULL, "save DIR/checkpoint.bin and DIR/model.safetensors as training "
                                "goes", NULL},
    {"checkpoint-every", "N", "0", "steps between checkpoints (0 = at the end of each epoch)",
     NULL},
    {"resume", "DIR", NULL, "continue the run saved in DIR (same options); keeps saving there",
     NULL},
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
    double el = cli_now() - t0, rate = done / (el > 0 ? el : 1e-9);
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

/* One step on the examples order[0..M): the fused step in one process;
 * under MPI this rank's share, the summed gradient, the same update on
 * every rank. *loss is the global batch's mean loss. */
static bp_status train_step(trainer *tr, const int32_t *order, int M, double *loss, int epoch,
                            int step)
{
    bp_net *net = tr->net;
    /* one of the two: one-hot data sets have both, softmax_ce takes labels */
    float *t = tr->labelled ? NULL : tr->t;
    int32_t *lab = tr->labelled ? tr->lab : NULL;
    bp_targets tg = {t, lab};
    if (dist_size() == 1) {
        bp_dataset_gather(tr->ds, order, M, tr->mean, tr->std, tr->x, t, lab);
        return tr->anomaly ? anomaly_step(net, tr->opt, tr->x, tg, M, loss, epoch, step)
                           : bp_train_step(net, tr->opt, tr->x, tg, M, loss);
    }
    int lo, hi;
    dist_share(M, &lo, &hi);
    size_t P = bp_net_n_params(net);
    float *g; /* taken after the backward pass: on a GPU, the mirror is then current */
    double l = 0, sums[2] = {0, 0}; /* Σ loss·M_r, ranks failing */
    bp_status s = BP_OK;
    /* The global mean gradient (eq. 52–53 over all M rows) is Σ_r (M_r/M)
     * g_r of the shares' means g_r. When the ranks divide M, M_r/M = 1/R
     * for all: the sum is taken as it is and 1/R goes into the update's
     * pass; otherwise each share is weighted first. */
    int equal = M % dist_size() == 0;
    if (hi > lo) {
        bp_dataset_gather(tr->ds, order + lo, hi - lo, tr->mean, tr->std, tr->x, t, lab);
        s = bp_forward(net, tr->x, hi - lo);
        if (s == BP_OK)
            s = bp_backward(net, tg, &l);
        g = bp_net_grads(net);
        float w = (float)(hi - lo) / (float)M;
        for (size_t k = 0; !equal && k < P; k++)
            g[k] *= w;
        sums[0] = l * (hi - lo);
    } else {
        g = bp_net_grads(net);
        memset(g, 0, P * sizeof *g);
    }
    sums[1] = s != BP_OK;
    dist_sum_floats(g, P);
    dist_sum_doubles(sums, 2);
    if (sums[1] > 0)
        return s != BP_OK ? s : BP_ERR_ARG;
    *loss = sums[0] / M;
    bp_optimizer_step_scaled(tr->opt, bp_net_params(net), g, P, equal ? 1.0 / dist_size() : 1.0);
    return BP_OK;
}

/* Loss, accuracy and FANN's figures on idx [n], each rank evaluating its
 * share. */
static bp_status evaluate(trainer *tr, const bp_dataset *ds, const int32_t *idx, int n,
                          bp_metrics *out)
{
    int lo, hi;
    dist_share(n, &lo, &hi);
    bp_metrics m = {0, 0, 0, 0};
    double sums[5] = {0, 0, 0, 0, 0};
    bp_status s = BP_OK;
    if (hi > lo)
        s = bp_evaluate_metrics(tr->net, ds, idx + lo, hi - lo, tr->mean, tr->std, &m, NULL);
    sums[0] = m.loss * (hi - lo), sums[1] = m.accuracy * (hi - lo);
    sums[2] = m.mse_fann * (hi - lo), sums[3] = (double)m.bit_fail, sums[4] = s != BP_OK;
    dist_sum_doubles(sums, 5);
    *out = (bp_metrics){sums[0] / n, sums[1] / n, sums[2] / n, (long)sums[3]};
    return s != BP_OK ? s : sums[4] > 0 ? BP_ERR_ARG : BP_OK; /* BP_ERR_ARG: another rank's */
}

int cmd_train(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return dist_agree(r < 0);
    int rc = 1, agreed = 0; /* agreed: the ranks already know rc (dist_agree) */
    trainer tr = {.cmd = &cmd};
    bp_dataset *ds = NULL, *test = NULL;
    int32_t *test_idx = NULL;
    double *curves = NULL;
    const char *data, *out, *resume_dir = cli_get(&cmd, "resume");
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    bp_config cfg;
    long batch, epochs, patience, threads, target_cols, every;
    double val_frac;
    uint64_t seed;
    bp_error err;
    int rank0 = dist_rank() == 0, json = cli_flag(&cmd, "json");
    FILE *log = json ? stderr : stdout;
    int bar = rank0 && isatty(fileno(stderr)) && isatty(fileno(stdout));

    if (cli_require(&cmd, "data", &data) || cli_require(&cmd, "out", &out) ||
        cli_network_config(&cmd, sizes, acts, &cfg))
        goto done;
    if (cli_int(cli_get(&cmd, "batch"), 1, 1 << 20, &batch)) {
        cli_error(&cmd, "--batch: '%s' is not in 1..%d", cli_get(&cmd, "batch"), 1 << 20);
        goto done;
    }
    if (cli_int(cli_get(&cmd, "epochs"), 1, 1000000, &epochs)) {
        cli_error(&cmd, "--epochs: '%s' is not in 1..1000000", cli_get(&cmd, "epochs"));
        goto done;
    }
    if (cli_int(cli_get(&cmd, "patience"), 0, 1000000, &patience) ||
        cli_int(cli_get(&cmd, "checkpoint-every"), 0, 1L << 40, &every) ||
        cli_int(cli_get(&cmd, "target-cols"), 0, BP_MAX_WIDTH, &target_cols)) {
        cli_error(&cmd, "--patience, --checkpoint-every, --target-cols: '%s', '%s', '%s': not all "
                        "counts", cli_get(&cmd, "patience"), cli_get(&cmd, "checkpoint-every"),
                  cli_get(&cmd, "target-cols"));
        goto done;
    }
    if (cli_int(cli_get(&cmd, "threads"), 0, 4096, &threads)) {
        cli_error(&cmd, "--threads: '%s' is not in 0..4096", cli_get(&cmd, "threads"));
        goto done;
    }
    if (cli_double(cli_get(&cmd, "val"), &val_frac) || val_frac < 0 || val_frac >= 1) {
        cli_error(&cmd, "--val: '%s' is not a fraction in [0, 1)", cli_get(&cmd, "val"));
        goto done;
    }
    if (cli_u64(cli_get(&cmd, "seed"), &seed)) {
        cli_error(&cmd, "--seed: '%s' is not a non-negative integer", cli_get(&cmd, "seed"));
        goto done;
    }
    tr.dir = cli_get(&cmd, "checkpoint") ? cli_get(&cmd, "checkpoint") : resume_dir;
    tr.anomaly = cli_flag(&cmd, "detect-anomaly");
    if (tr.anomaly && dist_size() > 1) {
        cli_error(&cmd, "--detect-anomaly runs in one process (without mpirun)");
        goto done;
    }
    bp_device device;
    if (cli_device(&cmd, &device))
        goto done;
    if (device == BP_DEVICE_CUDA && dist_size() > 1 &&
        bp_cuda_use_gpu(dist_local_rank(), &err) != BP_OK) { /* one GPU per rank */
        cli_error(&cmd, "--device cuda: %s", err.msg);
        goto done;
    }

    if (cli_load_data(&cmd, data, 0, (int)target_cols, &ds) ||
        cli_load_test(&cmd, cli_get(&cmd, "test"), data, ds, (int)target_cols,
                      sizes[cfg.n_layers], &test))
        goto done;
    int L = cfg.n_layers, n = bp_dataset_n(ds), n_in = sizes[0], k = sizes[L];
    /* labelled: class labels alone; classes: those or one-hot targets, which
     * softmax_ce then trains on as labels */
    int labelled = bp_dataset_has_labels(ds), classes = labelled || bp_dataset_one_hot(ds);
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
    /* a rank's share of a global batch is at most ceil(B / ranks) rows */
    int B_rank = (B + dist_size() - 1) / dist_size();

    bp_opt_config oc;
    if (opt_config(&oc, steps_per_epoch, (int)epochs))
        goto done;
    tr.net = bp_net_create(&cfg, B_rank, &err);
    tr.opt = tr.net ? bp_optimizer_create(&oc, bp_net_n_params(tr.net), &err) : NULL;
    if (!tr.net || !tr.opt) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    bp_net_init(tr.net, seed);
    if (bp_net_set_threads(tr.net, (int)threads) != BP_OK) {
        cli_error(&cmd, "cannot start %ld threads", threads);
        goto done;
    }
    if (cli_net_to_device(&cmd, tr.net, device))
        goto done;
    /* under MPI or --detect-anomaly a GPU runs single steps through the
     * host mirror: the gradient must reach the host for the reduction */
    tr.on_gpu = device == BP_DEVICE_CUDA && dist_size() == 1 && !tr.anomaly;

    size_t P = bp_net_n_params(tr.net);
    tr.ds = ds, tr.n = n, tr.n_val = n_val, tr.n_train = n_train, tr.B = B;
    tr.labelled = labelled || (classes && cfg.loss == BP_LOSS_SOFTMAX_CE);
    tr.perm = malloc((size_t)n * sizeof *tr.perm);
    tr.x = malloc((size_t)B_rank * n_in * sizeof *tr.x);
    tr.t = malloc((size_t)B_rank * k * sizeof *tr.t);
    tr.lab = malloc((size_t)B_rank * sizeof *tr.lab);
    tr.best = malloc(P * sizeof *tr.best);
    tr.rows = calloc((size_t)epochs, sizeof *tr.rows);
    curves = malloc(3 * (size_t)epochs * sizeof *curves);
    if (!tr.perm || !tr.x || !tr.t || !tr.lab || !tr.best || !tr.rows || !curves) {
        cli_error(&cmd, "out of memory");
        goto done;
    }

    /* the split: a seeded permutation; validation first, training after */
    run_state *st = &tr.st;
    *st = (run_state){.seed = seed, .batch = B, .n = n, .n_val = n_val, .epochs = epochs,
                      .patience = patience, .ranks = dist_size(), .threads = threads,
                      .best_val = INFINITY};
    train_gemm_name(tr.net, st->gemm, sizeof st->gemm);
    bp_rng_seed(&st->rng, seed ^ 0x5851f42d4c957f2dULL);
    for (int i = 0; i < n; i++)
        tr.perm[i] = i;
    bp_shuffle(&st->rng, tr.perm, n);
    int32_t *val_idx = tr.perm, *train_idx = tr.perm + n_val;

    if (cli_flag(&cmd, "standardize")) {
        tr.mean = malloc((size_t)n_in * sizeof *tr.mean);
        tr.std = malloc((size_t)n_in * sizeof *tr.std);
        if (!tr.mean || !tr.std) {
            cli_error(&cmd, "out of memory");
            goto done;
        }
        bp_dataset_moments(ds, train_idx, n_train, tr.mean, tr.std);
        if (bp_net_set_standardize(tr.net, tr.mean, tr.std) != BP_OK) {
            cli_error(&cmd, "out of memory");
            goto done;
        }
    }
    /* the first collective call: a rank that failed before it is at the
     * dist_agree under done:, and the ranks meet here */
    if ((r = dist_agree(resume_dir ? train_resume(&tr, resume_dir, log) : 0)) != 0) {
        rc = r, agreed = 1;
        goto done;
    }
    if (tr.dir && rank0)
        train_remove_stale(tr.dir);
    if (tr.mean) { /* the checkpoint's standardisation, bit for bit */
        memcpy(tr.mean, bp_net_mean(tr.net), (size_t)n_in * sizeof *tr.mean);
        memcpy(tr.std, bp_net_std(tr.net), (size_t)n_in * sizeof *tr.std);
    }

    if (!json && rank0)
        fprintf(log, "training on %d examples (%d held out), %ld steps of %d per epoch, %zu "
                     "parameters%s\n", n_train, n_val, steps_per_epoch, B, P,
                dist_size() > 1 ? ", data-parallel" : "");
    if (dist_size() > 1 && rank0 && !json)
        fprintf(log, "%d MPI ranks, %d examples each per step at most\n", dist_size(), B_rank);
    for (int e = (int)st->epoch; e < epochs && !st->stopped; e++) {
        epoch_row *row = &tr.rows[e];
        if (st->step == 0) { /* a fresh epoch, not one resumed midway */
            bp_shuffle(&st->rng, train_idx, n_train);
            row->lr = bp_optimizer_lr(tr.opt);
            st->loss_sum = 0;
        }
        double t0 = cli_now();
        int first = (int)(st->step * B);
        for (int m0 = first; m0 < n_train;) {
            /* one step; on a GPU in one process, every step up to the next
             * checkpoint in one bp_train_epoch call (graph replays, the loss
             * read back once) */
            long k = 1;
            if (tr.on_gpu) {
                k = steps_per_epoch - st->step;
                if (every && every - bp_optimizer_steps(tr.opt) % every < k)
                    k = every - bp_optimizer_steps(tr.opt) % every;
            }
            int count = n_train - m0 < k * B ? n_train - m0 : (int)(k * B);
            double l = NAN; /* mean loss of the examples of these steps */
            bp_status s;
            if (tr.on_gpu) {
                s = bp_train_epoch(tr.net, tr.opt, ds, train_idx + m0, count, B, tr.mean, tr.std, &l);
                l /= count;
            } else {
                s = train_step(&tr, train_idx + m0, count, &l, e + 1, m0 / B + 1);
            }
            if (s == BP_ERR_NONFINITE && tr.anomaly) { /* --detect-anomaly named it */
                rc = 2;
                goto done;
            }
            if (s != BP_OK && s != BP_ERR_NONFINITE) {
                cli_error(&cmd, "%s: %s", data, bp_last_error());
                goto done;
            }
            if (!isfinite(l)) {
                if (bar)
                    fputc('\n', stderr);
                char steps[48];
                snprintf(steps, sizeof steps, k > 1 ? "steps %d-%ld" : "step %d%.0ld", m0 / B + 1,
                         k > 1 ? m0 / B + k : 0);
                if (rank0)
                    fprintf(stderr, "backprop train: diverged at epoch %d, %s: the loss is %g "
                                    "(learning rate %g too high, or inputs too large?)%s\n",
                            e + 1, steps, l, bp_optimizer_lr(tr.opt),
                            tr.dir ? "; the last checkpoint is intact" : "");
                rc = 2;
                goto done;
            }
            st->loss_sum += l * count;
            st->step += k;
            m0 += count;
            if (bar && (st->step % 50 == 0 || k > 1 || m0 == n_train))
                progress(e + 1, (int)epochs, m0, n_train, st->loss_sum / m0, t0);
            if (every && bp_optimizer_steps(tr.opt) % every == 0 && m0 < n_train &&
                (r = train_checkpoint(&tr, 0)) != 0) {
                rc = r, agreed = 1;
                goto done;
            }
        }
        double secs = cli_now() - t0;
        row->train_loss = st->loss_sum / n_train;
        row->seconds = secs;
        row->ex_per_s = (n_train - first) / secs;
        row->val_loss = row->val_acc = NAN;
        bp_metrics vm;
        bp_status vs = n_val > 0 ? evaluate(&tr, ds, val_idx, n_val, &vm) : BP_OK;
        if (n_val > 0 && vs == BP_OK)
            row->val_loss = vm.loss, row->val_acc = vm.accuracy;
        if (vs != BP_OK) {
            cli_error(&cmd, "%s: validation failed: %s", data, bp_status_string(vs));
            goto done;
        }
        st->ran = e + 1, st->epoch = e + 1, st->step = 0;
        if (bar)
            fputc('\n', stderr);
        if ((!json || bar) && rank0)
            fprintf(log, "epoch %d/%ld  train loss %.4f  val loss %.4f  val acc %.4f  %.0f ex/s  "
                         "%.1fs\n", e + 1, epochs, row->train_loss, row->val_loss, row->val_acc,
                    row->ex_per_s, secs);
        int bad = rank0 && cli_get(&cmd, "metrics") &&
                  write_metrics(cli_get(&cmd, "metrics"), tr.rows, (int)st->ran);
        /* early stopping keeps the parameters of the best validation loss */
        if (patience > 0 && n_val > 0) {
            if (row->val_loss < st->best_val) {
                st->best_val = row->val_loss;
                st->best_epoch = e + 1;
                memcpy(tr.best, bp_net_params_const(tr.net), P * sizeof *tr.best);
            } else if (e + 1 - st->best_epoch >= patience) {
                memcpy(bp_net_params(tr.net), tr.best, P * sizeof *tr.best);
                if (rank0)
                    fprintf(log, "early stop: no better validation loss for %ld epochs; keeping "
                                 "epoch %lld\n", patience, (long long)st->best_epoch);
                st->stopped = 1;
            }
        }
        if ((r = train_checkpoint(&tr, bad)) != 0) {
            rc = r, agreed = 1;
            goto done;
        }
    }
    int ran = (int)st->ran;
    /* again at the end: a resumed run that had nothing left to train
     * still writes the table it was asked for */
    if (rank0 && cli_get(&cmd, "metrics") && write_metrics(cli_get(&cmd, "metrics"), tr.rows, ran))
        goto done;

    bp_metrics tm = {NAN, NAN, NAN, -1};
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
                                                     : evaluate(&tr, test, test_idx, nt, &tm);
        if (es != BP_OK) {
            cli_error(&cmd, "%s: the test split %s", data,
                      es == BP_ERR_SHAPE ? "does not fit the network" : bp_status_string(es));
            goto done;
        }
        if (!json && rank0)
            fprintf(log, "test loss %.4f  test accuracy %.4f  test MSE (FANN's) %.6g  bit fail "
                         "%ld\n", tm.loss, tm.accuracy, tm.mse_fann, tm.bit_fail);
    }
    if (!rank0) {
        rc = 0;
        goto done;
    }
    if (bp_model_save(tr.net, out, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    if (cli_get(&cmd, "plot")) {
        for (int e = 0; e < ran; e++) {
            curves[e] = tr.rows[e].train_loss;
            curves[epochs + e] = tr.rows[e].val_loss;
            curves[2 * epochs + e] = tr.rows[e].val_acc;
        }
        if (bp_plot_curves(cli_get(&cmd, "plot"), ran, curves, n_val ? curves + epochs : NULL,
                           n_val && classes ? curves + 2 * epochs : NULL, &err) != BP_OK) {
            cli_error(&cmd, "%s", err.msg);
            goto done;
        }
    }
    if (json) {
        printf("{\"epochs\": [");
        for (int e = 0; e < ran; e++) {
            printf("%s{\"epoch\": %d, ", e ? ", " : "", e + 1);
            json_num(stdout, "train_loss", tr.rows[e].train_loss, ", ");
            json_num(stdout, "val_loss", tr.rows[e].val_loss, ", ");
            json_num(stdout, "val_accuracy", tr.rows[e].val_acc, ", ");
            json_num(stdout, "examples_per_s", tr.rows[e].ex_per_s, ", ");
            json_num(stdout, "seconds", tr.rows[e].seconds, "}");
        }
        printf("], ");
        json_num(stdout, "test_loss", tm.loss, ", ");
        json_num(stdout, "test_accuracy", tm.accuracy, ", ");
        json_num(stdout, "test_mse_fann", tm.mse_fann, ", ");
        if (test)
            printf("\"test_bit_fail\": %ld}\n", tm.bit_fail);
        else
            printf("\"test_bit_fail\": null}\n");
    }
    rc = 0;
done:
    free(tr.perm), free(tr.x), free(tr.t), free(tr.lab), free(tr.best), free(tr.rows);
    free(curves), free(tr.mean), free(tr.std), free(test_idx);
    bp_optimizer_free(tr.opt);
    bp_net_free(tr.net);
    bp_dataset_free(ds);
    bp_dataset_free(test);
    return agreed ? rc : dist_agree(rc);
}
