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
/* csv.c: the same reader with words and missing values allowed in every
 * column (the data sets' CSV: tabular.c). A missing value (an empty field,
 * NA, NaN, ?) is NaN in data and counted; otherwise each column holds
 * numbers, or words in every row: a word is the row's index into the
 * column's words, which list its distinct words (at most max_words, each
 * a valid name: bp_name_problem) in order of first appearance. A header
 * is detected as a line of words only, or as line 1 when line 2 has a
 * number under one of its words. */
typedef struct {
    char **word;     /* [n] */
    long long *line; /* [n] the line of each word's first row */
    int n, cap;
} bp_csv_words;
enum { BP_COL_NONE = 0 /* only missing values */, BP_COL_NUMBERS, BP_COL_WORDS };
typedef struct {
    int cols;
    char **names;        /* [cols] the header's fields, unquoted; NULL without one */
    int *kind;           /* [cols] BP_COL_*                                         */
    bp_csv_words *words; /* [cols]                                                   */
    long missing;        /* missing values                                           */
} bp_csv_text;
bp_status bp_csv_read_text(const char *path, int header_mode, char sep, int max_words,
                           float **data, int *rows, int *cols, int *header, bp_csv_text *text,
                           bp_error *err);
/* Frees what the reader left in t, also after a failure. */
void bp_csv_text_free(bp_csv_text *t);
void bp_csv_words_free(bp_csv_words *w);
/* encoding.c: a CSV's columns as a network's inputs (the model file's
 * "columns"): made by tabular.c from the training file. */
typedef struct {
    char *name;  /* the header's name, or NULL                        */
    int index;   /* the column in the training file, 0-based          */
    int n_cat;   /* categories (one input each); 0: one numeric input */
    char **cats; /* [n_cat] sorted (bp_names_copy: one allocation)    */
    int has_fill;
    double fill; /* a missing number's value (--missing mean)         */
} bp_enc_col;
typedef struct {
    int n_cols;         /* columns of the training file         */
    int fill;           /* 1: --missing mean                     */
    int n_in, n_target;
    bp_enc_col *in;     /* [n_in] the input columns, in order    */
    bp_enc_col *target; /* [n_target]                            */
} bp_enc;
void bp_enc_free(bp_enc *e);
int bp_enc_width(const bp_enc *e); /* the inputs it makes: N(0) */
char *bp_enc_json(const bp_enc *e); /* cJSON_free'd; NULL when out of memory */
/* Strict: BP_ERR_FORMAT with the reason in why unless json is an encoding
 * of exactly n_in inputs. */
bp_status bp_enc_parse(const char *json, int n_in, bp_enc *e, char *why, size_t cap);
/* The same check, keeping a copy of json in *copy (free) when it passes. */
bp_status bp_enc_check(const char *json, int n_in, char **copy, char *why, size_t cap);
/* fills.c: --missing mean: each numeric input of e gets as its fill its
 * mean over the examples m of ds with use[m] (use NULL: all of them) that
 * have a value, written into e and into ds's missing values (ds->missing). */
bp_status bp_fills_apply(bp_dataset *ds, bp_enc *e, const uint8_t *use);

/* model_classes.c: a class column's words w become ds's classes: in sorted
 * order, or (known [k], a model's) the index of their name there, an
 * unknown one refused naming its line. */
bp_status bp_name_classes(bp_dataset *ds, const char *path, const bp_csv_words *w,
                          const char *const *known, int k, bp_error *err);

/* data_files.c: a loader's end: one-hot targets get their labels, and the
 * data set is handed over to *out, or freed on any failure. */
bp_status bp_dataset_finish(bp_dataset *ds, bp_status s, const char *path, bp_dataset **out,
                            bp_error *err);

/* csv_words.c: the table that finds a word's index in out. */
typedef struct {
    bp_csv_words *out;
    int *slot;      /* [n_slots] index + 1 of a word, or 0 */
    size_t n_slots; /* a power of 2 */
} bp_csv_dict;
/* The index of the word [b, b+n) in d->out, added if new (line: its row);
 * -1 when out of memory. */
int bp_csv_dict_find(bp_csv_dict *d, const char *b, size_t n, long long line);

/* model_classes.c: the model file's "classes" value: a JSON array of the
 * network's N(L) names as a cJSON string item (NULL when out of memory);
 * and back, into a checked copy *names [k] (bp_names_copy: free(*names)),
 * or BP_ERR_FORMAT (BP_ERR_NOMEM) with the reason in why [cap]. */
struct cJSON *bp_classes_json(const bp_net *net);
bp_status bp_classes_parse(const char *s, int k, char ***names, char *why, size_t cap);

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
