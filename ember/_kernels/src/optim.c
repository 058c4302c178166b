/* Adam's step for one float32 parameter in one pass (optim/adam.py's _update without
 * amsgrad, and optimizer.py's _adam_moments): the same operations in the same order, each
 * rounded to float32 as its NumPy counterpart rounds it, so that both paths give the same
 * bits. NumPy's version makes twelve passes over the parameter's arrays.
 *
 *   m += (g - m) * w                      (torch's lerp_ toward g, weight w = 1 - beta1 < 0.5)
 *   v = v * beta2 + (g * (1 - beta2)) * g
 *   p += (m * -step_size) / (sqrt(v) / bc2_sqrt + eps)
 *
 * The scalars arrive as float32 (NumPy casts a Python float against a float32 array). */
#include <math.h>

#include "kernels.h"

EMBER_CLONES __attribute__((optimize("no-math-errno")))
void ember_adam_f32(int64_t n, float *p, const float *g, float *m, float *v, float w,
                    float beta2, float one_minus_beta2, float neg_step_size, float bc2_sqrt,
                    float eps)
{
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i];
        float t = gi - m[i];
        t *= w;
        const float mi = m[i] + t;
        m[i] = mi;
        float u = gi * one_minus_beta2;
        u *= gi;
        const float vi = v[i] * beta2 + u;
        v[i] = vi;
        float denom = sqrtf(vi);
        denom /= bc2_sqrt;
        denom += eps;
        float upd = mi * neg_step_size;
        upd /= denom;
        p[i] += upd;
    }
}
