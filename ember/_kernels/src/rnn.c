/* One step of an LSTM layer after its recurrent product (ember/_ops/rnn.py, _forward_numpy,
 * whose NumPy statements these are, in order): g holds the rows' gate pre-activations
 * (i, f, g, o, hid each; those of i, f and o already halved, so that sigmoid(a) =
 * tanh(a / 2) / 2 + 1 / 2), c the rows' cell state. The gates' activations go back into g (the
 * backward reads them), the state before the step into cprev, the new state into c, its tanh
 * into tanh_c and the output h = o tanh(c) into both out and h. NumPy's version makes about a
 * dozen passes over arrays of a few thousand floats a step. */
#include "kernels.h"

/* tanh for float32, vectorisable (Cephes' tanhf): x + x^3 P(x^2) below |x| = 0.625, else
 * (1 - e) / (1 + e) with e = exp(-2|x|); within a few ulp. NaN stays NaN, +-inf give +-1. */
static inline __attribute__((always_inline)) float tanh_f32(float x)
{
    const int32_t sign = bits_of(x) & (int32_t)0x80000000;
    const float a = float_of(bits_of(x) & 0x7fffffff);
    const float e = exp_nonpositive(-2.0f * a);
    const float big = (1.0f - e) / (1.0f + e);
    const float s = x * x;
    const float small = ((((-5.70498872745E-3f * s + 2.06390887954E-2f) * s -
                           5.37397155531E-2f) * s + 1.33314422036E-1f) * s -
                         3.33332819422E-1f) * s * a + a;
    return float_of(bits_of(pick(a < 0.625f, small, big)) | sign);
}

/* one row of the step (restrict parameters: the arrays do not overlap, and the loop vectorises) */
static inline __attribute__((always_inline)) void lstm_row(
    int64_t hid, float *restrict gi, float *restrict gf, float *restrict gg, float *restrict go,
    float *restrict c, float *restrict cprev, float *restrict tanh_c, float *restrict out,
    float *restrict h)
{
    for (int64_t j = 0; j < hid; j++) {
        const float i = tanh_f32(gi[j]) * 0.5f + 0.5f;
        const float f = tanh_f32(gf[j]) * 0.5f + 0.5f;
        const float gt = tanh_f32(gg[j]);
        const float o = tanh_f32(go[j]) * 0.5f + 0.5f;
        gi[j] = i;
        gf[j] = f;
        gg[j] = gt;
        go[j] = o;
        const float cj = c[j];
        cprev[j] = cj;
        float cn = f * cj;
        cn += i * gt;
        c[j] = cn;
        const float tc = tanh_f32(cn);
        tanh_c[j] = tc;
        const float hn = o * tc;
        out[j] = hn;
        h[j] = hn;
    }
}

EMBER_CLONES
void ember_lstm_cell_f32(int64_t bs, int64_t hid, float *g, float *c, float *cprev,
                         float *tanh_c, float *out, float *h)
{
    for (int64_t b = 0; b < bs; b++) {
        float *gb = g + b * 4 * hid;
        const int64_t r = b * hid;
        lstm_row(hid, gb, gb + hid, gb + 2 * hid, gb + 3 * hid, c + r, cprev + r, tanh_c + r,
                 out + r, h + r);
    }
}

/* The backward of one LSTM step before its recurrent product (_backward_numpy's statements
 * for a step without a projection, in order, each rounded as NumPy rounds it: the same bits).
 * Rows b < bs of: dh (in: the gradient reaching h from the step after; g_out is the output's),
 * dc (in: the cell state's, out: the state before the step's), the factors k_c, k_o
 * (bs x hid), k_ifg (bs x 3 x hid), gates (bs x 4 x hid, f the second), into dg (bs x 4 x hid,
 * the pre-activations' gradients). */
static inline __attribute__((always_inline)) void lstm_back_row(
    int64_t hid, const float *restrict dh, const float *restrict g_out, float *restrict dc,
    const float *restrict k_c, const float *restrict k_o, const float *restrict k_i,
    const float *restrict k_f, const float *restrict k_g, const float *restrict f,
    float *restrict di, float *restrict df, float *restrict dg, float *restrict d_o)
{
    for (int64_t j = 0; j < hid; j++) {
        const float d = dh[j] + g_out[j];
        float dct = d * k_c[j];
        dct += dc[j];
        d_o[j] = d * k_o[j];
        di[j] = dct * k_i[j];
        df[j] = dct * k_f[j];
        dg[j] = dct * k_g[j];
        dc[j] = dct * f[j];
    }
}

EMBER_CLONES
void ember_lstm_cell_backward_f32(int64_t bs, int64_t hid, const float *dh, const float *g_out,
                                  float *dc, const float *k_c, const float *k_o,
                                  const float *k_ifg, const float *gates, float *dg)
{
    for (int64_t b = 0; b < bs; b++) {
        const int64_t r = b * hid, r3 = 3 * r, r4 = 4 * r;
        lstm_back_row(hid, dh + r, g_out + r, dc + r, k_c + r, k_o + r, k_ifg + r3,
                      k_ifg + r3 + hid, k_ifg + r3 + 2 * hid, gates + r4 + hid, dg + r4,
                      dg + r4 + hid, dg + r4 + 2 * hid, dg + r4 + 3 * hid);
    }
}
