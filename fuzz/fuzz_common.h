/*
 * fuzz_common.h — what the libFuzzer harnesses share: a scratch folder in
 * memory (/dev/shm, else /tmp) made once per process and removed at exit, and
 * a whole-file write. Harnesses never print: libFuzzer owns the output.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backprop.h"

/* The scratch folder and the names made in it, removed by fuzz_cleanup. */
static char fuzz_dir[64];
static char fuzz_names[8][128];
static int fuzz_n_names;

static void fuzz_cleanup(void)
{
    for (int i = 0; i < fuzz_n_names; i++)
        unlink(fuzz_names[i]);
    if (fuzz_dir[0])
        rmdir(fuzz_dir);
}

/* The scratch folder, made on the first call; aborts if it cannot be (a
 * harness without its folder would fuzz nothing). */
static inline const char *fuzz_scratch(void)
{
    if (fuzz_dir[0])
        return fuzz_dir;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
                               access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/bp-fuzz-XXXXXX", base);
    if (!mkdtemp(fuzz_dir))
        abort();
    atexit(fuzz_cleanup);
    return fuzz_dir;
}

/* DIR/name, remembered for the clean-up; the same name gives the same slot. */
static inline const char *fuzz_path(const char *name)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", fuzz_scratch(), name);
    for (int i = 0; i < fuzz_n_names; i++)
        if (strcmp(fuzz_names[i], p) == 0)
            return fuzz_names[i];
    if (fuzz_n_names == (int)(sizeof fuzz_names / sizeof *fuzz_names))
        abort();
    memcpy(fuzz_names[fuzz_n_names], p, sizeof p);
    return fuzz_names[fuzz_n_names++];
}

/* path := the n bytes at data (created or truncated); aborts on failure. */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    if (close(fd) != 0)
        abort();
}

/* Up to 4 example indices spread over 0..n-1 (first, last, middle, second):
 * returns how many. */
static inline int fuzz_pick(int n, int32_t idx[4])
{
    int k = 0;
    int32_t cand[4] = {0, n - 1, n / 2, n > 1 ? 1 : 0};
    for (int i = 0; i < 4 && n > 0; i++)
        idx[k++] = cand[i];
    return k;
}

/* What a caller does with a data set once it has loaded: moments over a few
 * examples, then a standardised and a raw gather of them. Traps on a data set
 * that breaks its own invariants (a loader returned it, so it must hold). */
static inline void fuzz_use_dataset(const bp_dataset *ds)
{
    int n = bp_dataset_n(ds), n_in = bp_dataset_n_in(ds), n_out = bp_dataset_n_out(ds);
    int labelled = bp_dataset_has_labels(ds);
    if (n < 1 || n_in < 1 || n_out < 1)
        __builtin_trap();
    int32_t idx[4], labels[4];
    int k = fuzz_pick(n, idx);
    float *mean = malloc((size_t)n_in * sizeof *mean);
    float *std = malloc((size_t)n_in * sizeof *std);
    float *x = malloc((size_t)k * (size_t)n_in * sizeof *x);
    float *t = labelled ? NULL : malloc((size_t)k * (size_t)n_out * sizeof *t);
    if (!mean || !std || !x || (!labelled && !t))
        abort();
    if (bp_dataset_moments(ds, idx, k, mean, std) != BP_OK)
        __builtin_trap();
    for (int j = 0; j < n_in; j++)
        if (!(std[j] > 0))
            __builtin_trap();
    bp_dataset_gather(ds, idx, k, mean, std, x, t, labels);
    bp_dataset_gather(ds, idx, k, NULL, NULL, x, t, labels);
    for (int i = 0; labelled && i < k; i++)
        if (labels[i] < 0 || labels[i] >= n_out)
            __builtin_trap();
    /* one-hot targets: the label is where the row's one 1 is */
    for (int i = 0; bp_dataset_has_classes(ds) && !labelled && i < k; i++)
        if (labels[i] < 0 || labels[i] >= n_out || t[(size_t)i * n_out + labels[i]] != 1.0f)
            __builtin_trap();
    free(mean);
    free(std);
    free(x);
    free(t);
}

#endif
