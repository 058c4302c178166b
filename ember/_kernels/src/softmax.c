/* The backward of softmax along the last axis of a (rows, n) float32 matrix, a row at a time
 * while it is in cache, in one GIL-free call per span of rows (ember/_ops/reduce.py). The
 * forward stays NumPy's: a compiled one (row max, exp, sum, scale) ran at 1.1-1.4 ns per
 * element against NumPy's exp alone at 0.5, about what NumPy's whole forward costs (on an
 * AVX-512 machine). log_softmax and its backward, below, are compiled: on an AVX2 machine
 * NumPy's float32 exp and log take 1.3-1.9 ns per element. */
#include "kernels.h"

/* out = r (g - sum(g r)) per row (the softmax's backward, r its result) */
EMBER_CLONES
void ember_softmax_backward_f32(int64_t rows, int64_t n, const float *g, const float *res,
                                float *out)
{
    for (int64_t i = 0; i < rows; i++) {
        const float *gr = g + i * n, *rr = res + i * n;
        float *o = out + i * n;
        float acc[16] = {0};
        int64_t j = 0;
        for (; j + 16 <= n; j += 16)
            for (int k = 0; k < 16; k++)
                acc[k] += gr[j + k] * rr[j + k];
        float s = 0.0f;
        for (int k = 0; k < 16; k++)
            s += acc[k];
        for (; j < n; j++)
            s += gr[j] * rr[j];
        for (j = 0; j < n; j++)
            o[j] = (gr[j] - s) * rr[j];
    }
}

/* log(v) for v >= 1 (a row's sum of exp(x - max), at least the max's own 1), or NaN / +inf,
 * vectorisable: v = 2^e m with m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s), s = (m - 1) /
 * (m + 1) in [-0.172, 0.172], by its series to s^9 (remainder below 3e-9 relative); ln 2 in
 * two parts. NaN and +inf come back as themselves (their exponent bits are all ones). */
static inline float log_atleast1(float v)
{
    int32_t b = bits_of(v);
    int32_t e = ((b >> 23) & 0xff) - 127;
    float m = float_of((b & 0x007fffff) | 0x3f800000);          /* [1, 2) */
    const int32_t up = -(int32_t)(m > 1.41421356f);             /* all ones: halve m */
    m = float_of((bits_of(m) & ~up) | (bits_of(m * 0.5f) & up));
    e += up & 1;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float p = 2.0f * s * (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 *
                                                                          (1.0f / 9)))));
    float r = (float)e * 0.693145752f + (p + (float)e * 1.42860677e-06f);
    const int32_t special = -(int32_t)(((b >> 23) & 0xff) == 0xff);   /* NaN, +inf */
    return float_of((bits_of(r) & ~special) | (b & special));
}

/* the sum of a row in 16 lanes */
static inline float row_sum(const float *v, int64_t n)
{
    float acc[16] = {0};
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 16; k++)
            acc[k] += v[j + k];
    float s = 0.0f;
    for (int k = 0; k < 16; k++)
        s += acc[k];
    for (; j < n; j++)
        s += v[j];
    return s;
}

/* the max of a row, two 8-lane vectors at a time (GCC's vector extension: each clone gets its
 * widest code, AVX2 here). A value enters where it is greater, so a NaN never does; still it
 * makes the row's sum of exps, so the row, NaN. The same loop over a 16-float array with the
 * bit select (pick) or ?: stayed scalar: 0.8 ns an element against 0.09 */
typedef float ember_v8f __attribute__((vector_size(32)));
typedef int32_t ember_v8i __attribute__((vector_size(32)));

/* m <- a where a > m, lane by lane (a macro: a function taking vectors by value warns about
 * the baseline clone's ABI) */
#define V8_MAX_SKIPPING_NAN(m, a)                                                             \
    do {                                                                                      \
        const ember_v8i c_ = (a) > (m);                                                       \
        (m) = (ember_v8f)(((ember_v8i)(a) & c_) | ((ember_v8i)(m) & ~c_));                    \
    } while (0)

__attribute__((always_inline))
static inline float row_max(const float *v, int64_t n)
{
    float m = v[0];
    int64_t j = 0;
    if (n >= 16) {
        ember_v8f m0, m1, a, b;
        memcpy(&m0, v, sizeof m0);
        memcpy(&m1, v + 8, sizeof m1);
        for (j = 16; j + 16 <= n; j += 16) {
            memcpy(&a, v + j, sizeof a);
            memcpy(&b, v + j + 8, sizeof b);
            V8_MAX_SKIPPING_NAN(m0, a);
            V8_MAX_SKIPPING_NAN(m1, b);
        }
        V8_MAX_SKIPPING_NAN(m0, m1);
        m = m0[0];
        for (int k = 1; k < 8; k++)
            m = m0[k] > m ? m0[k] : m;
    }
    for (; j < n; j++)
        m = v[j] > m ? v[j] : m;
    return m;
}

/* m[c] <- the max over the n rows (inner apart) of columns [0, w), m[c] holding row 0's */
static inline void column_max(const float *x, int64_t n, int64_t inner, int64_t w, float *m)
{
    for (int64_t j = 1; j < n; j++)
        for (int64_t c = 0; c < w; c++) {
            const float v = x[j * inner + c];
            m[c] = pick(v > m[c], v, m[c]);
        }
}

/* softmax (take_log 0) or log_softmax (1) along the middle axis of an (outer, n, inner)
 * float32 array, outer blocks [o0, o1), as torch computes them: e = exp(x - max), then
 * y = e / sum(e) (times the sum's reciprocal) or y = (x - max) - log(sum(e)). With inner == 1
 * (the last axis) a row at a time; else inner columns at a time, in chunks on the stack. The
 * exps go into y first: a plain loop over a row or a chunk vectorises its exp. */
#define LSM_CHUNK 256
__attribute__((always_inline))      /* into each clone below: else its code is the baseline's */
static inline void softmax_blocks(int64_t o0, int64_t o1, int64_t n, int64_t inner,
                                  const float *restrict x, float *restrict y, int take_log)
{
    for (int64_t o = o0; o < o1; o++) {
        const float *xo = x + o * n * inner;
        float *yo = y + o * n * inner;
        if (inner == 1) {
            const float m = row_max(xo, n);
            for (int64_t j = 0; j < n; j++)
                yo[j] = exp_nonpositive(xo[j] - m);
            const float s = row_sum(yo, n);
            if (take_log) {     /* (x - max) - log(sum): max + log(sum) would round away
                                 * a small log next to a large max */
                const float ls = log_atleast1(s);
                for (int64_t j = 0; j < n; j++)
                    yo[j] = (xo[j] - m) - ls;
            } else {
                const float r = 1.0f / s;
                for (int64_t j = 0; j < n; j++)
                    yo[j] *= r;
            }
            continue;
        }
        for (int64_t c0 = 0; c0 < inner; c0 += LSM_CHUNK) {
            const int64_t w = inner - c0 < LSM_CHUNK ? inner - c0 : LSM_CHUNK;
            float m[LSM_CHUNK], s[LSM_CHUNK];
            for (int64_t c = 0; c < w; c++) {
                m[c] = xo[c0 + c];
                s[c] = 0.0f;
            }
            column_max(xo + c0, n, inner, w, m);
            for (int64_t j = 0; j < n; j++) {
                const float *xj = xo + j * inner + c0;
                float *yj = yo + j * inner + c0;
                for (int64_t c = 0; c < w; c++) {
                    yj[c] = exp_nonpositive(xj[c] - m[c]);
                    s[c] += yj[c];
                }
            }
            for (int64_t c = 0; c < w; c++)     /* the sum's log, or its reciprocal */
                s[c] = take_log ? log_atleast1(s[c]) : 1.0f / s[c];
            for (int64_t j = 0; j < n; j++) {
                const float *xj = xo + j * inner + c0;
                float *yj = yo + j * inner + c0;
                for (int64_t c = 0; c < w; c++)
                    yj[c] = take_log ? (xj[c] - m[c]) - s[c] : yj[c] * s[c];
            }
        }
    }
}

EMBER_CLONES
void ember_log_softmax_f32(int64_t o0, int64_t o1, int64_t n, int64_t inner,
                           const float *restrict x, float *restrict y)
{
    softmax_blocks(o0, o1, n, inner, x, y, 1);
}

EMBER_CLONES
void ember_softmax_f32(int64_t o0, int64_t o1, int64_t n, int64_t inner,
                       const float *restrict x, float *restrict y)
{
    softmax_blocks(o0, o1, n, inner, x, y, 0);
}

/* its backward: out = g - exp(y) sum_n(g), y the forward's result (<= 0) */
EMBER_CLONES
void ember_log_softmax_backward_f32(int64_t o0, int64_t o1, int64_t n, int64_t inner,
                                    const float *g, const float *y, float *out)
{
    for (int64_t o = o0; o < o1; o++) {
        const int64_t base = o * n * inner;
        const float *go = g + base, *yo = y + base;
        float *oo = out + base;
        if (inner == 1) {       /* a row: its sum in 16 lanes, then the row */
            const float s = row_sum(go, n);
            for (int64_t j = 0; j < n; j++)     /* (a NaN result stays NaN) */
                oo[j] = go[j] - exp_nonpositive(pick(yo[j] > 0.0f, 0.0f, yo[j])) * s;
            continue;
        }
        for (int64_t c0 = 0; c0 < inner; c0 += LSM_CHUNK) {
            const int64_t w = inner - c0 < LSM_CHUNK ? inner - c0 : LSM_CHUNK;
            float s[LSM_CHUNK];
            for (int64_t c = 0; c < w; c++)
                s[c] = 0.0f;
            for (int64_t j = 0; j < n; j++)
                for (int64_t c = 0; c < w; c++)
                    s[c] += go[j * inner + c0 + c];
            for (int64_t j = 0; j < n; j++) {
                const float *gj = go + j * inner + c0, *yj = yo + j * inner + c0;
                float *oj = oo + j * inner + c0;
                for (int64_t c = 0; c < w; c++)
                    oj[c] = gj[c] - exp_nonpositive(pick(yj[c] > 0.0f, 0.0f, yj[c])) * s[c];
            }
        }
    }
}
