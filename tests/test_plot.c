/*
 * test_plot.c — the SVG plots: well-formed documents (balanced elements, no
 * "nan"/"inf" in a number), the labels, markers and cells a reader expects,
 * awkward inputs (one epoch, NaN/Inf, constant and all-NaN series, 1000
 * epochs, 100 classes, a class with no examples), and refused arguments that
 * leave no file behind. Not a judgement of how the pictures look: that is
 * checked by eye (BP_TEST_KEEP=1 keeps the folder and prints its name).
 */
#define _POSIX_C_SOURCE 200809L
#include "backprop.h"
#include "check.h"
#include "tmpdir.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole file, NUL-terminated and malloc'ed; NULL if it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *s = malloc(cap + 1);
    while (s && (got = fread(s + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *t = realloc(s, 2 * cap + 1);
            if (!t) {
                free(s);
                s = NULL;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Every element opened is closed in order, or self-closed; one root <svg>. */
static int balanced(const char *s)
{
    char stack[64][16];
    int depth = 0, roots = 0;
    for (const char *p = strchr(s, '<'); p; p = strchr(p, '<')) {
        if (p[1] == '?') { /* the XML declaration */
            p = strstr(p, "?>");
            if (!p)
                return 0;
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " \t\n/>");
        const char *end = name + len;
        for (char q = 0; *end && (q || *end != '>'); end++) /* '>' inside quotes is no end */
            q = *end == '"' ? (q ? 0 : '"') : q;
        if (!*end || len == 0 || len >= sizeof stack[0])
            return 0;
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], name, len) != 0 || stack[depth - 1][len])
                return 0;
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 64)
                return 0;
            if (depth == 0)
                roots++;
            memcpy(stack[depth], name, len);
            stack[depth++][len] = '\0';
        }
        p = end;
    }
    return depth == 0 && roots == 1;
}

/* "nan" or "inf" standing alone (not inside a word such as "finite"). */
static int bad_number(const char *s)
{
    for (const char *p = s; *p; p++) {
        int before = p == s || !isalpha((unsigned char)p[-1]);
        if (before && (strncmp(p, "nan", 3) == 0 || strncmp(p, "inf", 3) == 0) &&
            !isalpha((unsigned char)p[3]))
            return 1;
    }
    return 0;
}

/* Reads name and checks it is a complete, well-formed SVG; the caller frees. */
static char *svg(const char *name)
{
    char *s = slurp(tmp_path(name));
    CHECK(s != NULL, "%s: not written", name);
    if (!s)
        return NULL;
    const char *root = strncmp(s, "<?xml", 5) == 0 ? strstr(s, "?>\n") + 3 : s;
    size_t n = strlen(s);
    CHECK(strncmp(root, "<svg ", 5) == 0, "%s: does not start with <svg", name);
    CHECK(n > 7 && strcmp(s + n - 7, "</svg>\n") == 0, "%s: does not end with </svg>", name);
    CHECK(balanced(s), "%s: unbalanced elements", name);
    CHECK(!bad_number(s), "%s: a nan or inf printed", name);
    CHECK(strstr(s, "viewBox=\"0 0 ") != NULL, "%s: no viewBox", name);
    return s;
}

/* ------------------------------------------------------------------------ */
/* Curves                                                                    */
/* ------------------------------------------------------------------------ */

static void test_curves(void)
{
    bp_error err = {{0}};
    char *s;

    double t1 = 0.7, v1 = 0.9, a1 = 0.5;
    CHECK(bp_plot_curves(tmp_path("one.svg"), 1, &t1, &v1, &a1, &err) == BP_OK, "%s", err.msg);
    if ((s = svg("one.svg"))) {
        CHECK(count(s, "class=\"marker\"") == 3, "one epoch: %d markers", count(s, "class=\"marker\""));
        CHECK(strstr(s, ">epoch</text>") && strstr(s, ">Loss</text>"), "one epoch: axis label, title");
        CHECK(strstr(s, ">train</text>") && strstr(s, ">validation</text>"), "one epoch: legend");
        CHECK(strstr(s, ">Validation accuracy</text>") != NULL, "one epoch: accuracy panel");
        free(s);
    }

    /* NaN in the training loss, Inf in the validation loss: 9 + 9 + 10 markers */
    double t[10], v[10], a[10];
    for (int i = 0; i < 10; i++) {
        t[i] = 0.1 + 0.8 * (9 - i) / 9.0; /* 0.9 → 0.1: the axis is 0 .. 1 in steps of 0.2 */
        v[i] = t[i] + 0.05;
        a[i] = 0.5 + 0.04 * i;
    }
    t[4] = NAN;
    v[7] = INFINITY;
    CHECK(bp_plot_curves(tmp_path("ten.svg"), 10, t, v, a, &err) == BP_OK, "%s", err.msg);
    if ((s = svg("ten.svg"))) {
        CHECK(count(s, "class=\"marker\"") == 28, "ten: %d markers", count(s, "class=\"marker\""));
        CHECK(count(s, "class=\"line\"") == 3, "ten: %d lines", count(s, "class=\"line\""));
        CHECK(count(s, "class=\"legend\"") == 2, "ten: %d legends", count(s, "class=\"legend\""));
        CHECK(strstr(s, "2 non-finite values not drawn") != NULL, "ten: no note of the NaN");
        CHECK(strstr(s, ">0.4</text>") && strstr(s, ">1</text>") && strstr(s, ">10</text>"),
              "ten: expected 1-2-5 ticks");
        CHECK(strstr(s, ">60%</text>") != NULL, "ten: accuracy in percent");
        free(s);
    }

    /* training loss alone: one panel, one series, no validation key */
    CHECK(bp_plot_curves(tmp_path("train.svg"), 10, a, NULL, NULL, &err) == BP_OK, "%s", err.msg);
    if ((s = svg("train.svg"))) {
        CHECK(count(s, "class=\"marker\"") == 10, "train only: markers");
        CHECK(count(s, "class=\"line\"") == 1, "train only: lines");
        CHECK(!strstr(s, "validation") && !strstr(s, "accuracy"), "train only: validation shown");
        free(s);
    }

    /* a constant series, and one with nothing finite in it */
    double c[5] = {0.5, 0.5, 0.5, 0.5, 0.5}, z[5] = {0, 0, 0, 0, 0};
    double nan5[5] = {NAN, NAN, INFINITY, -INFINITY, NAN};
    CHECK(bp_plot_curves(tmp_path("flat.svg"), 5, c, z, c, &err) == BP_OK, "%s", err.msg);
    free(svg("flat.svg"));
    CHECK(bp_plot_curves(tmp_path("nan.svg"), 5, nan5, nan5, nan5, &err) == BP_OK, "%s", err.msg);
    if ((s = svg("nan.svg"))) {
        CHECK(count(s, "no finite values to plot") == 2, "all NaN: no note");
        CHECK(count(s, "class=\"marker\"") == 0 && count(s, "class=\"line\"") == 0, "all NaN: drawn");
        free(s);
    }

    /* 1000 epochs: lines without markers, thinned epoch ticks */
    double *tl = malloc(3 * 1000 * sizeof *tl);
    if (tl) {
        for (int i = 0; i < 1000; i++) {
            tl[i] = 2.0 * exp(-i / 150.0) + 0.05 + 0.02 * sin(i * 0.7);
            tl[1000 + i] = tl[i] + 0.1 + 0.0002 * i;
            tl[2000 + i] = 0.98 - 0.6 * exp(-i / 100.0);
        }
        tl[500] = NAN;
        CHECK(bp_plot_curves(tmp_path("long.svg"), 1000, tl, tl + 1000, tl + 2000, &err) == BP_OK, "%s",
              err.msg);
        if ((s = svg("long.svg"))) {
            CHECK(count(s, "class=\"marker\"") == 0, "long: %d markers", count(s, "class=\"marker\""));
            CHECK(count(s, "class=\"line\"") == 3, "long: lines");
            CHECK(strstr(s, ">1000</text>") && !strstr(s, ">999</text>"), "long: epoch ticks");
            free(s);
        }
        free(tl);
    }

    /* refused: nothing written, the message starts with the path */
    char bad[384];
    snprintf(bad, sizeof bad, "%s", tmp_path("bad.svg"));
    CHECK(bp_plot_curves(bad, 0, t, v, a, &err) == BP_ERR_ARG, "n = 0 accepted");
    CHECK(strncmp(err.msg, bad, strlen(bad)) == 0, "message: %s", err.msg);
    CHECK(bp_plot_curves(bad, 3, NULL, v, a, &err) == BP_ERR_ARG, "no training loss accepted");
    CHECK(strncmp(err.msg, bad, strlen(bad)) == 0, "message: %s", err.msg);
    CHECK(bp_plot_curves(NULL, 3, t, v, a, &err) == BP_ERR_ARG, "no path accepted");
    CHECK(bp_plot_curves("/nonexistent-dir/x.svg", 3, t, v, a, &err) == BP_ERR_IO, "bad folder");
    CHECK(strncmp(err.msg, "/nonexistent-dir/x.svg", 22) == 0, "message: %s", err.msg);
    CHECK(access(bad, F_OK) != 0, "a refused plot left a file");
}

/* ------------------------------------------------------------------------ */
/* Confusion matrices                                                        */
/* ------------------------------------------------------------------------ */

static void test_confusion(void)
{
    bp_error err = {{0}};
    char *s, name[32];

    long two[4] = {40, 10, 5, 45};
    CHECK(bp_plot_confusion(tmp_path("k2.svg"), 2, two, &err) == BP_OK, "%s", err.msg);
    if ((s = svg("k2.svg"))) {
        CHECK(count(s, "<rect class=\"cell\"") == 4, "k = 2: cells");
        CHECK(strstr(s, ">45</text>") && strstr(s, ">10</text>"), "k = 2: counts");
        CHECK(strstr(s, "accuracy 85.00% (85 of 100") != NULL, "k = 2: accuracy in the title");
        CHECK(strstr(s, ">predicted class</text>") && strstr(s, ">true class</text>"), "k = 2: axes");
        free(s);
    }

    long one = 7;
    CHECK(bp_plot_confusion(tmp_path("k1.svg"), 1, &one, &err) == BP_OK, "%s", err.msg);
    free(svg("k1.svg"));

    /* k = 10 with an empty row (class 3 never occurs), k = 100 */
    static long m[100 * 100];
    for (int k = 10; k <= 100; k += 90) {
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                m[i * k + j] = i == 3 ? 0 : i == j ? 900 + 10 * i : (i * 7 + j * 3) % 11 == 0 ? 25 : 0;
        snprintf(name, sizeof name, "k%d.svg", k);
        CHECK(bp_plot_confusion(tmp_path(name), k, m, &err) == BP_OK, "%s", err.msg);
        if ((s = svg(name))) {
            CHECK(count(s, "<rect class=\"cell\"") == k * k, "k = %d: %d cells", k,
                  count(s, "<rect class=\"cell\""));
            CHECK(strstr(s, "true 3, predicted 3: 0 (0.0% of row)") != NULL, "k = %d: empty row", k);
            if (k == 10)
                CHECK(strstr(s, ">990</text>") != NULL, "k = 10: counts in the cells");
            else
                CHECK(!strstr(s, ">990</text>") && strstr(s, ">95</text>"), "k = 100: text, ticks");
            free(s);
        }
    }

    char bad[384];
    snprintf(bad, sizeof bad, "%s", tmp_path("badm.svg"));
    long neg[4] = {1, 2, -3, 4};
    CHECK(bp_plot_confusion(bad, 2, neg, &err) == BP_ERR_ARG, "negative count accepted");
    CHECK(strncmp(err.msg, bad, strlen(bad)) == 0 && strstr(err.msg, "-3"), "message: %s", err.msg);
    CHECK(bp_plot_confusion(bad, 0, two, &err) == BP_ERR_ARG, "k = 0 accepted");
    CHECK(strncmp(err.msg, bad, strlen(bad)) == 0, "message: %s", err.msg);
    CHECK(bp_plot_confusion(bad, 2, NULL, &err) == BP_ERR_ARG, "no matrix accepted");
    CHECK(access(bad, F_OK) != 0, "a refused plot left a file");

    /* a second write replaces the first whole */
    long three[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    CHECK(bp_plot_confusion(tmp_path("k2.svg"), 3, three, &err) == BP_OK, "%s", err.msg);
    if ((s = svg("k2.svg"))) {
        CHECK(count(s, "<rect class=\"cell\"") == 9, "rewrite: cells");
        free(s);
    }
    CHECK(tmp_temporaries() == 0, "temporary files left behind");
}

int main(void)
{
    tmp_make("test_plot");
    test_curves();
    test_confusion();
    if (getenv("BP_TEST_KEEP")) {
        printf("plots kept in %s\n", dir);
    } else {
        CHECK(tmp_remove() == 0, "rmdir %s", dir);
    }
    CHECK_DONE();
}
