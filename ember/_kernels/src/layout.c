/* NCHW -> zero-padded channels-last (N, Hp, Wp, C), the layout the direct convolution and the
 * weight gradient read (ember/_ops/conv._to_last): one pass, where NumPy pads and transposes
 * in two. Each output row (Wp * C floats) is written whole while the C input rows it gathers
 * from stay in L1. */
#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define EMBER_LAYOUT_AVX2 1

/* 8 channels x 8 columns of one input row -> 8 columns x 8 channels, transposed in registers.
 * Going a block at a time matters: the C input rows sit H*W floats apart, often a multiple of
 * 4 KB, so a column at a time across all channels thrashes one L1 set (2.4 ns per element). */
__attribute__((target("avx2"))) static void block8(const float *x, int64_t cs, float *o,
                                                   int64_t os)
{
    __m256 r[8];
    for (int k = 0; k < 8; k++)
        r[k] = _mm256_loadu_ps(x + k * cs);
    ember_transpose8(r);
    for (int k = 0; k < 8; k++)
        _mm256_storeu_ps(o + k * os, r[k]);
}

/* one output row's interior: w columns x c channels from the c input rows at xr (cs apart) */
__attribute__((target("avx2"))) static void row_avx2(const float *xr, int64_t cs, int64_t w,
                                                     int64_t c, float *oc)
{
    int64_t ch = 0;
    for (; ch + 8 <= c; ch += 8) {
        int64_t col = 0;
        for (; col + 8 <= w; col += 8)
            block8(xr + ch * cs + col, cs, oc + col * c + ch, c);
        for (; col < w; col++)
            for (int64_t k = 0; k < 8; k++)
                oc[col * c + ch + k] = xr[(ch + k) * cs + col];
    }
    for (; ch < c; ch++)
        for (int64_t col = 0; col < w; col++)
            oc[col * c + ch] = xr[ch * cs + col];
}
#endif

/* Images [n0, n1) of x (N, C, H, W), C-contiguous, into out (N, Hp, Wp, C) with the image at
 * rows [top, top + H) and columns [left, left + W), zeros elsewhere. */
EMBER_CLONES
void ember_to_last_f32(int64_t n0, int64_t n1, int64_t c, int64_t h, int64_t w, const float *x,
                       int64_t top, int64_t left, int64_t hp, int64_t wp, float *out)
{
    const int64_t row = wp * c;
#ifdef EMBER_LAYOUT_AVX2
    const int avx2 = __builtin_cpu_supports("avx2");
#endif
    for (int64_t i = n0; i < n1; i++) {
        const float *xi = x + i * c * h * w;
        float *oi = out + i * hp * row;
        for (int64_t r = 0; r < hp; r++) {
            float *o = oi + r * row;
            const int64_t sr = r - top;
            if (sr < 0 || sr >= h) {
                memset(o, 0, (size_t)row * sizeof(float));
                continue;
            }
            memset(o, 0, (size_t)(left * c) * sizeof(float));
            const float *xr = xi + sr * w;
            float *oc = o + left * c;
#ifdef EMBER_LAYOUT_AVX2
            if (avx2) {
                row_avx2(xr, h * w, w, c, oc);
            } else
#endif
            for (int64_t col = 0; col < w; col++)
                for (int64_t ch = 0; ch < c; ch++)
                    oc[col * c + ch] = xr[ch * h * w + col];
            memset(o + (left + w) * c, 0, (size_t)((wp - left - w) * c) * sizeof(float));
        }
    }
}

void ember_task_to_last_f32(const int64_t *a)
{
    ember_to_last_f32(a[0], a[1], a[2], a[3], a[4], TASK_P(5), a[6], a[7], a[8], a[9],
                      TASK_P(10));
}

/* cols (n, C, s_h, s_w, H, W) -> y (n, C, H s_h, W s_w): y[i, c, h s_h + a, w s_w + b] =
 * cols[i, c, a, b, h, w] (+ bias[c] when bias is given); depth to space, as the output of a
 * transposed convolution with kernel size = stride (gemm.c) and a strided convolution's input
 * gradient by phases (ember/_ops/conv._grad_input_subpixel) put it together. */
EMBER_CLONES
void ember_depth_to_space_f32(int64_t n, int64_t C, int64_t H, int64_t W, int64_t sh,
                              int64_t sw, const float *cols, const float *bias, float *y)
{
    const int64_t hw = H * W, wo = W * sw;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < C; c++) {
            const float bc = bias ? bias[c] : 0.0f;
            const float *ci = cols + (i * C + c) * sh * sw * hw;
            float *yc = y + (i * C + c) * hw * sh * sw;
            for (int64_t a = 0; a < sh; a++)
                for (int64_t r = 0; r < H; r++) {
                    float *row = yc + (r * sh + a) * wo;
                    const float *src = ci + a * sw * hw + r * W;
                    if (sw == 2) {      /* the common case: an interleave gcc vectorises */
                        const float *s1 = src + hw;
                        for (int64_t k = 0; k < W; k++) {
                            row[2 * k] = src[k] + bc;
                            row[2 * k + 1] = s1[k] + bc;
                        }
                    } else {
                        for (int64_t b = 0; b < sw; b++)
                            for (int64_t k = 0; k < W; k++)
                                row[k * sw + b] = src[b * hw + k] + bc;
                    }
                }
        }
}

void ember_task_depth_to_space_f32(const int64_t *a)
{
    ember_depth_to_space_f32(a[0], a[1], a[2], a[3], a[4], a[5], TASK_P(6), TASK_P(7),
                             TASK_P(8));
}
