/*
 * explain_text.c — the derivation explain prints, in Russian or English,
 * each value beside the formula that produced it and the note's number of
 * that formula. The forms follow the note's sections: scalar (4–5), vector
 * (6), batch (7), softmax and cross-entropy (8). What the note does not
 * derive (tanh, BCE, the 1/T of a temperature, targets whose sum is not 1)
 * is marked as beyond it, with its one-line derivation.
 *
 * Only the words are here; explain_out.c renders them as text or MathML.
 */
#include "explain.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Activations                                                               */
/* ------------------------------------------------------------------------ */

/* y_j^(l) = f(z_j^(l)) with its number */
static void f_line(ex_out *o, const ex_trace *e, int l, int j, double z, double y)
{
    int n = j + 1;
    switch (e->act[l]) {
    case BP_ACT_SIGMOID:
        ex_eq(o, "2, 3", "y_{%d}^{(%d)} = 1 / (1 + e^{−z_{%d}^{(%d)}}) = 1 / (1 + e^{%s}) = %s", n,
              l, n, l, ex_num(o, -z), ex_num(o, y));
        break;
    case BP_ACT_RELU:
        ex_eq(o, "2, 4", "y_{%d}^{(%d)} = max(0, z_{%d}^{(%d)}) = max(0, %s) = %s", n, l, n, l,
              ex_num(o, z), ex_num(o, y));
        break;
    case BP_ACT_LEAKY_RELU:
        ex_eq(o, "2", "y_{%d}^{(%d)} = max(%s·z_{%d}^{(%d)}, z_{%d}^{(%d)}) = %s", n, l,
              ex_num(o, e->slope), n, l, n, l, ex_num(o, y));
        break;
    case BP_ACT_TANH:
        ex_eq(o, "+", "y_{%d}^{(%d)} = tanh(z_{%d}^{(%d)}) = tanh(%s) = %s", n, l, n, l,
              ex_num(o, z), ex_num(o, y));
        break;
    default:
        ex_eq(o, "2", "y_{%d}^{(%d)} = z_{%d}^{(%d)} = %s", n, l, n, l, ex_num(o, y));
    }
}

/* f′(z_j^(l)) = ∂y_j/∂z_j with its number; returns it */
double ex_df_line(ex_out *o, const ex_trace *e, int l, int j, double z, double y)
{
    int n = j + 1;
    double d = bp_act_df(e->act[l], z, y, e->slope);
    switch (e->act[l]) {
    case BP_ACT_SIGMOID:
        ex_eq(
            o, "27",
            "∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = y_{%d}^{(%d)}·(1 − y_{%d}^{(%d)}) = %s·(1 − %s) = %s",
            n, l, n, l, n, l, n, l, ex_num(o, y), ex_num(o, y), ex_num(o, d));
        break;
    case BP_ACT_RELU:
        ex_eq(o, "28", "∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = %s, z_{%d}^{(%d)} = %s %s 0", n, l, n, l,
              ex_num(o, d), n, l, ex_num(o, z), z > 0 ? ">" : "≤");
        break;
    case BP_ACT_LEAKY_RELU:
        ex_eq(o, "29", "∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = %s, z_{%d}^{(%d)} = %s %s 0", n, l, n, l,
              ex_num(o, d), n, l, ex_num(o, z), z > 0 ? ">" : "≤");
        break;
    case BP_ACT_TANH:
        /* tanh′ = 1/cosh² = 1 − tanh², so it needs only y, like eq. 27 */
        ex_eq(o, "+",
              "∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = 1/cosh^{2} z = 1 − (y_{%d}^{(%d)})^{2} = 1 − %s^{2} "
              "= %s",
              n, l, n, l, n, l, ex_fac(o, y), ex_num(o, d));
        break;
    default:
        ex_eq(o, "13", "∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = 1, y = z", n, l, n, l);
    }
    return d;
}

/* ------------------------------------------------------------------------ */
/* Forward pass, loss, output error                                          */
/* ------------------------------------------------------------------------ */

static void softmax_block(ex_out *o, const ex_trace *e, int m, const ex_opts *opt)
{
    int L = e->L, n = e->N[L];
    double z[EX_MAX_OUT], y[EX_MAX_OUT], zmax, sum;
    for (int j = 0; j < n; j++)
        z[j] = ex_z(e, m, L, j);
    ex_softmax(z, n, e->T, y, &zmax, &sum);
    int T1 = e->T == 1;
    ex_text(o, "%s",
            EX_TR(o,
                  "Softmax over the whole layer (section 8): the largest z is "
                  "subtracted first, which changes nothing (eq. 60) and keeps e^z finite.",
                  "Softmax по всему слою (раздел 8): сначала вычитается наибольший z; "
                  "результат не меняется (ф. 60), а экспонента не переполняется."));
    ex_eq(o, "61", "max_{k} z_{k}^{(%d)} = %s", L, ex_num(o, zmax));
    ex_line b = {{0}, 0};
    for (int j = 0; j < n; j++) {
        if (!ex_shown_neuron(opt, j))
            continue;
        if (T1)
            ex_eq(o, "61", "e^{z_{%d}^{(%d)} − max z} = e^{%s} = %s", j + 1, L,
                  ex_num(o, z[j] - zmax), ex_num(o, exp(z[j] - zmax)));
        else
            ex_eq(o, "61, 69", "e^{(z_{%d}^{(%d)} − max z)/T} = e^{%s} = %s", j + 1, L,
                  ex_num(o, (z[j] - zmax) / e->T), ex_num(o, exp((z[j] - zmax) / e->T)));
    }
    ex_add(&b, "Σ = ");
    for (int j = 0; j < n && n <= 8; j++)
        ex_add(&b, "%s%s", j ? " + " : "", ex_num(o, exp((z[j] - zmax) / e->T)));
    ex_add(&b, "%s%s", n <= 8 ? " = " : "", ex_num(o, sum));
    ex_eq(o, T1 ? "61" : "61, 69", "%s", b.s);
    for (int j = 0; j < n; j++)
        if (ex_shown_neuron(opt, j))
            ex_eq(o, T1 ? "57, 61" : "69, 61", "y_{%d}^{(%d)} = %s / %s = %s", j + 1, L,
                  ex_num(o, exp((z[j] - zmax) / e->T)), ex_num(o, sum), ex_num(o, y[j]));
    if (T1)
        ex_eq(o, "58", "log Σ_{k} e^{z_{k}} = max z + log Σ = %s + log %s = %s", ex_num(o, zmax),
              ex_num(o, sum), ex_num(o, zmax + log(sum)));
    else
        ex_eq(o, "58, 69", "log Σ_{k} e^{z_{k}/T} = max z/T + log Σ = %s + log %s = %s",
              ex_num(o, zmax / e->T), ex_num(o, sum), ex_num(o, zmax / e->T + log(sum)));
}

static void forward(ex_out *o, const ex_trace *e, int m, const ex_opts *opt)
{
    ex_section(o, EX_TR(o, "Forward pass (section 3)", "Прямой проход (раздел 3)"));
    for (int l = 1; l <= e->L; l++) {
        if (!ex_shown_layer(opt, l))
            continue;
        for (int j = 0; j < e->N[l]; j++) {
            if (!ex_shown_neuron(opt, j))
                continue;
            ex_line b = {{0}, 0};
            char ij[24];
            ex_add(&b, "z_{%d}^{(%d)} = Σ_{i} y_{i}^{(%d)}·w_{%s}^{(%d)} + b_{%d}^{(%d)} = ", j + 1,
                   l, l - 1, ex_ik(ij, 'i', j + 1, 1), l - 1, j + 1, l - 1);
            if (e->N[l - 1] <= 16) {
                for (int i = 0; i < e->N[l - 1]; i++)
                    ex_add(&b, "%s%s·%s", i ? " + " : "", ex_fac(o, ex_y(e, m, l - 1, i)),
                           ex_fac(o, e->p[ex_w(e, l - 1, i, j)]));
                ex_add(&b, " + %s = ", ex_fac(o, e->p[ex_b(e, l - 1, j)]));
            }
            ex_add(&b, "%s", ex_num(o, ex_z(e, m, l, j)));
            ex_eq(o, "1", "%s", b.s);
            if (e->act[l] != BP_ACT_SOFTMAX)
                f_line(o, e, l, j, ex_z(e, m, l, j), ex_y(e, m, l, j));
        }
        if (e->act[l] == BP_ACT_SOFTMAX)
            softmax_block(o, e, m, opt);
    }
}

static double target_sum(const ex_trace *e, int m)
{
    double s = 0;
    for (int j = 0; j < e->N[e->L]; j++)
        s += e->t[(size_t)m * e->N[e->L] + j];
    return s;
}

static void loss_lines(ex_out *o, const ex_trace *e, int m)
{
    int L = e->L, n = e->N[L];
    const double *t = e->t + (size_t)m * n;
    ex_line b = {{0}, 0};
    ex_section(o, EX_TR(o, "Loss function", "Функция потерь"));
    switch (e->loss_kind) {
    case BP_LOSS_MSE:
        ex_add(&b, "𝓛 = ½ Σ_{j} (t_{j} − y_{j}^{(%d)})^{2} = ", L);
        if (n <= 8) {
            ex_add(&b, "½(");
            for (int j = 0; j < n; j++)
                ex_add(&b, "%s%s^{2}", j ? " + " : "", ex_fac(o, t[j] - ex_y(e, m, L, j)));
            ex_add(&b, ") = ");
        }
        ex_add(&b, "%s", ex_num(o, e->loss_m[m]));
        ex_eq(o, "6", "%s", b.s);
        break;
    case BP_LOSS_SOFTMAX_CE:
        ex_add(&b, "𝓛 = −Σ_{j} t_{j} log y_{j}^{(%d)} = ", L);
        if (n <= 8) {
            ex_add(&b, "−(");
            int first = 1;
            for (int j = 0; j < n; j++)
                if (t[j] != 0) {
                    ex_add(&b, "%s%s·log %s", first ? "" : " + ", ex_fac(o, t[j]),
                           ex_num(o, ex_y(e, m, L, j)));
                    first = 0;
                }
            ex_add(&b, "%s) = ", first ? "0" : "");
        }
        ex_add(&b, "%s", ex_num(o, e->loss_m[m]));
        ex_eq(o, "62", "%s", b.s);
        break;
    case BP_LOSS_SIGMOID_BCE:
        ex_eq(o, "+",
              "𝓛 = −Σ_{j} [t_{j} log y_{j}^{(%d)} + (1 − t_{j}) log(1 − y_{j}^{(%d)})] = %s", L, L,
              ex_num(o, e->loss_m[m]));
        break;
    default:
        break;
    }
}

/* The Jacobian route of section 8 beside the fused δ = y − t. */
static void softmax_routes(ex_out *o, const ex_trace *e, int m, const ex_opts *opt)
{
    int L = e->L, n = e->N[L];
    const double *t = e->t + (size_t)m * n;
    double st = target_sum(e, m);
    ex_text(o, "%s",
            EX_TR(o,
                  "The same δ by the two longer routes of section 8: through "
                  "log-sum-exp (eq. 63-67), and through the softmax Jacobian "
                  "∂y_k/∂z_j = y_k(1[k=j] − y_j)/T with ∂𝓛/∂y_k = −t_k/y_k.",
                  "То же δ двумя более длинными путями раздела 8: через log-sum-exp "
                  "(ф. 63-67) и через якобиан softmax ∂y_k/∂z_j = y_k(1[k=j] − y_j)/T "
                  "при ∂𝓛/∂y_k = −t_k/y_k."));
    for (int j = 0; j < n; j++) {
        if (!ex_shown_neuron(opt, j))
            continue;
        double yj = ex_y(e, m, L, j), lse = (-t[j] + st * yj) / e->T, jac = 0;
        for (int k = 0; k < n; k++) {
            double yk = ex_y(e, m, L, k);
            if (t[k] != 0)
                jac += (-t[k] / yk) * yk * ((k == j) - yj) / e->T;
        }
        if (e->T == 1)
            ex_eq(o, "67", "−t_{%d} + (Σ_{k} t_{k})·y_{%d} = %s + %s·%s = %s", j + 1, j + 1,
                  ex_fac(o, -t[j]), ex_num(o, st), ex_num(o, yj), ex_num(o, lse));
        else
            ex_eq(o, "+67, 69", "(−t_{%d} + (Σ_{k} t_{k})·y_{%d}) / T = (%s + %s·%s) / %s = %s",
                  j + 1, j + 1, ex_fac(o, -t[j]), ex_num(o, st), ex_num(o, yj), ex_num(o, e->T),
                  ex_num(o, lse));
        ex_eq(o, "+", "Σ_{k} (∂𝓛/∂y_{k})·(∂y_{k}/∂z_{%d}) = %s, %s %s", j + 1, ex_num(o, jac),
              EX_TR(o, "difference from δ:", "отличие от δ:"), ex_num(o, jac - ex_d(e, m, L, j)));
    }
}

static void output_error(ex_out *o, const ex_trace *e, int m, const ex_opts *opt)
{
    int L = e->L, n = e->N[L];
    const double *t = e->t + (size_t)m * n;
    ex_section(o, EX_TR(o, "Backward pass: the errors δ of the output layer",
                        "Обратный проход: ошибки δ нейронов выходного слоя"));
    if (e->loss_kind == BP_LOSS_SOFTMAX_CE) {
        double st = target_sum(e, m);
        int sum1 = fabs(st - 1) < 1e-12;
        if (!sum1)
            ex_text(o,
                    EX_TR(o,
                          "The targets sum to %s, not 1: eq. 68 needs Σt = 1, so δ comes "
                          "from eq. 67, which keeps the sum.",
                          "Сумма эталонов равна %s, а не 1: ф. 68 требует Σt = 1, поэтому δ "
                          "берётся из ф. 67, где сумма сохранена."),
                    ex_num(o, st));
        if (e->T != 1)
            ex_text(o, "%s",
                    EX_TR(o,
                          "Beyond the note: with a temperature the logits enter as "
                          "u = z/T (eq. 69), so by the chain rule (eq. 7) "
                          "∂𝓛/∂z = ∂𝓛/∂u · 1/T.",
                          "Вне конспекта: с температурой логиты входят как u = z/T "
                          "(ф. 69), и по правилу сложной функции (ф. 7) "
                          "∂𝓛/∂z = ∂𝓛/∂u · 1/T."));
        for (int j = 0; j < n; j++) {
            if (!ex_shown_neuron(opt, j))
                continue;
            double d = ex_d(e, m, L, j), y = ex_y(e, m, L, j);
            if (sum1 && e->T == 1)
                ex_eq(o, "14, 68",
                      "δ_{%d}^{(%d)} = ∂𝓛/∂z_{%d}^{(%d)} = y_{%d}^{(%d)} − t_{%d} = %s − %s = %s",
                      j + 1, L, j + 1, L, j + 1, L, j + 1, ex_num(o, y), ex_fac(o, t[j]),
                      ex_num(o, d));
            else if (sum1)
                ex_eq(o, "+68, 69",
                      "δ_{%d}^{(%d)} = (y_{%d}^{(%d)} − t_{%d}) / T = (%s − %s) / %s = %s", j + 1,
                      L, j + 1, L, j + 1, ex_num(o, y), ex_fac(o, t[j]), ex_num(o, e->T),
                      ex_num(o, d));
            else
                ex_eq(o, e->T == 1 ? "67" : "+67, 69",
                      "δ_{%d}^{(%d)} = ((Σ_{k} t_{k})·y_{%d}^{(%d)} − t_{%d}) / T = (%s·%s − %s) / "
                      "%s = %s",
                      j + 1, L, j + 1, L, j + 1, ex_num(o, st), ex_num(o, y), ex_fac(o, t[j]),
                      ex_num(o, e->T), ex_num(o, d));
        }
        softmax_routes(o, e, m, opt);
        return;
    }
    if (e->loss_kind == BP_LOSS_SIGMOID_BCE) {
        ex_text(o, "%s",
                EX_TR(o,
                      "Beyond the note: for binary cross-entropy ∂𝓛/∂y = (y − t) / "
                      "(y(1 − y)), and the sigmoid's f′ = y(1 − y) (eq. 27) cancels "
                      "the denominator (eq. 9).",
                      "Вне конспекта: для бинарной кросс-энтропии ∂𝓛/∂y = (y − t) / "
                      "(y(1 − y)), а производная сигмоиды f′ = y(1 − y) (ф. 27) "
                      "сокращает знаменатель (ф. 9)."));
        for (int j = 0; j < n; j++)
            if (ex_shown_neuron(opt, j))
                ex_eq(o, "+9, 27", "δ_{%d}^{(%d)} = y_{%d}^{(%d)} − t_{%d} = %s − %s = %s", j + 1,
                      L, j + 1, L, j + 1, ex_num(o, ex_y(e, m, L, j)), ex_fac(o, t[j]),
                      ex_num(o, ex_d(e, m, L, j)));
        return;
    }
    /* mse: ∂𝓛/∂y of eq. 13, times f′ by eq. 9 unless the output is linear */
    for (int j = 0; j < n; j++) {
        if (!ex_shown_neuron(opt, j))
            continue;
        double y = ex_y(e, m, L, j), z = ex_z(e, m, L, j), d = ex_d(e, m, L, j);
        if (e->act[L] == BP_ACT_IDENTITY) {
            ex_eq(o, "13, 32",
                  "δ_{%d}^{(%d)} = ∂𝓛/∂z_{%d}^{(%d)} = −(t_{%d} − y_{%d}^{(%d)}) = −(%s − %s) = %s",
                  j + 1, L, j + 1, L, j + 1, j + 1, L, ex_num(o, t[j]), ex_fac(o, y), ex_num(o, d));
            continue;
        }
        double dl = -(t[j] - y);
        ex_eq(o, "13", "∂𝓛/∂y_{%d}^{(%d)} = −(t_{%d} − y_{%d}^{(%d)}) = −(%s − %s) = %s", j + 1, L,
              j + 1, j + 1, L, ex_num(o, t[j]), ex_fac(o, y), ex_num(o, dl));
        double df = ex_df_line(o, e, L, j, z, y);
        ex_eq(o, "9, 14",
              "δ_{%d}^{(%d)} = ∂𝓛/∂y_{%d}^{(%d)}·∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = %s·%s = %s", j + 1,
              L, j + 1, L, j + 1, L, j + 1, L, ex_fac(o, dl), ex_fac(o, df), ex_num(o, d));
    }
}

/* ------------------------------------------------------------------------ */
/* Gradients and hidden errors, scalar form                                  */
/* ------------------------------------------------------------------------ */

static void weight_grads(ex_out *o, const ex_trace *e, int m, int l, const ex_opts *opt)
{
    char s[24];
    const double *g = e->g + (size_t)m * e->P;
    char title[160];
    snprintf(title, sizeof title,
             EX_TR(o, "Derivatives by the weights W(%d) and biases b(%d)",
                   "Производные по весам W(%d) и смещениям b(%d)"),
             l, l);
    ex_section(o, title);
    for (int j = 0; j < e->N[l + 1]; j++) {
        if (!ex_shown_neuron(opt, j))
            continue;
        for (int i = 0; i < e->N[l]; i++)
            ex_eq(o, "17", "∂𝓛/∂w_{%s}^{(%d)} = δ_{%d}^{(%d)}·y_{%d}^{(%d)} = %s·%s = %s",
                  ex_ij(s, i + 1, j + 1), l, j + 1, l + 1, i + 1, l,
                  ex_fac(o, ex_d(e, m, l + 1, j)), ex_fac(o, ex_y(e, m, l, i)),
                  ex_num(o, g[ex_w(e, l, i, j)]));
        ex_eq(o, "37", "∂𝓛/∂b_{%d}^{(%d)} = δ_{%d}^{(%d)} = %s", j + 1, l, j + 1, l + 1,
              ex_num(o, g[ex_b(e, l, j)]));
    }
}

static void hidden_error(ex_out *o, const ex_trace *e, int m, int l, const ex_opts *opt)
{
    char title[160];
    snprintf(title, sizeof title,
             EX_TR(o, "Backward pass: the errors δ of hidden layer %d",
                   "Обратный проход: ошибки δ нейронов скрытого слоя %d"),
             l);
    ex_section(o, title);
    for (int j = 0; j < e->N[l]; j++) {
        if (!ex_shown_neuron(opt, j))
            continue;
        double df = ex_df_line(o, e, l, j, ex_z(e, m, l, j), ex_y(e, m, l, j)), sum = 0;
        ex_line b = {{0}, 0};
        char jk[24];
        ex_add(&b,
               "δ_{%d}^{(%d)} = Σ_{k} δ_{k}^{(%d)}·w_{%s}^{(%d)}·∂y_{%d}^{(%d)}/∂z_{%d}^{(%d)} = ",
               j + 1, l, l + 1, ex_ik(jk, 'k', j + 1, 0), l, j + 1, l, j + 1, l);
        int show = e->N[l + 1] <= 16;
        if (show)
            ex_add(&b, "(");
        for (int k = 0; k < e->N[l + 1]; k++) {
            double dk = ex_d(e, m, l + 1, k), w = e->p[ex_w(e, l, j, k)];
            sum += dk * w;
            if (show)
                ex_add(&b, "%s%s·%s", k ? " + " : "", ex_fac(o, dk), ex_fac(o, w));
        }
        if (show)
            ex_add(&b, ")·%s = ", ex_fac(o, df));
        ex_add(&b, "%s·%s = %s", ex_fac(o, sum), ex_fac(o, df), ex_num(o, ex_d(e, m, l, j)));
        ex_eq(o, "26", "%s", b.s);
    }
}

/* ------------------------------------------------------------------------ */
/* The whole derivation                                                      */
/* ------------------------------------------------------------------------ */

static void header(ex_out *o, const ex_trace *e)
{
    ex_line b = {{0}, 0};
    for (int l = 0; l <= e->L; l++)
        ex_add(&b, "%s%d", l ? "-" : "", e->N[l]);
    ex_add(&b, "; f:");
    for (int l = 1; l <= e->L; l++)
        ex_add(&b, "%s%s", l > 1 ? "," : " ", bp_act_name(e->act[l]));
    ex_add(&b, "; %s %s", EX_TR(o, "loss", "потери"), bp_loss_name(e->loss_kind));
    if (e->T != 1)
        ex_add(&b, "; T = %s", ex_num(o, e->T));
    ex_section(o, EX_TR(o, "Network", "Сеть"));
    ex_text(o, "%s", b.s);
    ex_text(o, "%s",
            EX_TR(o,
                  "w_ij(l) is the weight from neuron i of layer l to neuron j of layer "
                  "l+1, b_j(l) the bias of neuron j of layer l+1, z the input of a "
                  "neuron, y its activity, δ = ∂𝓛/∂z its error; neurons count from 1.",
                  "w_ij(l) — вес связи нейрона i слоя l с нейроном j слоя l+1, b_j(l) — "
                  "смещение нейрона j слоя l+1, z — вход нейрона, y — его активность, "
                  "δ = ∂𝓛/∂z — ошибка нейрона; нейроны нумеруются с 1."));
}

static void inputs(ex_out *o, const ex_trace *e, int m)
{
    int L = e->L;
    ex_section(o, EX_TR(o, "Parameters, input and target", "Параметры, вход и эталон"));
    for (int l = 0; l < L; l++) {
        char name[48];
        snprintf(name, sizeof name, "\\b{W}^{(%d)} = [w_{ji}]", l);
        ex_matrix(o, name, e->p + ex_w(e, l, 0, 0), e->N[l + 1], e->N[l], (size_t)e->N[l], 1);
        ex_line b = {{0}, 0};
        ex_add(&b, "\\b{b}^{(%d)} = ", l);
        ex_vec(o, &b, e->p + ex_b(e, l, 0), e->N[l + 1], 1);
        ex_eq(o, "", "%s", b.s);
    }
    ex_line b = {{0}, 0};
    if (e->standardised) {
        ex_text(o, "%s",
                EX_TR(o,
                      "The model standardises its inputs with the μ and σ of its training "
                      "data (not in the note): y(0) = (x − μ)/σ.",
                      "Модель стандартизует вход по μ и σ своей обучающей выборки (в конспекте "
                      "этого нет): y(0) = (x − μ)/σ."));
        const double *v[3] = {e->x_raw + (size_t)m * e->N[0], e->mu, e->sigma};
        const char *name[3] = {"\\b{x}", "\\b{μ}", "\\b{σ}"};
        for (int k = 0; k < 3; k++) {
            b.n = 0;
            ex_add(&b, "%s = ", name[k]);
            ex_vec(o, &b, v[k], e->N[0], 1);
            ex_eq(o, "", "%s", b.s);
        }
        b.n = 0;
        ex_add(&b, "\\b{y}^{(0)} = (\\b{x} − \\b{μ})/\\b{σ} = ");
        ex_vec(o, &b, e->x + (size_t)m * e->N[0], e->N[0], 1);
        ex_eq(o, "+", "%s", b.s);
    } else {
        ex_add(&b, "\\b{y}^{(0)} = \\b{x} = ");
        ex_vec(o, &b, e->x + (size_t)m * e->N[0], e->N[0], 1);
        ex_eq(o, "", "%s", b.s);
    }
    b.n = 0;
    ex_add(&b, "\\b{t} = ");
    ex_vec(o, &b, e->t + (size_t)m * e->N[L], e->N[L], 1);
    if (e->label)
        ex_add(&b, " (\\t{one-hot}, %s %d)", EX_TR(o, "\\t{class}", "\\t{класс}"), e->label[m]);
    ex_eq(o, "", "%s", b.s);
    if (e->M > 1)
        ex_text(o,
                EX_TR(o,
                      "The scalar and vector forms below follow example 1 of the %d; the batch "
                      "form after them takes them all.",
                      "Скалярная и векторная формы ниже разбирают пример 1 из %d; форма для "
                      "пакета после них берёт все."),
                e->M);
}

void ex_write(ex_out *o, const ex_trace *e, const ex_opts *opt)
{
    int m = 0, L = e->L, small = 1;
    for (int l = 0; l <= L; l++)
        small &= e->N[l] <= EX_MAX_WIDTH;
    header(o, e);
    if (small)
        inputs(o, e, m);
    forward(o, e, m, opt);
    loss_lines(o, e, m);
    if (ex_shown_layer(opt, L))
        output_error(o, e, m, opt);
    for (int l = L - 1; l >= 0; l--) {
        if (ex_shown_layer(opt, l + 1))
            weight_grads(o, e, m, l, opt);
        if (l > 0 && ex_shown_layer(opt, l))
            hidden_error(o, e, m, l, opt);
    }
    if (opt->focus_l >= 0)
        ex_focus_lines(o, e, m, opt);
    if (small && !opt->layer && !opt->neuron)
        ex_vector_form(o, e, m);
    if (e->M > 1)
        ex_batch_form(o, e, opt);
    if (e->fd)
        ex_check_lines(o, e, opt);
    if (!opt->no_update)
        ex_update_lines(o, e, opt);
    if (e->n_steps)
        ex_steps_lines(o, e, opt);
}
