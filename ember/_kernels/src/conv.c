/* Direct 2-D convolution (float32, groups 1, dilation 1): the forward of conv2d and, on the
 * zero-padded output gradient with the flipped kernel, the input gradient of a stride-1 one.
 *
 * No im2col copy: in a channels-last padded input xp (n, Hp, Wp, C) the kw*C values under one
 * row of an output pixel's window are contiguous, so with the weights laid out as
 * w (KH, KW*C, Opad) (Opad = O rounded up to 16, zero-filled) an output pixel is
 *     y[o] = bias[o] + sum_kh sum_j xp[oh*sh + kh, ow*sw*C + j] * w[kh, j, o].
 * The AVX-512 path register-blocks P pixels of one output row x R*16 output channels (P*R <= 28
 * accumulators), each step one weight row load per register and one broadcast input value per
 * pixel (an FMA's memory operand). The output is written at y + img*ys_n + pixel*ys_p + o*ys_o:
 * channels-last (ys_o == 1) or straight into an NCHW array (ys_p == 1: each register's 16
 * channels x 16 pixels transposed in registers, then one row of pixels stored per channel).
 */
#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define EMBER_CONV_AVX512 1
#endif

/* the portable path: one output pixel at a time, the O loop innermost (auto-vectorised) */
EMBER_CLONES
static void conv_pixel(int64_t KH, int64_t J, int64_t xrow, const float *x, const float *w,
                       int64_t Opad, int64_t O, const float *bias, float *acc)
{
    for (int64_t o = 0; o < O; o++)
        acc[o] = bias ? bias[o] : 0.0f;
    for (int64_t kh = 0; kh < KH; kh++) {
        const float *xr = x + kh * xrow;
        const float *wr = w + kh * J * Opad;
        for (int64_t j = 0; j < J; j++) {
            const float v = xr[j];
            const float *wj = wr + j * Opad;
            for (int64_t o = 0; o < O; o++)
                acc[o] += v * wj[o];
        }
    }
}

static void conv_plain(int64_t n, int64_t Hp, int64_t Wp, int64_t C, const float *xp,
                       int64_t KH, int64_t KW, int64_t O, int64_t Opad, const float *w,
                       const float *bias, int64_t sh, int64_t sw, int64_t OH, int64_t OW,
                       float *y, int64_t ys_n, int64_t ys_p, int64_t ys_o)
{
    float acc[256];
    const int64_t J = KW * C, xrow = Wp * C;
    for (int64_t i = 0; i < n; i++)
        for (int64_t o0 = 0; o0 < O; o0 += 256) {
            const int64_t no = O - o0 < 256 ? O - o0 : 256;
            /* weights restricted to channels o0..o0+no: same row pitch, shifted start */
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    const float *x = xp + i * Hp * xrow + oh * sh * xrow + ow * sw * C;
                    conv_pixel(KH, J, xrow, x, w + o0, Opad, no, bias ? bias + o0 : NULL, acc);
                    float *yp = y + i * ys_n + (oh * OW + ow) * ys_p + o0 * ys_o;
                    for (int64_t o = 0; o < no; o++)
                        yp[o * ys_o] = acc[o];
                }
        }
}

#ifdef EMBER_CONV_AVX512

#define AVX512 __attribute__((target("avx512f")))

/* m[i][j] <- m[j][i]: a 16x16 block of floats transposed in registers */
AVX512 static inline __attribute__((always_inline)) void transpose16(__m512 *m)
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(m[i], m[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(m[i], m[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        m[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        m[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        m[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        m[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(m[h + i], m[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(m[h + i], m[h + i + 4], 0xDD);
        }
    for (int i = 0; i < 8; i++) {
        m[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        m[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
}

/* The accumulation over (kh, j). XS, the distance between two pixels' inputs, is a constant
 * for the common channel counts: each input value is then an FMA's broadcast memory operand at
 * a fixed displacement (a run-time distance needs an index register per pixel: more than the
 * CPU has, 20-25% slower on 16-channel layers). */
#define CONV_LOOP(R, P, XS)                                                                   \
    for (int64_t kh = 0; kh < KH; kh++) {                                                     \
        const float *xr = x + kh * xrow;                                                      \
        const float *wr = w + kh * J * Opad;                                                  \
        for (int64_t j = 0; j < J; j++) {                                                     \
            __m512 wv[R];                                                                     \
            _Pragma("GCC unroll 16") for (int r = 0; r < R; r++)                              \
                wv[r] = _mm512_loadu_ps(wr + j * Opad + 16 * r);                              \
            _Pragma("GCC unroll 32") for (int p = 0; p < P; p++) {                            \
                const __m512 v = _mm512_set1_ps(xr[p * (XS) + j]);                            \
                _Pragma("GCC unroll 16") for (int r = 0; r < R; r++)                          \
                    acc[p][r] = _mm512_fmadd_ps(v, wv[r], acc[p][r]);                         \
            }                                                                                 \
        }                                                                                     \
    }

typedef void (*conv_block_fn)(int64_t KH, int64_t J, int64_t xrow, int64_t xstep,
                              const float *x, const float *w, int64_t Opad, const float *bias,
                              int64_t ov, float *y, int64_t ys_p, int64_t ys_o);

/* One block: P pixels (x + p*xstep) x R registers of 16 channels (w, bias: at the block's
 * first channel; ov: how many of its R*16 channels exist). */
#define CONV_BLOCK(R, P)                                                                      \
AVX512 static void conv_block_##R##_##P(int64_t KH, int64_t J, int64_t xrow, int64_t xstep,  \
                                        const float *x, const float *w, int64_t Opad,         \
                                        const float *bias, int64_t ov, float *y,              \
                                        int64_t ys_p, int64_t ys_o)                           \
{                                                                                             \
    __m512 acc[P][R];                                                                         \
    _Pragma("GCC unroll 16") for (int r = 0; r < R; r++) {                                    \
        const __m512 b = bias ? _mm512_loadu_ps(bias + 16 * r) : _mm512_setzero_ps();         \
        _Pragma("GCC unroll 32") for (int p = 0; p < P; p++) acc[p][r] = b;                   \
    }                                                                                         \
    switch (xstep) {                                                                          \
    case 16: CONV_LOOP(R, P, 16); break;                                                      \
    case 32: CONV_LOOP(R, P, 32); break;                                                      \
    case 64: CONV_LOOP(R, P, 64); break;                                                      \
    case 128: CONV_LOOP(R, P, 128); break;                                                    \
    default: CONV_LOOP(R, P, xstep);                                                          \
    }                                                                                         \
    if (ys_o == 1) {                                                                          \
        _Pragma("GCC unroll 16") for (int r = 0; r < R; r++) {                                \
            const int64_t left = ov - 16 * r;                                                 \
            const __mmask16 m = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1u);         \
            _Pragma("GCC unroll 32") for (int p = 0; p < P; p++)                              \
                _mm512_mask_storeu_ps(y + p * ys_p + 16 * r, m, acc[p][r]);                   \
        }                                                                                     \
    } else if (ys_p == 1) {                                                                   \
        _Pragma("GCC unroll 16") for (int r = 0; r < R; r++)                                  \
            _Pragma("GCC unroll 2") for (int g = 0; g < (P + 15) / 16; g++) {                 \
                __m512 m[16];                                                                 \
                _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++)                         \
                    m[i] = 16 * g + i < P ? acc[16 * g + i < P ? 16 * g + i : 0][r]           \
                                          : _mm512_setzero_ps();                              \
                transpose16(m);                                                               \
                const int np_ = P - 16 * g < 16 ? P - 16 * g : 16;                            \
                const __mmask16 pm = (__mmask16)((1u << np_) - 1u);                           \
                const int64_t left = ov - 16 * r;                                             \
                _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++)                         \
                    if (i < left)                                                             \
                        _mm512_mask_storeu_ps(y + (16 * r + i) * ys_o + 16 * g, pm, m[i]);    \
            }                                                                                 \
    } else {                                                                                  \
        float t[P][R * 16];                                                                   \
        _Pragma("GCC unroll 16") for (int r = 0; r < R; r++)                                  \
            _Pragma("GCC unroll 32") for (int p = 0; p < P; p++)                              \
                _mm512_storeu_ps(&t[p][16 * r], acc[p][r]);                                   \
        for (int64_t o = 0; o < ov; o++) {                                                    \
            float *yo = y + o * ys_o;                                                         \
            for (int p = 0; p < P; p++)                                                       \
                yo[p * ys_p] = t[p][o];                                                       \
        }                                                                                     \
    }                                                                                         \
}

#define CONV_BLOCKS_14(R)                                                                     \
    CONV_BLOCK(R, 1) CONV_BLOCK(R, 2) CONV_BLOCK(R, 3) CONV_BLOCK(R, 4) CONV_BLOCK(R, 5)      \
    CONV_BLOCK(R, 6) CONV_BLOCK(R, 7) CONV_BLOCK(R, 8) CONV_BLOCK(R, 9) CONV_BLOCK(R, 10)     \
    CONV_BLOCK(R, 11) CONV_BLOCK(R, 12) CONV_BLOCK(R, 13) CONV_BLOCK(R, 14)
CONV_BLOCKS_14(1)
CONV_BLOCKS_14(2)
CONV_BLOCK(1, 15) CONV_BLOCK(1, 16) CONV_BLOCK(1, 17) CONV_BLOCK(1, 18) CONV_BLOCK(1, 19)
CONV_BLOCK(1, 20) CONV_BLOCK(1, 21) CONV_BLOCK(1, 22) CONV_BLOCK(1, 23) CONV_BLOCK(1, 24)
CONV_BLOCK(1, 25) CONV_BLOCK(1, 26) CONV_BLOCK(1, 27) CONV_BLOCK(1, 28)

#define MAX_P1 28
#define MAX_P2 14
static const conv_block_fn conv_blocks_1[MAX_P1 + 1] = {
    0, conv_block_1_1, conv_block_1_2, conv_block_1_3, conv_block_1_4, conv_block_1_5,
    conv_block_1_6, conv_block_1_7, conv_block_1_8, conv_block_1_9, conv_block_1_10,
    conv_block_1_11, conv_block_1_12, conv_block_1_13, conv_block_1_14, conv_block_1_15,
    conv_block_1_16, conv_block_1_17, conv_block_1_18, conv_block_1_19, conv_block_1_20,
    conv_block_1_21, conv_block_1_22, conv_block_1_23, conv_block_1_24, conv_block_1_25,
    conv_block_1_26, conv_block_1_27, conv_block_1_28};
static const conv_block_fn conv_blocks_2[MAX_P2 + 1] = {
    0, conv_block_2_1, conv_block_2_2, conv_block_2_3, conv_block_2_4, conv_block_2_5,
    conv_block_2_6, conv_block_2_7, conv_block_2_8, conv_block_2_9, conv_block_2_10,
    conv_block_2_11, conv_block_2_12, conv_block_2_13, conv_block_2_14};

AVX512 static void conv_avx512(int64_t n, int64_t Hp, int64_t Wp, int64_t C, const float *xp,
                               int64_t KH, int64_t KW, int64_t O, int64_t Opad, const float *w,
                               const float *bias, int64_t sh, int64_t sw, int64_t OH,
                               int64_t OW, float *y, int64_t ys_n, int64_t ys_p, int64_t ys_o)
{
    const int64_t J = KW * C, xrow = Wp * C, xstep = sw * C;
    for (int64_t i = 0; i < n; i++) {
        const float *xi = xp + i * Hp * xrow;
        float *yi = y + i * ys_n;
        for (int64_t o0 = 0; o0 < O; ) {
            const int R = Opad - o0 >= 32 ? 2 : 1;
            const int64_t pmax = R == 2 ? MAX_P2 : MAX_P1;
            const conv_block_fn *table = R == 2 ? conv_blocks_2 : conv_blocks_1;
            const int64_t ov = O - o0 < 16 * R ? O - o0 : 16 * R;
            /* the row's pixels in near-equal blocks of at most pmax */
            const int64_t nb = (OW + pmax - 1) / pmax;
            for (int64_t oh = 0; oh < OH; oh++) {
                const float *xr = xi + oh * sh * xrow;
                int64_t ow = 0;
                for (int64_t b = 0; b < nb; b++) {
                    const int64_t P = (OW - ow) / (nb - b);
                    table[P](KH, J, xrow, xstep, xr + ow * xstep, w + o0, Opad,
                             bias ? bias + o0 : NULL, ov,
                             yi + (oh * OW + ow) * ys_p + o0 * ys_o, ys_p, ys_o);
                    ow += P;
                }
            }
            o0 += 16 * R;
        }
    }
}
#endif

/* y = conv(xp, w) (+ bias) for n images; see the top of the file for the layouts. Opad must be
 * a multiple of 16 (w and bias zero-filled up to it); bias may be NULL. */
void ember_conv2d_f32(int64_t n, int64_t Hp, int64_t Wp, int64_t C, const float *xp,
                      int64_t KH, int64_t KW, int64_t O, int64_t Opad, const float *w,
                      const float *bias, int64_t sh, int64_t sw, int64_t OH, int64_t OW,
                      float *y, int64_t ys_n, int64_t ys_p, int64_t ys_o)
{
#ifdef EMBER_CONV_AVX512
    if (__builtin_cpu_supports("avx512f")) {
        conv_avx512(n, Hp, Wp, C, xp, KH, KW, O, Opad, w, bias, sh, sw, OH, OW, y, ys_n, ys_p,
                    ys_o);
        return;
    }
#endif
    conv_plain(n, Hp, Wp, C, xp, KH, KW, O, Opad, w, bias, sh, sw, OH, OW, y, ys_n, ys_p, ys_o);
}

/* The portable path alone (the tests check it against the dispatched one on any machine). */
void ember_conv2d_portable_f32(int64_t n, int64_t Hp, int64_t Wp, int64_t C, const float *xp,
                               int64_t KH, int64_t KW, int64_t O, int64_t Opad, const float *w,
                               const float *bias, int64_t sh, int64_t sw, int64_t OH,
                               int64_t OW, float *y, int64_t ys_n, int64_t ys_p, int64_t ys_o)
{
    conv_plain(n, Hp, Wp, C, xp, KH, KW, O, Opad, w, bias, sh, sw, OH, OW, y, ys_n, ys_p, ys_o);
}
