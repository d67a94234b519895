/*
 * cuda_ctx.cuh — what the CUDA backend's files share and cuda.h hides: the
 * device context of a network (struct bp_cuda), the cuBLAS functions opened
 * at run time, the error macros, and the calls one file makes into another:
 *
 *   cuda.cu        the context, the mirror of the host buffers, the state
 *                  that steps share (optimiser, data set)
 *   cuda_pass.cu   the kernels' launches: the passes and products of one
 *                  step, and the per-call batch functions
 *   cuda_epoch.cu  the epoch: one captured graph per batch size, replayed
 *   cuda_bench.cu  the bench's timings of the step and of its products
 *
 * C++ (nvcc), never included by the C files; the functions below have
 * hidden visibility like the rest of the library's internals.
 */
#ifndef BP_CUDA_CTX_CUH
#define BP_CUDA_CTX_CUH

#include "cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#define GRAPHS 4              /* captured steps kept: full batch, remainder, ... */
#define NORM_BLOCKS 256       /* partial sums of ‖g‖² (a fixed order: deterministic) */
#define WORKSPACE (32u << 20) /* cuBLAS workspace: fixed, so graph capture never allocates */

/* cuBLAS, opened with dlopen by cuda.cu when the first CUDA network is made. */
typedef struct {
    void *lib;
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetWorkspace_v2) set_workspace;
    decltype(&cublasSetMathMode) set_math_mode;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasGetStatusString) status_string;
} cu_blas_fns;
extern cu_blas_fns bp_cublas;

typedef struct {
    int M, stride;          /* batch size; distance between batches in idx  */
    cudaGraphExec_t exec;   /* NULL: free slot                               */
} graph_slot;

struct bp_cuda {
    unsigned device_newer;       /* BP_MIRROR_* the device changed last           */
    int host_newer;              /* the host params changed since the upload      */
    cudaStream_t stream;
    cublasHandle_t blas;
    void *workspace;             /* [WORKSPACE bytes] cuBLAS's                    */
    float *params, *grads;       /* [P] the host's layout                         */
    float *work;                 /* [work_size] z, y, delta at the host's offsets */
    float *x;                    /* [max_batch, N(0)] Y(0)                        */
    float *t;                    /* [max_batch, N(L)] dense targets               */
    int32_t *labels;             /* [max_batch] class labels                      */
    double *row_loss;            /* [max_batch] per-example loss                  */
    double *acc;                 /* [2] loss sums: [0] the epoch's, [1] one call's */
    double *norm_part, *norm;    /* [NORM_BLOCKS], [1] ‖g‖ for clipping           */
    int *step;                   /* [1] steps of this epoch so far                */
    float *mean, *std;           /* [N(0)] standardisation (0 and 1: none)        */
    int32_t *idx;                /* [idx_cap] the epoch's example order           */
    long idx_cap;
    optim_coef *coef;            /* [coef_cap] per-step coefficients of the epoch */
    long coef_cap;

    uint64_t opt_of;             /* the id of the optimiser m, v hold (0: none)   */
    long opt_t;                  /* its step count when the device last stepped   */
    float *opt_m, *opt_v;        /* [P] or NULL                                   */
    int opt_newer;               /* m, v changed since they came from the host    */

    const void *ds_of;           /* the inputs of the data set ds_* hold           */
    int ds_n, ds_n_in, ds_n_out;
    uint8_t *ds_u8;              /* [n, n_in] or NULL                              */
    float *ds_f32;               /* [n, n_in] or NULL                              */
    int32_t *ds_labels;          /* [n] or NULL                                    */
    float *ds_t;                 /* [n, n_out] or NULL                             */

    graph_slot graph[GRAPHS];
    int graph_next;              /* the slot the next capture replaces             */
    char msg[256];               /* the last failure                               */
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* s, with the message kept in the context (bp_cuda_last_error). */
bp_status cu_fail(bp_net *net, bp_status s, const char *fmt, ...);
bp_status cu_cuda_status(bp_net *net, cudaError_t e, const char *call);
bp_status cu_blas_status(bp_net *net, cublasStatus_t e, const char *call);

/* Each returns from the enclosing function (which has `net`) on failure. */
#define CU(call)                                                                    \
    do {                                                                            \
        cudaError_t e_ = (call);                                                    \
        if (e_ != cudaSuccess)                                                      \
            return cu_cuda_status(net, e_, #call);                                  \
    } while (0)
#define CB(call)                                                                    \
    do {                                                                            \
        cublasStatus_t e_ = (call);                                                 \
        if (e_ != CUBLAS_STATUS_SUCCESS)                                            \
            return cu_blas_status(net, e_, #call);                                  \
    } while (0)
#define TRY(expr)                                                                   \
    do {                                                                            \
        bp_status s_ = (expr);                                                      \
        if (s_ != BP_OK)                                                            \
            return s_;                                                              \
    } while (0)

/* ------------------------------------------------------------------------ */
/* cuda.cu: the context, the mirror, the shared state                        */
/* ------------------------------------------------------------------------ */

/* The device twin of a host work pointer: the same offset in c->work. */
static inline float *cu_dev(const bp_net *net, const float *host_work)
{
    return net->cuda->work + (host_work - net->work);
}
/* Destroys the captured steps (after the replays still running). */
void cu_drop_graphs(bp_cuda *c);
/* The host parameters to the device if the host's are newer. */
bp_status cu_upload_params(bp_net *net);
/* o's state (m, v) on the device; see cuda.cu for when it is copied. */
bp_status cu_attach_optimizer(bp_net *net, const bp_opt_view *o);
/* After `steps` device steps of o: its count, and what is newer where. */
void cu_stepped(bp_net *net, const bp_opt_view *o, long steps);
/* The data set's stored arrays on the device (copied once per data set). */
bp_status cu_attach_dataset(bp_net *net, const bp_data_view *d);
/* Room for n entries of size bytes in *buf [*cap]; a new one drops the graphs. */
bp_status cu_reserve(bp_net *net, void **buf, long *cap, long n, size_t size);

/* ------------------------------------------------------------------------ */
/* cuda_pass.cu: the step's passes, enqueued on the network's stream         */
/* ------------------------------------------------------------------------ */

/* Targets on the device for the output error; NULL, NULL for a forward only. */
typedef struct {
    const int32_t *labels;
    const float *t;
} dev_targets;

/* Loads every kernel now, never first inside a stream capture. */
bp_status cu_preload_kernels(bp_net *net);
/* x, targets of batch *step of idx (stride apart) from the device's data set. */
bp_status cu_enqueue_gather(bp_net *net, int M, int stride);
/* The forward pass of c->x; with_loss: the output error and row losses too. */
bp_status cu_enqueue_forward(bp_net *net, int M, dev_targets tg, int with_loss);
/* The backward pass from Δ(L): every ∇W, ∇b (overwritten) and Δ(l). */
bp_status cu_enqueue_backward(bp_net *net, int M);
/* o's update of every parameter with coef[*step] (coef[0] if step is NULL). */
bp_status cu_enqueue_update(bp_net *net, const bp_opt_view *o, const int *step);
/* *acc += Σ row_loss [M]; then ++*step unless step is NULL. */
bp_status cu_enqueue_loss_sum(bp_net *net, double *acc, int *step, int M);
/* The step's cuBLAS products alone, as the passes issue them (bench's ceiling). */
bp_status cu_enqueue_gemms(bp_net *net, int M);

/* ------------------------------------------------------------------------ */
/* cuda_epoch.cu: captured steps                                             */
/* ------------------------------------------------------------------------ */

/* What enqueue() issues on the network's stream, captured into *exec. */
template <typename F> static bp_status cu_capture(bp_net *net, F enqueue, cudaGraphExec_t *exec)
{
    cudaStream_t stream = net->cuda->stream;
    cudaGraph_t graph;
    CU(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    bp_status s = enqueue();
    cudaError_t e = cudaStreamEndCapture(stream, &graph);
    if (s != BP_OK) {
        if (e == cudaSuccess)
            cudaGraphDestroy(graph);
        return s;
    }
    CU(e);
    e = cudaGraphInstantiate(exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) {
        *exec = NULL;
        return cu_cuda_status(net, e, "cudaGraphInstantiate");
    }
    return BP_OK;
}

/* Everything the replays of an epoch read: parameters, optimiser state,
 * data set, idx [n], the coefficients of its steps, the network's
 * standardisation; the step counter and the epoch's loss sum at 0. */
bp_status cu_prepare_epoch(bp_net *net, const bp_opt_view *o, const bp_data_view *d,
                           const int32_t *idx, int n, int batch);
/* The captured step for batches of M taken stride apart, captured on first use. */
bp_status cu_graph_for(bp_net *net, const bp_opt_view *o, int M, int stride,
                       cudaGraphExec_t *exec);
/* Replays the step over n examples in batches of `batch`; *launched: the
 * steps enqueued, also when it fails midway. */
bp_status cu_replay_epoch(bp_net *net, const bp_opt_view *o, int n, int batch,
                          long *launched);

#endif
