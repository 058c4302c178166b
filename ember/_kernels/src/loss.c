/* The reduction of torch's CPU nll_loss kernel, rounding for rounding (_cascade_sum in
 * ember/_ops/loss.py, whose NumPy code reproduces the same order level by level).
 *
 * Eight partial sums: each value is added into level 0; after the value of target index b,
 * level j is added into level j + 1 and cleared while the j-th group of `level_power` bits of
 * b is zero (b = 0 flushes every level). Ignored targets are not in `vals`: they neither add
 * nor flush. The result is the partials added left to right, from zero. */
#include "kernels.h"

#define CASCADE_LEVELS 8

#define CASCADE_SUM(T, SUF)                                                                   \
void ember_cascade_sum_##SUF(int64_t count, const T *vals, const int64_t *index,             \
                             int64_t level_power, T *out)                                     \
{                                                                                             \
    T level[CASCADE_LEVELS] = {0};                                                            \
    const int64_t group = ((int64_t)1 << level_power) - 1;                                    \
    for (int64_t i = 0; i < count; i++) {                                                     \
        level[0] += vals[i];                                                                  \
        for (int j = 0; j < CASCADE_LEVELS - 1; j++) {                                        \
            if ((index[i] >> (j * level_power)) & group)                                      \
                break;                                                                        \
            level[j + 1] += level[j];                                                         \
            level[j] = 0;                                                                     \
        }                                                                                     \
    }                                                                                         \
    T s = 0;                                                                                  \
    for (int j = 0; j < CASCADE_LEVELS; j++)                                                  \
        s += level[j];                                                                        \
    *out = s;                                                                                 \
}

CASCADE_SUM(float, f32)
CASCADE_SUM(double, f64)
