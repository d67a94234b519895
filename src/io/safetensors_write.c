/*
 * safetensors_write.c — the writer of the model file and the gradient file
 * (docs/formats.md): an 8-byte little-endian header length N, N bytes of
 * JSON padded with spaces to a multiple of 8, then the F32 tensors back to
 * back in the network's layout. The reader is safetensors.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors_write.c writes float32 bytes as they are: little-endian hosts only"
#endif

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* Adds item under key; owns item even when it fails (cJSON does not). */
static bool add(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return true;
    cJSON_Delete(item);
    return false;
}

/* "v0,v1,..." with the shortest decimals that read back as the same floats */
static cJSON *float_list(const float *v, int n)
{
    char *buf = malloc((size_t)n * 16 + 1), *p = buf;
    if (!buf)
        return NULL;
    for (int i = 0; i < n; i++) {
        char num[32];
        bp_shortest_float(num, v[i]);
        p += sprintf(p, "%s%s", i ? "," : "", num);
    }
    cJSON *item = cJSON_CreateString(buf);
    free(buf);
    return item;
}

void model_lists(const bp_net *net, char sizes[BP_SIZES_CHARS], char acts[BP_ACTS_CHARS])
{
    int L = bp_net_n_layers(net);
    size_t ns = 0, na = 0;
    for (int l = 0; l <= L; l++)
        ns += (size_t)snprintf(sizes + ns, BP_SIZES_CHARS - ns, "%s%d", l ? "," : "",
                               bp_net_size(net, l));
    for (int l = 1; l <= L; l++)
        na += (size_t)snprintf(acts + na, BP_ACTS_CHARS - na, "%s%s", l > 1 ? "," : "",
                               bp_act_name(bp_net_act(net, l)));
}

/* format, sizes, activations, loss, temperature (where T != 1), leaky_slope
 * (where not the default), classes (where named), loss_value (gradient files
 * only). */
static bool add_metadata(cJSON *meta, const bp_net *net, const double *loss_value)
{
    char sizes[BP_SIZES_CHARS], acts[BP_ACTS_CHARS], num[32];
    model_lists(net, sizes, acts);

    bool ok = add(meta, "format", cJSON_CreateString("backprop")) &&
              add(meta, "sizes", cJSON_CreateString(sizes)) &&
              add(meta, "activations", cJSON_CreateString(acts)) &&
              add(meta, "loss", cJSON_CreateString(bp_loss_name(bp_net_loss(net))));
    if (ok && bp_net_temperature(net) != 1.0) {
        bp_shortest_double(num, bp_net_temperature(net));
        ok = add(meta, "temperature", cJSON_CreateString(num));
    }
    if (ok && bp_net_leaky_slope(net) != (double)BP_LEAKY_SLOPE_DEFAULT) {
        bp_shortest_double(num, bp_net_leaky_slope(net));
        ok = add(meta, "leaky_slope", cJSON_CreateString(num));
    }
    if (ok && loss_value) {
        bp_shortest_double(num, *loss_value);
        ok = add(meta, "loss_value", cJSON_CreateString(num));
    }
    if (ok && bp_net_class(net, 0))
        ok = add(meta, "classes", bp_classes_json(net));
    if (ok && bp_net_columns(net))
        ok = add(meta, "columns", cJSON_CreateString(bp_net_columns(net)));
    if (ok && bp_net_mean(net)) /* the model's input standardisation, N(0) floats each */
        ok = add(meta, "standardize_mean", float_list(bp_net_mean(net), bp_net_size(net, 0))) &&
             add(meta, "standardize_std", float_list(bp_net_std(net), bp_net_size(net, 0)));
    return ok;
}

/* The JSON header: __metadata__ first, then the tensors in file order with
 * contiguous data_offsets from 0. NULL when out of memory. */
static char *header_json(const bp_net *net, const double *loss_value)
{
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    bool ok = root && add(root, "__metadata__", meta) && add_metadata(meta, net, loss_value);
    if (!root)
        cJSON_Delete(meta);
    double pos = 0; /* bytes; a double is exact far beyond any real file */
    for (int l = 0; ok && l < bp_net_n_layers(net); l++)
        for (int kind = T_WEIGHT; ok && kind <= T_BIAS; kind++) {
            char name[32];
            int shape[2] = {bp_net_size(net, l + 1), bp_net_size(net, l)};
            double offs[2] = {pos, pos + 4.0 * (double)tensor_count(net, l, kind)};
            cJSON *t = cJSON_CreateObject();
            tensor_name(name, sizeof name, l, kind);
            ok = add(root, name, t) && add(t, "dtype", cJSON_CreateString("F32")) &&
                 add(t, "shape", cJSON_CreateIntArray(shape, kind == T_WEIGHT ? 2 : 1)) &&
                 add(t, "data_offsets", cJSON_CreateDoubleArray(offs, 2));
            pos = offs[1];
        }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return json;
}

/* Writes values [n_params] (the network's layout) under the tensor names. */
static bp_status write_file(const bp_net *net, const float *values, const double *loss_value,
                            const char *path, bp_error *err)
{
    /* a file the reader would refuse is not written: no NaN/Inf */
    if (loss_value && !isfinite(*loss_value))
        return bp_fail(err, BP_ERR_NONFINITE, "%s: loss is %g, not saved", path, *loss_value);
    char *json = header_json(net, loss_value);
    if (!json)
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    size_t len = strlen(json), pad = (8 - len % 8) % 8;
    unsigned char n8[8];
    for (int i = 0; i < 8; i++)
        n8[i] = (unsigned char)((uint64_t)(len + pad) >> (8 * i));

    bp_atomic a;
    bp_status s = bp_atomic_open(&a, path, err);
    if (s != BP_OK) {
        cJSON_free(json);
        return s;
    }
    bool ok = fwrite(n8, 1, 8, a.f) == 8 && fwrite(json, 1, len, a.f) == len &&
              fwrite("        ", 1, pad, a.f) == pad;
    cJSON_free(json); /* cJSON's allocator, which a program may have replaced */
    for (int l = 0; ok && l < bp_net_n_layers(net); l++)
        for (int kind = T_WEIGHT; ok && kind <= T_BIAS; kind++) {
            const float *v = values + tensor_offset(net, l, kind);
            size_t n = tensor_count(net, l, kind), i = 0;
            while (i < n && isfinite(v[i]))
                i++;
            if (i < n) {
                char name[32];
                tensor_name(name, sizeof name, l, kind);
                bp_atomic_abort(&a);
                return bp_fail(err, BP_ERR_NONFINITE, "%s: tensor %s: element %zu is %g, "
                               "not saved", path, name, i, (double)v[i]);
            }
            ok = fwrite(v, sizeof(float), n, a.f) == n;
        }
    if (!ok) {
        int e = errno;
        bp_atomic_abort(&a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return bp_atomic_commit(&a, err);
}

bp_status bp_model_save(const bp_net *net, const char *path, bp_error *err)
{
    if (!net || !path)
        return bp_fail(err, BP_ERR_ARG, "bp_model_save: %s is NULL", net ? "path" : "net");
    return write_file(net, bp_net_params_const(net), NULL, path, err);
}

bp_status bp_grads_save(const bp_net *net, const float *grads, double loss, const char *path,
                        bp_error *err)
{
    if (!net || !grads || !path)
        return bp_fail(err, BP_ERR_ARG, "bp_grads_save: %s is NULL",
                       !net ? "net" : !grads ? "grads" : "path");
    return write_file(net, grads, &loss, path, err);
}

