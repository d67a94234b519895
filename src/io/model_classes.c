/*
 * model_classes.c — the model file's "classes" metadata (docs/formats.md):
 * the class names as SPEC has them, a JSON array of strings in class-index
 * order, held in a string because safetensors' metadata holds strings only.
 * The names' own rules (UTF-8, no control characters, distinct, at most
 * BP_CLASS_NAME_MAX bytes) are bp_names_copy's.
 */
#include "io/io.h"

#include <cJSON.h>
#include <errno.h>
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
