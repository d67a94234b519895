/*
 * batches.h — the one way the library walks a list of examples in batches
 * (bp_train_epoch, bp_evaluate_metrics): each batch gathered from the data
 * set into buffers allocated once, its inputs standardised with the
 * network's own standardisation. A data-parallel process gathers only its
 * share of each batch.
 */
#ifndef BP_BATCHES_H
#define BP_BATCHES_H

#include "internal.h"

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
