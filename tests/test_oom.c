/*
 * test_oom.c — allocation failure at every allocation site in turn.
 *
 * Each scenario (a model load; a network, its thread pool and an optimiser
 * of each kind; a short training run from data files through save, reread
 * and plots) is first run with nothing failing, to count the allocations it
 * makes. Then, for N = 1..count, it runs again with the Nth allocation
 * failing — once with only that one failing, once with every allocation
 * from the Nth on failing (so the cleanup after a failure is itself short
 * of memory) — and every time the scenario must stop with an error status
 * that says so, a one-line message that mentions memory, no block, FILE,
 * gzFile or thread left behind, and no temporary file beside a target.
 *
 * How: oom_wrap.h, the wrappers the test is linked to with --wrap for every
 * function the library's objects call that allocates, and cJSON's hooks.
 * They keep the set of what is live, so a leak is found in any build and
 * named by the allocation that made it; under AddressSanitizer (make asan)
 * LeakSanitizer checks the whole process too. tests/oom_cli.sh does the
 * same to the commands of the CLI.
 *
 * Not covered: allocations made inside the C library, zlib (gzread's
 * inflate state) or OpenBLAS by calls that are not listed above.
 */
#define _POSIX_C_SOURCE 200809L
#include "backprop.h"
#include "backprop_ref.h"
#include "check.h"
#include "tmpdir.h"

#include "oom_wrap.h"

#include <signal.h>

/* ------------------------------------------------------------------------ */
/* What a scenario reports: its first failing call                           */
/* ------------------------------------------------------------------------ */

static struct {
    bool failed;
    bp_status s;      /* BP_OK where the call gives only NULL              */
    const char *call;
    bool has_msg;     /* the call takes a bp_error                         */
} outcome;
static bp_error err;

/* Records the first failure; true while all is well. */
static bool ok(bp_status s, const char *call, bool has_msg)
{
    if (s == BP_OK)
        return true;
    outcome.failed = true, outcome.s = s, outcome.call = call, outcome.has_msg = has_msg;
    return false;
}

/* For the creators that return NULL and write err. */
static bool made(const void *p, const char *call)
{
    if (p)
        return true;
    outcome.failed = true, outcome.s = BP_OK, outcome.call = call, outcome.has_msg = true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* The files and the network the scenarios use                               */
/* ------------------------------------------------------------------------ */

enum { N_IN = 4, N_HID = 5, N_CLS = 3, N_EX = 12, BATCH = 4, EPOCHS = 2 };
static const int sizes[3] = {N_IN, N_HID, N_CLS};
static const bp_act acts[2] = {BP_ACT_RELU, BP_ACT_SOFTMAX};
static const bp_config cfg = {sizeof(bp_config), 2, sizes, acts, BP_LOSS_SOFTMAX_CE, 2.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};

static const char *model_path, *csv_path, *fann_path;

/* An IDX file: magic, sizes, then the bytes; gzip'ed if gz. */
static void put_idx(const char *name, int gz, uint32_t magic, int nd, const uint32_t *dims,
                    const uint8_t *data, size_t n)
{
    uint8_t b[64];
    size_t o = 0;
    for (int k = -1; k < nd; k++) {
        uint32_t v = k < 0 ? magic : dims[k];
        b[o++] = (uint8_t)(v >> 24), b[o++] = (uint8_t)(v >> 16);
        b[o++] = (uint8_t)(v >> 8), b[o++] = (uint8_t)v;
    }
    memcpy(b + o, data, n);
    if (!gz) {
        tmp_put(name, b, o + n);
        return;
    }
    gzFile g = gzopen(tmp_path(name), "wb");
    int good = g && gzwrite(g, b, (unsigned)(o + n)) == (int)(o + n);
    if (!(g && gzclose(g) == Z_OK && good)) {
        fprintf(stderr, "cannot write %s\n", name);
        exit(1);
    }
}

static void make_files(void)
{
    /* a model with everything its header can carry: T, standardisation */
    bp_net *net = bp_net_create(&cfg, 1, &err);
    float mean[N_IN] = {0.5f, -1, 2, 0.25f}, std[N_IN] = {1, 2, 0.5f, 3};
    if (!net || bp_net_set_standardize(net, mean, std) != BP_OK) {
        fprintf(stderr, "test_oom: %s\n", err.msg);
        exit(1);
    }
    bp_net_init(net, 7);
    model_path = strdup(tmp_path("model.safetensors"));
    if (bp_model_save(net, model_path, &err) != BP_OK) {
        fprintf(stderr, "test_oom: %s\n", err.msg);
        exit(1);
    }
    bp_net_free(net);

    /* the same 12 examples as CSV (with a header), IDX plain and IDX gzip:
     * 4 features (2x2 pixels), 3 classes */
    uint8_t pix[N_EX * N_IN], lab[N_EX];
    char csv[2048] = "a,b,c,d,label\n";
    for (int i = 0; i < N_EX; i++) {
        lab[i] = (uint8_t)(i % N_CLS);
        for (int j = 0; j < N_IN; j++)
            pix[i * N_IN + j] = (uint8_t)((i * 53 + j * 97 + lab[i] * 60) % 256);
        size_t o = strlen(csv);
        snprintf(csv + o, sizeof csv - o, "%g,%g,%g,%g,%d\n", pix[i * N_IN] / 255.0,
                 pix[i * N_IN + 1] / 255.0, pix[i * N_IN + 2] / 255.0, pix[i * N_IN + 3] / 255.0,
                 lab[i]);
    }
    csv_path = strdup(tmp_put("train.csv", csv, strlen(csv)));
    uint32_t di[3] = {N_EX, 2, 2}, dl[1] = {N_EX};
    put_idx("plain-images-idx3-ubyte", 0, 0x803, 3, di, pix, sizeof pix);
    put_idx("plain-labels-idx1-ubyte", 0, 0x801, 1, dl, lab, sizeof lab);
    put_idx("gz-images-idx3-ubyte.gz", 1, 0x803, 3, di, pix, sizeof pix);
    put_idx("gz-labels-idx1-ubyte.gz", 1, 0x801, 1, dl, lab, sizeof lab);

    static const char fann[] = "3 2 1\n0.5 1\n0\n-1 2.5\n1\n3 4\n0.25\n";
    fann_path = strdup(tmp_put("data.fann", fann, sizeof fann - 1));
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                 */
/* ------------------------------------------------------------------------ */

static void scenario_load(void)
{
    bp_net *net = NULL;
    ok(bp_model_load(model_path, 8, &net, &err), "bp_model_load", true);
    bp_net_free(net);
}

/* A network, its pool of 2 threads, a standardisation, a trace and an
 * optimiser of kind opt_kind. */
static bp_opt_kind opt_kind;

static void scenario_network(void)
{
    bp_net *net = NULL;
    bp_optimizer *opt = NULL;
    bp_trace *tr = NULL;
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = opt_kind;
    oc.lr = 0.1;
    float mean[N_IN] = {0}, std[N_IN] = {1, 1, 1, 1};
    if (made(net = bp_net_create(&cfg, 16, &err), "bp_net_create") &&
        ok(bp_net_set_threads(net, 2), "bp_net_set_threads", false) &&
        ok(bp_net_set_standardize(net, mean, std), "bp_net_set_standardize", false) &&
        made(tr = bp_trace_create(net), "bp_trace_create"))
        made(opt = bp_optimizer_create(&oc, bp_net_n_params(net), &err), "bp_optimizer_create");
    /* bp_trace_create takes no bp_error: its NULL is all it says */
    if (outcome.failed && strcmp(outcome.call, "bp_trace_create") == 0)
        outcome.has_msg = false;
    bp_optimizer_free(opt);
    bp_trace_free(tr);
    bp_net_free(net);
}

/* Data from three files, training on 2 threads, evaluation, model and
 * gradient files, predictions written and read back, and the plots. */
static void scenario_train(void)
{
    bp_dataset *csv = NULL, *plain = NULL, *gz = NULL, *fann = NULL;
    bp_net *net = NULL;
    bp_optimizer *opt = NULL;
    float *back = NULL;
    bp_opt_config oc = BP_OPT_CONFIG_DEFAULT;
    oc.kind = BP_OPT_ADAM;
    oc.lr = 0.01;
    int32_t idx[N_EX];
    for (int i = 0; i < N_EX; i++)
        idx[i] = i;
    float x[BATCH * N_IN], mean[N_IN], std[N_IN], y[N_EX * N_CLS];
    int32_t lab[BATCH];
    double train_loss[EPOCHS], val_loss[EPOCHS], val_acc[EPOCHS];
    long confusion[N_CLS * N_CLS];
    int rows, cols;

    if (!(ok(bp_dataset_load_csv(csv_path, 0, &csv, &err), "bp_dataset_load_csv", true) &&
          ok(bp_dataset_load_idx(dir, "plain", &plain, &err), "bp_dataset_load_idx", true) &&
          ok(bp_dataset_load_idx(dir, "gz", &gz, &err), "bp_dataset_load_idx (gzip)", true) &&
          ok(bp_dataset_load_fann(fann_path, &fann, &err), "bp_dataset_load_fann", true) &&
          made(net = bp_net_create(&cfg, BATCH, &err), "bp_net_create") &&
          ok(bp_net_set_threads(net, 2), "bp_net_set_threads", false) &&
          made(opt = bp_optimizer_create(&oc, bp_net_n_params(net), &err),
               "bp_optimizer_create")))
        goto out;
    bp_net_init(net, 1);
    bp_dataset_moments(csv, idx, N_EX, mean, std);
    if (!ok(bp_net_set_standardize(net, mean, std), "bp_net_set_standardize", false))
        goto out;
    for (int e = 0; e < EPOCHS; e++) {
        double sum = 0, l;
        for (int b = 0; b < N_EX; b += BATCH) {
            bp_dataset_gather(csv, idx + b, BATCH, mean, std, x, NULL, lab);
            if (!ok(bp_train_step(net, opt, x, (bp_targets){NULL, lab}, BATCH, &l),
                    "bp_train_step", false))
                goto out;
            sum += l;
        }
        train_loss[e] = sum / (N_EX / BATCH);
        bp_metrics m;
        if (!ok(bp_evaluate(net, plain, idx, N_EX, &m, NULL), "bp_evaluate", false))
            goto out;
        val_loss[e] = m.loss, val_acc[e] = m.accuracy;
    }
    bp_metrics mg;
    if (!(ok(bp_evaluate(net, gz, idx, N_EX, &mg, confusion),
             "bp_evaluate", false) &&
          ok(bp_model_save(net, tmp_path("trained.safetensors"), &err), "bp_model_save", true) &&
          ok(bp_model_export_onnx(net, tmp_path("trained.onnx"), &err), "bp_model_export_onnx",
             true)))
        goto out;
    double l;
    bp_dataset_gather(csv, idx, BATCH, mean, std, x, NULL, lab);
    if (!(ok(bp_forward(net, x, BATCH), "bp_forward", false) &&
          ok(bp_backward(net, (bp_targets){NULL, lab}, &l), "bp_backward", false) &&
          ok(bp_grads_save(net, bp_net_grads(net), l, tmp_path("grads.safetensors"), &err),
             "bp_grads_save", true)))
        goto out;
    for (int b = 0; b < N_EX; b += BATCH) {
        bp_dataset_gather(csv, idx + b, BATCH, mean, std, x, NULL, lab);
        if (!ok(bp_forward(net, x, BATCH), "bp_forward", false))
            goto out;
        memcpy(y + b * N_CLS, bp_net_output(net), sizeof(float) * BATCH * N_CLS);
    }
    if (ok(bp_csv_write(tmp_path("predictions.csv"), y, N_EX, N_CLS, &err), "bp_csv_write", true) &&
        ok(bp_csv_read(tmp_path("predictions.csv"), &back, &rows, &cols, &err), "bp_csv_read",
           true) &&
        ok(bp_plot_curves(tmp_path("curves.svg"), EPOCHS, train_loss, val_loss, val_acc, &err),
           "bp_plot_curves", true))
        ok(bp_plot_confusion(tmp_path("confusion.svg"), N_CLS, confusion, &err),
           "bp_plot_confusion", true);
out:
    free(back);
    bp_optimizer_free(opt);
    bp_net_free(net);
    bp_dataset_free(csv);
    bp_dataset_free(plain);
    bp_dataset_free(gz);
    bp_dataset_free(fann);
}

/* ------------------------------------------------------------------------ */
/* The runner                                                                */
/* ------------------------------------------------------------------------ */

/* What is running, for a crash's last words. */
static char running[160];

/* A crash ends the test; this says where, then dies of the same signal.
 * Under AddressSanitizer its own report says more, so it is left alone. */
#ifndef __SANITIZE_ADDRESS__
static void on_crash(int sig)
{
    static const char head[] = "test_oom: crashed while ";
    if (write(2, head, sizeof head - 1) < 0 || write(2, running, strlen(running)) < 0 ||
        write(2, "\n", 1) < 0) {
        /* nothing more can be said */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

/* One run of the scenario under arm(from, rest); returns its allocations. */
static long run_once(const char *name, void (*scenario)(void), long from, bool rest)
{
    memset(&outcome, 0, sizeof outcome);
    memset(&err, 0, sizeof err);
    snprintf(running, sizeof running, "%s failed allocation %s #%ld", name,
             rest ? "from" : "at", from);
    arm(from, rest);
    scenario();
    return disarm();
}

/* What must hold after any run: nothing live, no temporary file. */
static void check_clean(const char *name, long from, bool rest)
{
    for (int i = 0; i < n_live; i++)
        CHECK(0, "%s: failing %s #%ld: %s #%ld never released", name, rest ? "from" : "at",
              from, live[i].kind, live[i].n);
    CHECK(tmp_temporaries() == 0, "%s: failing %s #%ld: a temporary file is left", name,
          rest ? "from" : "at", from);
    CHECK(mismatched == 0, "%s: failing %s #%ld: %ld of cJSON's blocks released by free()",
          name, rest ? "from" : "at", from, mismatched);
    mismatched = 0;
}

static void run(const char *name, void (*scenario)(void))
{
    memset(kinds, 0, sizeof kinds);
    memset(per_kind, 0, sizeof per_kind);
    long total = run_once(name, scenario, 0, false);
    char tally[256] = "";
    for (int k = 0; k < 16 && kinds[k]; k++)
        snprintf(tally + strlen(tally), sizeof tally - strlen(tally), "%s%s %ld", k ? ", " : "",
                 kinds[k], per_kind[k]);
    CHECK(!outcome.failed, "%s: fails with nothing failing: %s: %s %s", name, outcome.call,
          bp_status_string(outcome.s), err.msg);
    check_clean(name, 0, false);
    for (long n = 1; n <= total; n++)
        for (int rest = 0; rest <= 1; rest++) {
            run_once(name, scenario, n, rest);
            const char *how = rest ? "from" : "at";
            const char *site = failed ? failed : "(none)";
            CHECK(failed, "%s: failing %s #%ld: allocation #%ld never came", name, how, n, n);
            CHECK(outcome.failed, "%s: failing %s #%ld (%s): the scenario succeeded", name, how,
                  n, site);
            if (outcome.failed) {
                /* where a write's stdio stream could not be made (fdopen) or
                 * a file opened, the error is one of input/output */
                CHECK(outcome.s == BP_OK || outcome.s == BP_ERR_NOMEM || outcome.s == BP_ERR_IO,
                      "%s: failing %s #%ld (%s): %s returned \"%s\": %s", name, how, n, site,
                      outcome.call, bp_status_string(outcome.s), err.msg);
                CHECK(!outcome.has_msg || (err.msg[0] && !strchr(err.msg, '\n') &&
                                           strstr(err.msg, "memory")),
                      "%s: failing %s #%ld (%s): %s said \"%s\"", name, how, n, site,
                      outcome.call, err.msg);
            }
            check_clean(name, n, rest);
            if (n == 1 && rest == 0)
                printf("  e.g. %s, #1 (%s): %s: %s\n", name, site, outcome.call,
                       outcome.has_msg ? err.msg : bp_status_string(outcome.s));
        }
    /* the same scenario still works once memory is back */
    run_once(name, scenario, 0, false);
    CHECK(!outcome.failed, "%s: fails after the failures: %s: %s", name, outcome.call, err.msg);
    check_clean(name, 0, false);
    printf("%-24s %4ld allocations (%s), each failed alone and with all after it\n", name,
           total, tally);
}

int main(void)
{
#ifndef __SANITIZE_ADDRESS__
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGABRT, on_crash);
    signal(SIGFPE, on_crash);
#endif
    oom_json_hooks();
    tmp_make("bp_oom");
    make_files();

    run("model load", scenario_load);
    for (opt_kind = 0; opt_kind < BP_OPT_COUNT; opt_kind++) {
        char name[64];
        snprintf(name, sizeof name, "network + %s", bp_opt_name(opt_kind));
        run(name, scenario_network);
    }
    run("training run", scenario_train);

    free((void *)model_path), free((void *)csv_path), free((void *)fann_path);
    CHECK(tmp_remove() == 0, "cannot remove %s", dir);
    CHECK_DONE();
}
