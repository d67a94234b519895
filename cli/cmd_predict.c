/*
 * cmd_predict.c — `backprop predict`: the network's outputs for every input
 * row (probabilities for softmax), as CSV on stdout or in a file.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cli_opt opts[] = {
    {"model", "FILE", NULL, "model file (safetensors)", NULL},
    {"input", "X.csv", NULL, "inputs, one example per row, N(0) numbers, no header", NULL},
    {"out", "P.csv", "-", "where to write the outputs (- is stdout)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"predict", "Writes one row of N(L) outputs per input row.",
                          "--model M --input X.csv [--out P.csv]", opts};

/* Batches bound the work buffers whatever the number of rows. */
#define PREDICT_BATCH 1024

int cmd_predict(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *model, *input, *out = cli_get(&cmd, "out");
    if (cli_require(&cmd, "model", &model) || cli_require(&cmd, "input", &input))
        return 1;

    bp_error err;
    bp_net *net = NULL;
    float *x = NULL, *y = NULL;
    int rows, cols, rc = 1;
    if (bp_csv_read(input, &x, &rows, &cols, &err) != BP_OK ||
        bp_model_load(model, rows < PREDICT_BATCH ? rows : PREDICT_BATCH, &net, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    int n_in = bp_net_size(net, 0), n_out = bp_net_size(net, bp_net_n_layers(net));
    if (cols != n_in) {
        cli_error(&cmd, "%s: %d columns, but the model takes %d inputs", input, cols, n_in);
        goto done;
    }
    y = malloc((size_t)rows * n_out * sizeof *y);
    if (!y) {
        cli_error(&cmd, "out of memory for %d outputs", rows);
        goto done;
    }
    for (int m0 = 0; m0 < rows; m0 += PREDICT_BATCH) {
        int M = rows - m0 < PREDICT_BATCH ? rows - m0 : PREDICT_BATCH;
        bp_forward(net, x + (size_t)m0 * n_in, M);
        memcpy(y + (size_t)m0 * n_out, bp_net_output(net), (size_t)M * n_out * sizeof *y);
    }
    if (bp_csv_write(out, y, rows, n_out, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    rc = 0;
done:
    free(x);
    free(y);
    bp_net_free(net);
    return rc;
}
