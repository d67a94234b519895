/*
 * io.h — files (src/io/): the model and gradient files (safetensors), CSV,
 * FANN and IDX data, and plots. The top of the library: it may call
 * anything below, and nothing below calls it. Not installed.
 */
#ifndef BP_IO_H
#define BP_IO_H

#include "train/train.h"

/* csv.c: the strict CSV reader behind bp_csv_read, where allow_header lets
 * line 1 be a header (a field that is not a number); *header says whether
 * it was. Data rows are then lines header+1 .. header+rows. */
bp_status bp_csv_read_table(const char *path, int allow_header, float **data, int *rows,
                            int *cols, int *header, bp_error *err);
#endif
