/*
 * cmd_train.c — `backprop train`: mini-batch training (section 7's batch
 * form, eq. 52–56, with the optimiser of choice) on a data set, with a
 * validation split, early stopping and a test set, through the library's
 * epoch (bp_train_epoch) on every device and under mpirun alike; its hooks
 * (train_hooks.c) keep the run's loss and progress, sum the ranks'
 * gradients or check every value.
 *
 * Everything the loop needs is allocated before the first epoch. Each
 * bp_train_epoch call runs the steps up to the next checkpoint (on a GPU:
 * graph replays, the loss read back once). Checkpoints (--checkpoint DIR)
 * hold the parameters, the optimiser's state and the run's position, so
 * --resume DIR continues bit-identically. Under mpirun each rank trains on
 * its share of every global batch; rank 0 alone prints and writes.
 */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How the epochs ended; with RUN_AGREED the ranks already agreed on the
 * exit code tr->rc (a checkpoint's failure), otherwise rank by rank. */
typedef enum { RUN_DONE, RUN_FAILED, RUN_DIVERGED, RUN_STOPPED, RUN_AGREED } run_end;

static run_end run_epochs(trainer *tr, const train_args *a, const bp_dataset *ds, FILE *log)
{
    run_state *st = &tr->st;
    int32_t *val_idx = tr->perm, *train_idx = tr->perm + tr->n_val;
    int B = tr->B;
    long steps_per_epoch = (tr->n_train + B - 1) / B, every = a->every;
    size_t P = bp_net_n_params(tr->net);
    bp_epoch_hooks hooks = train_hooks(tr);
    for (int e = (int)st->epoch; e < a->epochs && !st->stopped; e++) {
        epoch_row *row = &tr->rows[e];
        tr->t0 = cli_now(); /* the epoch's time includes its shuffle */
        if (st->step == 0) { /* a fresh epoch, not one resumed midway */
            bp_shuffle(&st->rng, train_idx, tr->n_train);
            row->lr = bp_optimizer_lr(tr->opt);
            st->loss_sum = 0;
        }
        tr->epoch = e + 1;
        dist_epoch(e + 1);
        int first = (int)(st->step * B);
        for (int m0 = first; m0 < tr->n_train;) {
            /* the steps up to the next checkpoint or the end of the epoch */
            long k = steps_per_epoch - st->step, t = bp_optimizer_steps(tr->opt);
            if (every && every - t % every < k)
                k = every - t % every;
            int count = tr->n_train - m0 < k * B ? tr->n_train - m0 : (int)(k * B);
            double sum = NAN;
            bp_status s = bp_train_epoch(tr->net, tr->opt, ds, train_idx + m0, count, B, &hooks,
                                         &sum, NULL);
            if (s == BP_STOPPED) /* every rank at the same step (the agreement record) */
                return RUN_STOPPED;
            if (s == BP_ERR_NONFINITE && tr->named) /* --detect-anomaly named it */
                return RUN_DIVERGED;
            if (s != BP_OK && s != BP_ERR_NONFINITE)
                return cli_error(&train_cmd, "%s: %s", a->data, bp_last_error()), RUN_FAILED;
            if (s == BP_ERR_NONFINITE) {
                if (tr->bar)
                    fputc('\n', stderr);
                char steps[48]; /* a GPU's pass reports its loss once, for all its steps */
                long at = (long)st->step + 1, span = tr->on_gpu && k > 1;
                snprintf(steps, sizeof steps, span ? "steps %ld-%ld" : "step %ld%.0ld", at,
                         span ? at + k - 1 : 0);
                if (dist_rank() == 0)
                    fprintf(stderr, "backprop train: diverged at epoch %d, %s: the loss is %g "
                                    "(learning rate %g too high, or inputs too large?)%s\n",
                            e + 1, steps, sum / count, bp_optimizer_lr(tr->opt),
                            tr->dir ? "; the last checkpoint is intact" : "");
                return RUN_DIVERGED;
            }
            m0 += count;
            if (every && bp_optimizer_steps(tr->opt) % every == 0 && m0 < tr->n_train &&
                (tr->rc = train_checkpoint(tr, 0)) != 0)
                return RUN_AGREED;
        }
        double secs = cli_now() - tr->t0;
        row->train_loss = st->loss_sum / tr->n_train;
        row->seconds = secs;
        row->ex_per_s = (tr->n_train - first) / secs;
        row->val_loss = row->val_acc = NAN;
        bp_metrics vm;
        bp_status vs = tr->n_val > 0 ? dist_evaluate(tr->net, ds, val_idx, tr->n_val, &vm) : BP_OK;
        if (tr->n_val > 0 && vs == BP_OK)
            row->val_loss = vm.loss, row->val_acc = vm.accuracy;
        if (vs != BP_OK)
            return cli_error(&train_cmd, "%s: validation failed: %s", a->data,
                             bp_status_string(vs)), RUN_FAILED;
        st->ran = e + 1, st->epoch = e + 1, st->step = 0;
        if (tr->bar)
            fputc('\n', stderr);
        char val[64] = ""; /* what was not measured is left out, never "nan" */
        if (isfinite(row->val_loss))
            snprintf(val, sizeof val, isfinite(row->val_acc) ? "  val loss %.4f  val acc %.4f"
                                                             : "  val loss %.4f", row->val_loss,
                     row->val_acc);
        if ((!a->json || tr->bar) && dist_rank() == 0)
            fprintf(log, "epoch %d/%ld  train loss %.4f%s  %.0f ex/s  %.1fs\n", e + 1, a->epochs,
                    row->train_loss, val, row->ex_per_s, secs);
        int bad = dist_rank() == 0 && a->metrics &&
                  train_write_metrics(a->metrics, tr->rows, (int)st->ran);
        /* early stopping keeps the parameters of the best validation loss */
        if (a->patience > 0 && tr->n_val > 0) {
            if (row->val_loss < st->best_val) {
                st->best_val = row->val_loss;
                st->best_epoch = e + 1;
                memcpy(tr->best, bp_net_params_const(tr->net), P * sizeof *tr->best);
            } else if (e + 1 - st->best_epoch >= a->patience) {
                memcpy(bp_net_params(tr->net), tr->best, P * sizeof *tr->best);
                if (dist_rank() == 0)
                    fprintf(log, "early stop: no better validation loss for %ld epochs; keeping "
                                 "epoch %lld\n", a->patience, (long long)st->best_epoch);
                st->stopped = 1;
            }
        }
        if ((tr->rc = train_checkpoint(tr, bad)) != 0)
            return RUN_AGREED;
    }
    return RUN_DONE;
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    int r = train_args_read(&a, argc, argv);
    if (r <= 0)
        return dist_agree(r < 0);
    int rc = 1, agreed = 0, lock = -1; /* agreed: the ranks already know rc (dist_agree) */
    trainer tr = {.cmd = &train_cmd, .dir = a.dir, .anomaly = a.anomaly};
    bp_dataset *ds = NULL, *test = NULL;
    int32_t *test_idx = NULL;
    bp_error err;
    int rank0 = dist_rank() == 0;
    FILE *log = a.json ? stderr : stdout;
    tr.bar = rank0 && isatty(fileno(stderr)) && isatty(fileno(stdout));

    /* the folder's one writer is settled first: a second run is refused
     * at once, before it spends seconds loading the data */
    if (a.dir && rank0 && (lock = train_lock(&train_cmd, a.dir)) < 0)
        goto done;
    bp_csv_options csv;
    if (cli_csv_options(&train_cmd, &csv) || cli_load_data(&train_cmd, a.data, 0, &csv, &ds) ||
        train_args_widths(&a, ds))
        goto done;
    /* the test file is read as the network will have been trained: its
     * columns, categories, fills and class names */
    if (train_setup(&tr, &a, ds))
        goto done;
    csv.model = tr.net;
    if (cli_load_test(&train_cmd, a.test, a.data, ds, &csv, tr.net, &test))
        goto done;
    /* the first collective call: a rank that failed before it is at the
     * dist_agree under done:, and the ranks meet here (a checkpoint brings
     * its own standardisation into the network) */
    if ((r = dist_agree(a.resume ? train_resume(&tr, a.resume, log) : 0)) != 0) {
        rc = r, agreed = 1;
        goto done;
    }
    if (tr.dir && rank0)
        train_remove_stale(tr.dir);
    if ((r = dist_agree(dist_prepare(tr.net))) != 0) { /* the exchange's buffer */
        rc = r, agreed = 1;
        goto done;
    }
    if ((r = dist_agree(train_stop != 0)) != 0) { /* before the first step: nothing written */
        if (rank0)
            fprintf(stderr, "backprop train: interrupted before the first step; nothing saved\n");
        rc = train_stop == SIGINT ? 130 : 143, agreed = 1;
        goto done;
    }

    if (a.hidden && rank0) /* the widths the data gave, as --layers would take them */
        fprintf(stderr, "backprop train: --hidden %s on %s: --layers %s\n", a.hidden, a.data,
                a.layers);
    if (!a.json && rank0)
        fprintf(log, "training on %d examples (%d held out), %ld steps of %d per epoch, %zu "
                     "parameters%s\n", tr.n_train, tr.n_val, (long)(tr.n_train + tr.B - 1) / tr.B,
                tr.B, bp_net_n_params(tr.net), dist_size() > 1 ? ", data-parallel" : "");
    if (dist_size() > 1 && rank0 && !a.json)
        fprintf(log, "%d MPI ranks, %d examples each per step at most, gradient buckets of "
                     "%.3g MB\n", dist_size(), bp_net_max_batch(tr.net),
                dist_bucket() * sizeof(float) / 1048576.0);
    run_end end = run_epochs(&tr, &a, ds, log);
    if (end == RUN_FAILED || end == RUN_DIVERGED || end == RUN_AGREED) {
        rc = end == RUN_AGREED ? tr.rc : end == RUN_DIVERGED ? 2 : 1, agreed = end == RUN_AGREED;
        goto done;
    }
    /* stopped: the step's checkpoint, then the model and tables as at the end */
    if (end == RUN_STOPPED && (rc = train_checkpoint(&tr, 0)) != 0) {
        agreed = 1;
        goto done;
    }
    rc = 1; /* what a failure below ends with (the checkpoint's 0 is not an outcome) */
    int ran = (int)tr.st.ran;
    /* again at the end: a resumed run that had nothing left to train
     * still writes the table it was asked for */
    if (rank0 && a.metrics && train_write_metrics(a.metrics, tr.rows, ran))
        goto done;

    bp_metrics tm = {NAN, NAN, NAN, -1};
    if (test && end != RUN_STOPPED) {
        int nt = bp_dataset_n(test);
        if (!(test_idx = malloc((size_t)nt * sizeof *test_idx))) {
            cli_error(&train_cmd, "out of memory");
            goto done;
        }
        for (int i = 0; i < nt; i++)
            test_idx[i] = i;
        bp_status es = dist_evaluate(tr.net, test, test_idx, nt, &tm); /* fits: cli_load_test */
        if (es != BP_OK) {
            cli_error(&train_cmd, "%s: the test split: %s", a.data, bp_status_string(es));
            goto done;
        }
        if (!a.json && rank0)
            fprintf(log, "test loss %.4f  test accuracy %.4f  test MSE (FANN's) %.6g  bit fail "
                         "%ld\n", tm.loss, tm.accuracy, tm.mse_fann, tm.bit_fail);
    }
    if (!rank0) {
        rc = end == RUN_STOPPED || train_stop ? train_interrupted(&tr, &a, argc, argv) : 0;
        goto done;
    }
    if (end == RUN_STOPPED && a.patience > 0 && tr.st.best_epoch > 0) /* the best, as at the end */
        memcpy(bp_net_params(tr.net), tr.best, bp_net_n_params(tr.net) * sizeof *tr.best);
    if (bp_model_save(tr.net, a.out, &err) != BP_OK) {
        cli_error(&train_cmd, "%s", err.msg);
        goto done;
    }
    int classes = bp_dataset_has_classes(ds);
    /* a stop within the first epoch has no curve to draw: no plot file */
    if (a.plot && ran > 0 && train_plot(a.plot, tr.rows, ran, tr.n_val > 0, tr.n_val > 0 && classes))
        goto done;
    if (a.json)
        train_json(a.layers, tr.rows, ran, &tm, test != NULL && end != RUN_STOPPED, train_stop != 0);
    /* a signal in the final evaluation or save let them finish */
    rc = end == RUN_STOPPED || train_stop ? train_interrupted(&tr, &a, argc, argv) : 0;
done:
    free(tr.perm), free(tr.best), free(tr.rows), free(test_idx);
    bp_optimizer_free(tr.opt);
    bp_net_free(tr.net);
    bp_dataset_free(ds);
    bp_dataset_free(test);
    if (lock >= 0)
        close(lock);
    return agreed ? rc : dist_agree(rc);
}
