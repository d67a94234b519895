/*
 * test_optim.c — the optimisers against arithmetic written out by hand:
 * three steps of every rule (SGD eq. 49–50, momentum, Nesterov, Adam, AdamW)
 * on three parameters, with weight decay off and on; the same runs against
 * numbers torch.optim printed (float64); gradient clipping; every schedule's
 * rates with warm-up; names; and the configurations that must be refused.
 *
 * The references are spelled out step by step in double, each from its
 * paper's formulas, not from optim.c's loops.
 */
#include "check.h"
#include "io/io.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#define TOL 1e-6 /* float state and parameters against double references */


/* One bp_optimizer_step that must succeed; its gradient norm. */
static double step_norm(bp_optimizer *opt, float *p, const float *g, size_t n)
{
    double norm = -1;
    CHECK(bp_optimizer_step(opt, p, g, n, &norm) == BP_OK, "the step is taken");
    return norm;
}

static const double TH0[3] = {0.5, -1.0, 2.0};
/* gradients of steps 1, 2, 3: different each step, a zero in the last */
static const float G[3][3] = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.05f}, {0.2f, 0.0f, -0.6f}};

/* ‖G[s]‖ in double */
static double gnorm(int s)
{
    double a = G[s][0], b = G[s][1], c = G[s][2];
    return sqrt(a * a + b * b + c * c);
}

/* bp_optimizer_create of a configuration the test expects to be valid */
static bp_optimizer *created(bp_opt_config c, size_t n)
{
    bp_error err = {{0}};
    bp_optimizer *opt = bp_optimizer_create(&c, n, &err);
    CHECK(opt != NULL, "create: %s", err.msg);
    return opt;
}

/* Three steps of cfg from TH0 with G; got[s][i] = θ(s+1)_i. Checks the
 * returned norm, the step count and that grads are not modified. */
static void run3(const char *what, bp_opt_config cfg, double got[3][3])
{
    bp_error err = {{0}};
    bp_optimizer *opt = bp_optimizer_create(&cfg, 3, &err);
    CHECK(opt != NULL, "%s: create: %s", what, err.msg);
    if (!opt)
        return;
    float p[3] = {(float)TH0[0], (float)TH0[1], (float)TH0[2]};
    for (int s = 0; s < 3; s++) {
        float g[3] = {G[s][0], G[s][1], G[s][2]};
        CHECK(bp_optimizer_steps(opt) == s, "%s: steps before step %d", what, s + 1);
        double norm = step_norm(opt, p, g, 3);
        CHECK_CLOSE(norm, gnorm(s), 1e-12, "%s: norm returned by step %d", what, s + 1);
        CHECK(memcmp(g, G[s], sizeof g) == 0, "%s: step %d modified grads", what, s + 1);
        for (int i = 0; i < 3; i++)
            got[s][i] = p[i];
    }
    CHECK(bp_optimizer_steps(opt) == 3, "%s: steps after 3", what);
    bp_optimizer_free(opt);
}

static void compare(const char *what, double got[3][3], double want[3][3])
{
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < 3; i++)
            CHECK_CLOSE(got[s][i], want[s][i], TOL, "%s: θ%d[%d]", what, s + 1, i);
}

static void compare_torch(const char *what, double got[3][3], const double torch[3])
{
    for (int i = 0; i < 3; i++)
        CHECK_CLOSE(got[2][i], torch[i], TOL, "%s: θ3[%d] against torch.optim", what, i);
}

/* ------------------------------------------------------------------------ */
/* The rules, three steps by hand                                            */
/* ------------------------------------------------------------------------ */

static void test_sgd(double wd, const double torch[3])
{
    const double a = 0.1;
    double want[3][3], got[3][3];
    for (int i = 0; i < 3; i++) {
        /* θ ← θ − α (g + λ θ)   eq. 49–50 with L2 decay */
        double th0 = TH0[i];
        double th1 = th0 - a * (G[0][i] + wd * th0);
        double th2 = th1 - a * (G[1][i] + wd * th1);
        double th3 = th2 - a * (G[2][i] + wd * th2);
        want[0][i] = th1, want[1][i] = th2, want[2][i] = th3;
    }
    run3("sgd", ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = a; c_.weight_decay = wd; c_; }), got);
    compare("sgd", got, want);
    compare_torch("sgd", got, torch);
}

static void test_momentum(double wd, const double torch[3])
{
    const double a = 0.1, mu = 0.8;
    double want[3][3], got[3][3];
    for (int i = 0; i < 3; i++) {
        double th0 = TH0[i];
        double g1 = G[0][i] + wd * th0, v1 = g1;              /* v0 = 0 */
        double th1 = th0 - a * v1;
        double g2 = G[1][i] + wd * th1, v2 = mu * v1 + g2;
        double th2 = th1 - a * v2;
        double g3 = G[2][i] + wd * th2, v3 = mu * v2 + g3;
        double th3 = th2 - a * v3;
        want[0][i] = th1, want[1][i] = th2, want[2][i] = th3;
    }
    run3("momentum",
         ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_MOMENTUM; c_.lr = a; c_.momentum = mu; c_.weight_decay = wd; c_; }),
         got);
    compare("momentum", got, want);
    compare_torch("momentum", got, torch);
}

static void test_nesterov(double wd, const double torch[3])
{
    const double a = 0.1, mu = 0.8;
    double want[3][3], got[3][3];
    for (int i = 0; i < 3; i++) {
        double th0 = TH0[i];
        double g1 = G[0][i] + wd * th0, v1 = g1;
        double th1 = th0 - a * (g1 + mu * v1);
        double g2 = G[1][i] + wd * th1, v2 = mu * v1 + g2;
        double th2 = th1 - a * (g2 + mu * v2);
        double g3 = G[2][i] + wd * th2, v3 = mu * v2 + g3;
        double th3 = th2 - a * (g3 + mu * v3);
        want[0][i] = th1, want[1][i] = th2, want[2][i] = th3;
    }
    run3("nesterov",
         ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_NESTEROV; c_.lr = a; c_.momentum = mu; c_.weight_decay = wd; c_; }),
         got);
    compare("nesterov", got, want);
    compare_torch("nesterov", got, torch);
}

/* Adam (coupled = 1: λθ added to g) or AdamW (coupled = 0: θ ← θ(1 − αλ)
 * first), Kingma & Ba's bias-corrected moments written out per step. */
static void adam_by_hand(int coupled, double a, double b1, double b2, double eps, double wd,
                         double want[3][3])
{
    for (int i = 0; i < 3; i++) {
        double th0 = TH0[i];
        /* t = 1: m̂ = g, v̂ = g², so the step is α g / (|g| + ε) */
        double d0 = coupled ? th0 : th0 * (1 - a * wd);
        double g1 = G[0][i] + (coupled ? wd * th0 : 0);
        double m1 = (1 - b1) * g1, v1 = (1 - b2) * g1 * g1;
        double th1 = d0 - a * g1 / (fabs(g1) + eps);
        /* t = 2 */
        double d1 = coupled ? th1 : th1 * (1 - a * wd);
        double g2 = G[1][i] + (coupled ? wd * th1 : 0);
        double m2 = b1 * m1 + (1 - b1) * g2, v2 = b2 * v1 + (1 - b2) * g2 * g2;
        double th2 = d1 - a * (m2 / (1 - b1 * b1)) / (sqrt(v2 / (1 - b2 * b2)) + eps);
        /* t = 3 */
        double d2 = coupled ? th2 : th2 * (1 - a * wd);
        double g3 = G[2][i] + (coupled ? wd * th2 : 0);
        double m3 = b1 * m2 + (1 - b1) * g3, v3 = b2 * v2 + (1 - b2) * g3 * g3;
        double th3 =
            d2 - a * (m3 / (1 - b1 * b1 * b1)) / (sqrt(v3 / (1 - b2 * b2 * b2)) + eps);
        want[0][i] = th1, want[1][i] = th2, want[2][i] = th3;
    }
}

static void test_adam(bp_opt_kind kind, double wd, const double torch[3])
{
    const char *what = kind == BP_OPT_ADAM ? "adam" : "adamw";
    const double a = 0.01, b1 = 0.8, b2 = 0.99, eps = 1e-3; /* ε large enough to matter */
    double want[3][3], got[3][3];
    adam_by_hand(kind == BP_OPT_ADAM, a, b1, b2, eps, wd, want);
    run3(what,
         ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = kind; c_.lr = a; c_.beta1 = b1; c_.beta2 = b2; c_.eps = eps; c_.weight_decay = wd; c_; }),
         got);
    compare(what, got, want);
    compare_torch(what, got, torch);
}

/* BP_OPT_CONFIG_DEFAULT: μ = 0.9, β1 = 0.9, β2 = 0.999, ε = 1e-8, as PyTorch's. */
static void test_defaults(void)
{
    double want[3][3], got[3][3];
    /* torch.optim.Adam(lr=0.01, weight_decay=0.05), float64 */
    const double torch[3] = {0.49511321590017937, -0.9951502884032878, 1.9815291017204841};
    adam_by_hand(1, 0.01, 0.9, 0.999, 1e-8, 0.05, want);
    run3("adam defaults", ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_ADAM; c_.lr = 0.01; c_.weight_decay = 0.05; c_; }),
         got);
    compare("adam defaults", got, want);
    compare_torch("adam defaults", got, torch);


    /* zeros are literal: momentum 0 is plain descent, bit for bit; β1 = 0
     * and β2 = 0 are Adam without the moments' averaging (the reference
     * with those values), and not the default's numbers */
    double sgd[3][3];
    bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
    c.lr = 0.1;
    run3("sgd", c, sgd);
    c.kind = BP_OPT_MOMENTUM, c.momentum = 0;
    run3("momentum 0", c, got);
    CHECK(memcmp(got, sgd, sizeof got) == 0, "momentum 0 is plain descent");
    double deflt[3][3];
    c = (bp_opt_config)BP_OPT_CONFIG_DEFAULT;
    c.kind = BP_OPT_ADAM, c.lr = 0.01, c.eps = 1e-3;
    run3("adam", c, deflt);
    for (int zero = 0; zero < 2; zero++) {
        const char *what = zero ? "adam beta2 0" : "adam beta1 0";
        double b1 = zero ? 0.9 : 0, b2 = zero ? 0 : 0.999;
        c.beta1 = b1, c.beta2 = b2;
        adam_by_hand(1, 0.01, b1, b2, 1e-3, 0, want);
        run3(what, c, got);
        compare(what, got, want);
        CHECK(memcmp(got[2], deflt[2], sizeof got[2]) != 0, "%s: not the default's numbers", what);
    }
}

/* ------------------------------------------------------------------------ */
/* Clipping                                                                  */
/* ------------------------------------------------------------------------ */

static void test_clipping(void)
{
    /* g = (3, 0, 4), ‖g‖ = 5: clipped to 1 the step is α g / 5 */
    const float g[3] = {3, 0, 4};
    {
        bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
        c.kind = BP_OPT_SGD;
        c.lr = 0.5;
        c.clip_norm = 1;
        bp_optimizer *opt = created(c, 3);
        if (!opt)
            return;
        float p[3] = {1, 1, 1};
        CHECK(step_norm(opt, p, g, 3) == 5.0, "norm before clipping is 5");
        CHECK_CLOSE(p[0], 1 - 0.5 * 3 / 5.0, TOL, "clipped θ[0]");
        CHECK(p[1] == 1, "clipped θ[1]");
        CHECK_CLOSE(p[2], 1 - 0.5 * 4 / 5.0, TOL, "clipped θ[2]");
        CHECK(g[0] == 3 && g[1] == 0 && g[2] == 4, "grads untouched");
        bp_optimizer_free(opt);
    }
    {
        /* a limit above the norm changes nothing */
        bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
        c.kind = BP_OPT_SGD;
        c.lr = 0.5;
        c.clip_norm = 10;
        bp_optimizer *opt = created(c, 3);
        if (!opt)
            return;
        float p[3] = {1, 1, 1};
        CHECK(step_norm(opt, p, g, 3) == 5.0, "norm 5 under the limit");
        CHECK(p[0] == 1 - 0.5f * 3 && p[2] == 1 - 0.5f * 4, "unclipped step");
        bp_optimizer_free(opt);
    }
    {
        /* Adam, first step θ − α ĝ/(|ĝ| + ε) with ĝ = g/5: ε shows the scaling */
        bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
        c.kind = BP_OPT_ADAM;
        c.lr = 0.1;
        c.eps = 1e-3;
        c.clip_norm = 1;
        bp_optimizer *opt = created(c, 3);
        if (!opt)
            return;
        float p[3] = {1, 1, 1};
        CHECK(step_norm(opt, p, g, 3) == 5.0, "adam: norm 5");
        CHECK_CLOSE(p[0], 1 - 0.1 * 0.6 / (0.6 + 1e-3), TOL, "adam clipped θ[0]");
        CHECK(p[1] == 1, "adam clipped θ[1]");
        CHECK_CLOSE(p[2], 1 - 0.1 * 0.8 / (0.8 + 1e-3), TOL, "adam clipped θ[2]");
        bp_optimizer_free(opt);
    }
    {
        /* momentum with L2 decay, limit 0.5: step 1 (‖G0‖ ≈ 0.374) passes,
         * steps 2 and 3 are scaled; the decay is added after clipping */
        const double a = 0.1, mu = 0.8, wd = 0.05, lim = 0.5;
        double want[3][3], got[3][3];
        double c2 = lim / gnorm(1), c3 = lim / gnorm(2);
        CHECK(gnorm(0) < lim && c2 < 1 && c3 < 1, "the case clips steps 2 and 3 only");
        for (int i = 0; i < 3; i++) {
            double th0 = TH0[i];
            double v1 = G[0][i] + wd * th0, th1 = th0 - a * v1;
            double v2 = mu * v1 + c2 * G[1][i] + wd * th1, th2 = th1 - a * v2;
            double v3 = mu * v2 + c3 * G[2][i] + wd * th2, th3 = th2 - a * v3;
            want[0][i] = th1, want[1][i] = th2, want[2][i] = th3;
        }
        run3("clipped momentum",
             ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_MOMENTUM; c_.lr = a; c_.momentum = mu; c_.weight_decay = wd; c_.clip_norm = lim; c_; }),
             got);
        compare("clipped momentum", got, want);
    }
    {
        /* the norm is summed in double: 1e30² overflows float, not double */
        const float big[3] = {1e30f, -1e30f, 0};
        bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
        c.kind = BP_OPT_SGD;
        c.lr = 1e-31;
        c.clip_norm = 1;
        bp_optimizer *opt = created(c, 3);
        if (!opt)
            return;
        float p[3] = {1, 1, 1};
        double norm = step_norm(opt, p, big, 3);
        CHECK_CLOSE(norm / (sqrt(2.0) * (double)1e30f), 1, 1e-15, "norm of 1e30 grads");
        CHECK_CLOSE(p[0], 1 - 1e-31 / sqrt(2.0), TOL, "step clipped to norm 1");
        bp_optimizer_free(opt);
    }
    {
        /* divergence shows in the returned norm */
        float bad[3] = {1, NAN, 0};
        bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
        c.kind = BP_OPT_SGD;
        c.lr = 0.1;
        c.clip_norm = 1;
        bp_optimizer *opt = created(c, 3);
        if (!opt)
            return;
        float p[3] = {1, 1, 1};
        CHECK(isnan(step_norm(opt, p, bad, 3)), "NaN gradient gives a NaN norm");
        bad[1] = INFINITY;
        CHECK(isinf(step_norm(opt, p, bad, 3)), "Inf gradient gives an Inf norm");
        bp_optimizer_free(opt);
    }
}

/* ------------------------------------------------------------------------ */
/* Schedules                                                                 */
/* ------------------------------------------------------------------------ */

/* The rate before each of n steps (bp_optimizer_lr) equals want[t], and the
 * step uses it: SGD with g = 1 moves θ by exactly the rate. */
static void check_rates(const char *what, bp_opt_config c, int n, const double *want)
{
    bp_error err = {{0}};
    bp_optimizer *opt = bp_optimizer_create(&c, 1, &err);
    CHECK(opt != NULL, "%s: create: %s", what, err.msg);
    if (!opt)
        return;
    float p = 0, g = 1;
    for (int t = 0; t < n; t++) {
        CHECK(bp_optimizer_steps(opt) == t, "%s: steps", what);
        CHECK_CLOSE(bp_optimizer_lr(opt), want[t], 1e-12, "%s: rate of step %d", what, t);
        float before = p;
        step_norm(opt, &p, &g, 1);
        CHECK_CLOSE((double)before - p, want[t], 1e-6, "%s: step %d used its rate", what, t);
    }
    bp_optimizer_free(opt);
}

static void test_schedules(void)
{
    const double r = sqrt(0.5); /* cos(π/4) */
    {
        const double w[4] = {0.1, 0.1, 0.1, 0.1};
        check_rates("constant", ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 0.1; c_; }), 4, w);
    }
    {
        /* warm-up over 4 steps: α (t + 1)/4 */
        const double w[6] = {0.025, 0.05, 0.075, 0.1, 0.1, 0.1};
        check_rates("constant + warm-up",
                    ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 0.1; c_.warmup_steps = 4; c_; }), 6, w);
    }
    {
        /* α γ^floor(t/2), γ = 0.5 */
        const double w[7] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125};
        check_rates("step",
                    ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 0.1; c_.schedule = BP_SCHED_STEP; c_.step_size = 2; c_.gamma = 0.5; c_; }),
                    7, w);
    }
    {
        /* γ = 0 means 0.1 */
        const double w[7] = {1, 1, 1, 0.1, 0.1, 0.1, 0.01};
        check_rates("step, default gamma",
                    ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 1; c_.schedule = BP_SCHED_STEP; c_.step_size = 3; c_; }),
                    7, w);
    }
    {
        /* warm-up 3 on top of the step schedule (size 2, γ 0.5) */
        const double w[5] = {0.1 / 3, 0.1 * 2 / 3, 0.05, 0.05, 0.025};
        check_rates("step + warm-up",
                    ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 0.1; c_.schedule = BP_SCHED_STEP; c_.step_size = 2; c_.gamma = 0.5; c_.warmup_steps = 3; c_; }),
                    5, w);
    }
    {
        /* 0.1 + 0.9 (1 + cos(π t/4))/2, held at 0.1 after t = 4 */
        const double w[7] = {1, 0.1 + 0.9 * (1 + r) / 2, 0.55, 0.1 + 0.9 * (1 - r) / 2,
                             0.1, 0.1, 0.1};
        check_rates("cosine",
                    ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 1; c_.schedule = BP_SCHED_COSINE; c_.total_steps = 4; c_.min_lr = 0.1; c_; }),
                    7, w);
    }
    {
        /* cosine to 0 over 4 steps, warm-up 2: t = 0: 1 · 1/2; t = 1:
         * (1 + r)/2 · 2/2; then the cosine alone */
        const double w[6] = {0.5, (1 + r) / 2, 0.5, (1 - r) / 2, 0, 0};
        check_rates("cosine + warm-up",
                    ({ bp_opt_config c_ = BP_OPT_CONFIG_DEFAULT; c_.kind = BP_OPT_SGD; c_.lr = 1; c_.schedule = BP_SCHED_COSINE; c_.total_steps = 4; c_.warmup_steps = 2; c_; }),
                    6, w);
    }
    {
        /* the scheduled rate drives every rule: AdamW's decay uses it too.
         * Warm-up 2, lr 0.01: step 1 at 0.005, θ1 = θ0(1 − 0.005 λ) − 0.005 g/(|g| + ε) */
        bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
        c.kind = BP_OPT_ADAMW;
        c.lr = 0.01;
        c.eps = 1e-3;
        c.weight_decay = 0.5;
        c.warmup_steps = 2;
        bp_optimizer *opt = created(c, 3);
        if (!opt)
            return;
        float p[3] = {(float)TH0[0], (float)TH0[1], (float)TH0[2]};
        step_norm(opt, p, G[0], 3);
        for (int i = 0; i < 3; i++)
            CHECK_CLOSE(p[i],
                        TH0[i] * (1 - 0.005 * 0.5) - 0.005 * G[0][i] / (fabs(G[0][i]) + 1e-3),
                        TOL, "adamw warm-up θ1[%d]", i);
        bp_optimizer_free(opt);
    }
}

/* ------------------------------------------------------------------------ */
/* Names, configurations, sizes                                              */
/* ------------------------------------------------------------------------ */

static void test_names(void)
{
    const char *opts[] = {"sgd", "momentum", "nesterov", "adam", "adamw"};
    CHECK(sizeof opts / sizeof *opts == BP_OPT_COUNT, "every optimiser named");
    for (int k = 0; k < BP_OPT_COUNT; k++) {
        bp_opt_kind got = BP_OPT_COUNT;
        CHECK(strcmp(bp_opt_name((bp_opt_kind)k), opts[k]) == 0, "name of optimiser %d", k);
        CHECK(bp_opt_parse(opts[k], &got) == BP_OK && got == (bp_opt_kind)k, "parse %s", opts[k]);
    }
    const char *scheds[] = {"constant", "step", "cosine", "invscaling", "adaptive"};
    CHECK(sizeof scheds / sizeof *scheds == BP_SCHED_COUNT, "every schedule named");
    for (int k = 0; k < BP_SCHED_COUNT; k++) {
        bp_sched_kind got = BP_SCHED_COUNT;
        CHECK(strcmp(bp_sched_name((bp_sched_kind)k), scheds[k]) == 0, "name of schedule %d", k);
        CHECK(bp_sched_parse(scheds[k], &got) == BP_OK && got == (bp_sched_kind)k, "parse %s",
              scheds[k]);
    }
    bp_opt_kind ok = BP_OPT_SGD;
    bp_sched_kind sk = BP_SCHED_CONSTANT;
    const char *bad[] = {"", "SGD", "adam ", "rmsprop", "cosine"};
    for (int k = 0; k < 5; k++)
        CHECK(bp_opt_parse(bad[k], &ok) == BP_ERR_ARG && ok == BP_OPT_SGD, "'%s' refused", bad[k]);
    CHECK(bp_sched_parse("linear", &sk) == BP_ERR_ARG && sk == BP_SCHED_CONSTANT, "linear");
    CHECK(bp_sched_parse("adam", &sk) == BP_ERR_ARG, "adam is no schedule");
    CHECK(strcmp(bp_opt_name(BP_OPT_COUNT), "unknown") == 0, "name out of range");
    CHECK(strcmp(bp_sched_name((bp_sched_kind)-1), "unknown") == 0, "schedule out of range");
}

static void test_invalid(void)
{
    bp_opt_config base = BP_OPT_CONFIG_DEFAULT;
    base.kind = BP_OPT_ADAM;
    base.lr = 0.1;
    struct {
        const char *what;
        bp_opt_config c;
    } cases[32];
    int n = 0;
#define BAD(field, value)                                                                  \
    do {                                                                                   \
        cases[n].what = #field " = " #value;                                               \
        cases[n].c = base;                                                                 \
        cases[n].c.field = value;                                                          \
        n++;                                                                               \
    } while (0)
    BAD(kind, BP_OPT_COUNT);
    BAD(schedule, BP_SCHED_COUNT);
    BAD(lr, 0);
    BAD(lr, -1);
    BAD(lr, NAN);
    BAD(lr, INFINITY);
    BAD(momentum, -0.1);
    BAD(momentum, 1.5);
    BAD(momentum, NAN);
    BAD(beta1, 1);
    BAD(beta1, -0.5);
    BAD(beta2, 1.5);
    BAD(beta2, NAN);
    BAD(eps, -1e-8);
    BAD(eps, INFINITY);
    BAD(weight_decay, -0.01);
    BAD(weight_decay, NAN);
    BAD(clip_norm, -1);
    BAD(clip_norm, INFINITY);
    BAD(warmup_steps, -1);
    BAD(total_steps, -1);
    BAD(step_size, -1);
    BAD(gamma, -0.5);
    BAD(gamma, 2);
    BAD(gamma, NAN);
    BAD(min_lr, -0.1);
    BAD(min_lr, 0.2); /* above lr */
    BAD(min_lr, NAN);
    BAD(schedule, BP_SCHED_STEP);   /* step_size 0 */
    BAD(schedule, BP_SCHED_COSINE); /* total_steps 0 */
#undef BAD
    for (int k = 0; k < n; k++) {
        bp_error err = {{0}};
        bp_optimizer *opt = bp_optimizer_create(&cases[k].c, 3, &err);
        CHECK(opt == NULL, "%s accepted", cases[k].what);
        CHECK(err.msg[0] && !strchr(err.msg, '\n'), "%s: one-line message", cases[k].what);
        printf("  refused %-28s %s\n", cases[k].what, err.msg);
        bp_optimizer_free(opt);
        CHECK(bp_optimizer_create(&cases[k].c, 3, NULL) == NULL, "%s, err NULL", cases[k].what);
    }
    bp_error err = {{0}};
    CHECK(bp_optimizer_create(NULL, 3, &err) == NULL && err.msg[0], "NULL configuration");

    /* the edges that are fine */
    bp_opt_config good[5];
    for (int k = 0; k < 5; k++)
        good[k] = base;
    good[0].kind = BP_OPT_SGD, good[0].lr = 1, good[0].schedule = BP_SCHED_COSINE;
    good[0].total_steps = 1, good[0].min_lr = 1;
    good[1].kind = BP_OPT_NESTEROV, good[1].lr = 1e-9, good[1].momentum = 0.999;
    good[1].warmup_steps = 100;
    good[2].kind = BP_OPT_ADAMW, good[2].lr = 1, good[2].beta1 = 0.5, good[2].beta2 = 0.5;
    good[2].eps = 1, good[2].weight_decay = 10, good[2].clip_norm = 1e-3;
    good[2].schedule = BP_SCHED_STEP, good[2].step_size = 1, good[2].gamma = 1;
    good[3].kind = BP_OPT_MOMENTUM, good[3].momentum = 1; /* the ends of [0, 1] */
    good[4].momentum = 0, good[4].beta1 = 0, good[4].beta2 = 0;
    for (int k = 0; k < 5; k++) {
        bp_optimizer *opt = bp_optimizer_create(&good[k], 3, &err);
        CHECK(opt != NULL, "valid configuration %d refused: %s", k, err.msg);
        bp_optimizer_free(opt);
    }
    /* zero-initialised, as a C program written before the size field may be */
    bp_opt_config zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    zeroed.kind = BP_OPT_ADAM, zeroed.lr = 0.1;
    CHECK(bp_optimizer_create(&zeroed, 3, &err) == NULL &&
              strstr(err.msg, "start from BP_OPT_CONFIG_DEFAULT"),
          "a zeroed configuration is refused: %s", err.msg);
    bp_optimizer_free(NULL);
}

static void test_sizes(void)
{
    /* a different n than at creation: NAN, nothing moves, no step counted */
    bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
    c.kind = BP_OPT_MOMENTUM;
    c.lr = 0.1;
    bp_optimizer *opt = created(c, 3);
    if (!opt)
        return;
    float p[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1};
    CHECK(bp_optimizer_step(opt, p, g, 2, NULL) == BP_ERR_ARG, "n smaller than created");
    CHECK(bp_optimizer_step(opt, p, g, 4, NULL) == BP_ERR_ARG, "n larger than created");
    CHECK(p[0] == 1 && p[1] == 2 && p[2] == 3 && p[3] == 4, "params untouched");
    CHECK(bp_optimizer_steps(opt) == 0, "no step counted");
    bp_optimizer_free(opt);

    /* no parameters at all: no network has none, so it is a caller's mistake */
    c.kind = BP_OPT_ADAM;
    bp_error err;
    opt = bp_optimizer_create(&c, 0, &err);
    CHECK(opt == NULL && strstr(err.msg, "n_params is 0"), "zero parameters: %s", err.msg);
    bp_optimizer_free(opt);
}

/* bp_optimizer_step_scaled(g, s) is bp_optimizer_step(s·g), clipping
 * included (the norm is of s·g), for every kind; s = 0.5 and 4 are exact
 * in float, so the two agree to rounding. */
static void test_scaled(void)
{
    for (int kind = 0; kind < BP_OPT_COUNT; kind++)
        for (int clip = 0; clip < 2; clip++)
            for (int si = 0; si < 2; si++) {
                double s = si ? 4 : 0.5;
                bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
                c.kind = (bp_opt_kind)kind;
                c.lr = 0.01;
                c.weight_decay = 0.05;
                c.clip_norm = clip ? 0.3 : 0;
                bp_optimizer *a = created(c, 3), *b = created(c, 3);
                float pa[3], pb[3], g[3];
                for (int k = 0; k < 3; k++)
                    pa[k] = pb[k] = (float)TH0[k];
                for (int step = 0; step < 3; step++) {
                    for (int k = 0; k < 3; k++)
                        g[k] = (float)(s * G[step][k]);
                    double na = -1, nb = -1;
                    CHECK(bp_optimizer_step_scaled(a, pa, G[step], 3, s, &na) == BP_OK, "scaled");
                    nb = step_norm(b, pb, g, 3);
                    CHECK_CLOSE(na, nb, 1e-12, "%s: the norm of s·g", bp_opt_name(c.kind));
                }
                for (int k = 0; k < 3; k++)
                    CHECK_CLOSE(pa[k], pb[k], 1e-6, "%s clip %d scale %g: θ%d",
                                bp_opt_name(c.kind), clip, s, k);
                bp_optimizer_free(a);
                bp_optimizer_free(b);
            }
}

/* The step split over 2 and 3 threads (optim_step_threads, what
 * bp_train_step uses) against one thread: every element the same rule, so
 * bit-equal without clipping; with it, the norm's partial sums are added in
 * another order, so within float rounding. P: enough work that every pass
 * takes 3 threads (pool_threads_for), in bands of 16 floats that do not
 * divide it. */
static void test_threads(void)
{
    enum { P = 330007 };
    static float g[P], p1[P], pt[P];
    bp_rng r;
    bp_rng_seed(&r, 5);
    for (int T = 2; T <= 3; T++) {
        bp_pool *pool = pool_create(T);
        CHECK(pool != NULL, "pool of %d", T);
        for (int kind = 0; kind < BP_OPT_COUNT && pool; kind++)
            for (int clip = 0; clip < 2; clip++) {
                bp_opt_config c = BP_OPT_CONFIG_DEFAULT;
                c.kind = (bp_opt_kind)kind;
                c.lr = 0.01;
                c.weight_decay = 0.01;
                c.clip_norm = clip ? 0.5 : 0;
                bp_optimizer *a = created(c, P), *b = created(c, P);
                for (int k = 0; k < P; k++)
                    p1[k] = pt[k] = (float)bp_rng_normal(&r);
                double na = 0, nb = 0;
                for (int step = 0; step < 3; step++) {
                    for (int k = 0; k < P; k++)
                        g[k] = (float)bp_rng_normal(&r);
                    CHECK(optim_step_threads(a, p1, g, P, 1.0, NULL, 1, &na) ==
                              BP_OK, "one thread");
                    CHECK(optim_step_threads(b, pt, g, P, 1.0, pool, T, &nb) == BP_OK, "threads");
                }
                CHECK_CLOSE(nb, na, 1e-12, "%s T=%d: norm", bp_opt_name(c.kind), T);
                float worst = 0;
                for (int k = 0; k < P; k++)
                    worst = fmaxf(worst, fabsf(p1[k] - pt[k]));
                CHECK(clip ? worst <= 1e-6f : worst == 0, "%s clip %d T=%d: differs by %g",
                      bp_opt_name(c.kind), clip, T, (double)worst);
                CHECK(bp_optimizer_steps(b) == 3, "steps counted");
                bp_optimizer_free(a);
                bp_optimizer_free(b);
            }
        pool_free(pool);
    }
}

/* Every share of every phase runs exactly once, with its phase's share
 * count, whoever claims it (pool.c: the caller takes shares no worker has
 * begun). Many tiny phases of varying width, so that claims race. */
typedef struct {
    atomic_int ran[BP_MAX_THREADS];
    atomic_int wrong;
    int n;
} claim_job;

static void count_share(void *arg, int k, int T)
{
    claim_job *j = arg;
    if (T != j->n || k < 0 || k >= T)
        atomic_fetch_add(&j->wrong, 1);
    else
        atomic_fetch_add(&j->ran[k], 1);
}

static void test_claims(void)
{
    for (int T = 2; T <= 4; T++) {
        bp_pool *pool = pool_create(T);
        CHECK(pool != NULL, "pool of %d", T);
        if (!pool)
            continue;
        static claim_job j;
        int phases = 0, expect[BP_MAX_THREADS] = {0};
        for (int k = 0; k < BP_MAX_THREADS; k++)
            atomic_store(&j.ran[k], 0);
        atomic_store(&j.wrong, 0);
        for (int i = 0; i < 100000; i++, phases++) {
            j.n = 1 + i % T;
            pool_run_n(pool, j.n, count_share, &j);
            for (int k = 0; k < j.n; k++)
                expect[k]++;
        }
        int bad = atomic_load(&j.wrong);
        for (int k = 0; k < T; k++)
            bad += atomic_load(&j.ran[k]) != expect[k];
        CHECK(bad == 0, "pool of %d: %d of %d phases' shares ran other than once", T, bad,
              phases);
        pool_free(pool);
    }
}

int main(void)
{
    /* torch.optim's θ3 (float64) for the same runs: SGD(lr=0.1),
     * SGD(lr=0.1, momentum=0.8[, nesterov=True]), Adam/AdamW(lr=0.01,
     * betas=(0.8, 0.99), eps=1e-3), weight_decay 0 and 0.05 */
    test_sgd(0, (const double[3]){0.51, -1.03, 2.025});
    test_sgd(0.05, (const double[3]){0.5024371875, -1.015024375, 1.995474});
    test_momentum(0, (const double[3]){0.5276, -1.0412, 1.9778});
    test_momentum(0.05, (const double[3]){0.5145371875, -1.015224375, 1.926194});
    test_nesterov(0, (const double[3]){0.53208, -1.06296, 2.00724});
    test_nesterov(0.05, (const double[3]){0.5140396775, -1.027365355, 1.937313968});
    const double adam0[3] = {0.49702609703702505, -0.9985647201003541, 1.9864205152177543};
    test_adam(BP_OPT_ADAM, 0, adam0);
    test_adam(BP_OPT_ADAMW, 0, adam0); /* without decay the two are one rule */
    test_adam(BP_OPT_ADAM, 0.05,
              (const double[3]){0.49545030936355233, -0.9959065420452343, 1.982745476665215});
    test_adam(BP_OPT_ADAMW, 0.05,
              (const double[3]){0.49628333873831976, -0.9970729484771153, 1.9834357165258913});
    test_defaults();
    test_clipping();
    test_schedules();
    test_names();
    test_invalid();
    test_sizes();
    test_scaled();
    test_threads();
    test_claims();
    CHECK_DONE();
}
