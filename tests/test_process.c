/*
 * test_process.c — the library leaves the host process as it found it.
 *
 * 1. OpenBLAS's thread count is process-wide and shared with whatever else
 *    the process loaded it for (numpy does): creating a network and training
 *    it, on either GEMM provider and with products above OpenBLAS's
 *    one-thread threshold, leaves the count as the program set it.
 * 2. fork(): a child trains a network of its own, and goes on with one it
 *    inherited from its parent (whose pool's workers are not in the child)
 *    to the same parameters, bit for bit, as the parent's own next epoch.
 *    A hang fails the test through the child's alarm.
 * 3. With a GPU: a CUDA network carried into a child is refused with one
 *    line that says why (a CUDA context does not survive fork).
 */
#define _GNU_SOURCE
#include "check.h"
#include <backprop.h>
#include "tools.h" /* bp_gemm_available, bp_gemm_name */
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

enum { N = 512, N_IN = 64, HIDDEN = 256, N_OUT = 3, BATCH = 64 };

static float x[N * N_IN];
static int32_t labels[N];

static bp_net *make_net(bp_device device)
{
    int sizes[] = {N_IN, HIDDEN, N_OUT};
    bp_act acts[] = {BP_ACT_TANH, BP_ACT_SOFTMAX};
    bp_config cfg = BP_CONFIG_DEFAULT;
    cfg.n_layers = 2, cfg.sizes = sizes, cfg.acts = acts, cfg.loss = BP_LOSS_SOFTMAX_CE;
    cfg.device = device;
    bp_net *net = bp_net_create(&cfg, BATCH, NULL);
    if (net && bp_net_set_threads(net, 2) != BP_OK)
        bp_net_free(net), net = NULL;
    return net;
}

static bp_status one_epoch(bp_net *net, const bp_dataset *ds, uint64_t seed)
{
    bp_opt_config opt = BP_OPT_CONFIG_DEFAULT;
    opt.kind = BP_OPT_ADAM;
    opt.lr = 0.01;
    return bp_fit(net, ds, &opt, 1, BATCH, seed, 0, NULL, NULL, NULL);
}

static void blas_count(const bp_dataset *ds)
{
    int (*get)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    if (!get || !set) {
        printf("not OpenBLAS: its thread count not checked\n");
        return;
    }
    set(2); /* as a numpy process on two cores has it */
    CHECK(get() == 2, "OpenBLAS count %d after setting 2", get());
    for (int g = BP_GEMM_ONEDNN; g <= BP_GEMM_CBLAS; g++) {
        if (!bp_gemm_available((bp_gemm)g))
            continue;
        bp_net *net = make_net(BP_DEVICE_CPU);
        CHECK(net != NULL, "create: %s", bp_last_error());
        if (!net)
            return;
        CHECK(get() == 2, "%s: bp_net_create left OpenBLAS at %d threads", bp_gemm_name(g), get());
        CHECK(bp_net_set_gemm(net, (bp_gemm)g) == BP_OK, "set_gemm: %s", bp_last_error());
        /* BATCH x N_IN x HIDDEN multiply-adds in the products of layer 1:
         * above 2^18, where OpenBLAS would use threads of its own, and
         * enough work for the pool to split between its two threads */
        CHECK(one_epoch(net, ds, 1) == BP_OK, "epoch: %s", bp_last_error());
        CHECK(get() == 2, "%s: an epoch left OpenBLAS at %d threads", bp_gemm_name(g), get());
        bp_net_free(net);
        CHECK(get() == 2, "%s: bp_net_free left OpenBLAS at %d threads", bp_gemm_name(g), get());
    }
}

static void forked_child(const bp_dataset *ds)
{
    bp_net *a = make_net(BP_DEVICE_CPU);
    CHECK(a && one_epoch(a, ds, 1) == BP_OK, "parent's first epoch: %s", bp_last_error());
    if (!a)
        return;
    size_t n = bp_net_n_params(a);
    int fd[2];
    CHECK(pipe(fd) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        alarm(60); /* a pool waiting on its parent's workers would hang here */
        close(fd[0]);
        bp_net *b = make_net(BP_DEVICE_CPU);
        int bad = !b || one_epoch(b, ds, 3) != BP_OK;
        if (bad)
            fprintf(stderr, "child: its own network: %s\n", bp_last_error());
        if (one_epoch(a, ds, 2) != BP_OK)
            bad = 1, fprintf(stderr, "child: the inherited network: %s\n", bp_last_error());
        const char *p = (const char *)bp_net_params_const(a);
        for (size_t off = 0, len = n * sizeof(float); off < len;) {
            ssize_t w = write(fd[1], p + off, len - off);
            if (w <= 0) {
                bad = 1;
                break;
            }
            off += (size_t)w;
        }
        bp_net_free(b);
        bp_net_free(a);
        _exit(bad);
    }
    close(fd[1]);
    CHECK(one_epoch(a, ds, 2) == BP_OK, "parent's second epoch: %s", bp_last_error());
    float *got = calloc(n, sizeof *got);
    size_t off = 0;
    for (ssize_t r; got && off < n * sizeof(float) &&
                    (r = read(fd[0], (char *)got + off, n * sizeof(float) - off)) > 0;)
        off += (size_t)r;
    close(fd[0]);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s %d",
          WIFSIGNALED(st) ? "killed by signal" : "exited", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    CHECK(got && off == n * sizeof(float) && !memcmp(got, bp_net_params_const(a), off),
          "the child's epoch of the inherited network differs from the parent's (%zu of %zu bytes)",
          off, n * sizeof(float));
    free(got);
    bp_net_free(a);
}

static void cuda_child(void)
{
    if (bp_cuda_probe(NULL) != BP_OK) {
        printf("no GPU: the CUDA child not checked\n");
        return;
    }
    bp_net *a = make_net(BP_DEVICE_CUDA);
    CHECK(a != NULL, "CUDA network: %s", bp_last_error());
    if (!a)
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(60);
        float y[N_OUT];
        bp_status s = bp_predict(a, x, 1, y, NULL);
        int ok = s == BP_ERR_ARG && strstr(bp_last_error(), "fork");
        if (!ok)
            fprintf(stderr, "child: bp_predict on the parent's CUDA network: %s (%s)\n",
                    bp_status_string(s), bp_last_error());
        bp_net_free(a);
        _exit(!ok);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "the CUDA child was not refused with one line");
    bp_net_free(a);
}

int main(void)
{
    bp_rng r;
    bp_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < N_IN; j++)
            s += (x[i * N_IN + j] = (float)bp_rng_normal(&r));
        labels[i] = s < -1 ? 0 : s < 1 ? 1 : 2;
    }
    bp_dataset *ds = bp_dataset_from_memory(x, NULL, labels, N, N_IN, N_OUT, NULL);
    CHECK(ds != NULL, "data: %s", bp_last_error());
    if (!ds)
        CHECK_DONE();
    blas_count(ds);
    forked_child(ds);
    cuda_child();
    bp_dataset_free(ds);
    CHECK_DONE();
}
