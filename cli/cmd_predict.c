/*
 * cmd_predict.c — `backprop predict`: the network's outputs for every input
 * row (probabilities for softmax), or with --classes the most probable class,
 * as CSV on stdout or in a file. The model's standardisation is applied.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cli_opt opts[] = {
    {"model", "FILE", NULL, "model file (safetensors)", NULL},
    {"input", "X.csv", NULL, "inputs, one example per row: N(0) numbers, no header; or for a "
                             "model that keeps its CSV columns, raw rows as trained on", NULL},
    {"data", "D", NULL, "instead of --input: a data set's inputs (see train --help)", NULL},
    {"split", "NAME", "test", "with --data: test or train", NULL},
    CLI_CSV_OPTS,
    {"classes", NULL, NULL, "print the argmax class per row (its name, where the model has "
                            "names) instead of the outputs", NULL},
    {"out", "P.csv", "-", "where to write the outputs (- is stdout)", NULL},
    CLI_DEVICE_OPTS,
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"predict", "Writes one row of N(L) outputs (or one class) per input row.",
                          "--model M (--input X.csv | --data D) [--classes] [--out P.csv]", opts};

/* Batches bound the work buffers whatever the number of rows. */
#define PREDICT_BATCH 1024

/* One class name per row, quoted as RFC 4180 has it where it holds a
 * comma, a quote or blanks at either end; path "-" is stdout. */
static bp_status write_names(const char *path, const bp_net *net, const float *cls, int rows,
                             bp_error *err)
{
    size_t cap = 0, n = 0;
    for (int r = 0; r < rows; r++)
        cap += 2 * strlen(bp_net_class(net, (int)cls[r])) + 3;
    char *buf = malloc(cap + 1);
    if (!buf) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %d class names", rows);
        return BP_ERR_NOMEM;
    }
    for (int r = 0; r < rows; r++) {
        const char *name = bp_net_class(net, (int)cls[r]);
        size_t len = strlen(name);
        int quote = strpbrk(name, ",\";") || name[0] == ' ' || name[len - 1] == ' ';
        if (quote)
            buf[n++] = '"';
        for (const char *p = name; *p; p++) {
            if (*p == '"')
                buf[n++] = '"';
            buf[n++] = *p;
        }
        if (quote)
            buf[n++] = '"';
        buf[n++] = '\n';
    }
    bp_status s = BP_OK;
    if (strcmp(path, "-") != 0)
        s = bp_file_write(path, buf, n, err);
    else if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0) {
        snprintf(err->msg, sizeof err->msg, "stdout: write failed");
        s = BP_ERR_IO;
    }
    free(buf);
    return s;
}

int cmd_predict(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *model, *input = cli_get(&cmd, "input"), *data = cli_get(&cmd, "data");
    const char *out = cli_get(&cmd, "out"), *src;
    if (cli_require(&cmd, "model", &model))
        return 1;
    if (!input == !data)
        return cli_error(&cmd, "give one of --input X.csv or --data D");
    src = input ? input : data;
    bp_device device;
    if (cli_device(&cmd, &device))
        return 1;

    bp_error err;
    bp_net *net = NULL;
    bp_dataset *ds = NULL;
    float *x = NULL, *y = NULL, *batch = NULL;
    int32_t *idx = NULL;
    int rows, cols, rc = 1;
    /* the model first: its class names and CSV encoding read the file */
    bp_net *m = NULL;
    if (cli_load_model(&cmd, model, 1, BP_DEVICE_CPU, &m)) {
        bp_net_free(m);
        goto done;
    }
    int raw = input && !bp_net_columns(m); /* numbers only, no header */
    if (raw && bp_csv_read(input, &x, &rows, &cols, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        bp_net_free(m);
        goto done;
    }
    if (!raw) {
        int test = !input && strcmp(cli_get(&cmd, "split"), "train") != 0, k;
        const char **names = cli_class_names(m, NULL, &k);
        bp_csv_options csv;
        int bad = cli_csv_options(&cmd, &csv);
        csv.classes = names, csv.n_classes = names ? k : 0, csv.model = m;
        bad = bad || k < 0 ? bad || cli_error(&cmd, "out of memory")
                           : cli_load_data(&cmd, src, test, &csv, &ds) ||
                                 (!ds && cli_load_data(&cmd, src, 0, &csv, &ds));
        free(names);
        if (bad) {
            bp_net_free(m);
            goto done;
        }
        rows = bp_dataset_n(ds);
        cols = bp_dataset_n_in(ds);
    }
    bp_net_free(m); /* the names pointed into it */
    int B = rows < PREDICT_BATCH ? rows : PREDICT_BATCH;
    if (cli_load_model(&cmd, model, B, device, &net))
        goto done;
    int n_in = bp_net_size(net, 0), n_out = bp_net_size(net, bp_net_n_layers(net));
    if (cols != n_in) {
        cli_error(&cmd, "%s: %d columns, but the model takes %d inputs", src, cols, n_in);
        goto done;
    }
    int classes = cli_flag(&cmd, "classes"), width = classes ? 1 : n_out;
    const float *mean = bp_net_mean(net), *std = bp_net_std(net);
    y = malloc((size_t)rows * width * sizeof *y);
    batch = malloc((size_t)B * n_in * sizeof *batch);
    idx = malloc((size_t)B * sizeof *idx);
    if (!y || !batch || !idx) {
        cli_error(&cmd, "out of memory for %d outputs", rows);
        goto done;
    }
    for (int m0 = 0; m0 < rows; m0 += B) {
        int M = rows - m0 < B ? rows - m0 : B;
        if (ds) {
            for (int m = 0; m < M; m++)
                idx[m] = m0 + m;
            bp_dataset_gather(ds, idx, M, mean, std, batch, NULL, NULL);
        } else {
            for (size_t k = 0; k < (size_t)M * n_in; k++) {
                float v = x[(size_t)m0 * n_in + k];
                batch[k] = mean ? (v - mean[k % n_in]) / std[k % n_in] : v;
            }
        }
        if (bp_forward(net, batch, M) != BP_OK) {
            cli_error(&cmd, "forward pass failed (%s)", bp_last_error());
            goto done;
        }
        const float *o = bp_net_output(net);
        for (int m = 0; m < M; m++) {
            const float *row = o + (size_t)m * n_out;
            if (classes) {
                int best = 0;
                for (int j = 1; j < n_out; j++)
                    if (row[j] > row[best])
                        best = j;
                y[m0 + m] = (float)best;
            } else {
                memcpy(y + (size_t)(m0 + m) * n_out, row, (size_t)n_out * sizeof *y);
            }
        }
    }
    if (classes && bp_net_class(net, 0)) {
        if (write_names(out, net, y, rows, &err) != BP_OK) {
            cli_error(&cmd, "%s", err.msg);
            goto done;
        }
    } else if (bp_csv_write(out, y, rows, width, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }
    rc = 0;
done:
    free(x), free(y), free(batch), free(idx);
    bp_dataset_free(ds);
    bp_net_free(net);
    return rc;
}
