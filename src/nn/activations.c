/*
 * activations.c — the element-wise activations of eq. 2–4, 27–29 and tanh:
 * names, the double-precision scalar pair (f, f') that the reference form
 * uses, and the float passes over a batch that the engine uses (their
 * element functions are ops.h's, which the CUDA kernels share).
 *
 * Softmax is not element-wise: its forward pass lives in losses.c beside the
 * cross-entropy it is fused with (eq. 68).
 */
#include "nn/nn.h"

#include <math.h>
#include <string.h>

static const char *const act_names[BP_ACT_COUNT] = {
    [BP_ACT_IDENTITY] = "identity", [BP_ACT_SIGMOID] = "sigmoid",
    [BP_ACT_RELU] = "relu",         [BP_ACT_LEAKY_RELU] = "leaky_relu",
    [BP_ACT_TANH] = "tanh",         [BP_ACT_SOFTMAX] = "softmax",
};

const char *bp_act_name(bp_act a)
{
    return (unsigned)a < BP_ACT_COUNT ? act_names[a] : "unknown";
}

bp_status bp_act_parse(const char *name, bp_act *out)
{
    int k;
    bp_status s = bp_name_parse(__func__, act_names, BP_ACT_COUNT, name, out ? &k : NULL);
    if (s == BP_OK)
        *out = (bp_act)k;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Scalar form, double                                                       */
/* ------------------------------------------------------------------------ */

/* 1/(1+e^-z) (eq. 3) written so that e^x never overflows: for z < 0 the
 * equivalent e^z/(1+e^z). */
static double sigmoid_d(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

double bp_act_f(bp_act a, double z, double slope)
{
    switch (a) {
    case BP_ACT_IDENTITY: return z;
    case BP_ACT_SIGMOID: return sigmoid_d(z);               /* eq. 3  */
    case BP_ACT_RELU: return z > 0 ? z : 0.0;               /* eq. 4  */
    case BP_ACT_LEAKY_RELU: return z > 0 ? z : slope * z;   /* eq. 29 */
    case BP_ACT_TANH: return tanh(z);
    case BP_ACT_SOFTMAX:
    case BP_ACT_COUNT: break;
    }
    return NAN;
}

double bp_act_df(bp_act a, double z, double y, double slope)
{
    switch (a) {
    case BP_ACT_IDENTITY: return 1.0;
    case BP_ACT_SIGMOID: return y * (1.0 - y);              /* eq. 27 */
    case BP_ACT_RELU: return z > 0 ? 1.0 : 0.0;             /* eq. 28 */
    case BP_ACT_LEAKY_RELU: return z > 0 ? 1.0 : slope;     /* eq. 29 */
    case BP_ACT_TANH: return 1.0 - y * y;
    case BP_ACT_SOFTMAX:
    case BP_ACT_COUNT: break;
    }
    return NAN;
}

/* ------------------------------------------------------------------------ */
/* Batch passes, float                                                       */
/* ------------------------------------------------------------------------ */

/* The element functions are ops.h's, shared with the CUDA kernels; the
 * switch stays outside each row's loop so that the loop vectorises. */

/* z [M,n] += b [n]; y = f(z)   eq. 51 (bias) fused with eq. 2. Rows are
 * ld apart, so a thread can take a band of columns of a wider Z. Cloned
 * for wide lanes: op_tanh is some 30 operations an element, and on the
 * baseline's 4 lanes it was 17% of a 125-32-2 tanh step at batch 16;
 * exact clones, so every machine gives the default clone's bits. */
CLONES_EXACT static void forward_rows(bp_act a, float *z, float *y, const float *b, int M, int n,
                                      int ld, float slope)
{
    for (int m = 0; m < M; m++) {
        float *zr = z + (size_t)m * ld, *yr = y + (size_t)m * ld;
        switch (a) {
        case BP_ACT_IDENTITY: /* y aliases z */
            for (int j = 0; j < n; j++)
                zr[j] += b[j];
            break;
        case BP_ACT_SIGMOID:
            for (int j = 0; j < n; j++) {
                zr[j] += b[j];
                yr[j] = op_sigmoid(zr[j]);
            }
            break;
        case BP_ACT_RELU:
            for (int j = 0; j < n; j++) {
                zr[j] += b[j];
                yr[j] = op_relu(zr[j]);
            }
            break;
        case BP_ACT_LEAKY_RELU:
            for (int j = 0; j < n; j++) {
                zr[j] += b[j];
                yr[j] = op_leaky_relu(zr[j], slope);
            }
            break;
        case BP_ACT_TANH:
            for (int j = 0; j < n; j++) {
                zr[j] += b[j];
                yr[j] = op_tanh(zr[j]);
            }
            break;
        case BP_ACT_SOFTMAX: /* handled by softmax_forward */
        case BP_ACT_COUNT: break;
        }
    }
}

/* z += b; y = f(z)   [M,n]   eq. 51 + eq. 2: forward_rows, called, since
 * an extern function's clones would export their resolver */
void act_forward(bp_act a, float *z, float *y, const float *b, int M, int n, int ld, float slope)
{
    forward_rows(a, z, y, b, M, n, ld, slope);
}

/* delta [M,n] *= f'(z)   eq. 27–29 applied as in eq. 45/56, in place; rows
 * ld apart; cloned as act_forward */
CLONES_EXACT static void backward_rows(bp_act a, float *delta, const float *z, const float *y,
                                       int M, int n, int ld, float slope)
{
    for (int m = 0; m < M; m++) {
        float *d = delta + (size_t)m * ld;
        const float *zr = z + (size_t)m * ld, *yr = y + (size_t)m * ld;
        switch (a) {
        case BP_ACT_IDENTITY: return;
        case BP_ACT_SIGMOID:
            for (int j = 0; j < n; j++)
                d[j] = op_sigmoid_delta(d[j], yr[j]);
            break;
        case BP_ACT_RELU:
            for (int j = 0; j < n; j++)
                d[j] = op_relu_delta(d[j], zr[j]);
            break;
        case BP_ACT_LEAKY_RELU:
            for (int j = 0; j < n; j++)
                d[j] = op_leaky_relu_delta(d[j], zr[j], slope);
            break;
        case BP_ACT_TANH:
            for (int j = 0; j < n; j++)
                d[j] = op_tanh_delta(d[j], yr[j]);
            break;
        case BP_ACT_SOFTMAX: /* never a hidden layer: the fused δ of eq. 68 covers it */
        case BP_ACT_COUNT: return;
        }
    }
}

/* delta *= f'(z)   [M,n]   eq. 27–29: backward_rows, as act_forward */
void act_backward(bp_act a, float *delta, const float *z, const float *y, int M, int n, int ld,
                  float slope)
{
    backward_rows(a, delta, z, y, M, n, ld, slope);
}
