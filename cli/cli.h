/*
 * cli.h — what the command-line tool's files share: the option table, the
 * strict number parsers, and the one way to report an error.
 * The library never prints; everything printed comes from cli/.
 */
#ifndef BP_CLI_H
#define BP_CLI_H

#include "backprop.h"
#include "tools.h" /* the project's own: bench internals, BLAS threads, atomic writes */

#include <stdint.h>
#include <stdio.h>

/* One option of a command. A NULL meta marks a flag that takes no value. */
typedef struct {
    const char *name;  /* without the leading "--" */
    const char *meta;  /* value placeholder in --help, e.g. "FILE" */
    const char *def;   /* default, NULL if none (required or off) */
    const char *help;
    const char *value; /* set by cli_parse: the default or what was given */
} cli_opt;

/* The options that describe a network (read by cli_network_config), with the
 * command's own defaults; used by init, train and explain. */
#define CLI_NETWORK_OPTS(layers_def, act_def, out_act_def, loss_def)                        \
    {"layers", "N0,N1,...", layers_def, "widths of every layer, input first", NULL},          \
    {"act", "NAME[,...]", act_def, "hidden activation, or one per non-input layer", NULL},    \
    {"out-act", "NAME", out_act_def, "output activation with --loss mse", NULL},              \
    {"loss", "NAME", loss_def, "mse, softmax_ce or sigmoid_bce", NULL},                       \
    {"temperature", "T", "1", "softmax temperature (eq. 69)", NULL},                          \
    {"leaky-slope", "A", "0.01", "slope of leaky_relu below 0 (eq. 29)", NULL}

/* Where a command's network runs (read by cli_device and cli_gemm). */
#define CLI_DEVICE_OPTS                                                                       \
    {"device", "NAME", "cpu", "cpu or cuda (see docs/cuda.md)", NULL},                         \
    {"gemm", "NAME", NULL, "cpu: matrix products by onednn or cblas (default: onednn if built)",  \
     NULL},                                                                                    \
    {"tf32", NULL, NULL, "cuda: float32 products on TF32 tensor cores (faster, ~1e-3 rel. error)", \
     NULL}

/* How a CSV is read (read by cli_csv_options): every command that reads
 * data sets; train adds CLI_CSV_TRAIN_OPTS. */
#define CLI_CSV_OPTS                                                                          \
    {"delimiter", "C", NULL, "CSV: the separator, ',' ';' or tab (default: from line 1)", NULL}, \
    {"header", "yes|no", NULL, "CSV: whether line 1 is a header (default: detected)", NULL}

typedef struct {
    const char *name;    /* e.g. "grad" */
    const char *summary; /* one line */
    const char *usage;   /* e.g. "--model M --input X.csv ..." */
    cli_opt *opts;       /* terminated by a {NULL} entry */
} cli_command;

/* Fills opts from argv; prints help and returns 0 for --help, returns -1
 * after printing an error for bad usage, 1 when the command should run. */
int cli_parse(cli_command *cmd, int argc, char **argv);
const char *cli_get(const cli_command *cmd, const char *name); /* value or NULL */
int cli_flag(const cli_command *cmd, const char *name);          /* a flag given? */
void cli_help(const cli_command *cmd);

/* Prints "backprop CMD: message" on stderr and returns 1 (the exit code).
 * Under MPI only rank 0 prints; every rank keeps its last message in
 * cli_last_error for dist_agree to pass on. */
int cli_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern char cli_last_error[512];
/* A number of --json output: shortest-enough decimal, or null where it is
 * not finite (not measured, NaN, Inf), never "nan"; -0 as 0. */
void cli_json_num(FILE *f, double v);
/* The same as "KEY": V followed by sep. */
void cli_json_field(FILE *f, const char *key, double v, const char *sep);
/* s as a JSON string, quoted and escaped (UTF-8 passes as it is). */
void cli_json_string(FILE *f, const char *s);
/* A library message without the function it names ("bp_dataset_check:
 * the data set has ..." -> "the data set has ..."), for a line of ours. */
const char *cli_reason(const char *msg);
/* Requires an option to be present. */
int cli_require(const cli_command *cmd, const char *name, const char **out);

/* Strict parsers: the whole string must be the number. 0 on success. */
int cli_int(const char *s, long lo, long hi, long *out);
int cli_double(const char *s, double *out);
int cli_u64(const char *s, uint64_t *out);

/* The next item of a comma-separated list split in place: "a,b" gives "a",
 * then "b", then NULL; *p advances (an empty item is ""). */
char *cli_next_item(char **p);

/* "784,256,10" -> sizes; "relu" or "relu,tanh" + loss + --out-act -> acts of a
 * network configuration. Prints the error itself; 0 on success. */
int cli_network_config(const cli_command *cmd, int *sizes, bp_act *acts, bp_config *cfg);
/* The same with the widths given as text, named in messages as option opt
 * (train's --hidden, made N(0),H1,...,N(L) from the data). */
int cli_network_config_with(const cli_command *cmd, const char *opt, const char *layers,
                            int *sizes, bp_act *acts, bp_config *cfg);

/* --device: the device named, checked to be usable now (a CUDA device
 * present, the backend built). Prints the error itself; 0 on success. */
int cli_device(const cli_command *cmd, bp_device *out);
/* --gemm: the provider named (the library's default if absent), checked
 * to be in this build. Prints the error itself; 0 on success. */
int cli_gemm(const cli_command *cmd, bp_gemm *out);
/* Moves net to the device (and --tf32, --gemm onto it). Prints the error; 0 on success. */
int cli_net_to_device(const cli_command *cmd, bp_net *net, bp_device device);
/* A model file as a network for batches of max_batch, on one thread per
 * core and on device; prints the error itself (*net may then need freeing). */
int cli_load_model(const cli_command *cmd, const char *path, int max_batch, bp_device device,
                   bp_net **net);

/* Loads what --data names (see data_arg.c): the training split, or with
 * test = 1 the test split (*out stays NULL where there is none); a CSV as
 * o says (NULL: BP_CSV_OPTIONS_DEFAULT). fashion-mnist gets its class
 * names. Prints the error itself; 0 on success. */
int cli_load_data(const cli_command *cmd, const char *spec, int test, const bp_csv_options *o,
                  bp_dataset **out);

/* The test set of a training run: spec (--test: a file, or an IDX folder's
 * test split), or when spec is NULL the test split of data (*out stays
 * NULL where there is none). It must fit net (bp_dataset_check), hold
 * class labels where the training set ds does, and a CSV's class names
 * must be those of ds. Prints the error itself; 0 on success. */
int cli_load_test(const cli_command *cmd, const char *spec, const char *data,
                  const bp_dataset *ds, const bp_csv_options *o, const bp_net *net,
                  bp_dataset **out);

/* --delimiter and --header into o (and --target-cols, --target, --drop,
 * --missing, --max-categories where cmd has them). Prints the error
 * itself; 0 on success. */
int cli_csv_options(const cli_command *cmd, bp_csv_options *o);

/* The class names of a network, or where net is NULL of a data set, as a
 * malloc'ed list [k] of pointers into it; NULL where it has none (or out
 * of memory: *k is then -1). */
const char **cli_class_names(const bp_net *net, const bp_dataset *ds, int *k);

/* peak.c: a monotonic clock in seconds; the median of v [n] (sorts v). */
double cli_now(void);
double cli_median(double *v, int n);
/* peak.c: the machine's FP32 peak in GFLOP/s: independent FMA chains at the
 * widest vector ISA the CPU has (named in *isa), on `threads` threads at
 * once, the median of 5 rounds lasting `seconds` in all; 0 if threads
 * cannot start. */
double cli_fma_peak(int threads, double seconds, const char **isa);

/* dist.c: data-parallel training over MPI (one process without it). */
int dist_init(int *argc, char ***argv); /* 0 on success */
void dist_finalize(void);
/* 1 if the data set spec's class names are its own label numbers' (a
 * model without names then reads them as its classes): fashion-mnist. */
int cli_names_by_index(const char *spec);

int dist_rank(void);
int dist_size(void);
int dist_local_rank(void);              /* rank among those on this machine */
void dist_info(char *buf, size_t cap);  /* "no" or "yes (Open MPI v4.1.4)" */
/* --bucket-mb and --collective-timeout (0: the default rule) */
void dist_configure(double bucket_mb, double timeout_s);
size_t dist_bucket(void);               /* values per bucket, for bp_epoch_hooks */
int dist_prepare(const bp_net *net);    /* the exchange's buffer: 0, or 1 said */
void dist_epoch(int epoch);             /* the epoch a timeout's line names */
void dist_saved(double seconds);        /* rank 0: a save took this long */
/* The worst exit code of all ranks; rank 0 prints another rank's message. */
int dist_agree(int rc);
/* bp_train_epoch's grads_ready and after_backward under mpirun: each
 * bucket summed over the ranks as it is ready, the last one with the
 * shares' loss, their failures and stop requests. */
bp_status dist_grads_ready(void *ctx, bp_net *net, size_t lo, size_t hi);
bp_status dist_sum_step(void *ctx, bp_net *net, bp_step_info *info);
/* Loss, accuracy and FANN's figures on idx [n], each rank evaluating its
 * share; BP_ERR_ARG where another rank failed. */
bp_status dist_evaluate(bp_net *net, const bp_dataset *ds, const int32_t *idx, int n,
                        bp_metrics *out);

int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
