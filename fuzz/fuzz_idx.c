/*
 * fuzz_idx.c — libFuzzer harness for bp_dataset_load_idx, the reader of the
 * MNIST family's IDX files, plain or gzip'ed.
 *
 * Input layout (the seeds in corpus/idx/ follow it):
 *   bytes 0-1  little-endian length K of the images file (capped to what is left)
 *   byte  2    flags: bit 0 writes the images as ...-images-idx3-ubyte.gz,
 *                     bit 1 writes the labels as ...-labels-idx1-ubyte.gz
 *              (the bytes are written as they are: zlib reads data without a
 *              gzip header transparently, and gzip members in the input
 *              exercise inflate)
 *   then       K bytes of images file, the rest is the labels file.
 * Both files go into one scratch folder as train-*; a data set that loads is
 * used as a trainer would (moments, gathers) and freed.
 */
#include "fuzz_common.h"

static const char *const IMAGES = "train-images-idx3-ubyte";
static const char *const LABELS = "train-labels-idx1-ubyte";

/* Writes name or name.gz and removes the other, so that the loader (which
 * prefers the plain name) sees exactly this input's choice. */
static void put(const char *name, int gz, const uint8_t *data, size_t n)
{
    char with_gz[64];
    snprintf(with_gz, sizeof with_gz, "%s.gz", name);
    const char *plain = fuzz_path(name), *packed = fuzz_path(with_gz);
    unlink(gz ? plain : packed);
    fuzz_write(gz ? packed : plain, data, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t head = size < 3 ? size : 3;
    size_t k = (size_t)(size > 0 ? data[0] : 0) | (size_t)(size > 1 ? data[1] : 0) << 8;
    unsigned flags = size > 2 ? data[2] : 0;
    const uint8_t *body = data + head;
    size_t rest = size - head;
    if (k > rest)
        k = rest;
    put(IMAGES, flags & 1, body, k);
    put(LABELS, (flags >> 1) & 1, body + k, rest - k);

    bp_dataset *ds = NULL;
    bp_error err;
    bp_status s = bp_dataset_load_idx(fuzz_scratch(), "train", &ds, &err);
    if (s != BP_OK) {
        if (ds)
            __builtin_trap();
        return 0;
    }
    if (!ds || !bp_dataset_has_labels(ds) || bp_dataset_n_out(ds) < 2)
        __builtin_trap();
    fuzz_use_dataset(ds);
    /* pixels are bytes / 255: every gathered value lies in [0, 1] */
    int n_in = bp_dataset_n_in(ds);
    int32_t last = bp_dataset_n(ds) - 1, label;
    float *x = malloc((size_t)n_in * sizeof *x);
    if (!x)
        abort();
    bp_dataset_gather(ds, &last, 1, NULL, NULL, x, NULL, &label);
    for (int j = 0; j < n_in; j++)
        if (!(x[j] >= 0.0f && x[j] <= 1.0f))
            __builtin_trap();
    free(x);
    bp_dataset_free(ds);
    return 0;
}
