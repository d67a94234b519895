/*
 * explain.h — what the files of `backprop explain` share.
 *
 *   cmd_explain.c    options, input, bad input, dispatch
 *   explain_trace.c  the numbers: every example through the scalar form in
 *                    double, the 1/M mean, finite differences, descent steps
 *   explain_out.c    one writer, two renderings: a line of formula markup
 *                    becomes Unicode text on a terminal or MathML in a page
 *   explain_text.c   the derivation in scalar form, in Russian and English
 *   explain_forms.c  the vector and batch forms, the check, the updates,
 *                    one weight's chain, `explain softmax`
 *   explain_html.c   the page: an SVG diagram of the net and the derivation
 *   explain_json.c   the whole trace as JSON
 *
 * Notation is the note's: w_ij^(l) joins neuron i of layer l to neuron j of
 * layer l+1, b_j^(l) is the bias of neuron j of layer l+1 (eq. 1), neurons
 * are numbered from 1. Nothing here runs the float32 engine.
 */
#ifndef BP_EXPLAIN_H
#define BP_EXPLAIN_H

#include "cli.h"

#include <stdio.h>

#define EX_MAX_WIDTH 16 /* widest layer printed whole; wider ones need --layer/--neuron */
#define EX_MAX_BATCH 32 /* most examples whose matrices the batch form prints */
#define EX_MAX_OUT 1024 /* widest output layer explain accepts */

/* What to show (the command's options, checked). */
typedef struct {
    int ru;        /* --lang ru */
    int digits;    /* significant digits of every printed value */
    int check;     /* central differences beside every gradient */
    int no_update; /* leave out the update lines of eq. 49–50 */
    int steps;     /* descent steps to run and show (0: none) */
    int layer;     /* --layer l: only weights into layer l and its neurons; 0: all */
    int neuron;    /* --neuron j (1-based) within each shown layer; 0: all */
    int focus_l, focus_i, focus_j; /* --focus w_ij^(l) (i, j 1-based); focus_l < 0: none */
    double lr;                     /* α of eq. 49–50 */
} ex_opts;

/* The numbers of one explain run, all in double. */
typedef struct {
    bp_net *net;                   /* shapes, activations, loss, T (its floats are unused) */
    int L;                         /* weight layers */
    int N[BP_MAX_LAYERS + 1];      /* N(l) */
    bp_act act[BP_MAX_LAYERS + 1]; /* f of layer l, 1 <= l <= L */
    bp_loss loss_kind;
    double T, slope;            /* eq. 69's temperature, eq. 29's slope */
    size_t P;                   /* parameters */
    double *p;                  /* [P] W(0), b(0), W(1), ... as the network stores them */
    int M;                      /* examples */
    double *x, *t;              /* [M, N(0)] inputs (standardised), [M, N(L)] targets */
    int32_t *label;             /* [M] the class labels given, else NULL (t is one-hot) */
    int standardised;           /* the model's (x − μ)/σ was applied to x */
    double *x_raw, *mu, *sigma; /* [M, N(0)], [N(0)], [N(0)] when standardised */
    bp_trace **tr;              /* [M] z, y, δ of each example */
    double *g;                  /* [M, P] each example's gradient */
    double *loss_m;             /* [M] each example's loss */
    double loss;                /* (1/M) Σ loss_m */
    double *grad;               /* [P] (1/M) Σ g, eq. 52–55 */
    double *fd;                 /* [P] central differences of loss, or NULL */
    double *step_loss;          /* [n_steps + 1] loss before each step and after the last */
    int n_steps;
} ex_trace;

/* Indices into p, g, grad, fd: w_ij^(l) (0-based i, j) and b_j^(l). */
static inline size_t ex_w(const ex_trace *e, int l, int i, int j)
{
    return bp_net_weight_offset(e->net, l) + (size_t)j * (size_t)e->N[l] + (size_t)i;
}
static inline size_t ex_b(const ex_trace *e, int l, int j)
{
    return bp_net_bias_offset(e->net, l) + (size_t)j;
}
/* z, y, δ of neuron j (0-based) of layer l for example m */
static inline double ex_z(const ex_trace *e, int m, int l, int j)
{
    return e->tr[m]->z[e->tr[m]->offset[l] + j];
}
static inline double ex_y(const ex_trace *e, int m, int l, int j)
{
    return e->tr[m]->y[e->tr[m]->offset[l] + j];
}
static inline double ex_d(const ex_trace *e, int m, int l, int j)
{
    return e->tr[m]->delta[e->tr[m]->offset[l] + j];
}

/* explain_trace.c. e->net, L, N, act, loss, T, slope, P, p, M, x, t, label
 * set by the caller; fills the rest: with opt->check, the finite difference
 * of every parameter that opt's --layer/--neuron show (NaN for the others).
 * 0 on success, else a bp_status. */
int ex_compute(ex_trace *e, const ex_opts *opt);
/* whether opt shows parameter k (a weight or bias into a shown neuron) */
int ex_param_shown(const ex_trace *e, const ex_opts *opt, size_t k);
void ex_trace_free(ex_trace *e);
/* The loss of params over e's examples, (1/M) Σ (eq. 6, 62 or BCE, 52). */
double ex_loss_at(const ex_trace *e, const double *params);
/* softmax_T(z) by eq. 61's shift: y [n], and max z, Σ e^{(z−max)/T} */
void ex_softmax(const double *z, int n, double T, double *y, double *zmax, double *sum);

/* ---- explain_out.c: the writer ---- */
typedef struct {
    int ru, digits;
    int html; /* 0: Unicode text on f; 1: HTML appended to buf */
    FILE *f;
    char *buf; /* HTML: the page body so far (NULL after a failed growth) */
    size_t len, cap;
    int failed;       /* out of memory while growing buf */
    char num[16][48]; /* ring of formatted numbers */
    int num_next;
} ex_out;

#define EX_TR(o, en, ru_) ((o)->ru ? (ru_) : (en))

/* A number in digits significant digits, never "-0". Valid for 16 calls. */
const char *ex_num(ex_out *o, double v);
/* A section heading. */
void ex_section(ex_out *o, const char *title);
/* A line of prose (printf format). */
void ex_text(ex_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A formula line in markup (x_{ij}^{(l)}, Greek and operators as UTF-8),
 * with the note's equation numbers cite ("26", "9, 27"; "" for none; a cite
 * starting with '+' marks what goes beyond the note). */
void ex_eq(ex_out *o, const char *cite, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A matrix named by markup: rows × cols, element (r, c) at a[r*rs + c*cs]. */
void ex_matrix(ex_out *o, const char *name, const double *a, int rows, int cols, size_t rs,
               size_t cs);
/* Appends raw HTML (html mode only). */
void ex_raw(ex_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Markup rendered as MathML into o (html mode). */
void ex_mathml(ex_out *o, const char *markup, int display);

/* A line of markup built piece by piece (truncated, never overrun). */
typedef struct {
    char s[4096];
    size_t n;
} ex_line;
void ex_add(ex_line *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "[a, b, c]" of n values at v[k*stride] */
void ex_vec(ex_out *o, ex_line *b, const double *v, int n, size_t stride);
/* ex_num for a factor of a product: a negative number in brackets */
const char *ex_fac(ex_out *o, double v);
/* the subscript of w_ij (1-based): "12", or "1,12" once an index passes 9 */
const char *ex_ij(char buf[24], int i, int j);
/* the subscript of a letter and a 1-based index: "k5", "k,12" (or "5k", "12,k") */
const char *ex_ik(char buf[24], char letter, int n, int letter_first);

static inline int ex_shown_layer(const ex_opts *opt, int l)
{
    return !opt->layer || opt->layer == l;
}
static inline int ex_shown_neuron(const ex_opts *opt, int j)
{
    return !opt->neuron || opt->neuron == j + 1;
}

/* The parameters --layer and --neuron show, in the note's order: layer by
 * layer, neuron j of layer l+1 by neuron, its weights w_ij(l) and then its
 * bias (i = N(l)). Start from {.l = 0, .i = -1}; 0 when done. */
typedef struct {
    int l, j, i, bias;
    size_t k; /* its place in the trace's parameter vector */
} ex_param;
static inline int ex_next_param(const ex_trace *e, const ex_opts *opt, ex_param *p)
{
    for (;;) {
        if (++p->i > e->N[p->l])
            p->i = 0, p->j++;
        if (p->j >= e->N[p->l + 1])
            p->j = 0, p->l++;
        if (p->l >= e->L)
            return 0;
        if (ex_shown_layer(opt, p->l + 1) && ex_shown_neuron(opt, p->j))
            break;
    }
    p->bias = p->i == e->N[p->l];
    p->k = p->bias ? ex_b(e, p->l, p->j) : ex_w(e, p->l, p->i, p->j);
    return 1;
}

/* ---- explain_text.c: the derivation (scalar form) ---- */
/* ∂y_j/∂z_j of layer l as a formula line (eq. 27-29); returns its value */
double ex_df_line(ex_out *o, const ex_trace *e, int l, int j, double z, double y);
void ex_write(ex_out *o, const ex_trace *e, const ex_opts *opt);
/* ---- explain_forms.c: the other forms ---- */
void ex_vector_form(ex_out *o, const ex_trace *e, int m);
void ex_batch_form(ex_out *o, const ex_trace *e, const ex_opts *opt);
void ex_check_lines(ex_out *o, const ex_trace *e, const ex_opts *opt);
void ex_update_lines(ex_out *o, const ex_trace *e, const ex_opts *opt);
void ex_steps_lines(ex_out *o, const ex_trace *e, const ex_opts *opt);
void ex_focus_lines(ex_out *o, const ex_trace *e, int m, const ex_opts *opt);
/* explain softmax --z: eq. 57–61, 58's log-sum-exp, eq. 69 */
void ex_write_softmax(ex_out *o, const double *z, int n, double T, const double *y, double zmax,
                      double sum);

/* ---- explain_json.c ---- */
void ex_json(FILE *f, const ex_trace *e);

/* ---- explain_html.c: 0 on success; no file is left on failure ---- */
int ex_html(const char *path, const ex_trace *e, const ex_opts *opt, char *why, size_t cap);

#endif
