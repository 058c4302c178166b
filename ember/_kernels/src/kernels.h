/* Shared declarations of ember's optional compiled kernels.
 *
 * Each kernel is a plain C function on raw buffers, called through ctypes (which releases the
 * GIL for the call, so that two threads of ember's intra-op splitting run their parts at once).
 * The Python side (ember/_kernels/__init__.py) declares each function's argument types; a
 * kernel never allocates, never calls BLAS (gemm.c, the one exception, calls NumPy's own through
 * the address ember passes) and never touches Python objects.
 *
 * Machine-specific code paths are chosen at run time (gcc's target_clones / target attributes
 * with __builtin_cpu_supports), so one build runs on any x86-64 CPU.
 */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define EMBER_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define EMBER_CLONES
#endif

static inline int32_t bits_of(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
static inline float float_of(int32_t i) { float f; memcpy(&f, &i, 4); return f; }

/* A kernel's task form, for the parts of a split run by ember_run_parts (threads.c): its
 * arguments come as 64-bit slots a[0], a[1], ... (integers as they are, pointers as addresses,
 * a float's bits in the low half); TASK_P(i) is slot i as a pointer. */
typedef void (*ember_task_fn)(const int64_t *a);
#define TASK_P(i) ((void *)(intptr_t)a[i])

/* Elementwise kernels split over the pool's threads (ember_split_run, threads.c): a piece
 * holds at least SPLIT_GRAIN elements (torch splits its elementwise loops from 32768 up), a
 * split has at most SPLIT_MAX pieces and a task at most SPLIT_MAX_PTRS addresses. */
#define SPLIT_GRAIN 16384
#define SPLIT_MAX 8
#define SPLIT_MAX_PTRS 4
int64_t ember_split_run(ember_task_fn task, int64_t n, int64_t nptr, void *const *ptrs,
                        const int64_t *esz, int64_t parts);
int64_t ember_run_parts(int64_t parts, const int64_t *prog, const int64_t *starts);
/* whether `parts - 1` of the pool's threads spin (a split's pieces start on them at once);
 * if not, they are woken (or started) to spin for the next call */
int ember_pool_awake(int64_t parts);

/* a if c else b, as a bit select: ?: in a loop is control flow that gcc vectorises for
 * AVX-512 (masks) but not for AVX2 */
static inline float pick(int c, float a, float b)
{
    const int32_t k = -(int32_t)c;
    return float_of((bits_of(a) & k) | (bits_of(b) & ~k));
}

/* pick for doubles */
static inline double pick_d(int c, double a, double b)
{
    const int64_t k = -(int64_t)c;
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    ia = (ia & k) | (ib & ~k);
    memcpy(&a, &ia, 8);
    return a;
}

/* layout.c, also called from gemm.c */
void ember_depth_to_space_f32(int64_t n, int64_t C, int64_t H, int64_t W, int64_t sh,
                              int64_t sw, const float *cols, const float *bias, float *y);

/* exp(t) for t <= 0 (or NaN), within ~1 ulp, vectorisable: t = k ln2 + r with |r| <= ln2 / 2,
 * exp(r) by its Taylor series to r^7 (remainder below 1e-8 relative), 2^k from the exponent
 * bits. 2^k is built as 2^(k + 64) 2^-64 so that results below 2^-126 round to subnormals as
 * NumPy's exp does; below -104, where exp rounds to zero in float32, it is exactly zero. */
static inline float exp_nonpositive(float t)
{
    const float big = 12582912.0f;                  /* 1.5 * 2^23: adding it rounds to int */
    /* the two selects by bit masks: as ?: they are control flow that gcc if-converts for
     * AVX-512 (masks) but not for AVX2, where the whole loop then stayed scalar */
    const int32_t low = -(int32_t)(t < -104.0f);    /* all ones below -104, else 0 */
    float tc = float_of((bits_of(t) & ~low) | (bits_of(-104.0f) & low));
    float k = (tc * 1.44269504088896341f + big) - big;
    float r = (tc - k * 0.693359375f) - k * -2.12194440e-4f;    /* ln 2 in two parts */
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (
        1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
    float scale = float_of(((int32_t)k + 127 + 64) << 23);
    float e = (p * scale) * 0x1p-64f;
    return float_of(bits_of(e) & ~low);
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

/* m[i][j] <- m[j][i]: an 8x8 block of floats transposed in registers (AVX2; the conv, weight
 * gradient and layout kernels all transpose 8 channels x 8 pixels this way) */
__attribute__((target("avx2"), always_inline)) static inline void ember_transpose8(__m256 *m)
{
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(m[i], m[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(m[i], m[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        m[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        m[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        m[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        m[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(m[i], m[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(m[i], m[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++)
        m[i] = t[i];
}
#endif

#endif
