/*
 * epoch.c — bp_train_epoch: one pass over a list of examples in batches,
 * the loop that training runs. On the host it is gather + bp_train_step per
 * batch, or with hooks between the backward pass and the update (data
 * parallelism, value checks) the separate calls; a CUDA network without
 * such hooks hands the whole pass to its backend's train_epoch (cuda.cu
 * keeps the data set on the device and replays one captured step per
 * batch). The arguments are
 * checked here, once, for all.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "train/train.h"

#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

/* The data set fits the network, and every index names one of its examples
 * (the device gathers without bounds checks). */
static bp_status check(const bp_net *net, const bp_optimizer *opt, const bp_dataset *ds,
                       const int32_t *idx, int n, int batch, const bp_epoch_hooks *hooks,
                       const double *loss_sum)
{
    const char *fn = "bp_train_epoch";
    if (!net || !opt || !ds || !idx || !loss_sum)
        return bp_arg_null(NULL, fn, !net ? "net" : !opt ? "opt" : !ds ? "ds" : !idx ? "idx"
                                                                                   : "loss_sum");
    if (opt->n != net->n_params)
        return bp_fail(NULL, BP_ERR_ARG, "%s: optimiser holds %zu parameters, the network %zu",
                       fn, opt->n, net->n_params);
    if (n < 1)
        return bp_fail(NULL, BP_ERR_ARG, "%s: n = %d examples < 1", fn, n);
    if (hooks && hooks->size != sizeof(bp_epoch_hooks))
        return bp_fail(NULL, BP_ERR_ARG, "%s: hooks->size is %zu, not sizeof(bp_epoch_hooks) = "
                       "%zu: start from BP_EPOCH_HOOKS_DEFAULT", fn, hooks->size,
                       sizeof(bp_epoch_hooks));
    int ranks = hooks && hooks->ranks > 1 ? hooks->ranks : 1;
    if (hooks && (hooks->ranks < 0 || hooks->rank < 0 || hooks->rank >= ranks))
        return bp_fail(NULL, BP_ERR_ARG, "%s: rank %d of %d ranks", fn, hooks->rank,
                       hooks->ranks);
    /* a process's share of a batch is at most ceil(batch / ranks) rows */
    if (batch < 1 || (batch + ranks - 1) / ranks > net->max_batch)
        return bp_fail(NULL, BP_ERR_ARG, "%s: batch %d not in 1..max_batch %d%s", fn, batch,
                       net->max_batch, ranks > 1 ? " per rank" : "");
    bp_status s = bp_check_dataset(fn, net, ds);
    if (s != BP_OK)
        return s;
    int N = bp_dataset_n(ds);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= N)
            return bp_fail(NULL, BP_ERR_ARG, "%s: idx[%d] = %d not in 0..%d", fn, i, (int)idx[i],
                           N - 1);
    return BP_OK;
}

bp_status bp_dataset_check(const bp_net *net, const bp_dataset *ds)
{
    if (!net || !ds)
        return bp_arg_null(NULL, __func__, !net ? "net" : "ds");
    return bp_check_dataset(__func__, net, ds);
}

bp_status bp_check_dataset(const char *fn, const bp_net *net, const bp_dataset *ds)
{
    int k = net->sizes[net->L];
    if (bp_dataset_n_in(ds) != net->sizes[0])
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: the data set has %d features, the network %d "
                       "inputs", fn, bp_dataset_n_in(ds), net->sizes[0]);
    if (ds->has_labels && net->loss != BP_LOSS_SOFTMAX_CE)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: class labels need loss softmax_ce, not %s", fn,
                       bp_loss_name(net->loss));
    if (ds->has_labels ? bp_dataset_n_out(ds) > k : bp_dataset_n_out(ds) != k)
        return bp_fail(NULL, BP_ERR_SHAPE, "%s: the data set has %d %s, the network %d outputs",
                       fn, bp_dataset_n_out(ds), ds->has_labels ? "classes" : "targets",
                       k);
    return BP_OK;
}

/* A hooked pass's gradient ranges (bp_epoch_hooks.grads_ready): the points
 * where they begin, fixed by the shape and the bucket, and what the epoch
 * does to each range before a hook sees it. */
typedef struct {
    bp_ready_plan plan;
    size_t *at;
    const bp_epoch_hooks *h;
    bp_net *net;
    float w, c;  /* the share's weight, the penalty's coefficient w (l2 / M) */
    size_t hi;   /* where the next range ends */
    bp_status s; /* the first failure of a hook */
} ranges;

/* Rows per block of each layer's ∇W and the points: each layer's blocks
 * from the last row up, a point kept where it ends at least bucket values
 * since the last one, and at 0. */
static bp_status ranges_open(ranges *r, bp_net *net, const bp_epoch_hooks *h)
{
    size_t bucket = h->grads_ready ? h->bucket : 0, points = 1;
    *r = (ranges){.h = h, .net = net};
    for (int l = 0; l < net->L; l++) {
        int out = net->sizes[l + 1], in = net->sizes[l];
        size_t rows = bucket / (size_t)in;
        r->plan.rows[l] = bucket == 0 || (size_t)out * in <= bucket ? out
                          : rows < 1 ? 1 : (int)rows;
        points += (size_t)(out + r->plan.rows[l] - 1) / r->plan.rows[l];
    }
    if (!(r->at = malloc(points * sizeof *r->at)))
        return bp_fail(NULL, BP_ERR_NOMEM, "bp_train_epoch: out of memory for %zu gradient "
                       "ranges", points);
    size_t last = net->n_params;
    for (int l = net->L - 1; l >= 0; l--)
        for (int hi = net->sizes[l + 1]; hi > 0; hi -= r->plan.rows[l]) {
            int lo = hi > r->plan.rows[l] ? hi - r->plan.rows[l] : 0;
            size_t from = bp_net_weight_offset(net, l) + (size_t)lo * net->sizes[l];
            if (from == 0 || (bucket > 0 && last - from >= bucket))
                r->at[r->plan.n++] = last = from;
        }
    r->plan.at = r->at;
    return BP_OK;
}

/* The plan's point k: grads[at[k], the last range's start) is final. */
static void range_ready(void *ctx, int k)
{
    ranges *r = ctx;
    size_t lo = r->plan.at[k], hi = r->hi;
    float *g = bp_net_grads(r->net); /* after the backward pass: on a GPU, then current */
    for (size_t i = lo; r->w != 1.0f && i < hi; i++)
        g[i] *= r->w;
    if (r->c != 0)
        step_l2_grad(r->net, r->c, lo, hi);
    r->hi = lo;
    bp_status s = r->h->grads_ready ? r->h->grads_ready(r->h->ctx, r->net, lo, hi) : BP_OK;
    if (r->s == BP_OK)
        r->s = s;
}

/* One step in separate calls, for the hooks: forward and backward on this
 * process's rows, each range of the gradient made final as the pass gives
 * it, after_backward, the update. *loss: the batch's mean. */
static bp_status hooked_step(bp_net *net, bp_optimizer *opt, const bp_batches *it,
                             ranges *r, long step, double *loss, int *stop)
{
    const bp_epoch_hooks *h = r->h;
    int rows = it->hi - it->lo;
    bp_targets tg = {it->t, it->labels}; /* one of the two: batches_open */
    /* with ranks dividing M every share's mean counts 1/ranks, in the
     * update's own pass; otherwise each share is weighted by rows/M first */
    int equal = it->M % it->ranks == 0;
    size_t P = net->n_params;
    double l = 0;
    bp_status s = BP_OK;
    /* each share's gradient carries the penalty weighed as itself, and its
     * mean loss the whole penalty: over the ranks, Σ rows (l + p) / M holds
     * it once */
    r->w = it->ranks > 1 && !equal ? (float)rows / (float)it->M : 1.0f;
    r->c = rows > 0 ? (float)(opt->cfg.l2 / it->M) * r->w : 0.0f;
    r->hi = P, r->s = BP_OK, r->plan.next = 0;
    r->plan.ready = range_ready, r->plan.ctx = r;
    if (rows > 0) {
        s = bp_forward(net, it->x, rows);
        net->ready = h->grads_ready && h->bucket > 0 ? &r->plan : NULL; /* as it goes */
        if (s == BP_OK)
            s = bp_backward(net, tg, &l);
        net->ready = NULL;
        if (opt->cfg.l2 > 0 && s == BP_OK && isfinite(l))
            l += step_l2_loss(net, opt->cfg.l2, it->M);
    } else {
        memset(bp_net_grads(net), 0, P * sizeof(float));
    }
    while (r->plan.next < r->plan.n) /* the rest: a device's, or a failed pass's */
        range_ready(r, r->plan.next++);
    if (s == BP_OK)
        s = r->s;
    bp_step_info info = {step, 1, it->m0, it->M, it->lo, it->hi, l * rows, s,
                         h->stop && *h->stop};
    if (h->after_backward)
        s = h->after_backward(h->ctx, net, &info);
    *stop = info.stop; /* the hook's answer: the ranks' agreed one */
    if (s != BP_OK)
        return s;
    *loss = it->ranks > 1 ? info.loss / it->M : l;
    if (!isfinite(*loss)) /* as bp_train_step: a diverged step is not taken */
        return bp_fail(NULL, BP_ERR_NONFINITE, "bp_train_epoch: the batch loss is %g", *loss);
    return bp_optimizer_step_scaled(opt, bp_net_params(net), bp_net_grads(net), P,
                                    it->ranks > 1 && equal ? 1.0 / it->ranks : 1.0, NULL);
}

/* Steps [first, first + k) of the pass on a device that runs a pass
 * (CUDA): the coefficients of its steps computed here, once per call, and
 * the steps it took counted. */
static bp_status device_steps(bp_net *net, bp_optimizer *opt, const bp_dataset *ds,
                              const int32_t *idx, int n, int batch, optim_coef *q, double *sum)
{
    long steps = (n - 1) / batch + 1, taken = 0;
    bp_status s = optim_attach(net, opt);
    if (s != BP_OK)
        return s;
    bp_opt_view o = optim_view(opt, q, steps);
    bp_data_view d = bp_dataset_view(ds);
    s = net->be->train_epoch(net, &o, &d, idx, n, batch, sum, &taken);
    opt->t += taken;
    return s;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The pass on such a device: one call, or with a stop flag to read, calls
 * of about a second of steps each (the first of 16), reading it between
 * them; a cut pass computes what the whole one does. */
static bp_status device_epoch(bp_net *net, bp_optimizer *opt, const bp_dataset *ds,
                              const int32_t *idx, int n, int batch, const bp_epoch_hooks *h,
                              double *loss_sum, int *done)
{
    long steps = (n - 1) / batch + 1;
    optim_coef *q = malloc((size_t)steps * sizeof *q);
    if (!q)
        return bp_fail(NULL, BP_ERR_NOMEM, "bp_train_epoch: out of memory for %ld steps", steps);
    bp_status s = BP_OK;
    long chunk = h->stop ? 16 : steps, step = 0;
    double sum = 0;
    int m0 = 0;
    while (s == BP_OK && m0 < n) {
        int count = (long)(n - m0) < chunk * batch ? n - m0 : (int)(chunk * batch);
        double t0 = seconds_now(), part = 0;
        s = device_steps(net, opt, ds, idx + m0, count, batch, q, &part);
        if (s != BP_OK && s != BP_ERR_NONFINITE)
            break;
        long k = (count - 1) / batch + 1;
        sum += part;
        bp_step_info info = {step, (int)k, m0, count, 0, count, part / count, s,
                             h->stop && *h->stop};
        m0 += count, step += k;
        if (s == BP_OK && h->after_step)
            s = h->after_step(h->ctx, net, &info);
        if (s == BP_OK && info.stop && m0 < n)
            s = BP_STOPPED;
        double dt = seconds_now() - t0; /* the next chunk: about a second */
        chunk = dt > 0 ? (long)((double)k / dt) : 2 * k;
        chunk = chunk < 1 ? 1 : chunk;
    }
    free(q);
    *done = m0;
    *loss_sum = sum;
    return s;
}

bp_status bp_train_epoch(bp_net *net, bp_optimizer *opt, const bp_dataset *ds, const int32_t *idx,
                         int n, int batch, const bp_epoch_hooks *hooks, double *loss_sum,
                         int *n_done)
{
    int done_here = 0, *done = n_done ? n_done : &done_here;
    *done = 0;
    bp_status s = check(net, opt, ds, idx, n, batch, hooks, loss_sum);
    if (s != BP_OK)
        return s;
    bp_epoch_hooks h = hooks ? *hooks : (bp_epoch_hooks)BP_EPOCH_HOOKS_DEFAULT;
    if (h.ranks < 1)
        h.ranks = 1;
    /* the fused step unless a hook goes between the backward pass and the
     * update */
    int hooked = h.after_backward || h.ranks > 1;
    if (net->be->train_epoch && !hooked && opt->cfg.l2 == 0) { /* l2: bp_train_step's way */
        s = device_epoch(net, opt, ds, idx, n, batch, &h, loss_sum, done);
        goto out;
    }
    /* softmax_ce trains on the classes of one-hot targets (the same δ = y − t) */
    int labelled = ds->has_labels ||
                   (ds->one_hot && net->loss == BP_LOSS_SOFTMAX_CE);
    bp_batches it;
    ranges r = {0};
    if (hooked && (s = ranges_open(&r, net, &h)) != BP_OK)
        return s;
    if ((s = batches_open(&it, __func__, net, ds, idx, n, batch, h.rank, h.ranks, !labelled,
                          labelled)) != BP_OK) {
        free(r.at);
        return s;
    }
    double sum = 0;
    for (long step = 0; s == BP_OK && batches_next(&it); step++) {
        double l = NAN;
        int stop = 0;
        if (hooked) {
            s = hooked_step(net, opt, &it, &r, step, &l, &stop);
        } else {
            s = bp_train_step(net, opt, it.x, (bp_targets){it.t, it.labels}, it.M, &l);
            stop = h.stop && *h.stop;
        }
        sum += l * it.M;
        if (s == BP_OK)
            *done = it.m0 + it.M;
        bp_step_info info = {step, 1, it.m0, it.M, it.lo, it.hi, l, s, stop};
        if (s == BP_OK && h.after_step)
            s = h.after_step(h.ctx, net, &info);
        if (!hooked) /* alone, the latest word: a request between two steps stops here */
            stop = h.stop && *h.stop;
        if (s == BP_OK && stop && *done < n)
            s = BP_STOPPED;
    }
    batches_close(&it);
    free(r.at);
    /* the network holds its own copy of the last Y(0): nothing points at x.
     * The pass's steps spent its forwards: a bp_backward now is BP_ERR_ARG,
     * as after a move between devices. A non-finite batch loss stopped the
     * pass before its step (the device runs to the end of the pass and says
     * so then). */
    net->M = 0;
    if (s == BP_OK || s == BP_ERR_NONFINITE || s == BP_STOPPED)
        *loss_sum = sum;
out:
    opt->examples += *done; /* invscaling's count: the examples stepped */
    if (s == BP_STOPPED)
        bp_fail(NULL, BP_STOPPED, "bp_train_epoch: stopped on request after %d of %d examples",
                *done, n);
    return s;
}
