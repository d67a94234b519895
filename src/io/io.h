/*
 * io.h — files (src/io/): the model and gradient files (safetensors), CSV,
 * FANN and IDX data, and plots. The top of the library: it may call
 * anything below, and nothing below calls it. Not installed.
 */
#ifndef BP_IO_H
#define BP_IO_H

#include "train/train.h"

/* csv.c: the strict CSV reader behind bp_csv_read. header_mode says
 * whether line 1 may be a header (detected: a field that is not a number)
 * or must be one; *header says whether it was. Data rows are then lines
 * header+1 .. header+rows. sep is ',' ';' or '\t', or 0 to detect it from
 * the first line. */
enum { BP_CSV_HEADER_NO, BP_CSV_HEADER_DETECT, BP_CSV_HEADER_YES };
bp_status bp_csv_read_table(const char *path, int header_mode, char sep, float **data,
                            int *rows, int *cols, int *header, bp_error *err);
/* safetensors.c (reader) and safetensors_write.c: tensor (l, kind) of the
 * model file, its name, where it starts in the parameter buffer, its floats. */
enum { T_WEIGHT = 0, T_BIAS = 1 };
static inline void tensor_name(char *buf, size_t n, int l, int kind)
{
    snprintf(buf, n, "layers.%d.%s", l, kind == T_WEIGHT ? "weight" : "bias");
}

/* Where tensor (l, kind) starts in the parameter buffer, and its floats. */
static inline size_t tensor_offset(const bp_net *net, int l, int kind)
{
    return kind == T_WEIGHT ? bp_net_weight_offset(net, l) : bp_net_bias_offset(net, l);
}

static inline size_t tensor_count(const bp_net *net, int l, int kind)
{
    size_t out = (size_t)bp_net_size(net, l + 1);
    return kind == T_WEIGHT ? out * (size_t)bp_net_size(net, l) : out;
}

/* safetensors_write.c: the model's widths "784,256,10" and activations
 * "relu,softmax" as the metadata of its files has them (the model file's,
 * the ONNX file's). */
#define BP_SIZES_CHARS ((BP_MAX_LAYERS + 1) * 12)
#define BP_ACTS_CHARS (BP_MAX_LAYERS * 16)
void model_lists(const bp_net *net, char sizes[BP_SIZES_CHARS], char acts[BP_ACTS_CHARS]);

#endif
