/* The sum of a contiguous float array, as NumPy's add.reduce computes it (its pairwise sum:
 * blocks of at most 128 elements in 8 accumulators, halves split at a multiple of 8 and
 * added), with the top halves (or quarters, ...) of that recursion run on the pool's threads
 * while they spin (threads.c): the same tree, so NumPy's bits, split or not. */
#include "kernels.h"

#define PAIRWISE(T, SUF)                                                                      \
static T pairwise_##SUF(const T *a, int64_t n)                                                \
{                                                                                             \
    if (n < 8) {                                                                              \
        T res = 0;                                                                            \
        for (int64_t i = 0; i < n; i++)                                                       \
            res += a[i];                                                                      \
        return res;                                                                           \
    }                                                                                         \
    if (n <= 128) {                                                                           \
        T r[8];                                                                               \
        int64_t i;                                                                            \
        for (int j = 0; j < 8; j++)                                                           \
            r[j] = a[j];                                                                      \
        for (i = 8; i < n - (n % 8); i += 8)                                                  \
            for (int j = 0; j < 8; j++)                                                       \
                r[j] += a[i + j];                                                             \
        T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));            \
        for (; i < n; i++)                                                                    \
            res += a[i];                                                                      \
        return res;                                                                           \
    }                                                                                         \
    int64_t n2 = n / 2;                                                                       \
    n2 -= n2 % 8;                                                                             \
    return pairwise_##SUF(a, n2) + pairwise_##SUF(a + n2, n - n2);                            \
}                                                                                             \
                                                                                              \
void ember_task_pairwise_##SUF(const int64_t *a)                                              \
{                                                                                             \
    *(T *)TASK_P(2) = pairwise_##SUF(TASK_P(1), a[0]);                                        \
}                                                                                             \
                                                                                              \
/* *out = sum(x[0:n]); `parts` (rounded down to a power of two, at most SPLIT_MAX) pieces of   \
 * at least SPLIT_GRAIN elements on the pool's threads when they spin */                      \
void ember_sum_split_##SUF(int64_t n, const T *x, T *out, int64_t parts)                      \
{                                                                                             \
    int64_t lo[SPLIT_MAX], len[SPLIT_MAX], k = 1;                                             \
    T part[SPLIT_MAX];                                                                        \
    lo[0] = 0;                                                                                \
    len[0] = n;                                                                               \
    /* the recursion's first levels: each piece halved as pairwise_ halves it */              \
    while (2 * k <= parts && 2 * k <= SPLIT_MAX && n / (2 * k) >= SPLIT_GRAIN) {              \
        for (int64_t p = k - 1; p >= 0; p--) {                                                \
            int64_t h = len[p] / 2;                                                           \
            h -= h % 8;                                                                       \
            lo[2 * p] = lo[p];                                                                \
            lo[2 * p + 1] = lo[p] + h;                                                        \
            len[2 * p + 1] = len[p] - h;                                                      \
            len[2 * p] = h;                                                                   \
        }                                                                                     \
        k *= 2;                                                                               \
    }                                                                                         \
    if (k > 1 && ember_pool_awake(k)) {                                                       \
        int64_t prog[SPLIT_MAX * 5], starts[SPLIT_MAX + 1], j = 0;                            \
        for (int64_t p = 0; p < k; p++) {                                                     \
            starts[p] = j;                                                                    \
            prog[j++] = (int64_t)(intptr_t)ember_task_pairwise_##SUF;                         \
            prog[j++] = 3;                                                                    \
            prog[j++] = len[p];                                                               \
            prog[j++] = (int64_t)(intptr_t)(x + lo[p]);                                       \
            prog[j++] = (int64_t)(intptr_t)(part + p);                                        \
        }                                                                                     \
        starts[k] = j;                                                                        \
        ember_run_parts(k, prog, starts);                                                     \
    } else {                                                                                  \
        for (int64_t p = 0; p < k; p++)                                                       \
            part[p] = pairwise_##SUF(x + lo[p], len[p]);                                      \
    }                                                                                         \
    for (; k > 1; k /= 2)   /* the recursion's additions, bottom up */                        \
        for (int64_t p = 0; p < k / 2; p++)                                                   \
            part[p] = part[2 * p] + part[2 * p + 1];                                          \
    *out = (T)0 + part[0];  /* NumPy's reduction starts from its identity, +0.0 */            \
}

PAIRWISE(float, f32)
PAIRWISE(double, f64)
