/*
 * dist.c — data parallelism over MPI: each rank computes the gradient of its
 * share of a global batch (the library's epoch, told its rank), one
 * MPI_Allreduce in the epoch's after_backward hook sums the contiguous
 * gradient buffer, and every rank takes the same optimiser step, so the
 * models stay identical without ever being sent. Built without MPI (BP_HAVE_MPI unset),
 * every function is the one-process identity.
 *
 * Failures: a rank never leaves a collective call on its own. Where a rank
 * can fail alone (its data, its file system), the ranks agree on the worst
 * exit code (dist_agree) and rank 0 prints the first failing rank's message,
 * so mpirun ends with one line and one code, never a hang.
 */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef BP_HAVE_MPI
#include <mpi.h>

static int rank, size = 1, local_rank, started;

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
    return 0;
}

void dist_finalize(void)
{
    if (started)
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

/* MPI counts are int: a buffer of more than INT_MAX values goes in pieces. */
void dist_sum_floats(float *x, size_t n)
{
    if (size == 1)
        return;
    for (size_t k = 0; k < n; k += INT_MAX) {
        int c = n - k < (size_t)INT_MAX ? (int)(n - k) : INT_MAX;
        MPI_Allreduce(MPI_IN_PLACE, x + k, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_sum_doubles(double *x, int n)
{
    if (size > 1)
        MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

int dist_agree(int rc)
{
    if (size == 1)
        return rc;
    /* the worst code (2 diverged > 1 bad input > 0), and the lowest rank
     * that had it, whose message rank 0 prints unless it printed its own */
    int mine[2] = {rc, rc ? -rank : -INT_MAX}, all[2];
    MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (all[0] == 0)
        return 0;
    int from = -all[1];
    if (from != 0) {
        char msg[sizeof cli_last_error];
        memcpy(msg, cli_last_error, sizeof msg);
        MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, from, MPI_COMM_WORLD);
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
void dist_sum_floats(float *x, size_t n) { (void)x, (void)n; }
void dist_sum_doubles(double *x, int n) { (void)x, (void)n; }
int dist_agree(int rc) { return rc; }

#endif

bp_status dist_sum_step(void *ctx, bp_net *net, bp_step_info *info)
{
    (void)ctx;
    /* the step's agreement record, reduced once at this one point of every
     * step: Σ loss·rows, the ranks failing, the ranks asked to stop */
    double rec[3] = {info->loss, info->status != BP_OK, info->stop != 0};
    dist_sum_floats(bp_net_grads(net), bp_net_n_params(net));
    dist_sum_doubles(rec, 3);
    info->loss = rec[0];
    info->stop = rec[2] > 0; /* every rank stops at this same step */
    double *sums = rec;
    if (sums[1] > 0) /* BP_ERR_ARG: another rank's */
        return info->status != BP_OK ? info->status : BP_ERR_ARG;
    return BP_OK;
}

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
    dist_sum_doubles(sums, 5);
    *out = (bp_metrics){sums[0] / n, sums[1] / n, sums[2] / n, (long)sums[3]};
    return s != BP_OK ? s : sums[4] > 0 ? BP_ERR_ARG : BP_OK; /* BP_ERR_ARG: another rank's */
}
