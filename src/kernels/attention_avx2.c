#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx2.h"

// The vector words of attention_driver.h, eight floats wide.
#define W 8
#define PV_R 4 // the P V tile: 4 by 2 sums in 8 of the 16 ymm registers, 2 for v
#define PV_V 2
typedef __m256 vec;
static inline vec vzero(void) { return _mm256_setzero_ps(); }
static inline vec vset1(float x) { return _mm256_set1_ps(x); }
static inline vec vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vec x) { _mm256_storeu_ps(p, x); }
static inline vec vadd(vec a, vec b) { return _mm256_add_ps(a, b); }
static inline vec vsub(vec a, vec b) { return _mm256_sub_ps(a, b); }
static inline vec vmul(vec a, vec b) { return _mm256_mul_ps(a, b); }
static inline vec vmax(vec a, vec b) { return _mm256_max_ps(a, b); }
static inline vec vfma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline vec vexp(vec x) { return exp256(x); }
static inline vec vload_part(const float *p, int n) { return _mm256_maskload_ps(p, tail_mask256((size_t)n)); }
static inline void vstore_part(float *p, vec x, int n) { _mm256_maskstore_ps(p, tail_mask256((size_t)n), x); }

// r[i][j] -> r[j][i], 8 x 8 in registers: pairs, quads, then 128-bit halves
static inline void transpose8(__m256 r[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++) r[i] = t[i];
}

static void transpose_tile(float *t, const float *x, int rows, int ld, int cols) {
    for (int c0 = 0; c0 < cols; c0 += 8) {
        int nc = cols - c0 < 8 ? cols - c0 : 8;
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows ? vload_part(x + (size_t)i * ld + c0, nc) : vzero();
        transpose8(r);
        for (int i = 0; i < nc; i++) _mm256_store_ps(t + (size_t)(c0 + i) * 8, r[i]);
    }
}

#include "attention_driver.h"

void attention_f32_avx2(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim) {
    attention(out, q, k, v, heads, seq, dim);
}
