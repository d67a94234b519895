/*
 * data_arg.c — what --data names: a data set by name (fashion-mnist: Debian's
 * dataset-fashion-mnist in /usr/share/datasets/fashion-mnist; mnist: the
 * same folder layout, /usr/share/datasets/mnist, which no Debian 12 package
 * provides), a folder of IDX files, a CSV file (*.csv) or a FANN
 * training-data file (anything else); and the test set beside it.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATASETS "/usr/share/datasets"

/* Fashion-MNIST's classes, in label order (Zalando's README). */
static const char *const fashion_classes[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

const char **cli_class_names(const bp_net *net, const bp_dataset *ds, int *k)
{
    *k = net ? bp_net_size(net, bp_net_n_layers(net)) : bp_dataset_n_out(ds);
    if (!(net ? bp_net_class(net, 0) : bp_dataset_class(ds, 0)))
        return NULL;
    const char **names = malloc((size_t)*k * sizeof *names);
    for (int j = 0; names && j < *k; j++)
        names[j] = net ? bp_net_class(net, j) : bp_dataset_class(ds, j);
    if (!names)
        *k = -1;
    return names;
}

/* The value of an option cmd may lack: NULL if absent from its table. */
static const char *opt_of(const cli_command *cmd, const char *name)
{
    for (const cli_opt *o = cmd->opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->value;
    return NULL;
}

int cli_csv_options(const cli_command *cmd, bp_csv_options *o)
{
    *o = (bp_csv_options)BP_CSV_OPTIONS_DEFAULT;
    const char *d = opt_of(cmd, "delimiter"), *h = opt_of(cmd, "header");
    const char *k = opt_of(cmd, "target-cols"), *m = opt_of(cmd, "missing");
    const char *mc = opt_of(cmd, "max-categories");
    long v;
    if (d) {
        if (strcmp(d, "tab") == 0 || strcmp(d, "\\t") == 0 || strcmp(d, "\t") == 0)
            o->delimiter = '\t';
        else if (strcmp(d, ",") == 0 || strcmp(d, ";") == 0)
            o->delimiter = d[0];
        else
            return cli_error(cmd, "--delimiter: '%s' is not ',', ';' or tab", d);
    }
    if (h && strcmp(h, "yes") != 0 && strcmp(h, "no") != 0)
        return cli_error(cmd, "--header: '%s' is neither yes nor no", h);
    o->header = !h ? -1 : strcmp(h, "yes") == 0;
    if (k && cli_int(k, 0, BP_MAX_WIDTH, &v))
        return cli_error(cmd, "--target-cols: '%s' is not a count", k);
    o->target_cols = k ? (int)v : 0;
    o->target = opt_of(cmd, "target"), o->drop = opt_of(cmd, "drop");
    if (m && strcmp(m, "error") && strcmp(m, "drop") && strcmp(m, "mean"))
        return cli_error(cmd, "--missing: '%s' is not error, drop or mean", m);
    o->missing = !m || strcmp(m, "error") == 0 ? BP_MISSING_ERROR
                 : strcmp(m, "drop") == 0      ? BP_MISSING_DROP
                                               : BP_MISSING_MEAN;
    if (mc && cli_int(mc, 1, BP_MAX_WIDTH, &v))
        return cli_error(cmd, "--max-categories: '%s' is not a count in 1..%d", mc, BP_MAX_WIDTH);
    if (mc)
        o->max_categories = (int)v;
    return 0;
}

int cli_load_data(const cli_command *cmd, const char *spec, int test, const bp_csv_options *o,
                  bp_dataset **out)
{
    bp_csv_options dflt = BP_CSV_OPTIONS_DEFAULT;
    int fashion = strcmp(spec, "fashion-mnist") == 0;
    char dir[4096];
    struct stat st;
    bp_error err;
    bp_status s;
    *out = NULL;
    if (strcmp(spec, "fashion-mnist") == 0 || strcmp(spec, "mnist") == 0) {
        snprintf(dir, sizeof dir, DATASETS "/%s", spec);
        if (stat(dir, &st) != 0 && strcmp(spec, "mnist") == 0)
            return cli_error(cmd, "%s: not found (no Debian package has MNIST: put its four IDX "
                                  "files there, or give --data the folder that holds them)", dir);
        if (stat(dir, &st) != 0)
            return cli_error(cmd, "%s: not found (Debian: apt-get install dataset-%s)", dir, spec);
        spec = dir;
    }
    if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
        s = bp_dataset_load_idx(spec, test ? "t10k" : "train", out, &err);
    } else if (test) {
        return 0; /* a single file has no test split */
    } else {
        size_t n = strlen(spec);
        if (n > 4 && strcmp(spec + n - 4, ".csv") == 0)
            s = bp_dataset_load_csv_with(spec, o ? o : &dflt, out, &err);
        else
            s = bp_dataset_load_fann(spec, out, &err);
    }
    if (s != BP_OK)
        return cli_error(cmd, "%s", err.msg);
    if (bp_dataset_warning(*out) && dist_rank() == 0)
        fprintf(stderr, "backprop %s: warning: %s\n", cmd->name, bp_dataset_warning(*out));
    if (fashion && bp_dataset_n_out(*out) == 10 &&
        bp_dataset_set_classes(*out, 10, fashion_classes) != BP_OK)
        return cli_error(cmd, "%s", bp_last_error());
    return 0;
}

int cli_names_by_index(const char *spec)
{
    /* fashion-mnist's names follow its own label numbers, which any model
     * trained on it (before names, or with them) has as its classes */
    return strcmp(spec, "fashion-mnist") == 0;
}

int cli_load_test(const cli_command *cmd, const char *spec, const char *data,
                  const bp_dataset *ds, const bp_csv_options *o, const bp_net *net,
                  bp_dataset **out)
{
    /* a folder's test split, or a file's one split, its class names those
     * of the training set */
    bp_csv_options to = *o;
    int n_names;
    const char **names = spec ? cli_class_names(NULL, ds, &n_names) : NULL;
    if (spec && n_names < 0)
        return cli_error(cmd, "out of memory");
    to.classes = names, to.n_classes = names ? n_names : 0;
    int bad = spec ? cli_load_data(cmd, spec, 1, &to, out) ||
                         (!*out && cli_load_data(cmd, spec, 0, &to, out))
                   : cli_load_data(cmd, data, 1, o, out);
    free(names);
    if (bad || !*out)
        return bad;
    const char *what = spec ? spec : "the test split";
    if (bp_dataset_n_out(*out) == 0)
        return cli_error(cmd, "%s has no target column", what);
    if (bp_dataset_class(*out, 0) && !bp_dataset_class(ds, 0) && !cli_names_by_index(what))
        return cli_error(cmd, "%s names its classes, but %s numbers them", what, data);
    int labels = bp_dataset_has_labels(*out);
    if (labels != bp_dataset_has_labels(ds))
        return cli_error(cmd, "%s holds %s, but %s holds %s", what,
                         labels ? "class labels" : "targets", data,
                         labels ? "targets" : "class labels");
    /* labels: a test file may lack some classes, but not hold one the
     * network has no output for */
    if (bp_dataset_check(net, *out) != BP_OK)
        return cli_error(cmd, "%s does not fit the network trained on %s: %s", what, data,
                         cli_reason(bp_last_error()));
    return 0;
}
