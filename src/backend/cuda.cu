/*
 * cuda.cu — the batch form of section 7 on an NVIDIA GPU: the same maths,
 * the same buffer layout and the same conventions as cpu.c (rows are
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
 * step's optimiser coefficients) are read by the kernels from device memory
 * indexed by a device step counter, so one captured graph serves every step.
 *
 * This file: the device context (cuBLAS, errors, creation), the mirror of
 * the host buffers, and the state steps share (the optimiser's, the data
 * set). The passes are in cuda_pass.cu, the epoch's graphs in
 * cuda_epoch.cu, the bench in cuda_bench.cu (cuda_ctx.cuh joins them); the
 * element maths is ops.h's, the same as the host's.
 *
 * Deliberately not here: cuBLASLt epilogues (bias + activation are one
 * kernel after each product), multiple GPUs, streams other than one per
 * network, float16/bfloat16. Every CUDA and cuBLAS call is checked; a
 * failure becomes a status and a one-line message in the context.
 *
 * Shapes: M examples, in = N(l), out = N(l+1), P parameters, n = N(L).
 */
#include "cuda_ctx.cuh"

#include <atomic>
#include <dlfcn.h>
#include <unistd.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cuBLAS is opened (dlopen) when the first CUDA network is made, not linked:
 * linked, its 600 MB of libraries cost every run of the program, GPU or
 * not, ~200 MB of resident memory and ~80 ms of start-up (the CUDA runtime
 * itself is linked statically and costs nothing until first used). */
#define STR_(x) #x
#define STR(x) STR_(x)
#define CUBLAS_SONAME "libcublas.so." STR(CUBLAS_VER_MAJOR)
cu_blas_fns bp_cublas;

/* The library by its soname (the loader's paths), then in the toolkit's
 * folder of the build; BP_OK or why not. Called from bp_cuda_create only. */
static bp_status open_cublas(bp_error *err)
{
    if (bp_cublas.lib)
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
    bp_cublas.create = (decltype(bp_cublas.create))fn[0];
    bp_cublas.destroy = (decltype(bp_cublas.destroy))fn[1];
    bp_cublas.set_stream = (decltype(bp_cublas.set_stream))fn[2];
    bp_cublas.set_workspace = (decltype(bp_cublas.set_workspace))fn[3];
    bp_cublas.set_math_mode = (decltype(bp_cublas.set_math_mode))fn[4];
    bp_cublas.sgemm = (decltype(bp_cublas.sgemm))fn[5];
    bp_cublas.status_string = (decltype(bp_cublas.status_string))fn[6];
    bp_cublas.lib = lib;
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

bp_status cu_fail(bp_net *net, bp_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(net->cuda->msg, sizeof net->cuda->msg, fmt, ap);
    va_end(ap);
    return s;
}

bp_status cu_cuda_status(bp_net *net, cudaError_t e, const char *call)
{
    return cu_fail(net, e == cudaErrorMemoryAllocation ? BP_ERR_NOMEM : BP_ERR_IO,
                   "CUDA: %s: %s", call, cudaGetErrorString(e));
}

bp_status cu_blas_status(bp_net *net, cublasStatus_t e, const char *call)
{
    return cu_fail(net, e == CUBLAS_STATUS_ALLOC_FAILED ? BP_ERR_NOMEM : BP_ERR_IO,
                   "cuBLAS: %s: %s", call, bp_cublas.status_string(e));
}

/* ------------------------------------------------------------------------ */
/* Device context                                                            */
/* ------------------------------------------------------------------------ */

/* The process that first touched CUDA. A CUDA context does not survive
 * fork(): in a child every CUDA call is refused (bp_cuda_forked) rather than
 * left to fail or hang inside the driver. */
static std::atomic<pid_t> cu_owner{0};

extern "C" int bp_cuda_forked(void)
{
    pid_t owner = cu_owner.load();
    return owner != 0 && owner != getpid();
}

extern "C" bp_status bp_cuda_forked_fail(bp_error *err, const char *fn)
{
    return bp_fail(err, BP_ERR_ARG,
                   "%s: CUDA was started in process %ld, before a fork(); a CUDA context does "
                   "not survive fork, so a forked child trains on the CPU (--device cpu)",
                   fn, (long)cu_owner.load());
}

extern "C" bp_status bp_cuda_probe_device(bp_error *err)
{
    if (bp_cuda_forked())
        return bp_cuda_forked_fail(err, "--device cuda");
    pid_t none = 0;
    cu_owner.compare_exchange_strong(none, getpid());
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
    if (bp_cuda_forked())
        return bp_cuda_forked_fail(err, "bp_cuda_use_gpu");
    pid_t none = 0;
    cu_owner.compare_exchange_strong(none, getpid());
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaSuccess && n > 0)
        e = cudaSetDevice(index % n);
    if (e != cudaSuccess || n < 1)
        return bp_fail(err, BP_ERR_ARG, "cannot select GPU %d of %d: %s", index, n,
                       e != cudaSuccess ? cudaGetErrorString(e) : "no device");
    return BP_OK;
}

void cu_drop_graphs(bp_cuda *c)
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
    cu_drop_graphs(c);
    free_dataset(c);
    if (c->blas)
        bp_cublas.destroy(c->blas);
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

static bp_status create(bp_net *net)
{
    bp_cuda *c = net->cuda;
    size_t B = (size_t)net->max_batch, P = net->n_params;
    CU(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CB(bp_cublas.create(&c->blas));
    CB(bp_cublas.set_stream(c->blas, c->stream));
    /* after SetStream, which resets it: a fixed workspace lets the step be
     * captured into a graph (cuBLAS must not allocate while capturing) */
    CU(cudaMalloc(&c->workspace, WORKSPACE));
    CB(bp_cublas.set_workspace(c->blas, c->workspace, WORKSPACE));
    CB(bp_cublas.set_math_mode(c->blas,
                               net->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
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
    TRY(cu_preload_kernels(net));
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
        return s;
    }
    net->cuda->host_newer = 1; /* the next device operation uploads the parameters */
    return BP_OK;
}

extern "C" const char *bp_cuda_last_error(const bp_net *net)
{
    return net->cuda ? net->cuda->msg : "";
}

extern "C" bp_status bp_cuda_set_tf32(bp_net *net, int on)
{
    bp_cuda *c = net->cuda;
    CB(bp_cublas.set_math_mode(c->blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    cu_drop_graphs(c); /* captured products were chosen for the old mode */
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* The mirror                                                                */
/* ------------------------------------------------------------------------ */

bp_status cu_upload_params(bp_net *net)
{
    if (!net->cuda->host_newer)
        return BP_OK;
    CU(cudaMemcpyAsync(net->cuda->params, net->params, net->n_params * sizeof(float),
                       cudaMemcpyHostToDevice, net->cuda->stream));
    net->cuda->host_newer = 0;
    return BP_OK;
}

extern "C" bp_status bp_cuda_download(bp_net *net, unsigned what)
{
    bp_cuda *c = net->cuda;
    what &= net->cuda->device_newer;
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
        CU(cudaMemcpyAsync(net->z[L], cu_dev(net, net->z[L]), rows, cudaMemcpyDeviceToHost,
                           c->stream));
        if (net->y[L] != net->z[L])
            CU(cudaMemcpyAsync(net->y[L], cu_dev(net, net->y[L]), rows, cudaMemcpyDeviceToHost,
                               c->stream));
    }
    CU(cudaStreamSynchronize(c->stream));
    net->cuda->device_newer &= ~what;
    return BP_OK;
}

extern "C" void bp_cuda_sync_host(const bp_net *net, unsigned what)
{
    /* the host buffers are a cache of the device's: filling them does not
     * change the network, hence the cast. A failure is kept in the context
     * and reported by the next device operation. */
    if (net->cuda->device_newer & what)
        (void)bp_cuda_download((bp_net *)net, what);
}

extern "C" void bp_cuda_host_wrote(bp_net *net, unsigned what)
{
    net->cuda->device_newer &= ~what;
    if (what & BP_MIRROR_PARAMS)
        net->cuda->host_newer = 1; /* uploaded before the next device operation */
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
bp_status cu_attach_optimizer(bp_net *net, const bp_opt_view *o)
{
    bp_cuda *c = net->cuda;
    size_t bytes = net->n_params * sizeof(float);
    if (c->opt_of == o->id && c->opt_t == o->t) {
        if (c->opt_newer)
            return BP_OK;
        if (o->m)
            CU(cudaMemcpyAsync(c->opt_m, o->m, bytes, cudaMemcpyHostToDevice, c->stream));
        if (o->v)
            CU(cudaMemcpyAsync(c->opt_v, o->v, bytes, cudaMemcpyHostToDevice, c->stream));
        return BP_OK;
    }
    cu_drop_graphs(c);
    cudaFree(c->opt_m), cudaFree(c->opt_v);
    c->opt_m = c->opt_v = NULL;
    c->opt_of = 0;
    if (o->m) {
        CU(cudaMalloc(&c->opt_m, bytes));
        CU(cudaMemcpyAsync(c->opt_m, o->m, bytes, cudaMemcpyHostToDevice, c->stream));
    }
    if (o->v) {
        CU(cudaMalloc(&c->opt_v, bytes));
        CU(cudaMemcpyAsync(c->opt_v, o->v, bytes, cudaMemcpyHostToDevice, c->stream));
    }
    c->opt_of = o->id;
    c->opt_t = o->t;
    c->opt_newer = 0;
    return BP_OK;
}

/* After `steps` device steps of o: its count (which the caller advances
 * alike), and what is newer where. */
void cu_stepped(bp_net *net, const bp_opt_view *o, long steps)
{
    net->cuda->opt_t = o->t + steps;
    net->cuda->opt_newer = 1;
    net->cuda->device_newer |= BP_MIRROR_PARAMS | BP_MIRROR_GRADS | BP_MIRROR_WORK | BP_MIRROR_OUTPUT;
}

extern "C" bp_status bp_cuda_sync_optimizer(bp_net *net, const bp_opt_view *o)
{
    bp_cuda *c = net->cuda;
    if (c->opt_of != o->id || c->opt_t != o->t || !c->opt_newer)
        return BP_OK;
    size_t bytes = net->n_params * sizeof(float);
    if (o->m)
        CU(cudaMemcpyAsync(o->m, c->opt_m, bytes, cudaMemcpyDeviceToHost, c->stream));
    if (o->v)
        CU(cudaMemcpyAsync(o->v, c->opt_v, bytes, cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream));
    c->opt_newer = 0;
    return BP_OK;
}

/* The data set on the device, copied once in its stored types. Known by
 * the address of its inputs and its shape: a data set freed and another
 * loaded at the same address with the same shape would not be noticed
 * (the CLI never does). */
bp_status cu_attach_dataset(bp_net *net, const bp_data_view *d)
{
    bp_cuda *c = net->cuda;
    int n = d->n, n_in = d->n_in, n_out = d->n_out;
    const void *x = d->x_u8 ? (const void *)d->x_u8 : (const void *)d->x_f32;
    if (c->ds_of == x && c->ds_n == n && c->ds_n_in == n_in && c->ds_n_out == n_out)
        return BP_OK;
    CU(cudaStreamSynchronize(c->stream));
    cu_drop_graphs(c);
    free_dataset(c);
    size_t xs = (size_t)n * n_in;
    /* on the network's stream: a plain cudaMemcpy from pageable memory may
     * return before its DMA ends, and it is ordered on the legacy default
     * stream, which the non-blocking stream's kernels do not wait for */
    if (d->x_u8) {
        CU(cudaMalloc(&c->ds_u8, xs));
        CU(cudaMemcpyAsync(c->ds_u8, d->x_u8, xs, cudaMemcpyHostToDevice, c->stream));
    } else {
        CU(cudaMalloc(&c->ds_f32, xs * sizeof(float)));
        CU(cudaMemcpyAsync(c->ds_f32, d->x_f32, xs * sizeof(float), cudaMemcpyHostToDevice,
                           c->stream));
    }
    if (d->has_labels) {
        CU(cudaMalloc(&c->ds_labels, (size_t)n * sizeof(int32_t)));
        CU(cudaMemcpyAsync(c->ds_labels, d->labels, (size_t)n * sizeof(int32_t),
                           cudaMemcpyHostToDevice, c->stream));
    } else {
        CU(cudaMalloc(&c->ds_t, (size_t)n * n_out * sizeof(float)));
        CU(cudaMemcpyAsync(c->ds_t, d->targets, (size_t)n * n_out * sizeof(float),
                           cudaMemcpyHostToDevice, c->stream));
    }
    CU(cudaStreamSynchronize(c->stream)); /* a failed copy is reported here */
    c->ds_of = x, c->ds_n = n, c->ds_n_in = n_in, c->ds_n_out = n_out;
    return BP_OK;
}

/* Room for n entries of a per-epoch array; a new allocation drops the
 * graphs, which hold the old address. */
bp_status cu_reserve(bp_net *net, void **buf, long *cap, long n, size_t size)
{
    if (n <= *cap)
        return BP_OK;
    CU(cudaStreamSynchronize(net->cuda->stream));
    cu_drop_graphs(net->cuda);
    cudaFree(*buf);
    *buf = NULL;
    *cap = 0;
    CU(cudaMalloc(buf, (size_t)n * size));
    *cap = n;
    return BP_OK;
}
