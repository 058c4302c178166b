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
#define EMBER_CONV_AVX2 1
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

#ifdef EMBER_CONV_AVX2

/* The AVX2 + FMA path (CPUs without AVX-512): the same scheme on 8-channel registers. With 16
 * ymm registers a block is P pixels x R registers, P*R <= 12 accumulators plus R weight rows
 * and the broadcast input value: R = 2 x P <= 6, or R = 1 x P <= 12 for the last <= 8
 * channels. AVX2 has no broadcast memory operand: each input value is a vbroadcastss load, at
 * a constant displacement where XS is a constant. A block covers one output row, or Q pixels
 * in each of two rows (P = 2Q) where that makes the blocks larger: 8-pixel rows in blocks of
 * 3, 3, 2 pixels over two rows run 1.2x faster than in blocks of 4 per row (U-Net's 64 -> 128
 * channels at 8x8; each weight row read then serves 5.3 pixels instead of 4). */
#define AVX2 __attribute__((target("avx2,fma")))

/* the first n (<= 8) floats of v stored at p by plain stores (AMD's masked stores are slow);
 * n is a constant where a block's pixel count decides it */
AVX2 static inline __attribute__((always_inline)) void store8_n(float *p, __m256 v, int64_t n)
{
    if (n >= 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    __m128 h = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(p, h);
        h = _mm256_extractf128_ps(v, 1);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)p, h);
        h = _mm_movehl_ps(h, h);
        p += 2;
        n -= 2;
    }
    if (n >= 1)
        _mm_store_ss(p, h);
}

/* pixel p of a block: row p / Q (x2 apart in the input), column p % Q (XS apart) */
#define CONV8_LOOP(R, P, Q, XS)                                                               \
    for (int64_t kh = 0; kh < KH; kh++) {                                                     \
        const float *xr = x + kh * xrow;                                                      \
        const float *wr = w + kh * J * Opad;                                                  \
        for (int64_t j = 0; j < J; j++) {                                                     \
            __m256 wv[R];                                                                     \
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)                               \
                wv[r] = _mm256_loadu_ps(wr + j * Opad + 8 * r);                               \
            _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) {                            \
                const __m256 v = _mm256_broadcast_ss(xr + p / (Q) * x2 + p % (Q) * (XS) + j); \
                _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)                           \
                    acc[p][r] = _mm256_fmadd_ps(v, wv[r], acc[p][r]);                         \
            }                                                                                 \
        }                                                                                     \
    }

typedef void (*conv8_block_fn)(int64_t KH, int64_t J, int64_t xrow, int64_t xstep, int64_t x2,
                               const float *x, const float *w, int64_t Opad, const float *bias,
                               int64_t ov, float *y, int64_t y2, int64_t ys_p, int64_t ys_o);

/* One block: P pixels in rows of Q (x + p/Q*x2 + p%Q*xstep, written at y + p/Q*y2 +
 * p%Q*ys_p) x R registers of 8 channels (w, bias: at the block's first channel; ov: how many
 * of its R*8 channels exist). */
#define CONV8_BLOCK(R, P, Q)                                                                  \
AVX2 static void conv8_block_##R##_##P##_##Q(int64_t KH, int64_t J, int64_t xrow,            \
                                             int64_t xstep, int64_t x2, const float *x,       \
                                             const float *w, int64_t Opad, const float *bias, \
                                             int64_t ov, float *y, int64_t y2, int64_t ys_p,  \
                                             int64_t ys_o)                                    \
{                                                                                             \
    __m256 acc[P][R];                                                                         \
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {                                     \
        const __m256 b = bias ? _mm256_loadu_ps(bias + 8 * r) : _mm256_setzero_ps();          \
        _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) acc[p][r] = b;                   \
    }                                                                                         \
    switch (xstep) {                                                                          \
    case 1: CONV8_LOOP(R, P, Q, 1); break;                                                    \
    case 3: CONV8_LOOP(R, P, Q, 3); break;                                                    \
    case 6: CONV8_LOOP(R, P, Q, 6); break;                                                    \
    case 16: CONV8_LOOP(R, P, Q, 16); break;                                                  \
    case 32: CONV8_LOOP(R, P, Q, 32); break;                                                  \
    case 64: CONV8_LOOP(R, P, Q, 64); break;                                                  \
    case 128: CONV8_LOOP(R, P, Q, 128); break;                                                \
    default: CONV8_LOOP(R, P, Q, xstep);                                                      \
    }                                                                                         \
    if (ys_o == 1) {                                                                          \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {                                 \
            const int64_t left = ov - 8 * r;                                                  \
            _Pragma("GCC unroll 16") for (int p = 0; p < P; p++)                              \
                store8_n(y + p / (Q) * y2 + p % (Q) * ys_p + 8 * r, acc[p][r], left);         \
        }                                                                                     \
    } else if (ys_p == 1) {                                                                   \
        /* 8 pixels x 8 channels transposed: channel i's pixels in m[i], Q of them per row */ \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)                                   \
            _Pragma("GCC unroll 2") for (int g = 0; g < (P + 7) / 8; g++) {                   \
                __m256 m[8];                                                                  \
                _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)                           \
                    m[i] = 8 * g + i < P ? acc[8 * g + i < P ? 8 * g + i : 0][r]              \
                                         : _mm256_setzero_ps();                               \
                ember_transpose8(m);                                                          \
                const int np_ = P - 8 * g < 8 ? P - 8 * g : 8;                                \
                const int64_t left = ov - 8 * r;                                              \
                _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)                           \
                    if (i < left) {                                                           \
                        float *yo = y + (8 * r + i) * ys_o + 8 * g;                           \
                        if ((Q) == (P)) {                                                     \
                            store8_n(yo, m[i], np_);                                          \
                        } else { /* two rows (P <= 8): the second's Q shifted down */         \
                            const __m256i up = _mm256_setr_epi32(Q, Q + 1, Q + 2, Q + 3,     \
                                                                 Q + 4, Q + 5, Q + 6, Q + 7); \
                            store8_n(yo, m[i], Q);                                            \
                            store8_n(yo + y2, _mm256_permutevar8x32_ps(m[i], up), Q);         \
                        }                                                                     \
                    }                                                                         \
            }                                                                                 \
    } else {                                                                                  \
        float t[P][R * 8];                                                                    \
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)                                   \
            _Pragma("GCC unroll 16") for (int p = 0; p < P; p++)                              \
                _mm256_storeu_ps(&t[p][8 * r], acc[p][r]);                                    \
        for (int64_t o = 0; o < ov; o++) {                                                    \
            float *yo = y + o * ys_o;                                                         \
            for (int p = 0; p < P; p++)                                                       \
                yo[p / (Q) * y2 + p % (Q) * ys_p] = t[p][o];                                  \
        }                                                                                     \
    }                                                                                         \
}

/* one-row blocks */
CONV8_BLOCK(1, 1, 1) CONV8_BLOCK(1, 2, 2) CONV8_BLOCK(1, 3, 3) CONV8_BLOCK(1, 4, 4)
CONV8_BLOCK(1, 5, 5) CONV8_BLOCK(1, 6, 6) CONV8_BLOCK(1, 7, 7) CONV8_BLOCK(1, 8, 8)
CONV8_BLOCK(1, 9, 9) CONV8_BLOCK(1, 10, 10) CONV8_BLOCK(1, 11, 11) CONV8_BLOCK(1, 12, 12)
CONV8_BLOCK(2, 1, 1) CONV8_BLOCK(2, 2, 2) CONV8_BLOCK(2, 3, 3) CONV8_BLOCK(2, 4, 4)
CONV8_BLOCK(2, 5, 5) CONV8_BLOCK(2, 6, 6)
/* two-row blocks (R = 2) */
CONV8_BLOCK(2, 2, 1) CONV8_BLOCK(2, 4, 2) CONV8_BLOCK(2, 6, 3)

#define MAX8_P1 12
#define MAX8_P2 6
#define MAX8_Q2 3
static const conv8_block_fn conv8_rows_1[MAX8_P1 + 1] = {
    0, conv8_block_1_1_1, conv8_block_1_2_2, conv8_block_1_3_3, conv8_block_1_4_4,
    conv8_block_1_5_5, conv8_block_1_6_6, conv8_block_1_7_7, conv8_block_1_8_8,
    conv8_block_1_9_9, conv8_block_1_10_10, conv8_block_1_11_11, conv8_block_1_12_12};
static const conv8_block_fn conv8_rows_2[MAX8_P2 + 1] = {
    0, conv8_block_2_1_1, conv8_block_2_2_2, conv8_block_2_3_3, conv8_block_2_4_4,
    conv8_block_2_5_5, conv8_block_2_6_6};
static const conv8_block_fn conv8_pairs_2[MAX8_Q2 + 1] = {
    0, conv8_block_2_2_1, conv8_block_2_4_2, conv8_block_2_6_3};

/* The weights a block reads, KH*J rows of 16 channels Opad apart: at 128 output channels (a
 * 512-byte stride) they fall in an eighth of the L2 cache's sets and no longer stay there
 * between blocks (U-Net's 128 -> 128 layer at 8x8 ran at 55 GFLOP/s, 92 packed). So where
 * Opad > 16 each 16-channel slice is copied, contiguous, to the stack first (up to 96 KB: the
 * yardsticks' largest slice, 128 channels 3x3, is 72 KB; above it, the weights as they are). */
#define PACK8_MAX (24 * 1024)

/* Below this many (kh, j) steps a block is bound by its NCHW stores, not its FMAs: there one
 * register x 12 pixels (8 channel rows of 12 pixels) beats 2 x 6 (16 rows of 6, which at 32
 * and 64 pixel images all fall in one L1 set): 3 -> 16 channels 3x3 at 32x32 1.27x, 1 -> 16
 * at 64x64 1.1x, 6 -> 16 1.1x; about even at 4, slower from 8 (0.94x). */
#define SHALLOW8 64

/* conv_avx512's loops on the 8-channel blocks: two registers (16 channels) while more than 8
 * channels remain and the blocks are deep enough, else one */
AVX2 static void conv_avx2(int64_t n, int64_t Hp, int64_t Wp, int64_t C, const float *xp,
                           int64_t KH, int64_t KW, int64_t O, int64_t Opad, const float *w,
                           const float *bias, int64_t sh, int64_t sw, int64_t OH, int64_t OW,
                           float *y, int64_t ys_n, int64_t ys_p, int64_t ys_o)
{
    const int64_t J = KW * C, xrow = Wp * C, xstep = sw * C;
    const int pack = Opad > 16 && KH * J * 16 <= PACK8_MAX;
    float wb[pack ? KH * J * 16 : 1];
    /* the images inside the channel loop where the weights outweigh an image's input (each
     * slice then packed once per call, and read from L2 by every image) */
    const int64_t per = KH * J * Opad > Hp * xrow ? n : 1;
    for (int64_t i0 = 0; i0 < n; i0 += per)
        for (int64_t o0 = 0; o0 < O; ) {
            const int R = O - o0 > 8 && KH * J >= SHALLOW8 ? 2 : 1;
            const int64_t pmax = R == 2 ? MAX8_P2 : MAX8_P1;
            const conv8_block_fn *rows = R == 2 ? conv8_rows_2 : conv8_rows_1;
            const int64_t ov = O - o0 < 8 * R ? O - o0 : 8 * R;
            const float *wo = w + o0, *bo = bias ? bias + o0 : NULL;
            int64_t wstep = Opad;
            if (pack) {
                for (int64_t k = 0; k < KH * J; k++)
                    for (int r = 0; r < R; r++)
                        _mm256_storeu_ps(wb + 16 * k + 8 * r,
                                         _mm256_loadu_ps(wo + k * Opad + 8 * r));
                wo = wb;
                wstep = 16;
            }
            /* a row's pixels in near-equal blocks of at most pmax; or two rows at once, in
             * blocks of at most MAX8_Q2 per row, where those blocks average more pixels */
            const int64_t nb = (OW + pmax - 1) / pmax, nq = (OW + MAX8_Q2 - 1) / MAX8_Q2;
            const int pairs = R == 2 && 2 * nb > nq;
            for (int64_t i = i0; i < i0 + per; i++) {
                const float *xi = xp + i * Hp * xrow;
                float *yi = y + i * ys_n + o0 * ys_o;
                int64_t oh = 0;
                for (; pairs && oh + 1 < OH; oh += 2) {
                    const float *xr = xi + oh * sh * xrow;
                    int64_t ow = 0;
                    for (int64_t b = 0; b < nq; b++) {
                        const int64_t Q = (OW - ow) / (nq - b);
                        conv8_pairs_2[Q](KH, J, xrow, xstep, sh * xrow, xr + ow * xstep, wo,
                                         wstep, bo, ov, yi + (oh * OW + ow) * ys_p, OW * ys_p,
                                         ys_p, ys_o);
                        ow += Q;
                    }
                }
                for (; oh < OH; oh++) {
                    const float *xr = xi + oh * sh * xrow;
                    int64_t ow = 0;
                    for (int64_t b = 0; b < nb; b++) {
                        const int64_t P = (OW - ow) / (nb - b);
                        rows[P](KH, J, xrow, xstep, 0, xr + ow * xstep, wo, wstep, bo, ov,
                                yi + (oh * OW + ow) * ys_p, 0, ys_p, ys_o);
                        ow += P;
                    }
                }
            }
            o0 += 8 * R;
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
#ifdef EMBER_CONV_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        conv_avx2(n, Hp, Wp, C, xp, KH, KW, O, Opad, w, bias, sh, sw, OH, OW, y, ys_n, ys_p,
                  ys_o);
        return;
    }
#endif
    conv_plain(n, Hp, Wp, C, xp, KH, KW, O, Opad, w, bias, sh, sw, OH, OW, y, ys_n, ys_p, ys_o);
}

void ember_task_conv2d_f32(const int64_t *a)
{
    ember_conv2d_f32(a[0], a[1], a[2], a[3], TASK_P(4), a[5], a[6], a[7], a[8], TASK_P(9),
                     TASK_P(10), a[11], a[12], a[13], a[14], TASK_P(15), a[16], a[17], a[18]);
}

/* The portable path alone (the tests check it against the dispatched one on any machine). */
void ember_conv2d_portable_f32(int64_t n, int64_t Hp, int64_t Wp, int64_t C, const float *xp,
                               int64_t KH, int64_t KW, int64_t O, int64_t Opad, const float *w,
                               const float *bias, int64_t sh, int64_t sw, int64_t OH,
                               int64_t OW, float *y, int64_t ys_n, int64_t ys_p, int64_t ys_o)
{
    conv_plain(n, Hp, Wp, C, xp, KH, KW, O, Opad, w, bias, sh, sw, OH, OW, y, ys_n, ys_p, ys_o);
}
