"""Builds ember's optional compiled kernels (ember/_kernels/src/*.c) into one shared library, and
its compiled graph recorder (ember/_kernels/cgraph.c, a CPython extension on NumPy's C API).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the
install still succeeds and ember runs its NumPy code (`ember._kernels.why_not()` says why), and
its Python recorder.
"""
import glob

from setuptools import Extension, setup

try:    # (pyproject.toml's build requirements include it; a build without them may lack it)
    import numpy
except ImportError:
    numpy = None

extensions = [Extension(
    'ember._kernels._lib',
    sources=sorted(glob.glob('ember/_kernels/src/*.c')),
    depends=sorted(glob.glob('ember/_kernels/src/*.h')),
    # no -ffast-math: NaN and infinity must propagate as NumPy's loops propagate them.
    # -fno-math-errno: nothing reads errno, and with it set a sqrtf is a call (with a branch for
    # errno), which keeps the loop around it scalar (randn's kernel)
    extra_compile_args=['-O3', '-std=c11', '-fno-strict-aliasing', '-fno-math-errno',
                        '-pthread'],
    extra_link_args=['-pthread'],
    libraries=['m'],
    optional=True)]
if numpy is not None:
    # _tensor._wrap, _tensor._alias and autograd.graph._record in C (ember._kernels.cgraph()),
    # and float_op, which calls the library's float loops through NumPy's C API (built against
    # NumPy 2's headers, it loads on NumPy 1.26 too)
    extensions.append(Extension(
        'ember._kernels._cgraph', sources=['ember/_kernels/cgraph.c'],
        include_dirs=[numpy.get_include()], extra_compile_args=['-O2', '-std=c11'],
        optional=True))

setup(ext_modules=extensions)
