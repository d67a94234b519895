/*
 * optim.c — optimisers: what turns the gradient buffer into a step of the
 * parameter buffer. Plain gradient descent (eq. 49–50), SGD with momentum and
 * with Nesterov momentum, Adam and AdamW, each after an optional clipping of
 * the gradient's global L2 norm and with a scheduled learning rate (constant,
 * step, cosine, and scikit-learn's invscaling and adaptive; linear warm-up
 * on top of any).
 *
 * The conventions are PyTorch's (torch.optim.SGD/Adam/AdamW,
 * clip_grad_norm_, StepLR/CosineAnnealingLR) so that numbers can be compared
 * with it. Every rule is one loop over the flat buffers [P] of an element
 * update of ops.h (the CUDA kernel runs the same) and sees nothing of the
 * network; its state (velocity, moments) is float, allocated once at
 * creation, and a step allocates nothing. Not here: parameter groups,
 * per-layer rates, skipping non-finite steps (the caller sees the norm).
 */
#include "nn/nn.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const opt_names[BP_OPT_COUNT] = {"sgd", "momentum", "nesterov", "adam",
                                                    "adamw"};
static const char *const sched_names[BP_SCHED_COUNT] = {"constant", "step", "cosine",
                                                        "invscaling", "adaptive"};

const char *bp_opt_name(bp_opt_kind k)
{
    return (unsigned)k < BP_OPT_COUNT ? opt_names[k] : "unknown";
}

bp_status bp_opt_parse(const char *name, bp_opt_kind *out)
{
    int k;
    bp_status s = bp_name_parse(__func__, opt_names, BP_OPT_COUNT, name, out ? &k : NULL);
    if (s == BP_OK)
        *out = (bp_opt_kind)k;
    return s;
}

const char *bp_sched_name(bp_sched_kind k)
{
    return (unsigned)k < BP_SCHED_COUNT ? sched_names[k] : "unknown";
}

bp_status bp_sched_parse(const char *name, bp_sched_kind *out)
{
    int k;
    bp_status s = bp_name_parse(__func__, sched_names, BP_SCHED_COUNT, name, out ? &k : NULL);
    if (s == BP_OK)
        *out = (bp_sched_kind)k;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                  */
/* ------------------------------------------------------------------------ */

/* struct bp_optimizer is in nn.h: the CUDA backend steps it with
 * the same rules (ops.h) and checkpoint.c saves the state. */

/* Every field checked as given: BP_OK or BP_ERR_ARG with a one-line
 * message naming the field and its range. */
static bp_status check_config(const bp_opt_config *c, bp_error *err)
{
    if ((unsigned)c->kind >= BP_OPT_COUNT)
        return bp_fail(err, BP_ERR_ARG, "optimiser: unknown kind %d", (int)c->kind);
    if ((unsigned)c->schedule >= BP_SCHED_COUNT)
        return bp_fail(err, BP_ERR_ARG, "optimiser: unknown schedule %d", (int)c->schedule);
    if (!isfinite(c->lr) || c->lr <= 0)
        return bp_fail(err, BP_ERR_ARG, "learning rate %g is not a finite positive number", c->lr);
    if (!(c->momentum >= 0 && c->momentum <= 1))
        return bp_fail(err, BP_ERR_ARG, "optimiser: momentum %g is not in [0, 1]", c->momentum);
    if (!(c->beta1 >= 0 && c->beta1 < 1))
        return bp_fail(err, BP_ERR_ARG, "optimiser: beta1 %g is not in [0, 1)", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1))
        return bp_fail(err, BP_ERR_ARG, "optimiser: beta2 %g is not in [0, 1)", c->beta2);
    if (!isfinite(c->eps) || c->eps <= 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: eps %g is not a finite positive number", c->eps);
    if (!isfinite(c->weight_decay) || c->weight_decay < 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: weight decay %g is not finite and >= 0",
                       c->weight_decay);
    if (!isfinite(c->clip_norm) || c->clip_norm < 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: clip norm %g is not finite and >= 0",
                       c->clip_norm);
    if (c->warmup_steps < 0 || c->total_steps < 0 || c->step_size < 0)
        return bp_fail(err, BP_ERR_ARG,
                       "optimiser: warm-up %ld, total %ld and step size %ld must be >= 0",
                       c->warmup_steps, c->total_steps, c->step_size);
    if (!isfinite(c->gamma) || c->gamma <= 0 || c->gamma > 1)
        return bp_fail(err, BP_ERR_ARG, "optimiser: step decay gamma %g is not in (0, 1]",
                       c->gamma);
    if (!(c->min_lr >= 0 && c->min_lr <= c->lr))
        return bp_fail(err, BP_ERR_ARG, "optimiser: min_lr %g is not in [0, lr = %g]", c->min_lr,
                       c->lr);
    if (!isfinite(c->l2) || c->l2 < 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: l2 %g is not finite and >= 0", c->l2);
    if (!isfinite(c->power_t) || c->power_t < 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: power_t %g is not finite and >= 0",
                       c->power_t);
    if (c->schedule == BP_SCHED_STEP && c->step_size <= 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: the step schedule needs step_size > 0");
    if (c->schedule == BP_SCHED_COSINE && c->total_steps <= 0)
        return bp_fail(err, BP_ERR_ARG, "optimiser: the cosine schedule needs total_steps > 0");
    return BP_OK;
}

bp_opt_view optim_view(const bp_optimizer *opt, optim_coef *q, long steps)
{
    for (long s = 0; s < steps; s++)
        q[s] = optim_step_coef(opt, opt->t + s);
    return (bp_opt_view){opt->id, opt->t, opt->cfg.kind, opt->cfg.clip_norm,
                         opt->m,  opt->v, q,              steps};
}

uint64_t optim_new_id(void)
{
    static _Atomic uint64_t next = 1;
    return next++;
}

bp_optimizer *bp_optimizer_create(const bp_opt_config *cfg, size_t n_params, bp_error *err)
{
    if (!cfg) {
        bp_arg_null(err, __func__, "cfg");
        return NULL;
    }
    if (n_params < 1) {
        bp_fail(err, BP_ERR_ARG, "%s: n_params is 0: an optimiser for no parameters", __func__);
        return NULL;
    }
    if (cfg->size != sizeof(bp_opt_config)) {
        bp_fail(err, BP_ERR_ARG, "%s: cfg->size is %zu, not sizeof(bp_opt_config) = %zu: start "
                "from BP_OPT_CONFIG_DEFAULT", __func__, cfg->size, sizeof(bp_opt_config));
        return NULL;
    }
    bp_opt_config c = *cfg;
    if (check_config(&c, err) != BP_OK)
        return NULL;

    size_t buffers = c.kind == BP_OPT_SGD ? 0 : c.kind <= BP_OPT_NESTEROV ? 1 : 2;
    bp_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt || n_params > SIZE_MAX / sizeof(float) / 2) {
        free(opt);
        bp_fail(err, BP_ERR_NOMEM, "optimiser: out of memory for %zu parameters", n_params);
        return NULL;
    }
    opt->cfg = c;
    opt->n = n_params;
    opt->id = optim_new_id();
    if (buffers && n_params) {
        /* one zeroed allocation behind m and v: v(0) = m(0) = 0 */
        opt->m = calloc(buffers * n_params, sizeof(float));
        if (!opt->m) {
            free(opt);
            bp_fail(err, BP_ERR_NOMEM, "optimiser: out of memory for %zu parameters", n_params);
            return NULL;
        }
        if (buffers == 2)
            opt->v = opt->m + n_params;
    }
    return opt;
}

bp_status optim_home(bp_optimizer *opt)
{
    bp_net *net = opt->held_by;
    if (!net)
        return BP_OK;
    bp_opt_view o = optim_view(opt, NULL, 0);
    bp_status s = net->mirror->sync_optimizer(net, &o);
    opt->held_by = NULL, net->opt_held = NULL;
    return s;
}

bp_status optim_attach(bp_net *net, bp_optimizer *opt)
{
    if (!net->mirror || !net->mirror->sync_optimizer)
        return BP_OK; /* the host steps the state in place */
    bp_status s = BP_OK;
    if (net->opt_held && net->opt_held != opt)
        s = optim_home(net->opt_held);
    if (s == BP_OK && opt->held_by && opt->held_by != net)
        s = optim_home(opt);
    if (s == BP_OK)
        opt->held_by = net, net->opt_held = opt;
    return s;
}

void bp_optimizer_free(bp_optimizer *opt)
{
    if (!opt)
        return;
    if (opt->held_by) /* its newer state goes with it */
        opt->held_by->opt_held = NULL;
    free(opt->m); /* v lives in the same allocation */
    free(opt);
}

/* ------------------------------------------------------------------------ */
/* Schedule                                                                  */
/* ------------------------------------------------------------------------ */

/* sklearn's adaptive schedule ends training once its rate is this low */
#define ADAPTIVE_FLOOR 1e-6

/* α_t for step t (from 0):
 *   constant    α
 *   step        α γ^floor(t / step_size)                    (StepLR)
 *   cosine      η + (α − η)(1 + cos(π min(t, T) / T)) / 2    (SGDR without restarts)
 *   invscaling  α / (e + 1)^power_t, e the examples of the passes before
 *   adaptive    α / 5^k, k the plateaus reported             (sklearn's two)
 * then, for t < warm-up W, times (t + 1) / W. */
static double sched_rate(const bp_optimizer *opt, long t)
{
    const bp_opt_config *c = &opt->cfg;
    double a = c->lr;
    switch (c->schedule) {
    case BP_SCHED_INVSCALING: a = c->lr / pow((double)opt->examples + 1, c->power_t); break;
    case BP_SCHED_ADAPTIVE: a = c->lr / pow(5, (double)opt->plateaus); break;
    case BP_SCHED_CONSTANT: break;
    case BP_SCHED_STEP: a = c->lr * pow(c->gamma, (double)(t / c->step_size)); break;
    case BP_SCHED_COSINE: {
        double f = (double)(t < c->total_steps ? t : c->total_steps) / (double)c->total_steps;
        a = c->min_lr + (c->lr - c->min_lr) * (1 + cos(PI * f)) / 2;
        break;
    }
    case BP_SCHED_COUNT: break;
    }
    if (t < c->warmup_steps)
        a *= (double)(t + 1) / (double)c->warmup_steps;
    return a;
}

double bp_optimizer_lr(const bp_optimizer *opt)
{
    if (!opt)
        return bp_arg_null(NULL, __func__, "opt"), NAN;
    return sched_rate(opt, opt->t);
}

long bp_optimizer_examples(const bp_optimizer *opt)
{
    if (!opt)
        return bp_arg_null(NULL, __func__, "opt"), -1;
    return opt->examples;
}

bp_status bp_optimizer_plateau(bp_optimizer *opt, int *stop)
{
    BP_NEED(opt, NULL);
    BP_NEED(stop, NULL);
    *stop = opt->cfg.schedule != BP_SCHED_ADAPTIVE || sched_rate(opt, opt->t) <= ADAPTIVE_FLOOR;
    if (!*stop)
        opt->plateaus++;
    return BP_OK;
}

optim_coef optim_step_coef(const bp_optimizer *opt, long t)
{
    const bp_opt_config *c = &opt->cfg;
    double lr = sched_rate(opt, t), t1 = (double)(t + 1); /* Adam counts from 1 */
    return (optim_coef){
        .lr = (float)lr,
        .a = (float)(lr / (1 - pow(c->beta1, t1))),
        .r = (float)(1 / sqrt(1 - pow(c->beta2, t1))),
        .decay = c->kind == BP_OPT_ADAMW ? (float)(1 - lr * c->weight_decay) : 1.0f,
        .wd = c->kind == BP_OPT_ADAMW ? 0.0f : (float)c->weight_decay, /* AdamW: in decay */
        .mu = (float)c->momentum,
        .b1 = (float)c->beta1,
        .b2 = (float)c->beta2,
        .c1 = (float)(1 - c->beta1),
        .c2 = (float)(1 - c->beta2),
        .eps = (float)c->eps,
    };
}

/* Plain descent θ ← θ − α ∇θ: sgd, and momentum or Nesterov with μ = 0,
 * whose velocity is then the step's own gradient (v ← 0·v + ∇θ), so that
 * `--momentum 0` is `--opt sgd`'s model bit for bit; no clipping or decay. */
static int plain_descent(const bp_opt_config *c)
{
    int sgd = c->kind == BP_OPT_SGD ||
              ((c->kind == BP_OPT_MOMENTUM || c->kind == BP_OPT_NESTEROV) && c->momentum == 0);
    return sgd && c->clip_norm == 0 && c->weight_decay == 0 && c->l2 == 0;
}

int optim_is_plain_sgd(const bp_optimizer *opt) { return plain_descent(&opt->cfg); }

long bp_optimizer_steps(const bp_optimizer *opt)
{
    if (!opt)
        return bp_arg_null(NULL, __func__, "opt"), -1;
    return opt->t;
}

/* ------------------------------------------------------------------------ */
/* The gradient's norm (the rules themselves are ops.h's)                    */
/* ------------------------------------------------------------------------ */

/* Σ g², in double, as 8 independent partial sums: one serial chain of
 * additions would cost its latency per element (4 cycles), which made this
 * the slowest pass of a small-batch step. Each lane is one acc[j], and a
 * float's square is exact in double, so every clone gives the same sum. */
CLONES static double sum_squares(const float *g, size_t n)
{
    double acc[8] = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += (double)g[k + j] * g[k + j];
    for (; k < n; k++)
        acc[0] += (double)g[k] * g[k];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* a clone's resolver would be a global of its own: the library's
 * internal name is this plain one */
double optim_sum_squares(const float *g, size_t n) { return sum_squares(g, n); }

/* ------------------------------------------------------------------------ */
/* One step                                                                  */
/* ------------------------------------------------------------------------ */

/* n must be the P the optimiser was created for: any other n is a
 * programming error, answered with BP_ERR_ARG and nothing changed (no
 * update, the step count stays). */
bp_status bp_optimizer_step(bp_optimizer *opt, float *params, const float *grads, size_t n,
                            double *norm)
{
    return bp_optimizer_step_scaled(opt, params, grads, n, 1, norm);
}

/* The rule of opt's kind on elements [lo, hi) of the buffers, with the
 * step's coefficients q and the gradient's factor c (scale and clipping):
 * ops.h's element rules, one loop per kind; wide lanes where the machine
 * has them (Adam's square root and division at 4 lanes were a fifth of a
 * small network's step), the default clone's bits in each. */
CLONES_EXACT static void apply_rule(bp_optimizer *opt, float *params, const float *grads,
                                    size_t lo, size_t hi, optim_coef q, float c)
{
    float *p = params + lo, *m = opt->m ? opt->m + lo : NULL, *v = opt->v ? opt->v + lo : NULL;
    const float *g = grads + lo;
    size_t n = hi - lo;
    switch (opt->cfg.kind) {
    case BP_OPT_SGD:
        for (size_t k = 0; k < n; k++)
            op_sgd(&p[k], g[k], c, q);
        break;
    case BP_OPT_MOMENTUM:
        for (size_t k = 0; k < n; k++)
            op_momentum(&p[k], &m[k], g[k], c, q);
        break;
    case BP_OPT_NESTEROV:
        for (size_t k = 0; k < n; k++)
            op_nesterov(&p[k], &m[k], g[k], c, q);
        break;
    case BP_OPT_ADAM:
    case BP_OPT_ADAMW: /* AdamW: q.decay < 1, q.wd = 0 */
        for (size_t k = 0; k < n; k++)
            op_adam(&p[k], &m[k], &v[k], g[k], c, q);
        break;
    case BP_OPT_COUNT: break;
    }
}

/* The flops of one element of each rule (ops.h; a square root and a
 * division count one each): what the rule's pass is sized by. */
static double rule_flops(bp_opt_kind k)
{
    switch (k) {
    case BP_OPT_SGD: return 5;
    case BP_OPT_MOMENTUM: return 7;
    case BP_OPT_NESTEROV: return 9;
    case BP_OPT_ADAM:
    case BP_OPT_ADAMW: return 17;
    case BP_OPT_COUNT: break;
    }
    return 0;
}

/* One step split over a pool's threads, each pass on the threads its work
 * deserves (pool_threads_for) and on no more than the caller allows: the
 * threads whose caches hold the gradient. A pass of a few flops a value is
 * bound by memory; at M = 1 on 784-256-128-10 every phase of the engine
 * runs on one thread, and momentum's rule split over two of them ran at
 * 0.79× one (its values fetched from the other core's cache, the sleeping
 * worker woken for the pass alone). The norm is B partial sums over B bands,
 * B the pool's size however many threads compute them, added in band order:
 * the result depends on the pool's size only, as the engine's does. */
typedef struct {
    bp_optimizer *opt;
    float *params;
    const float *grads;
    size_t n;
    optim_coef q;
    float c;
    int bands;                  /* B */
    double part[BP_MAX_THREADS]; /* [B] Σ g² of each band */
} step_job;

/* Band k of T of [0, n), on 16-float (cache line) boundaries. */
static void band(size_t n, int k, int T, size_t *lo, size_t *hi)
{
    size_t per = (n / (size_t)T + 15) & ~(size_t)15;
    *lo = per * (size_t)k < n ? per * (size_t)k : n;
    *hi = per * (size_t)(k + 1) < n && k < T - 1 ? per * (size_t)(k + 1) : n;
}

/* thread k of T sums the norm's bands [k B / T, (k + 1) B / T) */
static void norm_band(void *arg, int k, int T)
{
    step_job *j = arg;
    for (int b = k * j->bands / T; b < (k + 1) * j->bands / T; b++) {
        size_t lo, hi;
        band(j->n, b, j->bands, &lo, &hi);
        j->part[b] = sum_squares(j->grads + lo, hi - lo);
    }
}

static int threads_for(const bp_pool *pool, int cap, double flops)
{
    int T = pool_threads_for(pool, flops);
    return T < cap ? T : cap;
}

static void rule_band(void *arg, int k, int T)
{
    step_job *j = arg;
    size_t lo, hi;
    band(j->n, k, T, &lo, &hi);
    apply_rule(j->opt, j->params, j->grads, lo, hi, j->q, j->c);
}

bp_status optim_step_threads(bp_optimizer *opt, float *params, const float *grads, size_t n,
                             double scale, bp_pool *pool, int threads, double *norm_out)
{
    if (!opt || !params || !grads)
        return bp_arg_null(NULL, "bp_optimizer_step", !opt ? "opt" : !params ? "params" : "grads");
    if (n != opt->n)
        return bp_fail(NULL, BP_ERR_ARG,
                       "bp_optimizer_step: optimiser holds %zu parameters, the buffers %zu",
                       opt->n, n);
    if (!isfinite(scale))
        return bp_fail(NULL, BP_ERR_ARG, "bp_optimizer_step: scale %g is not finite", scale);
    bp_status s = optim_home(opt); /* a device's steps may have moved the state on */
    if (s != BP_OK)
        return s;
    const bp_opt_config *cfg = &opt->cfg;
    step_job j = {.opt = opt, .params = params, .grads = grads, .n = n, .c = (float)scale};

    /* ‖g‖ in double, g = scale·grads, when clipping or the caller wants
     * it; above clip_norm the gradient is scaled by clip_norm/‖g‖ inside
     * the loops (grads is const), where scale goes too, so that it costs no
     * pass of its own. A NaN/Inf norm is not clipped and is handed back for
     * the caller to see. */
    double norm = NAN;
    if (cfg->clip_norm > 0 || norm_out) {
        j.bands = pool_threads(pool);
        pool_run_n(pool, threads_for(pool, threads, 2.0 * (double)n), norm_band, &j);
        double sum = 0;
        for (int b = 0; b < j.bands; b++)
            sum += j.part[b];
        norm = fabs(scale) * sqrt(sum);
        if (cfg->clip_norm > 0 && isfinite(norm) && norm > cfg->clip_norm)
            j.c = (float)(scale * (cfg->clip_norm / norm));
    }

    j.q = optim_step_coef(opt, opt->t);
    opt->t++;
    pool_run_n(pool, threads_for(pool, threads, rule_flops(cfg->kind) * (double)n), rule_band, &j);
    if (norm_out)
        *norm_out = norm;
    return BP_OK;
}

bp_status bp_optimizer_step_scaled(bp_optimizer *opt, float *params, const float *grads, size_t n,
                                   double scale, double *norm)
{
    return optim_step_threads(opt, params, grads, n, scale, NULL, 1, norm);
}

/* ------------------------------------------------------------------------ */
/* Fused descent                                                             */
/* ------------------------------------------------------------------------ */

double optim_fused_sgd_rate(const bp_optimizer *opt)
{
    const bp_opt_config *c = &opt->cfg;
    return plain_descent(c) ? sched_rate(opt, opt->t) : 0;
}
