/*
 * cmd_explain.c — `backprop explain`: the note's algorithm on one example as
 * a trace a student can follow by hand. The scalar form computes it; every
 * printed value carries its equation number and the note's symbols
 * (w_ij^(l) joins neuron i of layer l to neuron j of layer l+1; neurons are
 * numbered from 1 as in the note). The batch engine then computes the same
 * example and the largest difference between the two forms is printed.
 *
 * Without --seed, the 2-2-2 sigmoid/mse network starts from the classic
 * hand-worked numbers (x = (0.05, 0.10), t = (0.01, 0.99)), so every line can
 * be checked with a pencil.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cli_opt opts[] = {
    CLI_NETWORK_OPTS("2,2,2", "sigmoid", "sigmoid", "mse"),
    {"seed", "S", NULL, "weights from this seed, input x_i = i/(N0+1) "
                        "(default: the hand-worked numbers for 2,2,2, seed 0 otherwise)", NULL},
    {"lr", "ALPHA", "0.5", "learning rate of the update shown (eq. 49-50)", NULL},
    {"json", NULL, NULL, "print only the figures, as JSON", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"explain",
                          "Prints the forward pass, the errors, the gradients and one update of "
                          "one example, each value with its equation number.",
                          "[--layers 2,2,2] [--act sigmoid] [--loss mse] [--seed S]", opts};

/* The classic worked example: W(0), b(0), W(1), b(1) of the 2-2-2 network */
static const double worked_params[12] = {0.15, 0.20, 0.25, 0.30, 0.35, 0.35,
                                         0.40, 0.45, 0.50, 0.55, 0.60, 0.60};

static const char *df_formula(bp_act a)
{
    switch (a) {
    case BP_ACT_SIGMOID: return "y(1-y), eq. 27";
    case BP_ACT_RELU: return "1 if z>0 else 0, eq. 28";
    case BP_ACT_LEAKY_RELU: return "1 if z>0 else a, eq. 29";
    case BP_ACT_TANH: return "1-y^2";
    default: return "1";
    }
}

static void print_trace(const bp_net *net, const double *p, const bp_trace *tr, const float *t,
                        double loss, const double *g, double lr)
{
    int L = bp_net_n_layers(net);
    double a = bp_net_leaky_slope(net), T = bp_net_temperature(net);
#define Z(l, j) tr->z[tr->offset[l] + (j)]
#define Y(l, j) tr->y[tr->offset[l] + (j)]
#define D(l, j) tr->delta[tr->offset[l] + (j)]
#define W(l, i, j) p[bp_net_weight_offset(net, l) + (size_t)(j) * bp_net_size(net, l) + (i)]
#define B(l, j) p[bp_net_bias_offset(net, l) + (j)]
#define GW(l, i, j) g[bp_net_weight_offset(net, l) + (size_t)(j) * bp_net_size(net, l) + (i)]
#define GB(l, j) g[bp_net_bias_offset(net, l) + (j)]

    printf("Network: layers");
    for (int l = 0; l <= L; l++)
        printf("%s%d", l ? "," : " ", bp_net_size(net, l));
    printf(", activations");
    for (int l = 1; l <= L; l++)
        printf("%s%s", l > 1 ? "," : " ", bp_act_name(bp_net_act(net, l)));
    printf(", loss %s", bp_loss_name(bp_net_loss(net)));
    if (T != 1)
        printf(", temperature T = %g", T);
    printf("\nw_ij^(l) joins neuron i of layer l to neuron j of layer l+1; b_j^(l) is the bias "
           "of neuron j of layer l+1.\n\nParameters\n");
    for (int l = 0; l < L; l++)
        for (int j = 0; j < bp_net_size(net, l + 1); j++) {
            for (int i = 0; i < bp_net_size(net, l); i++)
                printf("  w_%d%d^(%d) = %-10.6g", i + 1, j + 1, l, W(l, i, j));
            printf("  b_%d^(%d) = %.6g\n", j + 1, l, B(l, j));
        }
    printf("\nInput and target\n");
    for (int i = 0; i < bp_net_size(net, 0); i++)
        printf("  y_%d^(0) = x_%d = %.6g\n", i + 1, i + 1, Y(0, i));
    for (int j = 0; j < bp_net_size(net, L); j++)
        printf("  t_%d = %.6g\n", j + 1, (double)t[j]);

    printf("\nForward pass\n");
    for (int l = 1; l <= L; l++) {
        bp_act f = bp_net_act(net, l);
        for (int j = 0; j < bp_net_size(net, l); j++) {
            printf("  z_%d^(%d) = sum_i y_i^(%d) w_i%d^(%d) + b_%d^(%d) =", j + 1, l, l - 1, j + 1,
                   l - 1, j + 1, l - 1);
            for (int i = 0; i < bp_net_size(net, l - 1); i++)
                printf(" %s%.6g*%.6g", i ? "+ " : "", Y(l - 1, i), W(l - 1, i, j));
            printf(" + %.6g = %.9g   eq. 1\n", B(l - 1, j), Z(l, j));
            if (f == BP_ACT_SOFTMAX)
                printf("  y_%d^(%d) = e^(z_%d/T) / sum_k e^(z_k/T) = %.9g   eq. 57, 61, 69\n",
                       j + 1, l, j + 1, Y(l, j));
            else
                printf("  y_%d^(%d) = %s(z_%d^(%d)) = %.9g   eq. 2%s\n", j + 1, l, bp_act_name(f),
                       j + 1, l, Y(l, j),
                       f == BP_ACT_SIGMOID ? ", 3" : f == BP_ACT_RELU ? ", 4"
                                                  : f == BP_ACT_LEAKY_RELU ? ", 29" : "");
        }
    }

    printf("\nLoss\n");
    switch (bp_net_loss(net)) {
    case BP_LOSS_MSE: printf("  L = 1/2 sum_j (t_j - y_j^(%d))^2 = %.9g   eq. 6\n", L, loss); break;
    case BP_LOSS_SOFTMAX_CE: printf("  L = -sum_j t_j log y_j^(%d) = %.9g   eq. 62\n", L, loss); break;
    case BP_LOSS_SIGMOID_BCE:
        printf("  L = -sum_j t_j log y_j + (1-t_j) log(1-y_j) = %.9g\n", loss);
        break;
    default: break;
    }

    printf("\nBackward pass\n");
    bp_act fo = bp_net_act(net, L);
    for (int j = 0; j < bp_net_size(net, L); j++) {
        if (bp_net_loss(net) == BP_LOSS_MSE)
            printf("  delta_%d^(%d) = -(t_%d - y_%d^(%d)) * f'(z_%d^(%d)) = -(%.6g - %.9g) * %.9g "
                   "= %.9g   eq. 13, 32 (f' = %s)\n", j + 1, L, j + 1, j + 1, L, j + 1, L,
                   (double)t[j], Y(L, j), bp_act_df(fo, Z(L, j), Y(L, j), a), D(L, j),
                   df_formula(fo));
        else
            printf("  delta_%d^(%d) = (y_%d^(%d) - t_%d)%s = %.9g   eq. %s\n", j + 1, L, j + 1, L,
                   j + 1, T != 1 ? " / T" : "", D(L, j),
                   bp_net_loss(net) == BP_LOSS_SOFTMAX_CE ? (T != 1 ? "68, 69" : "68")
                                                          : "fused sigmoid + BCE");
    }
    for (int l = L - 1; l >= 0; l--) {
        for (int j = 0; j < bp_net_size(net, l + 1); j++) {
            for (int i = 0; i < bp_net_size(net, l); i++)
                printf("  dL/dw_%d%d^(%d) = delta_%d^(%d) * y_%d^(%d) = %.9g * %.9g = %.9g   "
                       "eq. 17\n", i + 1, j + 1, l, j + 1, l + 1, i + 1, l, D(l + 1, j), Y(l, i),
                       GW(l, i, j));
            printf("  dL/db_%d^(%d) = delta_%d^(%d) = %.9g   eq. 37\n", j + 1, l, j + 1, l + 1,
                   GB(l, j));
        }
        if (l == 0)
            break; /* the input layer has no error term */
        bp_act f = bp_net_act(net, l);
        for (int i = 0; i < bp_net_size(net, l); i++)
            printf("  delta_%d^(%d) = (sum_k delta_k^(%d) w_%dk^(%d)) * f'(z_%d^(%d)) = %.9g   "
                   "eq. 26 (f' = %s)\n", i + 1, l, l + 1, i + 1, l, i + 1, l, D(l, i),
                   df_formula(f));
    }

    printf("\nGradient descent step, alpha = %g\n", lr);
    for (int l = 0; l < L; l++)
        for (int j = 0; j < bp_net_size(net, l + 1); j++) {
            for (int i = 0; i < bp_net_size(net, l); i++)
                printf("  w_%d%d^(%d) <- %.9g - %g * %.9g = %.9g   eq. 49\n", i + 1, j + 1, l,
                       W(l, i, j), lr, GW(l, i, j), W(l, i, j) - lr * GW(l, i, j));
            printf("  b_%d^(%d) <- %.9g - %g * %.9g = %.9g   eq. 50\n", j + 1, l, B(l, j), lr,
                   GB(l, j), B(l, j) - lr * GB(l, j));
        }
#undef Z
#undef Y
#undef D
#undef W
#undef B
#undef GW
#undef GB
}

int cmd_explain(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    int sizes[BP_MAX_LAYERS + 1];
    bp_act acts[BP_MAX_LAYERS];
    bp_config cfg;
    double lr;
    uint64_t seed = 0;
    const char *seed_s = cli_get(&cmd, "seed");
    if (cli_network_config(&cmd, sizes, acts, &cfg))
        return 1;
    for (int l = 0; l <= cfg.n_layers; l++)
        if (sizes[l] > 16)
            return cli_error(&cmd, "--layers: explain prints every weight; keep widths <= 16");
    if (cli_double(cli_get(&cmd, "lr"), &lr) || lr <= 0)
        return cli_error(&cmd, "--lr: '%s' is not a positive number", cli_get(&cmd, "lr"));
    if (seed_s && cli_u64(seed_s, &seed))
        return cli_error(&cmd, "--seed: '%s' is not a non-negative integer", seed_s);

    bp_error err;
    bp_net *net = bp_net_create(&cfg, 1, &err);
    if (!net)
        return cli_error(&cmd, "%s", err.msg);
    int L = cfg.n_layers, n0 = sizes[0], nL = sizes[L];
    size_t P = bp_net_n_params(net);
    float *x = calloc((size_t)n0, sizeof *x), *t = calloc((size_t)nL, sizeof *t);
    double *p = malloc(P * sizeof *p), *g = malloc(P * sizeof *g);
    bp_trace *tr = bp_trace_create(net);
    int rc = 1;
    if (!x || !t || !p || !g || !tr) {
        cli_error(&cmd, "out of memory");
        goto done;
    }

    int worked = !seed_s && P == 12 && n0 == 2 && sizes[1] == 2 && nL == 2;
    if (worked) {
        /* the scalar form gets the exact decimals, the engine their float32 roundings */
        for (size_t k = 0; k < P; k++)
            bp_net_params(net)[k] = (float)worked_params[k];
        x[0] = 0.05f, x[1] = 0.10f, t[0] = 0.01f, t[1] = 0.99f;
    } else {
        /* the seed's weights; an input and a target simple enough to follow by hand */
        bp_net_init(net, seed);
        for (int i = 0; i < n0; i++)
            x[i] = (float)(i + 1) / (float)(n0 + 1);
        for (int j = 0; j < nL; j++)
            t[j] = cfg.loss == BP_LOSS_SOFTMAX_CE ? (float)(j == (int)(seed % (uint64_t)nL))
                                                  : (float)(j + 1) / (float)(nL + 1);
    }
    for (size_t k = 0; k < P; k++)
        p[k] = worked ? worked_params[k] : bp_net_params(net)[k];

    double loss_s, loss_b;
    bp_targets tg = {t, NULL};
    if (bp_scalar_gradient(net, p, x, tg, 1, g, &loss_s, tr) != BP_OK ||
        bp_forward(net, x, 1) != BP_OK || bp_backward(net, tg, &loss_b) != BP_OK) {
        cli_error(&cmd, "the example could not be computed");
        goto done;
    }
    double max_diff = 0, max_grad = 0;
    for (size_t k = 0; k < P; k++) {
        max_diff = fmax(max_diff, fabs((double)bp_net_grads(net)[k] - g[k]));
        max_grad = fmax(max_grad, fabs(g[k]));
    }
    double loss_diff = fabs(loss_b - loss_s);

    if (cli_flag(&cmd, "json")) {
        printf("{\"loss\": %.17g, \"batch_loss\": %.17g, \"max_grad_diff\": %.17g, "
               "\"max_rel_grad_diff\": %.17g, \"worked_example\": %s}\n",
               loss_s, loss_b, max_diff, max_grad > 0 ? max_diff / max_grad : 0.0,
               worked ? "true" : "false");
    } else {
        print_trace(net, p, tr, t, loss_s, g, lr);
        printf("\nThe same example through the batch engine (float32, sgemm, eq. 51-56):\n"
               "  loss %.9g (scalar form %.9g, difference %.3g)\n"
               "  largest gradient difference %.3g (%.3g of the largest gradient)\n",
               loss_b, loss_s, loss_diff, max_diff, max_grad > 0 ? max_diff / max_grad : 0.0);
    }
    rc = 0;
done:
    free(x), free(t), free(p), free(g);
    bp_trace_free(tr);
    bp_net_free(net);
    return rc;
}
