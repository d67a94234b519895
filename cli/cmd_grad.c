/*
 * cmd_grad.c — `backprop grad`: the loss and the mean gradients of one batch
 * (docs/formats.md), computed by the batch engine and written under the model's
 * tensor names.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static cli_opt opts[] = {
    {"model", "FILE", NULL, "model file (safetensors)", NULL},
    {"input", "X.csv", NULL, "inputs, one example per row, N(0) numbers, no header", NULL},
    {"target", "T.csv", NULL, "targets, N(L) numbers per row (or one class label for softmax_ce)",
     NULL},
    {"out", "FILE", NULL, "gradient file to write (safetensors)", NULL},
    {"json", NULL, NULL, "print the loss as a JSON object", NULL},
    CLI_DEVICE_OPTS,
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"grad",
                          "Writes the mean gradient of the batch's loss under the model's tensor "
                          "names, with the loss as __metadata__[\"loss_value\"].",
                          "--model M --input X.csv --target T.csv --out G.safetensors [--json]",
                          opts};

/* One column of whole numbers in 0..n-1: class labels. */
static int read_labels(const char *path, const float *t, int rows, int n, int32_t *labels)
{
    for (int m = 0; m < rows; m++) {
        float v = t[m];
        if (v != floorf(v) || v < 0 || v >= (float)n)
            return cli_error(&cmd, "%s:%d: class label %g is not an integer in 0..%d", path, m + 1,
                             (double)v, n - 1);
        labels[m] = (int32_t)v;
    }
    return 0;
}

int cmd_grad(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *model, *input, *target, *out;
    if (cli_require(&cmd, "model", &model) || cli_require(&cmd, "input", &input) ||
        cli_require(&cmd, "target", &target) || cli_require(&cmd, "out", &out))
        return 1;
    bp_device device;
    if (cli_device(&cmd, &device))
        return 1;

    bp_error err;
    bp_net *net = NULL;
    float *x = NULL, *t = NULL;
    int32_t *labels = NULL;
    int rows, cols, t_rows, t_cols, rc = 1;

    if (bp_csv_read(input, &x, &rows, &cols, &err) != BP_OK ||
        bp_csv_read(target, &t, &t_rows, &t_cols, &err) != BP_OK ||
        bp_model_load(model, rows, &net, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    if (cli_net_to_device(&cmd, net, device))
        goto done;
    int n_in = bp_net_size(net, 0), n_out = bp_net_size(net, bp_net_n_layers(net));
    if (cols != n_in) {
        cli_error(&cmd, "%s: %d columns, but the model takes %d inputs", input, cols, n_in);
        goto done;
    }
    if (t_rows != rows) {
        cli_error(&cmd, "%s: %d rows, but %s has %d", target, t_rows, input, rows);
        goto done;
    }
    bp_targets tg = {t, NULL};
    if (t_cols != n_out) {
        if (t_cols != 1 || bp_net_loss(net) != BP_LOSS_SOFTMAX_CE) {
            cli_error(&cmd, "%s: %d columns, but the model has %d outputs", target, t_cols, n_out);
            goto done;
        }
        labels = malloc((size_t)rows * sizeof *labels);
        if (!labels) {
            cli_error(&cmd, "out of memory");
            goto done;
        }
        if (read_labels(target, t, rows, n_out, labels))
            goto done;
        tg = (bp_targets){NULL, labels};
    }

    double loss;
    bp_status s = bp_forward(net, x, rows);
    if (s == BP_OK)
        s = bp_backward(net, tg, &loss);
    if (s != BP_OK) {
        cli_error(&cmd, "%s: %s", bp_status_string(s), bp_last_error());
        goto done;
    }
    const float *g = bp_net_grads(net);
    int finite = isfinite(loss);
    for (size_t k = 0; finite && k < bp_net_n_params(net); k++)
        finite = isfinite(g[k]);
    if (!finite) {
        cli_error(&cmd, "%s: the loss or a gradient is not finite (inputs too large for float32?)",
                  input);
        goto done;
    }
    if (bp_grads_save(net, g, loss, out, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    if (cli_flag(&cmd, "json")) {
        printf("{");
        cli_json_field(stdout, "loss", loss, ", ");
        printf("\"examples\": %d}\n", rows);
    } else
        printf("loss %.9g over %d examples -> %s\n", loss, rows, out);
    rc = 0;
done:
    free(x);
    free(t);
    free(labels);
    bp_net_free(net);
    return rc;
}
