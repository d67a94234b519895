/*
 * classify.c — a model trained by the CLI, used from C:
 *     backprop train --data D.csv ... --standardize --out model.safetensors
 *     classify model.safetensors D.csv
 * D.csv: one example per row, the features then the class label, no
 * header. Prints each row's predicted class, then the accuracy. bp_predict
 * applies the model's standardisation, as `backprop eval` does.
 */
#include <backprop.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: classify MODEL.safetensors DATA.csv\n"), 1;
    bp_error err;
    bp_net *net = NULL;
    float *data = NULL, *x = NULL, *y = NULL;
    int rows, cols, rc = 1;
    if (bp_model_load(argv[1], 256, &net, &err) != BP_OK ||
        bp_csv_read(argv[2], &data, &rows, &cols, &err) != BP_OK) {
        fprintf(stderr, "classify: %s\n", err.msg);
        goto done;
    }
    int n_in = bp_net_size(net, 0), k = bp_net_size(net, bp_net_n_layers(net));
    if (cols != n_in + 1) {
        fprintf(stderr, "classify: %s: %d columns, the model takes %d features + a label\n",
                argv[2], cols, n_in);
        goto done;
    }
    x = malloc((size_t)rows * n_in * sizeof *x);
    y = malloc((size_t)rows * k * sizeof *y);
    if (!x || !y)
        goto done;
    for (int r = 0; r < rows; r++) /* the features without the label column */
        for (int j = 0; j < n_in; j++)
            x[(size_t)r * n_in + j] = data[(size_t)r * cols + j];
    if (bp_predict(net, x, rows, y, &err) != BP_OK) {
        fprintf(stderr, "classify: %s\n", err.msg);
        goto done;
    }
    int correct = 0;
    for (int r = 0; r < rows; r++) {
        const float *p = y + (size_t)r * k;
        int best = 0;
        for (int c = 1; c < k; c++)
            if (p[c] > p[best])
                best = c;
        printf("%d\n", best);
        correct += best == (int)data[(size_t)r * cols + n_in];
    }
    printf("accuracy %.17g\n", (double)correct / rows);
    rc = 0;
done:
    free(data), free(x), free(y);
    bp_net_free(net);
    return rc;
}
