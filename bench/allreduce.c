/*
 * allreduce.c — times MPI_Allreduce (sum, in place, float) of a buffer of N
 * floats, as the training step does it; prints the median of R repetitions.
 * Built and run by bench/mpi.sh:  mpirun -np 2 ./allreduce N R
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int n = argc > 1 ? atoi(argv[1]) : 1 << 20, reps = argc > 2 ? atoi(argv[2]) : 50;
    float *x = calloc((size_t)n, sizeof *x);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!x || !t || n <= 0 || reps <= 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (int i = 0; i < 5; i++) /* warm-up: connections, buffers */
        MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < reps; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t[i] = MPI_Wtime() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    if (rank == 0)
        printf("allreduce of %d floats (%.1f MB): median %.3f ms over %d\n", n, n * 4e-6,
               t[reps / 2] * 1e3, reps);
    free(x), free(t);
    MPI_Finalize();
    return 0;
}
