/*
 * data_arg.c — what --data names: a data set by name (fashion-mnist: Debian's
 * dataset-fashion-mnist in /usr/share/datasets/fashion-mnist; mnist: the
 * same folder layout, /usr/share/datasets/mnist, which no Debian 12 package
 * provides), a folder of IDX files, a CSV file (*.csv) or a FANN
 * training-data file (anything else); and the test set beside it.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DATASETS "/usr/share/datasets"

int cli_load_data(const cli_command *cmd, const char *spec, int test, int target_cols,
                  bp_dataset **out)
{
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
            s = bp_dataset_load_csv(spec, target_cols, out, &err);
        else
            s = bp_dataset_load_fann(spec, out, &err);
    }
    if (s != BP_OK)
        return cli_error(cmd, "%s", err.msg);
    return 0;
}

int cli_load_test(const cli_command *cmd, const char *spec, const char *data,
                  const bp_dataset *ds, int target_cols, int k, bp_dataset **out)
{
    if (!spec)
        return cli_load_data(cmd, data, 1, target_cols, out);
    /* a folder's test split, or a file's one split */
    if (cli_load_data(cmd, spec, 1, target_cols, out) ||
        (!*out && cli_load_data(cmd, spec, 0, target_cols, out)))
        return 1;
    const bp_dataset *t = *out;
    int labels = bp_dataset_has_labels(t);
    if (labels != bp_dataset_has_labels(ds))
        return cli_error(cmd, "%s holds %s, but %s holds %s", spec,
                         labels ? "class labels" : "targets", data,
                         labels ? "targets" : "class labels");
    /* labels: a test file may lack some classes, but not hold one the
     * network has no output for */
    if (bp_dataset_n_in(t) != bp_dataset_n_in(ds) ||
        (labels ? bp_dataset_n_out(t) > k : bp_dataset_n_out(t) != bp_dataset_n_out(ds)))
        return cli_error(cmd, "%s: %d inputs and %d %s per example, but %s has %d and %d", spec,
                         bp_dataset_n_in(t), bp_dataset_n_out(t), labels ? "classes" : "outputs",
                         data, bp_dataset_n_in(ds), labels ? k : bp_dataset_n_out(ds));
    return 0;
}
