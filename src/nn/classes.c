/*
 * classes.c — the names of a network's classes: what the model file's
 * "classes" metadata holds, so that a model trained on words ("setosa")
 * answers in words. The engine never reads them.
 */
#define _POSIX_C_SOURCE 200809L
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

bp_status bp_net_set_classes(bp_net *net, int k, const char *const *names)
{
    BP_NEED(net, NULL);
    int n_out = net->sizes[net->L];
    if (k == 0 && !names) {
        free(net->classes);
        net->classes = NULL;
        return BP_OK;
    }
    if (k != n_out)
        return bp_fail(NULL, BP_ERR_ARG, "%s: %d names for N(L) = %d classes (0 removes them)",
                       __func__, k, n_out);
    char **copy;
    bp_status s = bp_names_copy(__func__, k, names, &copy);
    if (s != BP_OK)
        return s;
    free(net->classes);
    net->classes = copy;
    return BP_OK;
}

const char *bp_net_class(const bp_net *net, int j)
{
    if (!net)
        return bp_arg_null(NULL, __func__, "net"), NULL;
    if (!net->classes || j < 0 || j >= net->sizes[net->L])
        return NULL;
    return net->classes[j];
}

bp_status bp_net_set_columns(bp_net *net, const char *json)
{
    BP_NEED(net, NULL);
    char *copy = json ? strdup(json) : NULL;
    if (json && !copy)
        return bp_fail(NULL, BP_ERR_NOMEM, "%s: out of memory", __func__);
    free(net->columns);
    net->columns = copy;
    return BP_OK;
}

const char *bp_net_columns(const bp_net *net)
{
    return net ? net->columns : NULL;
}
