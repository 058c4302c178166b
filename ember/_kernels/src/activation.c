/* Activations in one pass: each is the NumPy code beside its call in ember/_ops/activation.py,
 * the same formula element by element, without its ~25 array passes per block. */
#include "kernels.h"

/* GELU of float32 x[0:n] into out (and its derivative into deriv when want_deriv), with
 * Abramowitz & Stegun 7.1.26 for Phi(-|x|) = u Q(u) exp(-x^2 / 2), u = 1 / (C + |x|): the
 * coefficients q1..q5 and C come from activation.py (_AS_Q, _AS_C) so both paths agree.
 * want_deriv is a constant in each caller below: a test of deriv inside the loop is control
 * flow that AVX2 cannot if-convert (a conditional store), and the loop stayed scalar there. */
static inline __attribute__((always_inline)) void gelu_loop(
    int64_t n, const float *x, float *out, float *deriv, int want_deriv, float c, float q1,
    float q2, float q3, float q4, float q5)
{
    const float inv_sqrt_2pi = 0.398942280401432678f;
    for (int64_t i = 0; i < n; i++) {
        float xv = x[i];
        int32_t sign = bits_of(xv) & (int32_t)0x80000000;
        float a = float_of(bits_of(xv) & 0x7fffffff);     /* |x| */
        float u = 1.0f / (a + c);
        float e = exp_nonpositive((xv * xv) * -0.5f);
        float h = ((((u * q5 + q4) * u + q3) * u + q2) * u + q1) * u * e;
        if (want_deriv) {
            float d = float_of(bits_of(0.5f - h) | sign) + 0.5f;
            deriv[i] = d + (e * xv) * inv_sqrt_2pi;
        }
        float o = (xv + a) * 0.5f - a * h;
        out[i] = float_of(bits_of(o) | sign);
    }
}

EMBER_CLONES
void ember_gelu_f32(int64_t n, const float *x, float *out, float *deriv,
                    float c, float q1, float q2, float q3, float q4, float q5)
{
    if (deriv)
        gelu_loop(n, x, out, deriv, 1, c, q1, q2, q3, q4, q5);
    else
        gelu_loop(n, x, out, deriv, 0, c, q1, q2, q3, q4, q5);
}

/* The logistic sigmoid of float32 x[0:n] into y: with e = exp(-|x|), 1 / (1 + e) for x >= 0
 * and e / (1 + e) below (no overflow either way), as _np_sigmoid in elementwise.py computes
 * it in about eight NumPy passes. A NaN stays NaN; +-inf give 1 and 0. */
EMBER_CLONES
void ember_sigmoid_f32(int64_t n, const float *x, float *y)
{
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        const float e = exp_nonpositive(float_of(bits_of(v) | (int32_t)0x80000000));
        const float r = 1.0f / (1.0f + e);
        y[i] = pick(v >= 0.0f, r, e * r);
    }
}

void ember_task_sigmoid_f32(const int64_t *a) { ember_sigmoid_f32(a[0], TASK_P(1), TASK_P(2)); }

/* ReLU as torch computes it, x < 0 ? 0 : x (a NaN passes, -0.0 stays -0.0), and its gradient
 * from the saved output, r <= 0 ? +0.0 : g (a NaN output passes its gradient). In place when
 * the pointers are equal. NumPy's maximum against a scalar zero runs 3x slower than against
 * an array (no broadcast SIMD loop), and the gradient's select takes four passes. */
#define RELU_KERNELS(T, SUF)                                                                  \
EMBER_CLONES                                                                                  \
void ember_relu_##SUF(int64_t n, const T *x, T *y)                                            \
{                                                                                             \
    for (int64_t i = 0; i < n; i++)                                                           \
        y[i] = x[i] < 0 ? (T)0 : x[i];                                                        \
}                                                                                             \
                                                                                              \
EMBER_CLONES                                                                                  \
void ember_relu_backward_##SUF(int64_t n, const T *g, const T *r, T *out)                     \
{                                                                                             \
    for (int64_t i = 0; i < n; i++)                                                           \
        out[i] = r[i] <= 0 ? (T)0 : g[i];                                                     \
}                                                                                             \
                                                                                              \
void ember_task_relu_##SUF(const int64_t *a) { ember_relu_##SUF(a[0], TASK_P(1), TASK_P(2)); } \
                                                                                              \
void ember_task_relu_backward_##SUF(const int64_t *a)                                         \
{                                                                                             \
    ember_relu_backward_##SUF(a[0], TASK_P(1), TASK_P(2), TASK_P(3));                         \
}                                                                                             \
                                                                                              \
int64_t ember_relu_split_##SUF(int64_t n, const T *x, T *y, int64_t parts)                    \
{                                                                                             \
    void *const p[2] = {(void *)x, y};                                                        \
    const int64_t e[2] = {sizeof(T), sizeof(T)};                                              \
    return ember_split_run(ember_task_relu_##SUF, n, 2, p, e, parts);                         \
}                                                                                             \
                                                                                              \
int64_t ember_relu_backward_split_##SUF(int64_t n, const T *g, const T *r, T *out,            \
                                        int64_t parts)                                        \
{                                                                                             \
    void *const p[3] = {(void *)g, (void *)r, out};                                           \
    const int64_t e[3] = {sizeof(T), sizeof(T), sizeof(T)};                                   \
    return ember_split_run(ember_task_relu_backward_##SUF, n, 3, p, e, parts);                \
}

RELU_KERNELS(float, f32)
RELU_KERNELS(double, f64)

/* leaky_relu's gradient, x > 0 ? g : g * slope (torch's; a NaN x takes the slope), in one
 * pass where np.where's took 0.56 ms for 131K floats. A bit select (pick): with ?: gcc kept
 * a branch, mispredicted half the time on random signs (0.69 ms). */
#define LEAKY_BACKWARD(T, SUF, PICK)                                                          \
EMBER_CLONES                                                                                  \
void ember_leaky_relu_backward_##SUF(int64_t n, const T *restrict g, const T *restrict x,   \
                                     T slope, T *restrict out)                                \
{                                                                                             \
    for (int64_t i = 0; i < n; i++)                                                           \
        out[i] = PICK(x[i] > 0, g[i], g[i] * slope);                                          \
}

LEAKY_BACKWARD(float, f32, pick)
LEAKY_BACKWARD(double, f64, pick_d)
