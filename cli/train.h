/*
 * train.h — what `backprop train` (cmd_train.c) shares with its options
 * (train_args.c), its setup (train_setup.c), its hooks in the library's epoch (train_hooks.c), its
 * output (train_report.c) and its checkpoint and resume
 * (train_checkpoint.c): the run's state.
 */
#ifndef BP_CLI_TRAIN_H
#define BP_CLI_TRAIN_H

#include "cli.h"

#include <signal.h>
#include <stdio.h>

/* One epoch's line of --metrics and --json. */
typedef struct {
    double train_loss, val_loss, val_acc, ex_per_s, seconds, lr;
} epoch_row;

/* The run's position and shape, saved in every checkpoint. The shape must
 * match on resume: a checkpoint of other options would not continue it. */
typedef struct {
    uint64_t seed;
    int64_t batch, n, n_val, epochs, patience, ranks; /* the shape                  */
    int64_t threads;                       /* differs: allowed, with a warning     */
    char gemm[64];                         /* "provider ISA": the same             */
    int64_t epoch, step;                   /* epochs done; steps done in the next  */
    int64_t ran, stopped, best_epoch;      /* rows filled; early-stopped; its best */
    double loss_sum, best_val;             /* Σ loss·M of the epoch's steps so far */
    bp_rng rng;                            /* after the current epoch's shuffle    */
} run_state;

/* The options of a run, read and checked (train_args.c). */
typedef struct {
    const char *data, *out, *test, *resume, *metrics, *plot;
    const char *dir; /* --checkpoint, else --resume: where the run saves */
    const char *hidden; /* --hidden H1,...: sizes from the data (train_args_widths) */
    int sizes[BP_MAX_LAYERS + 1];
    char layers[(BP_MAX_LAYERS + 1) * 10]; /* sizes as --layers writes them */
    bp_act acts[BP_MAX_LAYERS];
    bp_config cfg;
    long batch, epochs, patience, threads, target_cols, every;
    double val_frac;
    uint64_t seed;
    int json, anomaly, standardize;
    bp_device device;
} train_args;

/* Everything a step, an evaluation and a checkpoint of the run touch. */
typedef struct {
    const cli_command *cmd; /* train, for cli_error */
    bp_net *net;
    bp_optimizer *opt;
    int n, n_val, n_train, B, anomaly;
    int on_gpu;           /* a CUDA network in one process: passes on the device */
    int bar;              /* rank 0 on a terminal: a progress bar on stderr */
    int epoch;            /* the epoch running, from 1 */
    double t0;            /* when it started (cli_now) */
    int named;            /* --detect-anomaly named a non-finite value */
    int32_t *perm;        /* [n] validation first, then this epoch's order */
    float *best;          /* [P] the parameters of the best epoch (--patience) */
    epoch_row *rows;      /* [epochs] */
    run_state st;
    const char *dir;      /* checkpoint folder or NULL */
    int rc;               /* the exit code the ranks agreed on (a save's failure) */
} trainer;

extern cli_command train_cmd;
/* cli_parse's answer (1: run, 0: --help printed, -1: an error printed),
 * with every option read into *a and checked alone. */
int train_args_read(train_args *a, int argc, char **argv);
/* --hidden: the network's widths N(0) (the data set's features) and N(L)
 * (its classes or targets) from ds; a->layers as --layers would give
 * them. 0, or 1 (printed). The network is checked against ds once made
 * (train_setup: bp_dataset_check). */
int train_args_widths(train_args *a, const bp_dataset *ds);
/* The optimiser's options, with this run's step counts; 0, or 1 (printed). */
int train_args_opt(bp_opt_config *oc, long steps_per_epoch, long epochs);

/* The run made from its options and data set (train_setup.c): the network,
 * checked against ds, the optimiser, the split, --missing mean's fills
 * from the training split (into ds), the standardisation, the encoding the
 * model keeps and the buffers; 0, or 1 (printed). */
int train_setup(trainer *tr, const train_args *a, bp_dataset *ds);

/* The hooks of the run's bp_train_epoch calls: the running loss and
 * progress after each step, and between the backward pass and the update
 * the ranks' gradient sum (mpirun) or --detect-anomaly's checks. */
bp_epoch_hooks train_hooks(trainer *tr);

/* The progress bar of epoch of epochs: done of total examples. */
void train_progress(int epoch, int epochs, long done, long total, double loss, double t0);
/* --metrics: the table of the rows [n] as CSV, atomically; 0, or 1 (printed). */
int train_write_metrics(const char *path, const epoch_row *rows, int n);
/* --plot: loss curves, validation accuracy where with_acc; 0, or 1 (printed). */
int train_plot(const char *path, const epoch_row *rows, int n, int with_val, int with_acc);
/* --json: the network's widths (as --layers), the epochs' rows and the
 * test figures (test: whether there was a test set). */
void train_json(const char *layers, const epoch_row *rows, int n, const bp_metrics *tm, int test,
                int interrupted);

/* Rank 0 writes DIR/checkpoint.bin, then DIR/model.safetensors, each
 * atomically (a kill leaves the previous or the new one of each). rc is what
 * rank 0 has to report already; every rank returns the agreed outcome. */
int train_checkpoint(trainer *tr, int rc);
/* Loads DIR/checkpoint.bin over the freshly set-up run, after checking that
 * it is one of this run's options; 0 or 1 (printed). */
int train_resume(trainer *tr, const char *dir, FILE *log);
/* "onednn avx512_core" or "cblas Haswell": what the run's products ran on,
 * which decides their last bits as the thread count does. */
void train_gemm_name(const bp_net *net, char *buf, size_t cap);
/* The one writer of checkpoint folder dir: an exclusive flock on
 * dir/lock (which holds the PID), made with the folder if need be; the
 * descriptor (kept open to the exit), or minus 1 after printing why, e.g.
 * that another run holds it and its PID. */
int train_lock(const cli_command *cmd, const char *dir);
/* SIGINT and SIGTERM ask the run to stop after the step in flight: the
 * flag the library's epoch reads (0, or the signal); a second SIGINT ends
 * the process at once. Called before any other thread starts (MPI's, the
 * pool's, oneDNN's), which then inherit the blocked signals. */
extern volatile sig_atomic_t train_stop;
int train_catch_signals(void); /* 0, or 1 (printed): no thread for them */
void train_release_signals(void); /* the thread ended, the signals unblocked */
/* The one line an interrupted run ends with and its exit status (130 or
 * 143): where it stopped, what it saved, how to go on. */
int train_interrupted(const trainer *tr, const train_args *a, int argc, char **argv);

/* Removes the temporary files of saves killed midway from DIR. */
void train_remove_stale(const char *dir);

#endif
