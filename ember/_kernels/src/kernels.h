/* Shared declarations of ember's optional compiled kernels.
 *
 * Each kernel is a plain C function on raw buffers, called through ctypes (which releases the
 * GIL for the call, so that two threads of ember's intra-op splitting run their parts at once).
 * The Python side (ember/_kernels/__init__.py) declares each function's argument types; a
 * kernel never allocates, never calls BLAS and never touches Python objects.
 *
 * Machine-specific code paths are chosen at run time (gcc's target_clones / target attributes
 * with __builtin_cpu_supports), so one build runs on any x86-64 CPU.
 */
#ifndef EMBER_KERNELS_H
#define EMBER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define EMBER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EMBER_CLONES
#endif

#endif
