/*
 * train_checkpoint.c — `train --checkpoint DIR` and `--resume DIR`: the
 * library's checkpoint (parameters, standardisation, optimiser state) plus
 * the run's own blobs — its position (run_state), the order of the data,
 * the metrics so far and, with --patience, the best parameters — so that a
 * resumed run continues bit-identically.
 */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void blobs_of(trainer *tr, bp_blob b[4])
{
    size_t P = bp_net_n_params(tr->net);
    b[0] = (bp_blob){"run", &tr->st, sizeof tr->st};
    b[1] = (bp_blob){"order", tr->perm, (size_t)tr->n * sizeof *tr->perm};
    b[2] = (bp_blob){"rows", tr->rows, (size_t)tr->st.epochs * sizeof *tr->rows};
    b[3] = (bp_blob){"best", tr->best, tr->st.patience ? P * sizeof *tr->best : 0};
}

static void dir_file(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

void train_gemm_name(const bp_net *net, char *buf, size_t cap)
{
    char isa[48];
    bp_gemm g = bp_net_gemm(net);
    bp_gemm_isa(g, isa, sizeof isa);
    snprintf(buf, cap, "%s %s", bp_gemm_name(g), isa);
}

int train_lock(const cli_command *cmd, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -cli_error(cmd, "%s: cannot make the checkpoint folder: %s", dir, strerror(errno));
    char path[4096];
    dir_file(path, sizeof path, dir, "lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -cli_error(cmd, "%s: cannot open: %s", path, strerror(errno));
    /* flock, not a PID file alone: the kernel drops the lock of a process
     * that dies however it dies, so a stale lock never blocks a run */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t got = read(fd, pid, sizeof pid - 1);
        pid[got > 0 ? got : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK)
            return -cli_error(cmd, "%s: in use by another backprop train (PID %s); one run per "
                                   "checkpoint folder", dir, pid[0] ? pid : "unknown");
        return -cli_error(cmd, "%s: cannot lock: %s", path, strerror(e));
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        close(fd);
        return -cli_error(cmd, "%s: cannot write: %s", path, strerror(errno));
    }
    return fd; /* held until the process exits */
}

/* A save killed midway leaves its temporary file (NAME.tmpXXXXXX); one
 * run owns the folder, so at its start any such file is stale. */
void train_remove_stale(const char *dir)
{
    DIR *f = opendir(dir);
    if (!f)
        return;
    char path[4096];
    for (struct dirent *e; (e = readdir(f));) {
        const char *tmp = strstr(e->d_name, ".tmp");
        if (tmp && strlen(tmp) == 10 && (strncmp(e->d_name, "checkpoint.bin.", 15) == 0 ||
                                         strncmp(e->d_name, "model.safetensors.", 18) == 0)) {
            dir_file(path, sizeof path, dir, e->d_name);
            unlink(path);
        }
    }
    closedir(f);
}

int train_checkpoint(trainer *tr, int rc)
{
    if (!rc && tr->dir && dist_rank() == 0) {
        char path[4096];
        bp_blob b[4];
        bp_error err;
        double t0 = cli_now();
        blobs_of(tr, b);
        if (mkdir(tr->dir, 0755) != 0 && errno != EEXIST)
            rc = cli_error(tr->cmd, "%s: cannot create the checkpoint folder: %s", tr->dir,
                           strerror(errno));
        dir_file(path, sizeof path, tr->dir, "checkpoint.bin");
        if (!rc && bp_checkpoint_save(path, tr->net, tr->opt, b, 4, &err) != BP_OK)
            rc = cli_error(tr->cmd, "%s", err.msg);
        dir_file(path, sizeof path, tr->dir, "model.safetensors");
        if (!rc && bp_model_save(tr->net, path, &err) != BP_OK)
            rc = cli_error(tr->cmd, "%s", err.msg);
        dist_saved(cli_now() - t0); /* the others wait for it: not the exchange's time */
    }
    return dist_agree(rc);
}

int train_resume(trainer *tr, const char *dir, FILE *log)
{
    char path[4096];
    bp_blob b[4];
    bp_error err;
    run_state want = tr->st;
    blobs_of(tr, b);
    dir_file(path, sizeof path, dir, "checkpoint.bin");
    if (bp_checkpoint_load(path, tr->net, tr->opt, b, 4, &err) != BP_OK)
        return cli_error(tr->cmd, "--resume: %s", err.msg);
    run_state *st = &tr->st;
    const char *what = st->seed != want.seed ? "--seed" : st->batch != want.batch ? "--batch"
                       : st->n != want.n ? "the data set's size" : st->n_val != want.n_val ? "--val"
                       : st->epochs != want.epochs ? "--epochs"
                       : st->patience != want.patience ? "--patience"
                       : st->ranks != want.ranks ? "the number of MPI ranks" : NULL;
    if (what)
        return cli_error(tr->cmd, "--resume: %s was made with another %s; resume with the options "
                               "of the run it belongs to", path, what);
    if (st->threads != want.threads && dist_rank() == 0)
        fprintf(stderr, "backprop train: warning: the checkpoint ran %lld threads, this run %lld: "
                        "the result will differ from an uninterrupted run in the last bits\n",
                (long long)st->threads, (long long)want.threads);
    st->threads = want.threads;
    if (strncmp(st->gemm, want.gemm, sizeof st->gemm) != 0 && dist_rank() == 0)
        fprintf(stderr, "backprop train: warning: the checkpoint's products ran on %.*s, this "
                        "run's on %s: the result will differ from an uninterrupted run in the "
                        "last bits\n", (int)sizeof st->gemm, st->gemm, want.gemm);
    memcpy(st->gemm, want.gemm, sizeof st->gemm);
    if (dist_rank() == 0)
        fprintf(log, "resuming from %s: %lld epochs and %lld steps done\n", path,
                (long long)st->epoch, (long long)st->step);
    return 0;
}

