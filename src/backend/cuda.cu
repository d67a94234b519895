/*
 * cuda.cu — the batch form of section 7 on an NVIDIA GPU: the same maths,
 * the same buffer layout and the same conventions as batch.c (rows are
 * examples, Z = Y Wᵀ + b is eq. 51 transposed), with cuBLAS for every matrix
 * product and one small kernel per remaining concern.
 *
 * Device buffers mirror the host's one for one: params and grads [P] in the
 * layout of network.c, and one work allocation in which z, y, delta of each
 * layer sit at the same offsets as on the host, so a download is one copy.
 * A training epoch (bp_cuda_train_epoch) keeps the data set on the device,
 * gathers each batch there and replays one CUDA graph per step: gather,
 * forward, fused output error, backward, optimiser update, loss sum. The
 * values that change from step to step (the batch's place in idx, the
 * schedule's rate) are read by the kernels from device memory indexed by a
 * device step counter, so one captured graph serves every step.
 *
 * Deliberately not here: cuBLASLt epilogues (bias + activation are one
 * kernel after each product), multiple GPUs, streams other than one per
 * network, float16/bfloat16. Every CUDA and cuBLAS call is checked; a
 * failure becomes a status and a one-line message in the context.
 *
 * Shapes: M examples, in = N(l), out = N(l+1), P parameters, n = N(L).
 */
#include "cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* cuBLAS is opened (dlopen) when the first CUDA network is made, not linked:
 * linked, its 600 MB of libraries cost every run of the program, GPU or
 * not, ~200 MB of resident memory and ~80 ms of start-up (the CUDA runtime
 * itself is linked statically and costs nothing until first used). */
#define STR_(x) #x
#define STR(x) STR_(x)
#define CUBLAS_SONAME "libcublas.so." STR(CUBLAS_VER_MAJOR)
static struct {
    void *lib;
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetWorkspace_v2) set_workspace;
    decltype(&cublasSetMathMode) set_math_mode;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasGetStatusString) status_string;
} blas;

/* The library by its soname (the loader's paths), then in the toolkit's
 * folder of the build; BP_OK or why not. Called from bp_cuda_create only. */
static bp_status open_cublas(bp_error *err)
{
    if (blas.lib)
        return BP_OK;
    void *lib = dlopen(CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
#ifdef BP_CUBLAS_DIR
    if (!lib)
        lib = dlopen(BP_CUBLAS_DIR "/" CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
#endif
    if (!lib)
        return bp_fail(err, BP_ERR_ARG, "cannot open cuBLAS (%s): %s",
                       CUBLAS_SONAME, dlerror());
    const char *names[] = {"cublasCreate_v2",       "cublasDestroy_v2",  "cublasSetStream_v2",
                           "cublasSetWorkspace_v2", "cublasSetMathMode", "cublasSgemm_v2",
                           "cublasGetStatusString"};
    void *fn[7];
    for (int i = 0; i < 7; i++)
        if (!(fn[i] = dlsym(lib, names[i]))) {
            dlclose(lib);
            return bp_fail(err, BP_ERR_ARG, "%s has no %s", CUBLAS_SONAME,
                           names[i]);
        }
    blas.create = (decltype(blas.create))fn[0];
    blas.destroy = (decltype(blas.destroy))fn[1];
    blas.set_stream = (decltype(blas.set_stream))fn[2];
    blas.set_workspace = (decltype(blas.set_workspace))fn[3];
    blas.set_math_mode = (decltype(blas.set_math_mode))fn[4];
    blas.sgemm = (decltype(blas.sgemm))fn[5];
    blas.status_string = (decltype(blas.status_string))fn[6];
    blas.lib = lib;
    return BP_OK;
}
#include <string.h>

#define THREADS 256       /* threads per block of the element-wise kernels   */
#define MAX_BLOCKS 4096   /* grid-stride loops cover the rest                */
#define NORM_BLOCKS 256   /* partial sums of ‖g‖² (a fixed order: deterministic) */
#define GRAPHS 4          /* captured steps kept: full batch, remainder, ... */
#define WORKSPACE (32u << 20) /* cuBLAS workspace: fixed, so graph capture never allocates */

typedef struct {
    int M, stride;          /* batch size; distance between batches in idx  */
    cudaGraphExec_t exec;   /* NULL: free slot                               */
} graph_slot;

struct bp_cuda {
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
    optim_coef *coef;            /* [coef_cap] per-step scalars of the epoch      */
    long coef_cap;

    uint64_t opt_of;             /* the id of the optimiser m, v hold (0: none)   */
    long opt_t;                  /* its step count when the device last stepped   */
    float *opt_m, *opt_v;        /* [P] or NULL                                   */
    int opt_newer;               /* m, v changed since they came from the host    */

    const bp_dataset *ds_of;     /* which data set ds_* hold                       */
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

static bp_status fail(bp_net *net, bp_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(net->cuda->msg, sizeof net->cuda->msg, fmt, ap);
    va_end(ap);
    return s;
}

static bp_status cuda_status(bp_net *net, cudaError_t e, const char *call)
{
    return fail(net, e == cudaErrorMemoryAllocation ? BP_ERR_NOMEM : BP_ERR_IO, "CUDA: %s: %s",
                call, cudaGetErrorString(e));
}

static bp_status blas_status(bp_net *net, cublasStatus_t e, const char *call)
{
    return fail(net, e == CUBLAS_STATUS_ALLOC_FAILED ? BP_ERR_NOMEM : BP_ERR_IO,
                "cuBLAS: %s: %s", call, blas.status_string(e));
}

/* Each returns from the enclosing function (which has `net`) on failure. */
#define CU(call)                                                                    \
    do {                                                                            \
        cudaError_t e_ = (call);                                                    \
        if (e_ != cudaSuccess)                                                      \
            return cuda_status(net, e_, #call);                                     \
    } while (0)
#define CB(call)                                                                    \
    do {                                                                            \
        cublasStatus_t e_ = (call);                                                 \
        if (e_ != CUBLAS_STATUS_SUCCESS)                                            \
            return blas_status(net, e_, #call);                                     \
    } while (0)
#define TRY(expr)                                                                   \
    do {                                                                            \
        bp_status s_ = (expr);                                                      \
        if (s_ != BP_OK)                                                            \
            return s_;                                                              \
    } while (0)

static int blocks(size_t n)
{
    size_t b = (n + THREADS - 1) / THREADS;
    return (int)(b < 1 ? 1 : b > MAX_BLOCKS ? MAX_BLOCKS : b);
}

/* The kernels: src/cuda_kernels.cuh (the maths; this file launches them). */
#include "cuda_kernels.cuh"

/* ------------------------------------------------------------------------ */
/* Device context                                                            */
/* ------------------------------------------------------------------------ */

extern "C" bp_status bp_cuda_probe_device(bp_error *err)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess)
        return bp_fail(err, BP_ERR_ARG, "no CUDA device (cudaGetDeviceCount: %s)",
                       cudaGetErrorString(e));
    if (n < 1)
        return bp_fail(err, BP_ERR_ARG,
                       "no CUDA device (cudaGetDeviceCount: 0 devices)");
    return BP_OK;
}

extern "C" bp_status bp_cuda_select_device(int index, bp_error *err)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaSuccess && n > 0)
        e = cudaSetDevice(index % n);
    if (e != cudaSuccess || n < 1)
        return bp_fail(err, BP_ERR_ARG, "cannot select GPU %d of %d: %s", index, n,
                       e != cudaSuccess ? cudaGetErrorString(e) : "no device");
    return BP_OK;
}

static void drop_graphs(bp_cuda *c)
{
    cudaStreamSynchronize(c->stream); /* no replay of them still running */
    for (int i = 0; i < GRAPHS; i++)
        if (c->graph[i].exec) {
            cudaGraphExecDestroy(c->graph[i].exec);
            c->graph[i].exec = NULL;
        }
}

static void free_dataset(bp_cuda *c)
{
    cudaFree(c->ds_u8), cudaFree(c->ds_f32), cudaFree(c->ds_labels), cudaFree(c->ds_t);
    c->ds_u8 = NULL, c->ds_f32 = NULL, c->ds_labels = NULL, c->ds_t = NULL;
    c->ds_of = NULL;
}

extern "C" void bp_cuda_free(bp_net *net)
{
    bp_cuda *c = net->cuda;
    if (!c)
        return;
    if (c->stream)
        cudaStreamSynchronize(c->stream);
    drop_graphs(c);
    free_dataset(c);
    if (c->blas)
        blas.destroy(c->blas);
    void *bufs[] = {c->workspace, c->params, c->grads, c->work, c->x, c->t, c->labels,
                    c->row_loss, c->acc, c->norm_part, c->norm, c->step, c->mean, c->std,
                    c->idx, c->coef, c->opt_m, c->opt_v};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        cudaFree(bufs[i]);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    free(c);
    net->cuda = NULL;
}

/* Loads every kernel of this file now. With lazy loading (the default since
 * CUDA 12.2) a kernel's module is loaded at its first launch, which must not
 * happen for the first time inside a stream capture; cudaFuncGetAttributes
 * loads the function. */
static bp_status preload_kernels(bp_net *net)
{
    const void *k[] = {(const void *)gather,        (const void *)bias_act_forward,
                       (const void *)act_backward_k, (const void *)softmax_ce,
                       (const void *)output_delta,  (const void *)bias_grad,
                       (const void *)norm_partial,  (const void *)norm_final,
                       (const void *)optimizer_update, (const void *)loss_sum};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        cudaFuncAttributes a;
        CU(cudaFuncGetAttributes(&a, k[i]));
    }
    return BP_OK;
}

static bp_status create(bp_net *net)
{
    bp_cuda *c = net->cuda;
    size_t B = (size_t)net->max_batch, P = net->n_params;
    CU(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CB(blas.create(&c->blas));
    CB(blas.set_stream(c->blas, c->stream));
    /* after SetStream, which resets it: a fixed workspace lets the step be
     * captured into a graph (cuBLAS must not allocate while capturing) */
    CU(cudaMalloc(&c->workspace, WORKSPACE));
    CB(blas.set_workspace(c->blas, c->workspace, WORKSPACE));
    CB(blas.set_math_mode(c->blas, net->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    CU(cudaMalloc(&c->params, P * sizeof(float)));
    CU(cudaMalloc(&c->grads, P * sizeof(float)));
    CU(cudaMalloc(&c->work, net->work_size * sizeof(float)));
    /* on the stream, not cudaMemset: that one runs on the legacy default
     * stream, which a non-blocking stream does not wait for */
    CU(cudaMemsetAsync(c->work, 0, net->work_size * sizeof(float), c->stream));
    CU(cudaMalloc(&c->x, B * net->sizes[0] * sizeof(float)));
    CU(cudaMalloc(&c->t, B * net->sizes[net->L] * sizeof(float)));
    CU(cudaMalloc(&c->labels, B * sizeof(int32_t)));
    CU(cudaMalloc(&c->row_loss, B * sizeof(double)));
    CU(cudaMalloc(&c->acc, 2 * sizeof(double)));
    CU(cudaMalloc(&c->norm_part, NORM_BLOCKS * sizeof(double)));
    CU(cudaMalloc(&c->norm, sizeof(double)));
    CU(cudaMemsetAsync(c->norm, 0, sizeof(double), c->stream));
    CU(cudaMalloc(&c->step, sizeof(int)));
    CU(cudaMalloc(&c->mean, net->sizes[0] * sizeof(float)));
    CU(cudaMalloc(&c->std, net->sizes[0] * sizeof(float)));
    CU(cudaMalloc(&c->coef, sizeof(optim_coef)));
    c->coef_cap = 1;
    TRY(preload_kernels(net));
    CU(cudaStreamSynchronize(c->stream));
    return BP_OK;
}

extern "C" bp_status bp_cuda_create(bp_net *net, bp_error *err)
{
    TRY(bp_cuda_probe_device(err));
    TRY(open_cublas(err));
    net->cuda = (bp_cuda *)calloc(1, sizeof(bp_cuda));
    if (!net->cuda)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory");
    bp_status s = create(net);
    if (s != BP_OK) {
        bp_fail(err, s, "%s", net->cuda->msg);
        bp_cuda_free(net);
    }
    return s;
}

extern "C" const char *bp_cuda_last_error(const bp_net *net)
{
    return net->cuda ? net->cuda->msg : "";
}

extern "C" bp_status bp_cuda_set_tf32(bp_net *net, int on)
{
    bp_cuda *c = net->cuda;
    CB(blas.set_math_mode(c->blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    drop_graphs(c); /* captured products were chosen for the old mode */
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* The mirror                                                                */
/* ------------------------------------------------------------------------ */

static bp_status upload_params(bp_net *net)
{
    if (!net->host_newer)
        return BP_OK;
    CU(cudaMemcpyAsync(net->cuda->params, net->params, net->n_params * sizeof(float),
                       cudaMemcpyHostToDevice, net->cuda->stream));
    net->host_newer = 0;
    return BP_OK;
}

/* Offset of a host work pointer: the same place on the device. */
static float *dev(const bp_net *net, const float *host_work)
{
    return net->cuda->work + (host_work - net->work);
}

extern "C" bp_status bp_cuda_download(bp_net *net, unsigned what)
{
    bp_cuda *c = net->cuda;
    what &= net->device_newer;
    if (what & BP_MIRROR_WORK)
        what |= BP_MIRROR_OUTPUT; /* the whole work buffer holds the output too */
    if (what & BP_MIRROR_PARAMS)
        CU(cudaMemcpyAsync(net->params, c->params, net->n_params * sizeof(float),
                           cudaMemcpyDeviceToHost, c->stream));
    if (what & BP_MIRROR_GRADS)
        CU(cudaMemcpyAsync(net->grads, c->grads, net->n_params * sizeof(float),
                           cudaMemcpyDeviceToHost, c->stream));
    if (what & BP_MIRROR_WORK) {
        CU(cudaMemcpyAsync(net->work, c->work, net->work_size * sizeof(float),
                           cudaMemcpyDeviceToHost, c->stream));
    } else if (what & BP_MIRROR_OUTPUT) {
        int L = net->L;
        size_t rows = (size_t)net->M * net->sizes[L] * sizeof(float);
        CU(cudaMemcpyAsync(net->z[L], dev(net, net->z[L]), rows, cudaMemcpyDeviceToHost,
                           c->stream));
        if (net->y[L] != net->z[L])
            CU(cudaMemcpyAsync(net->y[L], dev(net, net->y[L]), rows, cudaMemcpyDeviceToHost,
                               c->stream));
    }
    CU(cudaStreamSynchronize(c->stream));
    net->device_newer &= ~what;
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* The step, enqueued on the network's stream                                */
/* ------------------------------------------------------------------------ */

/* Z(l+1) = Y(l) W(l)ᵀ   [M,in]·[in,out] -> [M,out]   eq. 51, rows = examples.
 * cuBLAS is column-major: a row-major [r,c] matrix is its transpose there,
 * so this is Zᵀ = W Yᵀ, i.e. gemm(T, N) on W [in,out]ᶜᵐ and Yᵀ [in,M]ᶜᵐ. */
static bp_status gemm_forward(bp_net *net, int l, const float *Y, int M)
{
    const bp_layer *ly = &net->layer[l];
    const float one = 1.0f, zero = 0.0f;
    const float *W = net->cuda->params + (ly->W - net->params);
    CB(blas.sgemm(net->cuda->blas, CUBLAS_OP_T, CUBLAS_OP_N, ly->out, M, ly->in, &one, W, ly->in,
                   Y, ly->in, &zero, dev(net, net->z[l + 1]), ly->out));
    return BP_OK;
}

/* ∇W(l) = (1/M) Δ(l+1)ᵀ Y(l)   [out,M]·[M,in] -> [out,in]   eq. 52/55,
 * overwrites (beta = 0); column-major: ∇Wᵀ = Yᵀ Δ, gemm(N, T) */
static bp_status gemm_grad_w(bp_net *net, int l, const float *Y, int M)
{
    const bp_layer *ly = &net->layer[l];
    const float scale = 1.0f / (float)M, zero = 0.0f;
    float *gW = net->cuda->grads + (ly->gW - net->grads);
    CB(blas.sgemm(net->cuda->blas, CUBLAS_OP_N, CUBLAS_OP_T, ly->in, ly->out, M, &scale, Y,
                   ly->in, dev(net, net->delta[l + 1]), ly->out, &zero, gW, ly->in));
    return BP_OK;
}

/* Δ(l) = Δ(l+1) W(l)   [M,out]·[out,in] -> [M,in]   eq. 56 before ⊙ f';
 * overwrites; column-major: Δ(l)ᵀ = Wᵀ Δ(l+1)ᵀ, gemm(N, N) */
static bp_status gemm_delta(bp_net *net, int l, int M)
{
    const bp_layer *ly = &net->layer[l];
    const float one = 1.0f, zero = 0.0f;
    const float *W = net->cuda->params + (ly->W - net->params);
    CB(blas.sgemm(net->cuda->blas, CUBLAS_OP_N, CUBLAS_OP_N, ly->in, M, ly->out, &one, W, ly->in,
                   dev(net, net->delta[l + 1]), ly->out, &zero, dev(net, net->delta[l]), ly->in));
    return BP_OK;
}

/* Targets on the device for the output error; NULL, NULL for a forward only. */
typedef struct {
    const int32_t *labels;
    const float *t;
} dev_targets;

/* The forward pass of M examples in c->x (eq. 51–52, 57/61/69); with
 * targets, the output error Δ(L) and the per-example loss too: fused into
 * the softmax kernel (eq. 68/69) or one pass after an element-wise output. */
static bp_status enqueue_forward(bp_net *net, int M, dev_targets tg, int with_loss)
{
    bp_cuda *c = net->cuda;
    int L = net->L;
    for (int l = 0; l < L; l++) {
        const bp_layer *ly = &net->layer[l];
        const float *b = c->params + (ly->b - net->params);
        TRY(gemm_forward(net, l, l ? dev(net, net->y[l]) : c->x, M));
        float *z = dev(net, net->z[l + 1]), *y = dev(net, net->y[l + 1]);
        if (net->acts[l + 1] == BP_ACT_SOFTMAX) {
            softmax_ce<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
                z, y, with_loss ? dev(net, net->delta[L]) : NULL, with_loss ? c->row_loss : NULL,
                b, tg.labels, tg.t, M, ly->out, net->T);
        } else {
            bias_act_forward<<<blocks((size_t)M * ly->out), THREADS, 0, c->stream>>>(
                z, y, b, M, ly->out, net->acts[l + 1], (float)net->slope);
        }
        CU(cudaGetLastError());
    }
    if (with_loss && net->acts[L] != BP_ACT_SOFTMAX) {
        output_delta<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
            dev(net, net->delta[L]), c->row_loss, dev(net, net->z[L]), dev(net, net->y[L]), tg.t,
            M, net->sizes[L], net->loss, net->acts[L], (float)net->slope);
        CU(cudaGetLastError());
    }
    return BP_OK;
}

/* The backward pass from Δ(L) (eq. 52–56): ∇W, ∇b of every layer into the
 * gradient buffer (overwritten), Δ(l) of every layer above the input. */
static bp_status enqueue_backward(bp_net *net, int M)
{
    bp_cuda *c = net->cuda;
    for (int l = net->L - 1; l >= 0; l--) {
        const bp_layer *ly = &net->layer[l];
        TRY(gemm_grad_w(net, l, l ? dev(net, net->y[l]) : c->x, M));
        bias_grad<<<blocks(ly->out), THREADS, 0, c->stream>>>(
            c->grads + (ly->gb - net->grads), dev(net, net->delta[l + 1]), M, ly->out,
            1.0f / (float)M);
        CU(cudaGetLastError());
        if (l == 0)
            break; /* the input layer gets no error term */
        TRY(gemm_delta(net, l, M));
        act_backward_k<<<blocks((size_t)M * ly->in), THREADS, 0, c->stream>>>(
            dev(net, net->delta[l]), dev(net, net->z[l]), dev(net, net->y[l]), M, ly->in,
            net->acts[l], (float)net->slope);
        CU(cudaGetLastError());
    }
    return BP_OK;
}

/* The optimiser's update of every parameter, one kernel (after the norm's
 * two when clipping); step NULL: coef[0]. */
static bp_status enqueue_update(bp_net *net, const bp_optimizer *opt, const int *step)
{
    bp_cuda *c = net->cuda;
    const bp_opt_config *cfg = &opt->cfg;
    size_t P = net->n_params;
    opt_const k = {cfg->kind,
                   cfg->kind == BP_OPT_ADAMW ? 0.0f : (float)cfg->weight_decay,
                   (float)cfg->momentum,
                   (float)cfg->beta1,
                   (float)cfg->beta2,
                   (float)(1 - cfg->beta1),
                   (float)(1 - cfg->beta2),
                   (float)cfg->eps,
                   cfg->clip_norm};
    if (cfg->clip_norm > 0) {
        norm_partial<<<NORM_BLOCKS, THREADS, 0, c->stream>>>(c->norm_part, c->grads, P);
        CU(cudaGetLastError());
        norm_final<<<1, NORM_BLOCKS, 0, c->stream>>>(c->norm, c->norm_part);
        CU(cudaGetLastError());
    }
    optimizer_update<<<blocks(P), THREADS, 0, c->stream>>>(c->params, c->opt_m, c->opt_v, c->grads,
                                                           P, k, c->coef, step, c->norm);
    CU(cudaGetLastError());
    return BP_OK;
}

static bp_status enqueue_loss_sum(bp_net *net, double *acc, int *step, int M)
{
    loss_sum<<<1, THREADS, 0, net->cuda->stream>>>(acc, step, net->cuda->row_loss, M);
    CU(cudaGetLastError());
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* State that steps share: the optimiser's, the data set                     */
/* ------------------------------------------------------------------------ */

/* The device holds the state of one optimiser: a new one brings its host
 * state (zeros, or what earlier host steps left). "New" includes another
 * optimiser at a freed one's address and one that stepped on the host
 * since: both show as a step count other than the device left. The same
 * optimiser at the same count keeps the device's state while that is the
 * newer copy (steps since the last sync); otherwise the host's copy is at
 * least as new (bp_checkpoint_load may have rewritten m, v at an equal
 * count) and is copied in again, into the same buffers: the graphs stay. */
static bp_status attach_optimizer(bp_net *net, const bp_optimizer *opt)
{
    bp_cuda *c = net->cuda;
    size_t bytes = net->n_params * sizeof(float);
    if (c->opt_of == opt->id && c->opt_t == opt->t) {
        if (c->opt_newer)
            return BP_OK;
        if (opt->m)
            CU(cudaMemcpyAsync(c->opt_m, opt->m, bytes, cudaMemcpyHostToDevice, c->stream));
        if (opt->v)
            CU(cudaMemcpyAsync(c->opt_v, opt->v, bytes, cudaMemcpyHostToDevice, c->stream));
        return BP_OK;
    }
    drop_graphs(c);
    cudaFree(c->opt_m), cudaFree(c->opt_v);
    c->opt_m = c->opt_v = NULL;
    c->opt_of = 0;
    if (opt->m) {
        CU(cudaMalloc(&c->opt_m, bytes));
        CU(cudaMemcpyAsync(c->opt_m, opt->m, bytes, cudaMemcpyHostToDevice, c->stream));
    }
    if (opt->v) {
        CU(cudaMalloc(&c->opt_v, bytes));
        CU(cudaMemcpyAsync(c->opt_v, opt->v, bytes, cudaMemcpyHostToDevice, c->stream));
    }
    c->opt_of = opt->id;
    c->opt_t = opt->t;
    c->opt_newer = 0;
    return BP_OK;
}

/* After `steps` device steps of opt: its count, and what is newer where. */
static void stepped(bp_net *net, bp_optimizer *opt, long steps)
{
    opt->t += steps;
    net->cuda->opt_t = opt->t;
    net->cuda->opt_newer = 1;
    net->device_newer |= BP_MIRROR_PARAMS | BP_MIRROR_GRADS | BP_MIRROR_WORK | BP_MIRROR_OUTPUT;
}

extern "C" bp_status bp_cuda_sync_optimizer(bp_net *net, bp_optimizer *opt)
{
    bp_cuda *c = net->cuda;
    if (c->opt_of != opt->id || c->opt_t != opt->t || !c->opt_newer)
        return BP_OK;
    size_t bytes = net->n_params * sizeof(float);
    if (opt->m)
        CU(cudaMemcpyAsync(opt->m, c->opt_m, bytes, cudaMemcpyDeviceToHost, c->stream));
    if (opt->v)
        CU(cudaMemcpyAsync(opt->v, c->opt_v, bytes, cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream));
    c->opt_newer = 0;
    return BP_OK;
}

/* The data set on the device, copied once in its stored types. Known by
 * its address and shape: a data set freed and another loaded at the same
 * address with the same shape would not be noticed (the CLI never does). */
static bp_status attach_dataset(bp_net *net, const bp_dataset *ds)
{
    bp_cuda *c = net->cuda;
    int n = bp_dataset_n(ds), n_in = bp_dataset_n_in(ds), n_out = bp_dataset_n_out(ds);
    if (c->ds_of == ds && c->ds_n == n && c->ds_n_in == n_in && c->ds_n_out == n_out)
        return BP_OK;
    CU(cudaStreamSynchronize(c->stream));
    drop_graphs(c);
    free_dataset(c);
    bp_dataset_arrays a = bp_dataset_raw(ds);
    size_t xs = (size_t)n * n_in;
    /* on the network's stream: a plain cudaMemcpy from pageable memory may
     * return before its DMA ends, and it is ordered on the legacy default
     * stream, which the non-blocking stream's kernels do not wait for */
    if (a.x_u8) {
        CU(cudaMalloc(&c->ds_u8, xs));
        CU(cudaMemcpyAsync(c->ds_u8, a.x_u8, xs, cudaMemcpyHostToDevice, c->stream));
    } else {
        CU(cudaMalloc(&c->ds_f32, xs * sizeof(float)));
        CU(cudaMemcpyAsync(c->ds_f32, a.x_f32, xs * sizeof(float), cudaMemcpyHostToDevice,
                           c->stream));
    }
    if (bp_dataset_has_labels(ds)) {
        CU(cudaMalloc(&c->ds_labels, (size_t)n * sizeof(int32_t)));
        CU(cudaMemcpyAsync(c->ds_labels, a.labels, (size_t)n * sizeof(int32_t),
                           cudaMemcpyHostToDevice, c->stream));
    } else {
        CU(cudaMalloc(&c->ds_t, (size_t)n * n_out * sizeof(float)));
        CU(cudaMemcpyAsync(c->ds_t, a.targets, (size_t)n * n_out * sizeof(float),
                           cudaMemcpyHostToDevice, c->stream));
    }
    CU(cudaStreamSynchronize(c->stream)); /* a failed copy is reported here */
    c->ds_of = ds, c->ds_n = n, c->ds_n_in = n_in, c->ds_n_out = n_out;
    return BP_OK;
}

/* Room for n entries of a per-epoch array; a new allocation drops the
 * graphs, which hold the old address. */
static bp_status reserve(bp_net *net, void **buf, long *cap, long n, size_t size)
{
    if (n <= *cap)
        return BP_OK;
    CU(cudaStreamSynchronize(net->cuda->stream));
    drop_graphs(net->cuda);
    cudaFree(*buf);
    *buf = NULL;
    *cap = 0;
    CU(cudaMalloc(buf, (size_t)n * size));
    *cap = n;
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Per call: the public batch functions                                      */
/* ------------------------------------------------------------------------ */

extern "C" bp_status bp_cuda_forward(bp_net *net, const float *x, int M)
{
    bp_cuda *c = net->cuda;
    TRY(upload_params(net));
    CU(cudaMemcpyAsync(c->x, x, (size_t)M * net->sizes[0] * sizeof(float),
                       cudaMemcpyHostToDevice, c->stream));
    net->M = M;
    TRY(enqueue_forward(net, M, dev_targets{NULL, NULL}, 0));
    net->device_newer |= BP_MIRROR_WORK | BP_MIRROR_OUTPUT;
    return BP_OK;
}

/* Host targets to the device, checked as losses.c checks them. */
static bp_status upload_targets(bp_net *net, bp_targets tg, int M, dev_targets *out)
{
    bp_cuda *c = net->cuda;
    int n = net->sizes[net->L];
    if (tg.labels) {
        if (net->loss != BP_LOSS_SOFTMAX_CE)
            return fail(net, BP_ERR_ARG, "class labels need the softmax_ce loss");
        for (int m = 0; m < M; m++)
            if (tg.labels[m] < 0 || tg.labels[m] >= n)
                return fail(net, BP_ERR_ARG, "example %d: label %d is not in 0..%d", m + 1,
                            (int)tg.labels[m], n - 1);
        CU(cudaMemcpyAsync(c->labels, tg.labels, (size_t)M * sizeof(int32_t),
                           cudaMemcpyHostToDevice, c->stream));
        *out = dev_targets{c->labels, NULL};
    } else {
        CU(cudaMemcpyAsync(c->t, tg.t, (size_t)M * n * sizeof(float), cudaMemcpyHostToDevice,
                           c->stream));
        *out = dev_targets{NULL, c->t};
    }
    return BP_OK;
}

/* Σ row_loss of the last M examples, read back: their mean loss. */
static bp_status read_loss(bp_net *net, int M, double *loss)
{
    bp_cuda *c = net->cuda;
    double sum;
    CU(cudaMemsetAsync(c->acc + 1, 0, sizeof(double), c->stream));
    TRY(enqueue_loss_sum(net, c->acc + 1, NULL, M));
    CU(cudaMemcpyAsync(&sum, c->acc + 1, sizeof(double), cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream));
    *loss = sum / M;
    return BP_OK;
}

extern "C" bp_status bp_cuda_backward(bp_net *net, bp_targets tg, double *loss)
{
    bp_cuda *c = net->cuda;
    int M = net->M, L = net->L;
    dev_targets dt;
    TRY(upload_params(net)); /* as on the host: δ uses W as it is now */
    TRY(upload_targets(net, tg, M, &dt));
    if (net->acts[L] == BP_ACT_SOFTMAX) {
        /* z(L) already has its bias: softmax again (the same y), with the loss */
        softmax_ce<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
            dev(net, net->z[L]), dev(net, net->y[L]), dev(net, net->delta[L]), c->row_loss, NULL,
            dt.labels, dt.t, M, net->sizes[L], net->T);
    } else {
        output_delta<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
            dev(net, net->delta[L]), c->row_loss, dev(net, net->z[L]), dev(net, net->y[L]), dt.t,
            M, net->sizes[L], net->loss, net->acts[L], (float)net->slope);
    }
    CU(cudaGetLastError());
    TRY(enqueue_backward(net, M));
    net->device_newer |= BP_MIRROR_GRADS | BP_MIRROR_WORK | BP_MIRROR_OUTPUT;
    if (loss)
        TRY(read_loss(net, M, loss));
    return BP_OK;
}

extern "C" bp_status bp_cuda_train_step(bp_net *net, bp_optimizer *opt, const float *x,
                                        bp_targets tg, int M, double *loss)
{
    bp_cuda *c = net->cuda;
    if (!x || M < 1 || M > net->max_batch || (!tg.t == !tg.labels))
        return BP_ERR_ARG;
    TRY(upload_params(net));
    TRY(attach_optimizer(net, opt));
    dev_targets dt;
    TRY(upload_targets(net, tg, M, &dt));
    CU(cudaMemcpyAsync(c->x, x, (size_t)M * net->sizes[0] * sizeof(float),
                       cudaMemcpyHostToDevice, c->stream));
    optim_coef q = optim_step_coef(opt, opt->t);
    CU(cudaMemcpyAsync(c->coef, &q, sizeof q, cudaMemcpyHostToDevice, c->stream));
    net->M = M;
    TRY(enqueue_forward(net, M, dt, 1));
    TRY(enqueue_backward(net, M));
    TRY(enqueue_update(net, opt, NULL));
    stepped(net, opt, 1);
    /* q may go: a copy from pageable memory has left it when the call returns */
    if (loss)
        TRY(read_loss(net, M, loss));
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* The epoch: one graph per batch size, replayed                             */
/* ------------------------------------------------------------------------ */

/* One training step of an epoch: batch *step of idx gathered on the device,
 * forward, fused output error, backward, update with coef[*step], the loss
 * added to acc[0], the counter moved on. */
static bp_status enqueue_epoch_step(bp_net *net, const bp_optimizer *opt, int M, int stride)
{
    bp_cuda *c = net->cuda;
    int n_in = net->sizes[0];
    gather<<<blocks((size_t)M * n_in), THREADS, 0, c->stream>>>(
        c->x, c->labels, c->t, c->ds_u8, c->ds_f32, c->ds_labels, c->ds_t, c->idx, c->step, stride,
        M, n_in, c->ds_n_out, c->mean, c->std);
    CU(cudaGetLastError());
    dev_targets dt = c->ds_labels ? dev_targets{c->labels, NULL} : dev_targets{NULL, c->t};
    TRY(enqueue_forward(net, M, dt, 1));
    TRY(enqueue_backward(net, M));
    TRY(enqueue_update(net, opt, c->step));
    return enqueue_loss_sum(net, c->acc, c->step, M);
}

/* The step's side-effect-free part, run once eagerly before it is captured:
 * gather, forward, output error, backward write only scratch buffers (x,
 * targets, work, grads, row losses), never the parameters, the optimiser
 * state, the loss sum or the step counter. Its batch is the one the next
 * replay will take (the counter is where the stream will have it). cuBLAS
 * chooses, loads and sets up the kernels of these shapes here, outside the
 * capture, where nothing it does on a first call can break the capture. */
static bp_status enqueue_warmup(bp_net *net, int M, int stride)
{
    bp_cuda *c = net->cuda;
    int n_in = net->sizes[0];
    gather<<<blocks((size_t)M * n_in), THREADS, 0, c->stream>>>(
        c->x, c->labels, c->t, c->ds_u8, c->ds_f32, c->ds_labels, c->ds_t, c->idx, c->step, stride,
        M, n_in, c->ds_n_out, c->mean, c->std);
    CU(cudaGetLastError());
    dev_targets dt = c->ds_labels ? dev_targets{c->labels, NULL} : dev_targets{NULL, c->t};
    TRY(enqueue_forward(net, M, dt, 1));
    return enqueue_backward(net, M);
}

/* The captured step for batches of M taken stride apart, captured on first use. */
static bp_status graph_for(bp_net *net, const bp_optimizer *opt, int M, int stride,
                           cudaGraphExec_t *exec)
{
    bp_cuda *c = net->cuda;
    for (int i = 0; i < GRAPHS; i++)
        if (c->graph[i].exec && c->graph[i].M == M && c->graph[i].stride == stride) {
            *exec = c->graph[i].exec;
            return BP_OK;
        }
    graph_slot *g = &c->graph[c->graph_next];
    c->graph_next = (c->graph_next + 1) % GRAPHS;
    if (g->exec) {
        CU(cudaStreamSynchronize(c->stream));
        CU(cudaGraphExecDestroy(g->exec));
        g->exec = NULL;
    }
    TRY(enqueue_warmup(net, M, stride));
    cudaGraph_t graph;
    CU(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
    bp_status s = enqueue_epoch_step(net, opt, M, stride);
    cudaError_t e = cudaStreamEndCapture(c->stream, &graph);
    if (s != BP_OK) {
        if (e == cudaSuccess)
            cudaGraphDestroy(graph);
        return s;
    }
    CU(e);
    e = cudaGraphInstantiate(&g->exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) {
        g->exec = NULL;
        return cuda_status(net, e, "cudaGraphInstantiate");
    }
    g->M = M, g->stride = stride;
    *exec = g->exec;
    return BP_OK;
}

/* Everything an epoch's replays read, in place: parameters, optimiser
 * state, data set, idx [n], the rates of its steps, mean and std. */
static bp_status prepare_epoch(bp_net *net, const bp_optimizer *opt, const bp_dataset *ds,
                               const int32_t *idx, int n, int batch, const float *mean,
                               const float *std)
{
    bp_cuda *c = net->cuda;
    long steps = (n + batch - 1) / batch;
    int n_in = net->sizes[0];
    TRY(upload_params(net));
    TRY(attach_optimizer(net, opt));
    TRY(attach_dataset(net, ds));
    TRY(reserve(net, (void **)&c->idx, &c->idx_cap, n, sizeof(int32_t)));
    TRY(reserve(net, (void **)&c->coef, &c->coef_cap, steps, sizeof(optim_coef)));
    /* per call, never per batch: the host side of the copies */
    optim_coef *q = (optim_coef *)malloc((size_t)steps * sizeof *q);
    float *ms = (float *)malloc(2 * (size_t)n_in * sizeof(float));
    if (!q || !ms) {
        free(q), free(ms);
        return fail(net, BP_ERR_NOMEM, "out of memory");
    }
    for (long s = 0; s < steps; s++)
        q[s] = optim_step_coef(opt, opt->t + s);
    for (int j = 0; j < n_in; j++) {
        ms[j] = mean ? mean[j] : 0.0f; /* (x − 0)/1 = x exactly: no standardisation */
        ms[n_in + j] = mean ? std[j] : 1.0f;
    }
    cudaError_t e = cudaMemcpyAsync(c->idx, idx, (size_t)n * sizeof(int32_t),
                                    cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->coef, q, (size_t)steps * sizeof *q, cudaMemcpyHostToDevice,
                            c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->mean, ms, (size_t)n_in * sizeof(float), cudaMemcpyHostToDevice,
                            c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->std, ms + n_in, (size_t)n_in * sizeof(float),
                            cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess) /* q and ms must outlive the copies */
        e = cudaStreamSynchronize(c->stream);
    free(q), free(ms);
    if (e != cudaSuccess)
        return cuda_status(net, e, "copying the epoch's index and rates");
    CU(cudaMemsetAsync(c->step, 0, sizeof(int), c->stream));
    CU(cudaMemsetAsync(c->acc, 0, sizeof(double), c->stream));
    return BP_OK;
}

/* Replays the step graph over n examples in batches of `batch`; *launched:
 * the steps enqueued, also when it fails midway (the last batch's capture
 * can fail after the full batches went): they change the device state. */
static bp_status replay_epoch(bp_net *net, const bp_optimizer *opt, int n, int batch,
                              long *launched)
{
    bp_cuda *c = net->cuda;
    int full = n / batch, rest = n % batch;
    cudaGraphExec_t exec;
    *launched = 0;
    if (full) {
        TRY(graph_for(net, opt, batch, batch, &exec));
        net->M = batch;
        for (int i = 0; i < full; i++) {
            CU(cudaGraphLaunch(exec, c->stream));
            ++*launched;
        }
    }
    if (rest) {
        TRY(graph_for(net, opt, rest, batch, &exec));
        net->M = rest;
        CU(cudaGraphLaunch(exec, c->stream));
        ++*launched;
    }
    return BP_OK;
}

extern "C" bp_status bp_cuda_train_epoch(bp_net *net, bp_optimizer *opt, const bp_dataset *ds,
                                         const int32_t *idx, int n, int batch, const float *mean,
                                         const float *std, double *loss_sum)
{
    bp_cuda *c = net->cuda;
    long launched;
    TRY(prepare_epoch(net, opt, ds, idx, n, batch, mean, std));
    bp_status s = replay_epoch(net, opt, n, batch, &launched);
    if (launched)
        stepped(net, opt, launched);
    TRY(s);
    double sum;
    CU(cudaMemcpyAsync(&sum, c->acc, sizeof(double), cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream)); /* the one wait of the epoch */
    *loss_sum = sum;
    return isfinite(sum) ? BP_OK : BP_ERR_NONFINITE;
}

/* ------------------------------------------------------------------------ */
/* Bench                                                                     */
/* ------------------------------------------------------------------------ */

/* The step's products alone, as enqueue_forward/backward issue them. */
static bp_status enqueue_gemms(bp_net *net, int M)
{
    for (int l = 0; l < net->L; l++)
        TRY(gemm_forward(net, l, l ? dev(net, net->y[l]) : net->cuda->x, M));
    for (int l = net->L - 1; l >= 0; l--) {
        TRY(gemm_grad_w(net, l, l ? dev(net, net->y[l]) : net->cuda->x, M));
        if (l > 0)
            TRY(gemm_delta(net, l, M));
    }
    return BP_OK;
}

static bp_status timed(bp_net *net, cudaEvent_t t0, cudaEvent_t t1, double *seconds)
{
    float ms;
    CU(cudaEventSynchronize(t1));
    CU(cudaEventElapsedTime(&ms, t0, t1));
    *seconds = ms * 1e-3;
    return BP_OK;
}

static bp_status bench(bp_net *net, bp_optimizer *opt, const bp_dataset *ds, int M, int reps,
                       cudaEvent_t t0, cudaEvent_t t1, double *step_s, double *gemm_s)
{
    bp_cuda *c = net->cuda;
    int n_ds = bp_dataset_n(ds);
    long n = (long)reps * M;
    if (n > (1L << 30))
        return fail(net, BP_ERR_ARG, "bench: %d steps of %d examples are too many", reps, M);
    int32_t *idx = (int32_t *)malloc((size_t)n * sizeof *idx);
    if (!idx)
        return fail(net, BP_ERR_NOMEM, "out of memory");
    for (long i = 0; i < n; i++)
        idx[i] = (int32_t)(i % n_ds);
    bp_status s = prepare_epoch(net, opt, ds, idx, (int)n, M, NULL, NULL);
    free(idx);
    TRY(s);
    cudaGraphExec_t exec;
    TRY(graph_for(net, opt, M, M, &exec)); /* captured before the clock starts */
    CU(cudaEventRecord(t0, c->stream));
    long launched;
    s = replay_epoch(net, opt, (int)n, M, &launched);
    if (launched)
        stepped(net, opt, launched);
    TRY(s);
    CU(cudaEventRecord(t1, c->stream));
    TRY(timed(net, t0, t1, step_s));

    /* the ceiling: the same products, captured alike */
    cudaGraph_t graph;
    CU(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
    s = enqueue_gemms(net, M);
    cudaError_t e = cudaStreamEndCapture(c->stream, &graph);
    if (s != BP_OK) {
        if (e == cudaSuccess)
            cudaGraphDestroy(graph);
        return s;
    }
    CU(e);
    e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    CU(e);
    e = cudaEventRecord(t0, c->stream);
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

extern "C" bp_status bp_cuda_bench(bp_net *net, bp_optimizer *opt, const bp_dataset *ds, int M,
                                   int reps, double *step_s, double *gemm_s)
{
    cudaEvent_t t0, t1;
    CU(cudaEventCreate(&t0));
    cudaError_t e = cudaEventCreate(&t1);
    if (e != cudaSuccess) {
        cudaEventDestroy(t0);
        return cuda_status(net, e, "cudaEventCreate");
    }
    bp_status s = bench(net, opt, ds, M, reps, t0, t1, step_s, gemm_s);
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    return s;
}
