/*
 * batches.c — the batch iterator of train.h: the epoch's and the
 * evaluation's walk over a list of examples, with no allocation per batch.
 */
#include "train/train.h"

#include <stdlib.h>
#include <string.h>

bp_status batches_open(bp_batches *it, const char *fn, const bp_net *net, const bp_dataset *ds,
                       const int32_t *idx, int n, int batch, int rank, int ranks, int want_t,
                       int want_labels)
{
    memset(it, 0, sizeof *it);
    if (ranks < 1)
        rank = 0, ranks = 1;
    size_t rows = (size_t)((batch + ranks - 1) / ranks), k = (size_t)net->sizes[net->L];
    it->ds = ds, it->idx = idx, it->n = n, it->batch = batch, it->rank = rank, it->ranks = ranks;
    it->mean = net->mean, it->std = net->std;
    it->x = malloc(rows * (size_t)net->sizes[0] * sizeof *it->x);
    it->t = want_t ? malloc(rows * k * sizeof *it->t) : NULL;
    it->labels = want_labels ? malloc(rows * sizeof *it->labels) : NULL;
    if (!it->x || (want_t && !it->t) || (want_labels && !it->labels)) {
        batches_close(it);
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory for a batch of %d", fn, batch);
    }
    return BP_OK;
}

int batches_next(bp_batches *it)
{
    if (it->next >= it->n)
        return 0;
    it->m0 = it->next;
    it->M = it->n - it->m0 < it->batch ? it->n - it->m0 : it->batch;
    it->next += it->M;
    it->lo = (int)((long)it->M * it->rank / it->ranks);
    it->hi = (int)((long)it->M * (it->rank + 1) / it->ranks);
    if (it->hi > it->lo)
        bp_dataset_gather(it->ds, it->idx + it->m0 + it->lo, it->hi - it->lo, it->mean, it->std,
                          it->x, it->t, it->labels);
    return 1;
}

void batches_close(bp_batches *it)
{
    free(it->x), free(it->t), free(it->labels);
    it->x = it->t = NULL, it->labels = NULL;
}
