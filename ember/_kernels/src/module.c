/* The library is loaded with ctypes, not imported: the module init function only says so. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kernels.h"

PyMODINIT_FUNC PyInit__lib(void)
{
    PyErr_SetString(PyExc_ImportError,
                    "ember._kernels._lib is loaded through ctypes by ember._kernels");
    return NULL;
}

/* The library's version of the calling convention; ember._kernels refuses a stale build. */
int64_t ember_kernels_abi(void) { return 1; }

/* A kernel to test the loading and the GIL release: y[i] = a * x[i] + y[i]. */
EMBER_CLONES
void ember_axpy_f32(int64_t n, float a, const float *x, float *y)
{
    for (int64_t i = 0; i < n; i++)
        y[i] += a * x[i];
}
