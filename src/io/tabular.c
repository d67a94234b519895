/*
 * tabular.c — a CSV as people have it, made a data set: the target
 * columns by name or index, columns dropped, a class column of words (its
 * names in sorted order), categorical inputs one-hot encoded (one input
 * per category, sorted), missing values refused, dropped or filled with the
 * column's mean; and the same file read as a model was trained
 * (bp_csv_options.model): its columns by name, its categories, its fills.
 * The encoding goes into the data set (ds->columns) and from there into
 * the model (bp_net_set_encoding). csv.c reads the text; encoding.c keeps
 * the encoding's JSON.
 *
 * Deliberately not: guessing. A column of numbers and words, an unknown
 * column name, a category limit passed, a missing value under
 * BP_MISSING_ERROR are each refused with one line.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Everything a load holds, freed in one place. */
typedef struct {
    const char *path;
    const bp_csv_options *o;
    bp_error *err;
    float *v;           /* [rows, cols] as csv.c read it */
    int rows, cols, header;
    bp_csv_text t;
    bp_enc enc;         /* the model's, or the one made here */
    int *role;          /* [cols] ROLE_* */
    int *map;           /* [enc.n_in] the file column of each input */
    int *tmap;          /* [enc.n_target] the file column of each target (-1: absent) */
    int **cat_of;       /* [enc.n_in] per input: word index -> category, or NULL */
} load;

enum { ROLE_INPUT, ROLE_TARGET, ROLE_DROP };

static void load_free(load *L)
{
    free(L->v);
    for (int i = 0; L->cat_of && i < L->enc.n_in; i++)
        free(L->cat_of[i]);
    free(L->cat_of);
    free(L->role);
    free(L->map);
    free(L->tmap);
    bp_csv_text_free(&L->t);
    bp_enc_free(&L->enc);
}

/* The column a name or index of a list means: a header name first, then an
 * integer (0 first, −1 the last); -1 and a message if none. */
static int find_column(load *L, const char *item, const char *what)
{
    for (int c = 0; L->t.names && c < L->cols; c++)
        if (strcmp(L->t.names[c], item) == 0)
            return c;
    char *end;
    long i = strtol(item, &end, 10);
    if (*item && !*end && i >= -L->cols && i < L->cols)
        return i < 0 ? (int)(L->cols + i) : (int)i;
    bp_fail(L->err, BP_ERR_ARG, "%s: %s \"%.80s\": no such column (%d columns%s)", L->path, what,
            item, L->cols, L->t.names ? ", by header name or index" : ", no header: by index");
    return -1;
}

/* Marks the columns of list ("a,b,-1") with role; counts them. */
static bp_status mark(load *L, const char *list, int role, const char *what, int *count)
{
    char *copy = strdup(list), *p = copy, *item;
    if (!copy)
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    bp_status s = BP_OK;
    for (; s == BP_OK && p; p = item ? item + 1 : NULL) {
        item = strchr(p, ',');
        if (item)
            *item = '\0';
        const char *name = p;
        int c = find_column(L, name, what);
        if (c < 0)
            s = BP_ERR_ARG;
        else if (L->role[c] != ROLE_INPUT)
            s = bp_fail(L->err, BP_ERR_ARG, "%s: %s \"%.80s\": column %d is named twice", L->path,
                        what, name, c);
        else
            L->role[c] = role, ++*count;
    }
    free(copy);
    return s;
}

static const char *col_name(const load *L, int c, char *buf, size_t cap)
{
    if (L->t.names)
        return L->t.names[c];
    snprintf(buf, cap, "%d", c);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* The columns: from the options (training) or from a model                  */
/* ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Training: targets and drops from the options, the rest are inputs, each
 * numeric or categorical as the file has it. */
static bp_status columns_from_options(load *L)
{
    const bp_csv_options *o = L->o;
    int nt = 0, nd = 0;
    char nb[16];
    bp_status s = BP_OK;
    if (o->target)
        s = mark(L, o->target, ROLE_TARGET, "--target", &nt);
    else
        for (int c = L->cols - (o->target_cols ? o->target_cols : 1); c < L->cols; c++)
            if (c >= 0)
                L->role[c] = ROLE_TARGET, nt++;
    if (s == BP_OK && o->drop)
        s = mark(L, o->drop, ROLE_DROP, "--drop", &nd);
    if (s != BP_OK)
        return s;
    if (o->target && o->target_cols > 1 && o->target_cols != nt)
        return bp_fail(L->err, BP_ERR_ARG, "%s: --target names %d columns, --target-cols says %d",
                       L->path, nt, o->target_cols);
    if (L->cols - nt - nd < 1)
        return bp_fail(L->err, BP_ERR_FORMAT, "%s:%d: %d columns: need at least 1 feature and %d "
                       "%s", L->path, L->header + 1, L->cols, nt,
                       nt > 1 || o->target_cols ? "target columns" : "label column");
    bp_enc *e = &L->enc;
    e->n_cols = L->cols, e->fill = o->missing == BP_MISSING_MEAN;
    e->in = calloc((size_t)L->cols, sizeof *e->in);
    e->target = calloc((size_t)L->cols, sizeof *e->target);
    if (!e->in || !e->target)
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    for (int c = 0; c < L->cols; c++) {
        if (L->role[c] == ROLE_DROP)
            continue;
        bp_enc_col *ec = L->role[c] == ROLE_INPUT ? &e->in[e->n_in++] : &e->target[e->n_target++];
        ec->index = c;
        if (L->t.names && !(ec->name = strdup(L->t.names[c])))
            return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
        if (L->role[c] != ROLE_INPUT)
            continue;
        if (L->t.kind[c] == BP_COL_NONE)
            return bp_fail(L->err, BP_ERR_FORMAT, "%s: column \"%s\" holds no value, only missing "
                           "ones", L->path, col_name(L, c, nb, sizeof nb));
        if (L->t.kind[c] == BP_COL_WORDS) {
            const bp_csv_words *w = &L->t.words[c];
            char **sorted = malloc((size_t)w->n * sizeof *sorted);
            if (!sorted)
                return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
            memcpy(sorted, w->word, (size_t)w->n * sizeof *sorted);
            qsort(sorted, (size_t)w->n, sizeof *sorted, cmp_str);
            s = bp_names_copy(L->path, w->n, (const char *const *)sorted, &ec->cats);
            free(sorted);
            if (s != BP_OK)
                return bp_fail(L->err, s, "%s", bp_last_error());
            ec->n_cat = w->n;
        }
    }
    if (bp_enc_width(e) > BP_MAX_WIDTH)
        return bp_fail(L->err, BP_ERR_FORMAT, "%s: the columns make more than %d inputs", L->path,
                       BP_MAX_WIDTH);
    return BP_OK;
}

/* A file read as the model was trained: inputs by header name where both
 * have names, else by position (the training file's columns, or the inputs
 * alone, in order); targets likewise, absent for predict. */
static bp_status columns_from_model(load *L, const char *json)
{
    char why[300];
    const bp_net *net = L->o->model;
    if (bp_enc_parse(json, bp_net_size(net, 0), &L->enc, why, sizeof why) != BP_OK)
        return bp_fail(L->err, BP_ERR_FORMAT, "the model's columns: %s", why);
    bp_enc *e = &L->enc;
    int by_name = L->t.names && e->in[0].name, inputs_only = !by_name && L->cols == e->n_in;
    if (!by_name && !inputs_only && L->cols != e->n_cols)
        return bp_fail(L->err, BP_ERR_FORMAT, "%s: %d columns, but the model was trained on %d "
                       "(%d inputs): give a header, or the same columns", L->path, L->cols,
                       e->n_cols, e->n_in);
    for (int i = 0; i < e->n_in + e->n_target; i++) {
        int is_in = i < e->n_in;
        const bp_enc_col *ec = is_in ? &e->in[i] : &e->target[i - e->n_in];
        int c = -1;
        if (by_name) {
            for (int k = 0; k < L->cols && c < 0; k++)
                if (strcmp(L->t.names[k], ec->name ? ec->name : "") == 0)
                    c = k;
        } else if (inputs_only)
            c = is_in ? i : -1;
        else
            c = ec->index;
        if (c < 0 && is_in)
            return bp_fail(L->err, BP_ERR_FORMAT, "%s: no column \"%s\", an input of the model",
                           L->path, ec->name ? ec->name : "?");
        (is_in ? L->map : L->tmap)[is_in ? i : i - e->n_in] = c;
        if (c < 0)
            continue;
        L->role[c] = is_in ? ROLE_INPUT : ROLE_TARGET;
        int kind = L->t.kind[c];
        if (is_in && ((ec->n_cat && kind == BP_COL_NUMBERS) || (!ec->n_cat && kind == BP_COL_WORDS)))
            return bp_fail(L->err, BP_ERR_FORMAT, "%s: column \"%s\" holds %s, but the model "
                           "takes it as %s", L->path, ec->name ? ec->name : "?",
                           kind == BP_COL_WORDS ? "words" : "numbers",
                           ec->n_cat ? "categories" : "numbers");
    }
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Rows: missing values, categories, the data set                            */
/* ------------------------------------------------------------------------ */

/* Per categorical input, each of the file's words as its category in the
 * encoding (-1: one the encoding does not know). */
static bp_status category_maps(load *L)
{
    if (!(L->cat_of = calloc((size_t)L->enc.n_in, sizeof *L->cat_of)))
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    for (int i = 0; i < L->enc.n_in; i++) {
        const bp_enc_col *ec = &L->enc.in[i];
        const bp_csv_words *w = &L->t.words[L->map[i]];
        if (!ec->n_cat || !w->n)
            continue;
        if (!(L->cat_of[i] = malloc((size_t)w->n * sizeof **L->cat_of)))
            return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
        for (int k = 0; k < w->n; k++) {
            char **hit = bsearch(&w->word[k], ec->cats, (size_t)ec->n_cat, sizeof *ec->cats,
                                 cmp_str);
            L->cat_of[i][k] = hit ? (int)(hit - ec->cats) : -1;
        }
    }
    return BP_OK;
}

static float at(const load *L, int r, int c) { return L->v[(size_t)r * (size_t)L->cols + (size_t)c]; }

/* Which rows stay (keep [rows]); a missing value as the policy says:
 * refused (with the count and the first named), its row dropped, or (fill)
 * kept for the encoding's fill. A missing target is never filled. */
static bp_status missing_rows(load *L, int fill, int drop, char *keep, int *n_keep)
{
    long bad = 0;
    int first_r = -1, first_c = -1, target_missing = 0;
    char nb[16];
    for (int r = 0; r < L->rows; r++) {
        int miss = -1, tmiss = 0;
        for (int i = 0; i < L->enc.n_in && miss < 0; i++)
            if (isnan(at(L, r, L->map[i])))
                miss = L->map[i];
        for (int i = 0; i < L->enc.n_target && !tmiss; i++)
            if (L->tmap[i] >= 0 && isnan(at(L, r, L->tmap[i])))
                tmiss = 1, miss = miss < 0 ? L->tmap[i] : miss;
        keep[r] = !((tmiss || (miss >= 0 && !fill)) && drop);
        if ((tmiss || (miss >= 0 && !fill)) && !drop && bad++ == 0)
            first_r = r, first_c = miss, target_missing = tmiss;
    }
    if (bad)
        return bp_fail(L->err, BP_ERR_FORMAT, "%s:%d:%d: a missing value (empty, NA, NaN or ?) in "
                       "column \"%s\"; %ld rows have one: %s", L->path, L->header + 1 + first_r,
                       first_c + 1, col_name(L, first_c, nb, sizeof nb), bad,
                       target_missing && fill ? "a missing target is never filled; --missing drop "
                                                "leaves such rows out"
                       : L->o->model ? "the model was not trained with --missing mean"
                                     : "choose --missing drop or mean");
    *n_keep = 0;
    for (int r = 0; r < L->rows; r++)
        *n_keep += keep[r];
    if (!*n_keep)
        return bp_fail(L->err, BP_ERR_FORMAT, "%s: every row has a missing value", L->path);
    return BP_OK;
}

/* The kept rows encoded: numbers (a model's fill for a missing one; a
 * fill to be made, fills.c, has its position kept), one-hot categories
 * (all zero for a missing or unknown one, the latter counted for the
 * warning). */
static bp_status encode_inputs(load *L, bp_dataset *ds, const char *keep, int trained)
{
    size_t W = (size_t)bp_enc_width(&L->enc);
    ds->n_in = (int)W;
    ds->x_f32 = calloc((size_t)ds->n * W, sizeof *ds->x_f32);
    ds->onehot = calloc(W, 1);
    if (!trained && L->enc.fill && L->t.missing)
        ds->missing = malloc((size_t)L->t.missing * sizeof *ds->missing);
    if (!ds->x_f32 || !ds->onehot || (!trained && L->enc.fill && L->t.missing && !ds->missing))
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory for %d examples", L->path, ds->n);
    long unknown = 0;
    int unknown_col = -1, unknown_r = 0;
    for (int r = 0, n = 0; r < L->rows; r++) {
        if (!keep[r])
            continue;
        float *x = ds->x_f32 + (size_t)n++ * W;
        for (int i = 0, j = 0; i < L->enc.n_in; i++) {
            const bp_enc_col *ec = &L->enc.in[i];
            float v = at(L, r, L->map[i]);
            if (!ec->n_cat) {
                if (isnan(v) && ds->missing)
                    ds->missing[ds->n_missing++] = (int64_t)(x - ds->x_f32) + j;
                x[j++] = isnan(v) && trained ? (float)ec->fill : v;
                continue;
            }
            int k = isnan(v) || !L->cat_of[i] ? -1 : L->cat_of[i][(int)v];
            if (k >= 0)
                x[j + k] = 1.0f;
            else if (!isnan(v) && unknown++ == 0)
                unknown_col = i, unknown_r = r;
            memset(ds->onehot + j, 1, (size_t)ec->n_cat);
            j += ec->n_cat;
        }
    }
    if (unknown) {
        char q[160], nb[16];
        const char *word = L->t.words[L->map[unknown_col]]
                               .word[(int)at(L, unknown_r, L->map[unknown_col])];
        char line[700];
        snprintf(line, sizeof line, "%s:%d: column \"%s\": \"%s\" is a category the model does "
                 "not know (%ld values like it): encoded as all zeros", L->path,
                 L->header + 1 + unknown_r, col_name(L, L->map[unknown_col], nb, sizeof nb),
                 bp_quote(q, sizeof q, word, strlen(word)), unknown);
        ds->warning = strdup(line); /* out of memory: no warning */
    }
    return BP_OK;
}

/* The targets of the kept rows: a class column (numbers are labels, words
 * classes by name), or regression targets (numbers only). */
static bp_status encode_targets(load *L, bp_dataset *ds, const char *keep)
{
    char nb[16], q[160];
    int nt = L->enc.n_target, c0 = nt ? L->tmap[0] : -1;
    ds->has_labels = nt == 1 && L->o->target_cols == 0;
    if (c0 < 0) { /* a file without its target: inputs for predict */
        ds->has_labels = 1;
        ds->labels = calloc((size_t)ds->n, sizeof *ds->labels);
        return ds->labels ? BP_OK : bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    }
    for (int i = 0; i < nt && !ds->has_labels; i++)
        if (L->tmap[i] >= 0 && L->t.kind[L->tmap[i]] == BP_COL_WORDS) {
            const bp_csv_words *w = &L->t.words[L->tmap[i]];
            return bp_fail(L->err, BP_ERR_FORMAT, "%s:%lld: column \"%s\": \"%s\" is a word, but "
                           "a regression target is a number", L->path, w->line[0],
                           col_name(L, L->tmap[i], nb, sizeof nb),
                           bp_quote(q, sizeof q, w->word[0], strlen(w->word[0])));
        } else if (L->tmap[i] < 0)
            return bp_fail(L->err, BP_ERR_FORMAT, "%s: no target column \"%s\"", L->path,
                           L->enc.target[i].name ? L->enc.target[i].name : "?");
    ds->n_out = ds->has_labels ? 0 : nt;
    if (ds->has_labels)
        ds->labels = malloc((size_t)ds->n * sizeof *ds->labels);
    else
        ds->targets = malloc((size_t)ds->n * (size_t)nt * sizeof *ds->targets);
    if (ds->has_labels ? !ds->labels : !ds->targets)
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory for %d examples", L->path, ds->n);
    int words = ds->has_labels && L->t.kind[c0] == BP_COL_WORDS;
    for (int r = 0, n = 0; r < L->rows; r++) {
        if (!keep[r])
            continue;
        if (!ds->has_labels) {
            for (int i = 0; i < nt; i++)
                ds->targets[(size_t)n * (size_t)nt + (size_t)i] = at(L, r, L->tmap[i]);
            n++;
            continue;
        }
        /* a class label is an integer value ("3" and "3.0" both read as 3);
         * it becomes an output width, hence the upper bound */
        float c = at(L, r, c0);
        if (!words && (c != floorf(c) || c < 0 || c >= (float)BP_MAX_WIDTH))
            return bp_fail(L->err, BP_ERR_FORMAT, "%s:%d:%d: class label must be an integer in "
                           "0..%d: \"%g\"", L->path, L->header + 1 + r, c0 + 1, BP_MAX_WIDTH - 1,
                           (double)c);
        ds->labels[n] = (int32_t)c;
        if (!words && ds->labels[n] >= ds->n_out)
            ds->n_out = ds->labels[n] + 1;
        n++;
    }
    /* a file whose labels are all 0 stays legal (n_out 1): a test file may
     * hold examples of one class only */
    if (!words)
        return BP_OK;
    const bp_net *m = L->o->model;
    int k = m && bp_net_class(m, 0) ? bp_net_size(m, bp_net_n_layers(m)) : L->o->n_classes;
    const char **known = k ? malloc((size_t)k * sizeof *known) : NULL;
    if (k && !known)
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    for (int j = 0; j < k; j++)
        known[j] = m && bp_net_class(m, 0) ? bp_net_class(m, j) : L->o->classes[j];
    bp_status s = bp_name_classes(ds, L->path, &L->t.words[c0], known, k, L->err);
    free(known);
    return s;
}

/* ------------------------------------------------------------------------ */
/* The loader and the encoding's way into a model                            */
/* ------------------------------------------------------------------------ */

static bp_status check_options(const char *path, const bp_csv_options *o, bp_error *err)
{
    if (o->size != sizeof *o)
        return bp_fail(err, BP_ERR_ARG, "%s: bp_dataset_load_csv_with: options of %zu bytes, "
                       "expected %zu: start from BP_CSV_OPTIONS_DEFAULT", path, o->size, sizeof *o);
    if (o->target_cols < 0 || o->target_cols > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_ARG, "%s: target_cols %d: expected 0 (a label) to %d", path,
                       o->target_cols, BP_MAX_WIDTH);
    if (o->delimiter && !strchr(",;\t", o->delimiter))
        return bp_fail(err, BP_ERR_ARG, "%s: delimiter 0x%02x: expected ',', ';', a tab or 0",
                       path, (unsigned char)o->delimiter);
    if (o->header < -1 || o->header > 1 || (!o->classes != !o->n_classes) || o->n_classes < 0 ||
        o->missing < BP_MISSING_ERROR || o->missing > BP_MISSING_MEAN || o->max_categories < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: header %d (expected -1, 0 or 1), %d classes with "
                       "%s names, missing %d or max_categories %d out of range", path, o->header,
                       o->n_classes, o->classes ? "" : "no", (int)o->missing, o->max_categories);
    return BP_OK;
}

static bp_status load_table(load *L, bp_dataset *ds)
{
    const bp_csv_options *o = L->o;
    int mode = o->header < 0 ? BP_CSV_HEADER_DETECT : o->header ? BP_CSV_HEADER_YES
                                                                 : BP_CSV_HEADER_NO;
    bp_status s = bp_csv_read_text(L->path, mode, o->delimiter, o->max_categories, &L->v, &L->rows,
                                   &L->cols, &L->header, &L->t, L->err);
    if (s != BP_OK)
        return s;
    L->role = calloc((size_t)L->cols, sizeof *L->role);
    L->map = calloc((size_t)L->cols + 1, sizeof *L->map);
    L->tmap = calloc((size_t)L->cols + 1, sizeof *L->tmap);
    if (!L->role || !L->map || !L->tmap)
        return bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    const char *json = o->model ? bp_net_columns(o->model) : NULL;
    int trained = json != NULL;
    if (!trained && o->model) /* a model of numbered columns: the file's last is the class */
        s = columns_from_options(L);
    else
        s = trained ? columns_from_model(L, json) : columns_from_options(L);
    for (int i = 0; s == BP_OK && !trained && i < L->enc.n_in; i++)
        L->map[i] = L->enc.in[i].index;
    for (int i = 0; s == BP_OK && !trained && i < L->enc.n_target; i++)
        L->tmap[i] = L->enc.target[i].index;
    if (s == BP_OK)
        s = category_maps(L);
    char *keep = s == BP_OK ? malloc((size_t)L->rows) : NULL;
    if (s == BP_OK && !keep)
        s = bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
    int fill = trained ? L->enc.fill : o->missing == BP_MISSING_MEAN;
    if (s == BP_OK)
        s = missing_rows(L, fill, o->missing == BP_MISSING_DROP, keep, &ds->n);
    if (s == BP_OK)
        s = encode_inputs(L, ds, keep, trained);
    if (s == BP_OK && fill && !trained) /* from every row; bp_dataset_fill_from: the training split's */
        s = bp_fills_apply(ds, &L->enc, NULL);
    if (s == BP_OK)
        s = encode_targets(L, ds, keep);
    free(keep);
    /* the encoding the model keeps: where names, categories, fills or
     * chosen columns make it more than "every column but the last" */
    int plain = !L->t.names && !fill && !o->target && !o->drop;
    for (int i = 0; plain && i < L->enc.n_in; i++)
        plain = !L->enc.in[i].n_cat;
    if (s == BP_OK && !trained && !o->model && !plain) {
        char *j = bp_enc_json(&L->enc);
        if (!j || !(ds->columns = strdup(j)))
            s = bp_fail(L->err, BP_ERR_NOMEM, "%s: out of memory", L->path);
        cJSON_free(j);
    }
    if (s == BP_OK && plain && !trained) {
        free(ds->onehot);
        ds->onehot = NULL;
    }
    return s;
}

bp_status bp_dataset_load_csv_with(const char *path, const bp_csv_options *o, bp_dataset **out,
                                   bp_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out || !o)
        return bp_arg_null(err, __func__, !path ? "path" : !out ? "out" : "o");
    bp_status s = check_options(path, o, err);
    if (s != BP_OK)
        return s;
    bp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    load L = {.path = path, .o = o, .err = err};
    s = load_table(&L, ds);
    load_free(&L);
    return bp_dataset_finish(ds, s, path, out, err);
}

bp_status bp_dataset_load_csv(const char *path, int target_cols, bp_dataset **out, bp_error *err)
{
    bp_csv_options o = BP_CSV_OPTIONS_DEFAULT;
    o.target_cols = target_cols;
    return bp_dataset_load_csv_with(path, &o, out, err);
}

bp_status bp_net_set_encoding(bp_net *net, const bp_dataset *ds)
{
    BP_NEED(net, NULL);
    BP_NEED(ds, NULL);
    char why[300];
    bp_enc e;
    if (ds->columns && bp_enc_parse(ds->columns, bp_net_size(net, 0), &e, why, sizeof why) != BP_OK)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: %s", __func__, why);
    if (ds->columns)
        bp_enc_free(&e);
    int k = bp_net_size(net, bp_net_n_layers(net));
    if (ds->classes && ds->n_out != k)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: %d named classes for %d outputs", __func__,
                       ds->n_out, k);
    bp_status s = bp_net_set_columns(net, ds->columns);
    if (s == BP_OK)
        s = bp_net_set_classes(net, ds->classes ? k : 0, (const char *const *)ds->classes);
    return s;
}
