/*
 * cmd_export.c — `backprop export`: a model file as an ONNX model
 * (docs/formats.md), for ONNX Runtime and the runtimes that read ONNX.
 */
#include "cli.h"

static cli_opt opts[] = {
    {"model", "FILE", NULL, "model file (safetensors)", NULL},
    {"onnx", "FILE", NULL, "ONNX file to write (opset 13)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"export",
                          "Writes the model as ONNX: input x [N, N(0)] float32, output y as "
                          "predict gives it, and label for softmax_ce.",
                          "--model M.safetensors --onnx M.onnx", opts};

int cmd_export(int argc, char **argv)
{
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *model, *onnx;
    if (cli_require(&cmd, "model", &model) || cli_require(&cmd, "onnx", &onnx))
        return 1;
    /* the size from the header, before the weights are read into memory */
    bp_error err;
    int sizes[BP_MAX_LAYERS + 1], L = bp_model_sizes(model, sizes, &err);
    if (L == 0 || bp_onnx_fits(sizes, L, onnx, &err) != BP_OK)
        return cli_error(&cmd, "%s", err.msg);
    bp_net *net = NULL;
    bp_status s = bp_model_load(model, 1, &net, &err);
    if (s == BP_OK)
        s = bp_model_export_onnx(net, onnx, &err);
    /* the graph starts after the CSV encoding: its user must know */
    if (s == BP_OK && bp_net_columns(net))
        fprintf(stderr, "backprop export: %s reads CSV rows through an encoding (columns by "
                "name, categories, fills); %s takes the %d numbers after it, as its \"columns\" "
                "metadata lists them (docs/formats.md)\n", model, onnx, bp_net_size(net, 0));
    bp_net_free(net);
    return s == BP_OK ? 0 : cli_error(&cmd, "%s", err.msg);
}
