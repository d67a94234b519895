/*
 * backprop_ref.h — the reference and teaching side of libbackprop: the
 * scalar form (sections 4–5, one weight at a time, in double), the vector
 * form (section 6, one example), the trace of a scalar pass and the
 * activations' f and f' in double. Training never uses them. They are the
 * readable statement of the algorithm, the oracle the tests hold the
 * engine to, and what `backprop explain` prints; a program that only
 * trains and predicts needs backprop.h alone.
 */
#ifndef BACKPROP_REF_H
#define BACKPROP_REF_H

#include "backprop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* f(z) and f'(z) given z and y = f(z), in double, for the element-wise
 * activations (NaN for softmax, which is not element-wise, and for an
 * unknown a): the scalar form's, and the reference the float passes are
 * tested against. */
BP_API double bp_act_f(bp_act a, double z, double slope);
BP_API double bp_act_df(bp_act a, double z, double y, double slope);

/* ------------------------------------------------------------------------ */
/* The vector and scalar forms: the teaching and test API                    */
/* ------------------------------------------------------------------------ */

/* The two forms below compute what the batch engine computes, one example
 * and (scalar) one weight at a time. Training never uses them: they are the
 * readable statement of the algorithm and the oracle the tests hold the
 * engine to. */

/* The vector form (section 6): one example */

/* Gradient of one example x [N(0)] with target t [N(L)] or label (used when
 * t is NULL): eq. 40–46 with sgemv/sger. Overwrites grad [n_params]; uses the
 * network's work buffers, so it invalidates the last batch forward. Always
 * on the host (on a CUDA network: on its mirror, downloaded first). */
BP_API bp_status bp_vector_gradient(bp_net *net, const float *x, const float *t, int32_t label,
                                    float *grad, double *loss);

/* The scalar form (sections 4–5): the reference, in double */

/* What the scalar form computed for its last example: for layer l = 0..L,
 * z, y (eq. 1–2) and δ (eq. 13/26/68) of neuron j at index offset[l] + j.
 * z(0) and δ(0) are never computed and stay 0; y(0) is the input. */
typedef struct {
    int n_layers;
    const int *sizes; /* N(0..L), the network's */
    size_t *offset;   /* [L+1] start of layer l in z, y, delta */
    double *z, *y, *delta;
} bp_trace;

BP_API bp_trace *bp_trace_create(const bp_net *net);
BP_API void bp_trace_free(bp_trace *tr);

/* Mean gradient and loss of M examples, one weight at a time (eq. 1, 2, 13,
 * 17, 26, 37, then 52–53's sum and 1/M) in double. The network gives the
 * shapes, activations and loss; the parameters are params [n_params] in
 * double, the network's layout (so finite differences can perturb them
 * finely). grad [n_params] is overwritten. trace, if not NULL, holds the
 * intermediates of the last example. */
BP_API bp_status bp_scalar_gradient(const bp_net *net, const double *params, const float *x,
                                    bp_targets tg, int M, double *grad, double *loss,
                                    bp_trace *trace);
/* One example given in double: x [N(0)], and t [N(L)] or, when t is NULL
 * (softmax_ce only), the class label. The same arithmetic as
 * bp_scalar_gradient with M = 1, without rounding x and t to float32 first
 * (explain computes from the decimals a student typed). grad is
 * overwritten; trace (required, this network's: else BP_ERR_SHAPE) holds
 * the intermediates. */
BP_API bp_status bp_scalar_example(const bp_net *net, const double *params, const double *x,
                                   const double *t, int32_t label, double *grad, double *loss,
                                   bp_trace *trace);

#ifdef __cplusplus
}
#endif
#endif /* BACKPROP_REF_H */
