/*
 * encoding.c — how a CSV's columns become a network's inputs, as the model
 * file keeps it (its "columns" metadata, docs/formats.md): the input
 * columns by name and position, a categorical column's categories (one
 * input each, in sorted order), a numeric column's fill for a missing
 * value, and the target columns. tabular.c makes and applies it; this file
 * writes and reads its JSON, strictly. The engine never sees it.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void bp_enc_free(bp_enc *e)
{
    for (int i = 0; e && i < e->n_in + e->n_target; i++) {
        bp_enc_col *c = i < e->n_in ? &e->in[i] : &e->target[i - e->n_in];
        free(c->name);
        free(c->cats);
    }
    if (e) {
        free(e->in);
        free(e->target);
        *e = (bp_enc){0};
    }
}

int bp_enc_width(const bp_enc *e)
{
    long w = 0;
    for (int i = 0; i < e->n_in; i++)
        w += e->in[i].n_cat ? e->in[i].n_cat : 1;
    return w > BP_MAX_WIDTH ? BP_MAX_WIDTH + 1 : (int)w;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* Adds item under key; owns item even when it fails (cJSON does not). */
static int put(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

static cJSON *col_json(const bp_enc_col *c, int input)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && put(o, "name", c->name ? cJSON_CreateString(c->name) : cJSON_CreateNull()) &&
             cJSON_AddNumberToObject(o, "index", c->index);
    if (ok && input && c->n_cat)
        ok = put(o, "categories", cJSON_CreateStringArray((const char *const *)c->cats, c->n_cat));
    else if (ok && input && c->has_fill)
        ok = cJSON_AddNumberToObject(o, "fill", c->fill) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *bp_enc_json(const bp_enc *e)
{
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddNumberToObject(root, "columns", e->n_cols) &&
             cJSON_AddStringToObject(root, "missing", e->fill ? "mean" : "error") &&
             put(root, "inputs", cJSON_CreateArray()) && put(root, "targets", cJSON_CreateArray());
    cJSON *in = ok ? cJSON_GetObjectItemCaseSensitive(root, "inputs") : NULL;
    cJSON *t = ok ? cJSON_GetObjectItemCaseSensitive(root, "targets") : NULL;
    for (int i = 0; ok && i < e->n_in + e->n_target; i++) {
        cJSON *c = i < e->n_in ? col_json(&e->in[i], 1) : col_json(&e->target[i - e->n_in], 0);
        ok = c && cJSON_AddItemToArray(i < e->n_in ? in : t, c);
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return json;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

/* {"name": string|null, "index": 0..n_cols-1, and for an input either
 * "categories" (distinct valid names) or "fill" (finite) or neither}. */
static int read_col(const cJSON *o, int n_cols, int input, bp_enc_col *c, char *why, size_t cap)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(o, "index");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(o, "categories");
    const cJSON *fill = cJSON_GetObjectItemCaseSensitive(o, "fill");
    if (!cJSON_IsObject(o) || !(cJSON_IsNull(name) || cJSON_IsString(name)) ||
        !cJSON_IsNumber(index) || index->valuedouble != (double)(int)index->valuedouble ||
        index->valueint < 0 || index->valueint >= n_cols || (cats && fill) ||
        (!input && (cats || fill)) || (fill && (!cJSON_IsNumber(fill) || !isfinite(fill->valuedouble))) ||
        (cats && (!cJSON_IsArray(cats) || cJSON_GetArraySize(cats) < 1))) {
        snprintf(why, cap, "a column is not {\"name\", \"index\" in 0..%d, \"categories\" or "
                 "\"fill\"}", n_cols - 1);
        return 0;
    }
    c->index = index->valueint;
    if (cJSON_IsString(name) && !(c->name = strdup(name->valuestring))) {
        snprintf(why, cap, "out of memory");
        return 0;
    }
    if (fill)
        c->has_fill = 1, c->fill = fill->valuedouble;
    if (!cats)
        return 1;
    int k = cJSON_GetArraySize(cats), j = 0;
    const char **v = malloc((size_t)k * sizeof *v);
    for (const cJSON *x = cats->child; v && x; x = x->next)
        v[j++] = cJSON_IsString(x) ? x->valuestring : NULL;
    int ok = v && bp_names_copy("categories", k, v, &c->cats) == BP_OK;
    for (int i = 1; ok && i < k; i++) /* sorted, as they were made */
        ok = strcmp(c->cats[i - 1], c->cats[i]) < 0;
    free(v);
    if (!ok) {
        snprintf(why, cap, "column %d's categories are not distinct names in sorted order",
                 c->index);
        return 0;
    }
    c->n_cat = k;
    return 1;
}

bp_status bp_enc_parse(const char *json, int n_in, bp_enc *e, char *why, size_t cap)
{
    *e = (bp_enc){0};
    /* bounded before cJSON spends ~64 bytes a value: an input takes one
     * category or a handful of values */
    long values = 0;
    for (const char *p = json; *p; p++)
        values += *p == ',' || *p == ':';
    if (values > 8L * n_in + 64) {
        snprintf(why, cap, "more values than %d inputs need", n_in);
        return BP_ERR_FORMAT;
    }
    cJSON *root = cJSON_Parse(json);
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "columns");
    const cJSON *miss = cJSON_GetObjectItemCaseSensitive(root, "missing");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "targets");
    int ok = cJSON_IsObject(root) && cJSON_IsNumber(cols) && cols->valuedouble >= 1 &&
             cols->valuedouble <= (double)BP_MAX_WIDTH && cJSON_IsString(miss) &&
             (!strcmp(miss->valuestring, "mean") || !strcmp(miss->valuestring, "error")) &&
             cJSON_IsArray(in) && cJSON_GetArraySize(in) >= 1 && cJSON_IsArray(t);
    if (!ok)
        snprintf(why, cap, "expected {\"columns\", \"missing\": mean|error, \"inputs\", "
                 "\"targets\"}");
    if (ok) {
        e->n_cols = cols->valueint;
        e->fill = strcmp(miss->valuestring, "mean") == 0;
        e->in = calloc((size_t)cJSON_GetArraySize(in), sizeof *e->in);
        e->target = calloc((size_t)cJSON_GetArraySize(t) + 1, sizeof *e->target);
        ok = e->in && e->target;
        if (!ok)
            snprintf(why, cap, "out of memory");
    }
    for (const cJSON *c = ok ? in->child : NULL; ok && c; c = c->next)
        ok = read_col(c, e->n_cols, 1, &e->in[e->n_in++], why, cap);
    for (const cJSON *c = ok ? t->child : NULL; ok && c; c = c->next)
        ok = read_col(c, e->n_cols, 0, &e->target[e->n_target++], why, cap);
    if (ok && bp_enc_width(e) != n_in) {
        snprintf(why, cap, "the columns make %d inputs, the network takes %d", bp_enc_width(e),
                 n_in);
        ok = 0;
    }
    cJSON_Delete(root);
    if (!ok)
        bp_enc_free(e);
    return ok ? BP_OK : BP_ERR_FORMAT;
}

bp_status bp_enc_check(const char *json, int n_in, char **copy, char *why, size_t cap)
{
    bp_enc e;
    bp_status s = bp_enc_parse(json, n_in, &e, why, cap);
    if (s != BP_OK)
        return s;
    bp_enc_free(&e);
    if (!(*copy = strdup(json))) {
        snprintf(why, cap, "out of memory");
        return BP_ERR_NOMEM;
    }
    return BP_OK;
}
