/*
 * csv_words.c — the distinct words of a CSV's class column (csv.c), in the
 * order they first appear, each with the line of its first row: an
 * open-addressing table of their indices, kept at most half full, so that
 * a file of 10^5 rows is read in linear time.
 */
#include "io/io.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_bytes(const char *b, size_t n)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)b[i]) * 1099511628211u;
    return h;
}

int bp_csv_dict_find(bp_csv_dict *d, const char *b, size_t n, long long lineno)
{
    bp_csv_words *w = d->out;
    if (2 * ((size_t)w->n + 1) > d->n_slots) {
        size_t ns = d->n_slots ? 2 * d->n_slots : 64;
        int *slot = calloc(ns, sizeof *slot);
        if (!slot)
            return -1;
        for (int i = 0; i < w->n; i++) {
            size_t h = hash_bytes(w->word[i], strlen(w->word[i])) & (ns - 1);
            while (slot[h])
                h = (h + 1) & (ns - 1);
            slot[h] = i + 1;
        }
        free(d->slot);
        d->slot = slot;
        d->n_slots = ns;
    }
    size_t h = hash_bytes(b, n) & (d->n_slots - 1);
    for (; d->slot[h]; h = (h + 1) & (d->n_slots - 1)) {
        const char *c = w->word[d->slot[h] - 1];
        if (strncmp(c, b, n) == 0 && c[n] == '\0')
            return d->slot[h] - 1;
    }
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        char **word = realloc(w->word, (size_t)cap * sizeof *word);
        long long *line = word ? realloc(w->line, (size_t)cap * sizeof *line) : NULL;
        if (word)
            w->word = word;
        if (!line)
            return -1;
        w->line = line;
        w->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, b, n);
    c[n] = '\0';
    w->word[w->n] = c;
    w->line[w->n] = lineno;
    d->slot[h] = ++w->n;
    return w->n - 1;
}

void bp_csv_words_free(bp_csv_words *w)
{
    for (int i = 0; w && i < w->n; i++)
        free(w->word[i]);
    if (w) {
        free(w->word);
        free(w->line);
        *w = (bp_csv_words){0};
    }
}
