/* torch's CPU generator (MT19937, ember/_random.py) drawing straight from NumPy's MT19937
 * state: the key (624 words) and the position of the next word, updated in place. The draws
 * are exactly those of NumPy's MT19937 (and so torch's): the twist and the tempering are the
 * standard ones, written as loops gcc vectorises, a 64-bit draw is two words, high word first.
 */
#include "kernels.h"

#define MT_N 624
#define MT_M 397
#define MATRIX_A 0x9908b0dfu
#define UPPER 0x80000000u
#define LOWER 0x7fffffffu

static inline uint32_t twist_one(uint32_t cur, uint32_t next, uint32_t far)
{
    uint32_t y = (cur & UPPER) | (next & LOWER);
    return far ^ (y >> 1) ^ ((0u - (y & 1u)) & MATRIX_A);
}

/* The next 624 words of the state. Split in three loops whose dependencies are at least
 * 227 words apart, so each loop vectorises. */
EMBER_CLONES
static void twist(uint32_t *mt)
{
    for (int i = 0; i < MT_N - MT_M; i++)
        mt[i] = twist_one(mt[i], mt[i + 1], mt[i + MT_M]);
    for (int i = MT_N - MT_M; i < MT_N - 1; i++)
        mt[i] = twist_one(mt[i], mt[i + 1], mt[i + MT_M - MT_N]);
    mt[MT_N - 1] = twist_one(mt[MT_N - 1], mt[0], mt[MT_M - 1]);
}

static inline uint32_t temper(uint32_t y)
{
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

/* The next m tempered words into out. */
EMBER_CLONES
static void words(uint32_t *key, int64_t *pos, uint32_t *out, int64_t m)
{
    int64_t p = *pos, k = 0;
    while (k < m) {
        if (p >= MT_N) {
            twist(key);
            p = 0;
        }
        int64_t c = MT_N - p < m - k ? MT_N - p : m - k;
        for (int64_t j = 0; j < c; j++)
            out[k + j] = temper(key[p + j]);
        p += c;
        k += c;
    }
    *pos = p;
}

#define CHUNK 1024

/* n 64-bit draws (torch's random64()) into out. */
EMBER_CLONES
void ember_mt19937_u64(uint32_t *key, int64_t *pos, int64_t n, uint64_t *out)
{
    uint32_t buf[2 * CHUNK];
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t c = n - i < CHUNK ? n - i : CHUNK;
        words(key, pos, buf, 2 * c);
        for (int64_t j = 0; j < c; j++)
            out[i + j] = (uint64_t)buf[2 * j] << 32 | buf[2 * j + 1];
    }
}

/* n Bernoulli draws as bytes (0/1): a 64-bit draw's low 53 bits below thr (torch's
 * bernoulli_(p) with a double p: u = k 2^-53 < p, i.e. k < ceil(p 2^53) = thr). */
EMBER_CLONES
void ember_mt19937_bernoulli53(uint32_t *key, int64_t *pos, int64_t n, uint64_t thr,
                               uint8_t *out)
{
    uint32_t buf[2 * CHUNK];
    const uint64_t mask = ((uint64_t)1 << 53) - 1;
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t c = n - i < CHUNK ? n - i : CHUNK;
        words(key, pos, buf, 2 * c);
        for (int64_t j = 0; j < c; j++)
            out[i + j] = (((uint64_t)buf[2 * j] << 32 | buf[2 * j + 1]) & mask) < thr;
    }
}
