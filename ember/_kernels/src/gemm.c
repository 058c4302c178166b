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
typedef void (*sgemm_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float *,
                         int64_t, const float *, int64_t, float, float *, int64_t);
typedef void (*dgemm_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *,
                         int64_t, const double *, int64_t, double, double *, int64_t);

enum { ROW_MAJOR = 101 };

void ember_gemm_f32(int64_t gemm, int64_t local, int64_t ta, int64_t tb, int64_t m, int64_t n,
                    int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                    float *c, int64_t ldc)
{
    if (local)
        ((blas_local_fn)(intptr_t)local)(1);
    ((sgemm_fn)(intptr_t)gemm)(ROW_MAJOR, (int)ta, (int)tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f,
                               c, ldc);
}

void ember_gemm_f64(int64_t gemm, int64_t local, int64_t ta, int64_t tb, int64_t m, int64_t n,
                    int64_t k, const double *a, int64_t lda, const double *b, int64_t ldb,
                    double *c, int64_t ldc)
{
    if (local)
        ((blas_local_fn)(intptr_t)local)(1);
    ((dgemm_fn)(intptr_t)gemm)(ROW_MAJOR, (int)ta, (int)tb, m, n, k, 1.0, a, lda, b, ldb, 0.0,
                               c, ldc);
}

void ember_task_gemm_f32(const int64_t *a)
{
    ember_gemm_f32(a[0], a[1], a[2], a[3], a[4], a[5], a[6], TASK_P(7), a[8], TASK_P(9),
                   a[10], TASK_P(11), a[12]);
}

void ember_task_gemm_f64(const int64_t *a)
{
    ember_gemm_f64(a[0], a[1], a[2], a[3], a[4], a[5], a[6], TASK_P(7), a[8], TASK_P(9),
                   a[10], TASK_P(11), a[12]);
}
