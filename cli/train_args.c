/*
 * train_args.c — `backprop train`'s options: the table --help prints, and
 * each option read into the run's configuration and checked, with the
 * message that names it.
 */
#include "train.h"

#include <string.h>

static cli_opt opts[] = {
    {"data", "D", NULL, "fashion-mnist, mnist, an IDX folder, a .csv or a FANN file", NULL},
    {"target-cols", "K", "0", "CSV: 0 = last column is a class label; K = last K columns are targets",
     NULL},
    {"target", "NAME|I[,...]", NULL, "CSV: the target columns by header name or index (0 first, "
                                     "-1 last); one column is a class", NULL},
    {"drop", "NAME|I[,...]", NULL, "CSV: columns to leave out (ids)", NULL},
    {"missing", "HOW", "error", "CSV: an empty, NA, NaN or ? field: error, drop (the row) or "
                                "mean (stored in the model)", NULL},
    {"max-categories", "N", "1000", "CSV: distinct words a column may hold", NULL},
    CLI_CSV_OPTS,
    {"test", "D", NULL, "the test set scored at the end (a .csv, FANN file or IDX folder); "
                        "default: --data's test split, if it has one", NULL},
    {"val", "F", "0.1", "fraction of the training data held out for validation (seeded)", NULL},
    {"standardize", NULL, NULL, "standardise inputs with the training split's mean and std", NULL},
    CLI_NETWORK_OPTS(NULL, "relu", "identity", "softmax_ce"),
    {"hidden", "H1[,...]", NULL, "instead of --layers: the hidden widths; N(0) and N(L) come "
                                 "from the data (its features; its classes or targets)", NULL},
    {"opt", "NAME", "sgd", "sgd, momentum, nesterov, adam, adamw", NULL},
    {"schedule", "NAME", "constant",
     "constant, step, cosine (over all steps) or invscaling (--power-t)", NULL},
#define AS_OPTION(field, name, meta, def, help) {name, meta, #def, help, NULL},
#define NO_OPTION(field)
    BP_OPT_FIELDS(AS_OPTION, NO_OPTION)
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
    {"bucket-mb", "MB", "0.25", "under mpirun: the gradient is summed in buckets of MB megabytes, "
                             "each as soon as the backward pass has made it (0 = one, after "
                             "the pass)", NULL},
    {"collective-timeout", "S", "0", "under mpirun: end the job when a step's exchange takes "
                                     "over S seconds (0 = the larger of 60 s and 50 median "
                                     "steps)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

cli_command train_cmd = {"train", "Trains a network on a data set and writes the model.",
                          "--data fashion-mnist --layers 784,256,128,10 --act relu "
                          "--loss softmax_ce --opt sgd --lr 0.1 --batch 64 --epochs 10 --out M",
                          opts};


int train_args_read(train_args *a, int argc, char **argv)
{
    cli_command *cmd = &train_cmd;
    int r = cli_parse(cmd, argc, argv);
    if (r <= 0)
        return r;
    memset(a, 0, sizeof *a);
    a->hidden = cli_get(cmd, "hidden");
    if (a->hidden && cli_get(cmd, "layers"))
        return -cli_error(cmd, "--hidden and --layers: give one (--hidden takes N(0) and N(L) "
                               "from the data)");
    if (!a->hidden && !cli_get(cmd, "layers"))
        return -cli_error(cmd, "give --layers N0,...,NL, or --hidden H1,... to take N(0) and N(L) "
                               "from the data");
    /* --hidden's widths, --act and --loss checked now, the data's widths
     * put in once it is read */
    if (cli_require(cmd, "data", &a->data) || cli_require(cmd, "out", &a->out) ||
        (a->hidden ? train_args_widths(a, NULL) : cli_network_config(cmd, a->sizes, a->acts,
                                                                      &a->cfg)))
        return -1;
    if (cli_int(cli_get(cmd, "batch"), 1, 1 << 20, &a->batch))
        return -cli_error(cmd, "--batch: '%s' is not in 1..%d", cli_get(cmd, "batch"), 1 << 20);
    if (cli_int(cli_get(cmd, "epochs"), 1, 1000000, &a->epochs))
        return -cli_error(cmd, "--epochs: '%s' is not in 1..1000000", cli_get(cmd, "epochs"));
    if (cli_int(cli_get(cmd, "patience"), 0, 1000000, &a->patience) ||
        cli_int(cli_get(cmd, "checkpoint-every"), 0, 1L << 40, &a->every) ||
        cli_int(cli_get(cmd, "target-cols"), 0, BP_MAX_WIDTH, &a->target_cols))
        return -cli_error(cmd, "--patience, --checkpoint-every, --target-cols: '%s', '%s', '%s': "
                               "not all counts", cli_get(cmd, "patience"),
                          cli_get(cmd, "checkpoint-every"), cli_get(cmd, "target-cols"));
    if (cli_int(cli_get(cmd, "threads"), 0, 4096, &a->threads))
        return -cli_error(cmd, "--threads: '%s' is not in 0..4096", cli_get(cmd, "threads"));
    if (cli_double(cli_get(cmd, "val"), &a->val_frac) || a->val_frac < 0 || a->val_frac >= 1)
        return -cli_error(cmd, "--val: '%s' is not a fraction in [0, 1)", cli_get(cmd, "val"));
    if (cli_u64(cli_get(cmd, "seed"), &a->seed))
        return -cli_error(cmd, "--seed: '%s' is not a non-negative integer", cli_get(cmd, "seed"));
    a->test = cli_get(cmd, "test"), a->resume = cli_get(cmd, "resume");
    a->metrics = cli_get(cmd, "metrics"), a->plot = cli_get(cmd, "plot");
    a->dir = cli_get(cmd, "checkpoint") ? cli_get(cmd, "checkpoint") : a->resume;
    a->json = cli_flag(cmd, "json"), a->standardize = cli_flag(cmd, "standardize");
    a->anomaly = cli_flag(cmd, "detect-anomaly");
    double mb, limit;
    if (cli_double(cli_get(cmd, "bucket-mb"), &mb) || !(mb >= 0 && mb <= 1024))
        return -cli_error(cmd, "--bucket-mb: '%s' is not in 0..1024", cli_get(cmd, "bucket-mb"));
    if (cli_double(cli_get(cmd, "collective-timeout"), &limit) || !(limit >= 0 && limit <= 1e6))
        return -cli_error(cmd, "--collective-timeout: '%s' is not a number of seconds in "
                               "0..1e6", cli_get(cmd, "collective-timeout"));
    dist_configure(mb, limit);
    if (a->anomaly && dist_size() > 1)
        return -cli_error(cmd, "--detect-anomaly runs in one process (without mpirun)");
    if (cli_device(cmd, &a->device))
        return -1;
    bp_error err;
    if (a->device == BP_DEVICE_CUDA && dist_size() > 1 &&
        bp_cuda_use_gpu(dist_local_rank(), &err) != BP_OK) /* one GPU per rank */
        return -cli_error(cmd, "--device cuda: %s", err.msg);
    return 1;
}

int train_args_widths(train_args *a, const bp_dataset *ds)
{
    char buf[1024];
    int n = a->hidden ? snprintf(buf, sizeof buf, "%d,%s,%d", ds ? bp_dataset_n_in(ds) : 1,
                                 a->hidden, ds ? bp_dataset_n_out(ds) : 1)
                      : 0;
    if (n >= (int)sizeof buf)
        return cli_error(&train_cmd, "--hidden: '%.40s...' is too long", a->hidden);
    if (a->hidden && cli_network_config_with(&train_cmd, "hidden", buf, a->sizes, a->acts, &a->cfg))
        return 1;
    size_t len = 0;
    for (int l = 0; l <= a->cfg.n_layers; l++)
        len += (size_t)snprintf(a->layers + len, sizeof a->layers - len, "%s%d", l ? "," : "",
                                a->sizes[l]);
    return 0;
}

/* The options that make the optimiser, with the step counts of this run:
 * every value as typed (the library checks the ranges and names them). */
int train_args_opt(bp_opt_config *oc, long steps_per_epoch, long epochs)
{
    const cli_command *cmd = &train_cmd;
    *oc = (bp_opt_config)BP_OPT_CONFIG_DEFAULT;
    if (bp_opt_parse(cli_get(cmd, "opt"), &oc->kind) != BP_OK)
        return cli_error(cmd, "--opt: unknown optimiser '%s' (sgd, momentum, nesterov, adam, "
                              "adamw)", cli_get(cmd, "opt"));
    if (bp_sched_parse(cli_get(cmd, "schedule"), &oc->schedule) != BP_OK)
        return cli_error(cmd, "--schedule: unknown schedule '%s' (constant, step, cosine, "
                              "invscaling)", cli_get(cmd, "schedule"));
    /* its plateaus are a caller's judgement (the Python package's
     * learning_rate='adaptive'): train's is --patience, which stops */
    if (oc->schedule == BP_SCHED_ADAPTIVE)
        return cli_error(cmd, "--schedule adaptive is the library's for callers that report "
                              "plateaus (Python: learning_rate='adaptive'); train has "
                              "--patience");
    double v;
#define READ_OPTION(field, name, meta, def, help)                                            \
    if (cli_double(cli_get(cmd, name), &v) || v < 0)                                       \
        return cli_error(cmd, "--%s: '%s' is not a non-negative number", name,             \
                         cli_get(cmd, name));                                              \
    oc->field = _Generic(oc->field, long: (long)(v * steps_per_epoch), default: v);
    BP_OPT_FIELDS(READ_OPTION, NO_OPTION)
    oc->total_steps = steps_per_epoch * epochs;
    return 0;
}
