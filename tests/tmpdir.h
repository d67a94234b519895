/*
 * tmpdir.h — the one scratch folder a test writes its files in: made with
 * mkdtemp, files put and found by name, temporaries counted, all removed at
 * the end. Header-only, like check.h; needs POSIX (the tests are built with
 * _POSIX_C_SOURCE=200809L).
 */
#ifndef BP_TMPDIR_H
#define BP_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64]; /* the folder every file of the test lives in */

/* Makes /tmp/TAG.XXXXXX; exits the test if it cannot. */
static inline void tmp_make(const char *tag)
{
    snprintf(dir, sizeof dir, "/tmp/%s.XXXXXX", tag);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

/* dir/name, in one of 8 rotating buffers so a few can be held at once */
static inline const char *tmp_path(const char *name)
{
    static char buf[8][sizeof dir + 256 + 2];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* Writes n bytes to dir/name and returns its path; exits if it cannot. */
static inline const char *tmp_put(const char *name, const void *bytes, size_t n)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(bytes, 1, n, f) == n;
    if (!(f && fclose(f) == 0 && ok)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    return path;
}

/* Files whose name says they are an atomic write's leftover temporary. */
static inline int tmp_temporaries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* Removes every file and the folder; 0 on success. */
static inline int tmp_remove(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(tmp_path(e->d_name));
    if (d)
        closedir(d);
    return rmdir(dir);
}

#endif
