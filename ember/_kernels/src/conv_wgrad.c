/* The weight (and bias) gradient of a 2-d convolution (groups 1, float32), without im2col.
 *
 *   gw[kh, kw, c, o] = sum over images n and output pixels (y, x) of
 *                      x[n, y*sy + kh, x*sx + kw, c] * gy[n, y, x, o]
 *   gb[o]            = sum over n, y, x of gy[n, y, x, o]
 *
 * x is the padded input and gy the output gradient, each with any element strides (NCHW or
 * channels-last, or the interior of a padded channels-last array). gw is written
 * as a contiguous (O, C, KH, KW) array (the weight's layout), gb (when not NULL) as O values;
 * both are overwritten.
 *
 * The AVX-512 path keeps a tile of R rows (kh, kw, c) by V vectors of 16 output channels in
 * registers over every pixel of a group of images (~512 KB of input and gy, kept in L2): per
 * pixel V loads of gy's channels, R broadcasts of input values and R*V fused multiply-adds.
 * gy whose channels are not contiguous (NCHW) is transposed a group at a time (16 x 16 in
 * registers) into the caller's scratch buffer (N*OH*OW*O floats). Every sum runs over the
 * pixels in order (images in order), so the result does not depend on the thread or the
 * grouping.
 *
 * Without AVX-512F, the AVX2 + FMA path does the same with 8-float vectors in 16 ymm registers:
 * tiles of at most 12 accumulators (R rows x V vectors: 12 x 1, 6 x 2, 4 x 3), the V gy
 * vectors and one broadcast, and 8 x 8 transpositions. When O makes more than one block of V
 * vectors, each block's part of gy is first packed, a chunk of pixels at a time.
 */
#include <string.h>

#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define WG_AVX512 1
#endif

typedef struct {
    int64_t xn, xh, xw, xc; /* the padded input's element strides */
    int64_t c, o, kh, kw, oh, ow, sy, sx;
    int64_t gn, gr, gp;     /* where gy's (O contiguous channels) row of pixel (n, y, x) is */
} wg_shape;

#ifdef WG_AVX512
/* dst[p*o + k] = g[k*go + p] for one image whose pixels are contiguous (gp == 1): 16 channels
 * by 16 pixels at a time, transposed in registers. */
__attribute__((target("avx512f")))
static void wg_transpose_avx512(const float *g, int64_t go, int64_t npix, int64_t o, float *dst)
{
    for (int64_t k0 = 0; k0 < o; k0 += 16) {
        int kn = (int)(o - k0 < 16 ? o - k0 : 16);
        __mmask16 km = (__mmask16)(kn == 16 ? 0xffff : (1u << kn) - 1);
        for (int64_t p0 = 0; p0 < npix; p0 += 16) {
            int pn = (int)(npix - p0 < 16 ? npix - p0 : 16);
            __mmask16 pm = (__mmask16)(pn == 16 ? 0xffff : (1u << pn) - 1);
            __m512 r[16], t[16], u[16];
            for (int k = 0; k < 16; k++)
                r[k] = k < kn ? _mm512_maskz_loadu_ps(pm, g + (k0 + k) * go + p0)
                              : _mm512_setzero_ps();
            for (int k = 0; k < 16; k += 2) {
                t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
                t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
            }
            /* u[4q + j]: column j (+4, +8, +12 in the other 128-bit lanes) of rows 4q..4q+3 */
            for (int q = 0; q < 4; q++) {
                __m512 a = t[4 * q], b = t[4 * q + 1], c = t[4 * q + 2], d = t[4 * q + 3];
                u[4 * q + 0] = _mm512_shuffle_ps(a, c, 0x44);
                u[4 * q + 1] = _mm512_shuffle_ps(a, c, 0xEE);
                u[4 * q + 2] = _mm512_shuffle_ps(b, d, 0x44);
                u[4 * q + 3] = _mm512_shuffle_ps(b, d, 0xEE);
            }
            for (int j = 0; j < 4; j++) {
                __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
                __m512 v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
                __m512 v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
                __m512 v3 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
                __m512 col[4] = {_mm512_shuffle_f32x4(v0, v2, 0x88),     /* pixel j */
                                 _mm512_shuffle_f32x4(v1, v3, 0x88),     /* pixel j + 4 */
                                 _mm512_shuffle_f32x4(v0, v2, 0xDD),     /* pixel j + 8 */
                                 _mm512_shuffle_f32x4(v1, v3, 0xDD)};    /* pixel j + 12 */
                for (int e = 0; e < 4; e++) {
                    int p = j + 4 * e;
                    if (p < pn)
                        _mm512_mask_storeu_ps(dst + (p0 + p) * o + k0, km, col[e]);
                }
            }
        }
    }
}

/* wg_transpose_avx512 with 8 channels by 8 pixels at a time; the channels and pixels that do not
 * fill a block are copied one by one. */
__attribute__((target("avx2")))
static void wg_transpose_avx2(const float *g, int64_t go, int64_t npix, int64_t o, float *dst)
{
    int64_t o8 = o & ~(int64_t)7, p8 = npix & ~(int64_t)7;
    for (int64_t k0 = 0; k0 < o8; k0 += 8)
        for (int64_t p0 = 0; p0 < p8; p0 += 8) {
            __m256 r[8];
            for (int k = 0; k < 8; k++)
                r[k] = _mm256_loadu_ps(g + (k0 + k) * go + p0);
            ember_transpose8(r);
            for (int j = 0; j < 8; j++)
                _mm256_storeu_ps(dst + (p0 + j) * o + k0, r[j]);
        }
    for (int64_t k = 0; k < o; k++)
        for (int64_t p = k < o8 ? p8 : 0; p < npix; p++)
            dst[p * o + k] = g[k * go + p];
}
#endif

/* One image's gy (channel k of pixel (y, x) at g[k*go + y*gr + x*gp]) as (OH*OW, O) rows in
 * dst; lanes: the vector path (16 AVX-512F, 8 AVX2, 1 portable). */
static void wg_rows(const float *g, int64_t go, int64_t gr, int64_t gp, int64_t oh, int64_t ow,
                    int64_t o, float *dst, int lanes)
{
#ifdef WG_AVX512
    if (lanes == 16 && gp == 1 && (gr == ow || oh == 1)) {
        wg_transpose_avx512(g, go, oh * ow, o, dst);
        return;
    }
    if (lanes == 8 && gp == 1 && (gr == ow || oh == 1)) {
        wg_transpose_avx2(g, go, oh * ow, o, dst);
        return;
    }
#endif
    (void)lanes;
    for (int64_t y = 0; y < oh; y++)
        for (int64_t x0 = 0; x0 < ow; x0 += 16) {
            int64_t x1 = x0 + 16 < ow ? x0 + 16 : ow;
            for (int64_t k = 0; k < o; k++) {
                const float *src = g + k * go + y * gr;
                for (int64_t x = x0; x < x1; x++)
                    dst[(y * ow + x) * o + k] = src[x * gp];
            }
        }
}

/* ---- portable path ------------------------------------------------------------------------ */

EMBER_CLONES
static void wg_image_plain(const wg_shape *s, const float *x, const float *g, float *gw)
{
    int64_t o = s->o;
    for (int64_t i = 0; i < s->kh; i++)
        for (int64_t j = 0; j < s->kw; j++)
            for (int64_t ch = 0; ch < s->c; ch++) {
                float *dst = gw + ((ch * s->kh + i) * s->kw + j) * o;
                const float *xr = x + i * s->xh + j * s->xw + ch * s->xc;
                for (int64_t y = 0; y < s->oh; y++)
                    for (int64_t xx = 0; xx < s->ow; xx++) {
                        float v = xr[y * s->sy * s->xh + xx * s->sx * s->xw];
                        const float *gr = g + y * s->gr + xx * s->gp;
                        for (int64_t k = 0; k < o; k++)
                            dst[k] += v * gr[k];
                    }
            }
}

EMBER_CLONES
static void wg_bias(const wg_shape *s, const float *g, int64_t ng, float *gb)
{
    for (int64_t i = 0; i < ng; i++)
        for (int64_t y = 0; y < s->oh; y++)
            for (int64_t x = 0; x < s->ow; x++) {
                const float *r = g + i * s->gn + y * s->gr + x * s->gp;
                for (int64_t k = 0; k < s->o; k++)
                    gb[k] += r[k];
            }
}

/* ---- AVX-512 path ------------------------------------------------------------------------- */

#ifdef WG_AVX512

#define WG_RMAX 24
#ifndef WG_VMAX
#define WG_VMAX 4
#endif
#ifndef WG_VMAX
#define WG_VMAX 4
#endif
#ifndef WG_VMAX
#define WG_VMAX 4
#endif

/* rows [r0, r0+R) x channels [o0, o0 + 16V) of gw += one image's products; off: the rows'
 * offsets in x from a pixel's corner, last: the lanes of the last vector that are channels */
static inline __attribute__((always_inline, target("avx512f")))
void wg_tile(const int R, const int V, const wg_shape *s, const float *x, const int64_t *off,
             const int64_t *dst, const float *g, int64_t ng, __mmask16 last, float *out)
{
    __m512 acc[WG_RMAX][4];
    int64_t ow = s->ow;
    int64_t ystep = s->sy * s->xh, xstep = s->sx * s->xw;
    int64_t of[WG_RMAX];
#pragma GCC unroll 24
    for (int r = 0; r < R; r++) {
        of[r] = off[r];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
            acc[r][v] = v < V - 1 ? _mm512_loadu_ps(out + dst[r] + 16 * v)
                                  : _mm512_maskz_loadu_ps(last, out + dst[r] + 16 * v);
    }
    /* one loop over the group's pixels: the row and image steps are taken as they come */
    int64_t oh = s->oh, xx = 0, y = 0;
    int64_t rowback = ow * xstep, imgback = oh * ystep, gstep = s->gp;
    int64_t growstep = s->gr - ow * gstep, gimgstep = s->gn - oh * s->gr;
    const float *xr = x, *gr = g;
    for (int64_t p = ng * oh * ow; p > 0; p--) {
        {
            __m512 gv[4];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++)
                gv[v] = v < V - 1 ? _mm512_loadu_ps(gr + 16 * v)
                                  : _mm512_maskz_loadu_ps(last, gr + 16 * v);
#pragma GCC unroll 24
            for (int r = 0; r < R; r++) {
                __m512 b = _mm512_set1_ps(xr[of[r]]);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++)
                    acc[r][v] = _mm512_fmadd_ps(b, gv[v], acc[r][v]);
            }
            xr += xstep;
            gr += gstep;
            if (++xx == ow) {
                xx = 0;
                xr += ystep - rowback;
                gr += growstep;
                if (++y == oh) {
                    y = 0;
                    xr += s->xn - imgback;
                    gr += gimgstep;
                }
            }
        }
    }
#pragma GCC unroll 24
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            if (v < V - 1)
                _mm512_storeu_ps(out + dst[r] + 16 * v, acc[r][v]);
            else
                _mm512_mask_storeu_ps(out + dst[r] + 16 * v, last, acc[r][v]);
        }
}

typedef void (*wg_tile_fn)(const wg_shape *, const float *, const int64_t *, const int64_t *,
                           const float *, int64_t, __mmask16, float *);

#define WG_FN(R, V)                                                                          \
    static __attribute__((target("avx512f"), noinline)) void wg_tile_##R##_##V(               \
        const wg_shape *s, const float *x, const int64_t *off, const int64_t *dst,            \
        const float *g, int64_t ng, __mmask16 last, float *out)                               \
    {                                                                                         \
        wg_tile(R, V, s, x, off, dst, g, ng, last, out);                                      \
    }
#define WG_ROWS6(V) WG_FN(1, V) WG_FN(2, V) WG_FN(3, V) WG_FN(4, V) WG_FN(5, V) WG_FN(6, V)
#define WG_ROWS8(V) WG_ROWS6(V) WG_FN(7, V) WG_FN(8, V)
#define WG_ROWS12(V) WG_ROWS8(V) WG_FN(9, V) WG_FN(10, V) WG_FN(11, V) WG_FN(12, V)
#define WG_ROWS24(V) WG_ROWS12(V) WG_FN(13, V) WG_FN(14, V) WG_FN(15, V) WG_FN(16, V)        \
    WG_FN(17, V) WG_FN(18, V) WG_FN(19, V) WG_FN(20, V) WG_FN(21, V) WG_FN(22, V)           \
    WG_FN(23, V) WG_FN(24, V)
WG_ROWS24(1)
WG_ROWS12(2)
WG_ROWS8(3)
WG_ROWS6(4)

#define WG_P6(V) wg_tile_1_##V, wg_tile_2_##V, wg_tile_3_##V, wg_tile_4_##V, wg_tile_5_##V,   \
    wg_tile_6_##V
#define WG_P8(V) WG_P6(V), wg_tile_7_##V, wg_tile_8_##V
#define WG_P12(V) WG_P8(V), wg_tile_9_##V, wg_tile_10_##V, wg_tile_11_##V, wg_tile_12_##V
#define WG_P24(V) WG_P12(V), wg_tile_13_##V, wg_tile_14_##V, wg_tile_15_##V, wg_tile_16_##V,  \
    wg_tile_17_##V, wg_tile_18_##V, wg_tile_19_##V, wg_tile_20_##V, wg_tile_21_##V,          \
    wg_tile_22_##V, wg_tile_23_##V, wg_tile_24_##V

static const wg_tile_fn wg_tiles1[24] = {WG_P24(1)};
static const wg_tile_fn wg_tiles2[12] = {WG_P12(2)};
static const wg_tile_fn wg_tiles3[8] = {WG_P8(3)};
static const wg_tile_fn wg_tiles4[6] = {WG_P6(4)};
static const wg_tile_fn *const wg_tiles[5] = {NULL, wg_tiles1, wg_tiles2, wg_tiles3, wg_tiles4};
static const int wg_rmax[5] = {0, 24, 12, 8, 6};

__attribute__((target("avx512f")))
static void wg_group_avx512(const wg_shape *s, const float *x, const float *g, int64_t ng,
                            float *gw)
{
    int64_t rows = s->kh * s->kw * s->c, o = s->o;
    int64_t nvec = (o + 15) / 16;
    int64_t off[WG_RMAX], dst[WG_RMAX];
    for (int64_t v0 = 0; v0 < nvec; v0 += WG_VMAX) {
        int v = (int)(nvec - v0 < WG_VMAX ? nvec - v0 : WG_VMAX);
        int64_t o0 = 16 * v0;
        int64_t left = o - o0 - 16 * (v - 1);       /* channels in the last vector: 1..16 */
        __mmask16 last = (__mmask16)(left >= 16 ? 0xffff : (1u << left) - 1);
        /* rows in tiles of (nearly) equal size, at most wg_rmax[v] */
        int64_t ntiles = (rows + wg_rmax[v] - 1) / wg_rmax[v];
        int64_t r0 = 0, ch = 0, j = 0, i = 0;   /* row r = (i, j, ch) */
        for (int64_t t = 0; t < ntiles; t++) {
            int64_t r1 = rows * (t + 1) / ntiles;
            for (int64_t r = r0; r < r1; r++) {
                off[r - r0] = i * s->xh + j * s->xw + ch * s->xc;
                dst[r - r0] = ((ch * s->kh + i) * s->kw + j) * o;
                if (++ch == s->c) {
                    ch = 0;
                    if (++j == s->kw) {
                        j = 0;
                        i++;
                    }
                }
            }
            wg_tiles[v][r1 - r0 - 1](s, x, off, dst, g + o0, ng, last, gw + o0);
            r0 = r1;
        }
    }
}

#endif

/* ---- AVX2 + FMA path ---------------------------------------------------------------------- */

#ifdef WG_AVX512

/* accumulators per tile: with the V gy vectors and a broadcast they fill the 16 ymm registers */
#define WG8_ACC 12
/* pixels of gy packed at a time (48 KB on the stack) when the output channels make more than
 * one block of vectors, each block's 1-3 vectors a strided part of gy's rows: packed, the
 * 64-128 channel layers ran at 75-88 GFLOP/s instead of 52-65 (chunks of 128 pixels: 72-79;
 * 2048: as 512) */
#define WG8_CHUNK 512

/* where a run of pixels starts: pixel (y, xx) of an image, its input corner and gy row */
typedef struct {
    const float *x, *g;
    int64_t y, xx;
} wg_pos;

/* wg_tile with 8-float vectors: R rows x 8V channels of gw (at out + dst[r]) += the products
 * of the np pixels from `at` (rows and images wrapping by s's strides); last: the lanes of the
 * last vector that are channels (all-ones lanes), loaded and stored under that mask. */
static inline __attribute__((always_inline, target("avx2,fma")))
void wg_tile8(const int R, const int V, const wg_shape *s, const wg_pos *at, int64_t np,
              const int64_t *off, const int64_t *dst, __m256i last, float *out)
{
    __m256 acc[WG8_ACC];
    int64_t ow = s->ow;
    int64_t ystep = s->sy * s->xh, xstep = s->sx * s->xw;
    int64_t of[WG8_ACC];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
        of[r] = off[r];
#pragma GCC unroll 3
        for (int v = 0; v < V; v++)
            acc[r * V + v] = v < V - 1 ? _mm256_loadu_ps(out + dst[r] + 8 * v)
                                       : _mm256_maskload_ps(out + dst[r] + 8 * v, last);
    }
    int64_t oh = s->oh, xx = at->xx, y = at->y;
    int64_t rowback = ow * xstep, imgback = oh * ystep, gstep = s->gp;
    int64_t growstep = s->gr - ow * gstep, gimgstep = s->gn - oh * s->gr;
    const float *xr = at->x, *gr = at->g;
    for (int64_t p = np; p > 0; p--) {
        __m256 gv[3];
#pragma GCC unroll 3
        for (int v = 0; v < V; v++)
            gv[v] = v < V - 1 ? _mm256_loadu_ps(gr + 8 * v)
                              : _mm256_maskload_ps(gr + 8 * v, last);
#pragma GCC unroll 12
        for (int r = 0; r < R; r++) {
            __m256 b = _mm256_broadcast_ss(xr + of[r]);
#pragma GCC unroll 3
            for (int v = 0; v < V; v++)
                acc[r * V + v] = _mm256_fmadd_ps(b, gv[v], acc[r * V + v]);
        }
        xr += xstep;
        gr += gstep;
        if (++xx == ow) {
            xx = 0;
            xr += ystep - rowback;
            gr += growstep;
            if (++y == oh) {
                y = 0;
                xr += s->xn - imgback;
                gr += gimgstep;
            }
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < V; v++) {
            if (v < V - 1)
                _mm256_storeu_ps(out + dst[r] + 8 * v, acc[r * V + v]);
            else
                _mm256_maskstore_ps(out + dst[r] + 8 * v, last, acc[r * V + v]);
        }
}

typedef void (*wg_tile8_fn)(const wg_shape *, const wg_pos *, int64_t, const int64_t *,
                            const int64_t *, __m256i, float *);

#define WG8_FN(R, V)                                                                         \
    static __attribute__((target("avx2,fma"), noinline)) void wg_tile8_##R##_##V(            \
        const wg_shape *s, const wg_pos *at, int64_t np, const int64_t *off,                  \
        const int64_t *dst, __m256i last, float *out)                                         \
    {                                                                                         \
        wg_tile8(R, V, s, at, np, off, dst, last, out);                                       \
    }
#define WG8_ROWS4(V) WG8_FN(1, V) WG8_FN(2, V) WG8_FN(3, V) WG8_FN(4, V)
#define WG8_ROWS6(V) WG8_ROWS4(V) WG8_FN(5, V) WG8_FN(6, V)
#define WG8_ROWS12(V) WG8_ROWS6(V) WG8_FN(7, V) WG8_FN(8, V) WG8_FN(9, V) WG8_FN(10, V)      \
    WG8_FN(11, V) WG8_FN(12, V)
WG8_ROWS12(1)
WG8_ROWS6(2)
WG8_ROWS4(3)

#define WG8_P4(V) wg_tile8_1_##V, wg_tile8_2_##V, wg_tile8_3_##V, wg_tile8_4_##V
#define WG8_P6(V) WG8_P4(V), wg_tile8_5_##V, wg_tile8_6_##V
#define WG8_P12(V) WG8_P6(V), wg_tile8_7_##V, wg_tile8_8_##V, wg_tile8_9_##V, wg_tile8_10_##V, \
    wg_tile8_11_##V, wg_tile8_12_##V

static const wg_tile8_fn wg_tiles8_1[12] = {WG8_P12(1)};
static const wg_tile8_fn wg_tiles8_2[6] = {WG8_P6(2)};
static const wg_tile8_fn wg_tiles8_3[4] = {WG8_P4(3)};
static const wg_tile8_fn *const wg_tiles8[4] = {NULL, wg_tiles8_1, wg_tiles8_2, wg_tiles8_3};

/* One block of v vectors, output channels [o0, o0 + 8v) of gw (their gy at `at`): every tile
 * of at most WG8_ACC / v rows over the np pixels from `at`. */
__attribute__((target("avx2,fma")))
static void wg_block_avx2(const wg_shape *s, const wg_pos *at, int64_t np, int v, int64_t o0,
                          __m256i last, float *gw)
{
    int64_t rows = s->kh * s->kw * s->c, o = s->o;
    int64_t rmax = WG8_ACC / v;
    int64_t ntiles = (rows + rmax - 1) / rmax;
    int64_t off[WG8_ACC], dst[WG8_ACC];
    int64_t r0 = 0, ch = 0, j = 0, i = 0;   /* row r = (i, j, ch) */
    for (int64_t t = 0; t < ntiles; t++) {
        int64_t r1 = rows * (t + 1) / ntiles;
        for (int64_t r = r0; r < r1; r++) {
            off[r - r0] = i * s->xh + j * s->xw + ch * s->xc;
            dst[r - r0] = ((ch * s->kh + i) * s->kw + j) * o;
            if (++ch == s->c) {
                ch = 0;
                if (++j == s->kw) {
                    j = 0;
                    i++;
                }
            }
        }
        wg_tiles8[v][r1 - r0 - 1](s, at, np, off, dst, last, gw + o0);
        r0 = r1;
    }
}

/* wg_group_avx512 with 8-float vectors: the output channels in blocks of 1-3 vectors (as equal
 * as they come: 4 vectors as 2 + 2, not 3 + 1). One block reads gy in place; more pack their
 * part of gy's rows WG8_CHUNK pixels at a time, which every tile then takes in turn. */
__attribute__((target("avx2,fma")))
static void wg_group_avx2(const wg_shape *s, const float *x, const float *g, int64_t ng,
                          float *gw)
{
    int64_t o = s->o, nvec = (o + 7) / 8, nblk = (nvec + 2) / 3;
    int64_t ow = s->ow, total = ng * s->oh * ow;
    float pk[WG8_CHUNK * 24] __attribute__((aligned(32)));
    for (int64_t b = 0; b < nblk; b++) {
        int64_t v0 = nvec * b / nblk;
        int v = (int)(nvec * (b + 1) / nblk - v0);
        int64_t o0 = 8 * v0;
        int64_t left = o - o0 - 8 * (v - 1);        /* channels in the last vector: 1..8 */
        __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        if (nblk == 1) {
            wg_pos at = {x, g, 0, 0};
            wg_block_avx2(s, &at, total, v, 0, last, gw);
            continue;
        }
        /* the packed gy: pixel after pixel, 8v floats each */
        wg_shape sp = *s;
        sp.gp = 8 * v;
        sp.gr = ow * sp.gp;
        sp.gn = s->oh * sp.gr;
        int64_t y = 0, xx = 0;
        const float *xq = x, *gq = g + o0;      /* image (y, xx)'s */
        for (int64_t q0 = 0; q0 < total; q0 += WG8_CHUNK) {
            int64_t np = total - q0 < WG8_CHUNK ? total - q0 : WG8_CHUNK;
            wg_pos at = {xq + y * s->sy * s->xh + xx * s->sx * s->xw, pk, y, xx};
            for (int64_t p = 0; p < np; p++) {
                const float *src = gq + y * s->gr + xx * s->gp;
                for (int k = 0; k < v; k++)
                    _mm256_store_ps(pk + (p * v + k) * 8,
                                    k < v - 1 ? _mm256_loadu_ps(src + 8 * k)
                                              : _mm256_maskload_ps(src + 8 * k, last));
                if (++xx == ow) {
                    xx = 0;
                    if (++y == s->oh) {
                        y = 0;
                        xq += s->xn;
                        gq += s->gn;
                    }
                }
            }
            wg_block_avx2(&sp, &at, np, v, o0, last, gw);
        }
    }
}

#endif

static void wg_run(int lanes, const float *x, int64_t xn, int64_t xh, int64_t xw,
                   int64_t xc, const float *gy, int64_t gn, int64_t gr, int64_t go, int64_t gp,
                   int64_t n, int64_t c, int64_t o, int64_t kh, int64_t kw, int64_t oh,
                   int64_t ow, int64_t sy, int64_t sx, float *scratch, float *acc, float *gw,
                   float *gb)
{
    int64_t npix = oh * ow, rows = kh * kw * c;
    /* gy's rows are used in place when its channels are contiguous, else transposed */
    int direct = go == 1;
    wg_shape s = {xn, xh, xw, xc, c, o, kh, kw, oh, ow, sy, sx,
                  direct ? gn : npix * o, direct ? gr : ow * o, direct ? gp : o};
    /* images per pass of the tiles: their input and gy (~512 KB) stay in the core's L2 */
    int64_t per = 4 * ((xn < 0 ? -xn : xn) + npix * o);
    int64_t ng = lanes > 1 ? (per > 0 && per < (1 << 19) ? (1 << 19) / per : 1) : 1;
    memset(acc, 0, sizeof(float) * (size_t)(rows * o));
    if (gb != NULL)
        memset(gb, 0, sizeof(float) * (size_t)o);
    for (int64_t i = 0; i < n; i += ng) {
        int64_t m = n - i < ng ? n - i : ng;
        const float *g = gy + i * gn;
        if (!direct) {
            g = scratch + i * npix * o;
            for (int64_t k = 0; k < m; k++)
                wg_rows(gy + (i + k) * gn, go, gr, gp, oh, ow, o, scratch + (i + k) * npix * o,
                        lanes);
        }
#ifdef WG_AVX512
        if (lanes == 16)
            wg_group_avx512(&s, x + i * xn, g, m, acc);
        else if (lanes == 8)
            wg_group_avx2(&s, x + i * xn, g, m, acc);
        else
#endif
            for (int64_t k = 0; k < m; k++)
                wg_image_plain(&s, x + (i + k) * xn, g + k * s.gn, acc);
        if (gb != NULL)
            wg_bias(&s, g, m, gb);
    }
    /* acc's (C*KH*KW, O) rows -> gw (O, C*KH*KW) */
    wg_rows(acc, o, 0, 1, 1, o, rows, gw, lanes);
}

#define WG_ARGS const float *x, int64_t xn, int64_t xh, int64_t xw, int64_t xc,                 \
    const float *gy, int64_t gn, int64_t gr, int64_t go, int64_t gp, int64_t n, int64_t c,     \
    int64_t o,                                                                                 \
    int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sy, int64_t sx, float *scratch,    \
    float *acc, float *gw, float *gb
#define WG_PASS x, xn, xh, xw, xc, gy, gn, gr, go, gp, n, c, o, kh, kw, oh, ow, sy, sx, scratch, \
    acc, gw, gb

/* gw (O, C, KH, KW) and gb (O, or NULL) of images [0, n): see the top of the file. x's strides
 * xn, xh, xw, xc and gy's gn (image), gr (output row), go (channel), gp (pixel) are in
 * elements; scratch holds N*OH*OW*O floats unless go == 1 (else it may be NULL); acc holds
 * C*KH*KW*O floats (the sums as (C, KH, KW, O) before their transposition into gw). */
void ember_conv_wgrad4_f32(WG_ARGS)
{
#ifdef WG_AVX512
    if (__builtin_cpu_supports("avx512f"))
        wg_run(16, WG_PASS);
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        wg_run(8, WG_PASS);
    else
#endif
        wg_run(1, WG_PASS);
}

void ember_task_conv_wgrad4_f32(const int64_t *a)
{
    ember_conv_wgrad4_f32(TASK_P(0), a[1], a[2], a[3], a[4], TASK_P(5), a[6], a[7], a[8], a[9],
                          a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18],
                          TASK_P(19), TASK_P(20), TASK_P(21), TASK_P(22));
}

/* The same on the AVX2 path where the CPU has it, else the portable one (for the tests). */
void ember_conv_wgrad4_avx2_f32(WG_ARGS)
{
#ifdef WG_AVX512
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        wg_run(8, WG_PASS);
    else
#endif
        wg_run(1, WG_PASS);
}

/* The same on the portable path whatever the machine (for the tests). */
void ember_conv_wgrad4_plain_f32(WG_ARGS)
{
    wg_run(1, WG_PASS);
}
