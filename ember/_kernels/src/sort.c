/* topk along rows: the k first values of each row in torch's stable sort order (descending
 * for largest, NaN the largest value, equal values by index), with their indices. The k best
 * so far are kept sorted; a value enters only when strictly better than the k-th, so among
 * equals the earlier index stays, as in the stable sort. NumPy has no partial sort: its
 * argpartition runs per row (120 us for 100 rows of 100) and its sort orders every value.
 * The caller takes this for small k only: an entry costs up to k moves. */
#include "kernels.h"

#define TOPK_ROWS(T, SUF)                                                                     \
static inline int topk_better_##SUF(T v, T w, int64_t largest)                              \
{                                                                                             \
    if (largest)                                                                              \
        return v > w || (v != v && w == w);                                                  \
    return v < w || (w != w && v == v);                                                       \
}                                                                                             \
                                                                                              \
EMBER_CLONES                                                                                  \
void ember_topk_rows_##SUF(int64_t rows, int64_t n, int64_t k, int64_t largest, const T *x,  \
                           T *vals, int64_t *idx)                                             \
{                                                                                             \
    for (int64_t r = 0; r < rows; r++) {                                                      \
        const T *row = x + r * n;                                                             \
        T *tv = vals + r * k;                                                                 \
        int64_t *ti = idx + r * k;                                                            \
        int64_t c = 0;                                                                        \
        for (int64_t j = 0; j < n; j++) {                                                     \
            T v = row[j];                                                                     \
            if (c == k && !topk_better_##SUF(v, tv[k - 1], largest))                          \
                continue;                                                                     \
            int64_t p = c < k ? c++ : k - 1;    /* the free slot, or the k-th's */            \
            while (p > 0 && topk_better_##SUF(v, tv[p - 1], largest)) {                       \
                tv[p] = tv[p - 1];                                                            \
                ti[p] = ti[p - 1];                                                            \
                p--;                                                                          \
            }                                                                                 \
            tv[p] = v;                                                                        \
            ti[p] = j;                                                                        \
        }                                                                                     \
    }                                                                                         \
}

TOPK_ROWS(float, f32)
TOPK_ROWS(double, f64)
