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

#define GEMM_SPLIT_MAX 8

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

/* A product split in `parts` pieces on the kernels' threads (ember_run_parts), in one call from
 * Python, where recording the parts' calls (_kernels.run_deferred) cost ~15 us a product: by
 * rows of C (how 0), by its columns (1), or along k (2), each piece of k then writing its
 * product into `scratch` (parts - 1 matrices m x n, ldc n) but the first, into c; the pieces
 * are then added into c in order, as NumPy's adds did. */
#define GEMM_SPLIT(T, SUF)                                                                    \
void ember_gemm_split_##SUF(int64_t gemm, int64_t local, int64_t ta, int64_t tb, int64_t m,   \
                            int64_t n, int64_t k, const T *a, int64_t lda, const T *b,        \
                            int64_t ldb, T *c, int64_t ldc, int64_t parts, int64_t how,       \
                            T *scratch)                                                       \
{                                                                                             \
    int64_t prog[GEMM_SPLIT_MAX * 15], starts[GEMM_SPLIT_MAX + 1], j = 0;                     \
    if (parts < 1)                                                                            \
        parts = 1;                                                                            \
    if (parts > GEMM_SPLIT_MAX)                                                               \
        parts = GEMM_SPLIT_MAX;                                                               \
    const int64_t len = how == 0 ? m : how == 1 ? n : k;                                      \
    for (int64_t p = 0; p < parts; p++) {                                                     \
        const int64_t lo = len * p / parts, hi = len * (p + 1) / parts;                       \
        int64_t pm = m, pn = n, pk = k, ldp = ldc;                                            \
        const T *pa = a, *pb = b;                                                             \
        T *pc = c;                                                                            \
        if (how == 0) {                                                                       \
            pm = hi - lo;                                                                     \
            pa = a + lo * (ta == 111 ? lda : 1);                                              \
            pc = c + lo * ldc;                                                                \
        } else if (how == 1) {                                                                \
            pn = hi - lo;                                                                     \
            pb = b + lo * (tb == 111 ? 1 : ldb);                                              \
            pc = c + lo;                                                                      \
        } else {                                                                              \
            pk = hi - lo;                                                                     \
            pa = a + lo * (ta == 111 ? 1 : lda);                                              \
            pb = b + lo * (tb == 111 ? ldb : 1);                                              \
            if (p) {                                                                          \
                pc = scratch + (p - 1) * m * n;                                               \
                ldp = n;                                                                      \
            }                                                                                 \
        }                                                                                     \
        const int64_t slots[13] = {gemm, local, ta, tb, pm, pn, pk, (int64_t)(intptr_t)pa,    \
                                   lda, (int64_t)(intptr_t)pb, ldb, (int64_t)(intptr_t)pc,     \
                                   ldp};                                                      \
        starts[p] = j;                                                                        \
        prog[j++] = (int64_t)(intptr_t)ember_task_gemm_##SUF;                                 \
        prog[j++] = 13;                                                                       \
        for (int i = 0; i < 13; i++)                                                          \
            prog[j++] = slots[i];                                                             \
    }                                                                                         \
    starts[parts] = j;                                                                        \
    ember_run_parts(parts, prog, starts);                                                     \
    if (how == 2)                                                                             \
        for (int64_t p = 1; p < parts; p++)                                                   \
            for (int64_t i = 0; i < m; i++) {                                                 \
                const T *s = scratch + (p - 1) * m * n + i * n;                               \
                T *row = c + i * ldc;                                                         \
                for (int64_t q = 0; q < n; q++)                                               \
                    row[q] += s[q];                                                           \
            }                                                                                 \
}

GEMM_SPLIT(float, f32)
GEMM_SPLIT(double, f64)

/* The transposed convolution whose kernel size is its stride (s_h x s_w, no padding, dilation
 * 1, one group: U-Net's 2x2 up-sampling). Each input pixel then spreads over its own s_h x s_w
 * block of the output, so that the convolution of an image is one GEMM, the weights (C_in,
 * C_out s_h s_w) transposed times the image (C_in, H W), whose rows (o, a, b) are then laid out
 * into the blocks: y[o, h s_h + a, w s_w + b] = cols[o, a, b, h, w] + bias[o] (depth to space).
 * Its gradients take the same blocks back apart (space to depth) into the same columns:
 * dx = W cols, dW = x cols^T summed over the images, d(bias) the columns' row sums.
 *
 * Images n at a time; x and gy are read, y and gx written, xs / ys element strides between
 * images (each image's block contiguous); cols is scratch of C_out s_h s_w x H W floats. */
void ember_conv_transpose_block_f32(int64_t gemm, int64_t local, int64_t n, int64_t cin,
                                    int64_t cout, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                    const float *x, int64_t xs, const float *wt,
                                    const float *bias, float *cols, float *y, int64_t ys)
{
    const int64_t hw = h * w, rows = cout * sh * sw;
    if (local)
        ((blas_local_fn)(intptr_t)local)(1);
    for (int64_t i = 0; i < n; i++) {
        ((gemm_f32_fn)(intptr_t)gemm)(ROW_MAJOR, 112, 111, rows, hw, cin, 1.0f, wt, rows,
                                      x + i * xs, hw, 0.0f, cols, hw);
        ember_depth_to_space_f32(1, cout, h, w, sh, sw, cols, bias, y + i * ys);
    }
}

void ember_task_conv_transpose_block_f32(const int64_t *a)
{
    ember_conv_transpose_block_f32(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                                   TASK_P(9), a[10], TASK_P(11), TASK_P(12), TASK_P(13),
                                   TASK_P(14), a[15]);
}

/* cols <- gy's blocks taken apart; the bias gradient's per-channel sums added to gb (or
 * written, first) */
static void space_to_depth(const float *gy, int64_t cout, int64_t h, int64_t w, int64_t sh,
                           int64_t sw, float *cols, float *gb, int first)
{
    const int64_t hw = h * w, wo = w * sw;
    for (int64_t o = 0; o < cout; o++) {
        double sum = 0.0;
        for (int64_t a = 0; a < sh; a++)
            for (int64_t r = 0; r < h; r++) {
                const float *row = gy + (o * h * sh + r * sh + a) * wo;
                float *dst = cols + (o * sh + a) * sw * hw + r * w;
                float part = 0.0f;
                if (sw == 2) {
                    float *d1 = dst + hw;
                    for (int64_t c = 0; c < w; c++) {
                        dst[c] = row[2 * c];
                        d1[c] = row[2 * c + 1];
                    }
                } else {
                    for (int64_t b = 0; b < sw; b++)
                        for (int64_t c = 0; c < w; c++)
                            dst[b * hw + c] = row[c * sw + b];
                }
                for (int64_t c = 0; c < wo; c++)
                    part += row[c];
                sum += part;
            }
        if (gb)
            gb[o] = first ? (float)sum : gb[o] + (float)sum;
    }
}

void ember_conv_transpose_block_backward_f32(int64_t gemm, int64_t local, int64_t n,
                                             int64_t cin, int64_t cout, int64_t h, int64_t w,
                                             int64_t sh, int64_t sw, const float *x, int64_t xs,
                                             const float *wt, const float *gy, int64_t gys,
                                             float *cols, float *gx, float *gw, float *gb)
{
    const int64_t hw = h * w, rows = cout * sh * sw;
    gemm_f32_fn sgemm = (gemm_f32_fn)(intptr_t)gemm;
    if (local)
        ((blas_local_fn)(intptr_t)local)(1);
    for (int64_t i = 0; i < n; i++) {
        space_to_depth(gy + i * gys, cout, h, w, sh, sw, cols, gb, i == 0);
        if (gx)     /* dx (C_in, H W) = W (C_in, rows) cols (rows, H W) */
            sgemm(ROW_MAJOR, 111, 111, cin, hw, rows, 1.0f, wt, rows, cols, hw, 0.0f,
                  gx + i * cin * hw, hw);
        if (gw)     /* dW (C_in, rows) += x (C_in, H W) cols^T */
            sgemm(ROW_MAJOR, 111, 112, cin, rows, hw, 1.0f, x + i * xs, hw, cols, hw,
                  i ? 1.0f : 0.0f, gw, rows);
    }
}

void ember_task_conv_transpose_block_backward_f32(const int64_t *a)
{
    ember_conv_transpose_block_backward_f32(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                                            a[8], TASK_P(9), a[10], TASK_P(11), TASK_P(12),
                                            a[13], TASK_P(14), TASK_P(15), TASK_P(16),
                                            TASK_P(17));
}
