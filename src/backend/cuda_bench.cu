/*
 * cuda_bench.cu — bench's figures for a CUDA network (bp_cuda_bench): the
 * seconds of one training step, replayed as an epoch replays it, and of
 * the same step's cuBLAS products alone, captured and replayed alike (the
 * ceiling the step's other kernels are measured against). Timed with CUDA
 * events on the network's stream; the graphs are captured before the clock
 * starts.
 */
#include "cuda_ctx.cuh"

#include <stdlib.h>

static bp_status timed(bp_net *net, cudaEvent_t t0, cudaEvent_t t1, double *seconds)
{
    float ms;
    CU(cudaEventSynchronize(t1));
    CU(cudaEventElapsedTime(&ms, t0, t1));
    *seconds = ms * 1e-3;
    return BP_OK;
}

static bp_status bench(bp_net *net, const bp_opt_view *o, const bp_data_view *d, int M, int reps,
                       cudaEvent_t t0, cudaEvent_t t1, double *step_s, double *gemm_s)
{
    bp_cuda *c = net->cuda;
    int n_ds = d->n;
    long n = (long)reps * M;
    if (n > (1L << 30))
        return cu_fail(net, BP_ERR_ARG, "bench: %d steps of %d examples are too many", reps, M);
    int32_t *idx = (int32_t *)malloc((size_t)n * sizeof *idx);
    if (!idx)
        return cu_fail(net, BP_ERR_NOMEM, "out of memory");
    for (long i = 0; i < n; i++)
        idx[i] = (int32_t)(i % n_ds);
    bp_status s = cu_prepare_epoch(net, o, d, idx, (int)n, M);
    free(idx);
    TRY(s);
    cudaGraphExec_t exec;
    TRY(cu_graph_for(net, o, M, M, &exec)); /* captured before the clock starts */
    CU(cudaEventRecord(t0, c->stream));
    long launched;
    s = cu_replay_epoch(net, o, (int)n, M, &launched);
    if (launched)
        cu_stepped(net, o, launched);
    TRY(s);
    CU(cudaEventRecord(t1, c->stream));
    TRY(timed(net, t0, t1, step_s));

    /* the ceiling: the same products, captured alike */
    TRY(cu_capture(net, [&] { return cu_enqueue_gemms(net, M); }, &exec));
    cudaError_t e = cudaEventRecord(t0, c->stream);
    for (int r = 0; r < reps && e == cudaSuccess; r++)
        e = cudaGraphLaunch(exec, c->stream);
    if (e == cudaSuccess)
        e = cudaEventRecord(t1, c->stream);
    if (e == cudaSuccess)
        e = cudaEventSynchronize(t1);
    cudaGraphExecDestroy(exec);
    CU(e);
    TRY(timed(net, t0, t1, gemm_s));
    *step_s /= reps;
    *gemm_s /= reps;
    return BP_OK;
}

extern "C" bp_status bp_cuda_bench(bp_net *net, const bp_opt_view *o, const bp_data_view *d, int M,
                                   int reps, double *step_s, double *gemm_s)
{
    cudaEvent_t t0, t1;
    CU(cudaEventCreate(&t0));
    cudaError_t e = cudaEventCreate(&t1);
    if (e != cudaSuccess) {
        cudaEventDestroy(t0);
        return cu_cuda_status(net, e, "cudaEventCreate");
    }
    bp_status s = bench(net, o, d, M, reps, t0, t1, step_s, gemm_s);
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    return s;
}
