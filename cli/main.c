/*
 * main.c — the backprop command: dispatch to a command, --version, --help.
 * Exit codes: 0 success, 1 bad input or usage, 2 diverged.
 */
#include "train.h" /* train_catch_signals */

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", cmd_train, "train a network on a data set and write the model"},
    {"eval", cmd_eval, "loss, accuracy, per-class figures and confusion matrix of a model"},
    {"bench", cmd_bench, "examples/s of training steps beside the sgemm ceiling"},
    {"init", cmd_init, "create a new model file with seeded He/Xavier weights"},
    {"grad", cmd_grad, "loss and mean gradients of one batch, as a safetensors file"},
    {"predict", cmd_predict, "the network's outputs for each input row"},
    {"export", cmd_export, "the model as an ONNX file, for ONNX Runtime and its kin"},
    {"explain", cmd_explain,
     "backpropagation step by step on chosen numbers, with the note's equations"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: backprop COMMAND [options]    (backprop COMMAND --help for its options)\n\n"
               "Fully connected networks trained with backpropagation.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version  version and build features\n  --help     this help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "backprop: no command given (see backprop --help)\n");
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        char gemm[256], blas[256], mpi[256];
        bp_gemm_info(bp_gemm_default(), gemm, sizeof gemm);
        bp_gemm_info(BP_GEMM_CBLAS, blas, sizeof blas);
        dist_info(mpi, sizeof mpi);
#ifdef BP_CUDA_ARCH_DESC
        const char *cuda = bp_cuda_built() ? "yes (built for " BP_CUDA_ARCH_DESC ")" : "no";
#else
        const char *cuda = bp_cuda_built() ? "yes" : "no";
#endif
        printf("backprop %s\nGEMM: %s\nBLAS: %s\nCUDA: %s\nMPI: %s\n", BP_VERSION, gemm, blas,
               cuda, mpi);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            /* only train is data-parallel; MPI is started for it alone so
             * that the other commands never need mpirun's environment */
            int mpi = commands[i].run == cmd_train;
            if (mpi && train_catch_signals() != 0) /* before MPI's threads start */
                return 1;
            if (mpi && dist_init(&argc, &argv) != 0) {
                fprintf(stderr, "backprop: MPI_Init failed\n");
                return 1;
            }
            int rc = commands[i].run(argc - 2, argv + 2);
            if (mpi)
                dist_finalize(), train_release_signals();
            return rc;
        }
    fprintf(stderr, "backprop: unknown command '%s' (see backprop --help)\n", argv[1]);
    return 1;
}
