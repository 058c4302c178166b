/* Sums, differences and products of two float arrays of one shape, contiguous, and products
 * with a scalar, split over the pool's threads from 32K elements (ember_split_run), as torch
 * splits its elementwise loops: NumPy's ufunc runs on one core. IEEE arithmetic, so the bits
 * are NumPy's. Called through the extension's float_op (cgraph.c). */
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
BINARY_KERNELS(sub, -, float, f32)
BINARY_KERNELS(sub, -, double, f64)
BINARY_KERNELS(mul, *, float, f32)
BINARY_KERNELS(mul, *, double, f64)

/* z = x * (*s): the scalar is the array's type already (NumPy casts a Python float to float32
 * before a float32 product), read through a pointer so that ember_split_run hands every piece
 * the same one (its element size 0) */
#define SCALAR_KERNELS(T, SUF)                                                                \
EMBER_CLONES                                                                                  \
void ember_mul_scalar_##SUF(int64_t n, const T *x, const T *s, T *z)                          \
{                                                                                             \
    const T c = *s;                                                                           \
    for (int64_t i = 0; i < n; i++)                                                           \
        z[i] = x[i] * c;                                                                      \
}                                                                                             \
                                                                                              \
void ember_task_mul_scalar_##SUF(const int64_t *a)                                            \
{                                                                                             \
    ember_mul_scalar_##SUF(a[0], TASK_P(1), TASK_P(2), TASK_P(3));                            \
}                                                                                             \
                                                                                              \
int64_t ember_mul_scalar_split_##SUF(int64_t n, const T *x, const T *s, T *z, int64_t parts)  \
{                                                                                             \
    void *const p[3] = {(void *)x, (void *)s, z};                                             \
    const int64_t e[3] = {sizeof(T), 0, sizeof(T)};                                           \
    return ember_split_run(ember_task_mul_scalar_##SUF, n, 3, p, e, parts);                   \
}

SCALAR_KERNELS(float, f32)
SCALAR_KERNELS(double, f64)
