/*
 * train_report.c — what `backprop train` shows of a run: the progress bar,
 * the --metrics table, the --plot curves and the --json object.
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>

void train_progress(int epoch, int epochs, long done, long total, double loss, double t0)
{
    double el = cli_now() - t0, rate = done / (el > 0 ? el : 1e-9);
    int width = 30, fill = (int)(width * done / total);
    fprintf(stderr, "\repoch %d/%d [", epoch, epochs);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '=' : i == fill ? '>' : ' ', stderr);
    fprintf(stderr, "] %3d%%  %.0f ex/s  loss %.4f  ETA %.0fs ", (int)(100 * done / total), rate,
            loss, (total - done) / (rate > 0 ? rate : 1));
    fflush(stderr);
}

int train_write_metrics(const char *path, const epoch_row *rows, int n)
{
    size_t cap = 128 + (size_t)n * 160, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return cli_error(&train_cmd, "%s: out of memory", path);
    len += snprintf(buf + len, cap - len,
                    "epoch,train_loss,val_loss,val_accuracy,examples_per_s,seconds,lr\n");
    for (int e = 0; e < n; e++)
        len += snprintf(buf + len, cap - len, "%d,%.9g,%.9g,%.9g,%.6g,%.6g,%.6g\n", e + 1,
                        rows[e].train_loss, rows[e].val_loss, rows[e].val_acc, rows[e].ex_per_s,
                        rows[e].seconds, rows[e].lr);
    bp_error err;
    bp_status s = bp_file_write(path, buf, len, &err);
    free(buf);
    return s == BP_OK ? 0 : cli_error(&train_cmd, "%s", err.msg);
}

int train_plot(const char *path, const epoch_row *rows, int n, int with_val, int with_acc)
{
    double *c = malloc(3 * (size_t)(n ? n : 1) * sizeof *c); /* train, val loss; val acc */
    if (!c)
        return cli_error(&train_cmd, "%s: out of memory", path);
    for (int e = 0; e < n; e++)
        c[e] = rows[e].train_loss, c[n + e] = rows[e].val_loss, c[2 * n + e] = rows[e].val_acc;
    bp_error err;
    bp_status s = bp_plot_curves(path, n, c, with_val ? c + n : NULL, with_acc ? c + 2 * n : NULL,
                                 &err);
    free(c);
    return s == BP_OK ? 0 : cli_error(&train_cmd, "%s", err.msg);
}

static void json_num(const char *key, double v, const char *sep)
{
    cli_json_field(stdout, key, v, sep);
}

void train_json(const char *layers, const epoch_row *rows, int n, const bp_metrics *tm, int test,
                int interrupted)
{
    printf("{\"layers\": \"%s\", \"epochs\": [", layers);
    for (int e = 0; e < n; e++) {
        printf("%s{\"epoch\": %d, ", e ? ", " : "", e + 1);
        json_num("train_loss", rows[e].train_loss, ", ");
        json_num("val_loss", rows[e].val_loss, ", ");
        json_num("val_accuracy", rows[e].val_acc, ", ");
        json_num("examples_per_s", rows[e].ex_per_s, ", ");
        json_num("seconds", rows[e].seconds, "}");
    }
    printf("], ");
    json_num("test_loss", tm->loss, ", ");
    json_num("test_accuracy", tm->accuracy, ", ");
    json_num("test_mse_fann", tm->mse_fann, ", ");
    if (test)
        printf("\"test_bit_fail\": %ld, ", tm->bit_fail);
    else
        printf("\"test_bit_fail\": null, ");
    printf("\"interrupted\": %s}\n", interrupted ? "true" : "false");
}
