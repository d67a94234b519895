/*
 * plot.c — training curves and confusion matrices as self-contained SVG.
 *
 * Two pictures a person opens in a browser after training: loss and
 * validation accuracy against epoch, and the confusion matrix as a heat map.
 * Plain fprintf of SVG elements; coordinates in fixed precision, values in
 * "%.6g" (the library never calls setlocale, so the decimal point is '.').
 * Every file goes through bp_atomic: a failed write leaves the old picture.
 *
 * Deliberately not a plotting library: fixed layouts, linear axes, text
 * widths estimated rather than measured, and no text from outside — only
 * numbers and fixed labels are printed, so nothing needs escaping.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FONT "Helvetica, Arial, sans-serif"
#define HUGE_VAL_PLOT 1e300 /* larger values count as non-finite: ranges stay finite */
#define MARKER_GAP 8.0      /* px between epochs below which only lines are drawn */

/* ------------------------------------------------------------------------ */
/* Shared pieces                                                             */
/* ------------------------------------------------------------------------ */

static int usable(double v) { return isfinite(v) && fabs(v) <= HUGE_VAL_PLOT; }

/* The smallest 1, 2 or 5 × 10^e that is >= raw > 0: the tick step. */
static double nice_step(double raw)
{
    double e = pow(10.0, floor(log10(raw)));
    double m = raw / e;
    return (m <= 1.000001 ? 1 : m <= 2.000001 ? 2 : m <= 5.000001 ? 5 : 10) * e;
}

static void svg_open(FILE *f, double w, double h)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"" FONT "\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            w, h, w, h);
}

/* Ends the document and renames it into place; any error removes the temporary. */
static bp_status svg_close(bp_atomic *a, bp_error *err)
{
    fputs("</svg>\n", a->f);
    if (ferror(a->f)) {
        bp_atomic_abort(a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed", a->path);
    }
    return bp_atomic_commit(a, err);
}

/* A title in bold and, below it, a grey line of detail, centred on cx. */
static void heading(FILE *f, double cx, double y, const char *title, const char *detail)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
               "font-weight=\"bold\" fill=\"#222\">%s</text>\n", cx, y, title);
    if (detail[0])
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                   "fill=\"#666\">%s</text>\n", cx, y + 17, detail);
}

/* ------------------------------------------------------------------------ */
/* Curves: axes, series, legend                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
    double lo, hi;       /* the range shown                  */
    double t0, t1, step; /* ticks t0, t0 + step, ... <= t1    */
} axis;

typedef struct {
    double x, y, w, h; /* plot area in SVG units */
    axis ax, ay;
} panel;

typedef struct {
    const double *v;    /* [n], NaN/Inf allowed: skipped, the line breaks */
    double scale;       /* shown value = v * scale (100 for percent)       */
    const char *name, *colour;
    int dashed, square; /* dashed line; hollow square markers, not dots   */
} series;

/* Data range [lo, hi] padded by 5 % (±10 % around a constant), kept inside
 * the natural bounds [b0, b1] when the data are, snapped to 1-2-5 ticks. */
static axis value_axis(double lo, double hi, double b0, double b1, int ticks)
{
    axis a;
    double pad = hi > lo ? 0.05 * (hi - lo) : lo != 0 ? 0.1 * fabs(lo) : 1.0;
    double min_lo = lo >= b0 ? b0 : -INFINITY, max_hi = hi <= b1 ? b1 : INFINITY;
    lo = fmax(lo - pad, min_lo);
    hi = fmin(hi + pad, max_hi);
    if (!(hi > lo)) { /* a denormal constant: pad by one */
        lo -= 1;
        hi += 1;
    }
    a.step = nice_step((hi - lo) / ticks);
    a.lo = a.t0 = fmax(floor(lo / a.step) * a.step, min_lo);
    a.hi = a.t1 = fmin(ceil(hi / a.step) * a.step, max_hi);
    return a;
}

/* Epochs 1..n with integer ticks, as many as labels of n's width allow. */
static axis epoch_axis(int n, double width)
{
    axis a;
    double room = 7.0 * snprintf(NULL, 0, "%d", n) + 18; /* px per label */
    double raw = (n - 1) / fmax(1.0, floor(width / room));
    double pad = n > 1 ? 0.03 * (n - 1) : 1.0;
    a.step = raw <= 1 ? 1 : round(nice_step(raw));
    a.lo = 1 - pad;
    a.hi = n + pad;
    a.t0 = a.step == 1 ? 1 : a.step;
    a.t1 = n;
    return a;
}

static double px(const panel *p, double x) { return p->x + (x - p->ax.lo) / (p->ax.hi - p->ax.lo) * p->w; }
static double py(const panel *p, double y) { return p->y + p->h - (y - p->ay.lo) / (p->ay.hi - p->ay.lo) * p->h; }

/* Ticks of a; tick i is t0 + i step (no accumulated rounding), at most 64. */
static int n_ticks(const axis *a)
{
    int n = (int)floor((a->t1 - a->t0) / a->step + 1e-6) + 1;
    return n < 0 ? 0 : n > 64 ? 64 : n;
}

static double tick(const axis *a, int i)
{
    double v = a->t0 + i * a->step;
    return fabs(v) < 1e-9 * a->step ? 0.0 : v; /* no "-1.4e-17" for zero */
}

static void draw_frame(FILE *f, const panel *p, const char *ylabel, const char *unit)
{
    double bottom = p->y + p->h;
    fputs("<g font-size=\"11\" fill=\"#333\" stroke-width=\"1\">\n", f);
    for (int i = 0; i < n_ticks(&p->ay); i++) { /* grid line, tick mark, label */
        double v = tick(&p->ay, i), y = py(p, v);
        fprintf(f, "<path d=\"M%.1f %.2fH%.1f\" stroke=\"#e4e4e4\"/><path d=\"M%.1f %.2fh4\" "
                   "stroke=\"#444\"/><text x=\"%.1f\" y=\"%.2f\" dy=\"0.35em\" text-anchor=\"end\">"
                   "%.6g%s</text>\n", p->x, y, p->x + p->w, p->x - 4, y, p->x - 7, y, v, unit);
    }
    for (int i = 0; i < n_ticks(&p->ax); i++) {
        double v = tick(&p->ax, i), x = px(p, v);
        fprintf(f, "<path d=\"M%.2f %.1fV%.1f\" stroke=\"#e4e4e4\"/><path d=\"M%.2f %.1fv4\" "
                   "stroke=\"#444\"/><text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
                x, p->y, bottom, x, bottom, x, bottom + 17, v);
    }
    fputs("</g>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#444\" stroke-width=\"1\"/>\n", p->x, p->y, p->w, p->h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#222\">epoch</text>\n",
            p->x + p->w / 2, bottom + 36);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" "
               "fill=\"#222\">%s</text>\n", p->x - 52, p->y + p->h / 2, ylabel);
}

/* Markers on every point only while epochs are MARKER_GAP apart. */
static int dotted(const panel *p, int n) { return p->w / n >= MARKER_GAP; }

static void marker(FILE *f, const series *s, const char *cls, double x, double y)
{
    if (s->square)
        fprintf(f, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"7\" height=\"7\" fill=\"#ffffff\" "
                   "stroke=\"%s\" stroke-width=\"1.5\"/>\n", cls, x - 3.5, y - 3.5, s->colour);
    else
        fprintf(f, "<circle class=\"%s\" cx=\"%.2f\" cy=\"%.2f\" r=\"3.2\" fill=\"%s\"/>\n", cls, x, y,
                s->colour);
}

/* The line breaks at unusable values; markers on every point when epochs
 * are far enough apart, else only on isolated points (a line of one point
 * would not show). */
static void draw_series(FILE *f, const panel *p, const series *s, int n)
{
    int open = 0, pen = 0;
    for (int i = 0; i < n; i++) {
        if (!usable(s->v[i])) {
            pen = 0;
            continue;
        }
        if (!open)
            fprintf(f, "<path class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                       "stroke-linejoin=\"round\"%s d=\"", s->colour,
                    s->dashed ? " stroke-dasharray=\"7 4\"" : "");
        fprintf(f, "%s%.2f %.2f", !open ? "M" : pen ? " L" : " M", px(p, i + 1), py(p, s->v[i] * s->scale));
        open = pen = 1;
    }
    if (open)
        fputs("\"/>\n", f);
    int all = dotted(p, n);
    for (int i = 0; i < n; i++) {
        int alone = (i == 0 || !usable(s->v[i - 1])) && (i == n - 1 || !usable(s->v[i + 1]));
        if (usable(s->v[i]) && (all || alone))
            marker(f, s, "marker", px(p, i + 1), py(p, s->v[i] * s->scale));
    }
}

/* A boxed key in the corner of the plot area that covers the fewest points. */
static void draw_legend(FILE *f, const panel *p, const series *s, int ns, int n)
{
    double w = 0, h = 10 + 20.0 * ns, best = INFINITY, bx = 0, by = 0;
    for (int k = 0; k < ns; k++)
        w = fmax(w, 52 + 6.5 * (double)strlen(s[k].name));
    for (int c = 0; c < 4; c++) { /* top right, bottom right, top left, bottom left */
        double x = c < 2 ? p->x + p->w - w - 8 : p->x + 8, y = c % 2 ? p->y + p->h - h - 8 : p->y + 8;
        int hits = 0;
        for (int k = 0; k < ns; k++)
            for (int i = 0; i < n; i++) {
                if (!usable(s[k].v[i]))
                    continue;
                double u = px(p, i + 1), v = py(p, s[k].v[i] * s[k].scale);
                hits += u > x - 6 && u < x + w + 6 && v > y - 6 && v < y + h + 6;
            }
        if (hits < best) {
            best = hits;
            bx = x;
            by = y;
        }
    }
    fprintf(f, "<g class=\"legend\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n", bx, by, w, h);
    for (int k = 0; k < ns; k++) {
        double y = by + 15 + 20.0 * k;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s/>\n", bx + 8, y, bx + 36, y, s[k].colour,
                s[k].dashed ? " stroke-dasharray=\"7 4\"" : "");
        if (dotted(p, n))
            marker(f, &s[k], "key", bx + 22, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" fill=\"#222\">%s</text>\n", bx + 44, y,
                s[k].name);
    }
    fputs("</g>\n", f);
}

/* One panel: axes fitted to the usable values inside bounds [b0, b1], the
 * series, the key, and a note about values that could not be drawn. */
static void draw_panel(FILE *f, panel *p, const char *title, const char *detail, const char *ylabel,
                       const char *unit, const series *s, int ns, int n, double b0, double b1)
{
    double lo = INFINITY, hi = -INFINITY;
    int bad = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < n; i++) {
            double v = s[k].v[i] * s[k].scale;
            if (!usable(s[k].v[i])) {
                bad++;
            } else {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    if (lo > hi) { /* nothing usable: an empty frame over the natural range */
        lo = b0;
        hi = isfinite(b1) ? b1 : 1;
    }
    p->ax = epoch_axis(n, p->w);
    p->ay = value_axis(lo, hi, b0, b1, 5);
    heading(f, p->x + p->w / 2, 22, title, detail);
    draw_frame(f, p, ylabel, unit);
    for (int k = 0; k < ns; k++)
        draw_series(f, p, &s[k], n);
    draw_legend(f, p, s, ns, n);
    if (bad == ns * n)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" fill=\"#c0392b\">"
                   "no finite values to plot</text>\n", p->x + p->w / 2, p->y + p->h / 2);
    else if (bad)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#c0392b\">"
                   "%d non-finite value%s not drawn</text>\n", p->x + p->w, p->y + p->h + 54, bad,
                bad > 1 ? "s" : "");
}

/* The last usable value of v [n] and its epoch (0 if none); best: the largest. */
static int pick(const double *v, int n, int best, double *out)
{
    int at = 0;
    for (int i = 0; i < n; i++)
        if (usable(v[i]) && (!at || !best || v[i] > *out)) {
            *out = v[i];
            at = i + 1;
        }
    return at;
}

bp_status bp_plot_curves(const char *path, int n, const double *train_loss, const double *val_loss,
                         const double *val_acc, bp_error *err)
{
    BP_NEED(path, err);
    if (n < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: curves need at least one epoch, got n = %d", path, n);
    if (!train_loss)
        return bp_fail(err, BP_ERR_ARG, "%s: no training losses to plot", path);

    const series loss[2] = {{train_loss, 1, "train", "#1f77b4", 0, 0},
                            {val_loss, 1, "validation", "#e8710a", 1, 1}};
    const series acc = {val_acc, 100, "validation", "#2a9d3a", 0, 0};
    double width = val_acc ? 450 : 900; /* each panel's share */
    panel pl = {.x = 72, .y = 62, .w = width - 72 - 24, .h = 286};
    panel pa = {.x = 450 + 72, .y = 62, .w = 450 - 72 - 24, .h = 286};

    char dl[160] = "", da[160] = "";
    double t = 0, v = 0, a = 0;
    int ta = pick(train_loss, n, 0, &t), va = val_loss ? pick(val_loss, n, 0, &v) : 0;
    int aa = val_acc ? pick(val_acc, n, 1, &a) : 0;
    if (ta && va)
        snprintf(dl, sizeof dl, "last: train %.4g (epoch %d), validation %.4g (epoch %d)", t, ta, v, va);
    else if (ta)
        snprintf(dl, sizeof dl, "last: train %.4g (epoch %d)", t, ta);
    if (aa)
        snprintf(da, sizeof da, "best: %.2f%% (epoch %d)", 100 * a, aa);

    bp_atomic at;
    bp_status s = bp_atomic_open(&at, path, err);
    if (s != BP_OK)
        return s;
    svg_open(at.f, 900, 420);
    draw_panel(at.f, &pl, "Loss", dl, "loss", "", loss, val_loss ? 2 : 1, n, 0, INFINITY);
    if (val_acc)
        draw_panel(at.f, &pa, "Validation accuracy", da, "accuracy (%)", "%", &acc, 1, n, 0, 100);
    return svg_close(&at, err);
}

/* ------------------------------------------------------------------------ */
/* Confusion matrix                                                          */
/* ------------------------------------------------------------------------ */

/* Light → dark blue by fraction f in [0, 1], through three stops (the key's
 * gradient); cells with no examples stay white, so a rare confusion in a
 * large matrix still shows. */
static void blues(double f, int rgb[3])
{
    static const int stop[3][3] = {{222, 235, 247}, {107, 174, 214}, {8, 48, 107}};
    int s = f >= 0.5;
    double t = 2 * f - s;
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround(stop[s][c] + (stop[s + 1][c] - stop[s][c]) * t);
}

/* s as SVG text: the five characters XML reserves escaped. */
static void put_xml(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
}

/* Class c's label: its name, or its number. */
static void put_class(FILE *f, const char *const *names, int c)
{
    if (names)
        put_xml(f, names[c]);
    else
        fprintf(f, "%d", c);
}

/* Characters of the longest name (UTF-8 continuation bytes not counted). */
static int longest_name(const char *const *names, int k)
{
    int most = 0;
    for (int c = 0; c < k; c++) {
        int n = 0;
        for (const char *p = names[c]; *p; p++)
            n += ((unsigned char)*p & 0xC0) != 0x80;
        most = n > most ? n : most;
    }
    return most;
}

bp_status bp_plot_confusion(const char *path, int k, const long *confusion, bp_error *err)
{
    return bp_plot_confusion_named(path, k, confusion, NULL, err);
}

bp_status bp_plot_confusion_named(const char *path, int k, const long *confusion,
                                  const char *const *names, bp_error *err)
{
    BP_NEED(path, err);
    if (k < 1)
        return bp_fail(err, BP_ERR_ARG, "%s: a confusion matrix needs at least one class, got k = %d",
                       path, k);
    if (!confusion)
        return bp_fail(err, BP_ERR_ARG, "%s: no confusion matrix to plot", path);
    double total = 0, trace = 0;
    long most = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            long c = confusion[(size_t)i * k + j];
            if (c < 0)
                return bp_fail(err, BP_ERR_ARG, "%s: count for true class %d, predicted %d is %ld, "
                               "expected >= 0", path, i, j, c);
            total += (double)c;
            trace += i == j ? (double)c : 0;
            most = c > most ? c : most;
        }

    for (int c = 0; names && c < k; c++)
        if (!names[c])
            return bp_fail(err, BP_ERR_ARG, "%s: class %d has no name", path, c);

    /* cells shrink with k (the matrix 200..560 units wide), the matrix and
     * its key centred; counts drawn only where a readable font fits; names
     * widen the left margin and stand at 45 degrees under the columns */
    double cell = fmin(fmax(200.0 / k, 90), 560.0 / k), S = cell * k, top = 78;
    double lfs = fmin(12, fmax(7, 0.55 * cell));
    double name_w = names ? 0.6 * lfs * longest_name(names, k) : 0;
    double lm = fmax(84, name_w + 44), bm = 0.71 * name_w;
    double W = fmax(lm + S + 124, 560), H = top + S + 64 + bm, left = lm + (W - (lm + S + 124)) / 2;
    double fs = fmin(14, fmin(0.4 * cell, 0.85 * cell / (0.6 * snprintf(NULL, 0, "%ld", most))));
    double need = names ? lfs + 2 /* px per tick label */
                        : 0.6 * lfs * snprintf(NULL, 0, "%d", k - 1) + 6;
    int lstep = need <= cell ? 1 : (int)round(nice_step(need / cell));
    char detail[160];
    if (total > 0)
        snprintf(detail, sizeof detail, "accuracy %.2f%% (%.0f of %.0f on the diagonal)",
                 100 * trace / total, trace, total);
    else
        snprintf(detail, sizeof detail, "no examples counted");

    bp_atomic at;
    bp_status s = bp_atomic_open(&at, path, err);
    if (s != BP_OK)
        return s;
    FILE *f = at.f;
    svg_open(f, W, H);
    heading(f, W / 2, 26, "Confusion matrix", detail);
    fputs("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
          "<stop offset=\"0\" stop-color=\"#deebf7\"/><stop offset=\"0.5\" stop-color=\"#6baed6\"/>"
          "<stop offset=\"1\" stop-color=\"#08306b\"/></linearGradient></defs>\n", f);

    /* a cell, then its count: dark text on light cells, white on dark, zeros
     * in grey and left out where the font is small and the matrix dense */
    fprintf(f, "<g text-anchor=\"middle\" font-size=\"%.1f\">\n", fs);
    for (int i = 0; i < k; i++) {
        const long *row = confusion + (size_t)i * k;
        double sum = 0;
        for (int j = 0; j < k; j++)
            sum += (double)row[j];
        for (int j = 0; j < k; j++) {
            double fr = sum > 0 ? (double)row[j] / sum : 0;
            int rgb[3] = {255, 255, 255};
            if (row[j] > 0)
                blues(fr, rgb);
            fprintf(f, "<rect class=\"cell\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                       "fill=\"#%02x%02x%02x\"%s><title>true ", left + j * cell, top + i * cell,
                    cell, cell, rgb[0], rgb[1], rgb[2], cell >= 12 ? " stroke=\"#e0e0e0\"" : "");
            put_class(f, names, i);
            fputs(", predicted ", f);
            put_class(f, names, j);
            fprintf(f, ": %ld (%.1f%% of row)</title></rect>\n", row[j], 100 * fr);
            if (fs >= 6 && (row[j] > 0 || fs >= 10))
                fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" dy=\"0.35em\" fill=\"%s\">%ld</text>\n",
                        left + (j + 0.5) * cell, top + (i + 0.5) * cell,
                        row[j] == 0 ? "#a0a0a0" : fr > 0.5 ? "#ffffff" : "#1a1a1a", row[j]);
        }
    }
    fputs("</g>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#444\"/>\n",
            left, top, S, S);

    fprintf(f, "<g font-size=\"%.1f\" fill=\"#333\">\n", lfs);
    for (int c = 0; c < k; c += lstep) {
        double x = left + (c + 0.5) * cell;
        if (names)
            fprintf(f, "<text transform=\"translate(%.2f %.1f) rotate(-45)\" "
                       "text-anchor=\"end\">", x + 0.3 * lfs, top + S + 8);
        else
            fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">", x,
                    top + S + lfs + 4);
        put_class(f, names, c);
        fprintf(f, "</text>\n<text x=\"%.1f\" y=\"%.2f\" dy=\"0.35em\" text-anchor=\"end\">",
                left - 6, top + (c + 0.5) * cell);
        put_class(f, names, c);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#222\">predicted class</text>\n"
               "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" "
               "fill=\"#222\">true class</text>\n", left + S / 2, top + S + 40 + bm,
            left - lm + 34, top + S / 2);

    /* the colour key: fraction of the true class's examples */
    double kx = left + S + 26, kh = S;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.2f\" fill=\"url(#scale)\" "
               "stroke=\"#888\"/>\n<g font-size=\"10\" fill=\"#333\">\n", kx, top, kh);
    for (int q = 0; q <= 4; q++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.2f\" dy=\"0.35em\">%d%%</text>\n", kx + 19,
                top + kh * (1 - q / 4.0), 25 * q);
    fprintf(f, "</g>\n<text transform=\"translate(%.1f %.1f) rotate(90)\" text-anchor=\"middle\" "
               "font-size=\"11\" fill=\"#333\">share of the true class (row)</text>\n",
            kx + 54, top + kh / 2);
    return svg_close(&at, err);
}
