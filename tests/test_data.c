/*
 * test_data.c — the data set loaders (IDX plain and gzip'ed, CSV, FANN),
 * moments and gather: small files written here whose every value is checked,
 * malformed files that must be refused with a message naming the file, and
 * Fashion-MNIST where the machine has it. Not a test of training on them.
 */
#define _POSIX_C_SOURCE 200809L
#include "backprop.h"
#include "check.h"
#include "tools.h" /* bp_net_columns: the fills a model keeps */

/* one-hot targets: classes that are not stored as labels */
#define ONE_HOT(ds) (bp_dataset_has_classes(ds) && !bp_dataset_has_labels(ds))
#include "tmpdir.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Writes n bytes to dir/name, gzip'ed if gz; returns the path (static). */
static const char *put_file(const char *name, const void *bytes, size_t n, int gz)
{
    if (!gz)
        return tmp_put(name, bytes, n);
    const char *path = tmp_path(name);
    gzFile g = gzopen(path, "wb");
    int ok = g && (n == 0 || gzwrite(g, bytes, (unsigned)n) == (int)n);
    if (!(g && gzclose(g) == Z_OK && ok)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return path;
}

static const char *put(const char *name, const char *text)
{
    return put_file(name, text, strlen(text), 0);
}

/* A refusal: not OK (want, unless 0), no data set, and a message that starts
 * with the path and, if needle is set, contains it. */
static void refused(const char *what, bp_status s, bp_status want, const bp_dataset *ds,
                    const bp_error *err, const char *path, const char *needle)
{
    CHECK(s != BP_OK, "%s: accepted", what);
    CHECK(!want || s == want, "%s: status %s, want %s", what, bp_status_string(s),
          bp_status_string(want));
    CHECK(ds == NULL, "%s: *out not NULL", what);
    CHECK(strncmp(err->msg, path, strlen(path)) == 0, "%s: message \"%s\" does not start with %s",
          what, err->msg, path);
    CHECK(!needle || strstr(err->msg, needle), "%s: message \"%s\" lacks \"%s\"", what, err->msg,
          needle);
    CHECK(strchr(err->msg, '\n') == NULL, "%s: message has a newline", what);
    printf("  %-26s %s\n", what, err->msg);
}

/* ------------------------------------------------------------------------ */
/* IDX                                                                       */
/* ------------------------------------------------------------------------ */

enum { N = 5, ROWS = 2, COLS = 3, PIX = ROWS * COLS };
static uint8_t pixels[N * PIX];
static const uint8_t labels[N] = {0, 3, 1, 2, 3};

/* An IDX file: magic, nd sizes, then n data bytes (whatever the sizes say). */
static const char *put_idx(const char *name, int gz, uint32_t magic, int nd, const uint32_t *dims,
                           const uint8_t *data, size_t n)
{
    uint8_t *b = malloc(4 + 4 * (size_t)nd + n + 1);
    size_t o = 0;
    for (int k = -1; k < nd; k++) {
        uint32_t v = k < 0 ? magic : dims[k];
        b[o++] = (uint8_t)(v >> 24), b[o++] = (uint8_t)(v >> 16);
        b[o++] = (uint8_t)(v >> 8), b[o++] = (uint8_t)v;
    }
    if (n)
        memcpy(b + o, data, n);
    const char *path = put_file(name, b, o + n, gz);
    free(b);
    return path;
}

/* PREFIX-images and PREFIX-labels for the N images above, with gz choices */
static void put_set(const char *prefix, int gz_images, int gz_labels)
{
    char name[128];
    uint32_t di[3] = {N, ROWS, COLS}, dl[1] = {N};
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz_images ? ".gz" : "");
    put_idx(name, gz_images, 0x803, 3, di, pixels, sizeof pixels);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz_labels ? ".gz" : "");
    put_idx(name, gz_labels, 0x801, 1, dl, labels, N);
}

static void check_small_set(const char *what, const bp_dataset *ds)
{
    CHECK(bp_dataset_n(ds) == N && bp_dataset_n_in(ds) == PIX && bp_dataset_n_out(ds) == 4 &&
              bp_dataset_has_labels(ds) == 1,
          "%s: n %d n_in %d n_out %d", what, bp_dataset_n(ds), bp_dataset_n_in(ds),
          bp_dataset_n_out(ds));
    /* out of order and repeated, as a shuffled batch would be */
    int32_t idx[7] = {4, 0, 2, 2, 1, 3, 0}, lab[7];
    float x[7 * PIX];
    bp_dataset_gather(ds, idx, 7, NULL, NULL, x, NULL, lab);
    for (int i = 0; i < 7; i++) {
        CHECK(lab[i] == labels[idx[i]], "%s: label %d: %d", what, i, lab[i]);
        for (int j = 0; j < PIX; j++) {
            float want = (float)pixels[idx[i] * PIX + j] / 255.0f;
            CHECK(x[i * PIX + j] == want, "%s: x[%d,%d] = %.9g, want %.9g", what, i, j,
                  x[i * PIX + j], want);
        }
    }
}

static void test_idx_good(void)
{
    for (int i = 0; i < N * PIX; i++)
        pixels[i] = (uint8_t)(i * 37 % 256);
    pixels[0] = 0, pixels[1] = 255, pixels[2] = 1;

    bp_error err = {""};
    const char *prefixes[3] = {"plain", "gz", "mixed"};
    int gzi[3] = {0, 1, 0}, gzl[3] = {0, 1, 1};
    for (int c = 0; c < 3; c++) {
        put_set(prefixes[c], gzi[c], gzl[c]);
        bp_dataset *ds = NULL;
        bp_status s = bp_dataset_load_idx(dir, prefixes[c], &ds, &err);
        CHECK(s == BP_OK && ds, "%s: %s", prefixes[c], err.msg);
        if (ds)
            check_small_set(prefixes[c], ds);
        bp_dataset_free(ds);
    }

    /* a trailing slash on the folder, and the plain file winning over a bad .gz */
    uint32_t bad[3] = {1, 1, 1};
    put_set("both", 0, 0);
    put_idx("both-images-idx3-ubyte.gz", 1, 0x804, 3, bad, pixels, 1);
    char slash[80];
    snprintf(slash, sizeof slash, "%s/", dir);
    bp_dataset *ds = NULL;
    CHECK(bp_dataset_load_idx(slash, "both", &ds, &err) == BP_OK, "both: %s", err.msg);
    if (ds)
        check_small_set("both", ds);

    /* moments over a subset against a direct double computation */
    int32_t idx[3] = {1, 3, 4};
    float mean[PIX], std[PIX], x[3 * PIX];
    if (ds) {
        bp_dataset_moments(ds, idx, 3, mean, std);
        for (int j = 0; j < PIX; j++) {
            double m = 0, v = 0;
            for (int i = 0; i < 3; i++)
                m += (float)pixels[idx[i] * PIX + j] / 255.0f;
            m /= 3;
            for (int i = 0; i < 3; i++) {
                double d = (float)pixels[idx[i] * PIX + j] / 255.0f - m;
                v += d * d;
            }
            double sd = v > 0 ? sqrt(v / 3) : 1.0;
            CHECK_CLOSE(mean[j], m, 1e-6, "idx mean %d", j);
            CHECK_CLOSE(std[j], sd, 1e-6, "idx std %d", j);
        }
        bp_dataset_gather(ds, idx, 3, mean, std, x, NULL, NULL);
        for (int j = 0; j < PIX; j++) {
            double s0 = 0, s1 = 0;
            for (int i = 0; i < 3; i++)
                s0 += x[i * PIX + j], s1 += (double)x[i * PIX + j] * x[i * PIX + j];
            CHECK_CLOSE(s0 / 3, 0.0, 1e-6, "standardised mean %d", j);
            CHECK_CLOSE(s1 / 3, 1.0, 1e-5, "standardised variance %d", j);
        }
    }
    bp_dataset_free(ds);
}

/* Reads a file whole (for corrupting gzip files). */
static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    return n;
}

static void idx_refused(const char *prefix, const char *what, bp_status want, const char *needle)
{
    bp_error err = {""};
    bp_dataset *ds = (bp_dataset *)&err; /* must come back NULL */
    char path[128];
    snprintf(path, sizeof path, "%s/%s-", dir, prefix);
    bp_status s = bp_dataset_load_idx(dir, prefix, &ds, &err);
    refused(what, s, want, ds, &err, path, needle);
    bp_dataset_free(s == BP_OK ? ds : NULL);
}

static void test_idx_bad(void)
{
    uint32_t di[3] = {N, ROWS, COLS}, dl[1] = {N}, d4[1] = {N - 1};
    uint8_t zeros[N] = {0}, extra[N * PIX + 1];
    memcpy(extra, pixels, sizeof pixels);
    extra[N * PIX] = 7;

    put_set("magic", 0, 0);
    put_idx("magic-images-idx3-ubyte", 0, 0x804, 3, di, pixels, sizeof pixels);
    idx_refused("magic", "idx images bad magic", BP_ERR_FORMAT, "bad magic 0x00000804");

    put_set("lmagic", 0, 0);
    put_idx("lmagic-labels-idx1-ubyte", 0, 0x803, 1, dl, labels, N);
    idx_refused("lmagic", "idx labels bad magic", BP_ERR_FORMAT, "bad magic");

    put_set("short", 0, 0);
    put_idx("short-images-idx3-ubyte", 0, 0x803, 3, di, pixels, sizeof pixels - 1);
    idx_refused("short", "idx images truncated", BP_ERR_FORMAT,
                "truncated: 46 bytes promised, 45 present");

    put_set("trail", 0, 0);
    put_idx("trail-images-idx3-ubyte", 0, 0x803, 3, di, extra, sizeof extra);
    idx_refused("trail", "idx images trailing byte", BP_ERR_FORMAT,
                "trailing data: 46 bytes promised, 47 present");

    put_set("gtrail", 1, 1);
    put_idx("gtrail-labels-idx1-ubyte.gz", 1, 0x801, 1, dl, extra, N + 1);
    idx_refused("gtrail", "idx .gz labels trailing", BP_ERR_FORMAT, "trailing data");

    put_set("count", 0, 0);
    put_idx("count-labels-idx1-ubyte", 0, 0x801, 1, d4, labels, N - 1);
    idx_refused("count", "idx count mismatch", BP_ERR_FORMAT, "4 labels for the 5 images");

    /* 2^31−1 images of 4096 x 4096: 2^55 bytes promised in a 16-byte file.
     * A header-sized malloc would fail (NOMEM) or abort under ASan. */
    uint32_t huge[3] = {0x7fffffff, 4096, 4096};
    put_idx("huge-images-idx3-ubyte", 0, 0x803, 3, huge, NULL, 0);
    put_idx("huge-labels-idx1-ubyte", 0, 0x801, 1, huge, NULL, 0);
    idx_refused("huge", "idx header 2^31 x 2^24", BP_ERR_FORMAT, "truncated");

    uint32_t many[3] = {0x80000000u, 1, 1};
    put_idx("huge-images-idx3-ubyte", 0, 0x803, 3, many, NULL, 0);
    idx_refused("huge", "idx 2^31 images", BP_ERR_FORMAT, "examples");

    uint32_t wide[3] = {1, 4097, 4096};
    put_idx("huge-images-idx3-ubyte", 0, 0x803, 3, wide, NULL, 0);
    idx_refused("huge", "idx image > 2^24 pixels", BP_ERR_FORMAT, "pixels");

    uint32_t none[3] = {0, ROWS, COLS};
    put_idx("huge-images-idx3-ubyte", 0, 0x803, 3, none, NULL, 0);
    idx_refused("huge", "idx zero images", BP_ERR_FORMAT, "examples");

    put_set("head", 0, 0);
    put_file("head-images-idx3-ubyte", "\0\0\x08\x03\0\0\0\x05\0\0", 10, 0);
    idx_refused("head", "idx truncated header", BP_ERR_FORMAT, "header");

    put_set("oneclass", 0, 0);
    put_idx("oneclass-labels-idx1-ubyte", 0, 0x801, 1, dl, zeros, N);
    idx_refused("oneclass", "idx one class", BP_ERR_FORMAT, "2 classes");

    idx_refused("absent", "idx missing files", BP_ERR_IO, "absent-images-idx3-ubyte.gz");
    put_set("nolabels", 0, 0);
    unlink(tmp_path("nolabels-labels-idx1-ubyte"));
    idx_refused("nolabels", "idx missing labels", BP_ERR_IO, "labels-idx1-ubyte.gz");

    /* gzip damage: the CRC, the middle of the deflate stream, a cut file, a
     * missing trailer */
    uint8_t orig[4096], gz[4096], big[4096];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * i % 251);
    uint32_t dbig[3] = {4, 32, 32}, d4b[1] = {4};
    put_idx("crc-labels-idx1-ubyte", 0, 0x801, 1, d4b, labels, 4);
    size_t n = slurp(put_idx("crc-images-idx3-ubyte.gz", 1, 0x803, 3, dbig, big, sizeof big),
                     orig, sizeof orig);
    memcpy(gz, orig, n);
    gz[n - 6] ^= 0x55;
    put_file("crc-images-idx3-ubyte.gz", gz, n, 0);
    idx_refused("crc", "idx .gz bad CRC", BP_ERR_FORMAT, "corrupt gzip data");

    memcpy(gz, orig, n);
    memset(gz + n / 2, 0xff, 8);
    put_file("crc-images-idx3-ubyte.gz", gz, n, 0);
    idx_refused("crc", "idx .gz garbled stream", 0, NULL);

    put_file("crc-images-idx3-ubyte.gz", orig, n / 2, 0);
    idx_refused("crc", "idx .gz cut in half", BP_ERR_FORMAT, "truncated");

    put_file("crc-images-idx3-ubyte.gz", orig, n - 8, 0);
    idx_refused("crc", "idx .gz without trailer", BP_ERR_FORMAT, "truncated");
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */
/* ------------------------------------------------------------------------ */

static bp_dataset *csv_ok(const char *what, const char *text, int target_cols, int n, int n_in,
                          int n_out)
{
    bp_error err = {""};
    bp_dataset *ds = NULL;
    const char *path = put("ok.csv", text);
    bp_status s = bp_dataset_load_csv(path, target_cols, &ds, &err);
    CHECK(s == BP_OK && ds, "%s: %s", what, err.msg);
    CHECK(bp_dataset_n(ds) == n && bp_dataset_n_in(ds) == n_in && bp_dataset_n_out(ds) == n_out &&
              bp_dataset_has_labels(ds) == (target_cols == 0),
          "%s: n %d n_in %d n_out %d", what, bp_dataset_n(ds), bp_dataset_n_in(ds),
          bp_dataset_n_out(ds));
    return ds;
}

static void test_csv_good(void)
{
    int32_t idx[3] = {0, 1, 2}, lab[3];
    float x[9], t[8];

    bp_dataset *ds = csv_ok("csv labels", "0.5,1,0\n-1,2,2\n3,4.25,1\n", 0, 3, 2, 3);
    if (ds) {
        bp_dataset_gather(ds, idx, 3, NULL, NULL, x, NULL, lab);
        float wx[6] = {0.5f, 1, -1, 2, 3, 4.25f};
        int32_t wl[3] = {0, 2, 1};
        CHECK(memcmp(x, wx, sizeof wx) == 0 && memcmp(lab, wl, sizeof wl) == 0, "csv labels");
    }
    bp_dataset_free(ds);

    /* a header (numeric names beside text), CRLF, a label written 1.0 */
    ds = csv_ok("csv header", "1,2,label\r\n1,2,1.0\r\n3,4,0\r\n\r\n", 0, 2, 2, 2);
    if (ds) {
        bp_dataset_gather(ds, idx, 2, NULL, NULL, x, NULL, lab);
        CHECK(x[0] == 1 && x[1] == 2 && x[2] == 3 && x[3] == 4 && lab[0] == 1 && lab[1] == 0,
              "csv header values");
    }
    bp_dataset_free(ds);

    /* one class only is legal: a test file may hold no other */
    ds = csv_ok("csv one class", "1,2,0\n3,4,0\n", 0, 2, 2, 1);
    bp_dataset_free(ds);

    /* a byte order mark before numbers is not a header */
    ds = csv_ok("csv BOM", "\xef\xbb\xbf" "1,2,1\n3,4,0\n", 0, 2, 2, 2);
    bp_dataset_free(ds);

    /* pandas QUOTE_ALL and a spreadsheet's semicolons: a quoted header
     * name may hold the separator and a doubled quote */
    ds = csv_ok("csv quoted", "\"a\",\"b, \"\"c\"\"\",\"y\"\n\"1\",\"2\",\"1\"\n\"3\",\"4\",\"0\"\n", 0, 2, 2,
                2);
    bp_dataset_free(ds);
    ds = csv_ok("csv semicolons", "a;b;y\r\n1;2;1\r\n3.5;4;0\r\n", 0, 2, 2, 2);
    bp_dataset_free(ds);
    ds = csv_ok("csv tabs", "a\tb\ty\n1\t2\t1\n3\t4\t0\n", 0, 2, 2, 2);
    bp_dataset_free(ds);

    ds = csv_ok("csv targets", "x,t1,t2\n1,0.5,-0.5\n2,1.5,2.5\n", 2, 2, 1, 2);
    if (ds) {
        int32_t never = -7;
        bp_dataset_gather(ds, idx, 2, NULL, NULL, x, t, &never);
        CHECK(x[0] == 1 && x[1] == 2 && t[0] == 0.5f && t[1] == -0.5f && t[2] == 1.5f &&
                  t[3] == 2.5f && never == -7,
              "csv target values");
    }
    bp_dataset_free(ds);

    /* standardisation by hand: a = 1..4: mean 2.5, std √1.25; b constant:
     * std reported as 1, so (b − 7)/1 = 0 */
    ds = csv_ok("csv moments", "1,7,0.1,0.2\n2,7,0,0\n3,7,0,0\n4,7,1,1\n", 2, 4, 2, 2);
    if (ds) {
        int32_t all[4] = {0, 1, 2, 3};
        float mean[2], std[2], xs[8];
        bp_dataset_moments(ds, all, 4, mean, std);
        CHECK_CLOSE(mean[0], 2.5, 1e-7, "mean a");
        CHECK_CLOSE(std[0], 1.118033988749895, 1e-7, "std a");
        CHECK(mean[1] == 7 && std[1] == 1, "constant column: mean %g std %g", mean[1], std[1]);
        bp_dataset_gather(ds, all, 4, mean, std, xs, t, NULL);
        double want[4] = {-1.341640786499874, -0.447213595499958, 0.447213595499958,
                          1.341640786499874};
        for (int i = 0; i < 4; i++) {
            CHECK_CLOSE(xs[2 * i], want[i], 1e-6, "standardised a[%d]", i);
            CHECK(xs[2 * i + 1] == 0, "standardised b[%d] = %g", i, xs[2 * i + 1]);
        }
        CHECK(t[0] == 0.1f && t[7] == 1, "targets not standardised");
        /* two examples only: a over {2, 4}: mean 3, std 1 */
        int32_t two[2] = {1, 3};
        bp_dataset_moments(ds, two, 2, mean, std);
        CHECK(mean[0] == 3 && std[0] == 1, "subset moments %g %g", mean[0], std[0]);
    }
    bp_dataset_free(ds);
}

static void csv_refused(const char *what, const char *text, int target_cols, bp_status want,
                        const char *needle)
{
    bp_error err = {""};
    bp_dataset *ds = (bp_dataset *)&err;
    const char *path = put("bad.csv", text);
    bp_status s = bp_dataset_load_csv(path, target_cols, &ds, &err);
    refused(what, s, want, ds, &err, path, needle);
    bp_dataset_free(s == BP_OK ? ds : NULL);
}

static void test_csv_bad(void)
{
    csv_refused("csv ragged", "1,2,0\n3,4\n", 0, BP_ERR_FORMAT, ":2: expected 3 columns, got 2");
    csv_refused("csv label 1.5", "1,2,0\n3,4,1.5\n", 0, BP_ERR_FORMAT, ":2:3: class label");
    csv_refused("csv label -1", "1,2,0\n3,4,-1\n", 0, BP_ERR_FORMAT, ":2:3: class label");
    csv_refused("csv label huge", "1,2,0\n3,4,1e9\n", 0, BP_ERR_FORMAT, ":2:3: class label");
    csv_refused("csv NaN feature", "1,2,0\n3,nan,1\n", 0, BP_ERR_FORMAT, ":2:2: a missing value");
    csv_refused("csv NaN first row", "1,NaN,0\n3,4,1\n", 0, BP_ERR_FORMAT, ":1:2: a missing");
    csv_refused("csv Inf target", "a,b,c\n1,2,3\n4,5,inf\n", 2, BP_ERR_NONFINITE, ":3:3:");
    csv_refused("csv header width", "a,b\n1,2,0\n", 0, BP_ERR_FORMAT, "header has 2 fields");
    csv_refused("csv empty field", "1,2,0\n3,,1\n", 0, BP_ERR_FORMAT, ":2:2: a missing value (empty, NA, NaN or ?) in column \"1\"; 1 rows have one");
    csv_refused("csv garbage", "1,2,0\n3,2x,1\n", 0, BP_ERR_FORMAT, ":2:2: \"2x\" is a word, but the column's first value (line 1) is a number");
    csv_refused("csv overflow", "1,2,0\n3,1e39,1\n", 0, BP_ERR_FORMAT, "out of range");
    csv_refused("csv no feature", "0\n1\n", 0, BP_ERR_FORMAT, "at least 1 feature");
    csv_refused("csv targets, no feature", "1,2\n3,4\n", 2, BP_ERR_FORMAT, "at least 1 feature");
    csv_refused("csv header only", "a,b,c\n", 0, BP_ERR_FORMAT, "no data");
    csv_refused("csv empty", "", 0, BP_ERR_FORMAT, "no data");
    csv_refused("csv blank line inside", "1,2,0\n\n3,4,1\n", 0, BP_ERR_FORMAT, ":2: blank line");
    const char *path = put_file("bad.csv", "1,2,0\n3,4\0,1\n", 13, 0);
    bp_error err = {""};
    bp_dataset *ds = (bp_dataset *)&err;
    bp_status s = bp_dataset_load_csv(path, 0, &ds, &err);
    refused("csv NUL byte", s, BP_ERR_FORMAT, ds, &err, path, ":2: NUL byte");
    csv_refused("csv quote never closed", "a,b,y\n1,\"2,0\n", 0, BP_ERR_FORMAT,
                ":2:2: a quote never closed");
    csv_refused("csv short header", "a;b\n1;2;0\n", 0, BP_ERR_FORMAT, "header has 2 fields");
    csv_refused("csv decimal comma", "a;b;y\n5,1;2;0\n", 0, BP_ERR_FORMAT,
                ":2:1: decimal comma");
    csv_refused("csv target_cols -1", "1,2,0\n", -1, BP_ERR_ARG, "target_cols");

    path = tmp_path("absent.csv");
    s = bp_dataset_load_csv(path, 0, &ds, &err);
    refused("csv missing file", s, BP_ERR_IO, ds, &err, path, NULL);
}

/* ------------------------------------------------------------------------ */
/* CSV class columns of words                                                */
/* ------------------------------------------------------------------------ */

/* Loads text with o; checks the labels [n] and the names [k] given by hand. */
static bp_dataset *named_ok(const char *what, const char *text, const bp_csv_options *o, int n,
                            const int32_t *want, int k, const char *const *names)
{
    bp_error err = {""};
    bp_dataset *ds = NULL;
    const char *path = put("named.csv", text);
    CHECK(bp_dataset_load_csv_with(path, o, &ds, &err) == BP_OK && ds, "%s: %s", what, err.msg);
    if (!ds)
        return NULL;
    CHECK(bp_dataset_n(ds) == n && bp_dataset_n_out(ds) == k, "%s: n %d, k %d", what,
          bp_dataset_n(ds), bp_dataset_n_out(ds));
    int32_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7}, lab[8];
    float x[32];
    if (bp_dataset_n(ds) == n && n <= 8) {
        bp_dataset_gather(ds, idx, n, NULL, NULL, x, NULL, lab);
        CHECK(memcmp(lab, want, (size_t)n * sizeof *lab) == 0, "%s: labels", what);
    }
    for (int j = 0; j < k; j++)
        CHECK(names ? bp_dataset_class(ds, j) && strcmp(bp_dataset_class(ds, j), names[j]) == 0
                    : bp_dataset_class(ds, j) == NULL,
              "%s: class %d is \"%s\"", what, j, bp_dataset_class(ds, j));
    CHECK(bp_dataset_class(ds, k) == NULL && bp_dataset_class(ds, -1) == NULL, "%s: j out of range",
          what);
    return ds;
}

static void named_refused(const char *what, const char *text, const bp_csv_options *o,
                          bp_status want, const char *needle)
{
    bp_error err = {""};
    bp_dataset *ds = (bp_dataset *)&err;
    const char *path = put("named_bad.csv", text);
    bp_status s = bp_dataset_load_csv_with(path, o, &ds, &err);
    refused(what, s, want, ds, &err, path, needle);
}

static void test_csv_named(void)
{
    bp_csv_options o = BP_CSV_OPTIONS_DEFAULT;
    /* sorted as LabelEncoder sorts: "no" < "yes"; "Yes" (capital) < "no" */
    const char *yn[] = {"no", "yes"};
    const int32_t l1[] = {1, 0, 1, 1, 0, 0};
    bp_dataset *ds = named_ok("words", "a,b,label\n1,2,yes\n3,4,no\n5,6,yes\n7,8,yes\n9,0,no\n"
                              "1,1,no\n", &o, 6, l1, 2, yn);
    if (ds) { /* the features are untouched */
        int32_t idx[2] = {0, 4};
        float x[4];
        bp_dataset_gather(ds, idx, 2, NULL, NULL, x, NULL, NULL);
        CHECK(x[0] == 1 && x[1] == 2 && x[2] == 9 && x[3] == 0, "words: features");
    }
    bp_dataset_free(ds);
    const char *byte_order[] = {"Yes", "no", "\xc3\xa9t\xc3\xa9"}; /* 'Y' < 'n' < 0xC3 */
    const int32_t l2[] = {1, 2, 0, 1};
    bp_dataset_free(named_ok("byte order", "1,no\n2,\xc3\xa9t\xc3\xa9\n3,Yes\n4,no\n", &o, 4, l2,
                             3, byte_order));
    /* quoted, semicolons, a name holding the separator and a doubled quote,
     * no header (the features are numbers), blanks outside quotes */
    const char *q[] = {"a;b", "say \"hi\""};
    const int32_t l3[] = {1, 0, 0};
    bp_dataset_free(named_ok("quoted", "1;\"say \"\"hi\"\"\"\n2; \"a;b\"\n3;\"a;b\"\n", &o, 3, l3, 2,
                             q));
    /* a header of numbers over a class column of numbers stays a header */
    const int32_t l4[] = {1, 0};
    bp_dataset_free(named_ok("numeric header", "1,2,label\n1,2,1\n3,4,0\n", &o, 2, l4, 2, NULL));
    /* a model's names: words become their index there, numbers stay */
    const char *model[] = {"virginica", "setosa", "versicolor"};
    o.classes = model, o.n_classes = 3;
    const int32_t l5[] = {1, 0, 1};
    bp_dataset_free(named_ok("known names", "x,y\n1,setosa\n2,virginica\n3,setosa\n", &o, 3, l5, 3,
                             model));
    const int32_t l6[] = {2, 0};
    bp_dataset_free(named_ok("known, numbers", "1,2\n2,0\n", &o, 2, l6, 3, NULL));
    named_refused("unknown class", "x,y\n1,setosa\n2,iris\n3,other\n", &o, BP_ERR_FORMAT,
                  ":3: class \"iris\" is not one of the model's 3 classes");
    o = (bp_csv_options)BP_CSV_OPTIONS_DEFAULT;
    named_refused("one class", "x,y\n1,a\n2,a\n", &o, BP_ERR_FORMAT, "holds one class, \"a\"");
    named_refused("word after numbers", "x,y\n1,0\n2,1\n3,b\n", &o, BP_ERR_FORMAT,
                  ":4:2: \"b\" is a word, but the column's first value (line 2) is a number");
    named_refused("number after words", "x,y\n1,a\n2,b\n3,4\n", &o, BP_ERR_FORMAT,
                  ":4:2: \"4\" is a number, but the column's first value (line 2) is a word");
    named_refused("empty class", "x,y\n1,a\n2,\n", &o, BP_ERR_FORMAT, ":3:2: a missing value");
    named_refused("class with a tab", "x;y\n1;a\n2;\"b\tc\"\n", &o, BP_ERR_FORMAT,
                  ":3:2: \"b\\x09c\" has a control character");
    named_refused("bad UTF-8 class", "x,y\n1,a\n2,\xff\n", &o, BP_ERR_FORMAT, "not valid UTF-8");
    char big[600] = "x,y\n1,a\n2,";
    memset(big + strlen(big), 'n', 300);
    named_refused("long class", big, &o, BP_ERR_FORMAT, "is too long");
    named_refused("word feature", "x,y\n1,a\nz,b\n", &o, BP_ERR_FORMAT, ":3:1: \"z\" is a word");
    named_refused("quote never closed", "x,y\n1,\"a\n", &o, BP_ERR_FORMAT, "never closed");
    /* regression targets stay numbers */
    o.target_cols = 1;
    named_refused("word target", "x,y\n1,2\n2,b\n", &o, BP_ERR_FORMAT, ":3:2: \"b\" is a word");
    o = (bp_csv_options)BP_CSV_OPTIONS_DEFAULT;
    o.size = 8;
    named_refused("zeroed options", "1,a\n2,b\n", &o, BP_ERR_ARG, "BP_CSV_OPTIONS_DEFAULT");
    o = (bp_csv_options)BP_CSV_OPTIONS_DEFAULT;
    o.delimiter = ':';
    named_refused("delimiter ':'", "1,a\n2,b\n", &o, BP_ERR_ARG, "delimiter");

    /* names given to a data set; numbers out of range refused */
    bp_error err = {""};
    ds = NULL;
    o = (bp_csv_options)BP_CSV_OPTIONS_DEFAULT;
    CHECK(bp_dataset_load_csv_with(put("n.csv", "1,0\n2,1\n"), &o, &ds, &err) == BP_OK, "%s",
          err.msg);
    CHECK(bp_dataset_class(ds, 0) == NULL, "numbered classes have no names");
    CHECK(bp_dataset_set_classes(ds, 3, yn) == BP_ERR_ARG, "3 names for 2 classes");
    const char *dup[] = {"a", "a"};
    CHECK(bp_dataset_set_classes(ds, 2, dup) == BP_ERR_ARG, "duplicate names");
    CHECK(bp_dataset_set_classes(ds, 2, yn) == BP_OK && strcmp(bp_dataset_class(ds, 1), "yes") == 0,
          "set names");
    CHECK(bp_dataset_set_classes(ds, 0, NULL) == BP_OK && !bp_dataset_class(ds, 0), "removed");
    CHECK(bp_dataset_set_classes(NULL, 0, NULL) == BP_ERR_ARG && !bp_dataset_class(NULL, 0), "NULL");
    bp_dataset_free(ds);
}

/* ------------------------------------------------------------------------ */
/* --missing mean from the training split (bp_dataset_fill_from)             */
/* ------------------------------------------------------------------------ */

static void test_fill_from(void)
{
    /* a, b numeric with a missing value each, c a category (no fill) */
    const char *text = "a,b,c,y\n1,10,u,0\nNA,20,v,1\n3,,u,0\n5,40,,1\n";
    bp_csv_options o = BP_CSV_OPTIONS_DEFAULT;
    o.missing = BP_MISSING_MEAN;
    bp_dataset *ds = named_ok("fills", text, &o, 4, (const int32_t[]){0, 1, 0, 1}, 2, NULL);
    if (!ds)
        return;
    int32_t all[4] = {0, 1, 2, 3}, train[2] = {1, 0}, bad[1] = {4};
    float x[16];
    /* the loader's, from every row: a (1+3+5)/3 = 3, b (10+20+40)/3 */
    bp_dataset_gather(ds, all, 4, NULL, NULL, x, NULL, NULL);
    CHECK(bp_dataset_n_in(ds) == 4 && x[4] == 3 && x[9] == (float)(70.0 / 3) && x[3] == 0 &&
              x[14] == 0 && x[15] == 0,
          "fills from every row: a %g, b %g", x[4], x[9]);
    /* refused, nothing changed: an index out of range, n 0, NULL; a column
     * without a value in the rows (a in row 1 alone) */
    CHECK(bp_dataset_fill_from(ds, bad, 1) == BP_ERR_ARG, "index 4 of 4");
    CHECK(bp_dataset_fill_from(ds, train, 0) == BP_ERR_ARG, "n 0");
    CHECK(bp_dataset_fill_from(NULL, train, 1) == BP_ERR_ARG, "NULL ds");
    CHECK(bp_dataset_fill_from(ds, train, 1) == BP_ERR_FORMAT &&
              strstr(bp_last_error(), "column \"a\" has no value in the training examples"),
          "a column without a value: %s", bp_last_error());
    bp_dataset_gather(ds, all, 4, NULL, NULL, x, NULL, NULL);
    CHECK(x[4] == 3 && x[9] == (float)(70.0 / 3), "refused: the fills as they were");
    /* the training rows 0 and 1: a's fill 1 (row 1 has none), b's (10+20)/2 = 15,
     * written into every missing value, the other rows' too */
    CHECK(bp_dataset_fill_from(ds, train, 2) == BP_OK, "fill from rows 0, 1: %s", bp_last_error());
    bp_dataset_gather(ds, all, 4, NULL, NULL, x, NULL, NULL);
    const float want[16] = {1, 10, 1, 0, 1, 20, 0, 1, 3, 15, 1, 0, 5, 40, 0, 0};
    CHECK(memcmp(x, want, sizeof want) == 0, "the training rows' fills: a %g, b %g", x[4], x[9]);
    /* the model keeps them */
    int sizes[2] = {4, 2};
    bp_act acts[1] = {BP_ACT_SOFTMAX};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 1, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_SOFTMAX_CE;
    bp_error err;
    bp_net *net = bp_net_create(&cfg, 4, &err);
    CHECK(net && bp_net_set_encoding(net, ds) == BP_OK, "set encoding: %s", bp_last_error());
    const char *cols = net ? bp_net_columns(net) : NULL;
    CHECK(cols && strstr(cols, "\"name\":\"a\",\"index\":0,\"fill\":1}") &&
              strstr(cols, "\"name\":\"b\",\"index\":1,\"fill\":15}"),
          "the model's fills: %s", cols ? cols : "none");
    bp_net_free(net);
    bp_dataset_free(ds);
    /* without fills: nothing to do */
    ds = named_ok("no fills", "a,y\n1,0\n2,1\n", &(bp_csv_options)BP_CSV_OPTIONS_DEFAULT, 2,
                  (const int32_t[]){0, 1}, 2, NULL);
    CHECK(ds && bp_dataset_fill_from(ds, train, 1) == BP_OK, "no fills: OK");
    bp_dataset_free(ds);
}

/* ------------------------------------------------------------------------ */
/* FANN                                                                      */
/* ------------------------------------------------------------------------ */

static void test_fann_good(void)
{
    bp_error err = {""};
    bp_dataset *ds = NULL;
    const char *path = put("xor.data", "4 2 1\n-1 -1\n-1\n-1 1\n1\n1 -1\n1\n1 1\n-1\n");
    CHECK(bp_dataset_load_fann(path, &ds, &err) == BP_OK && ds, "xor: %s", err.msg);
    CHECK(bp_dataset_n(ds) == 4 && bp_dataset_n_in(ds) == 2 && bp_dataset_n_out(ds) == 1 &&
              bp_dataset_has_labels(ds) == 0,
          "xor shape");
    if (ds) {
        int32_t idx[4] = {0, 1, 2, 3};
        float x[8], t[4];
        bp_dataset_gather(ds, idx, 4, NULL, NULL, x, t, NULL);
        float wx[8] = {-1, -1, -1, 1, 1, -1, 1, 1}, wt[4] = {-1, 1, 1, -1};
        CHECK(memcmp(x, wx, sizeof wx) == 0 && memcmp(t, wt, sizeof wt) == 0, "xor values");
    }
    bp_dataset_free(ds);

    /* line structure is loose, as for FANN's fscanf reader */
    ds = NULL;
    path = put("loose.data", "2\t1 2\n\n0.5\r\n1e-1 -2 \n 3.25  0 1.5\n\n");
    CHECK(bp_dataset_load_fann(path, &ds, &err) == BP_OK && ds, "loose: %s", err.msg);
    if (ds) {
        int32_t idx[2] = {1, 0};
        float x[2], t[4];
        bp_dataset_gather(ds, idx, 2, NULL, NULL, x, t, NULL);
        CHECK(x[0] == 3.25f && x[1] == 0.5f && t[0] == 0 && t[1] == 1.5f && t[2] == 0.1f &&
                  t[3] == -2,
              "loose values");
    }
    bp_dataset_free(ds);

    /* data that goes on from the header's line is free-form, as for FANN */
    ds = NULL;
    path = put("oneline.data", "2 3 2 0.1 0.2 0.3 1 0 -0.1 -0.2\n-0.3 0 1\n");
    CHECK(bp_dataset_load_fann(path, &ds, &err) == BP_OK && ds && bp_dataset_n(ds) == 2,
          "one line: %s", err.msg);
    bp_dataset_free(ds);

    /* one-hot targets: their classes are kept as labels beside them */
    ds = NULL;
    path = put("onehot.data", "3 1 3\n5\n0 0 1\n6\n1 0 0\n7\n0 1 0\n");
    CHECK(bp_dataset_load_fann(path, &ds, &err) == BP_OK && ds, "onehot: %s", err.msg);
    CHECK(ONE_HOT(ds) == 1 && bp_dataset_has_labels(ds) == 0 && bp_dataset_n_out(ds) == 3,
          "onehot kind");
    if (ds) {
        int32_t idx[3] = {2, 0, 1}, lab[3] = {-1, -1, -1};
        float x[3], t[9];
        bp_dataset_gather(ds, idx, 3, NULL, NULL, x, t, lab);
        CHECK(lab[0] == 1 && lab[1] == 2 && lab[2] == 0 && t[1] == 1 && t[5] == 1 && x[0] == 7,
              "onehot labels %d %d %d", lab[0], lab[1], lab[2]);
    }
    bp_dataset_free(ds);
    /* partly one-hot stays regression: each of these rows spoils it */
    const char *spoil[] = {"0 1 1", "0 0 0", "0 0.9 0", "0 2 0", "0 -0 1", "0 1 -1"};
    for (int i = 0; i < 6; i++) {
        char text[128];
        snprintf(text, sizeof text, "2 1 3\n5\n0 0 1\n6\n%s\n", spoil[i]);
        ds = NULL;
        path = put("part.data", text);
        CHECK(bp_dataset_load_fann(path, &ds, &err) == BP_OK && ds, "part: %s", err.msg);
        int ok = ONE_HOT(ds) == (i == 4); /* -0 == 0: still one-hot */
        CHECK(ok, "partly one-hot row \"%s\": one_hot %d", spoil[i], ONE_HOT(ds));
        if (ds && !ONE_HOT(ds)) {
            int32_t idx[1] = {0}, never = -7;
            float x[1], t[3];
            bp_dataset_gather(ds, idx, 1, NULL, NULL, x, t, &never);
            CHECK(never == -7, "regression gathers no labels");
        }
        bp_dataset_free(ds);
    }
    /* one output is never one-hot, even if every target is 1 */
    ds = NULL;
    path = put("one.data", "2 1 1\n5\n1\n6\n1\n");
    CHECK(bp_dataset_load_fann(path, &ds, &err) == BP_OK && ds && !ONE_HOT(ds),
          "single output one-hot");
    bp_dataset_free(ds);
    /* CSV targets go the same way */
    ds = csv_ok("csv one-hot", "a,t0,t1\n1,0,1\n2,1,0\n", 2, 2, 1, 2);
    CHECK(ONE_HOT(ds) == 1, "csv one-hot");
    bp_dataset_free(ds);
    ds = csv_ok("csv labels", "1,0\n2,1\n", 0, 2, 1, 2);
    CHECK(ONE_HOT(ds) == 0 && bp_dataset_has_labels(ds), "csv labels not one-hot");
    bp_dataset_free(ds);

    /* bp_evaluate_metrics refuses what it cannot read, before reading it */
    ds = csv_ok("csv eval", "a,t0,t1\n1,0,1\n2,1,0\n", 2, 2, 1, 2);
    int sizes[2] = {1, 2};
    bp_act acts[1] = {BP_ACT_SIGMOID};
    bp_config cfg = {sizeof(bp_config), 1, sizes, acts, BP_LOSS_MSE, 1.0, BP_LEAKY_SLOPE_DEFAULT, BP_DEVICE_CPU};
    bp_net *net = bp_net_create(&cfg, 4, &err);
    if (ds && net) {
        int32_t good[2] = {0, 1}, bad[2] = {0, 2}, neg[1] = {-1};
        bp_metrics m;
        long conf[4];
        CHECK(bp_evaluate(net, ds, good, 2, &m, conf) == BP_OK &&
                  conf[0] + conf[1] + conf[2] + conf[3] == 2,
              "evaluate one-hot");
        CHECK(bp_evaluate(net, ds, bad, 2, &m, NULL) == BP_ERR_ARG,
              "evaluate index past the end");
        CHECK(bp_evaluate(net, ds, neg, 1, &m, NULL) == BP_ERR_ARG,
              "evaluate negative index");
        CHECK(bp_evaluate(net, ds, good, 2, NULL, NULL) == BP_ERR_ARG,
              "evaluate NULL out");
        CHECK(bp_evaluate(net, NULL, good, 2, &m, NULL) == BP_ERR_ARG,
              "evaluate NULL data set");
        CHECK(bp_evaluate(net, ds, good, 0, &m, NULL) == BP_ERR_SHAPE,
              "evaluate no examples");
    }
    bp_net_free(net);
    bp_dataset_free(ds);
}

static void fann_refused(const char *what, const char *text, bp_status want, const char *needle)
{
    bp_error err = {""};
    bp_dataset *ds = (bp_dataset *)&err;
    const char *path = put("bad.data", text);
    bp_status s = bp_dataset_load_fann(path, &ds, &err);
    refused(what, s, want, ds, &err, path, needle);
    bp_dataset_free(s == BP_OK ? ds : NULL);
}

static void test_fann_bad(void)
{
    fann_refused("fann count mismatch", "3 2 1\n0 0\n0\n1 1\n0\n", BP_ERR_FORMAT,
                 "ends in example 3 of 3, at input 1 of 2");
    fann_refused("fann too few numbers", "2 2 1\n0 0\n0\n1 1\n", BP_ERR_FORMAT,
                 "ends in example 2 of 2, at output 1 of 1");
    fann_refused("fann extra garbage", "1 2 1\n0 0\n0\nxyz\n", BP_ERR_FORMAT,
                 ":4: data after the 1 examples promised: \"xyz\"");
    fann_refused("fann extra number", "1 1 1\n0\n0\n5\n", BP_ERR_FORMAT, "data after");
    fann_refused("fann NaN", "2 1 1\n0\n0\n1\nnan\n", BP_ERR_NONFINITE, ":5: example 2, output 1");
    fann_refused("fann garbage value", "1 2 1\n0 1,5\n0\n", BP_ERR_FORMAT,
                 ":2: example 1, input 2: not a number: \"1,5\"");
    fann_refused("fann absurd header", "1000000000 1000 1000\n1 2\n3\n", BP_ERR_FORMAT,
                 "holds at most");
    fann_refused("fann huge width", "1 99999999 1\n", BP_ERR_FORMAT, "number of inputs");
    fann_refused("fann count overflow", "99999999999999999999 1 1\n", BP_ERR_FORMAT,
                 "number of examples");
    fann_refused("fann zero outputs", "1 1 0\n1\n", BP_ERR_FORMAT, "number of outputs");
    fann_refused("fann signed count", "-1 1 1\n", BP_ERR_FORMAT, "number of examples");
    fann_refused("fann float count", "1 1.0 1\n1\n1\n", BP_ERR_FORMAT, "number of inputs");
    fann_refused("fann short header", "4 2\n", BP_ERR_FORMAT, "header ends early");
    fann_refused("fann empty", "", BP_ERR_FORMAT, "header ends early");
    /* a header whose counts disagree with the rows: 3 inputs per row, not 2 */
    fann_refused("fann header vs rows", "2 2 1\n1 2 3\n0\n4 5 6\n1\n", BP_ERR_FORMAT,
                 ":4: example 2: its outputs do not start a line");
    fann_refused("fann example mid-line", "2 1 1\n1\n0 2\n1\n", BP_ERR_FORMAT,
                 ":3: example 2 does not start a line");

    bp_error err = {""};
    bp_dataset *ds = (bp_dataset *)&err;
    const char *path = tmp_path("absent.data");
    bp_status s = bp_dataset_load_fann(path, &ds, &err);
    refused("fann missing file", s, BP_ERR_IO, ds, &err, path, NULL);
}

/* ------------------------------------------------------------------------ */
/* Fashion-MNIST, where installed                                            */
/* ------------------------------------------------------------------------ */

static void test_fashion(void)
{
    const char *fm = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(fm, &st) != 0)
        return;
    const char *prefixes[2] = {"train", "t10k"};
    int want_n[2] = {60000, 10000};
    for (int c = 0; c < 2; c++) {
        bp_error err = {""};
        bp_dataset *ds = NULL;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bp_status s = bp_dataset_load_idx(fm, prefixes[c], &ds, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(s == BP_OK && ds, "fashion %s: %s", prefixes[c], err.msg);
        if (!ds)
            continue;
        printf("  fashion-mnist %s loaded in %.3f s\n", prefixes[c],
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        int n = bp_dataset_n(ds);
        CHECK(n == want_n[c] && bp_dataset_n_in(ds) == 784 && bp_dataset_n_out(ds) == 10,
              "fashion %s: n %d n_in %d n_out %d", prefixes[c], n, bp_dataset_n_in(ds),
              bp_dataset_n_out(ds));
        int32_t *idx = malloc((size_t)n * sizeof *idx), *lab = malloc((size_t)n * sizeof *lab);
        float *x = malloc((size_t)1000 * 784 * sizeof *x), mean[784], std[784];
        long count[10] = {0};
        for (int i = 0; i < n; i++)
            idx[i] = i;
        float lo = 1, hi = 0;
        for (int b = 0; b < n; b += 1000) {
            bp_dataset_gather(ds, idx + b, 1000, NULL, NULL, x, NULL, lab + b);
            for (int k = 0; k < 1000 * 784; k++)
                lo = x[k] < lo ? x[k] : lo, hi = x[k] > hi ? x[k] : hi;
        }
        int labels_ok = 1;
        for (int i = 0; i < n; i++) {
            labels_ok &= lab[i] >= 0 && lab[i] < 10;
            if (lab[i] >= 0 && lab[i] < 10)
                count[lab[i]]++;
        }
        CHECK(lo == 0 && hi == 1, "fashion %s: pixel range [%g, %g]", prefixes[c], lo, hi);
        CHECK(labels_ok, "fashion %s: label out of range", prefixes[c]);
        for (int k = 0; k < 10; k++)
            CHECK(count[k] == n / 10, "fashion %s: class %d has %ld examples", prefixes[c], k,
                  count[k]);
        /* the published figure for the training set: mean pixel 0.2860 */
        bp_dataset_moments(ds, idx, n, mean, std);
        double m = 0;
        for (int j = 0; j < 784; j++)
            m += mean[j] / 784.0;
        CHECK(c || fabs(m - 0.2860) < 5e-4, "fashion train: mean pixel %.4f", m);
        free(idx);
        free(lab);
        free(x);
        bp_dataset_free(ds);
    }
}

int main(void)
{
    tmp_make("test_data");
    test_idx_good();
    printf("refusals:\n");
    test_idx_bad();
    test_csv_good();
    test_csv_bad();
    test_csv_named();
    test_fill_from();
    test_fann_good();
    test_fann_bad();
    test_fashion();
    bp_dataset_free(NULL);
    CHECK(tmp_remove() == 0, "rmdir %s", dir);
    CHECK_DONE();
}
