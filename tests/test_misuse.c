/*
 * test_misuse.c — every public function of backprop.h called with NULL for
 * each pointer, and with sizes and indices out of range. Each case runs in a
 * child process, so that a crash is seen as a crash: the case passes when
 * the child exits normally with the documented answer (a non-OK status, or
 * the value the header names) and, for a status, a message at
 * bp_last_error() that names the function or the limit. Under ASan+UBSan
 * (make asan) a sanitizer report or a leak makes the child exit non-zero,
 * so it fails the case too. (The ownership of Y(0) is test_y0's.)
 */
#include "check.h"
#include "tmpdir.h"

#include "backprop.h"
#include "backprop_ref.h"
#include "tools.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------ */
/* Fixtures, made once in the parent; the children inherit them            */
/* ------------------------------------------------------------------------ */

static int sizes[] = {3, 4, 2}, sizes_mse[] = {2, 3, 1};
static bp_act acts[] = {BP_ACT_TANH, BP_ACT_SOFTMAX}, acts_mse[] = {BP_ACT_TANH, BP_ACT_IDENTITY};
static bp_net *net, *mse;     /* 3-4-2 softmax_ce and 2-3-1 mse, max batch 4 */
static bp_optimizer *opt;     /* for net                                      */
static bp_optimizer *opt_mse; /* for mse: the wrong size for net              */
static int32_t split_perm[8];  /* bp_split_classes's output                    */
static bp_rng split_rng;
static int plateau_stop;
static bp_dataset *ds;        /* 8 labelled examples of 3 features, 2 classes */
static bp_dataset *ds_mse;    /* 8 examples of 2 features, 1 target           */
static bp_trace *trace_mse, *trace; /* of mse, of net */
static float x[4 * 3], t[4 * 2], t_nan[4 * 2], grad[64], y[16], mean[3] = {0}, std[3] = {1, 1, 1};
static double dparams[64], dgrad[64], dx[4] = {0.5, -1, 2, 0}, loss, crv[3] = {1, 0.5, 0.25};
static int32_t lab[4] = {0, 1, 1, 0}, lab7[4] = {0, 7, 1, 0}, idx[8] = {0, 1, 2, 3, 4, 5, 6, 7},
               idx_bad[2] = {0, 8};
static long confusion[4] = {1, 2, 3, 4};
static char where[64];
static bp_rng rng;
static int a_int;
static bp_act a_act;
static bp_loss a_loss;
static bp_opt_kind a_opt;
static bp_sched_kind a_sched;
static bp_device a_dev;
static bp_gemm a_gemm;
static bp_metrics metrics;
static const char *model_path, *ckpt_path, *csv_path;
/* set in main from BP_OPT_CONFIG_DEFAULT: sgd and adam at rate 0.1; a kind
 * out of range, a rate of 0, a NaN rate; zero-initialised */
static bp_opt_config sgd, adam, bad_kind, no_lr, nan_lr, zeroed;

static bp_targets TL(const int32_t *l) { return (bp_targets){NULL, l}; }
static bp_targets TT(const float *v) { return (bp_targets){v, NULL}; }
static const bp_targets T_NONE = {NULL, NULL};

/* ------------------------------------------------------------------------ */
/* What a case expects                                                       */
/* ------------------------------------------------------------------------ */

/* status want, and a message at bp_last_error() containing needle */
static int E(bp_status got, bp_status want, const char *needle)
{
    int ok = got == want && strstr(bp_last_error(), needle) != NULL;
    if (!ok)
        fprintf(stderr, "    got %s, wanted %s; message \"%s\", wanted \"%s\" in it\n",
                bp_status_string(got), bp_status_string(want), bp_last_error(), needle);
    return ok;
}

/* a value answer, and a message containing needle */
static int V(int ok, const char *needle)
{
    int m = strstr(bp_last_error(), needle) != NULL;
    if (!ok || !m)
        fprintf(stderr, "    value %s; message \"%s\", wanted \"%s\" in it\n",
                ok ? "right" : "wrong", bp_last_error(), needle);
    return ok && m;
}

/* a failed creation: NULL, and the message in err (and at bp_last_error) */
static int N(const void *p, const bp_error *err, const char *needle)
{
    int ok = !p && strstr(err->msg, needle) && strcmp(err->msg, bp_last_error()) == 0;
    if (!ok)
        fprintf(stderr, "    %s; message \"%s\", wanted \"%s\" in it\n", p ? "not NULL" : "NULL",
                err->msg, needle);
    return ok;
}

static bp_error err;

/* a configuration of net's, with one thing changed */
static bp_config cfg_net(void)
{
    return (bp_config){.size = sizeof(bp_config), .temperature = 1.0, .leaky_slope = BP_LEAKY_SLOPE_DEFAULT, .n_layers = 2, .sizes = sizes, .acts = acts, .loss = BP_LOSS_SOFTMAX_CE};
}

static int create_fails(bp_config c, int max_batch, const char *needle)
{
    bp_net *n = bp_net_create(&c, max_batch, &err);
    bp_net_free(n);
    return N(n, &err, needle);
}

/* a non-finite input to bp_predict(_rows): refused with its place named,
 * y untouched (a NaN output would look like an answer) */
static int predict_nonfinite(bp_status (*predict)(bp_net *, const float *, long, float *,
                                                  bp_error *),
                             float bad, const char *needle)
{
    float xb[2 * 3] = {0.5f, 1, -1, 2, 0, 0}, yb[4] = {7, 7, 7, 7};
    xb[4] = bad; /* row 1, column 1 */
    bp_status s = predict(net, xb, 2, yb, &err);
    int ok = s == BP_ERR_NONFINITE && strstr(err.msg, needle) &&
             strcmp(err.msg, bp_last_error()) == 0 && yb[0] == 7 && yb[3] == 7;
    if (!ok)
        fprintf(stderr, "    status %d, message \"%s\", wanted \"%s\"\n", s, err.msg, needle);
    return ok;
}

static int bad_layers(int L)
{
    bp_config c = cfg_net();
    c.n_layers = L;
    return create_fails(c, 4, "weight layers");
}

static int bad_width(int w)
{
    int s[3] = {3, w, 2};
    bp_config c = cfg_net();
    c.sizes = s;
    return create_fails(c, 4, "width");
}

static int bad_act(void)
{
    bp_act a[2] = {(bp_act)99, BP_ACT_SOFTMAX};
    bp_config c = cfg_net();
    c.acts = a;
    return create_fails(c, 4, "unknown activation");
}

static int bad_field(int which)
{
    bp_config c = cfg_net();
    switch (which) {
    case 0: c.loss = (bp_loss)99; return create_fails(c, 4, "unknown loss");
    case 1: c.device = (bp_device)99; return create_fails(c, 4, "unknown device");
    case 2: c.temperature = -1; return create_fails(c, 4, "temperature");
    case 3: c.temperature = NAN; return create_fails(c, 4, "temperature");
    case 4: c.size = 0; return create_fails(c, 4, "cfg->size is 0, not sizeof(bp_config)");
    case 5: return create_fails(c, 0, "maximum batch");
    case 6: return create_fails(c, -5, "maximum batch");
    case 7: c.sizes = NULL; return create_fails(c, 4, "cfg->sizes is NULL");
    case 8: c.acts = NULL; return create_fails(c, 4, "cfg->acts is NULL");
    }
    return 0;
}

/* absurdly large: refused as out of memory, not a crash or an overflow */
static int too_large(void)
{
    int s[3] = {BP_MAX_WIDTH, BP_MAX_WIDTH, BP_MAX_WIDTH};
    bp_act a[2] = {BP_ACT_TANH, BP_ACT_IDENTITY};
    bp_config c = {.size = sizeof(bp_config), .temperature = 1.0, .leaky_slope = BP_LEAKY_SLOPE_DEFAULT, .n_layers = 2, .sizes = s, .acts = a};
    bp_net *n = bp_net_create(&c, INT_MAX, &err);
    bp_net_free(n);
    return !n && err.msg[0];
}

/* the parameters are as they were after a refused call */
static uint64_t digest(bp_net *n)
{
    const float *p = bp_net_params_const(n);
    uint64_t h = 1469598103934665603ULL;
    for (size_t k = 0; k < bp_net_n_params(n) * sizeof(float); k++)
        h = (h ^ ((const unsigned char *)p)[k]) * 1099511628211ULL;
    return h;
}

static int train_step_refused(bp_net *n, bp_optimizer *o, const float *xx, bp_targets tg, int M,
                              bp_status want, const char *needle)
{
    uint64_t before = digest(n);
    long steps = bp_optimizer_steps(o);
    int ok = E(bp_train_step(n, o, xx, tg, M, &loss), want, needle);
    return ok && digest(n) == before && bp_optimizer_steps(o) == steps;
}

static int step_refused(size_t n, double scale, const char *needle)
{
    float p[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1};
    bp_optimizer *o = bp_optimizer_create(&sgd, 4, NULL);
    double norm = -1;
    bp_status s = bp_optimizer_step_scaled(o, p, g, n, scale, &norm);
    int ok = V(s == BP_ERR_ARG && norm == -1 && p[0] == 1 && p[3] == 4 && bp_optimizer_steps(o) == 0, needle);
    bp_optimizer_free(o);
    return ok;
}

static int opt_fails(const bp_opt_config *c, size_t n, const char *needle)
{
    bp_optimizer *o = bp_optimizer_create(c, n, &err);
    bp_optimizer_free(o);
    return N(o, &err, needle);
}

static int mem_fails(const float *xx, const float *tt, const int32_t *ll, long n, int n_in,
                     int n_out, const char *needle)
{
    bp_dataset *d = bp_dataset_from_memory(xx, tt, ll, n, n_in, n_out, &err);
    bp_dataset_free(d);
    return N(d, &err, needle);
}

static int mem64_fails(const double *xx, const int32_t *ll, int n_in, const char *needle)
{
    bp_dataset *d = bp_dataset_from_memory_f64(xx, NULL, ll, 1, n_in, 2, &err);
    bp_dataset_free(d);
    return N(d, &err, needle);
}

/* doubles become the floats they round to: one example, whose per-feature
 * mean is its own value */
static int mem64_rounds(void)
{
    const double v[3] = {0.1, -1e30, 3.4e38};
    const int32_t l[1] = {1};
    float m[3], sd[3];
    bp_dataset *d = bp_dataset_from_memory_f64(v, NULL, l, 1, 3, 2, &err);
    int ok = d && bp_dataset_n(d) == 1 && bp_dataset_has_labels(d) &&
             bp_dataset_moments(d, (const int32_t[]){0}, 1, m, sd) == BP_OK;
    for (int j = 0; ok && j < 3; j++)
        ok = m[j] == (float)v[j];
    bp_dataset_free(d);
    return ok;
}

static int load_fails(const char *path, int max_batch, int out, const char *needle)
{
    bp_net *n = NULL;
    bp_status s = bp_model_load(path, max_batch, out ? &n : NULL, &err);
    bp_net_free(n);
    return E(s, BP_ERR_ARG, needle) && !n;
}

static int ds_load_fails(int which)
{
    bp_dataset *d = NULL;
    bp_status s = BP_OK;
    switch (which) {
    case 0: s = bp_dataset_load_idx(NULL, "train", &d, &err); break;
    case 1: s = bp_dataset_load_idx("/tmp", NULL, &d, &err); break;
    case 2: s = bp_dataset_load_idx("/tmp", "train", NULL, &err); break;
    case 3: s = bp_dataset_load_csv(NULL, 0, &d, &err); break;
    case 4: s = bp_dataset_load_csv(csv_path, 0, NULL, &err); break;
    case 5: s = bp_dataset_load_csv(csv_path, -1, &d, &err); break;
    case 6: s = bp_dataset_load_fann(NULL, &d, &err); break;
    case 7: s = bp_dataset_load_fann(csv_path, NULL, &err); break;
    }
    bp_dataset_free(d);
    return s == BP_ERR_ARG && !d && err.msg[0];
}

static int csv_read_fails(int which)
{
    float *data = NULL;
    int r, c;
    bp_status s = bp_csv_read(which == 0 ? NULL : csv_path, which == 1 ? NULL : &data,
                              which == 2 ? NULL : &r, which == 3 ? NULL : &c, &err);
    free(data);
    return E(s, BP_ERR_ARG, "is NULL");
}

static int fit_fails(bp_net *n, const bp_dataset *d, const bp_opt_config *o, int epochs,
                     int batch, double val, bp_status want, const char *needle)
{
    double tl[4], vl[4];
    uint64_t before = n ? digest(n) : 0;
    bp_status s = bp_fit(n, d, o, epochs, batch, 1, val, tl, vl, &err);
    return E(s, want, needle) && strcmp(err.msg, bp_last_error()) == 0 &&
           (!n || digest(n) == before);
}

/* moments and gather write nothing on a bad argument */
static int moments_refused(const bp_dataset *d, const int32_t *ii, int n, int null_mean)
{
    float m[3] = {7, 7, 7}, s[3] = {7, 7, 7};
    bp_dataset_moments(d, ii, n, null_mean ? NULL : m, s);
    return V(m[0] == 7 && s[0] == 7, "bp_dataset_moments");
}

static int gather_refused(const bp_dataset *d, const int32_t *ii, int M, int null_x)
{
    float xx[8] = {7};
    int32_t l[2] = {7, 7};
    bp_dataset_gather(d, ii, M, NULL, NULL, null_x ? NULL : xx, NULL, l);
    return V(xx[0] == 7 && l[0] == 7, "bp_dataset_gather");
}

static int shuffle_ok(bp_rng *r, int32_t *ii, int n)
{
    bp_shuffle(r, ii, n);
    return 1;
}

static int no_crash(void) { return 1; }

/* ------------------------------------------------------------------------ */
/* The cases: one expression each, true when the call answered as documented */
/* ------------------------------------------------------------------------ */

#define CASES(X)                                                                                   \
    /* names and parsing */                                                                        \
    X(strcmp(bp_status_string((bp_status)99), "unknown status") == 0)                              \
    X(strcmp(bp_act_name((bp_act)-1), "unknown") == 0 && strcmp(bp_act_name(BP_ACT_COUNT), "unknown") == 0) \
    X(strcmp(bp_loss_name((bp_loss)99), "unknown") == 0)                                           \
    X(strcmp(bp_opt_name((bp_opt_kind)99), "unknown") == 0)                                        \
    X(strcmp(bp_sched_name((bp_sched_kind)99), "unknown") == 0)                                    \
    X(strcmp(bp_device_name((bp_device)99), "unknown") == 0)                                       \
    X(isnan(bp_act_f((bp_act)99, 0.5, 0.01)) && isnan(bp_act_df((bp_act)99, 0.5, 0.5, 0.01)))      \
    X(E(bp_act_parse(NULL, &a_act), BP_ERR_ARG, "bp_act_parse: name is NULL"))                    \
    X(E(bp_act_parse("relu", NULL), BP_ERR_ARG, "bp_act_parse: out is NULL"))                     \
    X(E(bp_act_parse("rel", &a_act), BP_ERR_ARG, "unknown name \"rel\""))                         \
    X(E(bp_loss_parse(NULL, &a_loss), BP_ERR_ARG, "bp_loss_parse"))                               \
    X(E(bp_loss_parse("mse", NULL), BP_ERR_ARG, "bp_loss_parse"))                                 \
    X(E(bp_opt_parse(NULL, &a_opt), BP_ERR_ARG, "bp_opt_parse"))                                  \
    X(E(bp_opt_parse("adam", NULL), BP_ERR_ARG, "bp_opt_parse"))                                  \
    X(E(bp_sched_parse(NULL, &a_sched), BP_ERR_ARG, "bp_sched_parse"))                            \
    X(E(bp_sched_parse("step", NULL), BP_ERR_ARG, "bp_sched_parse"))                              \
    X(E(bp_device_parse(NULL, &a_dev), BP_ERR_ARG, "bp_device_parse"))                           \
    X(E(bp_device_parse("cpu", NULL), BP_ERR_ARG, "bp_device_parse"))                             \
    /* devices */                                                                                  \
    X(E(bp_cuda_use_gpu(-1, &err), BP_ERR_ARG, ""))                                                \
    X(bp_cuda_probe(NULL) == BP_OK || bp_last_error()[0])                                          \
    X(E(bp_net_set_device(NULL, BP_DEVICE_CPU, NULL), BP_ERR_ARG, "bp_net_set_device: net is NULL")) \
    X(E(bp_net_set_device(net, (bp_device)99, NULL), BP_ERR_ARG, "unknown device 99"))           \
    X(V(bp_net_device(NULL) == BP_DEVICE_COUNT, "bp_net_device"))                                 \
    X(E(bp_net_set_tf32(NULL, 1), BP_ERR_ARG, "bp_net_set_tf32"))                                 \
    /* the GEMM provider */                                                                        \
    X(strcmp(bp_gemm_name((bp_gemm)99), "?") == 0 && !bp_gemm_available((bp_gemm)99))             \
    X(E(bp_gemm_parse(NULL, &a_gemm), BP_ERR_ARG, "bp_gemm_parse: name is NULL"))                 \
    X(E(bp_gemm_parse("cblas", NULL), BP_ERR_ARG, "bp_gemm_parse: out is NULL"))                  \
    X(E(bp_gemm_parse("mkl", &a_gemm), BP_ERR_ARG, "unknown name"))                               \
    X((bp_gemm_info(BP_GEMM_CBLAS, NULL, 10), bp_gemm_isa(BP_GEMM_CBLAS, NULL, 10), 1))           \
    X((bp_gemm_info((bp_gemm)99, where, sizeof where), bp_gemm_isa((bp_gemm)99, where, sizeof where), 1)) \
    X(E(bp_net_set_gemm(NULL, BP_GEMM_CBLAS), BP_ERR_ARG, "bp_net_set_gemm: net is NULL"))       \
    X(E(bp_net_set_gemm(net, (bp_gemm)99), BP_ERR_ARG, "not in this build"))                      \
    X(V(bp_net_gemm(NULL) == BP_GEMM_CBLAS, "bp_net_gemm"))                                       \
    /* creation */                                                                                 \
    X(N(bp_net_create(NULL, 4, &err), &err, "bp_net_create: cfg is NULL"))                         \
    X(bad_field(7) && bad_field(8))                                                                \
    X(bad_layers(0) && bad_layers(-1) && bad_layers(BP_MAX_LAYERS + 1))                            \
    X(bad_width(0) && bad_width(-3) && bad_width(BP_MAX_WIDTH + 1))                               \
    X(bad_act())                                                                                   \
    X(bad_field(0) && bad_field(1))                                                                \
    X(bad_field(2) && bad_field(3))                                                                \
    X(bad_field(4))                                                                                \
    X(bad_field(5) && bad_field(6))                                                                \
    X(too_large())                                                                                 \
    X((bp_net_free(NULL), 1))                                                                      \
    /* the network's accessors */                                                                  \
    X(V(bp_net_n_layers(NULL) == 0, "bp_net_n_layers: net is NULL"))                              \
    X(V(bp_net_size(NULL, 0) == 0, "bp_net_size: net is NULL"))                                   \
    X(V(bp_net_size(net, 99) == 0, "layer 99 not in 0..2"))                                       \
    X(V(bp_net_size(net, -1) == 0, "layer -1 not in 0..2"))                                       \
    X(V(bp_net_act(NULL, 1) == BP_ACT_COUNT, "bp_net_act"))                                       \
    X(V(bp_net_act(net, 0) == BP_ACT_COUNT, "layer 0 not in 1..2"))                               \
    X(V(bp_net_act(net, 3) == BP_ACT_COUNT, "layer 3 not in 1..2"))                               \
    X(V(bp_net_loss(NULL) == BP_LOSS_COUNT, "bp_net_loss"))                                       \
    X(V(isnan(bp_net_temperature(NULL)), "bp_net_temperature"))                                   \
    X(V(isnan(bp_net_leaky_slope(NULL)), "bp_net_leaky_slope"))                                   \
    X(V(bp_net_max_batch(NULL) == 0, "bp_net_max_batch"))                                         \
    X(V(bp_net_n_params(NULL) == 0, "bp_net_n_params: net is NULL"))                              \
    X(V(bp_net_params(NULL) == NULL, "bp_net_params"))                                            \
    X(V(bp_net_params_const(NULL) == NULL, "bp_net_params_const"))                                \
    X(V(bp_net_grads(NULL) == NULL, "bp_net_grads"))                                              \
    X(V(bp_net_weight_offset(NULL, 0) == SIZE_MAX, "bp_net_weight_offset"))                       \
    X(V(bp_net_weight_offset(net, 5) == SIZE_MAX, "layer 5 not in 0..1"))                         \
    X(V(bp_net_weight_offset(net, -1) == SIZE_MAX, "layer -1 not in 0..1"))                       \
    X(V(bp_net_bias_offset(net, 2) == SIZE_MAX, "layer 2 not in 0..1"))                           \
    X(V(bp_net_bias_offset(NULL, 0) == SIZE_MAX, "bp_net_bias_offset"))                           \
    X(E(bp_net_set_standardize(NULL, mean, std), BP_ERR_ARG, "bp_net_set_standardize: net"))     \
    X(E(bp_net_set_standardize(net, NULL, std), BP_ERR_ARG, "mean is NULL") && !bp_net_mean(net)) \
    X(E(bp_net_set_standardize(net, mean, NULL), BP_ERR_ARG, "std is NULL") && !bp_net_std(net))  \
    X(E(bp_net_set_standardize(net, mean, (float[]){1, 0, 1}), BP_ERR_ARG, "feature 1"))         \
    X(E(bp_net_set_standardize(net, (float[]){NAN, 0, 0}, std), BP_ERR_ARG, "feature 0"))        \
    X(V(bp_net_mean(NULL) == NULL && bp_net_std(NULL) == NULL, "bp_net_std"))                     \
    X(E(bp_net_set_threads(NULL, 2), BP_ERR_ARG, "bp_net_set_threads"))                           \
    X(V(bp_net_threads(NULL) == 0, "bp_net_threads"))                                             \
    X(bp_net_set_threads(net, 1 << 30) == BP_OK && bp_net_threads(net) <= 256 &&                  \
      bp_net_set_threads(net, 1) == BP_OK)                                                         \
    X((bp_net_init(NULL, 1), V(1, "bp_net_init: net is NULL")))                                   \
    /* the batch form */                                                                           \
    X(E(bp_forward(NULL, x, 1), BP_ERR_ARG, "bp_forward: net is NULL"))                           \
    X(E(bp_forward(net, NULL, 1), BP_ERR_ARG, "bp_forward: x is NULL"))                           \
    X(E(bp_forward(net, x, 0), BP_ERR_ARG, "M = 0 not in 1..max_batch 4"))                        \
    X(E(bp_forward(net, x, -1), BP_ERR_ARG, "M = -1"))                                            \
    X(E(bp_forward(net, x, 300), BP_ERR_ARG, "M = 300 not in 1..max_batch 4"))                    \
    X(V(bp_net_output(NULL) == NULL, "bp_net_output"))                                            \
    X(E(bp_loss_value(NULL, TL(lab), &loss), BP_ERR_ARG, "bp_loss_value: net is NULL"))           \
    X(E(bp_loss_value(net, TL(lab), &loss), BP_ERR_ARG, "no forward pass"))                       \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_loss_value(net, TL(lab), NULL), BP_ERR_ARG, "loss is NULL")) \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_loss_value(net, T_NONE, &loss), BP_ERR_ARG, "exactly one")) \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_loss_value(net, (bp_targets){t, lab}, &loss), BP_ERR_ARG, "both given")) \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_loss_value(net, TL(lab7), &loss), BP_ERR_ARG, "label 7 not in 0..1")) \
    X(E(bp_backward(NULL, TL(lab), &loss), BP_ERR_ARG, "bp_backward: net is NULL"))               \
    X(E(bp_backward(net, TL(lab), &loss), BP_ERR_ARG, "no forward pass to go back through"))     \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_backward(net, T_NONE, &loss), BP_ERR_ARG, "exactly one")) \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_backward(net, TL(lab7), &loss), BP_ERR_ARG, "label 7 not in 0..1")) \
    X(bp_forward(net, x, 4) == BP_OK && E(bp_backward(net, TL((int32_t[]){0, -2, 0, 0}), NULL), BP_ERR_ARG, "label -2")) \
    X(bp_forward(mse, x, 2) == BP_OK && E(bp_backward(mse, TL(lab), &loss), BP_ERR_ARG, "need loss softmax_ce")) \
    X(E(bp_predict(NULL, x, 1, y, &err), BP_ERR_ARG, "bp_predict: net is NULL"))                  \
    X(E(bp_predict(net, NULL, 1, y, &err), BP_ERR_ARG, "x is NULL"))                              \
    X(E(bp_predict(net, x, 1, NULL, &err), BP_ERR_ARG, "y is NULL"))                              \
    X(E(bp_predict(net, x, -1, y, &err), BP_ERR_ARG, "n = -1"))                                   \
    X(bp_predict(net, x, 0, y, NULL) == BP_OK)                                                     \
    X(predict_nonfinite(bp_predict, NAN, "bp_predict: x[1][1] = nan"))                            \
    X(predict_nonfinite(bp_predict_rows, -INFINITY, "bp_predict_rows: x[1][1] = -inf"))          \
    X(E(bp_predict_rows(NULL, x, 1, y, &err), BP_ERR_ARG, "bp_predict_rows: net is NULL"))        \
    X(E(bp_predict_rows(net, NULL, 1, y, &err), BP_ERR_ARG, "x is NULL"))                         \
    X(E(bp_predict_rows(net, x, -1, y, &err), BP_ERR_ARG, "n = -1"))                              \
    X(E(bp_net_find_nonfinite(NULL, where, sizeof where), BP_ERR_ARG, "bp_net_find_nonfinite"))   \
    X(E(bp_net_find_nonfinite(net, NULL, 10), BP_ERR_ARG, "where is NULL"))                       \
    /* the vector and scalar forms */                                                              \
    X(E(bp_vector_gradient(NULL, x, NULL, 0, grad, &loss), BP_ERR_ARG, "bp_vector_gradient"))     \
    X(E(bp_vector_gradient(net, NULL, NULL, 0, grad, &loss), BP_ERR_ARG, "x is NULL"))            \
    X(E(bp_vector_gradient(net, x, NULL, 0, NULL, &loss), BP_ERR_ARG, "grad is NULL"))            \
    X(E(bp_vector_gradient(net, x, NULL, 7, grad, &loss), BP_ERR_ARG, "label 7 not in 0..1"))     \
    X(E(bp_vector_gradient(net, x, NULL, -1, grad, &loss), BP_ERR_ARG, "label -1"))               \
    X(E(bp_vector_gradient(mse, x, NULL, 0, grad, &loss), BP_ERR_ARG, "softmax_ce"))              \
    X(V(bp_trace_create(NULL) == NULL, "bp_trace_create"))                                        \
    X((bp_trace_free(NULL), 1))                                                                    \
    X(E(bp_scalar_gradient(NULL, dparams, x, TL(lab), 1, dgrad, &loss, NULL), BP_ERR_ARG, "net is NULL")) \
    X(E(bp_scalar_gradient(net, NULL, x, TL(lab), 1, dgrad, &loss, NULL), BP_ERR_ARG, "params is NULL")) \
    X(E(bp_scalar_gradient(net, dparams, NULL, TL(lab), 1, dgrad, &loss, NULL), BP_ERR_ARG, "x is NULL")) \
    X(E(bp_scalar_gradient(net, dparams, x, TL(lab), 1, NULL, &loss, NULL), BP_ERR_ARG, "grad is NULL")) \
    X(E(bp_scalar_gradient(net, dparams, x, TL(lab), 0, dgrad, &loss, NULL), BP_ERR_ARG, "M = 0")) \
    X(E(bp_scalar_gradient(net, dparams, x, T_NONE, 1, dgrad, &loss, NULL), BP_ERR_ARG, "exactly one")) \
    X(E(bp_scalar_gradient(net, dparams, x, TL(lab7), 4, dgrad, &loss, NULL), BP_ERR_ARG, "label 7")) \
    X(E(bp_scalar_gradient(net, dparams, x, TL(lab), 1, dgrad, &loss, trace_mse), BP_ERR_SHAPE, "trace")) \
    X(E(bp_scalar_example(NULL, dparams, dx, NULL, 0, dgrad, &loss, trace), BP_ERR_ARG, "bp_scalar_example: net is NULL")) \
    X(E(bp_scalar_example(net, NULL, dx, NULL, 0, dgrad, &loss, trace), BP_ERR_ARG, "params is NULL")) \
    X(E(bp_scalar_example(net, dparams, NULL, NULL, 0, dgrad, &loss, trace), BP_ERR_ARG, "x is NULL")) \
    X(E(bp_scalar_example(net, dparams, dx, NULL, 0, NULL, &loss, trace), BP_ERR_ARG, "grad is NULL")) \
    X(E(bp_scalar_example(net, dparams, dx, NULL, 0, dgrad, &loss, NULL), BP_ERR_ARG, "trace is NULL")) \
    X(E(bp_scalar_example(net, dparams, dx, NULL, 0, dgrad, &loss, trace_mse), BP_ERR_SHAPE, "another network's")) \
    X(E(bp_scalar_example(net, dparams, dx, NULL, 2, dgrad, &loss, trace), BP_ERR_ARG, "label 2 not in 0..1")) \
    X(E(bp_scalar_example(net, dparams, dx, NULL, -1, dgrad, &loss, trace), BP_ERR_ARG, "label -1")) \
    X(E(bp_scalar_example(mse, dparams, dx, NULL, 0, dgrad, &loss, trace_mse), BP_ERR_ARG, "softmax_ce")) \
    X(bp_scalar_example(mse, dparams, dx, dx, 0, dgrad, NULL, trace_mse) == BP_OK)              \
    /* optimisers */                                                                               \
    X(opt_fails(NULL, 10, "bp_optimizer_create: cfg is NULL"))                                     \
    X(opt_fails(&sgd, 0, "n_params is 0"))                                                         \
    X(opt_fails(&bad_kind, 10, "unknown kind"))           \
    X(opt_fails(&no_lr, 10, "learning rate 0"))                                                   \
    X(opt_fails(&zeroed, 10, "cfg->size is 0, not sizeof(bp_opt_config)"))                      \
    X(opt_fails(&nan_lr, 10, "learning rate nan"))         \
    X((bp_optimizer_free(NULL), 1))                                                                \
    X(E(bp_optimizer_step(NULL, grad, grad, 4, NULL), BP_ERR_ARG, "bp_optimizer_step: opt is NULL")) \
    X(E(bp_optimizer_step(opt_mse, NULL, grad, bp_net_n_params(mse), NULL), BP_ERR_ARG,            \
        "params is NULL"))                                                                         \
    X(E(bp_optimizer_step(opt_mse, grad, NULL, bp_net_n_params(mse), NULL), BP_ERR_ARG,            \
        "grads is NULL"))                                                                          \
    X(step_refused(3, 1, "optimiser holds 4 parameters, the buffers 3"))                           \
    X(step_refused(5, 1, "optimiser holds 4 parameters, the buffers 5"))                           \
    X(step_refused(4, NAN, "scale nan"))                                                           \
    X(strcmp(bp_version(), BP_VERSION) == 0)                                                       \
    X((bp_free(NULL), 1))                                                                          \
    X(V(isnan(bp_optimizer_lr(NULL)), "bp_optimizer_lr"))                                         \
    X(V(bp_optimizer_steps(NULL) == -1, "bp_optimizer_steps"))                                    \
    X(V(bp_optimizer_examples(NULL) == -1, "bp_optimizer_examples"))                              \
    X(E(bp_net_init_uniform(NULL, 1, 6), BP_ERR_ARG, "bp_net_init_uniform: net is NULL"))       \
    X(E(bp_net_init_uniform(net, 1, -1), BP_ERR_ARG, "gain -1"))                                \
    X(E(bp_optimizer_plateau(NULL, &plateau_stop), BP_ERR_ARG, "bp_optimizer_plateau: opt"))       \
    X(E(bp_optimizer_plateau(opt, NULL), BP_ERR_ARG, "bp_optimizer_plateau: stop"))                \
    X(E(bp_split_classes(1, NULL, 4, 2, 1, split_perm, &split_rng), BP_ERR_ARG, "labels is NULL")) \
    X(E(bp_split_classes(1, lab, 4, 2, 1, NULL, &split_rng), BP_ERR_ARG, "perm is NULL"))          \
    X(E(bp_split_classes(1, lab, 4, 2, 1, split_perm, NULL), BP_ERR_ARG, "rng is NULL"))           \
    X(E(bp_split_classes(1, lab, 4, 2, 4, split_perm, &split_rng), BP_ERR_ARG, "n_val = 4"))      \
    X(E(bp_split_classes(1, lab, 4, 1, 1, split_perm, &split_rng), BP_ERR_ARG, "not in 0..0"))    \
    X(E(bp_train_step(NULL, opt, x, TL(lab), 4, &loss), BP_ERR_ARG, "bp_train_step: net is NULL")) \
    X(E(bp_train_step(net, NULL, x, TL(lab), 4, &loss), BP_ERR_ARG, "bp_train_step: opt is NULL")) \
    X(train_step_refused(net, opt, NULL, TL(lab), 4, BP_ERR_ARG, "x is NULL"))                     \
    X(train_step_refused(net, opt, x, TL(lab), 0, BP_ERR_ARG, "M = 0 not in 1..max_batch 4"))      \
    X(train_step_refused(net, opt, x, TL(lab), 5, BP_ERR_ARG, "M = 5 not in 1..max_batch 4"))      \
    X(train_step_refused(net, opt, x, TL(lab7), 4, BP_ERR_ARG, "label 7 not in 0..1"))             \
    X(train_step_refused(net, opt, x, T_NONE, 4, BP_ERR_ARG, "exactly one"))                       \
    X(train_step_refused(net, opt_mse, x, TL(lab), 4, BP_ERR_ARG, "optimiser holds 13 parameters, the network 26")) \
    X(train_step_refused(mse, opt_mse, x, TT(t_nan), 2, BP_ERR_NONFINITE, "batch loss is nan"))    \
    X(E(bp_train_epoch(NULL, opt, ds, idx, 8, 4, NULL, &loss, NULL), BP_ERR_ARG, "bp_train_epoch: net is NULL")) \
    X(E(bp_train_epoch(net, NULL, ds, idx, 8, 4, NULL, &loss, NULL), BP_ERR_ARG, "opt is NULL"))   \
    X(E(bp_train_epoch(net, opt, NULL, idx, 8, 4, NULL, &loss, NULL), BP_ERR_ARG, "ds is NULL"))   \
    X(E(bp_train_epoch(net, opt, ds, NULL, 8, 4, NULL, &loss, NULL), BP_ERR_ARG, "idx is NULL"))   \
    X(E(bp_train_epoch(net, opt, ds, idx, 8, 4, NULL, NULL, NULL), BP_ERR_ARG, "loss_sum is NULL")) \
    X(E(bp_train_epoch(net, opt, ds, idx, 0, 4, NULL, &loss, NULL), BP_ERR_ARG, "n = 0"))         \
    X(E(bp_train_epoch(net, opt, ds, idx, 8, 0, NULL, &loss, NULL), BP_ERR_ARG, "batch 0 not in 1..max_batch 4")) \
    X(E(bp_train_epoch(net, opt, ds, idx, 8, 5, NULL, &loss, NULL), BP_ERR_ARG, "batch 5 not in 1..max_batch 4")) \
    X(E(bp_train_epoch(net, opt, ds, idx_bad, 2, 2, NULL, &loss, NULL), BP_ERR_ARG, "idx[1] = 8 not in 0..7")) \
    X(E(bp_train_epoch(net, opt_mse, ds, idx, 8, 4, NULL, &loss, NULL), BP_ERR_ARG, "optimiser holds")) \
    X(E(bp_train_epoch(mse, opt_mse, ds, idx, 8, 4, NULL, &loss, NULL), BP_ERR_SHAPE, "3 features, the network 2")) \
    X(E(bp_train_epoch(net, opt, ds, idx, 8, 4, &(bp_epoch_hooks){0}, &loss, NULL), BP_ERR_ARG,  \
        "hooks->size is 0, not sizeof(bp_epoch_hooks)"))                                          \
    /* files */                                                                                    \
    X(E(bp_model_save(NULL, model_path, &err), BP_ERR_ARG, "net is NULL"))                        \
    X(E(bp_model_save(net, NULL, &err), BP_ERR_ARG, "path is NULL"))                              \
    X(E(bp_model_export_onnx(NULL, model_path, &err), BP_ERR_ARG, "net is NULL"))                 \
    X(E(bp_model_export_onnx(net, NULL, &err), BP_ERR_ARG, "path is NULL"))                       \
    X(load_fails(NULL, 4, 1, "path is NULL"))                                                     \
    X(load_fails(model_path, 0, 1, "max_batch 0"))                                                \
    X(load_fails(model_path, 4, 0, "out is NULL"))                                                \
    X(E(bp_grads_save(NULL, grad, 1, model_path, &err), BP_ERR_ARG, "net is NULL"))               \
    X(E(bp_grads_save(net, NULL, 1, model_path, &err), BP_ERR_ARG, "grads is NULL"))              \
    X(E(bp_grads_save(net, grad, 1, NULL, &err), BP_ERR_ARG, "path is NULL"))                     \
    X(E(bp_checkpoint_save(NULL, net, opt, NULL, 0, &err), BP_ERR_ARG, "path is NULL"))           \
    X(E(bp_checkpoint_save(ckpt_path, NULL, opt, NULL, 0, &err), BP_ERR_ARG, "net is NULL"))      \
    X(E(bp_checkpoint_save(ckpt_path, net, NULL, NULL, 0, &err), BP_ERR_ARG, "opt is NULL"))      \
    X(E(bp_checkpoint_save(ckpt_path, net, opt, NULL, 1, &err), BP_ERR_ARG, "1 blobs"))           \
    X(E(bp_checkpoint_save(ckpt_path, net, opt, NULL, -1, &err), BP_ERR_ARG, "-1 blobs"))         \
    X(E(bp_checkpoint_save(ckpt_path, net, opt, &(bp_blob){NULL, &a_int, 4}, 1, &err), BP_ERR_ARG, "NULL name")) \
    X(E(bp_checkpoint_save(ckpt_path, net, opt, &(bp_blob){"b", NULL, 4}, 1, &err), BP_ERR_ARG, "NULL data")) \
    X(E(bp_checkpoint_save(ckpt_path, net, opt_mse, NULL, 0, &err), BP_ERR_ARG, "parameters"))    \
    X(E(bp_checkpoint_load(NULL, net, opt, NULL, 0, &err), BP_ERR_ARG, "path is NULL"))           \
    X(E(bp_checkpoint_load(ckpt_path, NULL, opt, NULL, 0, &err), BP_ERR_ARG, "net is NULL"))      \
    X(E(bp_checkpoint_load(ckpt_path, net, NULL, NULL, 0, &err), BP_ERR_ARG, "opt is NULL"))      \
    X(E(bp_checkpoint_load(ckpt_path, net, opt, NULL, 2, &err), BP_ERR_ARG, "2 blobs"))           \
    X(E(bp_checkpoint_load(ckpt_path, net, opt_mse, NULL, 0, &err), BP_ERR_ARG, "parameters"))    \
    X(csv_read_fails(0) && csv_read_fails(1) && csv_read_fails(2) && csv_read_fails(3))            \
    X(E(bp_csv_write(NULL, x, 1, 1, &err), BP_ERR_ARG, "path is NULL"))                           \
    X(E(bp_csv_write(csv_path, NULL, 1, 1, &err), BP_ERR_ARG, "NULL data"))                       \
    X(E(bp_csv_write(csv_path, x, -1, 1, &err), BP_ERR_ARG, "bad shape"))                         \
    X(E(bp_csv_write(csv_path, x, 1, 0, &err), BP_ERR_ARG, "bad shape"))                          \
    /* data sets */                                                                                \
    X(ds_load_fails(0) && ds_load_fails(1) && ds_load_fails(2))                                    \
    X(ds_load_fails(3) && ds_load_fails(4) && ds_load_fails(5))                                    \
    X(ds_load_fails(6) && ds_load_fails(7))                                                        \
    X((bp_dataset_free(NULL), 1))                                                                  \
    X(bp_dataset_n(NULL) == 0 && bp_dataset_n_in(NULL) == 0 && bp_dataset_n_out(NULL) == 0 &&     \
      bp_dataset_has_labels(NULL) == 0)                                                            \
    X(mem_fails(NULL, t, NULL, 4, 3, 2, "x is NULL"))                                              \
    X(mem_fails(x, NULL, NULL, 4, 3, 2, "both NULL"))                                              \
    X(mem_fails(x, t, lab, 4, 3, 2, "both given"))                                                 \
    X(mem_fails(x, t, NULL, 0, 3, 2, "n = 0"))                                                     \
    X(mem_fails(x, t, NULL, -4, 3, 2, "n = -4"))                                                   \
    X(mem_fails(x, t, NULL, 1L << 40, 3, 2, "n = 1099511627776"))                                  \
    X(mem_fails(x, t, NULL, 4, 0, 2, "n_in 0"))                                                    \
    X(mem_fails(x, t, NULL, 4, 3, 0, "n_out 0"))                                                   \
    X(mem_fails(x, NULL, lab7, 4, 3, 2, "example 1: label 7 not in 0..1"))                         \
    X(mem_fails(x, t_nan, NULL, 4, 2, 1, "is nan"))                                                \
    X(mem64_fails(NULL, lab, 3, "bp_dataset_from_memory_f64: x is NULL"))                         \
    X(mem64_fails((const double[]){0, NAN, 1}, lab, 3, "feature 1 is nan"))                        \
    X(mem64_fails((const double[]){0, 1, -INFINITY}, lab, 3, "feature 2 is -inf"))                 \
    X(mem64_fails((const double[]){1e300, 0, 1}, lab, 3, "1e+300, beyond float's range"))          \
    X(mem64_fails((const double[]){0, 0, 1}, lab7 + 1, 3, "label 7 not in 0..1"))                  \
    X(mem64_rounds())                                                                              \
    X(moments_refused(NULL, idx, 8, 0))                                                            \
    X(moments_refused(ds, NULL, 8, 0))                                                             \
    X(moments_refused(ds, idx, 8, 1))                                                              \
    X(moments_refused(ds, idx_bad, 2, 0))                                                          \
    X(moments_refused(ds, idx, -1, 0))                                                             \
    X(gather_refused(NULL, idx, 2, 0))                                                             \
    X(gather_refused(ds, NULL, 2, 0))                                                              \
    X(gather_refused(ds, idx, 2, 1))                                                               \
    X(gather_refused(ds, idx_bad, 2, 0))                                                           \
    X(gather_refused(ds, idx, -2, 0))                                                              \
    X(E(bp_evaluate(NULL, ds, idx, 8, &metrics, NULL), BP_ERR_ARG, "bp_evaluate: net is NULL")) \
    X(E(bp_evaluate(net, NULL, idx, 8, &metrics, NULL), BP_ERR_ARG, "ds is NULL")) \
    X(E(bp_evaluate(net, ds, NULL, 8, &metrics, NULL), BP_ERR_ARG, "idx is NULL")) \
    X(E(bp_evaluate(net, ds, idx, 0, &metrics, NULL), BP_ERR_SHAPE, "n = 0"))      \
    X(E(bp_evaluate(net, ds, idx_bad, 2, &metrics, NULL), BP_ERR_ARG, "idx[1] = 8")) \
    X(E(bp_evaluate(mse, ds, idx, 8, &metrics, NULL), BP_ERR_SHAPE, "3 features"))  \
    X(E(bp_evaluate(net, ds_mse, idx, 8, &metrics, NULL), BP_ERR_SHAPE, "2 features")) \
    X(E(bp_evaluate(NULL, ds, idx, 8, &metrics, NULL), BP_ERR_ARG, "net is NULL")) \
    X(E(bp_evaluate(net, ds, idx, 8, NULL, NULL), BP_ERR_ARG, "out is NULL"))  \
    X(E(bp_evaluate(net, ds, idx_bad, 2, &metrics, NULL), BP_ERR_ARG, "idx[1] = 8")) \
    X(E(bp_evaluate(net, ds, idx, -1, &metrics, NULL), BP_ERR_SHAPE, "n = -1")) \
    X(bp_dataset_has_classes(NULL) == 0)                                                               \
    /* the fit call */                                                                             \
    X(fit_fails(NULL, ds, &sgd, 2, 4, 0, BP_ERR_ARG, "bp_fit: net is NULL"))                      \
    X(fit_fails(net, NULL, &sgd, 2, 4, 0, BP_ERR_ARG, "ds is NULL"))                              \
    X(fit_fails(net, ds, NULL, 2, 4, 0, BP_ERR_ARG, "opt is NULL"))                               \
    X(fit_fails(net, ds, &sgd, 0, 4, 0, BP_ERR_ARG, "epochs 0"))                                  \
    X(fit_fails(net, ds, &sgd, 2, -1, 0, BP_ERR_ARG, "batch -1 not in 0..max_batch 4"))           \
    X(fit_fails(net, ds, &sgd, 2, 5, 0, BP_ERR_ARG, "batch 5 not in 0..max_batch 4"))             \
    X(fit_fails(net, ds, &sgd, 2, 4, 1.0, BP_ERR_ARG, "val_fraction 1 not in [0, 1)"))            \
    X(fit_fails(net, ds, &sgd, 2, 4, -0.5, BP_ERR_ARG, "val_fraction -0.5"))                      \
    X(fit_fails(net, ds, &sgd, 2, 4, NAN, BP_ERR_ARG, "val_fraction nan"))                        \
    X(fit_fails(net, ds, &no_lr, 2, 4, 0, BP_ERR_ARG, "learning rate 0")) \
    X(fit_fails(mse, ds, &sgd, 2, 4, 0, BP_ERR_SHAPE, "3 features, the network 2"))               \
    /* plots */                                                                                    \
    X(E(bp_plot_curves(NULL, 3, crv, NULL, NULL, &err), BP_ERR_ARG, "path is NULL"))              \
    X(E(bp_plot_curves(csv_path, 0, crv, NULL, NULL, &err), BP_ERR_ARG, "n = 0"))                 \
    X(bp_plot_curves(csv_path, 3, NULL, NULL, NULL, &err) == BP_ERR_ARG)                           \
    X(E(bp_plot_confusion(NULL, 2, confusion, &err), BP_ERR_ARG, "path is NULL"))                 \
    X(E(bp_plot_confusion(csv_path, 0, confusion, &err), BP_ERR_ARG, "k = 0"))                    \
    X(bp_plot_confusion(csv_path, 2, NULL, &err) == BP_ERR_ARG)                                    \
    /* the generator */                                                                            \
    X((bp_rng_seed(NULL, 1), V(1, "bp_rng_seed: r is NULL")))                                     \
    X(V(bp_rng_next(NULL) == 0, "bp_rng_next"))                                                   \
    X(V(isnan(bp_rng_uniform(NULL)), "bp_rng_uniform"))                                           \
    X(V(isnan(bp_rng_normal(NULL)), "bp_rng_normal"))                                             \
    X(shuffle_ok(NULL, idx, 8) && V(1, "bp_shuffle: r is NULL"))                                  \
    X(shuffle_ok(&rng, NULL, 8) && V(1, "bp_shuffle: idx is NULL"))                               \
    X(shuffle_ok(&rng, idx, -1) && no_crash())

static int run_case(int i)
{
    int k = 0;
#define RUN(...)                                                                                   \
    if (k++ == i)                                                                                  \
        return !!(__VA_ARGS__);
    CASES(RUN)
#undef RUN
    return -1;
}

static const char *const case_text[] = {
#define TEXT(...) #__VA_ARGS__,
    CASES(TEXT)
#undef TEXT
};

int main(void)
{
    tmp_make("bp_misuse");
    sgd = adam = bad_kind = no_lr = nan_lr = (bp_opt_config)BP_OPT_CONFIG_DEFAULT;
    adam.kind = BP_OPT_ADAM;
    bad_kind.kind = (bp_opt_kind)99;
    no_lr.lr = 0, nan_lr.lr = NAN;
    bp_config c = cfg_net(), cm = {.size = sizeof(bp_config), .n_layers = 2, .sizes = sizes_mse, .acts = acts_mse, .temperature = 1};
    net = bp_net_create(&c, 4, NULL);
    mse = bp_net_create(&cm, 4, NULL);
    opt = net ? bp_optimizer_create(&adam, bp_net_n_params(net), NULL) : NULL;
    opt_mse = mse ? bp_optimizer_create(&sgd, bp_net_n_params(mse), NULL) : NULL;
    for (int i = 0; i < 12; i++)
        x[i] = (float)((i * 7) % 5) / 4.0f - 0.5f;
    for (int i = 0; i < 8; i++)
        t[i] = t_nan[i] = (float)(i % 2);
    t_nan[1] = NAN;
    static float x8[8 * 3], t8[8];
    static int32_t l8[8];
    for (int i = 0; i < 24; i++)
        x8[i] = (float)((i * 5) % 7) / 6.0f - 0.5f;
    for (int i = 0; i < 8; i++)
        l8[i] = i % 2, t8[i] = (float)(i % 2);
    ds = bp_dataset_from_memory(x8, NULL, l8, 8, 3, 2, NULL);
    ds_mse = bp_dataset_from_memory(x8, t8, NULL, 8, 2, 1, NULL);
    trace_mse = mse ? bp_trace_create(mse) : NULL;
    trace = net ? bp_trace_create(net) : NULL;
    bp_rng_seed(&rng, 1);
    model_path = tmp_path("m.safetensors");
    ckpt_path = tmp_path("c.ckpt");
    csv_path = tmp_path("d.csv");
    tmp_put("d.csv", "1,2,0\n3,4,1\n", 12);
    if (!net || !mse || !opt || !opt_mse || !ds || !ds_mse || !trace_mse || !trace ||
        bp_model_save(net, model_path, NULL) != BP_OK ||
        bp_checkpoint_save(ckpt_path, net, opt, NULL, 0, NULL) != BP_OK) {
        fprintf(stderr, "fixtures: %s\n", bp_last_error());
        return 1;
    }

    int n_cases = (int)(sizeof case_text / sizeof case_text[0]);
    for (int i = 0; i < n_cases; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            exit(run_case(i) == 1 ? 0 : 3); /* exit, not _exit: LeakSanitizer runs */
        int st = 0;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid, "fork");
        if (WIFSIGNALED(st))
            CHECK(0, "case %d killed by signal %d: %s", i, WTERMSIG(st), case_text[i]);
        else
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "case %d: exit %d: %s", i,
                  WEXITSTATUS(st), case_text[i]);
    }
    printf("%d cases, each in its own process\n", n_cases);


    bp_trace_free(trace_mse);
    bp_trace_free(trace);
    bp_dataset_free(ds);
    bp_dataset_free(ds_mse);
    bp_optimizer_free(opt);
    bp_optimizer_free(opt_mse);
    bp_net_free(net);
    bp_net_free(mse);
    CHECK(tmp_remove() == 0, "scratch folder");
    CHECK_DONE();
}
