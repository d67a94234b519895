/*
 * struct_layout.c — the public structs' sizes and field offsets as this
 * compiler lays them out, as JSON, for python/tests/test_struct_layout.py
 * to hold the ctypes declarations of python/backprop/_lib.py against. A
 * field the header gains without _lib.py knowing shows up as a name or a
 * size there.
 */
#include "backprop.h"

#include <stddef.h>
#include <stdio.h>

#define FIELD(T, f) printf("%s\"%s\": [%zu, %zu]", first ? "" : ", ", #f, offsetof(T, f), \
                           sizeof(((T *)0)->f)), first = 0
#define BEGIN(T) printf("%s\"%s\": {\"size\": %zu, \"fields\": {", n++ ? ",\n " : "{", #T, \
                        sizeof(T)), first = 1
#define END() printf("}}")

int main(void)
{
    int n = 0, first;
    BEGIN(bp_config);
    FIELD(bp_config, size); FIELD(bp_config, n_layers); FIELD(bp_config, sizes);
    FIELD(bp_config, acts); FIELD(bp_config, loss); FIELD(bp_config, temperature);
    FIELD(bp_config, leaky_slope); FIELD(bp_config, device);
    END();
    BEGIN(bp_opt_config);
    FIELD(bp_opt_config, size); FIELD(bp_opt_config, kind); FIELD(bp_opt_config, lr);
    FIELD(bp_opt_config, momentum); FIELD(bp_opt_config, beta1); FIELD(bp_opt_config, beta2);
    FIELD(bp_opt_config, eps); FIELD(bp_opt_config, weight_decay);
    FIELD(bp_opt_config, clip_norm); FIELD(bp_opt_config, schedule);
    FIELD(bp_opt_config, warmup_steps); FIELD(bp_opt_config, total_steps);
    FIELD(bp_opt_config, step_size); FIELD(bp_opt_config, gamma); FIELD(bp_opt_config, min_lr);
    FIELD(bp_opt_config, l2); FIELD(bp_opt_config, power_t);
    END();
    BEGIN(bp_error);
    FIELD(bp_error, msg);
    END();
    BEGIN(bp_metrics);
    FIELD(bp_metrics, loss); FIELD(bp_metrics, accuracy); FIELD(bp_metrics, mse_fann);
    FIELD(bp_metrics, bit_fail);
    END();
    BEGIN(bp_rng);
    FIELD(bp_rng, s);
    END();
    BEGIN(bp_epoch_hooks);
    FIELD(bp_epoch_hooks, size); FIELD(bp_epoch_hooks, rank); FIELD(bp_epoch_hooks, ranks);
    FIELD(bp_epoch_hooks, after_backward); FIELD(bp_epoch_hooks, after_step);
    FIELD(bp_epoch_hooks, ctx); FIELD(bp_epoch_hooks, stop);
    FIELD(bp_epoch_hooks, grads_ready); FIELD(bp_epoch_hooks, bucket);
    END();
    BEGIN(bp_step_info);
    FIELD(bp_step_info, step); FIELD(bp_step_info, steps); FIELD(bp_step_info, first);
    FIELD(bp_step_info, M); FIELD(bp_step_info, lo); FIELD(bp_step_info, hi);
    FIELD(bp_step_info, loss); FIELD(bp_step_info, status); FIELD(bp_step_info, stop);
    END();
    printf("}\n");
    return 0;
}
