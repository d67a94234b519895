/*
 * model_classes.c — class names: the model file's "classes" metadata
 * (docs/formats.md), SPEC's JSON array of strings in class-index order,
 * held in a string because safetensors' metadata holds strings only; and
 * a data set's names, from a CSV class column of words (tabular.c).
 * The names' own rules (UTF-8, no control characters, distinct, at most
 * BP_CLASS_NAME_MAX bytes) are bp_names_copy's.
 */
#include "io/io.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

cJSON *bp_classes_json(const bp_net *net)
{
    int k = bp_net_size(net, bp_net_n_layers(net));
    cJSON *a = cJSON_CreateArray();
    for (int j = 0; a && j < k; j++) {
        cJSON *item = cJSON_CreateString(bp_net_class(net, j));
        if (!item || !cJSON_AddItemToArray(a, item)) {
            cJSON_Delete(item);
            cJSON_Delete(a);
            return NULL;
        }
    }
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    cJSON *item = text ? cJSON_CreateString(text) : NULL;
    cJSON_free(text);
    return item;
}

/* The values of the array's text before parsing it, so that a file cannot
 * make cJSON spend memory on a million of them (about 64 bytes each); and
 * \u0000, which would cut a name short where cJSON decodes it. */
static bool scan(const char *s, int k, char *why, size_t cap)
{
    bool in_str = false;
    long values = 1;
    for (const char *p = s; *p; p++) {
        if (in_str && p[0] == '\\' && p[1]) {
            if (strncmp(p + 1, "u0000", 5) == 0) {
                snprintf(why, cap, "\\u0000 in a name");
                return false;
            }
            p++;
        } else if (*p == '"') {
            in_str = !in_str;
        } else if (!in_str && *p == ',' && ++values > k) {
            snprintf(why, cap, "more than %d names for %d outputs", k, k);
            return false;
        }
    }
    return true;
}

bp_status bp_classes_parse(const char *s, int k, char ***names, char *why, size_t cap)
{
    const char *end = NULL;
    size_t n = strlen(s);
    *names = NULL;
    if (!scan(s, k, why, cap))
        return BP_ERR_FORMAT;
    errno = 0;
    cJSON *a = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!a && errno == ENOMEM) {
        snprintf(why, cap, "out of memory");
        return BP_ERR_NOMEM;
    }
    while (a && end < s + n && strchr(" \t\n\r", *end))
        end++;
    int count = 0;
    bool ok = a && end == s + n && cJSON_IsArray(a);
    for (const cJSON *c = ok ? a->child : NULL; c; c = c->next, count++)
        ok = ok && cJSON_IsString(c);
    const char **v = ok && count == k ? malloc((size_t)k * sizeof *v) : NULL;
    bp_status st = BP_ERR_FORMAT;
    if (!ok)
        snprintf(why, cap, "expected a JSON array of strings");
    else if (count != k)
        snprintf(why, cap, "%d names for %d outputs", count, k);
    else if (!v)
        st = BP_ERR_NOMEM, snprintf(why, cap, "out of memory");
    else {
        int j = 0;
        for (const cJSON *c = a->child; c; c = c->next)
            v[j++] = c->valuestring;
        st = bp_names_copy("classes", k, v, names);
        if (st == BP_ERR_ARG) /* a bad name is the file's fault */
            st = BP_ERR_FORMAT;
        if (st != BP_OK) {
            const char *msg = bp_last_error(), *colon = strstr(msg, ": ");
            snprintf(why, cap, "%s", colon ? colon + 2 : msg);
        }
    }
    free(v);
    cJSON_Delete(a);
    return st;
}

/* ------------------------------------------------------------------------ */
/* A data set's classes                                                      */
/* ------------------------------------------------------------------------ */

/* A name and its index, sorted by name. */
typedef struct {
    const char *name;
    int i;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

bp_status bp_name_classes(bp_dataset *ds, const char *path, const bp_csv_words *w,
                              const char *const *known, int k, bp_error *err)
{
    if (!known && w->n < 2)
        return bp_fail(err, BP_ERR_FORMAT, "%s: the class column holds one class, \"%s\": a "
                       "classification needs at least 2", path, w->word[0]);
    int n = known ? k : w->n;
    if (n < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: no classes", path);
    bp_status s = BP_OK;
    int *map = malloc((size_t)w->n * sizeof *map);
    named *sorted = malloc((size_t)n * sizeof *sorted);
    const char **names = malloc((size_t)n * sizeof *names);
    if (!map || !sorted || !names) {
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %d class names", path, n);
        goto done;
    }
    for (int i = 0; i < n; i++)
        sorted[i] = (named){known ? known[i] : w->word[i], i};
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_named);
    for (int i = 0; i < w->n && s == BP_OK; i++) {
        named key = {w->word[i], 0};
        const named *hit = known ? bsearch(&key, sorted, (size_t)k, sizeof *sorted, cmp_named)
                                 : NULL;
        char q[160];
        if (known && !hit)
            s = bp_fail(err, BP_ERR_FORMAT, "%s:%lld: class \"%s\" is not one of the model's "
                        "%d classes", path, w->line[i], bp_quote(q, sizeof q, key.name,
                        strlen(key.name)), k);
        else if (known)
            map[i] = hit->i;
    }
    for (int j = 0; j < n; j++) {
        names[j] = known ? known[j] : sorted[j].name;
        if (!known)
            map[sorted[j].i] = j;
    }
    if (s == BP_OK) {
        for (int r = 0; r < ds->n; r++)
            ds->labels[r] = map[ds->labels[r]];
        ds->n_out = n;
        s = bp_names_copy(path, n, names, &ds->classes);
        if (s != BP_OK)
            bp_fail(err, s, "%s", bp_last_error());
    }
done:
    free(map);
    free(sorted);
    free(names);
    return s;
}

bp_status bp_dataset_set_classes(bp_dataset *ds, int k, const char *const *names)
{
    BP_NEED(ds, NULL);
    if (k == 0 && !names) {
        free(ds->classes);
        ds->classes = NULL;
        return BP_OK;
    }
    if (!ds->has_labels || k != ds->n_out)
        return bp_fail(NULL, BP_ERR_ARG, "%s: %d names for a data set of %d %s (0 removes them)",
                       __func__, k, ds->n_out, ds->has_labels ? "classes" : "targets");
    char **copy;
    bp_status s = bp_names_copy(__func__, k, names, &copy);
    if (s == BP_OK) {
        free(ds->classes);
        ds->classes = copy;
    }
    return s;
}

const char *bp_dataset_class(const bp_dataset *ds, int j)
{
    if (!ds)
        return bp_arg_null(NULL, __func__, "ds"), NULL;
    return ds->classes && j >= 0 && j < ds->n_out ? ds->classes[j] : NULL;
}

const char *bp_dataset_warning(const bp_dataset *ds)
{
    return ds ? ds->warning : NULL;
}
