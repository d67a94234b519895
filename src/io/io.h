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
/* csv.c: the same reader with words allowed in column text_col (0-based,
 * -1 the last: the class column). That column holds numbers, as the rest,
 * or words, each a valid class name (bp_name_problem), in every row; for
 * words, data holds each row's index into words->word [words->n], which
 * lists the distinct words in order of first appearance, with the line
 * of each one's first (words->n is 0 for a column of numbers). The caller
 * frees words with bp_csv_words_free, also after a failure. */
typedef struct {
    char **word;     /* [n] */
    long long *line; /* [n] the line of each word's first row */
    int n, cap;
} bp_csv_words;
bp_status bp_csv_read_words(const char *path, int header_mode, char sep, int text_col,
                            float **data, int *rows, int *cols, int *header, bp_csv_words *words,
                            bp_error *err);
void bp_csv_words_free(bp_csv_words *w);
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

#endif
