/* The library is loaded with ctypes (ember/_kernels/__init__.py), not imported: it defines no
 * PyInit function, so `import ember._kernels._lib` fails with an ImportError, and building it
 * needs no Python headers. */
#include "kernels.h"

/* The library's version of the calling convention; ember._kernels refuses a stale build. */
int64_t ember_kernels_abi(void) { return 2; }

/* The widest vector path this CPU runs, in float lanes: 16 (AVX-512F), 8 (AVX2 with FMA) or 1.
 * Kernels whose only fast path is a wide one are not worth calling below it (the portable
 * paths of the convolutions are slower than NumPy's BLAS): ember/_ops asks this first. */
int64_t ember_simd_lanes(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 8;
#endif
    return 1;
}

/* A kernel to test the loading and the GIL release: y[i] = a * x[i] + y[i]. */
EMBER_CLONES
void ember_axpy_f32(int64_t n, float a, const float *x, float *y)
{
    for (int64_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

void ember_task_axpy_f32(const int64_t *a)
{
    ember_axpy_f32(a[0], float_of((int32_t)a[1]), TASK_P(2), TASK_P(3));
}
