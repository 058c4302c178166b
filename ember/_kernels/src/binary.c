/* Sums and products of two float arrays of one shape, contiguous, split over the pool's
 * threads from 32K elements (ember_split_run), as torch splits its elementwise loops: NumPy's
 * ufunc runs on one core. IEEE arithmetic, so the bits are NumPy's. */
#include "kernels.h"

#define BINARY_KERNELS(NAME, OP, T, SUF)                                                      \
EMBER_CLONES                                                                                  \
void ember_##NAME##_##SUF(int64_t n, const T *x, const T *y, T *z)                            \
{                                                                                             \
    for (int64_t i = 0; i < n; i++)                                                           \
        z[i] = x[i] OP y[i];                                                                  \
}                                                                                             \
                                                                                              \
void ember_task_##NAME##_##SUF(const int64_t *a)                                              \
{                                                                                             \
    ember_##NAME##_##SUF(a[0], TASK_P(1), TASK_P(2), TASK_P(3));                              \
}                                                                                             \
                                                                                              \
int64_t ember_##NAME##_split_##SUF(int64_t n, const T *x, const T *y, T *z, int64_t parts)   \
{                                                                                             \
    void *const p[3] = {(void *)x, (void *)y, z};                                             \
    const int64_t e[3] = {sizeof(T), sizeof(T), sizeof(T)};                                   \
    return ember_split_run(ember_task_##NAME##_##SUF, n, 3, p, e, parts);                     \
}

BINARY_KERNELS(add, +, float, f32)
BINARY_KERNELS(add, +, double, f64)
BINARY_KERNELS(mul, *, float, f32)
BINARY_KERNELS(mul, *, double, f64)
