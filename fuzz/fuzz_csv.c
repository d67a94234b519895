/*
 * fuzz_csv.c — libFuzzer harness for the CSV readers: bp_csv_read (numbers
 * only, no header) and bp_dataset_load_csv (optional header; the last column
 * a class label — a number, or a word whose names the data set then has
 * for every class —, or the last 2 columns regression targets).
 *
 * The input is the whole file, written to one scratch file per process.
 */
#include "fuzz_common.h"

#include <math.h>

static void load_as_dataset(const char *path, int target_cols)
{
    bp_dataset *ds = NULL;
    bp_error err;
    if (bp_dataset_load_csv(path, target_cols, &ds, &err) != BP_OK) {
        if (ds)
            __builtin_trap();
        return;
    }
    if (!ds || bp_dataset_has_labels(ds) != (target_cols == 0) ||
        (target_cols && bp_dataset_n_out(ds) != target_cols))
        __builtin_trap();
    /* named classes: every class has a name, or none has */
    for (int j = 0; bp_dataset_class(ds, 0) && j < bp_dataset_n_out(ds); j++)
        if (!bp_dataset_class(ds, j) || !bp_dataset_class(ds, j)[0])
            __builtin_trap();
    fuzz_use_dataset(ds);
    bp_dataset_free(ds);
}

/* Tabular options, then the file read again as a model trained on it. */
static void load_tabular(const char *path, bp_missing missing)
{
    bp_csv_options o = BP_CSV_OPTIONS_DEFAULT;
    o.missing = missing, o.max_categories = 3, o.target = "-1", o.drop = "0";
    bp_dataset *ds = NULL;
    bp_error err;
    if (bp_dataset_load_csv_with(path, &o, &ds, &err) != BP_OK) {
        if (ds)
            __builtin_trap();
        return;
    }
    int n = bp_dataset_n(ds), n_in = bp_dataset_n_in(ds), k = bp_dataset_n_out(ds);
    if (!ds || n < 1 || n_in < 1 || k < 1)
        __builtin_trap();
    int32_t half[2] = {0, n - 1};
    bp_status s = bp_dataset_fill_from(ds, half, n > 1 ? 2 : 1);
    if (s != BP_OK && s != BP_ERR_FORMAT) /* a column without a value in those rows */
        __builtin_trap();
    fuzz_use_dataset(ds);
    int sizes[2] = {n_in, k};
    bp_act acts[1] = {BP_ACT_SOFTMAX};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 1, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_SOFTMAX_CE;
    bp_net *net = n_in <= 4096 && sizes[1] <= 4096 ? bp_net_create(&cfg, 1, &err) : NULL;
    bp_dataset *again = NULL;
    o = (bp_csv_options)BP_CSV_OPTIONS_DEFAULT;
    o.model = net;
    if (net &&
        bp_net_set_encoding(net, ds) == BP_OK &&
        bp_dataset_load_csv_with(path, &o, &again, &err) == BP_OK) {
        /* the same file through the model's encoding: the same inputs */
        if (bp_dataset_n_in(again) != n_in)
            __builtin_trap();
        fuzz_use_dataset(again);
    }
    bp_dataset_free(again);
    bp_net_free(net);
    bp_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("data.csv");
    fuzz_write(path, data, size);

    float *v = NULL;
    int rows = -1, cols = -1;
    bp_error err;
    if (bp_csv_read(path, &v, &rows, &cols, &err) == BP_OK) {
        if (!v || rows < 1 || cols < 1)
            __builtin_trap();
        /* every value is finite, and the whole table is there */
        volatile float sink = 0;
        for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++) {
            if (!isfinite(v[i]))
                __builtin_trap();
            sink += v[i];
        }
        (void)sink;
        free(v);
    } else if (v || rows != 0 || cols != 0) {
        __builtin_trap();
    }

    load_as_dataset(path, 0);
    load_as_dataset(path, 2);
    load_tabular(path, BP_MISSING_MEAN);
    load_tabular(path, BP_MISSING_DROP);
    return 0;
}
