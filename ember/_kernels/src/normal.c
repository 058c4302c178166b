/* torch's float32 normal_fill_16 (its AVX2 kernel: Box-Muller with avx_mathfun.h's log256_ps
 * and sincos256_ps, as GCC compiles them, fused multiply-adds included), bit for bit: the C of
 * _normal16_f32, _log256 and _sincos256 in ember/_random.py, whose NumPy code is the fallback
 * and documents each step. Every fmaf here is one of those fused multiply-adds; the other
 * products and sums round on their own (setup.py's -std=c11 keeps gcc from contracting them).
 *
 * d holds blocks of 16 uniforms in [0, 1); each block becomes 16 normals in place: with
 * u1 = 1 - d[0:8] and u2 = d[8:16], r = sqrt(-2 log u1), d[0:8] = r cos(2 pi u2) and
 * d[8:16] = r sin(2 pi u2), then mean + std * each (a fused multiply-add) when affine. */
#include <math.h>

#include "kernels.h"

static const float LOG_P[9] = {7.0376836292E-2f, -1.1514610310E-1f, 1.1676998740E-1f,
                               -1.2420140846E-1f, 1.4249322787E-1f, -1.6668057665E-1f,
                               2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f};
#define LOG_Q1 (-2.12194440e-4f)
#define LOG_Q2 0.693359375f
#define SQRTHF 0.707106781186547524f
#define DP1 (-0.78515625f)
#define DP2 (-2.4187564849853515625e-4f)
#define DP3 (-3.77489497744594108e-8f)
#define FOPI 1.27323954473516f

static inline __attribute__((always_inline)) float log256(float x)
{
    /* max(x, FLT_MIN), as maxps gives it (u1 > 0 always); fmaxf's NaN rule kept the loop
     * scalar ("no vectype") */
    x = pick(x > 1.17549435e-38f, x, 1.17549435e-38f);
    const int32_t bits = bits_of(x);
    float e = (float)((bits >> 23) - 126);
    x = float_of((bits & ~0x7F800000) | 0x3F000000);         /* mantissa in [0.5, 1) */
    const int32_t below = -(int32_t)(x < SQRTHF);             /* all ones: e -= 1, x += x */
    e -= float_of(bits_of(1.0f) & below);
    const float tmp = float_of(bits_of(x) & below);
    x -= 1.0f;
    x += tmp;
    const float z = x * x;
    float y = fmaf(LOG_P[0], x, LOG_P[1]);
    for (int k = 2; k < 9; k++)
        y = fmaf(y, x, LOG_P[k]);
    y = y * x;
    y = fmaf(y, z, e * LOG_Q1);
    y -= z * 0.5f;
    x += y;
    x += e * LOG_Q2;
    return x;
}

static inline __attribute__((always_inline)) void sincos256(float x, float *s, float *c)
{
    int32_t j = (int32_t)(x * FOPI);
    j += 1;
    j &= ~1;
    const float y = (float)j;
    x = x + y * DP1;
    x += y * DP2;
    x = fmaf(y, DP3, x);
    const float z = x * x;
    float yc = fmaf(2.443315711809948E-005f, z, -1.388731625493765E-003f);
    yc = fmaf(yc, z, 4.166664568298827E-002f);
    yc = yc * z;
    yc = fmaf(yc, z, -(z * 0.5f));
    yc += 1.0f;
    float ys = fmaf(-1.9515295891E-4f, z, 8.3321608736E-3f);
    ys = fmaf(ys, z, -1.6666654611E-1f);
    ys = ys * z;
    ys = fmaf(ys, x, x);
    /* the polynomial of each octant and the signs, by the vector code's bit masks */
    const uint32_t ysb = (uint32_t)bits_of(ys), ycb = (uint32_t)bits_of(yc);
    const uint32_t keep = (((uint32_t)j & 2u) >> 1) - 1u;
    const uint32_t diff = (ysb ^ ycb) & keep;
    const uint32_t sb = (ycb ^ diff) ^ (((uint32_t)j & 4u) << 29);
    const uint32_t cb = (ysb ^ diff) ^ ((~((uint32_t)j - 2u) & 4u) << 29);
    *s = float_of((int32_t)sb);
    *c = float_of((int32_t)cb);
}

/* (sqrtf is the instruction: setup.py compiles without errno; its argument is never below -0)
 * The loop over k runs as one 8-lane vector per block where the CPU has them. */
EMBER_CLONES
void ember_normal_fill16_f32(int64_t blocks, float *d, float mean, float std, int64_t affine)
{
    const float two_pi = 6.28318530717958647692f;
    for (int64_t b = 0; b < blocks; b++) {
        float *p = d + 16 * b;
        for (int k = 0; k < 8; k++) {
            const float radius = sqrtf(log256(1.0f - p[k]) * -2.0f);
            float s, c;
            sincos256(two_pi * p[8 + k], &s, &c);
            p[k] = c * radius;
            p[8 + k] = s * radius;
        }
        if (affine)
            for (int k = 0; k < 16; k++)
                p[k] = fmaf(p[k], std, mean);
    }
}
