/*
 * explain_html.c — `explain --html FILE`: one self-contained page, nothing
 * loaded from elsewhere and no script. At the top, the network drawn as
 * inline SVG the way the note draws it: neurons as circles in columns by
 * layer, z, y and δ by each neuron, w and ∂𝓛/∂w on each edge. Below, the
 * derivation in Russian and in English (a CSS-only switch shows one), its
 * formulas as MathML, which current browsers typeset natively.
 *
 * The page is written to FILE.tmp and renamed, so a failure leaves no file.
 */
#include "explain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *style =
    "body{font-family:'DejaVu Sans',sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;"
    "color:#222}\n"
    "h1{font-size:1.4em}h3{margin:1.2em 0 .3em;font-size:1.1em;color:#234}\n"
    ".eq{display:flex;justify-content:space-between;align-items:baseline;gap:1em;"
    "margin:.15em 0 .15em 1em}\n"
    ".eq .m{min-width:0}.eq math{font-size:1.05em}.cite{color:#666;white-space:nowrap;font-size:.9em}"
    ".cite.beyond{color:#a52}\n"
    "p{margin:.3em 0 .3em 1em;max-width:60em}\n"
    "svg{display:block;margin:1em auto;max-width:100%;height:auto}\n"
    "body>label{margin-right:1em;cursor:pointer}\n"
    "#lang-ru:checked~.en,#lang-en:checked~.ru{display:none}\n"
    "circle{fill:#eef4fb;stroke:#246;stroke-width:1.5}line{stroke:#89a;stroke-width:1}\n"
    "text{font-size:11px;fill:#222}.sym{font-size:14px;text-anchor:middle}"
    ".val{text-anchor:middle}.w{fill:#245}.g{fill:#a33}\n"
    ".edge{text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}\n";

/* circle centres */
static double cx(int l, double colw) { return 90 + l * colw; }
static double cy(int j, int n, int tallest) { return 70 + (tallest - n) * 70.0 + j * 140.0; }

static void diagram(ex_out *o, const ex_trace *e)
{
    int tallest = 0, L = e->L;
    for (int l = 0; l <= L; l++)
        tallest = e->N[l] > tallest ? e->N[l] : tallest;
    /* room for two edge labels (about 6.5 px a character) between columns */
    double label = (o->digits + 12) * 6.5,
           colw = 60 + (2 * label + 40 > 400 ? 2 * label + 40 : 400);
    double W = cx(L, colw) + 110, H = 70 + tallest * 140.0;
    ex_raw(o,
           "<svg id=\"net\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
           "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
           W, H, W, H);
    /* edges first, so that the circles cover their ends */
    for (int l = 0; l < L; l++) {
        int label = e->N[l] * e->N[l + 1] <= 36;
        for (int i = 0; i < e->N[l]; i++)
            for (int j = 0; j < e->N[l + 1]; j++) {
                double x0 = cx(l, colw), y0 = cy(i, e->N[l], tallest);
                double x1 = cx(l + 1, colw), y1 = cy(j, e->N[l + 1], tallest);
                ex_raw(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0 + 30, y0,
                       x1 - 30, y1);
                if (!label)
                    continue;
                /* along the edge, a quarter of the way for every other target
                 * neuron and three quarters for the rest, so that labels of edges
                 * that leave or reach one neuron stand apart: w above the
                 * line, ∂𝓛/∂w below it */
                double s = j % 2 ? 0.73 : 0.27, ax = x0 + 30, ay = y0;
                double dx = x1 - 30 - ax, dy = y1 - ay, tx = ax + s * dx, ty = ay + s * dy;
                double deg = atan2(dy, dx) * 180 / 3.14159265358979;
                ex_raw(o,
                       "<g transform=\"translate(%.1f %.1f) rotate(%.2f)\"><text class=\"edge w\" "
                       "y=\"-4\">w<tspan baseline-shift=\"sub\" font-size=\"8\">%d%s%d</tspan><tspan "
                       "baseline-shift=\"super\" font-size=\"8\">(%d)</tspan> = %s</text>",
                       tx, ty, deg, i + 1, i > 8 || j > 8 ? "," : "", j + 1, l,
                       ex_num(o, e->p[ex_w(e, l, i, j)]));
                ex_raw(o, "<text class=\"edge g\" y=\"11\">∂𝓛/∂w = %s</text></g>\n",
                       ex_num(o, e->g[ex_w(e, l, i, j)]));
            }
    }
    for (int l = 0; l <= L; l++)
        for (int j = 0; j < e->N[l]; j++) {
            double x = cx(l, colw), y = cy(j, e->N[l], tallest);
            ex_raw(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"30\"/>\n", x, y);
            ex_raw(o,
                   "<text class=\"sym\" x=\"%.1f\" y=\"%.1f\">y<tspan baseline-shift=\"sub\" "
                   "font-size=\"10\">%d</tspan><tspan baseline-shift=\"super\" "
                   "font-size=\"10\">(%d)</tspan></text>\n",
                   x, y + 5, j + 1, l);
            if (l == 0) {
                ex_raw(o, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">x = %s</text>\n", x, y + 45,
                       ex_num(o, ex_y(e, 0, 0, j)));
                continue;
            }
            ex_raw(o, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">b = %s</text>\n", x, y - 36,
                   ex_num(o, e->p[ex_b(e, l - 1, j)]));
            ex_raw(o, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">z = %s</text>\n", x, y + 45,
                   ex_num(o, ex_z(e, 0, l, j)));
            ex_raw(o, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">y = %s</text>\n", x, y + 58,
                   ex_num(o, ex_y(e, 0, l, j)));
            ex_raw(o, "<text class=\"val g\" x=\"%.1f\" y=\"%.1f\">δ = %s</text>\n", x, y + 71,
                   ex_num(o, ex_d(e, 0, l, j)));
        }
    ex_raw(o, "</svg>\n");
}

static void section(ex_out *o, const ex_trace *e, const ex_opts *opt, int ru)
{
    ex_opts mine = *opt;
    mine.ru = o->ru = ru;
    ex_raw(
        o, "<section class=\"%s\" lang=\"%s\">\n<h2>%s</h2>\n", ru ? "ru" : "en", ru ? "ru" : "en",
        ru ? "Обратное распространение ошибки: вывод по шагам" : "Backpropagation, step by step");
    ex_write(o, e, &mine);
    ex_raw(o, "</section>\n");
}

int ex_html(const char *path, const ex_trace *e, const ex_opts *opt, char *why, size_t cap)
{
    ex_out o = {.ru = opt->ru, .digits = opt->digits, .html = 1};
    int small = 1;
    for (int l = 0; l <= e->L; l++)
        small &= e->N[l] <= EX_MAX_WIDTH;
    ex_raw(&o,
           "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<title>backprop explain</title>\n<style>\n%s</style>\n</head>\n<body>\n"
           "<h1>backprop explain</h1>\n",
           opt->ru ? "ru" : "en", style);
    if (small) {
        diagram(&o, e);
        ex_raw(&o, "<p>%s</p>\n",
               e->M > 1 ? "Пример 1 из пакета / example 1 of the batch: z, y, δ под нейроном, "
                          "w и ∂𝓛/∂w на связи / below each neuron, on each edge."
                        : "z, y, δ под нейроном, w и ∂𝓛/∂w на связи; "
                          "z, y, δ below each neuron, w and ∂𝓛/∂w on each edge.");
    }
    ex_raw(&o,
           ""
           "<input type=\"radio\" name=\"lang\" id=\"lang-ru\"%s><label for=\"lang-ru\">"
           "Русский</label>\n<input type=\"radio\" name=\"lang\" id=\"lang-en\"%s>"
           "<label for=\"lang-en\">English</label>\n",
           opt->ru ? " checked" : "", opt->ru ? "" : " checked");
    section(&o, e, opt, opt->ru);
    section(&o, e, opt, !opt->ru);
    ex_raw(&o, "</body>\n</html>\n");
    if (o.failed) {
        free(o.buf);
        snprintf(why, cap, "out of memory");
        return 1;
    }

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int bad = !f || fwrite(o.buf, 1, o.len, f) != o.len;
    bad |= f && fclose(f) != 0;
    bad = bad || rename(tmp, path) != 0;
    if (bad) {
        snprintf(why, cap, "%s: cannot write (%s)", path, strerror(errno));
        remove(tmp);
    }
    free(o.buf);
    return bad;
}
