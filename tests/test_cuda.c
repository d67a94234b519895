/*
 * test_cuda.c — the CUDA backend against the CPU engine, which test_forms
 * ties to the scalar oracle: gradients and losses of the same network and
 * batch for every activation × loss (temperatures other than 1, labels and
 * dense targets, M = 1, 7, 64) within 1e-5 relative per tensor, TF32 off;
 * bp_train_epoch on both devices for every optimiser (clipping, weight
 * decay, a schedule, standardisation, a last short batch, labels and
 * regression targets) within 1e-4; the calls a run makes (an epoch cut
 * into chunks between checkpoints is the whole epoch bit for bit; a host
 * step, an evaluation and a host write between device epochs; batch sizes
 * that overflow the graph cache; a checkpoint resumed on a fresh device
 * network bit for bit, and loaded back into the run's own at an equal step
 * count); and the host mirror's contract.
 *
 * Exits 77 (ctest: skipped) with the reason printed when the build has no
 * CUDA backend or no device can be used, as on CI.
 */
#include "check.h"
#include "testnet.h"
#include "tmpdir.h"

static double worst_grad = 0, worst_loss = 0, worst_epoch = 0;

/* ‖got − want‖∞/‖want‖∞ over n floats, both zero counting as equal */
static double rel_err(const float *got, const float *want, size_t n)
{
    double *w = malloc(n * sizeof *w);
    int all_zero = 1;
    for (size_t k = 0; k < n; k++) {
        w[k] = want[k];
        all_zero &= want[k] == 0.0f && got[k] == 0.0f;
    }
    double e = all_zero ? 0 : test_rel_err_f(got, w, n);
    free(w);
    return e;
}

/* per tensor (W(l), b(l)) of two buffers in the network's layout */
static void compare_tensors(const bp_net *net, const float *got, const float *want, double tol,
                            const char *what)
{
    for (int l = 0; l < bp_net_n_layers(net); l++) {
        size_t w = bp_net_weight_offset(net, l), b = bp_net_bias_offset(net, l);
        const size_t off[2] = {w, b}, len[2] = {b - w, (size_t)bp_net_size(net, l + 1)};
        for (int k = 0; k < 2; k++) {
            double e = rel_err(got + off[k], want + off[k], len[k]);
            if (e > worst_grad)
                worst_grad = e;
            CHECK(e <= tol, "%s: layer %d %s: relative error %.3g", what, l,
                  k ? "bias" : "weight", e);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Gradients of one batch                                                    */
/* ------------------------------------------------------------------------ */

static void grad_case(bp_rng *r, int L, bp_act hidden, bp_loss loss, bp_act out, double T, int M,
                      int labels)
{
    bp_net *net = test_net(r, L, 40, hidden, loss, out, T, M);
    int n0 = bp_net_size(net, 0), nL = bp_net_size(net, L);
    size_t P = bp_net_n_params(net);
    float *x = malloc(sizeof(float) * M * n0), *t = malloc(sizeof(float) * M * nL);
    float *g_cpu = malloc(sizeof(float) * P), *y_cpu = malloc(sizeof(float) * M * nL);
    int32_t *lab = malloc(sizeof(int32_t) * M);
    bp_targets tg = test_batch(r, net, M, labels, x, t, lab);
    char what[160];
    snprintf(what, sizeof what, "L=%d %s/%s/%s T=%g M=%d%s", L, bp_act_name(hidden),
             bp_act_name(out), bp_loss_name(loss), T, M, labels ? " labels" : "");

    double l_cpu, l_gpu;
    CHECK(bp_forward(net, x, M) == BP_OK, "%s: cpu forward", what);
    memcpy(y_cpu, bp_net_output(net), sizeof(float) * M * nL);
    CHECK(bp_backward(net, tg, &l_cpu) == BP_OK, "%s: cpu backward", what);
    memcpy(g_cpu, bp_net_grads(net), sizeof(float) * P);

    bp_error err;
    CHECK(bp_net_set_device(net, BP_DEVICE_CUDA, &err) == BP_OK, "%s: to cuda: %s", what, err.msg);
    CHECK(bp_forward(net, x, M) == BP_OK, "%s: gpu forward: %s", what, bp_last_error());
    double ey = rel_err(bp_net_output(net), y_cpu, (size_t)M * nL);
    CHECK(ey <= 1e-5, "%s: outputs: relative error %.3g", what, ey);
    CHECK(bp_backward(net, tg, &l_gpu) == BP_OK, "%s: gpu backward: %s", what,
          bp_last_error());
    compare_tensors(net, bp_net_grads(net), g_cpu, 1e-5, what);
    double le = fabs(l_gpu - l_cpu) / fmax(fabs(l_cpu), 1e-30);
    if (le > worst_loss)
        worst_loss = le;
    CHECK(le <= 1e-5, "%s: loss %.9g vs cpu %.9g", what, l_gpu, l_cpu);

    free(x), free(t), free(g_cpu), free(y_cpu), free(lab);
    bp_net_free(net);
}

static int gradients(bp_rng *r)
{
    static const int batches[] = {1, 7, 64};
    int cases = 0;
    for (int h = 0; h < TEST_N_ACTS; h++)
        for (int L = 1; L <= 3; L++)
            for (int b = 0; b < 3; b++, cases += TEST_N_ACTS + 4) {
                int M = batches[b];
                for (int o = 0; o < TEST_N_ACTS; o++)
                    grad_case(r, L, test_hidden[h], BP_LOSS_MSE, test_mse_out[o], 1.0, M, 0);
                grad_case(r, L, test_hidden[h], BP_LOSS_SIGMOID_BCE, 0, 1.0, M, 0);
                grad_case(r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 1.0, M, 1);
                grad_case(r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 0.5, M, 1);
                grad_case(r, L, test_hidden[h], BP_LOSS_SOFTMAX_CE, 0, 2.5, M, 0);
            }
    return cases;
}

/* ------------------------------------------------------------------------ */
/* Epochs                                                                    */
/* ------------------------------------------------------------------------ */

/* The same network on both devices: CPU with test_net's parameters, and a
 * CUDA one created from the same configuration that takes them through
 * bp_net_params (host written → uploaded by the first device step). */
static void make_pair(bp_rng *r, const int *sizes, int L, bp_act hidden, bp_loss loss, int B,
                      bp_net **cpu, bp_net **gpu)
{
    bp_act acts[BP_MAX_LAYERS];
    for (int l = 0; l < L - 1; l++)
        acts[l] = hidden;
    acts[L - 1] = loss == BP_LOSS_SOFTMAX_CE ? BP_ACT_SOFTMAX : BP_ACT_IDENTITY;
    bp_config cfg = {sizeof(bp_config), L, sizes, acts, loss, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    bp_error err;
    *cpu = bp_net_create(&cfg, B, &err);
    cfg.device = BP_DEVICE_CUDA;
    *gpu = bp_net_create(&cfg, B, &err);
    if (!*cpu || !*gpu) {
        fprintf(stderr, "make_pair: %s\n", err.msg);
        exit(1);
    }
    bp_net_init(*cpu, bp_rng_next(r));
    memcpy(bp_net_params(*gpu), bp_net_params_const(*cpu), bp_net_n_params(*cpu) * sizeof(float));
}

/* Three epochs of shuffled idx on both devices, then parameters, loss
 * sums and the optimiser state compared. */
static void epoch_case(bp_rng *r, const bp_dataset *ds, bp_loss loss, bp_opt_config oc,
                       int standardise, const char *what)
{
    int n = bp_dataset_n(ds), B = 32, L = 2;
    int sizes[3] = {bp_dataset_n_in(ds), 16, loss == BP_LOSS_SOFTMAX_CE ? 5 : bp_dataset_n_out(ds)};
    bp_net *cpu, *gpu;
    make_pair(r, sizes, L, BP_ACT_TANH, loss, B, &cpu, &gpu);
    size_t P = bp_net_n_params(cpu);
    bp_error err;
    bp_optimizer *oa = bp_optimizer_create(&oc, P, &err), *ob = bp_optimizer_create(&oc, P, &err);
    int32_t *idx = malloc(sizeof(int32_t) * n);
    float *mean = malloc(sizeof(float) * sizes[0]), *std = malloc(sizeof(float) * sizes[0]);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    bp_dataset_moments(ds, idx, n, mean, std);
    if (standardise)
        CHECK(bp_net_set_standardize(cpu, mean, std) == BP_OK &&
                  bp_net_set_standardize(gpu, mean, std) == BP_OK,
              "%s: standardisation", what);
    for (int e = 0; e < 3; e++) {
        double la, lb;
        bp_shuffle(r, idx, n);
        bp_status sa = bp_train_epoch(cpu, oa, ds, idx, n, B, NULL, &la, NULL);
        bp_status sb = bp_train_epoch(gpu, ob, ds, idx, n, B, NULL, &lb, NULL);
        CHECK(sa == BP_OK && sb == BP_OK, "%s: epoch %d: %s / %s (%s)", what, e,
              bp_status_string(sa), bp_status_string(sb), bp_last_error());
        CHECK(fabs(la - lb) <= 1e-4 * fabs(la), "%s: epoch %d: loss sum %.9g vs cpu %.9g", what,
              e, lb, la);
    }
    CHECK(bp_optimizer_steps(oa) == bp_optimizer_steps(ob), "%s: step counts", what);
    double ep = rel_err(bp_net_params_const(gpu), bp_net_params_const(cpu), P);
    if (ep > worst_epoch)
        worst_epoch = ep;
    CHECK(ep <= 1e-4, "%s: parameters: relative error %.3g", what, ep);
    CHECK(optim_home(ob) == BP_OK, "%s: sync", what);
    if (oa->m)
        CHECK(rel_err(ob->m, oa->m, P) <= 1e-4, "%s: optimiser m: %.3g", what,
              rel_err(ob->m, oa->m, P));
    if (oa->v)
        CHECK(rel_err(ob->v, oa->v, P) <= 1e-4, "%s: optimiser v: %.3g", what,
              rel_err(ob->v, oa->v, P));

    /* a per-call step after the epochs: the same state carries on */
    float *x = malloc(sizeof(float) * B * sizes[0]), *t = malloc(sizeof(float) * B * sizes[L]);
    int32_t lab[32];
    bp_dataset_gather(ds, idx, B, NULL, NULL, x, t, lab);
    bp_targets tg = bp_dataset_has_labels(ds) ? (bp_targets){NULL, lab} : (bp_targets){t, NULL};
    double la, lb;
    CHECK(bp_train_step(cpu, oa, x, tg, B, &la) == BP_OK, "%s: cpu step", what);
    CHECK(bp_train_step(gpu, ob, x, tg, B, &lb) == BP_OK, "%s: gpu step", what);
    CHECK(fabs(la - lb) <= 1e-4 * fabs(la), "%s: step loss %.9g vs %.9g", what, lb, la);
    ep = rel_err(bp_net_params_const(gpu), bp_net_params_const(cpu), P);
    CHECK(ep <= 1e-4, "%s: parameters after a step: relative error %.3g", what, ep);

    free(x), free(t), free(idx), free(mean), free(std);
    bp_optimizer_free(oa), bp_optimizer_free(ob);
    bp_net_free(cpu), bp_net_free(gpu);
}

/* 300 examples of 20 pixels and 5 classes (uint8, as IDX holds them) */
static bp_dataset *pixels(bp_rng *r)
{
    int n = 300, n_in = 20;
    uint8_t *x = malloc((size_t)n * n_in);
    int32_t *lab = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++) {
        lab[i] = (int32_t)(bp_rng_next(r) % 5);
        for (int j = 0; j < n_in; j++) /* a class-dependent pattern plus noise */
            x[i * n_in + j] = (uint8_t)((j % 5 == lab[i] ? 150 : 40) + bp_rng_next(r) % 100);
    }
    return bp_dataset_adopt_u8(n, n_in, 5, x, lab);
}

/* 250 rows of 6 features and 2 regression targets, through the CSV loader */
static bp_dataset *regression(bp_rng *r)
{
    char *csv = malloc(250 * 8 * 16), *p = csv;
    for (int i = 0; i < 250; i++) {
        double f[6], s = 0;
        for (int j = 0; j < 6; j++)
            s += f[j] = 4 * bp_rng_uniform(r) - 2;
        for (int j = 0; j < 6; j++)
            p += sprintf(p, "%.4f,", f[j]);
        p += sprintf(p, "%.4f,%.4f\n", 0.3 * s, f[0] * f[1]);
    }
    bp_dataset *ds = NULL;
    bp_error err;
    if (bp_dataset_load_csv(tmp_put("reg.csv", csv, (size_t)(p - csv)), 2, &ds, &err) != BP_OK) {
        fprintf(stderr, "regression: %s\n", err.msg);
        exit(1);
    }
    free(csv);
    return ds;
}

static void epochs(bp_rng *r)
{
    bp_dataset *img = pixels(r), *reg = regression(r);
    for (int k = 0; k < BP_OPT_COUNT; k++) {
        bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
        oc.kind = (bp_opt_kind)k;
        oc.lr = k >= BP_OPT_ADAM ? 3e-3 : 0.05;
        char what[96];
        snprintf(what, sizeof what, "%s, pixels", bp_opt_name(oc.kind));
        epoch_case(r, img, BP_LOSS_SOFTMAX_CE, oc, k % 2, what);
        /* the rest of optim.c: decay, clipping (norm on the device), a schedule */
        oc.weight_decay = 1e-3;
        oc.clip_norm = 0.5;
        oc.schedule = BP_SCHED_COSINE;
        oc.total_steps = 20;
        oc.warmup_steps = 3;
        snprintf(what, sizeof what, "%s + decay, clip, cosine, regression", bp_opt_name(oc.kind));
        epoch_case(r, reg, BP_LOSS_MSE, oc, 1, what);
    }

    /* divergence: a non-finite loss sum on both devices */
    int sizes[3] = {20, 16, 5};
    bp_net *cpu, *gpu;
    make_pair(r, sizes, 2, BP_ACT_RELU, BP_LOSS_SOFTMAX_CE, 64, &cpu, &gpu);
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_SGD;
    oc.lr = 1e30;
    bp_optimizer *opt = bp_optimizer_create(&oc, bp_net_n_params(cpu), NULL);
    int32_t idx[300];
    for (int i = 0; i < 300; i++)
        idx[i] = i;
    double l;
    CHECK(bp_train_epoch(cpu, opt, img, idx, 300, 64, NULL, &l, NULL) == BP_ERR_NONFINITE,
          "cpu divergence");
    CHECK(bp_train_epoch(gpu, opt, img, idx, 300, 64, NULL, &l, NULL) == BP_ERR_NONFINITE,
          "gpu divergence");
    idx[5] = 300;
    CHECK(bp_train_epoch(gpu, opt, img, idx, 300, 64, NULL, &l, NULL) == BP_ERR_ARG,
          "an index outside the data set");
    bp_optimizer_free(opt);
    bp_net_free(cpu), bp_net_free(gpu);
    bp_dataset_free(img), bp_dataset_free(reg);
}

/* ------------------------------------------------------------------------ */
/* Calls that make up a run: chunks, host steps, checkpoints, batch sizes     */
/* ------------------------------------------------------------------------ */

/* A network 20-16-5 (tanh, softmax_ce) for batches of up to B on device d,
 * with the parameters p (uploaded by its first device operation). */
static bp_net *net_on(bp_device d, int B, const float *p)
{
    static const int sizes[3] = {20, 16, 5};
    static const bp_act acts[2] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = {sizeof(bp_config), 2, sizes, acts, BP_LOSS_SOFTMAX_CE, 1.0, BP_LEAKY_SLOPE_DEFAULT, d};
    bp_error err;
    bp_net *net = bp_net_create(&cfg, B, &err);
    if (!net) {
        fprintf(stderr, "net_on: %s\n", err.msg);
        exit(1);
    }
    memcpy(bp_net_params(net), p, bp_net_n_params(net) * sizeof(float));
    return net;
}

/* Adam with clipping, decay, warm-up and a cosine: every coefficient of a
 * step depends on its count */
static bp_optimizer *adam_for(const bp_net *net)
{
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_ADAMW;
    oc.lr = 3e-3;
    oc.weight_decay = 1e-3;
    oc.clip_norm = 0.5;
    oc.schedule = BP_SCHED_COSINE;
    oc.total_steps = 40;
    oc.warmup_steps = 3;
    return bp_optimizer_create(&oc, bp_net_n_params(net), NULL);
}

/* 1 if the two optimisers' states are the same bits (after a sync) */
static int same_state(const bp_optimizer *a, const bp_optimizer *b)
{
    return a->t == b->t && (!a->m || memcmp(a->m, b->m, a->n * sizeof(float)) == 0) &&
           (!a->v || memcmp(a->v, b->v, a->n * sizeof(float)) == 0);
}

/* cmd_train on a GPU: every step up to the next checkpoint in one
 * bp_train_epoch call over idx + m0, with a sync and a read of the
 * parameters (the checkpoint) between calls. Two epochs so cut, in chunks
 * of 3 steps (the last call has only the short batch) and of 4 (the last
 * has a full batch and the short one), are the two whole epochs bit for
 * bit: the device step counter, the index offset and the step's rates start
 * afresh at each call, from opt->t. */
static void chunks(bp_rng *r, const bp_dataset *ds, const float *p0)
{
    int n = bp_dataset_n(ds), B = 32, P;
    bp_net *whole = net_on(BP_DEVICE_CUDA, B, p0), *cut = net_on(BP_DEVICE_CUDA, B, p0);
    P = (int)bp_net_n_params(whole);
    bp_optimizer *ow = adam_for(whole), *oc = adam_for(cut);
    float mean[20], std[20];
    int32_t *idx = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    bp_dataset_moments(ds, idx, n, mean, std);
    CHECK(bp_net_set_standardize(whole, mean, std) == BP_OK &&
              bp_net_set_standardize(cut, mean, std) == BP_OK,
          "chunks: standardisation");
    double sum_w = 0, sum_c = 0;
    for (int e = 0; e < 2; e++) {
        int k = e ? 4 : 3; /* steps per call */
        double l;
        bp_shuffle(r, idx, n);
        CHECK(bp_train_epoch(whole, ow, ds, idx, n, B, NULL, &l, NULL) == BP_OK, "chunks: whole: %s",
              bp_last_error());
        sum_w += l;
        for (int m0 = 0; m0 < n;) {
            int count = n - m0 < k * B ? n - m0 : k * B;
            CHECK(bp_train_epoch(cut, oc, ds, idx + m0, count, B, NULL, &l, NULL) == BP_OK,
                  "chunks: epoch %d at %d: %s", e, m0, bp_last_error());
            sum_c += l;
            m0 += count;
            CHECK(optim_home(oc) == BP_OK, "chunks: sync");
            (void)bp_net_params_const(cut);
        }
    }
    CHECK(bp_optimizer_steps(ow) == 2 * ((n + B - 1) / B) && bp_optimizer_steps(oc) == bp_optimizer_steps(ow),
          "chunks: steps %ld and %ld", bp_optimizer_steps(oc), bp_optimizer_steps(ow));
    double ep = rel_err(bp_net_params_const(cut), bp_net_params_const(whole), (size_t)P);
    CHECK(memcmp(bp_net_params_const(cut), bp_net_params_const(whole), (size_t)P * sizeof(float)) == 0,
          "chunks: parameters differ from the whole epochs' (relative %.3g)", ep);
    CHECK(optim_home(ow) == BP_OK && optim_home(oc) == BP_OK &&
          same_state(ow, oc), "chunks: optimiser state");
    CHECK(fabs(sum_c - sum_w) <= 1e-12 * fabs(sum_w), "chunks: loss sums %.17g vs %.17g", sum_c,
          sum_w);
    free(idx);
    bp_optimizer_free(ow), bp_optimizer_free(oc);
    bp_net_free(whole), bp_net_free(cut);
}

/* Between two device epochs, on the CUDA network as on a CPU twin: a host
 * optimiser step (sync, forward, backward, bp_optimizer_step on the
 * mirror: m, v and t go back up), an evaluation (forward passes of the
 * network's maximum batch from host arrays), a host write of a parameter;
 * then batch sizes that need more graphs than the cache keeps. */
static void between(bp_rng *r, const bp_dataset *ds, const float *p0)
{
    int n = bp_dataset_n(ds), B = 32;
    bp_net *cpu = net_on(BP_DEVICE_CPU, B, p0), *gpu = net_on(BP_DEVICE_CUDA, B, p0);
    size_t P = bp_net_n_params(cpu);
    bp_optimizer *oa = adam_for(cpu), *ob = adam_for(gpu);
    int32_t *idx = malloc(sizeof(int32_t) * n), lab[32];
    float x[32 * 20];
    for (int i = 0; i < n; i++)
        idx[i] = i;
    /* 40 examples: a short last batch (32 + 8), none (2 × 20), short ones
     * of 1 taken 13 and 3 apart (different graphs), then 32 again: more
     * (batch, stride) pairs than the cache keeps */
    static const int batches[] = {32, 20, 7, 13, 3, 32};
    int n_ep = 40;
    double la, lb;
    for (int e = 0; e < (int)(sizeof batches / sizeof batches[0]); e++) {
        int b = batches[e];
        bp_shuffle(r, idx, n);
        bp_status sa = bp_train_epoch(cpu, oa, ds, idx, n_ep, b, NULL, &la, NULL);
        bp_status sb = bp_train_epoch(gpu, ob, ds, idx, n_ep, b, NULL, &lb, NULL);
        CHECK(sa == BP_OK && sb == BP_OK, "between: epoch %d (batch %d): %s", e, b,
              bp_last_error());
        CHECK(fabs(la - lb) <= 1e-4 * fabs(la), "between: epoch %d (batch %d): loss %.9g vs cpu %.9g",
              e, b, lb, la);
        if (e != 0)
            continue;
        /* the host step */
        CHECK(optim_home(ob) == BP_OK, "between: sync");
        bp_dataset_gather(ds, idx, B, NULL, NULL, x, NULL, lab);
        bp_targets tg = {NULL, lab};
        bp_net *nets[2] = {cpu, gpu};
        bp_optimizer *opts[2] = {oa, ob};
        for (int d = 0; d < 2; d++) {
            CHECK(bp_forward(nets[d], x, B) == BP_OK && bp_backward(nets[d], tg, NULL) == BP_OK,
                  "between: forward, backward (%d)", d);
            float *p = bp_net_params(nets[d]);
            CHECK(bp_optimizer_step(opts[d], p, bp_net_grads(nets[d]), P, NULL) == BP_OK,
                  "between: the host step (%d)", d);
        }
        /* the evaluation */
        bp_metrics mc, mg;
        CHECK(bp_evaluate(cpu, ds, idx, n, &mc, NULL) == BP_OK &&
              bp_evaluate(gpu, ds, idx, n, &mg, NULL) == BP_OK,
              "between: evaluate: %s", bp_last_error());
        double ec = mc.loss, eg = mg.loss;
        CHECK(fabs(eg - ec) <= 1e-4 * fabs(ec), "between: evaluate: %.9g vs cpu %.9g", eg, ec);
        /* the host write */
        bp_net_params(cpu)[bp_net_bias_offset(cpu, 1) + 2] += 0.25f;
        bp_net_params(gpu)[bp_net_bias_offset(gpu, 1) + 2] += 0.25f;
    }
    CHECK(bp_optimizer_steps(oa) == bp_optimizer_steps(ob), "between: step counts");
    double ep = rel_err(bp_net_params_const(gpu), bp_net_params_const(cpu), P);
    if (ep > worst_epoch)
        worst_epoch = ep;
    CHECK(ep <= 1e-4, "between: parameters: relative error %.3g", ep);
    CHECK(optim_home(ob) == BP_OK, "between: sync at the end");
    CHECK(rel_err(ob->m, oa->m, P) <= 1e-4 && rel_err(ob->v, oa->v, P) <= 1e-4,
          "between: optimiser state: m %.3g, v %.3g", rel_err(ob->m, oa->m, P),
          rel_err(ob->v, oa->v, P));
    free(idx);
    bp_optimizer_free(oa), bp_optimizer_free(ob);
    bp_net_free(cpu), bp_net_free(gpu);
}

/* A checkpoint of a device run (sync, then save), resumed by a fresh CUDA
 * network and optimiser: their first epoch uploads the loaded parameters
 * and m, v, t, and continues the run bit for bit; a CPU network resumed
 * from the same file follows within rounding. Then the same file loaded
 * into the run's own network and optimiser at an equal step count. */
static void resume(bp_rng *r, const bp_dataset *ds, const float *p0)
{
    int n = bp_dataset_n(ds), B = 32;
    bp_net *run = net_on(BP_DEVICE_CUDA, B, p0);
    size_t P = bp_net_n_params(run);
    bp_optimizer *opt = adam_for(run);
    int32_t *idx = malloc(sizeof(int32_t) * n), *idx2 = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    bp_shuffle(r, idx, n);
    memcpy(idx2, idx, sizeof(int32_t) * n);
    bp_shuffle(r, idx2, n);
    double l1, l_run, l_res, l_cpu;
    bp_error err;
    const char *path = tmp_path("run.ckpt");
    CHECK(bp_train_epoch(run, opt, ds, idx, n, B, NULL, &l1, NULL) == BP_OK, "resume: epoch 1");
    CHECK(optim_home(opt) == BP_OK, "resume: sync");
    CHECK(bp_checkpoint_save(path, run, opt, NULL, 0, &err) == BP_OK, "resume: save: %s", err.msg);
    CHECK(bp_train_epoch(run, opt, ds, idx2, n, B, NULL, &l_run, NULL) == BP_OK, "resume: epoch 2");

    /* a fresh network whose own parameters are something else */
    float *other = malloc(P * sizeof *other);
    for (size_t k = 0; k < P; k++)
        other[k] = p0[k] * 0.5f + 0.01f;
    bp_net *res = net_on(BP_DEVICE_CUDA, B, other), *cpu = net_on(BP_DEVICE_CPU, B, other);
    bp_optimizer *o_res = adam_for(res), *o_cpu = adam_for(cpu);
    CHECK(bp_checkpoint_load(path, res, o_res, NULL, 0, &err) == BP_OK, "resume: load: %s", err.msg);
    CHECK(bp_checkpoint_load(path, cpu, o_cpu, NULL, 0, &err) == BP_OK, "resume: load: %s", err.msg);
    CHECK(bp_train_epoch(res, o_res, ds, idx2, n, B, NULL, &l_res, NULL) == BP_OK,
          "resume: resumed epoch: %s", bp_last_error());
    CHECK(bp_train_epoch(cpu, o_cpu, ds, idx2, n, B, NULL, &l_cpu, NULL) == BP_OK,
          "resume: resumed epoch on the cpu");
    CHECK(memcmp(bp_net_params_const(res), bp_net_params_const(run), P * sizeof(float)) == 0,
          "resume: parameters differ from the run's (relative %.3g)",
          rel_err(bp_net_params_const(res), bp_net_params_const(run), P));
    CHECK(l_res == l_run, "resume: loss %.17g vs the run's %.17g", l_res, l_run);
    CHECK(optim_home(opt) == BP_OK && optim_home(o_res) == BP_OK &&
          same_state(opt, o_res), "resume: optimiser state");
    double ep = rel_err(bp_net_params_const(cpu), bp_net_params_const(run), P);
    CHECK(ep <= 1e-4, "resume: cpu: parameters: relative error %.3g", ep);
    CHECK(fabs(l_cpu - l_run) <= 1e-4 * fabs(l_run), "resume: cpu: loss %.9g vs %.9g", l_cpu,
          l_run);

    /* back to the checkpoint in the same network and optimiser, whose
     * count is then the file's: the loaded m, v are what the next epoch
     * uses (not the device's), so it repeats epoch 2 */
    CHECK(bp_checkpoint_load(path, run, opt, NULL, 0, &err) == BP_OK, "resume: reload: %s",
          err.msg);
    float *again = malloc(P * sizeof *again);
    CHECK(bp_train_epoch(run, opt, ds, idx2, n, B, NULL, &l1, NULL) == BP_OK, "resume: epoch 2 again");
    memcpy(again, bp_net_params_const(run), P * sizeof *again);
    CHECK(memcmp(again, bp_net_params_const(res), P * sizeof(float)) == 0 && l1 == l_res,
          "resume: epoch 2 again differs (relative %.3g)",
          rel_err(again, bp_net_params_const(res), P));
    /* an equal count: the CPU twin's state at step t loaded into the run's
     * network and optimiser, also at t, their device state synced (as a
     * checkpoint leaves it): the next epoch takes the loaded m, v, not the
     * device's, as a fresh network resumed from the same file does */
    const char *path2 = tmp_path("cpu.ckpt");
    CHECK(bp_checkpoint_save(path2, cpu, o_cpu, NULL, 0, &err) == BP_OK, "resume: save cpu: %s",
          err.msg);
    CHECK(optim_home(opt) == BP_OK && bp_optimizer_steps(opt) == bp_optimizer_steps(o_cpu),
          "resume: counts %ld and %ld", bp_optimizer_steps(opt), bp_optimizer_steps(o_cpu));
    CHECK(bp_checkpoint_load(path2, run, opt, NULL, 0, &err) == BP_OK, "resume: load cpu: %s",
          err.msg);
    bp_net *fresh = net_on(BP_DEVICE_CUDA, B, other);
    bp_optimizer *o_fresh = adam_for(fresh);
    CHECK(bp_checkpoint_load(path2, fresh, o_fresh, NULL, 0, &err) == BP_OK, "resume: load cpu: %s",
          err.msg);
    CHECK(bp_train_epoch(run, opt, ds, idx, n, B, NULL, &l1, NULL) == BP_OK &&
          bp_train_epoch(fresh, o_fresh, ds, idx, n, B, NULL, &l_res, NULL) == BP_OK,
          "resume: epoch 3: %s", bp_last_error());
    CHECK(memcmp(bp_net_params_const(fresh), bp_net_params_const(run), P * sizeof(float)) == 0 &&
          l1 == l_res, "resume: epoch 3 after a load at an equal count differs (relative %.3g)",
          rel_err(bp_net_params_const(run), bp_net_params_const(fresh), P));
    bp_optimizer_free(o_fresh);
    bp_net_free(fresh);
    free(again), free(other), free(idx), free(idx2);
    bp_optimizer_free(opt), bp_optimizer_free(o_res), bp_optimizer_free(o_cpu);
    bp_net_free(run), bp_net_free(res), bp_net_free(cpu);
}

static void runs(bp_rng *r)
{
    bp_dataset *img = pixels(r);
    bp_net *init = net_on(BP_DEVICE_CPU, 1, (float[20 * 16 + 16 + 16 * 5 + 5]){0});
    bp_net_init(init, bp_rng_next(r));
    const float *p0 = bp_net_params_const(init);
    chunks(r, img, p0);
    between(r, img, p0);
    resume(r, img, p0);
    bp_net_free(init);
    bp_dataset_free(img);
}

/* ------------------------------------------------------------------------ */
/* The mirror                                                                */
/* ------------------------------------------------------------------------ */

static void mirror(bp_rng *r)
{
    int sizes[4] = {12, 9, 7, 3}, M = 5;
    bp_net *cpu, *gpu;
    make_pair(r, sizes, 3, BP_ACT_RELU, BP_LOSS_SOFTMAX_CE, M, &cpu, &gpu);
    size_t P = bp_net_n_params(cpu);
    float x[5 * 12];
    test_fill(r, x, sizeof x / sizeof x[0], -1, 1);

    /* initialised on the host → used on the device */
    bp_net_init(cpu, 99);
    bp_net_init(gpu, 99);
    bp_forward(cpu, x, M);
    bp_forward(gpu, x, M);
    CHECK(rel_err(bp_net_output(gpu), bp_net_output(cpu), (size_t)M * 3) <= 1e-5, "init on host");
    /* written on the host → used on the device */
    bp_net_params(cpu)[bp_net_bias_offset(cpu, 0)] += 0.5f;
    bp_net_params(gpu)[bp_net_bias_offset(gpu, 0)] += 0.5f;
    bp_forward(cpu, x, M);
    bp_forward(gpu, x, M);
    CHECK(rel_err(bp_net_output(gpu), bp_net_output(cpu), (size_t)M * 3) <= 1e-5,
          "host write then device");
    /* bp_evaluate: host batches through bp_forward on the device, the loss on
     * the host from the downloaded outputs; 23 examples in batches of 5 */
    {
        int n = 23;
        uint8_t *px = malloc((size_t)n * 12);
        int32_t *pl = malloc(sizeof(int32_t) * n), idx[23];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
            pl[i] = (int32_t)(bp_rng_next(r) % 3);
            for (int j = 0; j < 12; j++)
                px[i * 12 + j] = (uint8_t)(bp_rng_next(r) >> 56);
        }
        bp_dataset *ds = bp_dataset_adopt_u8(n, 12, 3, px, pl);
        bp_metrics mc, mg;
        CHECK(bp_evaluate(cpu, ds, idx, n, &mc, NULL) == BP_OK, "cpu evaluate");
        CHECK(bp_evaluate(gpu, ds, idx, n, &mg, NULL) == BP_OK,
              "gpu evaluate: %s", bp_last_error());
        double lc = mc.loss, lg = mg.loss, ac = mc.accuracy, ag = mg.accuracy;
        CHECK(fabs(lg - lc) <= 1e-5 * fabs(lc), "evaluate: loss %.9g vs cpu %.9g", lg, lc);
        CHECK(fabs(ag - ac) <= 1.5 / n, "evaluate: accuracy %g vs cpu %g", ag, ac);
        bp_dataset_free(ds);
    }
    /* trained on the device → the host sees it, the file holds it */
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_ADAM;
    oc.lr = 1e-2;
    bp_optimizer *opt = bp_optimizer_create(&oc, P, NULL);
    int32_t lab[5] = {0, 1, 2, 1, 0};
    float *before = malloc(P * sizeof *before);
    memcpy(before, bp_net_params_const(gpu), P * sizeof *before);
    CHECK(bp_train_step(gpu, opt, x, (bp_targets){NULL, lab}, M, NULL) == BP_OK, "device step");
    CHECK(memcmp(bp_net_params_const(gpu), before, P * sizeof *before) != 0,
          "the host sees the device's step");
    free(before);
    bp_error err;
    const char *path = tmp_path("gpu.safetensors");
    CHECK(bp_model_save(gpu, path, &err) == BP_OK, "save: %s", err.msg);
    bp_net *back = NULL;
    CHECK(bp_model_load(path, M, &back, &err) == BP_OK, "load: %s", err.msg);
    CHECK(back && memcmp(bp_net_params_const(back), bp_net_params_const(gpu), P * sizeof(float)) == 0,
          "saved from the device, loaded on the host");
    /* and back to the host device: the same numbers */
    float *copy = malloc(P * sizeof *copy);
    memcpy(copy, bp_net_params_const(gpu), P * sizeof *copy);
    CHECK(bp_net_set_device(gpu, BP_DEVICE_CPU, &err) == BP_OK, "to cpu: %s", err.msg);
    CHECK(memcmp(copy, bp_net_params_const(gpu), P * sizeof *copy) == 0, "moved to the cpu");
    CHECK(bp_net_device(gpu) == BP_DEVICE_CPU, "device after the move");
    CHECK(bp_backward(gpu, (bp_targets){NULL, lab}, NULL) == BP_ERR_ARG,
          "the last forward stays on the device: no backward without a new one");
    CHECK(bp_forward(gpu, x, M) == BP_OK && bp_backward(gpu, (bp_targets){NULL, lab}, NULL) == BP_OK,
          "forward and backward on the host after the move");
    free(copy);
    bp_optimizer_free(opt);
    bp_net_free(back), bp_net_free(cpu), bp_net_free(gpu);
}

int main(void)
{
    bp_error err;
    if (!bp_cuda_built()) {
        printf("SKIP: this build has no CUDA backend (nvcc was not found)\n");
        return 77;
    }
    if (bp_cuda_probe(&err) != BP_OK) {
        printf("SKIP: %s\n", err.msg);
        return 77;
    }
    tmp_make("cuda");
    bp_rng r;
    bp_rng_seed(&r, 20261201);
    int cases = gradients(&r);
    epochs(&r);
    runs(&r);
    mirror(&r);
    tmp_remove();
    printf("%d gradient cases: largest relative disagreement with the CPU: gradients %.3g, "
           "loss %.3g; after epochs: parameters %.3g\n", cases, worst_grad, worst_loss,
           worst_epoch);
    CHECK_DONE();
}
