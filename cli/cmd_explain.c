/*
 * cmd_explain.c — `backprop explain`: the note's algorithm on numbers a
 * student chooses, as a derivation to follow by hand (explain_text.c), a
 * page (explain_html.c) or JSON (explain_json.c); and `explain softmax`,
 * the note's section 8 on a vector of logits.
 *
 * This file reads the options and the numbers, and refuses what does not
 * fit with one line. Numbers typed on the command line are read as double
 * from their decimal text; values that were stored as float32 (a model's
 * weights, a CSV read by the library's reader) become the shortest decimal
 * that rounds to the same float, so 0.15 stays 0.15 and no float32 noise
 * reaches the printed trace.
 *
 * Without --model and --seed, the 2-2-2 sigmoid/mse network starts from a
 * classic hand-worked example (x = (0.05, 0.10), t = (0.01, 0.99)) that is
 * small enough to redo with a pencil; it is not from the note, which has
 * no numeric network.
 */
#include "explain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cli_opt opts[] = {
    CLI_NETWORK_OPTS("2,2,2", "sigmoid", "sigmoid", "mse"),
    {"model", "M", NULL, "the network and weights of a model file (instead of --layers ...)", NULL},
    {"seed", "S", NULL, "weights from this seed (default: the hand-worked numbers for 2,2,2)",
     NULL},
    {"input", "x1,..|X.csv", NULL, "the input, or a CSV of M inputs (a batch, section 7); for a "
                                   "model that keeps its CSV columns, raw rows as trained on "
                                   "(encoded as predict does; their target columns the targets)",
     NULL},
    {"target", "t1,..|c|T.csv", NULL, "the target, a class label (softmax_ce) or a CSV", NULL},
    {"lr", "ALPHA", "0.5", "learning rate of the update shown (eq. 49-50)", NULL},
    {"lang", "en|ru", "en", "language of the derivation", NULL},
    {"digits", "D", "9", "significant digits of every value", NULL},
    {"check", NULL, NULL, "central finite differences in double beside every gradient", NULL},
    {"steps", "N", "0", "run N descent steps and show the loss falling", NULL},
    {"no-update", NULL, NULL, "leave out the update lines", NULL},
    {"layer", "l", NULL, "only layer l (1..L) and the weights into it", NULL},
    {"neuron", "j", NULL, "only neuron j (1-based) of each shown layer", NULL},
    {"focus", "w_ij^(l)", NULL, "the chain rule of one weight's derivative (eq. 8-26)", NULL},
    {"html", "FILE", NULL, "write a self-contained page with a diagram instead", NULL},
    {"json", NULL, NULL, "print the whole trace as JSON", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command cmd = {"explain",
                          "Prints the forward pass, the errors, the gradients and an update for "
                          "chosen numbers, each value with the note's equation number. "
                          "'backprop explain softmax --help' for section 8 alone.",
                          "[--model M | --layers 2,2,2 --act sigmoid --loss mse [--seed S]] "
                          "[--input x1,..] [--target t1,..]",
                          opts};

static cli_opt softmax_opts[] = {
    {"z", "z1,z2,...", NULL, "the logits", NULL},
    {"temperature", "T", "1", "softmax temperature (eq. 69)", NULL},
    {"lang", "en|ru", "en", "language", NULL},
    {"digits", "D", "9", "significant digits of every value", NULL},
    {"json", NULL, NULL, "print {\"y\": [...], \"logsumexp\": v}", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static cli_command softmax_cmd = {"explain softmax",
                                  "softmax of the logits given, with the max shift (eq. 61), "
                                  "log-sum-exp (eq. 58) and a temperature (eq. 69-71).",
                                  "--z 1,2,3 [--temperature T]", softmax_opts};

/* The classic worked example: W(0), b(0), W(1), b(1) of the 2-2-2 network */
static const double worked_params[12] = {0.15, 0.20, 0.25, 0.30, 0.35, 0.35,
                                         0.40, 0.45, 0.50, 0.55, 0.60, 0.60};

/* The shortest decimal that reads back as v, as a double. */
static double decimal_of(float v)
{
    char s[32];
    bp_shortest_float(s, v);
    return strtod(s, NULL);
}

/* "1,2.5,-3" -> *out (malloc'ed), *n. 1 if it is not such a list, -1 out of memory. */
static int number_list(const char *s, double **out, int *n)
{
    int k = 1;
    for (const char *p = s; *p; p++)
        k += *p == ',';
    double *v = malloc((size_t)k * sizeof *v);
    if (!v)
        return -1;
    const char *p = s;
    for (int i = 0; i < k; i++) {
        char tok[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof tok) {
            free(v);
            return 1;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (cli_double(tok, &v[i]) || !isfinite(v[i])) {
            free(v);
            return 1;
        }
        p += len + (p[len] == ',');
    }
    *out = v, *n = k;
    return 0;
}

/* --input/--target: a number list, or else a CSV file; rows × cols into *out. */
static int read_numbers(const char *opt, const char *s, double **out, int *rows, int *cols)
{
    int n, r = number_list(s, out, &n);
    if (r == 0) {
        *rows = 1, *cols = n;
        return 0;
    }
    if (r < 0)
        return cli_error(&cmd, "out of memory");
    if (access(s, F_OK) != 0 && !strstr(s, ".csv"))
        return cli_error(&cmd, "--%s: '%s' is neither a list of numbers nor a file", opt, s);
    float *f;
    bp_error err;
    if (bp_csv_read(s, &f, rows, cols, &err) != BP_OK)
        return cli_error(&cmd, "%s", err.msg);
    *out = malloc((size_t)*rows * (size_t)*cols * sizeof **out);
    for (size_t k = 0; *out && k < (size_t)*rows * (size_t)*cols; k++)
        (*out)[k] = decimal_of(f[k]);
    free(f);
    return *out ? 0 : cli_error(&cmd, "out of memory");
}

/* "w_12^(0)", "w12^(0)", "w_{1,12}^{(0)}" -> l, i, j; 1 if not that form. */
static int parse_focus(const char *s, int *l, int *i, int *j)
{
    char sub[16], sup[16];
    size_t ns = 0, nl = 0, comma = 0;
    const char *caret = strchr(s, '^');
    if (!caret)
        return 1;
    for (const char *p = s; p < caret; p++) {
        if (*p >= '0' && *p <= '9' && ns + 1 < sizeof sub)
            sub[ns++] = *p;
        else if (*p == ',' && !comma && ns)
            comma = ns;
        else if (!(p == s && *p == 'w') && !strchr("_{}", *p))
            return 1;
    }
    for (const char *p = caret + 1; *p; p++) {
        if (*p >= '0' && *p <= '9' && nl + 1 < sizeof sup)
            sup[nl++] = *p;
        else if (!strchr("{}()", *p))
            return 1;
    }
    sub[ns] = sup[nl] = '\0';
    if (!nl || (comma ? comma == ns : ns != 2))
        return 1;
    *l = atoi(sup);
    if (comma) {
        *j = atoi(sub + comma);
        sub[comma] = '\0';
        *i = atoi(sub);
    } else
        *i = sub[0] - '0', *j = sub[1] - '0';
    return 0;
}

static int explain_softmax(int argc, char **argv)
{
    int r = cli_parse(&softmax_cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    const char *zs, *lang = cli_get(&softmax_cmd, "lang");
    double T, *z = NULL;
    long digits;
    int n;
    if (cli_require(&softmax_cmd, "z", &zs))
        return 1;
    if (strcmp(lang, "en") && strcmp(lang, "ru"))
        return cli_error(&softmax_cmd, "--lang: '%s' is not en or ru", lang);
    if (cli_int(cli_get(&softmax_cmd, "digits"), 1, 17, &digits))
        return cli_error(&softmax_cmd, "--digits: '%s' is not an integer in 1..17",
                         cli_get(&softmax_cmd, "digits"));
    if (cli_double(cli_get(&softmax_cmd, "temperature"), &T) || !(T > 0) || !isfinite(T))
        return cli_error(&softmax_cmd, "--temperature: '%s' is not a positive number",
                         cli_get(&softmax_cmd, "temperature"));
    if ((r = number_list(zs, &z, &n)) != 0)
        return r < 0 ? cli_error(&softmax_cmd, "out of memory")
                     : cli_error(&softmax_cmd, "--z: '%s' is not a list of finite numbers", zs);
    if (n > EX_MAX_OUT) {
        free(z);
        return cli_error(&softmax_cmd, "--z: %d logits; at most %d", n, EX_MAX_OUT);
    }
    double *y = malloc((size_t)n * sizeof *y), zmax, sum;
    if (!y) {
        free(z);
        return cli_error(&softmax_cmd, "out of memory");
    }
    ex_softmax(z, n, T, y, &zmax, &sum);
    if (cli_flag(&softmax_cmd, "json")) {
        printf("{\"y\": [");
        for (int j = 0; j < n; j++)
            printf("%s", j ? ", " : ""), cli_json_num(stdout, y[j]);
        printf("], ");
        cli_json_field(stdout, "logsumexp", zmax / T + log(sum), ", ");
        cli_json_field(stdout, "temperature", T, "}\n");
    } else {
        ex_out o = {.ru = !strcmp(lang, "ru"), .digits = (int)digits, .f = stdout};
        ex_write_softmax(&o, z, n, T, y, zmax, sum);
    }
    free(y);
    free(z);
    return 0;
}

/* The network and its parameters in double: from --model, or --layers ... */
static int load_net(ex_trace *e, int *worked)
{
    const char *model = cli_get(&cmd, "model"), *seed_s = cli_get(&cmd, "seed");
    uint64_t seed = 0;
    bp_error err;
    *worked = 0;
    if (seed_s && cli_u64(seed_s, &seed))
        return cli_error(&cmd, "--seed: '%s' is not a non-negative integer", seed_s);
    if (model) {
        if (bp_model_load(model, 1, &e->net, &err) != BP_OK)
            return cli_error(&cmd, "%s", err.msg);
    } else {
        int sizes[BP_MAX_LAYERS + 1];
        bp_act acts[BP_MAX_LAYERS];
        bp_config cfg;
        if (cli_network_config(&cmd, sizes, acts, &cfg))
            return 1;
        if (!(e->net = bp_net_create(&cfg, 1, &err)))
            return cli_error(&cmd, "%s", err.msg);
        bp_net_init(e->net, seed);
    }
    e->L = bp_net_n_layers(e->net);
    for (int l = 0; l <= e->L; l++)
        e->N[l] = bp_net_size(e->net, l);
    for (int l = 1; l <= e->L; l++)
        e->act[l] = bp_net_act(e->net, l);
    e->loss_kind = bp_net_loss(e->net);
    e->T = bp_net_temperature(e->net);
    e->slope = bp_net_leaky_slope(e->net);
    e->P = bp_net_n_params(e->net);
    if (!(e->p = malloc(e->P * sizeof *e->p)))
        return cli_error(&cmd, "out of memory");
    *worked = !model && !seed_s && e->P == 12 && e->N[0] == 2 && e->N[1] == 2 && e->N[2] == 2;
    const float *pf = bp_net_params_const(e->net);
    for (size_t k = 0; k < e->P; k++)
        e->p[k] = *worked ? worked_params[k] : decimal_of(pf[k]);
    return 0;
}

/* --input of a model that keeps its CSV columns: the raw rows encoded as
 * predict and eval encode them (columns by name, categories one-hot,
 * fills), into e->x [M, N(0)]; *ds keeps the rows' classes or targets
 * where the file has the target columns (n_out 0 otherwise). */
static int raw_rows(ex_trace *e, const char *in, bp_dataset **ds, int *rows)
{
    int k, n0 = e->N[0];
    const char **names = cli_class_names(e->net, NULL, &k);
    if (k < 0)
        return cli_error(&cmd, "out of memory");
    bp_csv_options o = BP_CSV_OPTIONS_DEFAULT;
    o.classes = names, o.n_classes = names ? k : 0, o.model = e->net;
    int bad = cli_load_data(&cmd, in, 0, &o, ds);
    free(names);
    if (bad)
        return 1;
    if (bp_dataset_n_out(*ds) && bp_dataset_check(e->net, *ds) != BP_OK)
        return cli_error(&cmd, "%s does not fit the model: %s", in, cli_reason(bp_last_error()));
    int M = *rows = bp_dataset_n(*ds);
    if ((size_t)M * e->P > 50000000) /* refused by the caller, before the copy */
        return 0;
    float *x = malloc((size_t)M * n0 * sizeof *x);
    int32_t *idx = malloc((size_t)M * sizeof *idx);
    e->x = malloc((size_t)M * n0 * sizeof *e->x);
    for (int m = 0; idx && m < M; m++)
        idx[m] = m;
    bp_status s = !x || !idx || !e->x ? BP_ERR_NOMEM
                                      : bp_dataset_gather(*ds, idx, M, NULL, NULL, x, NULL, NULL);
    for (size_t j = 0; s == BP_OK && j < (size_t)M * n0; j++)
        e->x[j] = decimal_of(x[j]);
    free(x), free(idx);
    return s == BP_OK ? 0 : cli_error(&cmd, "%s: %s", in, bp_status_string(s));
}

/* The targets of raw rows that hold them: class labels (one-hot in e->t)
 * or the regression targets. */
static int rows_targets(ex_trace *e, const bp_dataset *ds)
{
    int M = e->M, nL = e->N[e->L], labels = bp_dataset_has_labels(ds);
    int32_t *idx = malloc((size_t)M * sizeof *idx);
    float *x = malloc((size_t)M * e->N[0] * sizeof *x); /* gather's; e->x has them already */
    float *t = labels ? NULL : malloc((size_t)M * nL * sizeof *t);
    if (labels)
        e->label = malloc((size_t)M * sizeof *e->label);
    int bad = !idx || !x || (labels ? !e->label : !t);
    for (int m = 0; !bad && m < M; m++)
        idx[m] = m;
    bp_status s = bad ? BP_ERR_NOMEM : bp_dataset_gather(ds, idx, M, NULL, NULL, x, t, e->label);
    for (size_t j = 0; s == BP_OK && j < (size_t)M * nL; j++)
        e->t[j] = labels ? (double)(e->label[j / nL] == (int32_t)(j % nL)) : decimal_of(t[j]);
    free(idx), free(x), free(t);
    return s == BP_OK ? 0 : cli_error(&cmd, "the rows' targets: %s", bp_status_string(s));
}

/* --target: a list or a CSV of M rows, N(L) values or (softmax_ce) one
 * class label each, into e->t (and e->label). */
static int read_targets(ex_trace *e, const char *tg)
{
    int nL = e->N[e->L], t_rows, t_cols;
    double *t = NULL;
    if (read_numbers("target", tg, &t, &t_rows, &t_cols))
        return 1;
    int rc = 0;
    if (t_rows != e->M)
        rc = cli_error(&cmd, "--target: %d rows, but --input has %d", t_rows, e->M);
    else if (t_cols == nL)
        memcpy(e->t, t, (size_t)e->M * nL * sizeof *t);
    else if (t_cols == 1 && e->loss_kind == BP_LOSS_SOFTMAX_CE) {
        if (!(e->label = malloc((size_t)e->M * sizeof *e->label)))
            rc = cli_error(&cmd, "out of memory");
        for (int m = 0; !rc && m < e->M; m++) {
            if (t[m] != floor(t[m]) || t[m] < 0 || t[m] >= nL) {
                rc = cli_error(&cmd, "--target: class label %g (row %d) is not an integer in 0..%d",
                               t[m], m + 1, nL - 1);
                break;
            }
            e->label[m] = (int32_t)t[m];
            e->t[(size_t)m * nL + e->label[m]] = 1;
        }
    } else
        rc = cli_error(&cmd, "--target: %d values per example, but the network has %d outputs%s",
                       t_cols, nL,
                       e->loss_kind == BP_LOSS_SOFTMAX_CE ? " (or give one class label)" : "");
    free(t);
    return rc;
}

/* x and t of M examples, checked against the network */
static int load_examples(ex_trace *e, int worked)
{
    const char *in = cli_get(&cmd, "input"), *tg = cli_get(&cmd, "target");
    int n0 = e->N[0], nL = e->N[e->L], rows = 1, cols;
    bp_dataset *ds = NULL; /* the raw rows of a model that keeps its CSV columns */
    double *list = NULL; /* a list of numbers is N(0) inputs as they are */
    int not_list = in && bp_net_columns(e->net) ? number_list(in, &list, &cols) : 0;
    free(list);
    if (not_list < 0)
        return cli_error(&cmd, "out of memory");
    if (not_list) {
        if (raw_rows(e, in, &ds, &rows)) {
            bp_dataset_free(ds);
            return 1;
        }
    } else if (in) {
        if (read_numbers("input", in, &e->x, &rows, &cols))
            return 1;
        if (cols != n0)
            return cli_error(&cmd,
                             "--input: %d values per example, but the network takes %d "
                             "inputs",
                             cols, n0);
    } else {
        if (!(e->x = malloc((size_t)n0 * sizeof *e->x)))
            return cli_error(&cmd, "out of memory");
        for (int i = 0; i < n0; i++)
            e->x[i] = worked ? (i ? 0.10 : 0.05) : (double)(i + 1) / (n0 + 1);
    }
    e->M = rows;
    int rc = 0;
    if ((size_t)e->M * e->P > 50000000)
        rc = cli_error(&cmd, "--input: %d examples of this network are too many to trace", rows);
    else if (!(e->t = calloc((size_t)e->M * (size_t)nL, sizeof *e->t)))
        rc = cli_error(&cmd, "out of memory");
    else if (tg)
        rc = read_targets(e, tg);
    else if (bp_dataset_n_out(ds)) /* the raw rows' own target columns */
        rc = rows_targets(e, ds);
    else if (in && e->M > 1)
        rc = cli_error(&cmd, "--target: required with a batch of inputs");
    for (int j = 0; !rc && !tg && !bp_dataset_n_out(ds) && j < nL; j++)
        e->t[j] = worked                               ? (j ? 0.99 : 0.01)
                  : e->loss_kind == BP_LOSS_SOFTMAX_CE ? (double)(j == 0)
                                                       : (double)(j + 1) / (nL + 1);
    bp_dataset_free(ds);
    return rc;
}

/* (x − μ)/σ of a model that standardises its inputs; the raw x is kept to show */
static int standardise(ex_trace *e)
{
    const float *mu = bp_net_mean(e->net), *sd = bp_net_std(e->net);
    size_t n = (size_t)e->M * (size_t)e->N[0];
    if (!mu || !sd)
        return 0;
    e->x_raw = malloc(n * sizeof *e->x_raw);
    e->mu = malloc((size_t)e->N[0] * sizeof *e->mu);
    e->sigma = malloc((size_t)e->N[0] * sizeof *e->sigma);
    if (!e->x_raw || !e->mu || !e->sigma)
        return cli_error(&cmd, "out of memory");
    memcpy(e->x_raw, e->x, n * sizeof *e->x);
    for (int i = 0; i < e->N[0]; i++)
        e->mu[i] = decimal_of(mu[i]), e->sigma[i] = decimal_of(sd[i]);
    for (size_t k = 0; k < n; k++)
        e->x[k] = (e->x[k] - e->mu[k % (size_t)e->N[0]]) / e->sigma[k % (size_t)e->N[0]];
    e->standardised = 1;
    return 0;
}

static int read_opts(const ex_trace *e, ex_opts *opt)
{
    const char *lang = cli_get(&cmd, "lang"), *s;
    long v;
    memset(opt, 0, sizeof *opt);
    opt->focus_l = -1;
    if (strcmp(lang, "en") && strcmp(lang, "ru"))
        return cli_error(&cmd, "--lang: '%s' is not en or ru", lang);
    opt->ru = !strcmp(lang, "ru");
    if (cli_int(cli_get(&cmd, "digits"), 1, 17, &v))
        return cli_error(&cmd, "--digits: '%s' is not an integer in 1..17",
                         cli_get(&cmd, "digits"));
    opt->digits = (int)v;
    if (cli_double(cli_get(&cmd, "lr"), &opt->lr) || !(opt->lr > 0) || !isfinite(opt->lr))
        return cli_error(&cmd, "--lr: '%s' is not a positive number", cli_get(&cmd, "lr"));
    if (cli_int(cli_get(&cmd, "steps"), 0, 100000, &v))
        return cli_error(&cmd, "--steps: '%s' is not an integer in 0..100000",
                         cli_get(&cmd, "steps"));
    opt->steps = (int)v;
    opt->check = cli_flag(&cmd, "check");
    opt->no_update = cli_flag(&cmd, "no-update");
    if ((s = cli_get(&cmd, "layer"))) {
        if (cli_int(s, 1, e->L, &v))
            return cli_error(&cmd, "--layer: '%s' is not a layer in 1..%d", s, e->L);
        opt->layer = (int)v;
    }
    int widest = 0;
    for (int l = 1; l <= e->L; l++)
        if (!opt->layer || opt->layer == l)
            widest = e->N[l] > widest ? e->N[l] : widest;
    if ((s = cli_get(&cmd, "neuron"))) {
        if (cli_int(s, 1, widest, &v))
            return cli_error(&cmd, "--neuron: '%s' is not a neuron in 1..%d", s, widest);
        opt->neuron = (int)v;
    }
    if ((s = cli_get(&cmd, "focus"))) {
        int l, i, j;
        if (parse_focus(s, &l, &i, &j) || l < 0 || l >= e->L || i < 1 || i > e->N[l] || j < 1 ||
            j > e->N[l + 1])
            return cli_error(&cmd,
                             "--focus: '%s' names no weight w_ij^(l) of this network "
                             "(l in 0..%d, i in 1..N(l), j in 1..N(l+1))",
                             s, e->L - 1);
        opt->focus_l = l, opt->focus_i = i, opt->focus_j = j;
    }
    int wide = 0;
    for (int l = 0; l <= e->L; l++)
        wide |= e->N[l] > EX_MAX_WIDTH;
    if (wide && !opt->neuron)
        return cli_error(&cmd,
                         "a layer is wider than %d: choose what to print with --neuron j "
                         "(and --layer l)",
                         EX_MAX_WIDTH);
    if (e->N[e->L] > EX_MAX_OUT)
        return cli_error(&cmd, "%d outputs; explain takes at most %d", e->N[e->L], EX_MAX_OUT);
    /* each finite difference runs every example through the net twice */
    size_t shown = 0;
    for (size_t k = 0; opt->check && k < e->P; k++)
        shown += (size_t)ex_param_shown(e, opt, k);
    if ((double)shown * (double)e->P * e->M > 4e9)
        return cli_error(&cmd,
                         "--check: %zu parameters over %d examples would take too long; "
                         "choose fewer with --layer and --neuron, or a smaller batch",
                         shown, e->M);
    if (opt->steps && (double)opt->steps * (double)e->P * e->M > 4e9)
        return cli_error(&cmd, "--steps: too many steps for this network and batch");
    return 0;
}

int cmd_explain(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "softmax") == 0)
        return explain_softmax(argc - 1, argv + 1);
    int r = cli_parse(&cmd, argc, argv);
    if (r <= 0)
        return r < 0;
    ex_trace e;
    ex_opts opt;
    int worked, rc = 1;
    memset(&e, 0, sizeof e);
    if (load_net(&e, &worked) || load_examples(&e, worked) || read_opts(&e, &opt) ||
        standardise(&e))
        goto done;
    int s = ex_compute(&e, &opt);
    if (s != BP_OK) {
        cli_error(&cmd, "%s", bp_status_string((bp_status)s));
        goto done;
    }
    if (!isfinite(e.loss)) {
        cli_error(&cmd, "the loss is not finite for these numbers");
        goto done;
    }
    const char *html = cli_get(&cmd, "html");
    if (html) {
        char why[256];
        if (ex_html(html, &e, &opt, why, sizeof why)) {
            cli_error(&cmd, "%s", why);
            goto done;
        }
    } else if (cli_flag(&cmd, "json"))
        ex_json(stdout, &e);
    else {
        ex_out o = {.ru = opt.ru, .digits = opt.digits, .f = stdout};
        ex_write(&o, &e, &opt);
    }
    rc = 0;
done:
    ex_trace_free(&e);
    return rc;
}
