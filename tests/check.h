/*
 * check.h — the tests' few assertions. A failed check prints where and why
 * and makes the test process exit non-zero at the end (CHECK_DONE).
 */
#ifndef BP_CHECK_H
#define BP_CHECK_H

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        check_count++;                                                          \
        if (!(cond)) {                                                          \
            check_failures++;                                                   \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* |got - want| <= tol * max(1, |want|) */
#define CHECK_CLOSE(got, want, tol, ...)                                        \
    do {                                                                        \
        double g_ = (got), w_ = (want);                                         \
        double s_ = fabs(w_) > 1.0 ? fabs(w_) : 1.0;                            \
        int ok_ = fabs(g_ - w_) <= (tol) * s_;                                  \
        if (!ok_)                                                               \
            fprintf(stderr, "got %.17g want %.17g\n", g_, w_);                   \
        CHECK(ok_, __VA_ARGS__);                                                \
    } while (0)

#define CHECK_DONE()                                                            \
    do {                                                                        \
        printf("%d checks, %d failed\n", check_count, check_failures);          \
        return check_failures ? 1 : 0;                                          \
    } while (0)

#endif
