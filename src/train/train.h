/*
 * train.h — training (src/train/): the library's step, epoch and
 * evaluation on whatever backend a network is on, the data sets they read,
 * the optimiser's objects and the checkpoint. Not installed.
 */
#ifndef BP_TRAIN_H
#define BP_TRAIN_H

#include "backend/backend.h"

/* dataset.c: examples in their stored type (the loaders of src/io/ fill it). */
struct bp_dataset {
    int n, n_in, n_out; /* examples, features, classes or regression targets */
    int has_labels;     /* 1: labels alone is set; 0: targets is set         */
    int one_hot;        /* targets all one-hot: labels holds their classes   */
    uint8_t *x_u8;      /* [n, n_in] IDX pixels, x = byte/255; or NULL       */
    float *x_f32;       /* [n, n_in] features as read; or NULL               */
    int32_t *labels;    /* [n] classes 0..n_out-1                            */
    float *targets;     /* [n, n_out]                                        */
    char **classes;     /* [n_out] class names (src/io/tabular.c) or NULL     */
    char *columns;      /* a CSV's encoding as the model keeps it (JSON), or NULL */
    uint8_t *onehot;    /* [n_in] 1 for a category's input, or NULL          */
    char *warning;      /* one line about what was read, or NULL             */
    int64_t *missing;   /* [n_missing] the positions m·n_in + i, ascending, of
                         * the missing numbers a fill stands in for (io/fills.c) */
    long n_missing;
};

/* dataset.c: a labelled data set over x [n, n_in] bytes and labels [n], taking
 * ownership of both; NULL if out of memory. */
bp_dataset *bp_dataset_adopt_u8(int n, int n_in, int n_out, uint8_t *x, int32_t *labels);

/* dataset.c: ds as a backend copies it (backend.h). */
bp_data_view bp_dataset_view(const bp_dataset *ds);

/* dataset.c: one-hot targets get their labels beside them (loaders and
 * bp_dataset_from_memory); path names the data in a message. */
bp_status bp_dataset_find_one_hot(bp_dataset *ds, const char *path, bp_error *err);

/* epoch.c: ds fits net (features, classes or targets); BP_ERR_SHAPE naming
 * fn if not. */
bp_status bp_check_dataset(const char *fn, const bp_net *net, const bp_dataset *ds);

/* step.c: scikit-learn's L2 (bp_opt_config.l2) on a batch of M examples:
 * ∇W(l) += c W(l), c = w (l2 / M), on the weights in grads[lo, hi), not the
 * biases (w weighs a share of the batch as its gradient is weighed: epoch.c's
 * ranks; 1 alone); and the batch loss's penalty (l2 / 2M) Σ_l ‖W(l)‖². */
void step_l2_grad(bp_net *net, float c, size_t lo, size_t hi);
double step_l2_loss(bp_net *net, double l2, int M);

/* batches.c: the one way the library walks a list of examples in batches
 * (bp_train_epoch, bp_evaluate_metrics): each batch gathered into buffers
 * allocated once, its inputs standardised with the network's own
 * standardisation; a data-parallel process gathers only its share. */
typedef struct {
    const bp_dataset *ds;
    const float *mean, *std; /* the network's, or NULL                         */
    const int32_t *idx;
    int n, rank, ranks, batch;
    int next;                /* the first example of the batch after this one  */
    int m0, M;               /* the current batch: idx[m0 .. m0 + M)           */
    int lo, hi;              /* its rows gathered, [lo, hi), into row 0 on     */
    float *x;                /* [rows, N(0)] standardised inputs               */
    float *t;                /* [rows, N(L)] targets, or NULL if not asked for */
    int32_t *labels;         /* [rows] classes, or NULL if not asked for       */
} bp_batches;

/* Batches of `batch` examples (the last one may be shorter) of idx [n]
 * (checked by the caller), for process `rank` of `ranks` (0 of 1: all rows;
 * else rows [M·rank/ranks, M·(rank+1)/ranks) of a batch of M), with room for
 * ceil(batch/ranks) rows; targets and labels only where asked for (want_t,
 * want_labels). BP_ERR_NOMEM naming fn, and nothing to close, if the buffers
 * cannot be had. */
bp_status batches_open(bp_batches *it, const char *fn, const bp_net *net, const bp_dataset *ds,
                       const int32_t *idx, int n, int batch, int rank, int ranks, int want_t,
                       int want_labels);
/* Gathers the next batch's rows; 0 when there is none left. */
int batches_next(bp_batches *it);
void batches_close(bp_batches *it);

#endif
