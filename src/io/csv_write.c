/*
 * csv_write.c — the CSV writer behind bp_csv_write: the shortest decimal
 * that reads back as the same float, so that write -> read (csv.c) is
 * bit-exact; written atomically, or to stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/io.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* Returns 0 on a write error; the stream's error flag says so as well. */
static int write_rows(FILE *f, const float *data, int rows, int cols)
{
    char buf[32];
    for (size_t i = 0; i < (size_t)rows; i++) {
        for (size_t j = 0; j < (size_t)cols; j++) {
            bp_shortest_float(buf, data[i * (size_t)cols + j]);
            if ((j && fputc(',', f) == EOF) || fputs(buf, f) == EOF)
                return 0;
        }
        if (fputc('\n', f) == EOF)
            return 0;
    }
    return 1;
}

bp_status bp_csv_write(const char *path, const float *data, int rows, int cols, bp_error *err)
{
    BP_NEED(path, err);
    if (rows < 0 || (rows > 0 && (cols <= 0 || !data)))
        return bp_fail(err, BP_ERR_ARG, "%s: bad shape [%d, %d] or NULL data", path, rows, cols);

    /* checked before anything is written: a NaN never reaches a file */
    for (size_t i = 0; i < (size_t)rows; i++)
        for (size_t j = 0; j < (size_t)cols; j++)
            if (!isfinite(data[i * (size_t)cols + j]))
                return bp_fail(err, BP_ERR_NONFINITE,
                               "%s: row %zu, column %zu: %s value, nothing written", path,
                               i + 1, j + 1, isnan(data[i * (size_t)cols + j]) ? "NaN" : "Inf");

    if (strcmp(path, "-") == 0) {
        errno = 0;
        int ok = write_rows(stdout, data, rows, cols);
        ok = fflush(stdout) == 0 && ok && !ferror(stdout);
        if (!ok)
            return bp_fail(err, BP_ERR_IO, "stdout: write failed: %s",
                           strerror(errno ? errno : EIO));
        return BP_OK;
    }

    bp_atomic a;
    bp_status s = bp_atomic_open(&a, path, err);
    if (s != BP_OK)
        return s;
    errno = 0;
    if (!write_rows(a.f, data, rows, cols)) {
        int e = errno;
        bp_atomic_abort(&a);
        return bp_fail(err, BP_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return bp_atomic_commit(&a, err);
}
