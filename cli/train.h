/*
 * train.h — what `backprop train` (cmd_train.c) shares with its checkpoint
 * and resume (train_checkpoint.c): the run's state.
 */
#ifndef BP_TRAIN_H
#define BP_TRAIN_H

#include "cli.h"

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

/* Everything a step, an evaluation and a checkpoint of the run touch. */
typedef struct {
    const cli_command *cmd; /* train, for cli_error */
    bp_net *net;
    bp_optimizer *opt;
    const bp_dataset *ds;
    int n, n_val, n_train, B, labelled, anomaly;
    int on_gpu;           /* a CUDA network in one process: bp_train_epoch */
    int32_t *perm;        /* [n] validation first, then this epoch's order */
    float *x, *t, *mean, *std, *best;
    int32_t *lab;
    epoch_row *rows;      /* [epochs] */
    run_state st;
    const char *dir;      /* checkpoint folder or NULL */
} trainer;

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
/* Removes the temporary files of saves killed midway from DIR. */
void train_remove_stale(const char *dir);

#endif
