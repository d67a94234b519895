/*
 * train_hooks.c — what `backprop train` runs inside the library's epoch
 * (bp_train_epoch's hooks): after each step the run's loss and position and
 * the progress bar; between the backward pass and the update the ranks'
 * gradient sum under mpirun (dist.c) or, with --detect-anomaly, a check of
 * every value, which a second check after the update completes.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include "train.h"

#include <pthread.h>
#include <string.h>

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

volatile sig_atomic_t train_stop;

/* The signals are taken by a thread of their own, in sigwait, with both
 * blocked in every thread started after train_catch_signals (they inherit
 * the mask): a handler runs on the stack of whatever thread the signal
 * interrupts, which under oneDNN's generated kernels corrupted their data.
 * The handler stays for the threads that started before (OpenBLAS makes
 * its workers when it loads), idle outside a product. */
static sigset_t stop_signals;

static void stop_on(int sig)
{
    if (sig == SIGINT && train_stop) { /* the second Ctrl-C: now */
        signal(SIGINT, SIG_DFL);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, SIGINT);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        raise(SIGINT);
    }
    train_stop = sig;
}

static void *signal_thread(void *arg)
{
    (void)arg;
    for (int sig;;)
        if (sigwait(&stop_signals, &sig) == 0)
            stop_on(sig);
    return NULL;
}

static pthread_t waiter;

int train_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stop_on;
    sa.sa_flags = SA_RESTART; /* a read, a write or a wait in flight goes on */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    int e = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    if (e == 0 && (e = pthread_create(&waiter, NULL, signal_thread, NULL)) == 0)
        return 0;
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    fprintf(stderr, "backprop train: cannot start the thread that takes Ctrl-C: %s\n",
            strerror(e));
    return 1;
}

void train_release_signals(void)
{
    pthread_cancel(waiter); /* sigwait is a cancellation point */
    pthread_join(waiter, NULL);
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
}

int train_interrupted(const trainer *tr, const train_args *a, int argc, char **argv)
{
    int sig = train_stop ? (int)train_stop : SIGTERM; /* another rank's: as a scheduler's */
    if (dist_rank() == 0) {
        char how[2048] = "";
        size_t k = 0;
        if (tr->dir) { /* the same command, continuing from the folder */
            /* ranks were started by a launcher: the same one continues them */
            if (dist_size() > 1)
                k += (size_t)snprintf(how, sizeof how, "; continue with: mpirun -np %d backprop "
                                      "train", dist_size());
            else
                k += (size_t)snprintf(how, sizeof how, "; continue with: backprop train");
            for (int i = 0; i < argc && k < sizeof how; i++) {
                const char *w = argv[i];
                if (strcmp(w, "--checkpoint") == 0)
                    w = "--resume";
                else if (strncmp(w, "--checkpoint=", 13) == 0)
                    w = "--resume", k += (size_t)snprintf(how + k, sizeof how - k, " %s %s", w,
                                                          argv[i] + 13), w = NULL;
                if (w)
                    k += (size_t)snprintf(how + k, sizeof how - k, " %s", w);
            }
        } else {
            snprintf(how, sizeof how, "; no --checkpoint: a new run starts from the beginning");
        }
        fprintf(stderr, "backprop train: interrupted by %s at epoch %d, step %lld; saved %s%s%s%s\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM", tr->epoch, (long long)tr->st.step,
                a->out, tr->dir ? " and the checkpoint in " : "", tr->dir ? tr->dir : "", how);
    }
    return sig == SIGINT ? 130 : 143;
}

bp_epoch_hooks train_hooks(trainer *tr)
{
    bp_epoch_hooks h = BP_EPOCH_HOOKS_DEFAULT;
    h.rank = dist_rank(), h.ranks = dist_size(), h.after_step = stepped, h.ctx = tr;
    h.stop = &train_stop;
    if (dist_size() > 1)
        h.after_backward = dist_sum_step, h.grads_ready = dist_grads_ready,
        h.bucket = dist_bucket();
    else if (tr->anomaly)
        h.after_backward = anomaly_backward;
    return h;
}
