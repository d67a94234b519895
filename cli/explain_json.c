/*
 * explain_json.c — explain's whole trace as one JSON object (SPEC.md §3):
 * {"loss", "y0", "layers": [{z, y, delta, grad_W, grad_b[, fd_W, fd_b]}]},
 * layers[k] being layer k+1 and grad_W N(k+1) rows of N(k) as W(k) is
 * stored. For a batch the values are means over its examples and
 * "per_example" holds each one's own. Every number in round-trip precision.
 */
#include "explain.h"

#include <math.h>
#include <stdlib.h>

/* null where --layer/--neuron left a finite difference out */
static void num(FILE *f, double v) { cli_json_num(f, v); }

/* n values a[k*stride], averaged over `count` copies spaced `step` apart */
static void array(FILE *f, const double *a, int n, size_t stride, int count, size_t step)
{
    fputc('[', f);
    for (int k = 0; k < n; k++) {
        double s = 0;
        for (int c = 0; c < count; c++)
            s += a[(size_t)c * step + (size_t)k * stride];
        if (k)
            fputs(", ", f);
        num(f, s / count);
    }
    fputc(']', f);
}

/* mean of z, y or δ (what: 0, 1, 2) of layer l over examples m0..m1-1 */
static void unit_array(FILE *f, const ex_trace *e, int l, int what, int m0, int m1)
{
    fputc('[', f);
    for (int j = 0; j < e->N[l]; j++) {
        double s = 0;
        for (int m = m0; m < m1; m++)
            s += what == 0 ? ex_z(e, m, l, j) : what == 1 ? ex_y(e, m, l, j) : ex_d(e, m, l, j);
        if (j)
            fputs(", ", f);
        num(f, s / (m1 - m0));
    }
    fputc(']', f);
}

/* The trace of examples m0..m1-1 (their means); g is their gradient. */
static void trace(FILE *f, const ex_trace *e, int m0, int m1, double loss, const double *g,
                  const double *fd)
{
    fputs("\"loss\": ", f);
    num(f, loss);
    fputs(", \"y0\": ", f);
    unit_array(f, e, 0, 1, m0, m1);
    fputs(", \"layers\": [", f);
    for (int l = 0; l < e->L; l++) {
        fputs(l ? ", {" : "{", f);
        const char *key[] = {"z", "y", "delta"};
        for (int w = 0; w < 3; w++) {
            fprintf(f, "%s\"%s\": ", w ? ", " : "", key[w]);
            unit_array(f, e, l + 1, w, m0, m1);
        }
        for (int pass = 0; pass < (fd ? 2 : 1); pass++) {
            const double *v = pass ? fd : g;
            fprintf(f, ", \"%s\": [", pass ? "fd_W" : "grad_W");
            for (int j = 0; j < e->N[l + 1]; j++) {
                fputs(j ? ", " : "", f);
                array(f, v + ex_w(e, l, 0, j), e->N[l], 1, 1, 0);
            }
            fprintf(f, "], \"%s\": ", pass ? "fd_b" : "grad_b");
            array(f, v + ex_b(e, l, 0), e->N[l + 1], 1, 1, 0);
        }
        fputc('}', f);
    }
    fputc(']', f);
}

void ex_json(FILE *f, const ex_trace *e)
{
    fputc('{', f);
    trace(f, e, 0, e->M, e->loss, e->grad, e->fd);
    fprintf(f, ", \"examples\": %d", e->M);
    if (e->M > 1) {
        fputs(", \"per_example\": [", f);
        for (int m = 0; m < e->M; m++) {
            fputs(m ? ", {" : "{", f);
            trace(f, e, m, m + 1, e->loss_m[m], e->g + (size_t)m * e->P, NULL);
            fputc('}', f);
        }
        fputc(']', f);
    }
    if (e->n_steps) {
        fputs(", \"step_loss\": ", f);
        array(f, e->step_loss, e->n_steps + 1, 1, 1, 0);
    }
    fputs("}\n", f);
}
