/*
 * explain_forms.c — the parts of explain's derivation beyond the scalar
 * form of one example: the vector form (section 6), the batch form with its
 * 1/M (section 7), the finite-difference check, the update and repeated
 * descent steps (eq. 49-50), one weight's chain (section 4), and
 * `explain softmax` (section 8).
 */
#include "explain.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The other forms and the extras                                            */
/* ------------------------------------------------------------------------ */

void ex_vector_form(ex_out *o, const ex_trace *e, int m)
{
    ex_section(o, EX_TR(o, "Vector form (section 6), the same example",
                        "Векторная форма (раздел 6), тот же пример"));
    ex_text(o, "%s",
            EX_TR(o,
                  "W(l) is N(l+1)×N(l): row j holds the weights into neuron j. "
                  "Vectors are columns, printed as rows with ᵀ. The note writes the "
                  "bias vector of eq. 40 as b(l+1); it is the b(l) of eq. 1 and 37.",
                  "W(l) размером N(l+1)×N(l): строка j — веса, входящие в нейрон j. "
                  "Векторы — столбцы, напечатанные строками со знаком ᵀ. Вектор "
                  "смещений ф. 40 в конспекте обозначен b(l+1); это те же b(l) из ф. 1 и 37."));
    for (int l = 0; l < e->L; l++) {
        char name[64];
        snprintf(name, sizeof name, "\\b{W}^{(%d)} [%d×%d]", l, e->N[l + 1], e->N[l]);
        ex_matrix(o, name, e->p + ex_w(e, l, 0, 0), e->N[l + 1], e->N[l], (size_t)e->N[l], 1);
        ex_line b = {{0}, 0};
        ex_add(&b, "\\b{z}^{(%d)} = \\b{W}^{(%d)}\\b{y}^{(%d)} + \\b{b}^{(%d)} = ", l + 1, l, l, l);
        ex_vec(o, &b, e->tr[m]->z + e->tr[m]->offset[l + 1], e->N[l + 1], 1);
        ex_add(&b, "^{T}");
        ex_eq(o, "40", "%s", b.s);
        b.n = 0;
        ex_add(&b, "\\b{y}^{(%d)} = f(\\b{z}^{(%d)}) = ", l + 1, l + 1);
        ex_vec(o, &b, e->tr[m]->y + e->tr[m]->offset[l + 1], e->N[l + 1], 1);
        ex_add(&b, "^{T}");
        ex_eq(o, e->act[l + 1] == BP_ACT_SOFTMAX ? "57, 69" : "2", "%s", b.s);
    }
    for (int l = e->L - 1; l >= 0; l--) {
        char name[160];
        double G[EX_MAX_WIDTH * EX_MAX_WIDTH];
        int r = e->N[l + 1], c = e->N[l];
        for (int j = 0; j < r; j++)
            for (int i = 0; i < c; i++)
                G[j * c + i] = ex_d(e, m, l + 1, j) * ex_y(e, m, l, i); /* outer product, eq. 43 */
        snprintf(name, sizeof name, "∇\\b{W}^{(%d)} = \\b{δ}^{(%d)}\\b{y}^{(%d)T} [%d×1 · 1×%d]", l,
                 l + 1, l, r, c);
        ex_matrix(o, name, G, r, c, (size_t)c, 1);
        ex_eq(o, "43", "%s",
              EX_TR(o, "\\t{(the outer product above)}", "\\t{(внешнее произведение выше)}"));
        ex_line b = {{0}, 0};
        ex_add(&b, "∂𝓛/∂\\b{b}^{(%d)} = \\b{δ}^{(%d)} = ", l, l + 1);
        ex_vec(o, &b, e->tr[m]->delta + e->tr[m]->offset[l + 1], r, 1);
        ex_add(&b, "^{T}");
        ex_eq(o, "46", "%s", b.s);
        if (l == 0)
            break;
        double wtd[EX_MAX_WIDTH], dfv[EX_MAX_WIDTH];
        for (int i = 0; i < c; i++) {
            wtd[i] = 0;
            for (int k = 0; k < r; k++)
                wtd[i] += e->p[ex_w(e, l, i, k)] * ex_d(e, m, l + 1, k);
            dfv[i] = bp_act_df(e->act[l], ex_z(e, m, l, i), ex_y(e, m, l, i), e->slope);
        }
        b.n = 0;
        ex_add(&b, "\\b{W}^{(%d)T}\\b{δ}^{(%d)} = ", l, l + 1);
        ex_vec(o, &b, wtd, c, 1);
        ex_add(&b, "^{T}, ∂\\b{y}^{(%d)}/∂\\b{z}^{(%d)} = ", l, l);
        ex_vec(o, &b, dfv, c, 1);
        ex_add(&b, "^{T}");
        ex_eq(o, "45", "%s", b.s);
        b.n = 0;
        ex_add(&b,
               "\\b{δ}^{(%d)} = \\b{W}^{(%d)T}\\b{δ}^{(%d)} ⊙ ∂\\b{y}^{(%d)}/∂\\b{z}^{(%d)} = ", l,
               l, l + 1, l, l);
        ex_vec(o, &b, e->tr[m]->delta + e->tr[m]->offset[l], c, 1);
        ex_add(&b, "^{T}");
        ex_eq(o, "45", "%s", b.s);
    }
}

/* the note's N×M picture: column k is example k */
static void batch_matrix(ex_out *o, const ex_trace *e, const char *name, int l, int what)
{
    double A[EX_MAX_WIDTH * EX_MAX_BATCH];
    int n = e->N[l];
    for (int m = 0; m < e->M; m++)
        for (int j = 0; j < n; j++)
            A[j * e->M + m] = what == 0   ? ex_z(e, m, l, j)
                              : what == 1 ? ex_y(e, m, l, j)
                                          : ex_d(e, m, l, j);
    ex_matrix(o, name, A, n, e->M, (size_t)e->M, 1);
}

void ex_batch_form(ex_out *o, const ex_trace *e, const ex_opts *opt)
{
    char name[160], s[24];
    int M = e->M;
    ex_section(o, EX_TR(o, "Batch form (section 7)", "Форма для пакета примеров (раздел 7)"));
    ex_text(o,
            EX_TR(o,
                  "Batch size M = %d. In the note's layout each matrix is N(l)×M: column k "
                  "is example k (eq. 51, 53).",
                  "Размер пакета M = %d. Как в конспекте, каждая матрица размером N(l)×M: столбец "
                  "k — пример k (ф. 51, 53)."),
            M);
    /* the matrices and the terms of each mean, where they fit on a page */
    int small = M <= EX_MAX_BATCH && !opt->layer && !opt->neuron;
    for (int l = 0; l <= e->L; l++)
        small &= e->N[l] <= EX_MAX_WIDTH;
    if (small) {
        snprintf(name, sizeof name, "\\b{Y}^{(0)} [%d×%d]", e->N[0], M);
        batch_matrix(o, e, name, 0, 1);
        for (int l = 1; l <= e->L; l++) {
            snprintf(name, sizeof name,
                     "\\b{Z}^{(%d)} = \\b{W}^{(%d)}\\b{Y}^{(%d)} + \\b{B}^{(%d)} [%d×%d]", l, l - 1,
                     l - 1, l - 1, e->N[l], M);
            batch_matrix(o, e, name, l, 0);
            ex_eq(o, "51", "%s", EX_TR(o, "\\t{(the matrix above)}", "\\t{(матрица выше)}"));
            snprintf(name, sizeof name, "\\b{Y}^{(%d)} = f(\\b{Z}^{(%d)}) [%d×%d]", l, l, e->N[l],
                     M);
            batch_matrix(o, e, name, l, 1);
        }
        for (int l = e->L; l >= 1; l--) {
            if (l == e->L)
                snprintf(name, sizeof name, "Δ^{(%d)} [%d×%d]", l, e->N[l], M);
            else
                snprintf(
                    name, sizeof name,
                    "Δ^{(%d)} = (\\b{W}^{(%d)T}Δ^{(%d)}) ⊙ ∂\\b{Y}^{(%d)}/∂\\b{Z}^{(%d)} [%d×%d]",
                    l, l, l + 1, l, l, e->N[l], M);
            batch_matrix(o, e, name, l, 2);
            ex_eq(o, l == e->L ? "53" : "56", "%s",
                  EX_TR(o, "\\t{(the matrix above)}", "\\t{(матрица выше)}"));
        }
    } else
        ex_text(o, "%s",
                EX_TR(o, "(the matrices Y, Z, Δ are left out: too large to print, or filtered)",
                      "(матрицы Y, Z, Δ не напечатаны: слишком велики или отфильтрованы)"));
    ex_line b = {{0}, 0};
    ex_add(&b, "𝓛 = (1/M) Σ_{k} 𝓛_{k} = ");
    if (M <= EX_MAX_BATCH) {
        ex_add(&b, "(1/%d)(", M);
        for (int m = 0; m < M; m++)
            ex_add(&b, "%s%s", m ? " + " : "", ex_fac(o, e->loss_m[m]));
        ex_add(&b, ") = ");
    }
    ex_add(&b, "%s", ex_num(o, e->loss));
    ex_eq(o, "+52", "%s", b.s);
    for (int l = e->L - 1; l >= 0; l--) {
        if (!ex_shown_layer(opt, l + 1))
            continue;
        if (small) {
            snprintf(name, sizeof name, "∇\\b{W}^{(%d)} = (1/M)Δ^{(%d)}\\b{Y}^{(%d)T} [%d×%d]", l,
                     l + 1, l, e->N[l + 1], e->N[l]);
            ex_matrix(o, name, e->grad + ex_w(e, l, 0, 0), e->N[l + 1], e->N[l], (size_t)e->N[l],
                      1);
            ex_eq(o, "52", "%s", EX_TR(o, "\\t{(the matrix above)}", "\\t{(матрица выше)}"));
        }
        for (int j = 0; j < e->N[l + 1]; j++) {
            if (!ex_shown_neuron(opt, j))
                continue;
            for (int i = 0; i <= e->N[l]; i++) {
                int bias = i == e->N[l];
                size_t k = bias ? ex_b(e, l, j) : ex_w(e, l, i, j);
                b.n = 0;
                if (bias)
                    ex_add(&b, "∂𝓛/∂b_{%d}^{(%d)} = (1/M) Σ_{k} δ_{%s}^{(%d)} = ", j + 1, l,
                           ex_ik(s, 'k', j + 1, 1), l + 1);
                else {
                    char kj[24], ki[24];
                    ex_add(&b, "∂𝓛/∂w_{%s}^{(%d)} = (1/M) Σ_{k} δ_{%s}^{(%d)}·y_{%s}^{(%d)} = ",
                           ex_ij(s, i + 1, j + 1), l, ex_ik(kj, 'k', j + 1, 1), l + 1,
                           ex_ik(ki, 'k', i + 1, 1), l);
                }
                if (M <= EX_MAX_BATCH) {
                    ex_add(&b, "(1/%d)(", M);
                    for (int m = 0; m < M; m++)
                        ex_add(&b, "%s%s", m ? " + " : "", ex_fac(o, e->g[(size_t)m * e->P + k]));
                    ex_add(&b, ") = ");
                }
                ex_add(&b, "%s", ex_num(o, e->grad[k]));
                ex_eq(o, bias ? "55" : "54", "%s", b.s);
            }
        }
    }
}

void ex_check_lines(ex_out *o, const ex_trace *e, const ex_opts *opt)
{
    char s[24];
    double worst = 0;
    ex_section(o, EX_TR(o, "Check: central finite differences (FD) in double",
                        "Проверка: центральные конечные разности (КР) в double"));
    ex_text(o, "%s",
            EX_TR(o,
                  "(𝓛(p + h) − 𝓛(p − h)) / 2h never differentiates, so agreement "
                  "proves the derivatives above; rel. = |backprop − FD| / max(|backprop|, |FD|).",
                  "(𝓛(p + h) − 𝓛(p − h)) / 2h не использует производных, поэтому "
                  "совпадение доказывает производные выше; отн. = |АОРО − КР| / "
                  "max(|АОРО|, |КР|)."));
    for (ex_param q = {.l = 0, .i = -1}; ex_next_param(e, opt, &q);) {
        double a = e->grad[q.k], f = e->fd[q.k], den = fmax(fabs(a), fabs(f));
        double rel = den > 1e-9 ? fabs(a - f) / den : 0;
        worst = fmax(worst, rel);
        char name[48];
        if (q.bias)
            snprintf(name, sizeof name, "b_{%d}^{(%d)}", q.j + 1, q.l);
        else
            snprintf(name, sizeof name, "w_{%s}^{(%d)}", ex_ij(s, q.i + 1, q.j + 1), q.l);
        ex_eq(o, "", "∂𝓛/∂%s = %s, %s %s, %s %.1e", name, ex_num(o, a),
              EX_TR(o, "\\t{FD}", "\\t{КР}"), ex_num(o, f), EX_TR(o, "\\t{rel.}", "\\t{отн.}"),
              rel);
    }
    ex_text(o,
            EX_TR(o, "Largest relative difference: %.1e", "Наибольшее относительное отличие: %.1e"),
            worst);
}

void ex_update_lines(ex_out *o, const ex_trace *e, const ex_opts *opt)
{
    char s[24];
    ex_section(o, EX_TR(o, "Gradient descent step", "Шаг градиентного спуска"));
    for (ex_param q = {.l = 0, .i = -1}; ex_next_param(e, opt, &q);) {
        double v = e->p[q.k], g = e->grad[q.k];
        int j = q.j + 1, l = q.l;
        if (q.bias)
            ex_eq(o, "50", "b_{%d}^{(%d)} ← b_{%d}^{(%d)} − α·∂𝓛/∂b_{%d}^{(%d)} = %s − %s·%s = %s", j,
                  l, j, l, j, l, ex_num(o, v), ex_num(o, opt->lr), ex_fac(o, g),
                  ex_num(o, v - opt->lr * g));
        else
            ex_eq(o, "49", "w_{%s}^{(%d)} ← w_{%s}^{(%d)} − α·∂𝓛/∂w_{%s}^{(%d)} = %s − %s·%s = %s",
                  ex_ij(s, q.i + 1, j), l, s, l, s, l, ex_num(o, v), ex_num(o, opt->lr),
                  ex_fac(o, g), ex_num(o, v - opt->lr * g));
    }
}

void ex_steps_lines(ex_out *o, const ex_trace *e, const ex_opts *opt)
{
    ex_section(o,
               EX_TR(o, "Repeated gradient descent steps", "Повторные шаги градиентного спуска"));
    ex_text(o,
            EX_TR(o,
                  "α = %s; step t moves every W and b against its gradient: W_t+1 = W_t − α∇W "
                  "(eq. 49, 50). The loss after each step:",
                  "α = %s; шаг t сдвигает все W и b против градиента: W_t+1 = W_t − α∇W "
                  "(ф. 49, 50). Потери после каждого шага:"),
            ex_num(o, opt->lr));
    int every = e->n_steps > 20 ? (e->n_steps + 19) / 20 : 1;
    for (int n = 0; n <= e->n_steps; n++)
        if (n % every == 0 || n == e->n_steps)
            ex_eq(o, "", "t = %d: 𝓛(\\b{W}_{t}, \\b{b}_{t}) = %s", n, ex_num(o, e->step_loss[n]));
}

void ex_focus_lines(ex_out *o, const ex_trace *e, int m, const ex_opts *opt)
{
    int l = opt->focus_l, i = opt->focus_i - 1, j = opt->focus_j - 1, L = e->L;
    char s[24];
    ex_ij(s, i + 1, j + 1);
    ex_section(o, EX_TR(o, "The chain of one derivative (section 4)",
                        "Цепочка для одного веса (раздел 4)"));
    ex_eq(o, "10, 15",
          "∂𝓛/∂w_{%s}^{(%d)} = "
          "∂𝓛/∂y_{%d}^{(%d)}·∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)}·∂z_{%d}^{(%d)}/∂w_{%s}^{(%d)}",
          s, l, j + 1, l + 1, j + 1, l + 1, j + 1, l + 1, j + 1, l + 1, s, l);
    ex_eq(o, "11", "∂z_{%d}^{(%d)}/∂w_{%s}^{(%d)} = y_{%d}^{(%d)} = %s", j + 1, l + 1, s, l, i + 1,
          l, ex_num(o, ex_y(e, m, l, i)));
    double d = ex_d(e, m, l + 1, j);
    if (l + 1 < L) {
        double sum = 0;
        char jk[24];
        for (int k = 0; k < e->N[l + 2]; k++) {
            double dk = ex_d(e, m, l + 2, k), w = e->p[ex_w(e, l + 1, j, k)];
            sum += dk * w;
            ex_eq(o, "20, 21, 24",
                  "∂𝓛/∂z_{%d}^{(%d)}·∂z_{%d}^{(%d)}/∂y_{%d}^{(%d)} = δ_{%d}^{(%d)}·w_{%s}^{(%d)} "
                  "= %s·%s = %s",
                  k + 1, l + 2, k + 1, l + 2, j + 1, l + 1, k + 1, l + 2, ex_ij(jk, j + 1, k + 1),
                  l + 1, ex_fac(o, dk), ex_fac(o, w), ex_num(o, dk * w));
        }
        ex_eq(o, "22, 23", "∂𝓛/∂y_{%d}^{(%d)} = Σ_{k} δ_{k}^{(%d)}·w_{%s}^{(%d)} = %s", j + 1,
              l + 1, l + 2, ex_ik(jk, 'k', j + 1, 0), l + 1, ex_num(o, sum));
        double df = ex_df_line(o, e, l + 1, j, ex_z(e, m, l + 1, j), ex_y(e, m, l + 1, j));
        ex_eq(o, "25, 26", "δ_{%d}^{(%d)} = %s·%s = %s", j + 1, l + 1, ex_fac(o, sum),
              ex_fac(o, df), ex_num(o, d));
    } else if (e->loss_kind == BP_LOSS_MSE) {
        double y = ex_y(e, m, L, j), t = e->t[(size_t)m * e->N[L] + j];
        ex_eq(o, "13", "∂𝓛/∂y_{%d}^{(%d)} = −(t_{%d} − y_{%d}^{(%d)}) = %s", j + 1, L, j + 1, j + 1,
              L, ex_num(o, -(t - y)));
        double df = ex_df_line(o, e, L, j, ex_z(e, m, L, j), y);
        ex_eq(o, "9, 14", "δ_{%d}^{(%d)} = %s·%s = %s", j + 1, L, ex_fac(o, -(t - y)),
              ex_fac(o, df), ex_num(o, d));
    } else
        ex_eq(o, e->loss_kind == BP_LOSS_SOFTMAX_CE && e->T == 1 ? "14, 68" : "+",
              "δ_{%d}^{(%d)} = ∂𝓛/∂z_{%d}^{(%d)} = %s", j + 1, L, j + 1, L, ex_num(o, d));
    ex_eq(o, "16, 17", "∂𝓛/∂w_{%s}^{(%d)} = δ_{%d}^{(%d)}·y_{%d}^{(%d)} = %s·%s = %s", s, l, j + 1,
          l + 1, i + 1, l, ex_fac(o, d), ex_fac(o, ex_y(e, m, l, i)),
          ex_num(o, e->g[(size_t)m * e->P + ex_w(e, l, i, j)]));
}

/* ------------------------------------------------------------------------ */
/* explain softmax --z                                                       */
/* ------------------------------------------------------------------------ */

void ex_write_softmax(ex_out *o, const double *z, int n, double T, const double *y, double zmax,
                      double sum)
{
    int T1 = T == 1;
    ex_line b = {{0}, 0};
    ex_section(o, EX_TR(o, "Softmax (section 8)", "Softmax (раздел 8)"));
    ex_add(&b, "\\b{z} = ");
    ex_vec(o, &b, z, n, 1);
    if (!T1)
        ex_add(&b, ", T = %s", ex_num(o, T));
    ex_eq(o, "", "%s", b.s);
    ex_eq(o, "61", "max_{k} z_{k} = %s", ex_num(o, zmax));
    b.n = 0;
    for (int j = 0; j < n; j++)
        ex_eq(o, T1 ? "61" : "61, 69",
              T1 ? "e^{z_{%d} − max z} = e^{%s} = %s" : "e^{(z_{%d} − max z)/T} = e^{%s} = %s",
              j + 1, ex_num(o, (z[j] - zmax) / T), ex_num(o, exp((z[j] - zmax) / T)));
    ex_eq(o, T1 ? "61" : "61, 69", "Σ_{k} %s = %s",
          T1 ? "e^{z_{k} − max z}" : "e^{(z_{k} − max z)/T}", ex_num(o, sum));
    for (int j = 0; j < n; j++)
        ex_eq(o, T1 ? "57, 61" : "69, 61", "%s_{%d} = %s / %s = %s",
              T1 ? "softmax(\\b{z})" : "softmax_{T}(\\b{z})", j + 1,
              ex_num(o, exp((z[j] - zmax) / T)), ex_num(o, sum), ex_num(o, y[j]));
    b.n = 0;
    ex_add(&b, "%s = ", T1 ? "softmax(\\b{z})" : "softmax_{T}(\\b{z})");
    ex_vec(o, &b, y, n, 1);
    /* eq. 59-71 hold the note's own numbers: cite them where these are they */
    int z123 = n == 3 && z[0] == 1 && z[1] == 2 && z[2] == 3;
    ex_eq(o,
          T1                 ? (z123 ? "57, 59" : "57")
          : z123 && T == 100 ? "69, 70"
          : z123 && T == 0.1 ? "69, 71"
                             : "69",
          "%s", b.s);
    if (T1)
        ex_eq(o, "58", "log Σ_{k} e^{z_{k}} = max z + log Σ = %s + log %s = %s", ex_num(o, zmax),
              ex_num(o, sum), ex_num(o, zmax + log(sum)));
    else
        ex_eq(o, "58, 69", "log Σ_{k} e^{z_{k}/T} = max z/T + log Σ = %s + log %s = %s",
              ex_num(o, zmax / T), ex_num(o, sum), ex_num(o, zmax / T + log(sum)));
    for (int j = 0; j < n; j++)
        ex_eq(o, T1 ? "58" : "58, 69", "log %s_{%d} = z_{%d}%s − log Σ_{k} %s = %s − %s = %s",
              T1 ? "softmax(\\b{z})" : "softmax_{T}(\\b{z})", j + 1, j + 1, T1 ? "" : "/T",
              T1 ? "e^{z_{k}}" : "e^{z_{k}/T}", ex_num(o, z[j] / T), ex_num(o, zmax / T + log(sum)),
              ex_num(o, log(y[j])));
}
