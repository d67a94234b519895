/*
 * fuzz_fann.c — libFuzzer harness for bp_dataset_load_fann, the reader of
 * FANN training files ("count inputs outputs", then inputs and outputs of
 * each example as whitespace-separated numbers).
 *
 * The input is the whole file, written to one scratch file per process.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("data.fann");
    fuzz_write(path, data, size);

    bp_dataset *ds = NULL;
    bp_error err;
    if (bp_dataset_load_fann(path, &ds, &err) != BP_OK) {
        if (ds)
            __builtin_trap();
        return 0;
    }
    if (!ds || bp_dataset_has_labels(ds))
        __builtin_trap();
    fuzz_use_dataset(ds);
    bp_dataset_free(ds);
    return 0;
}
