/*
 * ops.h — the element maths of a training step, written once for the host
 * and the device: each activation f and its δ ⊙ f′, each optimiser's update
 * of one parameter, and the gather's transform of one stored input value.
 * Every function is static inline and, under nvcc, __host__ __device__
 * (BP_HD): activations.c, optim.c and dataset.c call them inside their loops,
 * cuda_kernels.cuh inside its kernels, so both sides compute the same float
 * operations in the same order.
 *
 * The host picks the function outside its loops (a switch per row or per
 * buffer, never per element), so each loop is one body that gcc vectorises
 * (all but sigmoid's, which calls libm, and leaky_relu's, whose
 * product under a condition gcc will not speculate); the kernels switch per
 * element on a value the whole grid shares (op_act_f, op_act_delta). The
 * host build never contracts a * b + c into an FMA (ISO C mode:
 * -ffp-contract=off), so the host's numbers do not depend on the CPU.
 *
 * Deliberately not here: the double scalar pair bp_act_f, bp_act_df of
 * activations.c, the oracle the tests hold these against (it must not share
 * their arithmetic), and softmax, which is a row operation (losses.c).
 */
#ifndef BP_OPS_H
#define BP_OPS_H

#include "backprop.h"

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define BP_HD __host__ __device__
#else
#define BP_HD
#endif

/* ------------------------------------------------------------------------ */
/* Activations: f(z) and δ ⊙ f′(z)                                          */
/* ------------------------------------------------------------------------ */

/* 1/(1+e^-z) (eq. 3) written so that e^x never overflows: for z < 0 the
 * equivalent e^z/(1+e^z). */
BP_HD static inline float op_sigmoid(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}
BP_HD static inline float op_relu(float z) { return z > 0 ? z : 0.0f; } /* eq. 4 */
BP_HD static inline float op_leaky_relu(float z, float slope) /* eq. 29 */
{
    return z > 0 ? z : slope * z;
}

/* e^y for 0 <= y <= 20 in basic operations: y = k ln 2 + r with k an
 * integer (rounded by adding and taking away 1.5·2²³) and |r| <= ln 2 / 2,
 * ln 2 in two parts so that k ln2_hi is exact; e^r by its Taylor series to
 * r⁷ (the next term is below 6e-9); 2^k written into the exponent bits. */
BP_HD static inline float op_exp_pos(float y)
{
    const float log2e = 1.44269502f, ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-06f;
    const float round = 12582912.0f;
    float k = (y * log2e + round) - round;
    float r = (y - k * ln2_hi) - k * ln2_lo;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f +
              r * (0.00833333377f + r * (0.00138888892f + r * 0.000198412701f))))));
    /* a NaN y gives a NaN k, which no conversion to int may see; its NaN
     * goes on in r */
    float k_int = k > 0.0f ? k : 0.0f;
    union {
        uint32_t i;
        float f;
    } two_k = {.i = (uint32_t)((int32_t)k_int + 127) << 23};
    return p * two_k.f;
}

/* tanh z in basic operations only, so that a loop of it vectorises where
 * libm's tanhf is a call per element (29% of a 125-32-1 tanh step at batch
 * 16 was tanhf and expm1f), and gives the same bits in every clone. Below
 * |z| = 0.625 an odd polynomial z + z³ P(z²), P fitted by weighted least
 * squares (relative error 3e-9 with float coefficients); above it
 * 1 − 2/(e^{2|z|} + 1), whose cancellation is small there. |z| > 10 is
 * taken as 10 (tanh is 1 in float from 9.01), NaN passes through. Every
 * float in [0, 12] against double tanh: at most 1.34 ulp (glibc's tanhf:
 * 2.19), ±0, ±inf and NaN as tanhf. */
BP_HD static inline float op_tanh(float z)
{
    float a = fabsf(z);
    a = a > 10.0f ? 10.0f : a;
    float s = a * a;
    float small = a + a * s * (-0.333333313f + s * (0.133332014f + s * (-0.0539462529f +
                  s * (0.0216982011f + s * (-0.00817176886f + s * 0.00213820743f)))));
    float large = 1.0f - 2.0f / (op_exp_pos(a + a) + 1.0f);
    return copysignf(a < 0.625f ? small : large, z);
}

/* d ⊙ f′ for an error d, with f′ from y = f(z) where that is cheaper
 * (eq. 27, tanh's 1 − y²) and from z otherwise (eq. 28–29). The rectifiers
 * select d rather than multiply by 0 or 1, so an infinite d below the kink
 * gives 0, not NaN. */
BP_HD static inline float op_sigmoid_delta(float d, float y) { return d * (y * (1.0f - y)); }
BP_HD static inline float op_relu_delta(float d, float z) { return z > 0 ? d : 0.0f; }
BP_HD static inline float op_leaky_relu_delta(float d, float z, float slope)
{
    return z > 0 ? d : slope * d;
}
BP_HD static inline float op_tanh_delta(float d, float y) { return d * (1.0f - y * y); }

/* The same chosen per element, for kernels, where the kind is one value for
 * the whole grid; a (BP_ACT_*) outside the element-wise kinds is identity. */
BP_HD static inline float op_act_f(int a, float z, float slope)
{
    switch (a) {
    case BP_ACT_SIGMOID: return op_sigmoid(z);
    case BP_ACT_RELU: return op_relu(z);
    case BP_ACT_LEAKY_RELU: return op_leaky_relu(z, slope);
    case BP_ACT_TANH: return op_tanh(z);
    default: return z;
    }
}

BP_HD static inline float op_act_delta(int a, float d, float z, float y, float slope)
{
    switch (a) {
    case BP_ACT_SIGMOID: return op_sigmoid_delta(d, y);
    case BP_ACT_RELU: return op_relu_delta(d, z);
    case BP_ACT_LEAKY_RELU: return op_leaky_relu_delta(d, z, slope);
    case BP_ACT_TANH: return op_tanh_delta(d, y);
    default: return d;
    }
}

/* ------------------------------------------------------------------------ */
/* Optimiser rules: one parameter θ = *p with its gradient g                 */
/* ------------------------------------------------------------------------ */

/* Everything a rule reads besides the element, for step t (from 0): built
 * once per step, in double and then rounded, by optim.c's optim_step_coef,
 * for the host loops and the device kernel alike. */
typedef struct {
    float lr;       /* α_t: schedule and warm-up applied                    */
    float a, r;     /* Adam: α_t / (1 − β1^(t+1)), 1 / √(1 − β2^(t+1))      */
    float decay;    /* AdamW: 1 − α_t λ (decoupled decay); otherwise 1       */
    float wd;       /* λ of the L2 term in ĝ (0 for AdamW)                   */
    float mu;       /* momentum μ                                            */
    float b1, b2;   /* Adam's β1, β2                                         */
    float c1, c2;   /* 1 − β1, 1 − β2                                        */
    float eps;      /* Adam's ε                                              */
} optim_coef;

/* In every rule the gradient used is ĝ = c g + λ θ: c the step's factor
 * (gradient scale times clipping; 1 for neither), λ the L2 weight decay
 * added to the gradient as PyTorch does. */

/* θ ← θ − α ĝ   eq. 49–50 */
BP_HD static inline void op_sgd(float *p, float g, float c, optim_coef q)
{
    *p -= q.lr * (c * g + q.wd * *p);
}

/* v ← μ v + ĝ;  θ ← θ − α v   (heavy ball, PyTorch's SGD momentum, no dampening) */
BP_HD static inline void op_momentum(float *p, float *v, float g, float c, optim_coef q)
{
    float gk = c * g + q.wd * *p;
    *v = q.mu * *v + gk;
    *p -= q.lr * *v;
}

/* v ← μ v + ĝ;  θ ← θ − α (ĝ + μ v)   (Nesterov as Sutskever et al. 2013
 * rewrite it, PyTorch's nesterov=True) */
BP_HD static inline void op_nesterov(float *p, float *v, float g, float c, optim_coef q)
{
    float gk = c * g + q.wd * *p;
    *v = q.mu * *v + gk;
    *p -= q.lr * (gk + q.mu * *v);
}

/* Adam (Kingma & Ba 2015, alg. 1), step t from 1:
 *   m ← β1 m + (1 − β1) ĝ;  v ← β2 v + (1 − β2) ĝ²
 *   θ ← θ − α m̂ / (√v̂ + ε),  m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 * with the corrections folded in as PyTorch does: a = α / (1 − β1^t),
 * r = 1 / √(1 − β2^t), θ ← θ − a m / (r √v + ε). AdamW (Loshchilov & Hutter
 * 2019) first shrinks θ ← (1 − α λ) θ = decay θ; Adam has decay = 1. */
BP_HD static inline void op_adam(float *p, float *m, float *v, float g, float c, optim_coef q)
{
    float th = q.decay * *p;
    float gk = c * g + q.wd * th;
    *m = q.b1 * *m + q.c1 * gk;
    *v = q.b2 * *v + q.c2 * gk * gk;
    *p = th - q.a * *m / (q.r * sqrtf(*v) + q.eps);
}

/* ------------------------------------------------------------------------ */
/* The gather: a stored value as the network's input                         */
/* ------------------------------------------------------------------------ */

/* A stored byte (an IDX pixel) as the input byte/255. Division, not a
 * multiply by a rounded 1/255, so a pixel is the float nearest byte/255 —
 * bit for bit what torchvision's ToTensor gives. Float features are used as
 * stored. */
BP_HD static inline float op_byte_input(uint8_t x) { return (float)x / 255.0f; }

/* (x − mean)/std, the standardisation of one feature; mean 0 and std 1
 * give x exactly. */
BP_HD static inline float op_standardize(float x, float mean, float std)
{
    return (x - mean) / std;
}

#endif
