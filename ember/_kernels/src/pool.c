/* Max pooling over exactly tiling 2-D windows (kernel == stride, no padding, no dilation):
 * LeNet's and U-Net's 2x2. ember/_ops/pooling.py calls these on each thread's range of the
 * (N*C) planes of a C-contiguous input; the NumPy code beside the call does the same.
 *
 * The forward keeps the first maximum of each window in row-major order, and a NaN wins (the
 * last NaN: each replaces the running maximum), as torch does; arg is the winner's position
 * in its window. The backward writes every input element once: the window's gradient at its
 * winner (+ 0.0: torch adds it into zeros, which turns -0.0 into +0.0), +0.0 elsewhere, also
 * where the windows do not reach.
 */
#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define EMBER_POOL_AVX2 1
#define AVX2 __attribute__((target("avx2")))

/* 2x2 windows of float32, 8 outputs at a time: row pairs split into even and odd columns in
 * registers. The compilers' auto-vectorisation leaves the rows' tails (LeNet's 14- and 5-wide
 * outputs: most of them) to branching scalar code, 5x slower on random data; a tail here goes
 * through a zero-padded copy instead. */
AVX2 static inline __m256 even_odd(const float *r, int odd)
{
    const __m256 a = _mm256_loadu_ps(r), b = _mm256_loadu_ps(r + 8);
    const __m256 s = odd ? _mm256_shuffle_ps(a, b, 0xDD) : _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

AVX2 static inline void pool8_f32(const float *r0, const float *r1, float *best, int16_t *arg)
{
    const __m256 v[4] = {even_odd(r0, 0), even_odd(r0, 1), even_odd(r1, 0), even_odd(r1, 1)};
    __m256 b = v[0], a = _mm256_setzero_ps();
    for (int k = 1; k < 4; k++) {
        /* the later value wins when greater or NaN */
        const __m256 m = _mm256_or_ps(_mm256_cmp_ps(v[k], b, _CMP_GT_OQ),
                                      _mm256_cmp_ps(v[k], v[k], _CMP_UNORD_Q));
        b = _mm256_blendv_ps(b, v[k], m);
        a = _mm256_blendv_ps(a, _mm256_set1_ps((float)k), m);
    }
    _mm256_storeu_ps(best, b);
    const __m256i ai = _mm256_cvttps_epi32(a);
    _mm_storeu_si128((__m128i *)arg, _mm_packs_epi32(_mm256_castsi256_si128(ai),
                                                       _mm256_extracti128_si256(ai, 1)));
}

/* lanes [0, n) of a mask, 0 <= n <= 8 */
static const int32_t mask_bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
AVX2 static inline __m256i lanes(int64_t n) { return _mm256_loadu_si256((const __m256i *)(
    mask_bits + 8 - (n < 0 ? 0 : n > 8 ? 8 : n))); }

AVX2 static void pool_rows_2x2_f32(const float *r0, const float *r1, int64_t ow, float *best,
                                   int16_t *arg)
{
    int64_t j = 0;
    for (; j + 8 <= ow; j += 8)
        pool8_f32(r0 + 2 * j, r1 + 2 * j, best + j, arg + j);
    if (j < ow) {   /* masked loads and stores: a short row costs one block */
        const int64_t rem = ow - j;
        const __m256i m0 = lanes(2 * rem), m1 = lanes(2 * rem - 8);
        float t0[16], t1[16], tb[8];
        int16_t ta[8];
        _mm256_storeu_ps(t0, _mm256_maskload_ps(r0 + 2 * j, m0));
        _mm256_storeu_ps(t0 + 8, _mm256_maskload_ps(r0 + 2 * j + 8, m1));
        _mm256_storeu_ps(t1, _mm256_maskload_ps(r1 + 2 * j, m0));
        _mm256_storeu_ps(t1 + 8, _mm256_maskload_ps(r1 + 2 * j + 8, m1));
        pool8_f32(t0, t1, tb, ta);
        _mm256_maskstore_ps(best + j, lanes(rem), _mm256_loadu_ps(tb));
        for (int64_t k = 0; k < rem; k++)
            arg[j + k] = ta[k];
    }
}

/* The gradient of one input row (u: its row in the windows) from 8 outputs' g and arg. */
AVX2 static inline void unpool8_f32(const float *g, const int16_t *arg, int u, float *gr)
{
    const __m256 gv = _mm256_add_ps(_mm256_loadu_ps(g), _mm256_setzero_ps());  /* -0 -> +0 */
    const __m256 av = _mm256_cvtepi32_ps(
        _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)arg)));
    const __m256 e = _mm256_and_ps(gv, _mm256_cmp_ps(av, _mm256_set1_ps(2.0f * u), _CMP_EQ_OQ));
    const __m256 o = _mm256_and_ps(gv, _mm256_cmp_ps(av, _mm256_set1_ps(2.0f * u + 1),
                                                     _CMP_EQ_OQ));
    const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
    _mm256_storeu_ps(gr, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(gr + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
}

/* gend, aend: the ends of the range's gradient and arg. When a short tail has a whole block
 * of both before them, it reads and writes whole blocks past its row (what it writes there is
 * rewritten later, in row order): AMD's masked stores cost more than the whole row. */
AVX2 static void unpool_row_2x2_f32(const float *g, const int16_t *arg, int64_t ow, int u,
                                    float *gr, const float *gend, const int16_t *aend)
{
    int64_t j = 0;
    for (; j + 8 <= ow; j += 8)
        unpool8_f32(g + j, arg + j, u, gr + 2 * j);
    if (j < ow) {
        const int64_t rem = ow - j;
        float tg[8], tr[16];
        int16_t ta[8] = {0};
        _mm256_storeu_ps(tg, _mm256_maskload_ps(g + j, lanes(rem)));
        if (gr + 2 * j + 16 <= gend && arg + j + 8 <= aend) {
            unpool8_f32(tg, arg + j, u, gr + 2 * j);
            return;
        }
        for (int64_t k = 0; k < rem; k++)
            ta[k] = arg[j + k];
        unpool8_f32(tg, ta, u, tr);
        for (int64_t k = 0; k < 2 * rem; k++)
            gr[2 * j + k] = tr[k];
    }
}
#endif

#define POOL_KERNELS(T, SUF, WIDE, ROWS2X2, UNPOOL2)                                          \
                                                                                              \
/* Planes [p0, p1) of x (P, H, W): best and arg (P, OH, OW) of the kh x kw windows. */       \
EMBER_CLONES                                                                                  \
void ember_max_pool2d_tiled_##SUF(int64_t p0, int64_t p1, int64_t h, int64_t w, const T *x,   \
                                  int64_t kh, int64_t kw, int64_t oh, int64_t ow, T *best,    \
                                  int16_t *arg)                                               \
{                                                                                             \
    const int wide = kh == 2 && kw == 2 && WIDE;                                              \
    for (int64_t p = p0; p < p1; p++)                                                         \
        for (int64_t i = 0; i < oh; i++) {                                                    \
            const T *xr = x + (p * h + i * kh) * w;                                           \
            T *br = best + (p * oh + i) * ow;                                                 \
            int16_t *ar = arg + (p * oh + i) * ow;                                            \
            if (wide) {                                                                       \
                ROWS2X2(xr, xr + w, ow, br, ar);                                              \
                continue;                                                                     \
            }                                                                                 \
            for (int64_t j = 0; j < ow; j++) {                                                \
                const T *xw = xr + j * kw;                                                    \
                T b = xw[0];                                                                  \
                int16_t a = 0;                                                                \
                for (int64_t u = 0; u < kh; u++)                                              \
                    for (int64_t v = 0; v < kw; v++) {                                        \
                        const T e = xw[u * w + v];                                            \
                        if (e > b || e != e) {                                                \
                            b = e;                                                            \
                            a = (int16_t)(u * kw + v);                                        \
                        }                                                                     \
                    }                                                                         \
                br[j] = b;                                                                    \
                ar[j] = a;                                                                    \
            }                                                                                 \
        }                                                                                     \
}                                                                                             \
                                                                                              \
/* Planes [p0, p1): gx (P, H, W) from g and arg (P, OH, OW). */                               \
EMBER_CLONES                                                                                  \
void ember_max_pool2d_tiled_backward_##SUF(int64_t p0, int64_t p1, int64_t h, int64_t w,      \
                                           int64_t kh, int64_t kw, int64_t oh, int64_t ow,    \
                                           const T *g, const int16_t *arg, T *gx)             \
{                                                                                             \
    const int wide = kw == 2 && WIDE;                                                         \
    const T *gend = gx + p1 * h * w;                                                          \
    const int16_t *aend = arg + p1 * oh * ow;                                                 \
    (void)gend, (void)aend;                                                                   \
    for (int64_t p = p0; p < p1; p++) {                                                       \
        T *gp = gx + p * h * w;                                                               \
        for (int64_t i = 0; i < oh; i++) {                                                   \
            const T *grow = g + (p * oh + i) * ow;                                            \
            const int16_t *arow = arg + (p * oh + i) * ow;                                    \
            for (int64_t u = 0; u < kh; u++) {                                                \
                T *gr = gp + (i * kh + u) * w;                                                \
                if (wide) {                                                                   \
                    UNPOOL2(grow, arow, ow, (int)u, gr, gend, aend);                          \
                } else {                                                                      \
                    for (int64_t j = 0; j < ow; j++)                                          \
                        for (int64_t v = 0; v < kw; v++)                                      \
                            gr[j * kw + v] = arow[j] == u * kw + v ? grow[j] + (T)0 : (T)0;   \
                }                                                                             \
                for (int64_t c = ow * kw; c < w; c++)                                         \
                    gr[c] = 0;                                                                \
            }                                                                                 \
        }                                                                                     \
        for (int64_t r = oh * kh; r < h; r++)                                                 \
            memset(gp + r * w, 0, (size_t)w * sizeof(T));                                     \
    }                                                                                         \
}                                                                                             \
                                                                                              \
void ember_task_max_pool2d_tiled_##SUF(const int64_t *a)                                      \
{                                                                                             \
    ember_max_pool2d_tiled_##SUF(a[0], a[1], a[2], a[3], TASK_P(4), a[5], a[6], a[7], a[8],   \
                                 TASK_P(9), TASK_P(10));                                      \
}                                                                                             \
                                                                                              \
void ember_task_max_pool2d_tiled_backward_##SUF(const int64_t *a)                             \
{                                                                                             \
    ember_max_pool2d_tiled_backward_##SUF(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],     \
                                          TASK_P(8), TASK_P(9), TASK_P(10));                  \
}

/* The AVX2 rows where the CPU has them; none for float64. */
#define NO_ROWS(...) ((void)0)
#ifdef EMBER_POOL_AVX2
POOL_KERNELS(float, f32, __builtin_cpu_supports("avx2"), pool_rows_2x2_f32, unpool_row_2x2_f32)
#else
POOL_KERNELS(float, f32, 0, NO_ROWS, NO_ROWS)
#endif
POOL_KERNELS(double, f64, 0, NO_ROWS, NO_ROWS)
