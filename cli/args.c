/*
 * args.c — option parsing for every command: "--name value", "--name=value"
 * and flags, from a table that also prints --help with each default. Plus
 * the strict number parsers and the network configuration options that
 * init and explain share.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An option is required when the usage line names it outside [optional]
 * and (alternative) groups: the usage line is the one place that says so. */
static int required(const cli_command *cmd, const char *name)
{
    size_t len = strlen(name);
    int depth = 0;
    for (const char *p = cmd->usage; *p; p++) {
        if (*p == '[' || *p == '(')
            depth++;
        else if ((*p == ']' || *p == ')') && depth > 0)
            depth--;
        else if (depth == 0 && strncmp(p, "--", 2) == 0 && strncmp(p + 2, name, len) == 0 &&
                 (p[2 + len] == ' ' || p[2 + len] == '\0' || p[2 + len] == '='))
            return 1;
    }
    return 0;
}

void cli_help(const cli_command *cmd)
{
    printf("usage: backprop %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->meta ? " " : "",
                 o->meta ? o->meta : "");
        printf("  %-26s %s", left, o->help);
        if (o->def)
            printf(" (default: %s)", o->def);
        else if (o->meta && required(cmd, o->name))
            printf(" (required)");
        printf("\n");
    }
    printf("  %-26s %s\n", "--help", "show this help");
}

char cli_last_error[512];

int cli_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(cli_last_error, sizeof cli_last_error, "backprop %s: ", cmd->name);
    va_start(ap, fmt);
    vsnprintf(cli_last_error + n, sizeof cli_last_error - n, fmt, ap);
    va_end(ap);
    if (dist_rank() == 0)
        fprintf(stderr, "%s\n", cli_last_error);
    return 1;
}

void cli_json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v == 0 ? 0.0 : v);
    else
        fputs("null", f);
}

void cli_json_field(FILE *f, const char *key, double v, const char *sep)
{
    fprintf(f, "\"%s\": ", key);
    cli_json_num(f, v);
    fputs(sep, f);
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

const char *cli_reason(const char *msg)
{
    if (strncmp(msg, "bp_", 3) != 0)
        return msg;
    const char *colon = strstr(msg, ": ");
    return colon ? colon + 2 : msg;
}

static cli_opt *find(cli_command *cmd, const char *name, size_t len)
{
    for (cli_opt *o = cmd->opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int cli_parse(cli_command *cmd, int argc, char **argv)
{
    for (cli_opt *o = cmd->opts; o->name; o++)
        o->value = o->meta ? o->def : NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_help(cmd);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            cli_error(cmd, "unexpected argument '%s' (see backprop %s --help)", a, cmd->name);
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = find(cmd, name, len);
        if (!o) {
            cli_error(cmd, "unknown option '--%.*s' (see backprop %s --help)", (int)len, name,
                      cmd->name);
            return -1;
        }
        if (!o->meta) {
            if (eq) {
                cli_error(cmd, "--%s takes no value", o->name);
                return -1;
            }
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            cli_error(cmd, "--%s needs a value %s", o->name, o->meta);
            return -1;
        }
    }
    return 1;
}

const char *cli_get(const cli_command *cmd, const char *name)
{
    for (const cli_opt *o = cmd->opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->value;
    return NULL;
}

int cli_flag(const cli_command *cmd, const char *name) { return cli_get(cmd, name) != NULL; }

int cli_require(const cli_command *cmd, const char *name, const char **out)
{
    *out = cli_get(cmd, name);
    if (!*out || !**out)
        return cli_error(cmd, "--%s is required (see backprop %s --help)", name, cmd->name);
    return 0;
}

int cli_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cli_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

char *cli_next_item(char **p)
{
    char *tok = *p, *comma = tok ? strchr(tok, ',') : NULL;
    if (comma)
        *comma++ = '\0';
    *p = comma;
    return tok;
}

int cli_network_config(const cli_command *cmd, int *sizes, bp_act *acts, bp_config *cfg)
{
    return cli_network_config_with(cmd, "layers", cli_get(cmd, "layers"), sizes, acts, cfg);
}

int cli_network_config_with(const cli_command *cmd, const char *opt, const char *layers,
                            int *sizes, bp_act *acts, bp_config *cfg)
{
    const char *act = cli_get(cmd, "act");
    const char *loss = cli_get(cmd, "loss"), *out_act = cli_get(cmd, "out-act");
    char buf[1024];
    *cfg = (bp_config)BP_CONFIG_DEFAULT;

    /* --layers: N(0),...,N(L) */
    if (!layers || strlen(layers) >= sizeof buf)
        return cli_error(cmd, "--%s: give the widths, e.g. 784,256,10", opt);
    strcpy(buf, layers);
    int n = 0;
    for (char *p = buf, *tok; (tok = cli_next_item(&p)) != NULL; n++) {
        long v;
        if (n > BP_MAX_LAYERS)
            return cli_error(cmd, "--%s: at most %d layers", opt, BP_MAX_LAYERS + 1);
        if (cli_int(tok, 1, BP_MAX_WIDTH, &v))
            return cli_error(cmd, "--%s: '%s' is not a width in 1..%d", opt, tok, BP_MAX_WIDTH);
        sizes[n] = (int)v;
    }
    if (n < 2)
        return cli_error(cmd, "--%s: need at least an input and an output width", opt);
    int L = n - 1;

    if (bp_loss_parse(loss, &cfg->loss) != BP_OK)
        return cli_error(cmd, "--loss: unknown loss '%s' (mse, softmax_ce, sigmoid_bce)", loss);

    /* --act: one name for every hidden layer, or L names, one per layer */
    if (!act || strlen(act) >= sizeof buf)
        return cli_error(cmd, "--act: give an activation name or a list of them");
    strcpy(buf, act);
    int k = 0;
    for (char *p = buf, *tok; (tok = cli_next_item(&p)) != NULL; k++) {
        if (k >= L)
            return cli_error(cmd, "--act: more names than the %d non-input layers", L);
        if (bp_act_parse(tok, &acts[k]) != BP_OK)
            return cli_error(cmd,
                             "--act: unknown activation '%s' (identity, sigmoid, relu, "
                             "leaky_relu, tanh, softmax)", tok);
    }
    if (k == 1 && L > 1) { /* one name: the hidden layers; the output follows the loss */
        for (int l = 1; l < L - 1; l++)
            acts[l] = acts[0];
        k = L - 1;
    } else if (k == 1 && L == 1) {
        k = 0; /* no hidden layer: the name has nothing to apply to */
    }
    if (k == L - 1) {
        bp_act out;
        if (cfg->loss == BP_LOSS_SOFTMAX_CE)
            out = BP_ACT_SOFTMAX;
        else if (cfg->loss == BP_LOSS_SIGMOID_BCE)
            out = BP_ACT_SIGMOID;
        else if (bp_act_parse(out_act, &out) != BP_OK)
            return cli_error(cmd, "--out-act: unknown activation '%s'", out_act);
        acts[L - 1] = out;
    } else if (k != L) {
        return cli_error(cmd, "--act: give one name or %d (one per non-input layer), not %d", L,
                         k);
    }

    if (cli_double(cli_get(cmd, "temperature"), &cfg->temperature))
        return cli_error(cmd, "--temperature: '%s' is not a number",
                         cli_get(cmd, "temperature"));
    if (cli_double(cli_get(cmd, "leaky-slope"), &cfg->leaky_slope))
        return cli_error(cmd, "--leaky-slope: '%s' is not a number", cli_get(cmd, "leaky-slope"));
    cfg->n_layers = L;
    cfg->sizes = sizes;
    cfg->acts = acts;
    return 0;
}

int cli_device(const cli_command *cmd, bp_device *out)
{
    const char *name = cli_get(cmd, "device");
    bp_error err;
    if (bp_device_parse(name, out) != BP_OK)
        return cli_error(cmd, "--device: unknown device '%s' (cpu, cuda)", name);
    if (*out == BP_DEVICE_CUDA && bp_cuda_probe(&err) != BP_OK)
        return cli_error(cmd, "--device cuda: %s", err.msg);
    return 0;
}

int cli_gemm(const cli_command *cmd, bp_gemm *out)
{
    const char *name = cli_get(cmd, "gemm");
    *out = bp_gemm_default();
    if (!name)
        return 0;
    if (bp_gemm_parse(name, out) != BP_OK)
        return cli_error(cmd, "--gemm: unknown provider '%s' (onednn, cblas)", name);
    if (!bp_gemm_available(*out))
        return cli_error(cmd, "--gemm %s: this build has no oneDNN (libdnnl-dev was not found)",
                         name);
    return 0;
}

int cli_net_to_device(const cli_command *cmd, bp_net *net, bp_device device)
{
    bp_error err;
    bp_gemm g;
    if (cli_gemm(cmd, &g) || bp_net_set_gemm(net, g) != BP_OK)
        return 1;
    if (bp_net_set_device(net, device, &err) != BP_OK)
        return cli_error(cmd, "--device %s: %s", bp_device_name(device), err.msg);
    if (bp_net_set_tf32(net, cli_flag(cmd, "tf32")) != BP_OK)
        return cli_error(cmd, "--tf32: %s", bp_last_error());
    return 0;
}

int cli_load_model(const cli_command *cmd, const char *path, int max_batch, bp_device device,
                   bp_net **net)
{
    bp_error err;
    if (bp_model_load(path, max_batch, net, &err) != BP_OK)
        return cli_error(cmd, "%s", err.msg);
    if (bp_net_set_threads(*net, 0) != BP_OK) /* one per core */
        return cli_error(cmd, "cannot start threads");
    return cli_net_to_device(cmd, *net, device);
}
