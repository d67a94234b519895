/*
 * dist.c — data parallelism over MPI: each rank computes the gradient of its
 * share of a global batch (the library's epoch, told its rank), and every
 * rank takes the same optimiser step on the sum, so the models stay
 * identical without ever being sent. Built without MPI (BP_HAVE_MPI unset),
 * every function is the one-process identity.
 *
 * The exchange overlaps the backward pass: the epoch hands each bucket of
 * the gradient over as soon as the pass has made it (grads_ready, from the
 * output layer down), and each is started at once with MPI_Iallreduce. The
 * last bucket carries the step's agreement record (Σ loss·rows, failing
 * ranks, ranks asked to stop) through one user-defined sum: one collective
 * per bucket, none besides. Open MPI's TCP transport moves data only inside
 * MPI calls, so every grads_ready call also tests the requests in flight,
 * and the pass gives one between blocks of rows of a large layer.
 *
 * Failures: a rank never leaves a collective on its own. Where a rank can
 * fail alone (its data, its file system), the ranks agree on the worst exit
 * code (dist_agree) and rank 0 prints the first failing rank's message.
 * A collective that does not complete within --collective-timeout (default
 * the larger of 60 s and 50 median steps) ends the job: the waiting rank
 * asks the others over a second communicator which of them still answer,
 * prints one line naming the step and the silent ranks, and calls
 * MPI_Abort, which makes mpirun exit 1; a rank cut off from mpirun ends by
 * itself a few seconds later. The agreement after rank 0's checkpoint save
 * allows the save's own time on top (dist_saved).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sigaction */
#include "cli.h"
#include "train.h" /* train_cmd */

#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef BP_HAVE_MPI
#include <mpi.h>

static int rank, size = 1, local_rank, started;

/* the exchange's settings (dist_configure) */
static size_t bucket = 1u << 16;  /* values per bucket: 0.25 MB (bench/mpi-netns.sh) */
static double fixed_timeout;      /* --collective-timeout; 0: the default rule */
static int epoch_now;             /* for the timeout's line */

/* the step's requests: the buckets, then the last one with the record */
enum { MAX_REQUESTS = 4096 };
static MPI_Request req[MAX_REQUESTS];
static int n_req;
static size_t started_from;       /* grads[started_from, P) are being summed; 0: none */

/* the last bucket and the record, side by side, for the user sum */
typedef struct {
    double loss, failed, stop;
} record;
static unsigned char *stage;
static size_t stage_floats;
static MPI_Datatype stage_type = MPI_DATATYPE_NULL;
static MPI_Op stage_sum = MPI_OP_NULL;

/* liveness: a second communicator where every rank keeps a receive posted
 * and answers while it waits */
enum { TAG_ASK = 1, TAG_ANSWER = 2 };
static MPI_Comm live = MPI_COMM_NULL;
static MPI_Request ask_req = MPI_REQUEST_NULL;
static long ask_in, my_step;

/* step times for the default timeout: the last 65 */
enum { TIMES = 65 };
static double times[TIMES], last_step_at, save_budget = 60;
static int n_times;

static double median_step(void)
{
    int n = n_times < TIMES ? n_times : TIMES;
    double v[TIMES];
    memcpy(v, times, (size_t)n * sizeof *v);
    for (int i = 1; i < n; i++) /* 65 at most: insertion sort */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1], v[j - 1] = t;
        }
    return n ? v[n / 2] : 0;
}

static double timeout(void)
{
    if (fixed_timeout > 0)
        return fixed_timeout;
    double m = 50 * median_step();
    return m > 60 ? m : 60;
}

static void answer_asks(void)
{
    int got = 1;
    MPI_Status st;
    while (ask_req != MPI_REQUEST_NULL && got) {
        MPI_Test(&ask_req, &got, &st);
        if (!got)
            break;
        static long answer;
        MPI_Request r;
        answer = my_step;
        MPI_Isend(&answer, 1, MPI_LONG, st.MPI_SOURCE, TAG_ANSWER, live, &r);
        MPI_Request_free(&r);
        MPI_Irecv(&ask_in, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_ASK, live, &ask_req);
    }
}

static void end_now(int sig)
{
    (void)sig;
    _exit(1);
}

/* Asks every other rank for a sign of life, waits a few seconds for the
 * answers, names the silent ones and ends the job. */
static void timed_out(const char *what, double waited)
{
    enum { MAX_NAMED = 64 };
    static long asked[MAX_NAMED], answer[MAX_NAMED];
    MPI_Request q[2 * MAX_NAMED];
    int n = 0, peers[MAX_NAMED];
    for (int r = 0; r < size && n < MAX_NAMED; r++)
        if (r != rank) {
            peers[n] = r, asked[n] = my_step;
            MPI_Isend(&asked[n], 1, MPI_LONG, r, TAG_ASK, live, &q[2 * n]);
            MPI_Irecv(&answer[n], 1, MPI_LONG, r, TAG_ANSWER, live, &q[2 * n + 1]);
            n++;
        }
    double t0 = cli_now(), grace = 5 * median_step();
    grace = grace < 1 ? 1 : grace > 5 ? 5 : grace;
    int heard[MAX_NAMED] = {0}, left = n;
    while (left > 0 && cli_now() - t0 < grace) {
        for (int i = 0; i < n; i++) {
            int done = 0;
            if (!heard[i] && MPI_Test(&q[2 * i + 1], &done, MPI_STATUS_IGNORE) == MPI_SUCCESS &&
                done)
                heard[i] = 1, left--;
        }
        answer_asks();
        sched_yield();
    }
    char silent[512] = "";
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof silent - 16; i++)
        if (!heard[i])
            k += (size_t)snprintf(silent + k, sizeof silent - k, "%s%d", k ? ", " : "", peers[i]);
    fprintf(stderr, "backprop train: rank %d: %s of epoch %d, step %ld not complete after %.1f s "
                    "(--collective-timeout %g): %s%s; ending the job\n",
            rank, what, epoch_now, my_step + 1, waited, timeout(),
            left ? "no word from rank " : "every rank answers, so a link between others is down",
            left ? silent : "");
    fflush(stderr);
    /* mpirun may be out of reach (a cut link): then this rank ends by itself */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = end_now;
    sigaction(SIGALRM, &sa, NULL);
    alarm(5);
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

/* Waits for requests r [n] within limit seconds, answering the others'
 * questions meanwhile; past it, ends the job. */
static void wait_all(int n, MPI_Request *r, const char *what, double limit)
{
    double t0 = cli_now();
    for (long polls = 0;; polls++) {
        int done = 0;
        MPI_Testall(n, r, &done, MPI_STATUSES_IGNORE);
        if (done)
            return;
        if ((polls & 63) == 63) {
            answer_asks();
            if (cli_now() - t0 > limit)
                timed_out(what, cli_now() - t0);
            sched_yield();
        }
    }
}

static void stage_add(void *in, void *inout, int *len, MPI_Datatype *t)
{
    (void)t;
    size_t bytes = sizeof(record) + stage_floats * sizeof(float);
    for (int e = 0; e < *len; e++) {
        record *a = (record *)((unsigned char *)in + e * bytes);
        record *b = (record *)((unsigned char *)inout + e * bytes);
        b->loss += a->loss, b->failed += a->failed, b->stop += a->stop;
        const float *x = (const float *)(a + 1);
        float *y = (float *)(b + 1);
        for (size_t k = 0; k < stage_floats; k++)
            y[k] += x[k];
    }
}

int dist_init(int *argc, char ***argv)
{
    /* Started by mpirun (Open MPI, MPICH's Hydra or PMIx) or not at all: a
     * plain `backprop train` stays one process with no MPI runtime in it. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
        return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return 1;
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* the ranks sharing this machine number its GPUs among themselves */
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_rank(node, &local_rank);
        MPI_Comm_free(&node);
    }
    if (size > 1) {
        MPI_Comm_dup(MPI_COMM_WORLD, &live);
        MPI_Irecv(&ask_in, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_ASK, live, &ask_req);
        MPI_Op_create(stage_add, 1, &stage_sum);
    }
    return 0;
}

void dist_finalize(void)
{
    if (!started)
        return;
    if (ask_req != MPI_REQUEST_NULL) {
        MPI_Cancel(&ask_req);
        MPI_Wait(&ask_req, MPI_STATUS_IGNORE);
    }
    if (stage_type != MPI_DATATYPE_NULL)
        MPI_Type_free(&stage_type);
    if (stage_sum != MPI_OP_NULL)
        MPI_Op_free(&stage_sum);
    if (live != MPI_COMM_NULL)
        MPI_Comm_free(&live);
    free(stage), stage = NULL;
    MPI_Finalize();
    started = 0;
}

int dist_rank(void) { return rank; }
int dist_local_rank(void) { return local_rank; }
int dist_size(void) { return size; }

void dist_info(char *buf, size_t cap)
{
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(lib, &len);
    /* the first line of e.g. "Open MPI v4.1.4, package: ..." is enough */
    lib[strcspn(lib, ",\n")] = 0;
    snprintf(buf, cap, "yes (%s)", lib);
}

void dist_configure(double bucket_mb, double timeout_s)
{
    bucket = (size_t)(bucket_mb * 1048576.0 / sizeof(float));
    fixed_timeout = timeout_s;
}

size_t dist_bucket(void) { return bucket; }

int dist_prepare(const bp_net *net)
{
    size_t P = bp_net_n_params(net);
    if (size == 1 || sizeof(record) + P * sizeof(float) > INT_MAX)
        return 0;
    free(stage);
    if (!(stage = malloc(sizeof(record) + P * sizeof(float))))
        return cli_error(&train_cmd, "out of memory for the gradient exchange's %zu-byte "
                                     "buffer", sizeof(record) + P * sizeof(float));
    return 0;
}
void dist_epoch(int epoch) { epoch_now = epoch; }

void dist_saved(double seconds)
{
    /* the others wait for the next save as long as 20 of the longest yet */
    if (20 * seconds > save_budget)
        save_budget = 20 * seconds;
}

/* Starts the sum of x [n], in pieces of at most INT_MAX values (MPI's
 * counts are int), keeping one request free for the record; 0 if there is
 * no room for them all, and nothing started. */
static int start_sum(float *x, size_t n)
{
    size_t pieces = (n + INT_MAX - 1) / INT_MAX;
    if (n_req + pieces + 1 > MAX_REQUESTS)
        return 0;
    for (size_t k = 0; k < n; k += INT_MAX) {
        int c = n - k < (size_t)INT_MAX ? (int)(n - k) : INT_MAX;
        MPI_Iallreduce(MPI_IN_PLACE, x + k, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req[n_req++]);
    }
    return 1;
}

bp_status dist_grads_ready(void *ctx, bp_net *net, size_t lo, size_t hi)
{
    (void)ctx, (void)hi;
    /* the last (lo 0) goes with the record, in after_backward; so do the
     * ranges of a plan of more buckets than requests, from the first that
     * finds no room (the ranges stay contiguous: room never comes back) */
    if (size == 1 || lo == 0 || (started_from && started_from != hi) ||
        !start_sum(bp_net_grads(net) + lo, hi - lo))
        return BP_OK;
    started_from = lo;
    int done;
    MPI_Testall(n_req, req, &done, MPI_STATUSES_IGNORE); /* progress */
    return BP_OK;
}

bp_status dist_sum_step(void *ctx, bp_net *net, bp_step_info *info)
{
    (void)ctx;
    my_step = info->step;
    float *g = bp_net_grads(net);
    /* what grads_ready did not start: all of it without grads_ready */
    size_t hi = started_from ? started_from : bp_net_n_params(net);
    started_from = 0;
    size_t bytes = sizeof(record) + hi * sizeof(float);
    record rec = {info->loss, info->status != BP_OK, info->stop != 0};
    if (bytes <= INT_MAX) {
        if (hi != stage_floats || stage_type == MPI_DATATYPE_NULL) { /* once: the plan is fixed */
            if (stage_type != MPI_DATATYPE_NULL)
                MPI_Type_free(&stage_type);
            MPI_Type_contiguous((int)bytes, MPI_BYTE, &stage_type);
            MPI_Type_commit(&stage_type);
            stage_floats = hi;
        }
        memcpy(stage, &rec, sizeof rec);
        memcpy(stage + sizeof rec, g, hi * sizeof(float));
        MPI_Iallreduce(MPI_IN_PLACE, stage, 1, stage_type, stage_sum, MPI_COMM_WORLD,
                       &req[n_req++]);
        wait_all(n_req, req, "the gradient exchange", timeout());
        memcpy(&rec, stage, sizeof rec);
        memcpy(g, stage + sizeof rec, hi * sizeof(float));
    } else { /* over 2 GiB: the record alone, after the floats */
        if (!start_sum(g, hi))
            return BP_ERR_ARG; /* over 4,000 buckets before a last one over 2 GiB */
        static double r3[3];
        r3[0] = rec.loss, r3[1] = rec.failed, r3[2] = rec.stop;
        MPI_Iallreduce(MPI_IN_PLACE, r3, 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req[n_req++]);
        wait_all(n_req, req, "the gradient exchange", timeout());
        rec = (record){r3[0], r3[1], r3[2]};
    }
    n_req = 0;
    double t = cli_now(); /* step to step, for the default timeout */
    if (last_step_at > 0)
        times[n_times++ % TIMES] = t - last_step_at;
    last_step_at = t;
    info->loss = rec.loss;
    info->stop = rec.stop > 0; /* every rank stops at this same step */
    if (rec.failed > 0) /* BP_ERR_ARG: another rank's */
        return info->status != BP_OK ? info->status : BP_ERR_ARG;
    return BP_OK;
}

static void sum_doubles(double *x, int n, const char *what)
{
    if (size == 1)
        return;
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &r);
    wait_all(1, &r, what, timeout());
}

int dist_agree(int rc)
{
    if (size == 1)
        return rc;
    /* the worst code (2 diverged > 1 bad input > 0), the lowest rank that
     * had it, whose message rank 0 prints unless it printed its own, and the
     * time the next wait for a save may take. Rank 0 may have been saving:
     * its time counts beside the timeout's (dist_saved). */
    int mine[3] = {rc, rc ? -rank : -INT_MAX, (int)(save_budget < 1e6 ? save_budget : 1e6)},
        all[3];
    MPI_Request r;
    MPI_Iallreduce(mine, all, 3, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &r);
    wait_all(1, &r, "an agreement", timeout() + save_budget);
    save_budget = all[2];
    last_step_at = 0; /* the time between is not a step's */
    if (all[0] == 0)
        return 0;
    int from = -all[1];
    if (from != 0) {
        char msg[sizeof cli_last_error];
        memcpy(msg, cli_last_error, sizeof msg);
        MPI_Ibcast(msg, (int)sizeof msg, MPI_CHAR, from, MPI_COMM_WORLD, &r);
        wait_all(1, &r, "an agreement", timeout());
        if (rank == 0 && rc == 0)
            fprintf(stderr, "%s (rank %d)\n", msg, from);
    }
    return all[0];
}

#else /* one process */

int dist_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}
void dist_finalize(void) {}
int dist_rank(void) { return 0; }
int dist_local_rank(void) { return 0; }
int dist_size(void) { return 1; }
void dist_info(char *buf, size_t cap) { snprintf(buf, cap, "no"); }
static void sum_doubles(double *x, int n, const char *what) { (void)x, (void)n, (void)what; }
int dist_agree(int rc) { return rc; }
void dist_configure(double bucket_mb, double timeout_s) { (void)bucket_mb, (void)timeout_s; }
size_t dist_bucket(void) { return 0; }
void dist_epoch(int epoch) { (void)epoch; }
void dist_saved(double seconds) { (void)seconds; }
int dist_prepare(const bp_net *net)
{
    (void)net;
    return 0;
}
bp_status dist_grads_ready(void *ctx, bp_net *net, size_t lo, size_t hi)
{
    (void)ctx, (void)net, (void)lo, (void)hi;
    return BP_OK;
}
bp_status dist_sum_step(void *ctx, bp_net *net, bp_step_info *info)
{
    (void)ctx, (void)net, (void)info;
    return BP_OK;
}

#endif

bp_status dist_evaluate(bp_net *net, const bp_dataset *ds, const int32_t *idx, int n,
                        bp_metrics *out)
{
    /* this rank's rows [lo, hi), shares differing by at most one row, as the
     * library's epoch splits each training batch */
    int r = dist_rank(), R = dist_size();
    int lo = (int)((long)n * r / R), hi = (int)((long)n * (r + 1) / R);
    bp_metrics m = {0, 0, 0, 0};
    double sums[5] = {0, 0, 0, 0, 0};
    bp_status s = BP_OK;
    if (hi > lo)
        s = bp_evaluate(net, ds, idx + lo, hi - lo, &m, NULL);
    sums[0] = m.loss * (hi - lo), sums[1] = m.accuracy * (hi - lo);
    sums[2] = m.mse_fann * (hi - lo), sums[3] = (double)m.bit_fail, sums[4] = s != BP_OK;
    sum_doubles(sums, 5, "the evaluation's sums");
    *out = (bp_metrics){sums[0] / n, sums[1] / n, sums[2] / n, (long)sums[3]};
    return s != BP_OK ? s : sums[4] > 0 ? BP_ERR_ARG : BP_OK; /* BP_ERR_ARG: another rank's */
}
