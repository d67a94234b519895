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
    return 0;
}
