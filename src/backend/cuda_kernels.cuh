/*
 * cuda_kernels.cuh — the CUDA backend's kernels, the maths of one step on
 * the device: each is the twin of a host function (named in its comment)
 * and cites the note's equation. Included once, by cuda.cu, which launches
 * them (one translation unit, so they stay static); it defines THREADS and
 * NORM_BLOCKS before the include.
 */
#ifndef BP_CUDA_KERNELS_CUH
#define BP_CUDA_KERNELS_CUH

/* ------------------------------------------------------------------------ */
/* Kernels: one per concern, each the twin of a host function                */
/* ------------------------------------------------------------------------ */

#define GRID_STRIDE(k, n)                                                           \
    for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < (n);          \
         k += (size_t)gridDim.x * blockDim.x)

__device__ static float sigmoid_f(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* f(z): eq. 2–4, 29, tanh (activations.c's act_forward) */
__device__ static float act_f(int a, float z, float slope)
{
    switch (a) {
    case BP_ACT_SIGMOID: return sigmoid_f(z);
    case BP_ACT_RELU: return z > 0 ? z : 0.0f;
    case BP_ACT_LEAKY_RELU: return z > 0 ? z : slope * z;
    case BP_ACT_TANH: return tanhf(z);
    default: return z; /* identity */
    }
}

/* δ ⊙ f'(z): eq. 27–29 and tanh's 1 − y² (activations.c's act_backward) */
__device__ static float act_times_df(int a, float d, float z, float y, float slope)
{
    switch (a) {
    case BP_ACT_SIGMOID: return d * (y * (1.0f - y));
    case BP_ACT_RELU: return z > 0 ? d : 0.0f;
    case BP_ACT_LEAKY_RELU: return z > 0 ? d : slope * d;
    case BP_ACT_TANH: return d * (1.0f - y * y);
    default: return d; /* identity */
    }
}

/* x [M,n_in] = (stored x of example idx[s·stride + m] − mean)/std, and its
 * label or targets t [M,n_out]: data.c's bp_dataset_gather, with
 * byte/255 as there. s is the device step counter (0 when step is NULL). */
__global__ static void gather(float *x, int32_t *labels, float *t, const uint8_t *x_u8,
                              const float *x_f32, const int32_t *ds_labels, const float *ds_t,
                              const int32_t *idx, const int *step, int stride, int M, int n_in,
                              int n_out, const float *mean, const float *std)
{
    const int32_t *rows = idx + (size_t)(step ? *step : 0) * stride;
    GRID_STRIDE(k, (size_t)M * n_in) {
        size_t m = k / n_in, j = k % n_in, at = (size_t)rows[m] * n_in + j;
        float v = x_u8 ? (float)x_u8[at] / 255.0f : x_f32[at];
        x[k] = (v - mean[j]) / std[j];
    }
    if (ds_labels)
        GRID_STRIDE(m, (size_t)M) labels[m] = ds_labels[rows[m]];
    else
        GRID_STRIDE(k, (size_t)M * n_out) t[k] = ds_t[(size_t)rows[k / n_out] * n_out + k % n_out];
}

/* z [M,n] += b [n]; y = f(z)   eq. 51 (bias) + eq. 2, one pass (y may alias z) */
__global__ static void bias_act_forward(float *z, float *y, const float *b, int M, int n, int act,
                                        float slope)
{
    GRID_STRIDE(k, (size_t)M * n) {
        float v = z[k] + b[k % n];
        z[k] = v;
        y[k] = act_f(act, v, slope);
    }
}

/* delta [M,n] *= f'(z)   the ⊙ f'(Z(l)) of eq. 56, the δ product's output pass (the host
 * twin is activations.c's act_backward, hence the _k) */
__global__ static void act_backward_k(float *delta, const float *z, const float *y, int M, int n,
                                      int act, float slope)
{
    GRID_STRIDE(k, (size_t)M * n) delta[k] = act_times_df(act, delta[k], z[k], y[k], slope);
}

__device__ static float warp_max(float v)
{
    for (int o = 16; o > 0; o /= 2)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

template <typename T> __device__ static T warp_sum(T v)
{
    for (int o = 16; o > 0; o /= 2)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* One warp per example row of [M,n]: (z += b if b); y = softmax(z/T) via
 * max subtraction (eq. 57, 61, 69); then, if asked, the cross-entropy of
 * eq. 62 in log-sum-exp form (double, as losses.c) into row_loss [M] and
 * the fused error δ = (y Σt − t)/T of eq. 68/69 into delta [M,n], from
 * labels [M] (a one-hot t) or t [M,n]. Forward only: delta = row_loss = NULL. */
__global__ static void softmax_ce(float *z, float *y, float *delta, double *row_loss,
                                  const float *b, const int32_t *labels, const float *t, int M,
                                  int n, double T)
{
    int lane = threadIdx.x;
    float inv_T = 1.0f / (float)T;
    for (int m = blockIdx.x; m < M; m += gridDim.x) {
        float *zr = z + (size_t)m * n, *yr = y + (size_t)m * n;
        float zmax = -INFINITY;
        for (int j = lane; j < n; j += 32) {
            if (b)
                zr[j] += b[j];
            zmax = fmaxf(zmax, zr[j]);
        }
        __syncwarp(); /* z += b of every lane is seen by all: lane 0 reads z[c] below */
        zmax = warp_max(zmax);
        float sum = 0.0f;
        for (int j = lane; j < n; j += 32) {
            yr[j] = expf((zr[j] - zmax) * inv_T);
            sum += yr[j];
        }
        float inv_sum = 1.0f / warp_sum(sum);
        for (int j = lane; j < n; j += 32)
            yr[j] *= inv_sum;
        if (!delta && !row_loss)
            continue;
        double s = 0.0;
        for (int j = lane; j < n; j += 32)
            s += exp(((double)zr[j] - zmax) / T);
        double lse = (double)zmax / T + log(warp_sum(s));
        if (labels) {
            int c = labels[m];
            if (row_loss && lane == 0)
                row_loss[m] = lse - zr[c] / T;
            if (delta)
                for (int j = lane; j < n; j += 32)
                    delta[(size_t)m * n + j] = (float)((yr[j] - (j == c ? 1.0 : 0.0)) / T);
        } else {
            const float *tr = t + (size_t)m * n;
            double sum_t = 0.0, tz = 0.0;
            for (int j = lane; j < n; j += 32) {
                sum_t += tr[j];
                tz += tr[j] * (zr[j] / T);
            }
            sum_t = warp_sum(sum_t);
            tz = warp_sum(tz);
            if (row_loss && lane == 0)
                row_loss[m] = sum_t * lse - tz;
            if (delta)
                for (int j = lane; j < n; j += 32)
                    delta[(size_t)m * n + j] = (float)((yr[j] * sum_t - tr[j]) / T);
        }
    }
}

/* One warp per row of [M,n], element-wise outputs: the error and the loss
 * of mse, δ = −(t − y) ⊙ f'(z) (eq. 13/32), loss ½ Σ (t − y)² (eq. 6); or
 * of sigmoid_bce, δ = y − t, loss in softplus form (losses.c). */
__global__ static void output_delta(float *delta, double *row_loss, const float *z,
                                    const float *y, const float *t, int M, int n, int loss,
                                    int act, float slope)
{
    int lane = threadIdx.x;
    for (int m = blockIdx.x; m < M; m += gridDim.x) {
        double row = 0.0;
        for (int j = lane; j < n; j += 32) {
            size_t k = (size_t)m * n + j;
            if (loss == BP_LOSS_MSE) {
                double e = (double)t[k] - y[k];
                row += 0.5 * e * e;
                delta[k] = act_times_df(act, y[k] - t[k], z[k], y[k], slope);
            } else {
                double zk = z[k];
                row += (zk > 0 ? zk : 0.0) - t[k] * zk + log1p(exp(-fabs(zk)));
                delta[k] = y[k] - t[k];
            }
        }
        row = warp_sum(row);
        if (lane == 0)
            row_loss[m] = row;
    }
}

/* ∇b [n] = scale Σ_m δ [M,n]   eq. 53 with eq. 52's 1/M; overwrites; one
 * thread per column, rows in order: deterministic, as batch.c sums */
__global__ static void bias_grad(float *gb, const float *delta, int M, int n, float scale)
{
    GRID_STRIDE(j, (size_t)n) {
        float s = 0.0f;
        for (int m = 0; m < M; m++)
            s += scale * delta[(size_t)m * n + j];
        gb[j] = s;
    }
}

/* Block sums in shared memory, in a fixed order. */
__device__ static double block_sum(double v)
{
    __shared__ double part[32];
    v = warp_sum(v);
    if (threadIdx.x % 32 == 0)
        part[threadIdx.x / 32] = v;
    __syncthreads();
    v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : 0.0;
    if (threadIdx.x < 32)
        v = warp_sum(v);
    __syncthreads();
    return v; /* in thread 0 */
}

/* part [NORM_BLOCKS] = block sums of g² over g [P]   (the clipping norm, first pass) */
__global__ static void norm_partial(double *part, const float *g, size_t P)
{
    double s = 0.0;
    GRID_STRIDE(k, P) s += (double)g[k] * g[k];
    s = block_sum(s);
    if (threadIdx.x == 0)
        part[blockIdx.x] = s;
}

/* norm = √Σ part   (second pass, one block of NORM_BLOCKS threads) */
__global__ static void norm_final(double *norm, const double *part)
{
    double s = block_sum(part[threadIdx.x]);
    if (threadIdx.x == 0)
        *norm = sqrt(s);
}

/* What an optimiser keeps from step to step (optim.c's configuration). */
typedef struct {
    int kind;
    float wd, mu;              /* λ (L2; 0 for AdamW), μ                 */
    float b1, b2, c1, c2, eps; /* Adam's β1, β2, 1 − β1, 1 − β2, ε         */
    double clip;               /* clip_norm, 0 = off                      */
} opt_const;

/* Every parameter of p [P] in one pass, with velocity/moments m, v [P]:
 * eq. 49–50 and optim.c's momentum, Nesterov, Adam and AdamW rules, on
 * ĝ = c g + λ θ. The step's rate comes from coef[s], s the device step
 * counter (0 when step is NULL); c from the norm when clipping. */
__global__ static void optimizer_update(float *p, float *m, float *v, const float *g, size_t P,
                                        opt_const k, const optim_coef *coef, const int *step,
                                        const double *norm)
{
    optim_coef q = coef[step ? *step : 0];
    float c = 1.0f;
    if (k.clip > 0 && isfinite(*norm) && *norm > k.clip)
        c = (float)(k.clip / *norm);
    GRID_STRIDE(i, P) {
        switch (k.kind) {
        case BP_OPT_SGD: p[i] -= q.lr * (c * g[i] + k.wd * p[i]); break;
        case BP_OPT_MOMENTUM: {
            float gi = c * g[i] + k.wd * p[i];
            m[i] = k.mu * m[i] + gi;
            p[i] -= q.lr * m[i];
            break;
        }
        case BP_OPT_NESTEROV: {
            float gi = c * g[i] + k.wd * p[i];
            m[i] = k.mu * m[i] + gi;
            p[i] -= q.lr * (gi + k.mu * m[i]);
            break;
        }
        default: { /* Adam, AdamW (decay = 1 − α λ, wd = 0) */
            float th = q.decay * p[i];
            float gi = c * g[i] + k.wd * th;
            m[i] = k.b1 * m[i] + k.c1 * gi;
            v[i] = k.b2 * v[i] + k.c2 * gi * gi;
            p[i] = th - q.a * m[i] / (q.r * sqrtf(v[i]) + k.eps);
        }
        }
    }
}

/* *acc += Σ row_loss [M] (one block, fixed order); then the step counter
 * moves on: the end of a training step */
__global__ static void loss_sum(double *acc, int *step, const double *row_loss, int M)
{
    double s = 0.0;
    for (int m = threadIdx.x; m < M; m += blockDim.x)
        s += row_loss[m];
    s = block_sum(s);
    if (threadIdx.x == 0) {
        *acc += s;
        if (step)
            ++*step;
    }
}

#endif
