/*
 * cuda_pass.cu — the passes of one step on the device, enqueued on the
 * network's stream: the cuBLAS products of eq. 51–56 and the launches of
 * the kernels (cuda_kernels.cuh, whose element maths is ops.h's, the
 * host's), then the per-call batch functions (bp_cuda_forward,
 * bp_cuda_backward, bp_cuda_train_step). The only file that launches
 * kernels: they are static to it, and it loads them all up front.
 *
 * Shapes: M examples, in = N(l), out = N(l+1), P parameters, n = N(L).
 */
#include "cuda_ctx.cuh"

#include <math.h>
#include <stdlib.h>

#define THREADS 256     /* threads per block of the element-wise kernels   */
#define MAX_BLOCKS 4096 /* grid-stride loops cover the rest                */

static int blocks(size_t n)
{
    size_t b = (n + THREADS - 1) / THREADS;
    return (int)(b < 1 ? 1 : b > MAX_BLOCKS ? MAX_BLOCKS : b);
}

/* The kernels: the maths; this file launches them. */
#include "cuda_kernels.cuh"

/* Loads every kernel of this file now. With lazy loading (the default since
 * CUDA 12.2) a kernel's module is loaded at its first launch, which must not
 * happen for the first time inside a stream capture; cudaFuncGetAttributes
 * loads the function. */
bp_status cu_preload_kernels(bp_net *net)
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
    CB(bp_cublas.sgemm(net->cuda->blas, CUBLAS_OP_T, CUBLAS_OP_N, ly->out, M, ly->in, &one, W,
                       ly->in, Y, ly->in, &zero, cu_dev(net, net->z[l + 1]), ly->out));
    return BP_OK;
}

/* ∇W(l) = (1/M) Δ(l+1)ᵀ Y(l)   [out,M]·[M,in] -> [out,in]   eq. 52/55,
 * overwrites (beta = 0); column-major: ∇Wᵀ = Yᵀ Δ, gemm(N, T) */
static bp_status gemm_grad_w(bp_net *net, int l, const float *Y, int M)
{
    const bp_layer *ly = &net->layer[l];
    const float scale = 1.0f / (float)M, zero = 0.0f;
    float *gW = net->cuda->grads + (ly->gW - net->grads);
    CB(bp_cublas.sgemm(net->cuda->blas, CUBLAS_OP_N, CUBLAS_OP_T, ly->in, ly->out, M, &scale, Y,
                       ly->in, cu_dev(net, net->delta[l + 1]), ly->out, &zero, gW, ly->in));
    return BP_OK;
}

/* Δ(l) = Δ(l+1) W(l)   [M,out]·[out,in] -> [M,in]   eq. 56 before ⊙ f';
 * overwrites; column-major: Δ(l)ᵀ = Wᵀ Δ(l+1)ᵀ, gemm(N, N) */
static bp_status gemm_delta(bp_net *net, int l, int M)
{
    const bp_layer *ly = &net->layer[l];
    const float one = 1.0f, zero = 0.0f;
    const float *W = net->cuda->params + (ly->W - net->params);
    CB(bp_cublas.sgemm(net->cuda->blas, CUBLAS_OP_N, CUBLAS_OP_N, ly->in, M, ly->out, &one, W,
                       ly->in, cu_dev(net, net->delta[l + 1]), ly->out, &zero,
                       cu_dev(net, net->delta[l]), ly->in));
    return BP_OK;
}

/* The forward pass of M examples in c->x (eq. 51–52, 57/61/69); with
 * targets, the output error Δ(L) and the per-example loss too: fused into
 * the softmax kernel (eq. 68/69) or one pass after an element-wise output. */
bp_status cu_enqueue_forward(bp_net *net, int M, dev_targets tg, int with_loss)
{
    bp_cuda *c = net->cuda;
    int L = net->L;
    for (int l = 0; l < L; l++) {
        const bp_layer *ly = &net->layer[l];
        const float *b = c->params + (ly->b - net->params);
        TRY(gemm_forward(net, l, l ? cu_dev(net, net->y[l]) : c->x, M));
        float *z = cu_dev(net, net->z[l + 1]), *y = cu_dev(net, net->y[l + 1]);
        if (net->acts[l + 1] == BP_ACT_SOFTMAX) {
            softmax_ce<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
                z, y, with_loss ? cu_dev(net, net->delta[L]) : NULL,
                with_loss ? c->row_loss : NULL, b, tg.labels, tg.t, M, ly->out, net->temperature);
        } else {
            bias_act_forward<<<blocks((size_t)M * ly->out), THREADS, 0, c->stream>>>(
                z, y, b, M, ly->out, net->acts[l + 1], (float)net->slope);
        }
        CU(cudaGetLastError());
    }
    if (with_loss && net->acts[L] != BP_ACT_SOFTMAX) {
        output_delta<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
            cu_dev(net, net->delta[L]), c->row_loss, cu_dev(net, net->z[L]),
            cu_dev(net, net->y[L]), tg.t, M, net->sizes[L], net->loss, net->acts[L],
            (float)net->slope);
        CU(cudaGetLastError());
    }
    return BP_OK;
}

/* The backward pass from Δ(L) (eq. 52–56): ∇W, ∇b of every layer into the
 * gradient buffer (overwritten), Δ(l) of every layer above the input. */
bp_status cu_enqueue_backward(bp_net *net, int M)
{
    bp_cuda *c = net->cuda;
    for (int l = net->L - 1; l >= 0; l--) {
        const bp_layer *ly = &net->layer[l];
        TRY(gemm_grad_w(net, l, l ? cu_dev(net, net->y[l]) : c->x, M));
        bias_grad<<<blocks(ly->out), THREADS, 0, c->stream>>>(
            c->grads + (ly->gb - net->grads), cu_dev(net, net->delta[l + 1]), M, ly->out,
            1.0f / (float)M);
        CU(cudaGetLastError());
        if (l == 0)
            break; /* the input layer gets no error term */
        TRY(gemm_delta(net, l, M));
        act_backward_k<<<blocks((size_t)M * ly->in), THREADS, 0, c->stream>>>(
            cu_dev(net, net->delta[l]), cu_dev(net, net->z[l]), cu_dev(net, net->y[l]), M,
            ly->in, net->acts[l], (float)net->slope);
        CU(cudaGetLastError());
    }
    return BP_OK;
}

/* The optimiser's update of every parameter, one kernel (after the norm's
 * two when clipping); step NULL: coef[0]. */
bp_status cu_enqueue_update(bp_net *net, const bp_opt_view *o, const int *step)
{
    bp_cuda *c = net->cuda;
    size_t P = net->n_params;
    if (o->clip_norm > 0) {
        norm_partial<<<NORM_BLOCKS, THREADS, 0, c->stream>>>(c->norm_part, c->grads, P);
        CU(cudaGetLastError());
        norm_final<<<1, NORM_BLOCKS, 0, c->stream>>>(c->norm, c->norm_part);
        CU(cudaGetLastError());
    }
    optimizer_update<<<blocks(P), THREADS, 0, c->stream>>>(c->params, c->opt_m, c->opt_v, c->grads,
                                                           P, o->kind, o->clip_norm, c->coef,
                                                           step, c->norm);
    CU(cudaGetLastError());
    return BP_OK;
}

bp_status cu_enqueue_loss_sum(bp_net *net, double *acc, int *step, int M)
{
    loss_sum<<<1, THREADS, 0, net->cuda->stream>>>(acc, step, net->cuda->row_loss, M);
    CU(cudaGetLastError());
    return BP_OK;
}

/* x [M,n_in] and the targets of batch *step of the epoch's idx, the
 * batches stride apart, gathered from the device's copy of the data set. */
bp_status cu_enqueue_gather(bp_net *net, int M, int stride)
{
    bp_cuda *c = net->cuda;
    int n_in = net->sizes[0];
    gather<<<blocks((size_t)M * n_in), THREADS, 0, c->stream>>>(
        c->x, c->labels, c->t, c->ds_u8, c->ds_f32, c->ds_labels, c->ds_t, c->idx, c->step, stride,
        M, n_in, c->ds_n_out, c->mean, c->std);
    CU(cudaGetLastError());
    return BP_OK;
}

/* The step's products alone, as cu_enqueue_forward/backward issue them. */
bp_status cu_enqueue_gemms(bp_net *net, int M)
{
    for (int l = 0; l < net->L; l++)
        TRY(gemm_forward(net, l, l ? cu_dev(net, net->y[l]) : net->cuda->x, M));
    for (int l = net->L - 1; l >= 0; l--) {
        TRY(gemm_grad_w(net, l, l ? cu_dev(net, net->y[l]) : net->cuda->x, M));
        if (l > 0)
            TRY(gemm_delta(net, l, M));
    }
    return BP_OK;
}

/* ------------------------------------------------------------------------ */
/* Per call: the public batch functions                                      */
/* ------------------------------------------------------------------------ */

extern "C" bp_status bp_cuda_forward(bp_net *net, const float *x, int M)
{
    bp_cuda *c = net->cuda;
    TRY(cu_upload_params(net));
    CU(cudaMemcpyAsync(c->x, x, (size_t)M * net->sizes[0] * sizeof(float),
                       cudaMemcpyHostToDevice, c->stream));
    net->M = M;
    TRY(cu_enqueue_forward(net, M, dev_targets{NULL, NULL}, 0));
    net->cuda->device_newer |= BP_MIRROR_WORK | BP_MIRROR_OUTPUT;
    return BP_OK;
}

/* Host targets to the device, checked as losses.c checks them. */
static bp_status upload_targets(bp_net *net, bp_targets tg, int M, dev_targets *out)
{
    bp_cuda *c = net->cuda;
    int n = net->sizes[net->L];
    if (tg.labels) {
        if (net->loss != BP_LOSS_SOFTMAX_CE)
            return cu_fail(net, BP_ERR_ARG, "class labels need the softmax_ce loss");
        for (int m = 0; m < M; m++)
            if (tg.labels[m] < 0 || tg.labels[m] >= n)
                return cu_fail(net, BP_ERR_ARG, "example %d: label %d is not in 0..%d", m + 1,
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
    TRY(cu_enqueue_loss_sum(net, c->acc + 1, NULL, M));
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
    TRY(cu_upload_params(net)); /* as on the host: δ uses W as it is now */
    TRY(upload_targets(net, tg, M, &dt));
    if (net->acts[L] == BP_ACT_SOFTMAX) {
        /* z(L) already has its bias: softmax again (the same y), with the loss */
        softmax_ce<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
            cu_dev(net, net->z[L]), cu_dev(net, net->y[L]), cu_dev(net, net->delta[L]),
            c->row_loss, NULL, dt.labels, dt.t, M, net->sizes[L], net->temperature);
    } else {
        output_delta<<<M < 65535 ? M : 65535, 32, 0, c->stream>>>(
            cu_dev(net, net->delta[L]), c->row_loss, cu_dev(net, net->z[L]),
            cu_dev(net, net->y[L]), dt.t, M, net->sizes[L], net->loss, net->acts[L],
            (float)net->slope);
    }
    CU(cudaGetLastError());
    TRY(cu_enqueue_backward(net, M));
    net->cuda->device_newer |= BP_MIRROR_GRADS | BP_MIRROR_WORK | BP_MIRROR_OUTPUT;
    if (loss)
        TRY(read_loss(net, M, loss));
    return BP_OK;
}

extern "C" bp_status bp_cuda_train_step(bp_net *net, const bp_opt_view *o, const float *x,
                                        bp_targets tg, int M, double *loss, long *taken)
{
    bp_cuda *c = net->cuda;
    *taken = 0;
    if (!x || M < 1 || M > net->max_batch || (!tg.t == !tg.labels))
        return BP_ERR_ARG;
    TRY(cu_upload_params(net));
    TRY(cu_attach_optimizer(net, o));
    dev_targets dt;
    TRY(upload_targets(net, tg, M, &dt));
    CU(cudaMemcpyAsync(c->x, x, (size_t)M * net->sizes[0] * sizeof(float),
                       cudaMemcpyHostToDevice, c->stream));
    CU(cudaMemcpyAsync(c->coef, o->q, sizeof *o->q, cudaMemcpyHostToDevice, c->stream));
    net->M = M;
    TRY(cu_enqueue_forward(net, M, dt, 1));
    TRY(cu_enqueue_backward(net, M));
    TRY(cu_enqueue_update(net, o, NULL));
    cu_stepped(net, o, 1);
    *taken = 1;
    /* o->q may go: a copy from pageable memory has left it when the call returns */
    if (loss)
        TRY(read_loss(net, M, loss));
    return BP_OK;
}
