/*
 * test_hooks.c — bp_train_epoch's hooks against loops written out by hand:
 * after_step sees each step's batch and loss (those of gather +
 * bp_train_step) and stops the pass when it says so; with after_backward
 * the pass is gather, bp_forward, bp_backward, the hook, bp_optimizer_step,
 * bit for bit, and a failing hook stops it before the update; two
 * data-parallel "processes" (threads summing their gradients in the hook)
 * end with one model, the same on both, within float rounding of the
 * one-process pass, also where the ranks do not divide the batch and where
 * a share is empty; and so with the gradient handed over in ranges while
 * the backward pass goes on (grads_ready), each range final when given.
 */
#include "check.h"

#include <signal.h>
#include "testnet.h"

#include <pthread.h>

enum { N = 90, N_IN = 5, K = 3, B = 16 };

static bp_dataset *ds;
static int32_t idx[N];
static bp_config cfg;
static int sizes[3] = {N_IN, 7, K};
static bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SOFTMAX};

static bp_net *net_of(int max_batch)
{
    bp_net *net = bp_net_create(&cfg, max_batch, NULL);
    bp_net_init(net, 9);
    return net;
}

static double l2; /* the optimiser's penalty, for the data-parallel cases */

static bp_optimizer *opt_of(const bp_net *net, bp_opt_kind kind)
{
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = kind;
    oc.l2 = l2;
    oc.lr = 0.05;
    oc.clip_norm = 1;
    return bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
}

/* after_step: what it was told, and a stop at step `stop` */
typedef struct {
    long calls, stop;
    bp_step_info seen[8];
} steps_log;

static bp_status log_step(void *ctx, bp_net *net, const bp_step_info *info)
{
    steps_log *s = ctx;
    (void)net;
    if (s->calls < 8)
        s->seen[s->calls] = *info;
    s->calls++;
    return info->step == s->stop ? BP_ERR_ARG : BP_OK;
}

static void after_step(void)
{
    bp_net *a = net_of(B), *b = net_of(B);
    bp_optimizer *oa = opt_of(a, BP_OPT_ADAM), *ob = opt_of(b, BP_OPT_ADAM);
    steps_log log = {0, -1, {{0}}};
    bp_epoch_hooks h = {.size = sizeof(bp_epoch_hooks), .after_step = log_step, .ctx = &log};
    double sum;
    CHECK(bp_train_epoch(a, oa, ds, idx, N, B, &h, &sum, NULL) == BP_OK, "after_step: epoch");
    CHECK(log.calls == (N + B - 1) / B, "after_step: %ld calls", log.calls);
    float x[B * N_IN];
    int32_t lab[B];
    double ref = 0;
    for (int m0 = 0, s = 0; m0 < N; m0 += B, s++) {
        int M = N - m0 < B ? N - m0 : B;
        double l;
        bp_dataset_gather(ds, idx + m0, M, NULL, NULL, x, NULL, lab);
        CHECK(bp_train_step(b, ob, x, (bp_targets){NULL, lab}, M, &l) == BP_OK, "step");
        bp_step_info *in = &log.seen[s];
        CHECK(in->step == s && in->steps == 1 && in->first == m0 && in->M == M && in->lo == 0 &&
                  in->hi == M && in->loss == l,
              "after_step %d: step %ld of %d, [%d, +%d), loss %.17g vs %.17g", s, in->step,
              in->steps, in->first, in->M, in->loss, l);
        ref += l * M;
    }
    CHECK(sum == ref, "after_step: loss sum %.17g vs %.17g", sum, ref);
    CHECK(memcmp(bp_net_params_const(a), bp_net_params_const(b),
                 bp_net_n_params(a) * sizeof(float)) == 0,
          "after_step: the pass is the loop's");

    log = (steps_log){0, 2, {{0}}}; /* a stop request after the third step */
    long t0 = bp_optimizer_steps(oa);
    CHECK(bp_train_epoch(a, oa, ds, idx, N, B, &h, &sum, NULL) == BP_ERR_ARG, "after_step: stop");
    CHECK(log.calls == 3 && bp_optimizer_steps(oa) == t0 + 3, "after_step: stopped after %ld",
          bp_optimizer_steps(oa) - t0);
    bp_optimizer_free(oa), bp_optimizer_free(ob);
    bp_net_free(a), bp_net_free(b);
}

/* after_backward with one process: it sees the batch's loss and the
 * gradient; `fail_at` makes it refuse a step */
typedef struct {
    long calls, fail_at;
    int ok;
} backward_log;

static bp_status look(void *ctx, bp_net *net, bp_step_info *info)
{
    backward_log *s = ctx;
    float x[B * N_IN];
    int32_t lab[B];
    double l = NAN;
    /* the network still holds the batch's forward: its loss, recomputed */
    bp_dataset_gather(ds, idx + info->first, info->M, NULL, NULL, x, NULL, lab);
    s->ok &= info->status == BP_OK && info->lo == 0 && info->hi == info->M &&
             bp_loss_value(net, (bp_targets){NULL, lab}, &l) == BP_OK &&
             fabs(info->loss - l * info->M) <= 1e-12 * fabs(l * info->M);
    return s->calls++ == s->fail_at ? BP_ERR_SHAPE : BP_OK;
}

static void after_backward(void)
{
    for (int kind = 0; kind < BP_OPT_COUNT; kind++) {
        bp_net *a = net_of(B), *b = net_of(B);
        bp_optimizer *oa = opt_of(a, (bp_opt_kind)kind), *ob = opt_of(b, (bp_opt_kind)kind);
        backward_log log = {0, -1, 1};
        bp_epoch_hooks h = {.size = sizeof(bp_epoch_hooks), .after_backward = look, .ctx = &log};
        double sum, ref = 0;
        CHECK(bp_train_epoch(a, oa, ds, idx, N, B, &h, &sum, NULL) == BP_OK, "after_backward: epoch");
        float x[B * N_IN];
        int32_t lab[B];
        size_t P = bp_net_n_params(b);
        for (int m0 = 0; m0 < N; m0 += B) {
            int M = N - m0 < B ? N - m0 : B;
            double l;
            bp_dataset_gather(ds, idx + m0, M, NULL, NULL, x, NULL, lab);
            CHECK(bp_forward(b, x, M) == BP_OK &&
                      bp_backward(b, (bp_targets){NULL, lab}, &l) == BP_OK,
                  "passes");
            CHECK(bp_optimizer_step(ob, bp_net_params(b), bp_net_grads(b), P, NULL) == BP_OK, "step");
            ref += l * M;
        }
        CHECK(log.calls == (N + B - 1) / B && log.ok, "after_backward: %ld calls", log.calls);
        CHECK(sum == ref, "after_backward %s: loss sum %.17g vs %.17g", bp_opt_name(kind), sum,
              ref);
        CHECK(memcmp(bp_net_params_const(a), bp_net_params_const(b), P * sizeof(float)) == 0,
              "after_backward %s: the pass is the separate calls", bp_opt_name(kind));
        log = (backward_log){0, 1, 1}; /* the second step refused: one step taken */
        long t0 = bp_optimizer_steps(oa);
        CHECK(bp_train_epoch(a, oa, ds, idx, N, B, &h, &sum, NULL) == BP_ERR_SHAPE &&
                  bp_optimizer_steps(oa) == t0 + 1,
              "after_backward: a refusal stops the pass before its update");
        bp_optimizer_free(oa), bp_optimizer_free(ob);
        bp_net_free(a), bp_net_free(b);
    }
}

/* Two processes as two threads: after_backward sums their gradient
 * buffers, losses and failures, as an all-reduce does. */
typedef struct {
    pthread_barrier_t meet;
    float *g[2];
    double loss[2];
    int failed[2];
} world;

typedef struct {
    world *w;
    int rank, batch;
    bp_net *net;
    bp_optimizer *opt;
    float *sum;
    double loss_sum;
    bp_status status;
    size_t bucket, next;  /* grads_ready: the end the next range must have */
    float *snap;          /* each range as it was handed over */
    int ranges, per_step; /* this step's ranges; the first step's count */
    int bad;              /* a range out of order, or not final when given */
} proc;

/* grads_ready: the ranges come down from the end, one after the other */
static bp_status got_range(void *ctx, bp_net *net, size_t lo, size_t hi)
{
    proc *p = ctx;
    if (hi != p->next || lo >= hi)
        p->bad = 1;
    p->next = lo;
    p->ranges++;
    memcpy(p->snap + lo, bp_net_grads(net) + lo, (hi - lo) * sizeof(float));
    return BP_OK;
}

static bp_status all_reduce(void *ctx, bp_net *net, bp_step_info *info)
{
    proc *p = ctx;
    world *w = p->w;
    size_t P = bp_net_n_params(net);
    if (p->bucket) { /* every range came, final when it came, as many each step */
        if (p->next != 0 || memcmp(p->snap, bp_net_grads(net), P * sizeof(float)) != 0 ||
            (p->per_step && p->ranges != p->per_step))
            p->bad = 1;
        p->per_step = p->ranges, p->ranges = 0, p->next = P;
    }
    w->g[p->rank] = bp_net_grads(net);
    w->loss[p->rank] = info->loss;
    w->failed[p->rank] = info->status != BP_OK;
    pthread_barrier_wait(&w->meet);
    for (size_t k = 0; k < P; k++) /* the same order on both */
        p->sum[k] = w->g[0][k] + w->g[1][k];
    double loss = w->loss[0] + w->loss[1];
    int failed = w->failed[0] + w->failed[1];
    pthread_barrier_wait(&w->meet); /* both read before either writes */
    memcpy(bp_net_grads(net), p->sum, P * sizeof(float));
    info->loss = loss;
    return failed ? (info->status != BP_OK ? info->status : BP_ERR_ARG) : BP_OK;
}

static void *run_rank(void *arg)
{
    proc *p = arg;
    bp_epoch_hooks h = BP_EPOCH_HOOKS_DEFAULT;
    h.rank = p->rank, h.ranks = 2, h.after_backward = all_reduce, h.ctx = p;
    if (p->bucket)
        h.grads_ready = got_range, h.bucket = p->bucket;
    p->status = bp_train_epoch(p->net, p->opt, ds, idx, N, p->batch, &h, &p->loss_sum, NULL);
    return NULL;
}

/* bucket > 0: the gradient handed over in ranges of about bucket values
 * as the backward pass makes them (bp_epoch_hooks.grads_ready) */
static void data_parallel(int batch, bp_opt_kind kind, size_t bucket)
{
    bp_net *one = net_of(batch);
    bp_optimizer *o1 = opt_of(one, kind);
    double l1;
    CHECK(bp_train_epoch(one, o1, ds, idx, N, batch, NULL, &l1, NULL) == BP_OK, "one process");
    size_t P = bp_net_n_params(one);
    world w;
    pthread_barrier_init(&w.meet, NULL, 2);
    proc p[2];
    pthread_t th[2];
    for (int r = 0; r < 2; r++) {
        /* a share is at most ceil(batch / 2) rows */
        p[r] = (proc){&w, r, batch, net_of((batch + 1) / 2), NULL, malloc(P * sizeof(float)), 0,
                      BP_OK, bucket, P, malloc(P * sizeof(float)), 0, 0, 0};
        p[r].opt = opt_of(p[r].net, kind);
    }
    for (int r = 0; r < 2; r++)
        pthread_create(&th[r], NULL, run_rank, &p[r]);
    for (int r = 0; r < 2; r++)
        pthread_join(th[r], NULL);
    CHECK(p[0].status == BP_OK && p[1].status == BP_OK, "batch %d: %s, %s", batch,
          bp_status_string(p[0].status), bp_status_string(p[1].status));
    CHECK(!p[0].bad && !p[1].bad && p[0].per_step == p[1].per_step &&
              (bucket == 0 || p[0].per_step > 2),
          "bucket %zu: the ranges (%d and %d a step)", bucket, p[0].per_step, p[1].per_step);
    const float *a = bp_net_params_const(p[0].net), *b = bp_net_params_const(p[1].net);
    const float *ref = bp_net_params_const(one);
    CHECK(memcmp(a, b, P * sizeof(float)) == 0, "batch %d: the ranks' models differ", batch);
    double worst = 0;
    for (size_t k = 0; k < P; k++) {
        double e = fabs(a[k] - ref[k]) / (1 + fabs(ref[k]));
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-5, "batch %d %s: two ranks vs one process: %.3g", batch, bp_opt_name(kind),
          worst);
    CHECK_CLOSE(p[0].loss_sum, l1, 1e-6, "batch %d: loss sum", batch);
    CHECK(bp_optimizer_steps(p[0].opt) == bp_optimizer_steps(o1), "batch %d: steps", batch);
    printf("data parallel, batch %d, %s, l2 %g, bucket %zu (%d ranges a step): worst relative "
           "difference %.3g\n", batch, bp_opt_name(kind), l2, bucket, p[0].per_step, worst);
    for (int r = 0; r < 2; r++) {
        free(p[r].sum), free(p[r].snap);
        bp_optimizer_free(p[r].opt);
        bp_net_free(p[r].net);
    }
    pthread_barrier_destroy(&w.meet);
    bp_optimizer_free(o1);
    bp_net_free(one);
}

/* The stop flag: set during step k (by after_step, as a signal handler
 * would between two steps), the pass returns BP_STOPPED with steps 0..k
 * taken and their examples counted; going on over the rest of idx gives
 * the uninterrupted pass's parameters bit for bit, as a resumed run does.
 * With after_backward set, only the hook's answer counts. */
typedef struct {
    long at;
    volatile sig_atomic_t *flag;
} stopper;

static bp_status raise_flag(void *ctx, bp_net *net, const bp_step_info *info)
{
    stopper *st = ctx;
    (void)net;
    if (info->step == st->at)
        *st->flag = 1;
    return BP_OK;
}

static bp_status veto(void *ctx, bp_net *net, bp_step_info *info)
{
    (void)ctx, (void)net;
    info->stop = 0; /* the other ranks did not see it */
    return info->status;
}

static void stop_flag(bp_opt_kind kind)
{
    const char *what = bp_opt_name(kind);
    bp_net *a = net_of(B), *b = net_of(B);
    bp_optimizer *oa = opt_of(a, kind), *ob = opt_of(b, kind);
    double la, lb, lc;
    int done = -1;
    CHECK(bp_train_epoch(a, oa, ds, idx, N, B, NULL, &la, &done) == BP_OK && done == N,
          "%s: whole pass: %d done", what, done);
    volatile sig_atomic_t flag = 0;
    stopper st = {2, &flag};
    bp_epoch_hooks h = BP_EPOCH_HOOKS_DEFAULT;
    h.after_step = raise_flag, h.ctx = &st, h.stop = &flag;
    bp_status s = bp_train_epoch(b, ob, ds, idx, N, B, &h, &lb, &done);
    CHECK(s == BP_STOPPED && done == 3 * B && bp_optimizer_steps(ob) == 3,
          "%s: stopped: status %d, %d done, %ld steps", what, (int)s, done,
          bp_optimizer_steps(ob));
    flag = 0;
    CHECK(bp_train_epoch(b, ob, ds, idx + done, N - done, B, &h, &lc, NULL) == BP_OK,
          "%s: the rest", what);
    CHECK(memcmp(bp_net_params_const(a), bp_net_params_const(b),
                 bp_net_n_params(a) * sizeof(float)) == 0,
          "%s: stopped and continued differs from the whole pass", what);
    CHECK(lb + lc == la || fabs(lb + lc - la) <= 1e-12 * fabs(la), "%s: loss sums", what);
    /* a hook that says no: the pass goes on */
    flag = 1;
    h.after_backward = veto, h.after_step = NULL;
    CHECK(bp_train_epoch(b, ob, ds, idx, N, B, &h, &lc, &done) == BP_OK && done == N,
          "%s: vetoed stop: %d done", what, done);
    bp_optimizer_free(oa), bp_optimizer_free(ob);
    bp_net_free(a), bp_net_free(b);
}

int main(void)
{
    bp_rng r;
    bp_rng_seed(&r, 3);
    uint8_t *px = malloc((size_t)N * N_IN);
    int32_t *lab = malloc(sizeof(int32_t) * N);
    for (int i = 0; i < N; i++) {
        lab[i] = (int32_t)(bp_rng_next(&r) % K);
        for (int j = 0; j < N_IN; j++)
            px[i * N_IN + j] = (uint8_t)(bp_rng_next(&r) >> 56);
        idx[i] = i;
    }
    ds = bp_dataset_adopt_u8(N, N_IN, K, px, lab);
    bp_shuffle(&r, idx, N);
    cfg = (bp_config){sizeof(bp_config), 2, sizes, acts, BP_LOSS_SOFTMAX_CE, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    after_step();
    after_backward();
    for (size_t bucket = 0; bucket <= 10; bucket += 10) { /* 10: 66 values in 7 ranges */
        data_parallel(16, BP_OPT_SGD, bucket);  /* 8 + 8: 1/ranks in the update */
        data_parallel(7, BP_OPT_ADAM, bucket);  /* 4 + 3: each share weighted */
        data_parallel(1, BP_OPT_MOMENTUM, bucket); /* 0 + 1: an empty share */
    }
    l2 = 0.01; /* the penalty, added range by range */
    data_parallel(7, BP_OPT_ADAM, 10);
    data_parallel(1, BP_OPT_SGD, 10);
    data_parallel(7, BP_OPT_ADAM, 0);
    l2 = 0;
    stop_flag(BP_OPT_SGD);
    stop_flag(BP_OPT_ADAM);

    /* a rank outside 0..ranks−1 is refused before anything runs */
    bp_net *net = net_of(B);
    bp_optimizer *opt = opt_of(net, BP_OPT_SGD);
    double s;
    bp_epoch_hooks bad = {.size = sizeof(bp_epoch_hooks), .rank = 2, .ranks = 2};
    CHECK(bp_train_epoch(net, opt, ds, idx, N, B, &bad, &s, NULL) == BP_ERR_ARG &&
              bp_optimizer_steps(opt) == 0,
          "rank 2 of 2");
    bad = (bp_epoch_hooks){.size = sizeof(bp_epoch_hooks), .rank = 0, .ranks = 2};
    CHECK(bp_train_epoch(net, opt, ds, idx, N, 2 * B + 1, &bad, &s, NULL) == BP_ERR_ARG,
          "a share over max_batch: %s", bp_last_error());
    bp_optimizer_free(opt);
    bp_net_free(net);
    bp_dataset_free(ds);
    CHECK_DONE();
}
