/*
 * optim.c — optimisers: what turns the gradient buffer into a step of the
 * parameter buffer. Plain gradient descent (eq. 49–50) today; an optimiser
 * with state (momentum, Adam) adds a kind and its buffers here, and the
 * engine does not change: each sees only the two flat buffers.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

struct bp_optimizer {
    bp_opt_config cfg;
    size_t n; /* parameters it was made for */
};

bp_optimizer *bp_optimizer_create(const bp_opt_config *cfg, size_t n_params, bp_error *err)
{
    if ((unsigned)cfg->kind >= BP_OPT_COUNT) {
        bp_fail(err, BP_ERR_ARG, "unknown optimiser");
        return NULL;
    }
    if (!isfinite(cfg->lr) || cfg->lr <= 0) {
        bp_fail(err, BP_ERR_ARG, "learning rate %g is not a finite positive number", cfg->lr);
        return NULL;
    }
    bp_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) {
        bp_fail(err, BP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    opt->cfg = *cfg;
    opt->n = n_params;
    return opt;
}

void bp_optimizer_free(bp_optimizer *opt) { free(opt); }

void bp_optimizer_step(bp_optimizer *opt, float *params, const float *grads, size_t n)
{
    switch (opt->cfg.kind) {
    case BP_OPT_SGD: {
        /* W ← W − α ∇W, b ← b − α ∇b   eq. 49–50, one loop over the flat buffer */
        float lr = (float)opt->cfg.lr;
        for (size_t k = 0; k < n; k++)
            params[k] -= lr * grads[k];
        break;
    }
    case BP_OPT_COUNT: break;
    }
}

bp_status bp_train_step(bp_net *net, bp_optimizer *opt, const float *x, bp_targets tg, int M,
                        double *loss)
{
    bp_status s = bp_forward(net, x, M);
    if (s == BP_OK)
        s = bp_backward(net, tg, loss);
    if (s == BP_OK)
        bp_optimizer_step(opt, net->params, net->grads, net->n_params);
    return s;
}
