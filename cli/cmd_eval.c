/*
 * cmd_eval.c — `backprop eval`: a model measured on a data set: loss,
 * FANN's MSE and bit fail, and where the data set has classes (labels or
 * one-hot targets, whatever the model's loss) accuracy, per-class precision
 * and recall, the confusion matrix (table, JSON, SVG heat map). The model's
 * own standardisation is applied.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cli_opt opts[] = {
    {"model", "FILE", NULL, "model file (safetensors)", NULL},
    {"data", "D", NULL, "fashion-mnist, mnist, an IDX folder, a .csv or a FANN file", NULL},
    {"split", "NAME", "test", "test or train (IDX data sets; files have one split)", NULL},
    {"target-cols", "K", "0", "CSV: 0 = last column is a class label; K = last K columns", NULL},
    CLI_CSV_OPTS,
    {"plot", "FILE", NULL, "draw the confusion matrix as an SVG heat map", NULL},
    {"json", NULL, NULL, "print the results as one JSON object", NULL},
    CLI_DEVICE_OPTS,
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"eval", "Evaluates a model on a data set.",
                          "--model M --data D [--split test] [--json] [--plot confusion.svg]",
                          opts};

#define TOP_CONFUSIONS 3

/* The largest counts off the diagonal, "true → predicted: count", by name
 * where the classes have names: what a reader of the matrix looks for. */
static void print_confusions(const long *conf, int k, const char *const *names)
{
    long top[TOP_CONFUSIONS] = {0};
    int at[TOP_CONFUSIONS][2], n = 0;
    /* kept in order, largest first; a tie keeps the earlier cell first */
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            long c = conf[(size_t)i * k + j];
            if (i == j || c <= 0 || (n == TOP_CONFUSIONS && c <= top[n - 1]))
                continue;
            int p = n < TOP_CONFUSIONS ? n++ : n - 1;
            for (; p > 0 && top[p - 1] < c; p--) {
                top[p] = top[p - 1];
                at[p][0] = at[p - 1][0], at[p][1] = at[p - 1][1];
            }
            top[p] = c, at[p][0] = i, at[p][1] = j;
        }
    for (int t = 0; t < n; t++) {
        printf("%s", t ? ", " : "most confused (true → predicted): ");
        if (names)
            printf("%s → %s: %ld", names[at[t][0]], names[at[t][1]], top[t]);
        else
            printf("%d → %d: %ld", at[t][0], at[t][1], top[t]);
    }
    if (n)
        printf("\n");
}

int cmd_eval(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *model, *data, *split = cli_get(&cmd, "split");
    if (cli_require(&cmd, "model", &model) || cli_require(&cmd, "data", &data))
        return 1;
    if (strcmp(split, "test") != 0 && strcmp(split, "train") != 0)
        return cli_error(&cmd, "--split: '%s' is neither test nor train", split);
    bp_device device;
    if (cli_device(&cmd, &device))
        return 1;

    bp_dataset *ds = NULL;
    bp_net *net = NULL;
    bp_error err;
    int32_t *idx = NULL;
    long *conf = NULL;
    const char **names = NULL;
    int rc = 1, test = strcmp(split, "test") == 0;
    /* the model first: a CSV's class names are read as its indices */
    if (cli_load_model(&cmd, model, 1024, device, &net))
        goto done;
    int k;
    names = cli_class_names(net, NULL, &k);
    if (k < 0) {
        cli_error(&cmd, "out of memory");
        goto done;
    }
    bp_csv_options csv;
    if (cli_csv_options(&cmd, &csv))
        goto done;
    csv.classes = names, csv.n_classes = names ? k : 0, csv.model = net;
    if (cli_load_data(&cmd, data, test, &csv, &ds))
        goto done;
    if (!ds && cli_load_data(&cmd, data, 0, &csv, &ds)) /* a file: its one split */
        goto done;
    if (bp_dataset_class(ds, 0) && !names && !cli_names_by_index(data)) {
        cli_error(&cmd, "%s names its classes, but %s numbers them", data, model);
        goto done;
    }
    if (bp_dataset_n_out(ds) == 0) {
        cli_error(&cmd, "%s has no target column to measure the model against", data);
        goto done;
    }
    int n = bp_dataset_n(ds);
    int classes = bp_dataset_has_classes(ds);
    if (bp_dataset_check(net, ds) != BP_OK) {
        cli_error(&cmd, "%s does not fit %s: %s", data, model, cli_reason(bp_last_error()));
        goto done;
    }
    idx = malloc((size_t)n * sizeof *idx);
    conf = classes ? calloc((size_t)k * k, sizeof *conf) : NULL;
    if (!idx || (classes && !conf)) {
        cli_error(&cmd, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++)
        idx[i] = i;
    bp_metrics m;
    bp_status s = bp_evaluate(net, ds, idx, n, &m, conf);
    if (s != BP_OK) {
        cli_error(&cmd, "%s: evaluation failed: %s", data, bp_last_error());
        goto done;
    }
    if (cli_get(&cmd, "plot") && !classes) {
        cli_error(&cmd, "%s: --plot draws a confusion matrix, but the targets are not classes "
                        "(one-hot rows)", data);
        goto done;
    }
    if (cli_get(&cmd, "plot") &&
        bp_plot_confusion_named(cli_get(&cmd, "plot"), k, conf, names, &err) != BP_OK) {
        cli_error(&cmd, "%s", err.msg);
        goto done;
    }

    int json = cli_flag(&cmd, "json");
    if (json) {
        printf("{\"examples\": %d, ", n);
        cli_json_field(stdout, "loss", m.loss, ", ");
        cli_json_field(stdout, "mse_fann", m.mse_fann, ", ");
        printf("\"bit_fail\": %ld, ", m.bit_fail);
        if (names) {
            printf("\"classes\": [");
            for (int c = 0; c < k; c++) {
                printf("%s", c ? ", " : "");
                cli_json_string(stdout, names[c]);
            }
            printf("], ");
        }
        if (classes) {
            cli_json_field(stdout, "accuracy", m.accuracy, ", ");
            printf("\"per_class\": [");
        } else
            printf("\"accuracy\": null, \"per_class\": [], \"confusion\": null}\n");
    } else {
        printf("%d examples  loss %.6f  MSE (FANN's) %.6g  bit fail %ld", n, m.loss, m.mse_fann,
               m.bit_fail);
        if (classes)
            printf("  accuracy %.4f\n\nclass  precision  recall  support\n", m.accuracy);
        else
            printf("\n");
    }
    for (int c = 0; classes && c < k; c++) {
        long tp = conf[(size_t)c * k + c], row = 0, col = 0;
        for (int j = 0; j < k; j++) {
            row += conf[(size_t)c * k + j];
            col += conf[(size_t)j * k + c];
        }
        double prec = col ? (double)tp / col : NAN, rec = row ? (double)tp / row : NAN;
        if (json) {
            printf("%s{\"class\": %d, ", c ? ", " : "", c);
            printf(isfinite(prec) ? "\"precision\": %.17g, " : "\"precision\": null, ", prec);
            printf(isfinite(rec) ? "\"recall\": %.17g, " : "\"recall\": null, ", rec);
            printf("\"support\": %ld}", row);
        } else {
            printf("%5d  %9.4f  %6.4f  %7ld%s%s\n", c, prec, rec, row, names ? "  " : "",
                   names ? names[c] : "");
        }
    }
    if (classes && json) {
        printf("], \"confusion\": [");
        for (int i = 0; i < k; i++) {
            printf("%s[", i ? ", " : "");
            for (int j = 0; j < k; j++)
                printf("%s%ld", j ? ", " : "", conf[(size_t)i * k + j]);
            printf("]");
        }
        printf("]}\n");
    } else if (classes) {
        printf("\nconfusion matrix (row = true class, column = predicted)\n     ");
        for (int j = 0; j < k; j++)
            printf("%6d", j);
        for (int i = 0; i < k; i++) {
            printf("\n%5d", i);
            for (int j = 0; j < k; j++)
                printf("%6ld", conf[(size_t)i * k + j]);
            printf("%s%s", names ? "  " : "", names ? names[i] : "");
        }
        printf("\n");
        print_confusions(conf, k, names);
    }
    rc = 0;
done:
    free(idx);
    free(conf);
    free(names);
    bp_net_free(net);
    bp_dataset_free(ds);
    return rc;
}
