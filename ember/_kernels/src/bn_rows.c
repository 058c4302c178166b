/* Batch norm over (N, C) rows, channels contiguous: BatchNorm1d's layout (ember/_ops/norm.py,
 * _rows_forward and _backward_rows, whose NumPy code these reproduce operation for operation,
 * so both paths give the same bits). A per-channel sum adds the rows in order, from the first
 * row, as NumPy's add.reduce over axis 0 does; each product and difference rounds on its own.
 * NumPy's seven passes and their temporaries took 93 us for a (128, 256) float32 forward. */
#include <math.h>

#include "kernels.h"

#define BN_ROWS(T, SUF)                                                                       \
/* sum[j] = x[0, j] + x[1, j] + ... */                                                        \
EMBER_CLONES                                                                                  \
void ember_bn_rows_sum_##SUF(int64_t n, int64_t c, const T *restrict x, T *restrict sum)     \
{                                                                                             \
    for (int64_t j = 0; j < c; j++)                                                           \
        sum[j] = x[j];                                                                        \
    for (int64_t i = 1; i < n; i++)                                                           \
        for (int64_t j = 0; j < c; j++)                                                       \
            sum[j] += x[i * c + j];                                                           \
}                                                                                             \
                                                                                              \
/* y = x - mean; with sq, sq[j] = the sum of the rows' y * y */                               \
EMBER_CLONES                                                                                  \
void ember_bn_rows_centre_##SUF(int64_t n, int64_t c, const T *restrict x,                   \
                                const T *restrict mean, T *restrict y, T *restrict sq)        \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T *xi = x + i * c;                                                              \
        T *yi = y + i * c;                                                                    \
        for (int64_t j = 0; j < c; j++)                                                       \
            yi[j] = xi[j] - mean[j];                                                          \
        if (sq == NULL)                                                                       \
            continue;                                                                         \
        if (i == 0)                                                                           \
            for (int64_t j = 0; j < c; j++)                                                   \
                sq[j] = yi[j] * yi[j];                                                        \
        else                                                                                  \
            for (int64_t j = 0; j < c; j++)                                                   \
                sq[j] += yi[j] * yi[j];                                                       \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* y = y * scale, then + shift (two roundings, as y *= scale; y += shift) */                  \
EMBER_CLONES                                                                                  \
void ember_bn_rows_affine_##SUF(int64_t n, int64_t c, T *restrict y, const T *restrict scale, \
                                const T *restrict shift)                                      \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) {                                                         \
        T *yi = y + i * c;                                                                    \
        for (int64_t j = 0; j < c; j++)                                                       \
            yi[j] *= scale[j];                                                                \
        if (shift != NULL)                                                                    \
            for (int64_t j = 0; j < c; j++)                                                   \
                yi[j] += shift[j];                                                            \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* The training forward in one call: mean, y = x - mean, var, invstd = 1 / sqrt(var + eps),
 * the running statistics when given (rm, rv: NULL to leave them to the caller), then
 * y = y * scale + shift, each step rounded as the NumPy code rounds it (its Python floats
 * become T first: NumPy's weak scalars). sq holds the sums of squares; scale is scratch. */ \
EMBER_CLONES                                                                                  \
void ember_bn_rows_train_##SUF(int64_t n, int64_t c, const T *restrict x,                    \
                               const T *restrict weight, const T *restrict bias,              \
                               T *restrict rm, T *restrict rv, double momentum, double eps,   \
                               T *restrict y, T *restrict mean, T *restrict var,              \
                               T *restrict invstd, T *restrict scale)                         \
{                                                                                             \
    const T cnt = (T)n, teps = (T)eps, keep = (T)(1.0 - momentum), m = (T)momentum;          \
    const T bessel = (T)((double)n / (double)(n > 1 ? n - 1 : 1));                            \
    ember_bn_rows_sum_##SUF(n, c, x, mean);                                                   \
    for (int64_t j = 0; j < c; j++)                                                           \
        mean[j] /= cnt;                                                                       \
    ember_bn_rows_centre_##SUF(n, c, x, mean, y, var);                                        \
    for (int64_t j = 0; j < c; j++) {                                                         \
        var[j] /= cnt;                                                                        \
        invstd[j] = (T)1.0 / (T)sqrt(var[j] + teps);                                          \
        scale[j] = weight != NULL ? invstd[j] * weight[j] : invstd[j];                        \
    }                                                                                         \
    if (rm != NULL)                                                                           \
        for (int64_t j = 0; j < c; j++) {                                                     \
            rm[j] *= keep;                                                                    \
            rm[j] += m * mean[j];                                                             \
            rv[j] *= keep;                                                                    \
            rv[j] += m * (var[j] * bessel);                                                   \
        }                                                                                     \
    ember_bn_rows_affine_##SUF(n, c, y, scale, bias);                                         \
}                                                                                             \
                                                                                              \
/* the backward's sums: gb[j] = sum of g, gd[j] = sum of g * (x - mean) */                    \
EMBER_CLONES                                                                                  \
void ember_bn_rows_grad_sums_##SUF(int64_t n, int64_t c, const T *restrict g,                \
                                   const T *restrict x, const T *restrict mean,               \
                                   T *restrict gb, T *restrict gd)                            \
{                                                                                             \
    for (int64_t j = 0; j < c; j++) {                                                         \
        gb[j] = g[j];                                                                         \
        gd[j] = g[j] * (x[j] - mean[j]);                                                      \
    }                                                                                         \
    for (int64_t i = 1; i < n; i++) {                                                         \
        const T *gi = g + i * c, *xi = x + i * c;                                             \
        for (int64_t j = 0; j < c; j++) {                                                     \
            gb[j] += gi[j];                                                                   \
            gd[j] += gi[j] * (xi[j] - mean[j]);                                               \
        }                                                                                     \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* gx = g * scale, then (training: k1 given) - (x - mean) * k1, then - k2 */                  \
EMBER_CLONES                                                                                  \
void ember_bn_rows_grad_input_##SUF(int64_t n, int64_t c, const T *restrict g,               \
                                    const T *restrict x, const T *restrict mean,              \
                                    const T *restrict scale, const T *restrict k1,            \
                                    const T *restrict k2, T *restrict gx)                     \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T *gi = g + i * c, *xi = x + i * c;                                             \
        T *o = gx + i * c;                                                                    \
        if (k1 == NULL) {                                                                     \
            for (int64_t j = 0; j < c; j++)                                                   \
                o[j] = gi[j] * scale[j];                                                      \
            continue;                                                                         \
        }                                                                                     \
        for (int64_t j = 0; j < c; j++) {                                                     \
            const T t = gi[j] * scale[j], u = (xi[j] - mean[j]) * k1[j];                      \
            o[j] = (t - u) - k2[j];                                                           \
        }                                                                                     \
    }                                                                                         \
}

BN_ROWS(float, f32)
BN_ROWS(double, f64)
