/*
 * train_hooks.c — what `backprop train` runs inside the library's epoch
 * (bp_train_epoch's hooks): after each step the run's loss and position and
 * the progress bar; between the backward pass and the update the ranks'
 * gradient sum under mpirun (dist.c) or, with --detect-anomaly, a check of
 * every value, which a second check after the update completes.
 */
#include "train.h"

/* The first non-finite value of the network, named on stderr. */
static bp_status check_values(trainer *tr, bp_net *net)
{
    char where[160];
    bp_status s = bp_net_find_nonfinite(net, where, sizeof where);
    if (s == BP_ERR_NONFINITE) {
        fprintf(stderr, "backprop train: anomaly at epoch %d, step %lld: first non-finite value: "
                        "%s\n", tr->epoch, (long long)tr->st.step + 1, where);
        tr->named = 1;
    }
    return s;
}

static bp_status anomaly_backward(void *ctx, bp_net *net, bp_step_info *info)
{
    return info->status == BP_OK ? check_values(ctx, net) : info->status;
}

static bp_status stepped(void *ctx, bp_net *net, const bp_step_info *info)
{
    trainer *tr = ctx;
    run_state *st = &tr->st;
    bp_status s = tr->anomaly ? check_values(tr, net) : BP_OK;
    if (s != BP_OK)
        return s;
    st->loss_sum += info->loss * info->M;
    st->step += info->steps;
    long done = st->step * tr->B < tr->n_train ? (long)st->step * tr->B : tr->n_train;
    if (tr->bar && (st->step % 50 == 0 || info->steps > 1 || done == tr->n_train))
        train_progress(tr->epoch, (int)st->epochs, done, tr->n_train, st->loss_sum / done, tr->t0);
    return BP_OK;
}

bp_epoch_hooks train_hooks(trainer *tr)
{
    bp_epoch_hooks h = BP_EPOCH_HOOKS_DEFAULT;
    h.rank = dist_rank(), h.ranks = dist_size(), h.after_step = stepped, h.ctx = tr;
    if (dist_size() > 1)
        h.after_backward = dist_sum_step;
    else if (tr->anomaly)
        h.after_backward = anomaly_backward;
    return h;
}
