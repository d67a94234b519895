/*
 * cuda_epoch.cu — a training epoch on the device: the data set, the epoch's
 * example order and the coefficients of its steps go to the device once,
 * and each step is one replay of a captured CUDA graph (gather, forward,
 * fused output error, backward, update, loss sum), one graph per batch
 * size. The kernels read the step's batch and coefficients at the device
 * step counter, which the last kernel moves on, so one graph serves every
 * step of a size; the epoch waits on the device once, for its loss sum.
 */
#include "cuda_ctx.cuh"

#include <math.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* The epoch: one graph per batch size, replayed                             */
/* ------------------------------------------------------------------------ */

/* The step's side-effect-free part: batch *step of idx gathered on the
 * device, forward, fused output error, backward. It writes only scratch
 * buffers (x, targets, work, grads, row losses), never the parameters, the
 * optimiser state, the loss sum or the step counter. */
static bp_status enqueue_passes(bp_net *net, int M, int stride)
{
    bp_cuda *c = net->cuda;
    TRY(cu_enqueue_gather(net, M, stride));
    dev_targets dt = c->ds_labels ? dev_targets{c->labels, NULL} : dev_targets{NULL, c->t};
    TRY(cu_enqueue_forward(net, M, dt, 1));
    return cu_enqueue_backward(net, M);
}

/* One training step of an epoch: the passes, the update with coef[*step],
 * the loss added to acc[0], the counter moved on. */
static bp_status enqueue_epoch_step(bp_net *net, const bp_opt_view *o, int M, int stride)
{
    bp_cuda *c = net->cuda;
    TRY(enqueue_passes(net, M, stride));
    TRY(cu_enqueue_update(net, o, c->step));
    return cu_enqueue_loss_sum(net, c->acc, c->step, M);
}

bp_status cu_graph_for(bp_net *net, const bp_opt_view *o, int M, int stride,
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
    /* The passes once, eagerly, before the capture: harmless (scratch
     * only), on the batch the next replay will take (the counter is where
     * the stream will have it), and cuBLAS chooses, loads and sets up the
     * kernels of these shapes here, outside the capture, where nothing it
     * does on a first call can break the capture. */
    TRY(enqueue_passes(net, M, stride));
    TRY(cu_capture(net, [&] { return enqueue_epoch_step(net, o, M, stride); }, &g->exec));
    g->M = M, g->stride = stride;
    *exec = g->exec;
    return BP_OK;
}

/* Everything an epoch's replays read, in place: parameters, optimiser
 * state, data set, idx [n], the coefficients of its steps, and the
 * network's standardisation. */
bp_status cu_prepare_epoch(bp_net *net, const bp_opt_view *o, const bp_data_view *d,
                           const int32_t *idx, int n, int batch)
{
    bp_cuda *c = net->cuda;
    const float *mean = net->mean, *std = net->std;
    long steps = (n + batch - 1) / batch;
    int n_in = net->sizes[0];
    TRY(cu_upload_params(net));
    if (o->steps < steps)
        return cu_fail(net, BP_ERR_ARG, "the coefficients of %ld steps for an epoch of %ld",
                       o->steps, steps);
    TRY(cu_attach_optimizer(net, o));
    TRY(cu_attach_dataset(net, d));
    TRY(cu_reserve(net, (void **)&c->idx, &c->idx_cap, n, sizeof(int32_t)));
    TRY(cu_reserve(net, (void **)&c->coef, &c->coef_cap, steps, sizeof(optim_coef)));
    /* per call, never per batch: the host side of the copies */
    float *ms = (float *)malloc(2 * (size_t)n_in * sizeof(float));
    if (!ms)
        return cu_fail(net, BP_ERR_NOMEM, "out of memory");
    for (int j = 0; j < n_in; j++) {
        ms[j] = mean ? mean[j] : 0.0f; /* (x − 0)/1 = x exactly: no standardisation */
        ms[n_in + j] = mean ? std[j] : 1.0f;
    }
    cudaError_t e = cudaMemcpyAsync(c->idx, idx, (size_t)n * sizeof(int32_t),
                                    cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->coef, o->q, (size_t)steps * sizeof *o->q,
                            cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->mean, ms, (size_t)n_in * sizeof(float), cudaMemcpyHostToDevice,
                            c->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(c->std, ms + n_in, (size_t)n_in * sizeof(float),
                            cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess) /* o->q and ms must outlive the copies */
        e = cudaStreamSynchronize(c->stream);
    free(ms);
    if (e != cudaSuccess)
        return cu_cuda_status(net, e, "copying the epoch's index and coefficients");
    CU(cudaMemsetAsync(c->step, 0, sizeof(int), c->stream));
    CU(cudaMemsetAsync(c->acc, 0, sizeof(double), c->stream));
    return BP_OK;
}

/* Replays the step graph over n examples in batches of `batch`; *launched:
 * the steps enqueued, also when it fails midway (the last batch's capture
 * can fail after the full batches went): they change the device state. */
bp_status cu_replay_epoch(bp_net *net, const bp_opt_view *o, int n, int batch,
                          long *launched)
{
    bp_cuda *c = net->cuda;
    int full = n / batch, rest = n % batch;
    cudaGraphExec_t exec;
    *launched = 0;
    if (full) {
        TRY(cu_graph_for(net, o, batch, batch, &exec));
        net->M = batch;
        for (int i = 0; i < full; i++) {
            CU(cudaGraphLaunch(exec, c->stream));
            ++*launched;
        }
    }
    if (rest) {
        TRY(cu_graph_for(net, o, rest, batch, &exec));
        net->M = rest;
        CU(cudaGraphLaunch(exec, c->stream));
        ++*launched;
    }
    return BP_OK;
}

extern "C" bp_status bp_cuda_train_epoch(bp_net *net, const bp_opt_view *o,
                                         const bp_data_view *d, const int32_t *idx, int n,
                                         int batch, double *loss_sum, long *taken)
{
    bp_cuda *c = net->cuda;
    long launched = 0;
    *taken = 0;
    TRY(cu_prepare_epoch(net, o, d, idx, n, batch));
    bp_status s = cu_replay_epoch(net, o, n, batch, &launched);
    if (launched)
        cu_stepped(net, o, launched);
    *taken = launched;
    TRY(s);
    double sum;
    CU(cudaMemcpyAsync(&sum, c->acc, sizeof(double), cudaMemcpyDeviceToHost, c->stream));
    CU(cudaStreamSynchronize(c->stream)); /* the one wait of the epoch */
    *loss_sum = sum;
    return isfinite(sum) ? BP_OK : BP_ERR_NONFINITE;
}
