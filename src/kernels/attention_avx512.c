#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx512.h"

// The vector words of attention_driver.h, sixteen floats wide.
#define W 16
#define PV_R 4 // the P V tile: 4 by 4 sums in 16 of the 32 zmm registers, 4 for v
#define PV_V 4
typedef __m512 vec;
static inline vec vzero(void) { return _mm512_setzero_ps(); }
static inline vec vset1(float x) { return _mm512_set1_ps(x); }
static inline vec vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vec x) { _mm512_storeu_ps(p, x); }
static inline vec vadd(vec a, vec b) { return _mm512_add_ps(a, b); }
static inline vec vsub(vec a, vec b) { return _mm512_sub_ps(a, b); }
static inline vec vmul(vec a, vec b) { return _mm512_mul_ps(a, b); }
static inline vec vmax(vec a, vec b) { return _mm512_max_ps(a, b); }
static inline vec vfma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline vec vexp(vec x) { return exp512(x); }
static inline __mmask16 part(int n) { return n >= 16 ? 0xffff : tail_mask512((size_t)n); }
static inline vec vload_part(const float *p, int n) { return _mm512_maskz_loadu_ps(part(n), p); }
static inline void vstore_part(float *p, vec x, int n) { _mm512_mask_storeu_ps(p, part(n), x); }

// r[i][j] -> r[j][i], 16 x 16 in registers: pairs, quads, then 128-bit lanes twice
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

static void transpose_tile(float *t, const float *x, int rows, int ld, int cols) {
    for (int c0 = 0; c0 < cols; c0 += 16) {
        int nc = cols - c0 < 16 ? cols - c0 : 16;
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = i < rows ? vload_part(x + (size_t)i * ld + c0, nc) : vzero();
        transpose16(r);
        for (int i = 0; i < nc; i++) _mm512_store_ps(t + (size_t)(c0 + i) * 16, r[i]);
    }
}

#include "attention_driver.h"

void attention_f32_avx512(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim) {
    attention(out, q, k, v, heads, seq, dim);
}
