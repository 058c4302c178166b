/* Rows added at an index: out[idx[i], :] += vals[i, :] for i in order, as np.add.at(out,
 * idx, vals) adds them (an embedding's weight gradient). np.add.at runs its general indexed
 * loop element by element: 2.2 ms for a batch of 3200 lookups of 64 floats.
 * Indices are checked by the caller (0 <= idx < rows of out). */
#include "kernels.h"

#define INDEX_ADD_ROWS(T, SUF)                                                                \
EMBER_CLONES                                                                                  \
void ember_index_add_rows_##SUF(int64_t n, const int64_t *idx, const T *vals, int64_t width,  \
                                T *out)                                                       \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) {                                                         \
        T *o = out + idx[i] * width;                                                          \
        const T *v = vals + i * width;                                                        \
        for (int64_t j = 0; j < width; j++)                                                   \
            o[j] += v[j];                                                                     \
    }                                                                                         \
}

INDEX_ADD_ROWS(float, f32)
INDEX_ADD_ROWS(double, f64)
