/* A GEMM part of a split product of matrices, on the kernels' threads (threads.c).
 *
 * ember's own code never calls BLAS from C, except here: this shim calls the cblas GEMM of the
 * OpenBLAS NumPy loaded, at the address ember found in it (_threads._cblas), so that the
 * parts of a split product run on the library's threads with no GIL between them. Each part
 * first holds its BLAS calls to its own thread (openblas_set_num_threads_local, also found
 * there): OpenBLAS's pool would otherwise wake and spin on the core of the other part.
 *
 * C = A B, row-major, A m x k and B k x n, each stored as it is (trans 111) or transposed
 * (112), with leading dimensions in elements; the 64-bit-integer cblas interface (NumPy's
 * scipy-openblas64 names it scipy_cblas_sgemm64_).
 */
#include "kernels.h"

typedef int (*blas_local_fn)(int);

enum { ROW_MAJOR = 101 };

/* ember_gemm_<SUF> and its task form, for T (float or double) */
#define GEMM_SHIM(T, SUF)                                                                     \
typedef void (*gemm_##SUF##_fn)(int, int, int, int64_t, int64_t, int64_t, T, const T *,      \
                                int64_t, const T *, int64_t, T, T *, int64_t);                \
                                                                                              \
void ember_gemm_##SUF(int64_t gemm, int64_t local, int64_t ta, int64_t tb, int64_t m,         \
                      int64_t n, int64_t k, const T *a, int64_t lda, const T *b, int64_t ldb, \
                      T *c, int64_t ldc)                                                      \
{                                                                                             \
    if (local)                                                                                \
        ((blas_local_fn)(intptr_t)local)(1);                                                  \
    ((gemm_##SUF##_fn)(intptr_t)gemm)(ROW_MAJOR, (int)ta, (int)tb, m, n, k, (T)1, a, lda, b,  \
                                      ldb, (T)0, c, ldc);                                     \
}                                                                                             \
                                                                                              \
void ember_task_gemm_##SUF(const int64_t *a)                                                  \
{                                                                                             \
    ember_gemm_##SUF(a[0], a[1], a[2], a[3], a[4], a[5], a[6], TASK_P(7), a[8], TASK_P(9),    \
                     a[10], TASK_P(11), a[12]);                                               \
}

GEMM_SHIM(float, f32)
GEMM_SHIM(double, f64)
