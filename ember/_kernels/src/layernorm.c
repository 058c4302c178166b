/* LayerNorm over the rows of a (rows, d) float32 matrix, forward and backward: the NumPy
 * span functions of ember/_ops/norm.py (layer_norm, NativeLayerNormBackward0) one row at a time
 * while it is in cache, in one GIL-free call per span of rows. */
#include <math.h>

#include "kernels.h"

#define LANES 16

/* sum of a[0:n] (or of a[i] * b[i] when b is given) in 16 running partial sums, which gcc
 * vectorises without reassociating anything */
static inline float row_sum(const float *a, const float *b, int64_t n)
{
    float acc[LANES] = {0};
    int64_t j = 0;
    if (b) {
        for (; j + LANES <= n; j += LANES)
            for (int k = 0; k < LANES; k++)
                acc[k] += a[j + k] * b[j + k];
    } else {
        for (; j + LANES <= n; j += LANES)
            for (int k = 0; k < LANES; k++)
                acc[k] += a[j + k];
    }
    float s = 0.0f;
    for (int k = 0; k < LANES; k++)
        s += acc[k];
    for (; j < n; j++)
        s += b ? a[j] * b[j] : a[j];
    return s;
}

/* xhat = (x - mean) / sqrt(var + eps), invstd per row, y = xhat * w + b (w, b optional) */
EMBER_CLONES
void ember_layer_norm_f32(int64_t rows, int64_t d, const float *x, const float *w,
                          const float *b, float eps, float *xhat, float *invstd, float *y)
{
    const float fd = (float)d;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *xh = xhat + r * d, *yr = y + r * d;
        float mean = row_sum(xr, 0, d) / fd;
        for (int64_t j = 0; j < d; j++)
            xh[j] = xr[j] - mean;
        float inv = 1.0f / sqrtf(row_sum(xh, xh, d) / fd + eps);
        invstd[r] = inv;
        for (int64_t j = 0; j < d; j++)
            xh[j] *= inv;
        if (w && b)
            for (int64_t j = 0; j < d; j++)
                yr[j] = xh[j] * w[j] + b[j];
        else if (w)
            for (int64_t j = 0; j < d; j++)
                yr[j] = xh[j] * w[j];
        else if (b)
            for (int64_t j = 0; j < d; j++)
                yr[j] = xh[j] + b[j];
        else
            for (int64_t j = 0; j < d; j++)
                yr[j] = xh[j];
    }
}

/* The backward over rows: gw_part += g * xhat and gb_part += g (each optional: this span's
 * share of the parameter gradients), and gx = invstd (g w - mean(g w) - xhat mean(g w xhat))
 * (optional; w optional; gtmp holds a row of g w). */
EMBER_CLONES
void ember_layer_norm_backward_f32(int64_t rows, int64_t d, const float *g, const float *xhat,
                                   const float *invstd, const float *w, float *gx,
                                   float *gw_part, float *gb_part, float *gtmp)
{
    const float fd = (float)d;
    for (int64_t r = 0; r < rows; r++) {
        const float *gr = g + r * d, *xh = xhat + r * d;
        if (gw_part)
            for (int64_t j = 0; j < d; j++)
                gw_part[j] += gr[j] * xh[j];
        if (gb_part)
            for (int64_t j = 0; j < d; j++)
                gb_part[j] += gr[j];
        if (!gx)
            continue;
        const float *gxh = gr;
        if (w) {
            for (int64_t j = 0; j < d; j++)
                gtmp[j] = gr[j] * w[j];
            gxh = gtmp;
        }
        float a = row_sum(gxh, 0, d) / fd;
        float bb = row_sum(gxh, xh, d) / fd;
        float inv = invstd[r], *out = gx + r * d;
        for (int64_t j = 0; j < d; j++)
            out[j] = ((gxh[j] - a) - xh[j] * bb) * inv;
    }
}
