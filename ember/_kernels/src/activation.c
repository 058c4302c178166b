/* Activations in one pass: each is the NumPy code beside its call in ember/_ops/activation.py,
 * the same formula element by element, without its ~25 array passes per block. */
#include <string.h>

#include "kernels.h"

static inline int32_t bits_of(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
static inline float float_of(int32_t i) { float f; memcpy(&f, &i, 4); return f; }

/* exp(t) for t <= 0 (or NaN), within ~1 ulp, vectorisable: t = k ln2 + r with |r| <= ln2 / 2,
 * exp(r) by its Taylor series to r^7 (remainder below 1e-8 relative), 2^k from the exponent
 * bits. 2^k is built as 2^(k + 64) 2^-64 so that results below 2^-126 round to subnormals as
 * NumPy's exp does; below -104, where exp rounds to zero in float32, it is exactly zero. */
static inline float exp_nonpositive(float t)
{
    const float big = 12582912.0f;                  /* 1.5 * 2^23: adding it rounds to int */
    float tc = t < -104.0f ? -104.0f : t;
    float k = (tc * 1.44269504088896341f + big) - big;
    float r = (tc - k * 0.693359375f) - k * -2.12194440e-4f;    /* ln 2 in two parts */
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (
        1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
    float scale = float_of(((int32_t)k + 127 + 64) << 23);
    float e = (p * scale) * 0x1p-64f;
    return t < -104.0f ? 0.0f : e;
}

/* GELU of float32 x[0:n] into out (and its derivative into deriv unless NULL), with
 * Abramowitz & Stegun 7.1.26 for Phi(-|x|) = u Q(u) exp(-x^2 / 2), u = 1 / (C + |x|): the
 * coefficients q1..q5 and C come from activation.py (_AS_Q, _AS_C) so both paths agree. */
EMBER_CLONES
void ember_gelu_f32(int64_t n, const float *x, float *out, float *deriv,
                    float c, float q1, float q2, float q3, float q4, float q5)
{
    const float inv_sqrt_2pi = 0.398942280401432678f;
    for (int64_t i = 0; i < n; i++) {
        float xv = x[i];
        int32_t sign = bits_of(xv) & (int32_t)0x80000000;
        float a = float_of(bits_of(xv) & 0x7fffffff);     /* |x| */
        float u = 1.0f / (a + c);
        float e = exp_nonpositive((xv * xv) * -0.5f);
        float h = ((((u * q5 + q4) * u + q3) * u + q2) * u + q1) * u * e;
        if (deriv) {
            float d = float_of(bits_of(0.5f - h) | sign) + 0.5f;
            deriv[i] = d + (e * xv) * inv_sqrt_2pi;
        }
        float o = (xv + a) * 0.5f - a * h;
        out[i] = float_of(bits_of(o) | sign);
    }
}
