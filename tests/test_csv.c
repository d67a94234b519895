/*
 * test_csv.c — the CSV reader and writer: files that must be read and what
 * they hold, files that must be refused and how the refusal reads, and a
 * bit-exact write→read round trip. Not a test of the CLI's use of them.
 */
#define _POSIX_C_SOURCE 200809L
#include "backprop.h"
#include "check.h"
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ------------------------------------------------------------------------ */
/* Files that must be read                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *text;
    int rows, cols;
    float want[8];
} good_case;

static void test_good(void)
{
    static const good_case cases[] = {
        {"1,2,3\n4,5,6\n", 2, 3, {1, 2, 3, 4, 5, 6}},
        {"1,2,3\n4,5,6", 2, 3, {1, 2, 3, 4, 5, 6}},           /* no final newline */
        {"1,2\r\n3,4\r\n", 2, 2, {1, 2, 3, 4}},               /* CRLF */
        {"1,2\r\n3,4", 2, 2, {1, 2, 3, 4}},                   /* CRLF, none final */
        {" 1 ,\t2\t\n  3,4  \n", 2, 2, {1, 2, 3, 4}},         /* blanks around values */
        {"1e3,-2.5E-2,+7\n.5,-0,0x1p-2\n", 2, 3, {1000, -0.025f, 7, 0.5f, -0.0f, 0.25f}},
        {"-1\n-2\n-3\n", 3, 1, {-1, -2, -3}},                 /* single column */
        {"42", 1, 1, {42}},
        {"1,2\n3,4\n\n\n", 2, 2, {1, 2, 3, 4}},               /* blank lines at the end */
        {"1,2\n3,4\n \t\n\r\n", 2, 2, {1, 2, 3, 4}},          /* blank-ish lines at the end */
        {"1e-40,3.4028235e38\n", 1, 2, {1e-40f, 3.4028235e38f}}, /* subnormal, FLT_MAX */
        {"1e-50\n", 1, 1, {0}},                               /* underflow to zero */
        {"\"1\",\"2\"\n\"3\",\"4\"\n", 2, 2, {1, 2, 3, 4}},       /* QUOTE_ALL */
        {" \" 1 \" ,2\n", 1, 2, {1, 2}},                      /* blanks in and out of quotes */
        {"1;2;3\n4;5;6\n", 2, 3, {1, 2, 3, 4, 5, 6}},           /* semicolons */
        {"\"1\";\"2\"\r\n3;4\r\n", 2, 2, {1, 2, 3, 4}},         /* quoted semicolons, CRLF */
        {"1\t2\n3\t4\n", 2, 2, {1, 2, 3, 4}},                 /* tabs */
        {"1\t-2.5\n 3 \t4\n", 2, 2, {1, -2.5f, 3, 4}},       /* a tab file keeps spaces blank */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const good_case *g = &cases[c];
        const char *path = tmp_put("good.csv", g->text, strlen(g->text));
        float *data = NULL;
        int rows = -1, cols = -1;
        bp_error err = {""};
        bp_status s = bp_csv_read(path, &data, &rows, &cols, &err);
        CHECK(s == BP_OK, "case %zu: %s", c, err.msg);
        CHECK(rows == g->rows && cols == g->cols, "case %zu: [%d, %d]", c, rows, cols);
        for (int i = 0; s == BP_OK && i < rows * cols; i++)
            CHECK(memcmp(&data[i], &g->want[i], sizeof(float)) == 0,
                  "case %zu value %d: %.9g want %.9g", c, i, data[i], g->want[i]);
        free(data);
    }
}

/* A line of 100k characters, both as many columns and as one long number. */
static void test_long_lines(void)
{
    enum { N = 25000 }; /* "0.25," is 5 chars: 125k chars */
    size_t cap = (size_t)N * 5 + 200000;
    char *text = malloc(cap);
    CHECK(text != NULL, "malloc");
    if (!text)
        return;
    size_t n = 0;
    for (int r = 0; r < 2; r++) {
        for (int j = 0; j < N; j++)
            n += (size_t)snprintf(text + n, cap - n, j ? ",%d.25" : "%d.25", j % 10);
        text[n++] = '\n';
    }
    const char *path = tmp_put("wide.csv", text, n);
    float *data = NULL;
    int rows = 0, cols = 0;
    bp_error err = {""};
    CHECK(bp_csv_read(path, &data, &rows, &cols, &err) == BP_OK, "%s", err.msg);
    CHECK(rows == 2 && cols == N, "[%d, %d]", rows, cols);
    int ok = data != NULL;
    for (int i = 0; ok && i < rows * cols; i++)
        ok = data[i] == (float)(i % N % 10) + 0.25f;
    CHECK(ok, "wide values");
    free(data);

    /* 0.000…0001 then 100k zeros: "1e-100001"-ish underflows to 0; "1" then
     * 100k zeros after the point is exactly 1 */
    n = 0;
    text[n++] = '1';
    text[n++] = '.';
    memset(text + n, '0', 100000);
    n += 100000;
    memcpy(text + n, ",2\n", 3);
    n += 3;
    path = tmp_put("long.csv", text, n);
    data = NULL;
    CHECK(bp_csv_read(path, &data, &rows, &cols, &err) == BP_OK, "%s", err.msg);
    CHECK(rows == 1 && cols == 2 && data && data[0] == 1.0f && data[1] == 2.0f, "long number");
    free(data);
    free(text);
}

/* ------------------------------------------------------------------------ */
/* Files that must be refused                                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *text;
    size_t len;          /* 0: strlen(text) */
    bp_status status;
    const char *where;   /* what follows the path, e.g. ":3:2:"; ":" alone when no line */
    const char *also;    /* a fragment the message must hold, or NULL */
} bad_case;

static void check_bad(const bad_case *b, const char *path)
{
    float *data = (float *)&data; /* must be reset to NULL */
    int rows = 7, cols = 7;
    bp_error err = {""};
    bp_status s = bp_csv_read(path, &data, &rows, &cols, &err);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s%s", path, b->where);
    CHECK(s == b->status, "%s: status %s: %s", b->name, bp_status_string(s), err.msg);
    CHECK(data == NULL && rows == 0 && cols == 0, "%s: outputs not reset", b->name);
    CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0, "%s: message \"%s\" does not start \"%s\"",
          b->name, err.msg, prefix);
    CHECK(!b->also || strstr(err.msg, b->also), "%s: message \"%s\" lacks %s", b->name, err.msg,
          b->also);
    CHECK(!strchr(err.msg, '\n'), "%s: two lines", b->name);
    if (s == BP_OK)
        free(data);
}

static void test_bad(void)
{
    static const bad_case cases[] = {
        {"empty", "", 0, BP_ERR_FORMAT, ":", "no data"},
        {"ragged", "1,2,3\n4,5,6\n7,8\n", 0, BP_ERR_FORMAT, ":3:", "expected 3 columns, got 2"},
        {"ragged-long", "1,2\n3,4,5\n", 0, BP_ERR_FORMAT, ":2:", "expected 2 columns, got 3"},
        {"blank-middle", "1,2\n\n3,4\n", 0, BP_ERR_FORMAT, ":2:", "blank line"},
        {"blank-ws-middle", "1,2\n \t\r\n3,4\n", 0, BP_ERR_FORMAT, ":2:", "blank line"},
        {"blank-first", "\n1,2\n", 0, BP_ERR_FORMAT, ":1:", "blank line"},
        {"abc", "1,2\n3,abc\n", 0, BP_ERR_FORMAT, ":2:2:", "not a number: \"abc\""},
        {"garbage", "1.5x,2\n", 0, BP_ERR_FORMAT, ":1:1:", "\"1.5x\""},
        {"inner-space", "1 2,3\n", 0, BP_ERR_FORMAT, ":1:1:", "\"1 2\""},
        {"empty-field", "1,,2\n", 0, BP_ERR_FORMAT, ":1:2:", "empty value"},
        {"blank-field", "1, \t,2\n", 0, BP_ERR_FORMAT, ":1:2:", "empty value"},
        {"trailing-comma", "1,2,\n", 0, BP_ERR_FORMAT, ":1:3:", "empty value"},
        {"trailing-comma-2", "1,2\n3,4,\n", 0, BP_ERR_FORMAT, ":2:", "expected 2 columns, got 3"},
        {"nan", "1,nan\n", 0, BP_ERR_NONFINITE, ":1:2:", "\"nan\""},
        {"NaN", "1\nNaN\n", 0, BP_ERR_NONFINITE, ":2:1:", "\"NaN\""},
        {"inf", "inf,1\n", 0, BP_ERR_NONFINITE, ":1:1:", "\"inf\""},
        {"-inf", "1,2\n3,-inf\n", 0, BP_ERR_NONFINITE, ":2:2:", "\"-inf\""},
        {"infinity", "Infinity\n", 0, BP_ERR_NONFINITE, ":1:1:", NULL},
        {"1e39", "1,1e39\n", 0, BP_ERR_FORMAT, ":1:2:", "out of range for float: \"1e39\""},
        {"-1e39", "-1e39\n", 0, BP_ERR_FORMAT, ":1:1:", "out of range"},
        {"1e400", "1e400\n", 0, BP_ERR_FORMAT, ":1:1:", "out of range"},
        {"nul", "1,2\n3,\0" "4\n", 9, BP_ERR_FORMAT, ":2:", "NUL"},
        {"header", "a,b\n1,2\n", 0, BP_ERR_FORMAT, ":1:1:", "\"a\""},
        {"whitespace-only", "  \n\t\n\r\n", 0, BP_ERR_FORMAT, ":", "no data"},
        {"lone-cr", "1\r2\n", 0, BP_ERR_FORMAT, ":1:1:", "\"1\\x0d2\""},
        {"vtab", "\v1\n", 0, BP_ERR_FORMAT, ":1:1:", "\"\\x0b1\""},
        {"control", "1\x01,2\n", 0, BP_ERR_FORMAT, ":1:1:", "\"1\\x01\""},
        {"unclosed-quote", "1,2\n\"3,4\n", 0, BP_ERR_FORMAT, ":2:1:", "quote never closed"},
        {"unclosed-quote-2", "\"1\",\"2\n", 0, BP_ERR_FORMAT, ":1:2:", "quote never closed"},
        {"after-quote", "\"1\"x,2\n", 0, BP_ERR_FORMAT, ":1:1:", "after the closing quote"},
        {"doubled-quote", "\"1\"\"\",2\n", 0, BP_ERR_FORMAT, ":1:1:", "not a number"},
        {"quoted-empty", "\"\",2\n", 0, BP_ERR_FORMAT, ":1:1:", "empty value"},
        {"decimal-comma", "1;5,1\n", 0, BP_ERR_FORMAT, ":1:2:", "decimal comma"},
        {"decimal-comma-neg", "-5,25;1\n", 0, BP_ERR_FORMAT, ":1:1:", "decimal comma"},
        {"semicolon-ragged", "1;2\n3;4;5\n", 0, BP_ERR_FORMAT, ":2:", "expected 2 columns"},
        {"mixed-sep", "1;2\n3,4\n", 0, BP_ERR_FORMAT, ":2:", "expected 2 columns, got 1"},
        {"decimal-comma-ish", "1.2.3\n", 0, BP_ERR_FORMAT, ":1:1:", NULL},
        {"bom", "\xef\xbb\xbf" "1,2\n", 0, BP_ERR_FORMAT, ":1:1:", "\\xef\\xbb\\xbf1"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const bad_case *b = &cases[c];
        size_t len = b->len ? b->len : strlen(b->text);
        char name[64];
        snprintf(name, sizeof name, "bad%zu.csv", c);
        check_bad(b, tmp_put(name, b->text, len));
    }

    /* a long token is quoted truncated, the message stays one short line */
    char text[300];
    memset(text, 'x', 200);
    memcpy(text + 200, "\n", 2);
    bad_case longtok = {"long-token", text, 0, BP_ERR_FORMAT, ":1:1:", "xxx...\""};
    check_bad(&longtok, tmp_put("longtok.csv", text, strlen(text)));

    char missing[128];
    snprintf(missing, sizeof missing, "%s/no-such.csv", dir);
    bad_case nofile = {"missing", NULL, 0, BP_ERR_IO, ": ", strerror(ENOENT)};
    check_bad(&nofile, missing);

    bad_case isdir = {"directory", NULL, 0, BP_ERR_IO, ":", NULL};
    check_bad(&isdir, dir);
}

/* ------------------------------------------------------------------------ */
/* Writing and the round trip                                                */
/* ------------------------------------------------------------------------ */

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_round_trip(void)
{
    enum { R = 500, C = 7 };
    float *x = malloc(sizeof(float) * R * C);
    CHECK(x != NULL, "malloc");
    if (!x)
        return;
    const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 1.0f / 3, FLT_MIN, -FLT_MIN,
                             FLT_MAX, -FLT_MAX, FLT_TRUE_MIN, -FLT_TRUE_MIN,
                             from_bits(0x007fffff), from_bits(0x00000003), 1e-40f, 3e38f,
                             16777216.0f, 16777215.0f, 1e-7f, 123456789.0f, 0.3f};
    size_t n_special = sizeof special / sizeof special[0];
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < (size_t)R * C; i++) {
        if (i < n_special) {
            x[i] = special[i];
            continue;
        }
        float f;
        do { /* random bit patterns: every exponent, subnormals included */
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            f = from_bits((uint32_t)(state >> 32));
        } while (!isfinite(f));
        x[i] = f;
    }

    char path[128];
    snprintf(path, sizeof path, "%s/rt.csv", dir);
    bp_error err = {""};
    CHECK(bp_csv_write(path, x, R, C, &err) == BP_OK, "%s", err.msg);
    float *y = NULL;
    int rows = 0, cols = 0;
    CHECK(bp_csv_read(path, &y, &rows, &cols, &err) == BP_OK, "%s", err.msg);
    CHECK(rows == R && cols == C, "[%d, %d]", rows, cols);
    CHECK(y && memcmp(x, y, sizeof(float) * R * C) == 0, "round trip is not bit-exact");
    free(y);

    /* shortest decimals: exactly what a reader expects to see */
    const float few[] = {0.1f, 1.0f, -0.0f, 2.5e-3f, FLT_MAX, 1.0f / 3};
    CHECK(bp_csv_write(path, few, 2, 3, &err) == BP_OK, "%s", err.msg);
    FILE *f = fopen(path, "rb");
    char buf[256] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strcmp(buf, "0.1,1,-0\n0.0025,3.4028235e+38,0.33333334\n") == 0, "wrote \"%s\"", buf);

    /* a NaN is refused before anything is written; the old file stays */
    x[5] = NAN;
    CHECK(bp_csv_write(path, x, R, C, &err) == BP_ERR_NONFINITE, "NaN written");
    CHECK(strncmp(err.msg, path, strlen(path)) == 0 && strstr(err.msg, "row 1, column 6"), "%s",
          err.msg);
    x[5] = -INFINITY;
    char fresh[160];
    snprintf(fresh, sizeof fresh, "%s/fresh.csv", dir);
    CHECK(bp_csv_write(fresh, x, R, C, &err) == BP_ERR_NONFINITE, "Inf written");
    CHECK(!exists(fresh), "a refused write left a file");
    f = fopen(path, "rb");
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strcmp(buf, "0.1,1,-0\n0.0025,3.4028235e+38,0.33333334\n") == 0, "old file changed");

    /* a folder that does not exist: an I/O error and no file */
    char nowhere[160];
    snprintf(nowhere, sizeof nowhere, "%s/no-such-dir/out.csv", dir);
    CHECK(bp_csv_write(nowhere, few, 2, 3, &err) == BP_ERR_IO, "write into a missing folder");
    CHECK(strncmp(err.msg, nowhere, strlen(nowhere)) == 0, "%s", err.msg);

    CHECK(bp_csv_write(path, few, 2, 0, &err) == BP_ERR_ARG, "zero columns");
    CHECK(bp_csv_write("-", few, 1, 3, &err) == BP_OK, "stdout: %s", err.msg);
    free(x);
}

int main(void)
{
    tmp_make("test_csv");
    test_good();
    test_long_lines();
    test_bad();
    test_round_trip();
    CHECK(tmp_remove() == 0, "rmdir %s", dir);
    CHECK_DONE();
}
