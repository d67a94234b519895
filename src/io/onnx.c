/*
 * onnx.c — bp_model_export_onnx: the network as an ONNX model (opset 13,
 * IR version 7; docs/formats.md). ONNX files are protocol buffers; the few
 * messages needed (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto and the type messages) are encoded here by
 * hand, with field numbers from onnx.proto, rather than through generated
 * protobuf-c code: one file, no build-time code generator, no new library
 * in the link. tests/onnx_check.py decodes every exported file with python
 * onnx and runs it in ONNX Runtime.
 *
 * Each message is emitted twice: once into a counting writer (no FILE) to
 * learn its length, then for real. The weights are written straight from
 * the parameter buffer, never copied.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnx.c writes float32 raw_data as it is: little-endian hosts only"
#endif

#define ONNX_OPSET 13
#define ONNX_IR_VERSION 7
/* protobuf's hard limit on one message */
#define ONNX_MAX_BYTES 2147483647ull

enum { WIRE_VARINT = 0, WIRE_I32 = 5, WIRE_LEN = 2 };
enum { ELEM_FLOAT = 1, ELEM_INT64 = 7 };          /* TensorProto.DataType */
enum { ATTR_FLOAT = 1, ATTR_INT = 2 };            /* AttributeProto.AttributeType */

typedef struct {
    FILE *f;    /* NULL: count only */
    uint64_t n; /* bytes emitted */
    bool ok;
} ow;

static void put(ow *w, const void *p, size_t n)
{
    w->n += n;
    if (w->f && w->ok && n && fwrite(p, 1, n, w->f) != n)
        w->ok = false;
}

static void varint(ow *w, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    put(w, b, n);
}

static void key(ow *w, int field, int wire) { varint(w, (uint64_t)field << 3 | (unsigned)wire); }

static void f_int(ow *w, int field, int64_t v)
{
    key(w, field, WIRE_VARINT);
    varint(w, (uint64_t)v);
}

static void f_bytes(ow *w, int field, const void *p, size_t n)
{
    key(w, field, WIRE_LEN);
    varint(w, n);
    put(w, p, n);
}

static void f_str(ow *w, int field, const char *s) { f_bytes(w, field, s, strlen(s)); }

static void f_float(ow *w, int field, float v)
{
    key(w, field, WIRE_I32);
    put(w, &v, 4);
}

typedef void (*emit_fn)(ow *w, const void *arg);

/* A nested message: its length (from a counting pass), then its bytes. */
static void f_msg(ow *w, int field, emit_fn fn, const void *arg)
{
    ow count = {NULL, 0, true};
    fn(&count, arg);
    key(w, field, WIRE_LEN);
    varint(w, count.n);
    fn(w, arg);
}

/* ------------------------------------------------------------------------ */
/* The graph as plain data                                                   */
/* ------------------------------------------------------------------------ */

#define NAME 32
#define MAX_NODES (2 * BP_MAX_LAYERS + 8)
#define MAX_INITS (2 * BP_MAX_LAYERS + 4)

typedef struct {
    const char *op;
    char in[3][NAME];
    int n_in;
    char out[NAME];
    const char *attr; /* NULL: none */
    int attr_type;
    float attr_f;
    int64_t attr_i;
    const char *attr2; /* a second int attribute (ArgMax's keepdims) */
    int64_t attr2_i;
} node;

typedef struct {
    char name[NAME];
    int ndims;
    int64_t dims[2];
    const float *data;
    size_t count;
} init;

typedef struct {
    const char *name;
    int elem, rank;
    int64_t cols;
} value_info;

typedef struct {
    node nodes[MAX_NODES];
    int n_nodes;
    init inits[MAX_INITS];
    int n_inits;
    value_info in, out[2];
    int n_out;
    float T;
} graph;

typedef struct {
    const char *key;
    char value[BP_MAX_LAYERS * 16 + 16];
} prop;

typedef struct {
    const graph *g;
    prop props[8];
    int n_props;
} model;

static void emit_attr_f(ow *w, const void *arg)
{
    const node *n = arg;
    f_str(w, 1, n->attr);
    if (n->attr_type == ATTR_FLOAT)
        f_float(w, 2, n->attr_f);
    else
        f_int(w, 3, n->attr_i);
    f_int(w, 20, n->attr_type);
}

static void emit_attr2(ow *w, const void *arg)
{
    const node *n = arg;
    f_str(w, 1, n->attr2);
    f_int(w, 3, n->attr2_i);
    f_int(w, 20, ATTR_INT);
}

static void emit_node(ow *w, const void *arg)
{
    const node *n = arg;
    for (int i = 0; i < n->n_in; i++)
        f_str(w, 1, n->in[i]);
    f_str(w, 2, n->out);
    f_str(w, 3, n->out); /* the node is named after its output: unique */
    f_str(w, 4, n->op);
    if (n->attr)
        f_msg(w, 5, emit_attr_f, n);
    if (n->attr2)
        f_msg(w, 5, emit_attr2, n);
}

static void emit_tensor(ow *w, const void *arg)
{
    const init *t = arg;
    for (int i = 0; i < t->ndims; i++)
        f_int(w, 1, t->dims[i]);
    f_int(w, 2, ELEM_FLOAT);
    f_str(w, 8, t->name);
    f_bytes(w, 9, t->data, t->count * sizeof(float));
}

/* TensorShapeProto.Dimension: the batch is the symbolic "N" */
static void emit_dim_n(ow *w, const void *arg)
{
    (void)arg;
    f_str(w, 2, "N");
}

static void emit_dim_cols(ow *w, const void *arg) { f_int(w, 1, ((const value_info *)arg)->cols); }

static void emit_shape(ow *w, const void *arg)
{
    const value_info *v = arg;
    f_msg(w, 1, emit_dim_n, v);
    if (v->rank == 2)
        f_msg(w, 1, emit_dim_cols, v);
}

static void emit_tensor_type(ow *w, const void *arg)
{
    f_int(w, 1, ((const value_info *)arg)->elem);
    f_msg(w, 2, emit_shape, arg);
}

static void emit_type(ow *w, const void *arg) { f_msg(w, 1, emit_tensor_type, arg); }

static void emit_value_info(ow *w, const void *arg)
{
    f_str(w, 1, ((const value_info *)arg)->name);
    f_msg(w, 2, emit_type, arg);
}

static void emit_graph(ow *w, const void *arg)
{
    const graph *g = arg;
    for (int i = 0; i < g->n_nodes; i++)
        f_msg(w, 1, emit_node, &g->nodes[i]);
    f_str(w, 2, "backprop");
    for (int i = 0; i < g->n_inits; i++)
        f_msg(w, 5, emit_tensor, &g->inits[i]);
    f_msg(w, 11, emit_value_info, &g->in);
    for (int i = 0; i < g->n_out; i++)
        f_msg(w, 12, emit_value_info, &g->out[i]);
}

static void emit_opset(ow *w, const void *arg)
{
    (void)arg;
    f_str(w, 1, "");
    f_int(w, 2, ONNX_OPSET);
}

static void emit_prop(ow *w, const void *arg)
{
    const prop *p = arg;
    f_str(w, 1, p->key);
    f_str(w, 2, p->value);
}

static void emit_model(ow *w, const void *arg)
{
    const model *m = arg;
    f_int(w, 1, ONNX_IR_VERSION);
    f_str(w, 2, "backprop");
    f_str(w, 3, BP_VERSION);
    f_msg(w, 7, emit_graph, m->g);
    f_msg(w, 8, emit_opset, NULL);
    for (int i = 0; i < m->n_props; i++)
        f_msg(w, 14, emit_prop, &m->props[i]);
}

/* ------------------------------------------------------------------------ */
/* Building the graph                                                        */
/* ------------------------------------------------------------------------ */

static node *add_node(graph *g, const char *op, const char *a, const char *b, const char *c,
                      const char *out)
{
    node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    const char *in[3] = {a, b, c};
    for (int i = 0; i < 3 && in[i]; i++)
        snprintf(n->in[n->n_in++], NAME, "%s", in[i]);
    snprintf(n->out, NAME, "%s", out);
    return n;
}

static void add_init(graph *g, const char *name, int ndims, int64_t d0, int64_t d1,
                     const float *data)
{
    init *t = &g->inits[g->n_inits++];
    snprintf(t->name, NAME, "%s", name);
    t->ndims = ndims;
    t->dims[0] = d0, t->dims[1] = d1;
    t->data = data;
    t->count = (size_t)(ndims > 0 ? d0 : 1) * (size_t)(ndims > 1 ? d1 : 1);
}

static void build_graph(const bp_net *net, graph *g)
{
    int L = bp_net_n_layers(net);
    const float *p = bp_net_params_const(net);
    char cur[NAME] = "x", next[NAME];
    g->n_nodes = g->n_inits = 0;
    g->in = (value_info){"x", ELEM_FLOAT, 2, bp_net_size(net, 0)};
    if (bp_net_mean(net)) {
        add_init(g, "standardize_mean", 1, bp_net_size(net, 0), 0, bp_net_mean(net));
        add_init(g, "standardize_std", 1, bp_net_size(net, 0), 0, bp_net_std(net));
        add_node(g, "Sub", "x", "standardize_mean", NULL, "x_centred");
        add_node(g, "Div", "x_centred", "standardize_std", NULL, "x_standardized");
        snprintf(cur, NAME, "x_standardized");
    }
    for (int l = 0; l < L; l++) {
        char w[NAME], b[NAME];
        tensor_name(w, NAME, l, T_WEIGHT);
        tensor_name(b, NAME, l, T_BIAS);
        add_init(g, w, 2, bp_net_size(net, l + 1), bp_net_size(net, l),
                 p + bp_net_weight_offset(net, l));
        add_init(g, b, 1, bp_net_size(net, l + 1), 0, p + bp_net_bias_offset(net, l));
        snprintf(next, NAME, "z%d", l + 1);
        node *gemm = add_node(g, "Gemm", cur, w, b, next);
        gemm->attr = "transB", gemm->attr_type = ATTR_INT, gemm->attr_i = 1;
        snprintf(cur, NAME, "%s", next);
        bp_act a = bp_net_act(net, l + 1);
        const char *op = a == BP_ACT_SIGMOID ? "Sigmoid" : a == BP_ACT_RELU ? "Relu"
                         : a == BP_ACT_TANH ? "Tanh" : a == BP_ACT_LEAKY_RELU ? "LeakyRelu"
                         : NULL; /* identity; softmax below */
        if (!op)
            continue;
        snprintf(next, NAME, l + 1 == L ? "y" : "y%d", l + 1);
        node *n = add_node(g, op, cur, NULL, NULL, next);
        if (a == BP_ACT_LEAKY_RELU)
            n->attr = "alpha", n->attr_type = ATTR_FLOAT,
            n->attr_f = (float)bp_net_leaky_slope(net);
        snprintf(cur, NAME, "%s", next);
    }
    bp_loss loss = bp_net_loss(net);
    if (loss == BP_LOSS_SOFTMAX_CE) {
        g->T = (float)bp_net_temperature(net);
        add_init(g, "temperature", 0, 0, 0, &g->T);
        add_node(g, "Div", cur, "temperature", NULL, "z_over_T");
        node *n = add_node(g, "Softmax", "z_over_T", NULL, NULL, "y");
        n->attr = "axis", n->attr_type = ATTR_INT, n->attr_i = 1;
    } else if (strcmp(cur, "y") != 0) {
        /* an identity output layer: y is z(L) under its own name */
        add_node(g, "Identity", cur, NULL, NULL, "y");
    }
    g->out[0] = (value_info){"y", ELEM_FLOAT, 2, bp_net_size(net, L)};
    g->n_out = 1;
    if (loss != BP_LOSS_MSE) { /* a classifier: the most probable class too */
        node *n = add_node(g, "ArgMax", "y", NULL, NULL, "label");
        n->attr = "axis", n->attr_type = ATTR_INT, n->attr_i = 1;
        n->attr2 = "keepdims", n->attr2_i = 0;
        g->out[g->n_out++] = (value_info){"label", ELEM_INT64, 1, 0};
    }
}

static void add_prop(model *m, const char *key, const char *value)
{
    prop *p = &m->props[m->n_props++];
    p->key = key;
    snprintf(p->value, sizeof p->value, "%s", value);
}

static void build_props(const bp_net *net, model *m)
{
    int L = bp_net_n_layers(net);
    char sizes[(BP_MAX_LAYERS + 1) * 12], acts[BP_MAX_LAYERS * 16], num[32];
    size_t ns = 0, na = 0;
    for (int l = 0; l <= L; l++)
        ns += (size_t)snprintf(sizes + ns, sizeof sizes - ns, "%s%d", l ? "," : "",
                               bp_net_size(net, l));
    for (int l = 1; l <= L; l++)
        na += (size_t)snprintf(acts + na, sizeof acts - na, "%s%s", l > 1 ? "," : "",
                               bp_act_name(bp_net_act(net, l)));
    m->n_props = 0;
    add_prop(m, "sizes", sizes);
    add_prop(m, "activations", acts);
    add_prop(m, "loss", bp_loss_name(bp_net_loss(net)));
    add_prop(m, "backprop_version", BP_VERSION);
    if (bp_net_temperature(net) != 1.0) {
        bp_shortest_double(num, bp_net_temperature(net));
        add_prop(m, "temperature", num);
    }
    if (bp_net_leaky_slope(net) != (double)BP_LEAKY_SLOPE_DEFAULT) {
        bp_shortest_double(num, bp_net_leaky_slope(net));
        add_prop(m, "leaky_slope", num);
    }
}

/* Bytes of the weights alone, from the sizes: the file is larger by a few
 * kilobytes of names and framing, which the counting pass adds up. */
static double param_bytes(const bp_net *net)
{
    double n = 0;
    for (int l = 0; l < bp_net_n_layers(net); l++)
        n += ((double)bp_net_size(net, l) + 1) * bp_net_size(net, l + 1);
    return 4 * (n + 2.0 * bp_net_size(net, 0));
}

bp_status bp_onnx_check_size(const int *sizes, int L, const char *path, bp_error *err)
{
    double n = 0;
    for (int l = 0; l < L; l++)
        n += ((double)sizes[l] + 1) * sizes[l + 1];
    n = 4 * (n + 2.0 * sizes[0]);
    if (n > (double)ONNX_MAX_BYTES - 65536)
        return bp_fail(err, BP_ERR_ARG, "%s: the model's %.0f bytes of parameters exceed "
                       "ONNX's 2 GiB protobuf limit", path, n);
    return BP_OK;
}

bp_status bp_model_export_onnx(const bp_net *net, const char *path, bp_error *err)
{
    if (!net || !path)
        return bp_fail(err, BP_ERR_ARG, "bp_model_export_onnx: %s is NULL", net ? "path" : "net");
    if (param_bytes(net) > (double)ONNX_MAX_BYTES - 65536)
        return bp_fail(err, BP_ERR_ARG, "%s: the model's %.0f bytes of parameters exceed "
                       "ONNX's 2 GiB protobuf limit", path, param_bytes(net));
    static _Thread_local graph g; /* ~30 KB of names: off the stack */
    model m = {.g = &g};
    build_graph(net, &g);
    build_props(net, &m);
    ow count = {NULL, 0, true};
    emit_model(&count, &m);
    if (count.n > ONNX_MAX_BYTES)
        return bp_fail(err, BP_ERR_ARG, "%s: %llu bytes exceed ONNX's 2 GiB protobuf limit",
                       path, (unsigned long long)count.n);
    bp_atomic a;
    bp_status s = bp_atomic_open(&a, path, err);
    if (s != BP_OK)
        return s;
    ow w = {a.f, 0, true};
    emit_model(&w, &m);
    if (!w.ok) {
        int e = errno;
        bp_atomic_abort(&a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return bp_atomic_commit(&a, err);
}
