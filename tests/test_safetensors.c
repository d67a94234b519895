/*
 * test_safetensors.c — the model and gradient files: save/load round trips
 * bit for bit, a file written by hand loads, the writer's bytes read
 * independently of the loader, malformed files are refused cleanly (status,
 * a message naming the file, no network), gradients and their loss_value
 * round-trip exactly, and a failed save leaves nothing behind.
 *
 * Not here: what the numbers mean (test_gradients, test_forms) or the CLI.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "tmpdir.h"
#include "io/io.h"

#include <cJSON.h>
#include <dirent.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers: bytes in and out, independent of the library                    */
/* ------------------------------------------------------------------------ */

static void put_bytes(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "%s", path);
    if (!f)
        return;
    if (na)
        fwrite(a, 1, na, f);
    if (nb)
        fwrite(b, 1, nb, f);
    fclose(f);
}

/* A safetensors file: 8-byte little-endian length, header, data. */
static void put_st(const char *path, const char *hdr, size_t nh, const void *data, size_t nd)
{
    unsigned char *buf = malloc(8 + nh);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)nh >> (8 * i));
    memcpy(buf + 8, hdr, nh);
    put_bytes(path, buf, 8 + nh, data, nd);
    free(buf);
}

static unsigned char *get_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)sz + 1);
    *n = fread(buf, 1, (size_t)sz, f);
    buf[*n] = 0;
    fclose(f);
    return buf;
}

/* The header of a file read raw: its JSON and where the data starts. */
typedef struct {
    unsigned char *bytes;
    size_t size;
    uint64_t N;
    cJSON *json;
} raw_file;

static bool raw_read(const char *path, raw_file *r)
{
    memset(r, 0, sizeof *r);
    r->bytes = get_bytes(path, &r->size);
    if (!r->bytes || r->size < 8)
        return false;
    for (int i = 0; i < 8; i++)
        r->N |= (uint64_t)r->bytes[i] << (8 * i);
    if (r->N > r->size - 8)
        return false;
    r->json = cJSON_ParseWithLength((const char *)r->bytes + 8, (size_t)r->N);
    return r->json != NULL;
}

static void raw_free(raw_file *r)
{
    cJSON_Delete(r->json);
    free(r->bytes);
}

static const char *meta_str(const raw_file *r, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->json, "__metadata__");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* __metadata__[key] is the string want, or absent when want is NULL. */
static bool meta_is(const raw_file *r, const char *key, const char *want)
{
    const char *v = meta_str(r, key);
    bool ok = want ? v && strcmp(v, want) == 0 : !v;
    CHECK(ok, "__metadata__ %s is \"%s\", expected \"%s\"", key, v ? v : "(absent)",
          want ? want : "(absent)");
    return ok;
}

/* The writer's layout, checked raw: padded header, tensors in order with
 * contiguous offsets, shapes from the sizes, data equal to values [P]. */
static void check_layout_raw(const raw_file *r, const bp_net *net, const float *values)
{
    int L = bp_net_n_layers(net);
    CHECK(r->N % 8 == 0, "header length %llu", (unsigned long long)r->N);
    CHECK(r->bytes[8] == '{', "header starts with '%c'", r->bytes[8]);
    CHECK(r->size == 8 + r->N + 4 * bp_net_n_params(net), "file size %zu", r->size);
    CHECK(cJSON_GetArraySize(r->json) == 2 * L + 1, "%d entries", cJSON_GetArraySize(r->json));
    const cJSON *e = r->json->child;
    CHECK(e && strcmp(e->string, "__metadata__") == 0, "metadata first");
    uint64_t pos = 0;
    for (int l = 0; l < L; l++)
        for (int kind = 0; kind < 2; kind++) {
            e = e ? e->next : NULL;
            char name[32];
            snprintf(name, sizeof name, "layers.%d.%s", l, kind ? "bias" : "weight");
            CHECK(e && strcmp(e->string, name) == 0, "entry %s in order", name);
            if (!e)
                return;
            const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
            const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
            const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
            CHECK(cJSON_IsString(dt) && strcmp(dt->valuestring, "F32") == 0, "%s dtype", name);
            CHECK(cJSON_GetArraySize(sh) == 2 - kind, "%s rank", name);
            CHECK(cJSON_GetArrayItem(sh, 0)->valuedouble == bp_net_size(net, l + 1), "%s", name);
            if (kind == 0)
                CHECK(cJSON_GetArrayItem(sh, 1)->valuedouble == bp_net_size(net, l), "%s", name);
            size_t n = (size_t)bp_net_size(net, l + 1) * (kind ? 1 : (size_t)bp_net_size(net, l));
            size_t off = kind ? bp_net_bias_offset(net, l) : bp_net_weight_offset(net, l);
            CHECK(cJSON_GetArraySize(of) == 2 && cJSON_GetArrayItem(of, 0)->valuedouble == pos &&
                      cJSON_GetArrayItem(of, 1)->valuedouble == pos + 4 * n,
                  "%s offsets contiguous from %llu", name, (unsigned long long)pos);
            CHECK(memcmp(r->bytes + 8 + r->N + pos, values + off, 4 * n) == 0, "%s data", name);
            pos += 4 * n;
        }
    /* after the JSON: spaces only */
    size_t end = 8 + r->N;
    while (end > 8 && r->bytes[end - 1] == ' ')
        end--;
    CHECK(r->bytes[end - 1] == '}', "padding is spaces after the object");
}

/* ------------------------------------------------------------------------ */
/* (1) and (3): round trips, and the writer's bytes                          */
/* ------------------------------------------------------------------------ */

static bp_net *make_net(int L, const int *sizes, const bp_act *acts, bp_loss loss, double T,
                        double slope, uint64_t seed)
{
    bp_config cfg = {sizeof(bp_config), L, sizes, acts, loss, T, slope, BP_DEVICE_CPU};
    bp_error e = {{0}};
    bp_net *net = bp_net_create(&cfg, 4, &e);
    CHECK(net != NULL, "bp_net_create: %s", e.msg);
    if (!net)
        return NULL;
    bp_net_init(net, seed);
    /* biases start at zero: make them say something */
    bp_rng rng;
    bp_rng_seed(&rng, seed + 1);
    float *p = bp_net_params(net);
    for (int l = 0; l < L; l++)
        for (int j = 0; j < sizes[l + 1]; j++)
            p[bp_net_bias_offset(net, l) + j] = (float)bp_rng_normal(&rng);
    return net;
}

static void test_round_trip(void)
{
    static const int s1[] = {5, 7, 4, 3}, s2[] = {3, 1}, s3[] = {4, 6, 2};
    static const bp_act a1[] = {BP_ACT_TANH, BP_ACT_LEAKY_RELU, BP_ACT_SOFTMAX},
                        a2[] = {BP_ACT_IDENTITY}, a3[] = {BP_ACT_RELU, BP_ACT_SIGMOID};
    struct {
        int L;
        const int *sizes;
        const bp_act *acts;
        bp_loss loss;
        double T, slope;
        const char *sizes_s, *acts_s, *T_s, *slope_s;
    } c[] = {
        {3, s1, a1, BP_LOSS_SOFTMAX_CE, 2.5, 0.2, "5,7,4,3", "tanh,leaky_relu,softmax", "2.5",
         "0.2"},
        {1, s2, a2, BP_LOSS_MSE, 1.0, BP_LEAKY_SLOPE_DEFAULT, "3,1", "identity", NULL, NULL},
        {2, s3, a3, BP_LOSS_SIGMOID_BCE, 1.0, 0.0, "4,6,2", "relu,sigmoid", NULL, "0"},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        bp_net *net = make_net(c[k].L, c[k].sizes, c[k].acts, c[k].loss, c[k].T, c[k].slope,
                               42 + k);
        if (!net)
            continue;
        const char *path = tmp_path("rt.safetensors");
        bp_error e = {{0}};
        CHECK(bp_model_save(net, path, &e) == BP_OK, "save: %s", e.msg);

        bp_net *back = NULL;
        CHECK(bp_model_load(path, 3, &back, &e) == BP_OK, "load: %s", e.msg);
        if (back) {
            CHECK(bp_net_n_layers(back) == c[k].L, "case %zu layers", k);
            for (int l = 0; l <= c[k].L; l++)
                CHECK(bp_net_size(back, l) == c[k].sizes[l], "case %zu N(%d)", k, l);
            for (int l = 1; l <= c[k].L; l++)
                CHECK(bp_net_act(back, l) == c[k].acts[l - 1], "case %zu act %d", k, l);
            CHECK(bp_net_loss(back) == c[k].loss, "case %zu loss", k);
            CHECK(bp_net_temperature(back) == c[k].T, "case %zu T", k);
            CHECK(bp_net_leaky_slope(back) == bp_net_leaky_slope(net), "case %zu slope", k);
            CHECK(bp_net_max_batch(back) == 3, "case %zu max batch", k);
            CHECK(bp_net_n_params(back) == bp_net_n_params(net), "case %zu P", k);
            CHECK(memcmp(bp_net_params_const(back), bp_net_params_const(net),
                         4 * bp_net_n_params(net)) == 0, "case %zu params bit-exact", k);
        }
        bp_net_free(back);

        /* (3) the same file, read without the loader */
        raw_file r;
        CHECK(raw_read(path, &r), "case %zu: raw header is JSON", k);
        if (r.json) {
            meta_is(&r, "format", "backprop");
            meta_is(&r, "sizes", c[k].sizes_s);
            meta_is(&r, "activations", c[k].acts_s);
            meta_is(&r, "loss", bp_loss_name(c[k].loss));
            meta_is(&r, "temperature", c[k].T_s);
            meta_is(&r, "leaky_slope", c[k].slope_s);
            meta_is(&r, "loss_value", NULL);
            check_layout_raw(&r, net, bp_net_params_const(net));
        }
        raw_free(&r);
        bp_net_free(net);
    }
}

/* ------------------------------------------------------------------------ */
/* (2) a file written by hand                                                */
/* ------------------------------------------------------------------------ */

/* 2 -> 2 -> 1, tanh then sigmoid with sigmoid_bce; entries and data in an
 * order the writer never uses, metadata last, white space, no padding, an
 * unknown metadata key with non-ASCII text. */
static void test_hand_built(void)
{
    const char *hdr = "{ \"layers.1.bias\": {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\n"
                      "  \"layers.0.weight\": {\"data_offsets\":[4,20],\"shape\":[2,2],\"dtype\":\"F32\"},\n"
                      "  \"layers.1.weight\": {\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[28,36]},\n"
                      "  \"layers.0.bias\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]},\n"
                      "  \"__metadata__\": {\"note\":\"r\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93\",\"loss\":\"sigmoid_bce\","
                      "\"activations\":\"tanh,sigmoid\",\"sizes\":\"2,2,1\",\"format\":\"backprop\","
                      "\"leaky_slope\":\"0.125\"} }";
    const float b1[] = {0.015625f}, W0[] = {0.5f, -1.25f, 2.0f, 0.75f}, b0[] = {0.1f, -0.2f},
                W1[] = {3.0f, -4.0f};
    unsigned char data[36];
    memcpy(data, b1, 4);
    memcpy(data + 4, W0, 16);
    memcpy(data + 20, b0, 8);
    memcpy(data + 28, W1, 8);
    const char *path = tmp_path("hand.safetensors");
    put_st(path, hdr, strlen(hdr), data, sizeof data);

    bp_net *net = NULL;
    bp_error e = {{0}};
    CHECK(bp_model_load(path, 1, &net, &e) == BP_OK, "hand-built file: %s", e.msg);
    if (!net)
        return;
    CHECK(bp_net_n_layers(net) == 2 && bp_net_size(net, 0) == 2 && bp_net_size(net, 1) == 2 &&
              bp_net_size(net, 2) == 1, "sizes");
    CHECK(bp_net_act(net, 1) == BP_ACT_TANH && bp_net_act(net, 2) == BP_ACT_SIGMOID, "acts");
    CHECK(bp_net_loss(net) == BP_LOSS_SIGMOID_BCE, "loss");
    CHECK(bp_net_temperature(net) == 1.0, "T absent means 1");
    CHECK(bp_net_leaky_slope(net) == 0.125, "slope %g", bp_net_leaky_slope(net));
    const float *p = bp_net_params_const(net);
    CHECK(memcmp(p + bp_net_weight_offset(net, 0), W0, sizeof W0) == 0, "W(0)");
    CHECK(memcmp(p + bp_net_bias_offset(net, 0), b0, sizeof b0) == 0, "b(0)");
    CHECK(memcmp(p + bp_net_weight_offset(net, 1), W1, sizeof W1) == 0, "W(1)");
    CHECK(p[bp_net_bias_offset(net, 1)] == 0.015625f, "b(1)");
    CHECK(p[bp_net_weight_offset(net, 0) + 1] == -1.25f, "W(0)[0,1] row-major");
    bp_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* (4) malformed files                                                       */
/* ------------------------------------------------------------------------ */

/* A good 2 -> 3 -> 2 file: W0 [0,24) b0 [24,36) W1 [36,60) b1 [60,68). */
#define META "{\"__metadata__\":{\"format\":\"backprop\",\"sizes\":\"2,3,2\"," \
             "\"activations\":\"relu,softmax\",\"loss\":\"softmax_ce\"},"
#define B1 "\"layers.1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[60,68]}"
static const char base[] = META
    "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},"
    "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]},"
    "\"layers.1.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[36,60]}," B1 "}";
enum { BASE_DATA = 68 };

/* s with, for each pair (from, to) in edits, the first from replaced by to. */
static char *edit(const char *s, const char *const *edits, int max)
{
    char *cur = strdup(s);
    for (int i = 0; i + 1 < max && edits[i]; i += 2) {
        char *at = strstr(cur, edits[i]);
        CHECK(at != NULL, "test table: \"%s\" not in the header", edits[i]);
        if (!at)
            continue;
        size_t a = (size_t)(at - cur), lf = strlen(edits[i]), lt = strlen(edits[i + 1]);
        char *next = malloc(strlen(cur) - lf + lt + 1);
        memcpy(next, cur, a);
        memcpy(next + a, edits[i + 1], lt);
        strcpy(next + a + lt, cur + a + lf);
        free(cur);
        cur = next;
    }
    return cur;
}

/* The base's metadata and a key "d" whose value is head, unit x reps, tail. */
static void put_big(const char *path, const char *head, const char *unit, size_t reps,
                    const char *tail)
{
    size_t m = strlen(META) - 1, u = strlen(unit);
    char *h = malloc(m + 16 + strlen(head) + u * reps + strlen(tail));
    memcpy(h, META, m);
    m += (size_t)sprintf(h + m, ",\"d\":%s", head);
    for (size_t i = 0; i < reps; i++, m += u)
        memcpy(h + m, unit, u);
    sprintf(h + m, "%s}", tail);
    put_st(path, h, strlen(h), NULL, 0);
    free(h);
}

/* Loading path must fail with want (or any error when want is BP_OK), a
 * message that starts with "path:", and no network. */
static void expect_refused(const char *path, bp_status want, const char *what)
{
    bp_net *net = (bp_net *)&check_count; /* not NULL, so that clearing it shows */
    bp_error e;
    memset(e.msg, 0, sizeof e.msg);
    bp_status s = bp_model_load(path, 2, &net, &e);
    size_t n = strlen(path);
    CHECK(s != BP_OK, "%s: loaded", what);
    CHECK(want == BP_OK || s == want, "%s: status %s, expected %s (%s)", what,
          bp_status_string(s), bp_status_string(want), e.msg);
    CHECK(strncmp(e.msg, path, n) == 0 && e.msg[n] == ':' && e.msg[n + 1] == ' ' && e.msg[n + 2],
          "%s: message \"%s\"", what, e.msg);
    CHECK(net == NULL, "%s: *out not NULL", what);
    if (s == BP_OK && net && net != (bp_net *)&check_count)
        bp_net_free(net);
    if (getenv("BP_TEST_VERBOSE"))
        printf("  %-28s -> %s\n", what, e.msg);
}

typedef struct {
    const char *what;
    bp_status want;
    int data;          /* bytes of data (0: BASE_DATA) */
    int bad_at;        /* 1 + index of the float set to bad_val (0: none) */
    float bad_val;
    const char *edits[6]; /* (from, to) pairs applied to base */
} bad_case;

/* A case that edits the header: E(what, status, from, to, ...), and one
 * that also changes the length of the data: ED(what, status, bytes, ...). */
#define E(what, want, ...) {what, want, 0, 0, 0, {__VA_ARGS__}}
#define ED(what, want, bytes, ...) {what, want, bytes, 0, 0, {__VA_ARGS__}}
#define CO(v) "\"softmax_ce\"", "\"softmax_ce\",\"columns\":" v /* adds columns */
#define CL(v) "\"softmax_ce\"", "\"softmax_ce\",\"classes\":" v /* adds classes */
#define T_EQ(v) "\"softmax_ce\"", "\"softmax_ce\",\"temperature\":" v /* adds a temperature */

static void test_malformed(void)
{
    const bp_status F = BP_ERR_FORMAT, S = BP_ERR_SHAPE, NF = BP_ERR_NONFINITE;
    const bad_case cases[] = {
        E("F64 dtype", F, "\"F32\",\"shape\":[3]", "\"F64\",\"shape\":[3]"),
        E("dtype not a string", F, "\"F32\",\"shape\":[3]", "32,\"shape\":[3]"),
        E("weight transposed", S, "[3,2]", "[2,3]"),
        E("sizes vs shapes", S, "2,3,2", "2,4,2"),
        E("bias of rank 2", S, "[3],", "[3,1],"),
        E("shape vs offsets", F, "\"shape\":[2],", "\"shape\":[3],"),
        E("shape not integers", F, "[3,2]", "[3,2.5]"),
        E("shape negative", F, "[3,2]", "[-3,2]"),
        E("shape overflow", F, "[3,2]", "[4294967296,4294967296,4]"),
        ED("offsets gap", F, 72, "[24,36]", "[28,40]", "[36,60]", "[40,64]", "[60,68]", "[64,72]"),
        ED("offsets overlap", F, 64, "[24,36]", "[20,32]", "[36,60]", "[32,56]", "[60,68]",
           "[56,64]"),
        ED("offsets not from 0", F, 64, "[0,24]", "[4,28]", "[24,36]", "[28,40]", "[36,60]",
           "[40,64]"),
        ED("data truncated", F, 64, NULL),
        ED("trailing bytes", F, 72, NULL),
        E("begin > end", F, "[60,68]", "[68,60]"),
        E("offset fraction", F, "[60,68]", "[60,68.5]"),
        E("offset negative", F, "[0,24]", "[-1,24]"),
        E("three offsets", F, "[60,68]", "[60,68,68]"),
        E("offsets as strings", F, "[60,68]", "[\"60\",\"68\"]"),
        E("extra key in entry", F, "\"shape\":[2],", "\"shape\":[2],\"x\":1,"),
        E("duplicate key in entry", F, "\"shape\":[2],", "\"shape\":[2],\"shape\":[2],"),
        E("no shape", F, "\"shape\":[2],", ""),
        E("entry not an object", F, B1, "\"layers.1.bias\":[60,68]"),
        E("duplicate tensor", F, "layers.1.bias", "layers.0.bias"),
        ED("missing tensor", F, 60, "," B1, ""),
        ED("extra tensor", F, 72, B1, B1 ",\"layers.2.weight\":{\"dtype\":\"F32\",\"shape\":[1],"
                                         "\"data_offsets\":[68,72]}"),
        ED("extra tensor, other name", F, 72, B1, B1 ",\"x\":{\"dtype\":\"F32\",\"shape\":[1],"
                                                     "\"data_offsets\":[68,72]}"),
        E("name with leading zero", F, "layers.1.bias", "layers.01.bias"),
        E("name with \\u0000", F, "\"layers.1.bias\"", "\"layers.1.bias\\u0000x\""),
        E("no __metadata__", F, META, "{"),
        E("__metadata__ not object", F, META, "{\"__metadata__\":\"backprop\","),
        E("__metadata__ twice", F, META, META "\"__metadata__\":{},"),
        E("format not backprop", F, "\"backprop\"", "\"pytorch\""),
        E("format missing", F, "\"format\":\"backprop\",", ""),
        E("sizes 2,,3,2", F, "2,3,2", "2,,3,2"),
        E("sizes 2,3,x", F, "2,3,2", "2,3,x"),
        E("sizes 2,3x,2", F, "2,3,2", "2,3x,2"),
        E("sizes trailing comma", F, "2,3,2", "2,3,2,"),
        E("sizes empty", F, "2,3,2", ""),
        E("sizes one number", F, "2,3,2", "2"),
        E("sizes with 0", F, "2,3,2", "2,0,2"),
        E("sizes negative", F, "2,3,2", "-2,3,2"),
        E("sizes plus sign", F, "2,3,2", "2,+3,2"),
        E("sizes space", F, "2,3,2", "2, 3,2"),
        E("sizes huge", F, "2,3,2", "2,3,99999999999999999999"),
        E("sizes above max width", F, "2,3,2", "2,3,16777217"),
        E("sizes not a string", F, "\"2,3,2\"", "[2,3,2]"),
        E("unknown activation", F, "relu,softmax", "swish,softmax"),
        E("too few activations", F, "relu,softmax", "softmax"),
        E("too many activations", F, "relu,softmax", "relu,relu,softmax"),
        E("empty activation", F, "relu,softmax", ",softmax"),
        E("unknown loss", F, "softmax_ce", "hinge"),
        E("loss missing", F, ",\"loss\":\"softmax_ce\"", ""),
        E("softmax with mse", F, "softmax_ce", "mse"),
        E("softmax with sigmoid_bce", F, "softmax_ce", "sigmoid_bce"),
        E("softmax in a hidden layer", F, "relu,softmax", "softmax,softmax"),
        E("temperature 0", F, T_EQ("\"0\"")),
        E("temperature -1", F, T_EQ("\"-1\"")),
        E("temperature nan", F, T_EQ("\"nan\"")),
        E("temperature inf", F, T_EQ("\"inf\"")),
        E("temperature 1e999", F, T_EQ("\"1e999\"")),
        E("temperature 1.5x", F, T_EQ("\"1.5x\"")),
        E("temperature hex", F, T_EQ("\"0x1p1\"")),
        E("temperature a number", F, T_EQ("2")),
        E("leaky_slope inf", F, "\"softmax_ce\"", "\"softmax_ce\",\"leaky_slope\":\"inf\""),
        E("metadata value not string", F, "\"softmax_ce\"", "\"softmax_ce\",\"epochs\":10"),
        E("metadata key twice", F, "\"softmax_ce\"", "\"softmax_ce\",\"loss\":\"mse\""),
        E("bad JSON", F, "[60,68]}}", "[60,68]}"),
        E("garbage after JSON", F, "[60,68]}}", "[60,68]}} x"),
        E("second object after JSON", F, "[60,68]}}", "[60,68]}}{}"),
        E("header not an object", F, META, "[" META),
        E("leading white space", F, META, " " META),
        E("invalid UTF-8", F, "\"softmax_ce\"", "\"softmax_ce\",\"n\":\"\xff\""),
        E("overlong UTF-8", F, "\"softmax_ce\"", "\"softmax_ce\",\"n\":\"\xc0\xaf\""),
        E("UTF-8 surrogate", F, "\"softmax_ce\"", "\"softmax_ce\",\"n\":\"\xed\xa0\x80\""),
        E("control char in string", F, "relu,softmax", "relu,\x01softmax"),
        E("control char outside", F, "{\"__meta", "{\x01\"__meta"),
        E("classes not a list", F, CL("\"a,b\"")),
        E("classes a number list", F, CL("\"[1,2]\"")),
        E("classes one name for 2", F, CL("\"[\\\"a\\\"]\"")),
        E("classes three for 2", F, CL("\"[\\\"a\\\",\\\"b\\\",\\\"c\\\"]\"")),
        E("classes twice the same", F, CL("\"[\\\"a\\\",\\\"a\\\"]\"")),
        E("classes empty name", F, CL("\"[\\\"a\\\",\\\"\\\"]\"")),
        E("classes control char", F, CL("\"[\\\"a\\\",\\\"b\\\\u0001\\\"]\"")),
        E("classes \\u0000", F, CL("\"[\\\"a\\\",\\\"b\\\\u0000c\\\"]\"")),
        E("classes bad JSON", F, CL("\"[\\\"a\\\",\\\"b\\\"\"")),
        E("classes trailing text", F, CL("\"[\\\"a\\\",\\\"b\\\"] x\"")),
        E("classes an array", F, CL("[\"a\",\"b\"]")),
        E("columns of 1 input", F, CO("\"{\\\"columns\\\":3,\\\"missing\\\":\\\"error\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"a\\\",\\\"index\\\":0}],\\\"targets\\\":[]}\"")),
        E("columns index out of range", F, CO("\"{\\\"columns\\\":3,\\\"missing\\\":\\\"error\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"a\\\",\\\"index\\\":0},{\\\"name\\\":null,\\\"index\\\":5,\\\"fill\\\":0.5}],\\\"targets\\\":[{\\\"name\\\":\\\"y\\\",\\\"index\\\":2}]}\"")),
        E("columns unsorted categories", F, CO("\"{\\\"columns\\\":2,\\\"missing\\\":\\\"error\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"c\\\",\\\"index\\\":0,\\\"categories\\\":[\\\"b\\\",\\\"a\\\"]}],\\\"targets\\\":[]}\"")),
        E("columns bad missing", F, CO("\"{\\\"columns\\\":3,\\\"missing\\\":\\\"sometimes\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"a\\\",\\\"index\\\":0},{\\\"name\\\":null,\\\"index\\\":1,\\\"fill\\\":0.5}],\\\"targets\\\":[{\\\"name\\\":\\\"y\\\",\\\"index\\\":2}]}\"")),
        E("columns fill not finite", F, CO("\"{\\\"columns\\\":3,\\\"missing\\\":\\\"error\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"a\\\",\\\"index\\\":0},{\\\"name\\\":null,\\\"index\\\":1,\\\"fill\\\":\\\"x\\\"}],\\\"targets\\\":[{\\\"name\\\":\\\"y\\\",\\\"index\\\":2}]}\"")),
        E("columns not JSON", F, CO("\"{\\\"columns\\\":3,\"")),
        E("columns categories and fill", F, CO("\"{\\\"columns\\\":3,\\\"missing\\\":\\\"error\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"a\\\",\\\"index\\\":0},{\\\"name\\\":null,\\\"index\\\":1,\\\"fill\\\":0.5,\\\"categories\\\":[\\\"a\\\"]}],\\\"targets\\\":[{\\\"name\\\":\\\"y\\\",\\\"index\\\":2}]}\"")),
        {"NaN in a weight", NF, 0, 3, NAN, {NULL}},
        {"Inf in a bias", NF, 0, 8, -INFINITY, {NULL}},
    };
    float data[32];
    for (int i = 0; i < 32; i++)
        data[i] = 0.25f * (float)(i - 5);
    int n_cases = (int)(sizeof cases / sizeof cases[0]);
    for (int k = 0; k < n_cases; k++) {
        const bad_case *c = &cases[k];
        char *hdr = edit(base, c->edits, 6);
        float d[32];
        memcpy(d, data, sizeof d);
        if (c->bad_at)
            d[c->bad_at - 1] = c->bad_val;
        const char *path = tmp_path("bad.safetensors");
        put_st(path, hdr, strlen(hdr), d, (size_t)(c->data ? c->data : BASE_DATA));
        expect_refused(path, c->want, c->what);
        free(hdr);
    }

    /* the base itself loads: the refusals above are the edits' doing */
    const char *path = tmp_path("base.safetensors");
    put_st(path, base, strlen(base), data, BASE_DATA);
    bp_net *net = NULL;
    bp_error e = {{0}};
    CHECK(bp_model_load(path, 2, &net, &e) == BP_OK, "base file: %s", e.msg);
    bp_net_free(net);

    /* the length field: too short to hold one, then N wrong for the file */
    size_t size = 0;
    unsigned char *good = get_bytes(path, &size);
    const char *p = tmp_path("raw.safetensors");
    put_bytes(p, "", 0, NULL, 0);
    expect_refused(p, F, "empty file");
    put_bytes(p, good, 5, NULL, 0);
    expect_refused(p, F, "5 bytes");
    const uint64_t lens[] = {0, 1ull << 40, UINT64_MAX, 100000001, strlen(base) - 1,
                             strlen(base) + 1, size - 7};
    for (int k = 0; good && k < 7; k++) {
        unsigned char n8[8];
        char what[64];
        for (int i = 0; i < 8; i++)
            n8[i] = (unsigned char)(lens[k] >> (8 * i));
        put_bytes(p, n8, 8, good + 8, size - 8);
        snprintf(what, sizeof what, "header length %llu", (unsigned long long)lens[k]);
        expect_refused(p, F, what);
    }
    char *nul = strdup(base);
    *strstr(nul, "relu") = '\0';
    put_st(p, nul, strlen(base), data, BASE_DATA);
    expect_refused(p, F, "NUL in header");
    free(nul);
    /* nesting beyond cJSON's limit; more values than the reader takes */
    put_big(p, "", "[", 3000, "");
    expect_refused(p, F, "deep nesting");
    put_big(p, "[", "0,", 200000, "0]");
    expect_refused(p, F, "200001 values");

    /* every truncation of a good file */
    int refused = 0;
    for (size_t n = 0; good && n < size; n++) {
        put_bytes(p, good, n, NULL, 0);
        bp_net *out = (bp_net *)&check_count;
        bp_error e2 = {{0}};
        refused += bp_model_load(p, 1, &out, &e2) != BP_OK && out == NULL &&
                   strncmp(e2.msg, p, strlen(p)) == 0;
    }
    CHECK(good && refused == (int)size, "%d of %zu truncations refused", refused, size);

    /* every header byte changed: never a crash; a refusal is a clean one */
    const unsigned char subst[] = {'"', '0', '{', ',', 0xff, 0};
    for (size_t i = 8; good && i < 8 + strlen(base); i++)
        for (size_t k = 0; k < sizeof subst; k++) {
            unsigned char was = good[i];
            good[i] = subst[k];
            put_bytes(p, good, size, NULL, 0);
            good[i] = was;
            bp_net *out = (bp_net *)&check_count;
            bp_error e2 = {{0}};
            if (bp_model_load(p, 1, &out, &e2) == BP_OK)
                bp_net_free(out);
            else
                CHECK(out == NULL && strncmp(e2.msg, p, strlen(p)) == 0,
                      "byte %zu = 0x%02x: %s", i, subst[k], e2.msg);
        }
    free(good);

    expect_refused(tmp_path("missing.safetensors"), BP_ERR_IO, "missing file");
    expect_refused(dir, BP_ERR_IO, "a folder");
}

/* ------------------------------------------------------------------------ */
/* (5) gradients, (6) failed saves                                           */
/* ------------------------------------------------------------------------ */

static void test_grads(void)
{
    static const int sizes[] = {3, 5, 2};
    static const bp_act acts[] = {BP_ACT_RELU, BP_ACT_SOFTMAX};
    bp_net *net = make_net(2, sizes, acts, BP_LOSS_SOFTMAX_CE, 1.0, BP_LEAKY_SLOPE_DEFAULT, 7);
    if (!net)
        return;
    size_t P = bp_net_n_params(net);
    float *g = malloc(P * sizeof *g);
    bp_rng rng;
    bp_rng_seed(&rng, 99);
    for (size_t i = 0; i < P; i++)
        g[i] = (float)(1e-3 * bp_rng_normal(&rng));
    const double losses[] = {0.1, 1 / 3.0, 1e-300, 2.5, 5e-324, 1.7976931348623157e308};
    const char *shortest[] = {"0.1", NULL, "1e-300", "2.5", "5e-324", NULL};
    const char *path = tmp_path("g.safetensors");
    for (int k = 0; k < 6; k++) {
        bp_error e = {{0}};
        CHECK(bp_grads_save(net, g, losses[k], path, &e) == BP_OK, "grads save: %s", e.msg);
        raw_file r;
        CHECK(raw_read(path, &r), "grads file header is JSON");
        if (r.json) {
            const char *lv = meta_str(&r, "loss_value");
            CHECK(lv && strtod(lv, NULL) == losses[k], "loss_value %s for %.17g", lv ? lv : "-",
                  losses[k]);
            CHECK(!shortest[k] || (lv && strcmp(lv, shortest[k]) == 0),
                  "loss_value \"%s\" is the shortest", lv ? lv : "-");
            meta_is(&r, "format", "backprop");
            meta_is(&r, "sizes", "3,5,2");
            meta_is(&r, "activations", "relu,softmax");
            meta_is(&r, "loss", "softmax_ce");
            check_layout_raw(&r, net, g);
        }
        raw_free(&r);
    }

    /* not finite: refused, nothing written, an older file left alone */
    bp_error e = {{0}};
    const char *p2 = tmp_path("g2.safetensors");
    CHECK(bp_grads_save(net, g, NAN, p2, &e) == BP_ERR_NONFINITE, "NaN loss saved");
    CHECK(strncmp(e.msg, p2, strlen(p2)) == 0, "message %s", e.msg);
    CHECK(access(p2, F_OK) != 0, "NaN loss left a file");
    g[3] = INFINITY;
    CHECK(bp_grads_save(net, g, 0.5, path, &e) == BP_ERR_NONFINITE, "Inf gradient saved");
    raw_file r;
    CHECK(raw_read(path, &r) && meta_str(&r, "loss_value") &&
              strtod(meta_str(&r, "loss_value"), NULL) == losses[5], "older file intact");
    raw_free(&r);
    free(g);
    bp_net_free(net);
}

static void test_failed_save(void)
{
    static const int sizes[] = {2, 2};
    static const bp_act acts[] = {BP_ACT_IDENTITY};
    bp_net *net = make_net(1, sizes, acts, BP_LOSS_MSE, 1.0, BP_LEAKY_SLOPE_DEFAULT, 3);
    if (!net)
        return;
    const char *path = tmp_path("nope/m.safetensors");
    bp_error e = {{0}};
    CHECK(bp_model_save(net, path, &e) == BP_ERR_IO, "save into a missing folder: %s", e.msg);
    CHECK(strncmp(e.msg, path, strlen(path)) == 0 && e.msg[strlen(path)] == ':', "msg %s", e.msg);
    CHECK(access(tmp_path("nope"), F_OK) != 0, "the folder was created");
    float g[6] = {0};
    CHECK(bp_grads_save(net, g, 1.0, path, &e) == BP_ERR_IO, "grads into a missing folder");

    /* a model with NaN is not saved and does not replace the good one */
    const char *good = tmp_path("keep.safetensors");
    CHECK(bp_model_save(net, good, &e) == BP_OK, "%s", e.msg);
    float keep = bp_net_params(net)[0];
    bp_net_params(net)[0] = NAN;
    CHECK(bp_model_save(net, good, &e) == BP_ERR_NONFINITE, "NaN model saved: %s", e.msg);
    bp_net *back = NULL;
    CHECK(bp_model_load(good, 1, &back, &e) == BP_OK, "%s", e.msg);
    CHECK(back && bp_net_params(back)[0] == keep, "the good file was replaced");
    bp_net_free(back);
    bp_net_free(net);
}


/* ------------------------------------------------------------------------ */
/* (5) class names                                                           */
/* ------------------------------------------------------------------------ */

static void test_classes(void)
{
    static const int sizes[] = {2, 3};
    static const bp_act acts[] = {BP_ACT_SOFTMAX};
    bp_net *net = make_net(1, sizes, acts, BP_LOSS_SOFTMAX_CE, 1.0, 0.01, 3);
    if (!net)
        return;
    const char *names[] = {"setosa", "T-shirt/top", "r\xc3\xa9sum\xc3\xa9 \"q\""};
    CHECK(bp_net_class(net, 0) == NULL, "a new network has no names");

    /* refused, and nothing changed: the wrong count, bad names */
    char long_name[BP_CLASS_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *bad[][3] = {
        {"a", "b", ""},           {"a", "b", "a"},        {"a", "b\x01", "c"},
        {"a", "b\xff", "c"},      {"a", "\xc0\xaf", "c"}, {"a", long_name, "c"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(bp_net_set_classes(net, 3, bad[i]) == BP_ERR_ARG && bp_net_class(net, 0) == NULL &&
                  strstr(bp_last_error(), "bp_net_set_classes"),
              "bad names %zu: %s", i, bp_last_error());
    CHECK(bp_net_set_classes(net, 2, names) == BP_ERR_ARG, "2 names for 3 outputs");
    CHECK(bp_net_set_classes(net, 4, names) == BP_ERR_ARG, "4 names for 3 outputs");
    CHECK(bp_net_set_classes(NULL, 3, names) == BP_ERR_ARG, "NULL net");
    CHECK(bp_net_class(NULL, 0) == NULL, "NULL net");
    long_name[BP_CLASS_NAME_MAX] = '\0'; /* exactly the limit: taken */
    const char *at_limit[] = {"a", long_name, "c"};
    CHECK(bp_net_set_classes(net, 3, at_limit) == BP_OK, "%s", bp_last_error());
    CHECK(bp_net_class(net, 1) && strlen(bp_net_class(net, 1)) == BP_CLASS_NAME_MAX, "256 bytes");

    /* copies, in order; j out of range is NULL */
    char copy[3][32];
    const char *mine[3] = {copy[0], copy[1], copy[2]};
    for (int j = 0; j < 3; j++)
        strcpy(copy[j], names[j]);
    CHECK(bp_net_set_classes(net, 3, mine) == BP_OK, "%s", bp_last_error());
    memset(copy, 0, sizeof copy);
    for (int j = 0; j < 3; j++)
        CHECK(bp_net_class(net, j) && strcmp(bp_net_class(net, j), names[j]) == 0, "class %d", j);
    CHECK(bp_net_class(net, 3) == NULL && bp_net_class(net, -1) == NULL, "j out of range");

    /* the file holds them as SPEC writes them, by hand: a JSON array of
     * strings in index order, inside the metadata's string */
    const char *path = tmp_path("classes.safetensors");
    bp_error e = {{0}};
    CHECK(bp_model_save(net, path, &e) == BP_OK, "%s", e.msg);
    raw_file r;
    CHECK(raw_read(path, &r), "raw read");
    meta_is(&r, "classes", "[\"setosa\",\"T-shirt/top\",\"r\xc3\xa9sum\xc3\xa9 \\\"q\\\"\"]");
    raw_free(&r);
    bp_net *back = NULL;
    CHECK(bp_model_load(path, 1, &back, &e) == BP_OK, "%s", e.msg);
    for (int j = 0; back && j < 3; j++)
        CHECK(bp_net_class(back, j) && strcmp(bp_net_class(back, j), names[j]) == 0,
              "loaded class %d: %s", j, bp_net_class(back, j));
    bp_net_free(back);

    /* removed: no key in the file, none after loading */
    CHECK(bp_net_set_classes(net, 0, NULL) == BP_OK && bp_net_class(net, 0) == NULL, "removed");
    CHECK(bp_model_save(net, path, &e) == BP_OK, "%s", e.msg);
    CHECK(raw_read(path, &r), "raw read");
    meta_is(&r, "classes", NULL);
    raw_free(&r);
    back = NULL;
    CHECK(bp_model_load(path, 1, &back, &e) == BP_OK && bp_net_class(back, 0) == NULL, "%s", e.msg);
    bp_net_free(back);
    bp_net_free(net);

    /* written by hand with white space inside the array: read */
    const char *hdr = META;
    char *good = edit(base, (const char *const[]){"\"softmax_ce\"",
                      "\"softmax_ce\",\"classes\":\"[ \\\"no\\\", \\\"yes\\\" ]\"", NULL}, 3);
    (void)hdr;
    float d[17] = {0};
    put_st(path, good, strlen(good), d, BASE_DATA);
    free(good);
    back = NULL;
    CHECK(bp_model_load(path, 1, &back, &e) == BP_OK, "%s", e.msg);
    CHECK(back && bp_net_class(back, 0) && strcmp(bp_net_class(back, 0), "no") == 0 &&
              strcmp(bp_net_class(back, 1), "yes") == 0, "hand-written classes");
    bp_net_free(back);

    /* a CSV encoding written by hand: read, and written back as it was */
    good = edit(base, (const char *const[]){"\"softmax_ce\"",
                "\"softmax_ce\",\"columns\":" "\"{\\\"columns\\\":3,\\\"missing\\\":\\\"error\\\",\\\"inputs\\\":[{\\\"name\\\":\\\"a\\\",\\\"index\\\":0},{\\\"name\\\":null,\\\"index\\\":1,\\\"fill\\\":0.5}],\\\"targets\\\":[{\\\"name\\\":\\\"y\\\",\\\"index\\\":2}]}\"", NULL}, 3);
    put_st(path, good, strlen(good), d, BASE_DATA);
    free(good);
    back = NULL;
    CHECK(bp_model_load(path, 1, &back, &e) == BP_OK, "hand-written columns: %s", e.msg);
    CHECK(back && bp_model_save(back, path, &e) == BP_OK && raw_read(path, &r), "%s", e.msg);
    meta_is(&r, "columns", "{\"columns\":3,\"missing\":\"error\",\"inputs\":[{\"name\":\"a\",\"index\":0},{\"name\":null,\"index\":1,\"fill\":0.5}],\"targets\":[{\"name\":\"y\",\"index\":2}]}");
    raw_free(&r);
    bp_net_free(back);
}

int main(void)
{
    tmp_make("test_safetensors");
    test_round_trip();
    test_hand_built();
    test_malformed();
    test_classes();
    test_grads();
    test_failed_save();

    /* no temporaries left behind by any save; then clean up */
    CHECK(tmp_temporaries() == 0, "temporary files left behind");
    CHECK(tmp_remove() == 0, "rmdir %s", dir);
    CHECK_DONE();
}
