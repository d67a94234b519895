/*
 * test_activations.c — f and f' of eq. 3–4, 27–29 and tanh against values
 * worked out by hand, the float batch passes against the double ones, no NaN
 * or overflow for |z| up to 1e4, and the names.
 */
#include "check.h"
#include "io/io.h"

#include <stdint.h>

int main(void)
{
    const double a = BP_LEAKY_SLOPE_DEFAULT;
    /* hand values: σ(0) = 1/2, σ(2) = 1/(1+e^-2), tanh(0.5) */
    CHECK_CLOSE(bp_act_f(BP_ACT_SIGMOID, 0, a), 0.5, 1e-15, "sigmoid(0)");
    CHECK_CLOSE(bp_act_f(BP_ACT_SIGMOID, 2, a), 0.8807970779778823, 1e-15, "sigmoid(2)");
    CHECK_CLOSE(bp_act_f(BP_ACT_SIGMOID, -2, a), 0.11920292202211755, 1e-15, "sigmoid(-2)");
    CHECK_CLOSE(bp_act_df(BP_ACT_SIGMOID, 0, 0.5, a), 0.25, 1e-15, "sigmoid'(0) eq. 27");
    CHECK_CLOSE(bp_act_f(BP_ACT_RELU, -3, a), 0, 0, "relu(-3)");
    CHECK_CLOSE(bp_act_f(BP_ACT_RELU, 3, a), 3, 0, "relu(3)");
    CHECK_CLOSE(bp_act_df(BP_ACT_RELU, 0, 0, a), 0, 0, "relu'(0) = 0, eq. 28");
    CHECK_CLOSE(bp_act_df(BP_ACT_RELU, 1e-30, 1e-30, a), 1, 0, "relu'(>0)");
    CHECK_CLOSE(bp_act_f(BP_ACT_LEAKY_RELU, -2, a), -0.02, 1e-9, "leaky(-2) eq. 29");
    CHECK_CLOSE(bp_act_df(BP_ACT_LEAKY_RELU, -2, -0.02, a), 0.01, 1e-9, "leaky'(-2)");
    CHECK_CLOSE(bp_act_df(BP_ACT_LEAKY_RELU, 0, 0, a), 0.01, 1e-9, "leaky'(0) eq. 29");
    CHECK_CLOSE(bp_act_f(BP_ACT_TANH, 0.5, a), 0.46211715726000974, 1e-15, "tanh(0.5)");
    CHECK_CLOSE(bp_act_df(BP_ACT_TANH, 0.5, 0.46211715726000974, a), 0.7864477329659274, 1e-15,
                "tanh'(0.5)");
    CHECK_CLOSE(bp_act_f(BP_ACT_IDENTITY, -7.5, a), -7.5, 0, "identity");
    CHECK_CLOSE(bp_act_df(BP_ACT_IDENTITY, -7.5, -7.5, a), 1, 0, "identity'");

    /* the extremes: no overflow, no NaN, exact saturation */
    for (int s = -1; s <= 1; s += 2) {
        double z = s * 1e4;
        double y = bp_act_f(BP_ACT_SIGMOID, z, a);
        CHECK(isfinite(y) && y == (s > 0 ? 1.0 : 0.0), "sigmoid(%g) = %g", z, y);
        CHECK(isfinite(bp_act_df(BP_ACT_SIGMOID, z, y, a)), "sigmoid'(%g)", z);
        CHECK(isfinite(bp_act_f(BP_ACT_TANH, z, a)), "tanh(%g)", z);
    }

    /* the float passes: bias fused in, then f, then f' against the doubles */
    enum { M = 3, N = 5 };
    const float b[N] = {0.5f, -0.25f, 0, 1, -1};
    const float z0[M * N] = {-1e4f, -3, -0.5f, 0, 0.25f, 1, 2, 1e4f, -2, 0.75f,
                             4, -4, 0.125f, -0.125f, 3};
    for (int act = 0; act < BP_ACT_SOFTMAX; act++) {
        float z[M * N], y[M * N], d[M * N];
        memcpy(z, z0, sizeof z);
        float *yp = act == BP_ACT_IDENTITY ? z : y; /* the identity's y is its z */
        act_forward((bp_act)act, z, yp, b, M, N, N, (float)a);
        for (int k = 0; k < M * N; k++)
            d[k] = 2.0f;
        act_backward((bp_act)act, d, z, yp, M, N, N, (float)a);
        for (int k = 0; k < M * N; k++) {
            double zz = (double)z0[k] + b[k % N];
            double yy = bp_act_f((bp_act)act, zz, a);
            CHECK(isfinite(yp[k]) && isfinite(d[k]), "%s not finite at %g", bp_act_name(act), zz);
            CHECK_CLOSE(z[k], zz, 1e-6, "%s: z = z + b", bp_act_name(act));
            CHECK_CLOSE(yp[k], yy, 1e-6, "%s(%g)", bp_act_name(act), zz);
            CHECK_CLOSE(d[k], 2.0 * bp_act_df((bp_act)act, zz, yy, a), 1e-6, "%s'(%g)",
                        bp_act_name(act), zz);
        }
    }

    /* tanh in float (op_tanh, basic operations only) against double tanh:
     * every 97th float of [0, 12] both signs, through act_forward's loop, in
     * units in the last place of the float result: at most 2 (glibc's
     * tanhf reaches 2.19 on the same floats); ±0, ±inf and NaN as tanhf */
    {
        enum { CH = 4096 };
        static float zt[CH], yt[CH];
        static const float zero[CH];
        double worst = 0;
        float at = 0;
        int n = 0;
        uint32_t bits = 0;
        for (;;) {
            for (n = 0; n < CH; n++, bits += 97) {
                float v;
                memcpy(&v, &bits, sizeof v);
                if (!(v <= 12))
                    break;
                zt[n] = (n & 1) ? -v : v;
            }
            act_forward(BP_ACT_TANH, zt, yt, zero, 1, n, n, 0);
            for (int k = 0; k < n; k++) {
                double want = tanh((double)zt[k]);
                float w = (float)want;
                double ulp = (double)nextafterf(fabsf(w), INFINITY) - fabs((double)w);
                double e = fabs(yt[k] - want) / (ulp > 0 ? ulp : 1e-45);
                if (e > worst)
                    worst = e, at = zt[k];
            }
            if (n < CH)
                break;
        }
        CHECK(worst <= 2.0, "tanh: %.2f ulp from double tanh at %.9g", worst, (double)at);
        float sp[6] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 20.0f};
        float ysp[6], minus0[6] = {-0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f}; /* z + -0 = z */
        act_forward(BP_ACT_TANH, sp, ysp, minus0, 1, 6, 6, 0);
        for (int k = 0; k < 6; k++) {
            float want = tanhf(sp[k]);
            CHECK(isnan(want) ? isnan(ysp[k])
                              : ysp[k] == want && signbit(ysp[k]) == signbit(want),
                  "tanh(%g) = %g, tanhf %g", (double)sp[k], (double)ysp[k], (double)want);
        }
    }

    /* names round-trip, unknown ones are refused */
    for (int act = 0; act < BP_ACT_COUNT; act++) {
        bp_act back;
        CHECK(bp_act_parse(bp_act_name((bp_act)act), &back) == BP_OK && back == (bp_act)act,
              "name of %d", act);
    }
    bp_act dummy;
    CHECK(bp_act_parse("ReLU", &dummy) == BP_ERR_ARG, "names are exact");
    CHECK(bp_act_parse("", &dummy) == BP_ERR_ARG, "empty name");
    CHECK_DONE();
}
