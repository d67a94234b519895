/*
 * train_setup.c — a `backprop train` run made from its options and data:
 * the batch, the network and optimiser, the split into validation and
 * training examples, the standardisation and the run's buffers, all before
 * the first epoch.
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>

/* The split's permutation, the best parameters and the metrics' rows. */
static int allocate(trainer *tr, long epochs)
{
    size_t P = bp_net_n_params(tr->net);
    tr->perm = malloc((size_t)tr->n * sizeof *tr->perm);
    tr->best = malloc(P * sizeof *tr->best);
    tr->rows = calloc((size_t)epochs, sizeof *tr->rows);
    return tr->perm && tr->best && tr->rows ? 0 : cli_error(&train_cmd, "out of memory");
}

/* --standardize: the training split's moments become the network's. */
static int standardize(trainer *tr, const bp_dataset *ds, const int32_t *train_idx)
{
    size_t n_in = (size_t)bp_dataset_n_in(ds);
    float *mean = malloc(n_in * sizeof *mean), *std = malloc(n_in * sizeof *std);
    int bad = !mean || !std;
    if (!bad) {
        bp_dataset_moments(ds, train_idx, tr->n_train, mean, std);
        bad = bp_net_set_standardize(tr->net, mean, std) != BP_OK;
    }
    free(mean), free(std);
    return bad ? cli_error(&train_cmd, "out of memory") : 0;
}

int train_setup(trainer *tr, const train_args *a, bp_dataset *ds)
{
    int n = bp_dataset_n(ds), n_val = (int)(a->val_frac * n), n_train = n - n_val;
    if (n_train < 1)
        return cli_error(&train_cmd, "%s: no training examples left after --val %g", a->data,
                         a->val_frac);
    int B = a->batch < n_train ? (int)a->batch : n_train;
    long steps_per_epoch = (n_train + B - 1) / B;
    /* a rank's share of a global batch is at most ceil(B / ranks) rows */
    int B_rank = (B + dist_size() - 1) / dist_size();

    bp_opt_config oc;
    bp_error err;
    if (train_args_opt(&oc, steps_per_epoch, a->epochs))
        return 1;
    tr->net = bp_net_create(&a->cfg, B_rank, &err);
    tr->opt = tr->net ? bp_optimizer_create(&oc, bp_net_n_params(tr->net), &err) : NULL;
    if (!tr->net || !tr->opt)
        return cli_error(&train_cmd, "%s", err.msg);
    if (bp_dataset_check(tr->net, ds) != BP_OK)
        return cli_error(&train_cmd, "%s does not fit --layers %s: %s", a->data, a->layers,
                         cli_reason(bp_last_error()));
    bp_net_init(tr->net, a->seed);
    if (bp_net_set_threads(tr->net, (int)a->threads) != BP_OK)
        return cli_error(&train_cmd, "cannot start %ld threads", a->threads);
    if (cli_net_to_device(&train_cmd, tr->net, a->device))
        return 1;
    /* under MPI or --detect-anomaly a GPU runs single steps through the
     * host mirror: the gradient must reach the host between the passes */
    tr->on_gpu = a->device == BP_DEVICE_CUDA && dist_size() == 1 && !tr->anomaly;
    tr->n = n, tr->n_val = n_val, tr->n_train = n_train, tr->B = B;
    if (allocate(tr, a->epochs))
        return 1;

    /* the split: a seeded permutation; validation first, training after */
    run_state *st = &tr->st;
    *st = (run_state){.seed = a->seed, .batch = B, .n = n, .n_val = n_val, .epochs = a->epochs,
                      .patience = a->patience, .ranks = dist_size(), .threads = a->threads,
                      .best_val = INFINITY};
    train_gemm_name(tr->net, st->gemm, sizeof st->gemm);
    bp_split(a->seed, n, a->val_frac, tr->perm, &n_val, &st->rng);
    /* --missing mean's fills from the training split, before its moments;
     * then the class names and the CSV's encoding go into the model */
    if (bp_dataset_fill_from(ds, tr->perm + n_val, n_train) != BP_OK)
        return cli_error(&train_cmd, "%s: %s", a->data, cli_reason(bp_last_error()));
    if (bp_net_set_encoding(tr->net, ds) != BP_OK)
        return cli_error(&train_cmd, "%s: %s (--layers %s)", a->data, cli_reason(bp_last_error()),
                         a->layers);
    return a->standardize ? standardize(tr, ds, tr->perm + n_val) : 0;
}
