/* Batch norm over NCHW-contiguous data, as an (N, C, L) array: the training forward's
 * per-channel sums, the scale-shift pass, the backward's two per-channel sums and its
 * elementwise pass (ember/_ops/norm.py calls them, on each thread's range of images).
 *
 * The arithmetic is torch's CPU kernel's (aten/src/ATen/native/cpu/batch_norm_kernel.cpp),
 * rounding for rounding, so that a seeded training run prints torch's numbers:
 * - forward: the mean is the sum in double, divided and rounded; the sum of squared deviations
 *   adds the rounded squares (x - mean) ** 2 in double; y = fma(x, alpha, beta) with
 *   alpha = invstd * weight and beta = bias - mean * alpha (one rounding: norm.py);
 * - backward: each row's sums of g and of (x - mean) * g in VEC lanes of T (8 floats or 4
 *   doubles: lane k adds elements k, k + VEC, ... in turn, a tail of fewer than VEC elements
 *   goes into the first lanes, then lanes k + VEC/2, ..., k + 1 are added to lanes k), added
 *   over the images in double; gx = ((g - mean_g) - (x - mean) * k, one rounding) * invstd * w.
 * Rows are reduced alone and combined in image order by ember_bn_sum_images once every range
 * is done, so the result never depends on how the images are split over threads.
 */
#include <math.h>

#include "kernels.h"

#define ROWS 4          /* rows the backward's sums interleave */
#define DLANES 16       /* double running sums of the forward's rows (any order: exact enough) */

#define BN_KERNELS(T, SUF, VEC, FMA)                                                          \
                                                                                              \
/* sum over x[0:l] of x (sq = 0) or of the rounded square (x - m) ** 2 (sq = 1), in double */ \
static inline double row_dsum_##SUF(const T *x, int64_t l, T m, int sq)                       \
{                                                                                             \
    double acc[DLANES] = {0};                                                                 \
    int64_t i = 0, k;                                                                         \
    for (; i + DLANES <= l; i += DLANES)                                                      \
        for (k = 0; k < DLANES; k++)                                                          \
            acc[k] += sq ? (double)((x[i + k] - m) * (x[i + k] - m)) : (double)x[i + k];      \
    for (k = 0; i + k < l; k++)                                                               \
        acc[k] += sq ? (double)((x[i + k] - m) * (x[i + k] - m)) : (double)x[i + k];          \
    double s = 0.0;                                                                           \
    for (int k = 0; k < DLANES; k++)                                                          \
        s += acc[k];                                                                          \
    return s;                                                                                 \
}                                                                                             \
                                                                                              \
/* Images [n0, n1) of x (N, C, L): each row's sum, in double, into rsum (N, C). */           \
EMBER_CLONES                                                                                  \
void ember_bn_row_sums_##SUF(int64_t n0, int64_t n1, int64_t c, int64_t l, const T *x,        \
                             double *rsum)                                                    \
{                                                                                             \
    for (int64_t r = n0 * c; r < n1 * c; r++)                                                 \
        rsum[r] = row_dsum_##SUF(x + r * l, l, 0, 0);                                         \
}                                                                                             \
                                                                                              \
/* Images [n0, n1): each row's sum of the rounded squares (x - mean) ** 2, in double. */     \
EMBER_CLONES                                                                                  \
void ember_bn_row_sqdev_##SUF(int64_t n0, int64_t n1, int64_t c, int64_t l, const T *x,       \
                              const T *mean, double *rsq)                                     \
{                                                                                             \
    for (int64_t r = n0 * c; r < n1 * c; r++)                                                 \
        rsq[r] = row_dsum_##SUF(x + r * l, l, mean[r % c], 1);                                \
}                                                                                             \
                                                                                              \
/* Images [n0, n1): y = fma(x, alpha, beta) per channel. */                                  \
EMBER_CLONES                                                                                  \
void ember_bn_affine_##SUF(int64_t n0, int64_t n1, int64_t c, int64_t l, const T *x,          \
                           const T *alpha, const T *beta, T *y)                               \
{                                                                                             \
    for (int64_t r = n0 * c; r < n1 * c; r++) {                                               \
        const T a = alpha[r % c], b = beta[r % c];                                            \
        const T *xr = x + r * l;                                                              \
        T *yr = y + r * l;                                                                    \
        for (int64_t i = 0; i < l; i++)                                                       \
            yr[i] = FMA(xr[i], a, b);                                                         \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* Images [n0, n1) of the gradient g and the input x (rows of VEC or more elements): each    \
 * row's sum of g and of (x - mean) * g in VEC lanes of T (see above), into rg and rgx (N, C, \
 * in double). */                                                                             \
EMBER_CLONES                                                                                  \
void ember_bn_grad_sums_##SUF(int64_t n0, int64_t n1, int64_t c, int64_t l, const T *g,       \
                              const T *x, const T *mean, double *rg, double *rgx)             \
{                                                                                             \
    int64_t r = n0 * c;                                                                       \
    /* ROWS rows at a time: each lane's sum is a chain of dependent adds (torch's order), so  \
     * one row at a time waits on the adder's latency; independent rows fill it (2x). */      \
    for (; r + ROWS <= n1 * c; r += ROWS) {                                                   \
        T a[ROWS][VEC], b[ROWS][VEC], m[ROWS];                                                \
        const T *gr[ROWS], *xr[ROWS];                                                         \
        for (int q = 0; q < ROWS; q++) {                                                      \
            gr[q] = g + (r + q) * l;                                                          \
            xr[q] = x + (r + q) * l;                                                          \
            m[q] = mean[(r + q) % c];                                                         \
            for (int k = 0; k < VEC; k++) {                                                   \
                a[q][k] = gr[q][k];                                                           \
                b[q][k] = (xr[q][k] - m[q]) * gr[q][k];                                       \
            }                                                                                 \
        }                                                                                     \
        int64_t i = VEC;                                                                      \
        for (; i + VEC <= l; i += VEC)                                                        \
            for (int q = 0; q < ROWS; q++)                                                    \
                for (int k = 0; k < VEC; k++) {                                               \
                    a[q][k] += gr[q][i + k];                                                  \
                    b[q][k] += (xr[q][i + k] - m[q]) * gr[q][i + k];                          \
                }                                                                             \
        for (int q = 0; q < ROWS; q++) {                                                      \
            for (int k = 0; i + k < l; k++) {                                                 \
                a[q][k] += gr[q][i + k];                                                      \
                b[q][k] += (xr[q][i + k] - m[q]) * gr[q][i + k];                              \
            }                                                                                 \
            for (int w = VEC / 2; w >= 1; w /= 2)                                             \
                for (int k = 0; k < w; k++) {                                                 \
                    a[q][k] += a[q][k + w];                                                   \
                    b[q][k] += b[q][k + w];                                                   \
                }                                                                             \
            rg[r + q] = (double)a[q][0];                                                      \
            rgx[r + q] = (double)b[q][0];                                                     \
        }                                                                                     \
    }                                                                                         \
    for (; r < n1 * c; r++) {                                                                 \
        const T *gr = g + r * l, *xr = x + r * l;                                             \
        const T m = mean[r % c];                                                              \
        T a[VEC], b[VEC];                                                                     \
        for (int k = 0; k < VEC; k++) {                                                       \
            a[k] = gr[k];                                                                     \
            b[k] = (xr[k] - m) * gr[k];                                                       \
        }                                                                                     \
        int64_t i = VEC;                                                                      \
        for (; i + VEC <= l; i += VEC)                                                        \
            for (int k = 0; k < VEC; k++) {                                                   \
                a[k] += gr[i + k];                                                            \
                b[k] += (xr[i + k] - m) * gr[i + k];                                          \
            }                                                                                 \
        for (int k = 0; i + k < l; k++) {                                                     \
            a[k] += gr[i + k];                                                                \
            b[k] += (xr[i + k] - m) * gr[i + k];                                              \
        }                                                                                     \
        for (int w = VEC / 2; w >= 1; w /= 2)                                                 \
            for (int k = 0; k < w; k++) {                                                     \
                a[k] += a[k + w];                                                             \
                b[k] += b[k + w];                                                             \
            }                                                                                 \
        rg[r] = (double)a[0];                                                                 \
        rgx[r] = (double)b[0];                                                                \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* Images [n0, n1): gx = ((g - mean_g) - (x - mean) * k, rounded once) * invstd * w per      \
 * channel (training), or g * invstd * w when k is NULL (evaluation); no factor w when w is   \
 * NULL. */                                                                                   \
EMBER_CLONES                                                                                  \
void ember_bn_grad_input_##SUF(int64_t n0, int64_t n1, int64_t c, int64_t l, const T *g,      \
                               const T *x, const T *mean, const T *mean_g, const T *k,        \
                               const T *invstd, const T *w, T *gx)                            \
{                                                                                             \
    for (int64_t r = n0 * c; r < n1 * c; r++) {                                               \
        int64_t j = r % c;                                                                    \
        const T inv = invstd[j], wj = w ? w[j] : (T)1;                                        \
        const T *gr = g + r * l;                                                              \
        T *out = gx + r * l;                                                                  \
        if (k) {                                                                              \
            const T *xr = x + r * l;                                                          \
            const T m = mean[j], mg = mean_g[j], kj = k[j];                                   \
            for (int64_t i = 0; i < l; i++)                                                   \
                out[i] = FMA(-(xr[i] - m), kj, gr[i] - mg) * inv * wj;                        \
        } else {                                                                              \
            for (int64_t i = 0; i < l; i++)                                                   \
                out[i] = gr[i] * inv * wj;                                                    \
        }                                                                                     \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* the task forms (threads.c): the image range and sizes, then the buffers */                 \
void ember_task_bn_row_sums_##SUF(const int64_t *a)                                           \
{                                                                                             \
    ember_bn_row_sums_##SUF(a[0], a[1], a[2], a[3], TASK_P(4), TASK_P(5));                    \
}                                                                                             \
                                                                                              \
void ember_task_bn_row_sqdev_##SUF(const int64_t *a)                                          \
{                                                                                             \
    ember_bn_row_sqdev_##SUF(a[0], a[1], a[2], a[3], TASK_P(4), TASK_P(5), TASK_P(6));        \
}                                                                                             \
                                                                                              \
void ember_task_bn_affine_##SUF(const int64_t *a)                                             \
{                                                                                             \
    ember_bn_affine_##SUF(a[0], a[1], a[2], a[3], TASK_P(4), TASK_P(5), TASK_P(6),            \
                          TASK_P(7));                                                         \
}                                                                                             \
                                                                                              \
void ember_task_bn_grad_sums_##SUF(const int64_t *a)                                          \
{                                                                                             \
    ember_bn_grad_sums_##SUF(a[0], a[1], a[2], a[3], TASK_P(4), TASK_P(5), TASK_P(6),         \
                             TASK_P(7), TASK_P(8));                                           \
}                                                                                             \
                                                                                              \
void ember_task_bn_grad_input_##SUF(const int64_t *a)                                         \
{                                                                                             \
    ember_bn_grad_input_##SUF(a[0], a[1], a[2], a[3], TASK_P(4), TASK_P(5), TASK_P(6),        \
                              TASK_P(7), TASK_P(8), TASK_P(9), TASK_P(10), TASK_P(11));       \
}

BN_KERNELS(float, f32, 8, fmaf)
BN_KERNELS(double, f64, 4, fma)

/* The rows (N, C) of the kernels above added over the images in image order: out (C,). */
void ember_bn_sum_images(int64_t n, int64_t c, const double *rows, double *out)
{
    for (int64_t j = 0; j < c; j++) {
        double s = 0.0;
        for (int64_t i = 0; i < n; i++)
            s += rows[i * c + j];
        out[j] = s;
    }
}
