/*
 * oom_cli.c — turns the backprop command into backprop_oom, whose Nth
 * allocation fails (oom_wrap.h): linked with the CLI's objects, the static
 * library and the --wrap options, it reads
 *   BP_OOM_FAIL    N: the Nth allocation fails; N+: it and all after it;
 *                  0 or unset: none (a run that counts them)
 *   BP_OOM_REPORT  a file that receives, at exit, "COUNT LIVE KIND": the
 *                  allocations made, those never released, and the kind
 *                  of the first that failed ("-" if none)
 * for tests/oom_cli.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include "oom_wrap.h"

#include <fcntl.h>
#include <unistd.h>

static void report(void)
{
    long n = disarm();
    const char *path = getenv("BP_OOM_REPORT");
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    if (fd < 0)
        return;
    dprintf(fd, "%ld %d %s\n", n, n_live, failed ? failed : "-");
    for (int i = 0; i < n_live; i++)
        dprintf(fd, "never released: %s #%ld\n", live[i].kind, live[i].n);
    close(fd);
}

/* main itself is wrapped (--wrap=main): every allocation of the command
 * counts, and none of the static constructors of what is linked in (the
 * CUDA runtime's, where it is built in), which run before main and keep
 * what they allocate for the life of the process. */
int __real_main(int argc, char **argv);
int __wrap_main(int argc, char **argv)
{
    const char *v = getenv("BP_OOM_FAIL");
    long from = v ? strtol(v, NULL, 10) : 0;
    oom_json_hooks();
    atexit(report);
    arm(from, v && strchr(v, '+'));
    return __real_main(argc, argv);
}
