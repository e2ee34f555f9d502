#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx512.h"

// GELU, tanh approximation, with the constants of gelu_scalar.c:
// gelu(x) = 0.5 x (1 + tanh(u)), u = 0.7978845608 (x + 0.044715 x^3).
// Since 1 + tanh(u) = 2 / (1 + exp(-2u)), gelu(x) = x / (1 + exp(-2u)): the same
// function without the cancellation of 1 + tanh(u) where x < 0 and gelu is small.
// exp(-2u) is reduced in double: -2u = n ln2 + r, with n whole and |r| <= ln2/2,
// and only r goes to float, for the polynomial. Rounded to one float, -2u = 16.9
// at x = -5 would already cost exp 16 ulp; r's rounding costs it under 0.2.
// For x < -8 (-2u > 49) top and bottom are scaled by 2^-64, so exp(-2u) does
// not overflow while gelu is still a normal or denormal float (down to x = -10.7).
#define C1 (-2.0 * 0.7978845608)
#define C3 (-2.0 * 0.7978845608 * 0.044715)
#define LN2 0.693147180559945309

// -2u (less 64 ln2 where big) = n ln2 + r for 8 floats widened to double
// (exact); clamped first to [-104, 89] as exp512 clamps, NaN passing through
static inline void reduce8(__m256 xf, __mmask8 big, __m256 *r, __m256 *n) {
    __m512d x = _mm512_cvtps_pd(xf);
    __m512d v = _mm512_mul_pd(x, _mm512_fmadd_pd(_mm512_mul_pd(x, x), _mm512_set1_pd(C3), _mm512_set1_pd(C1)));
    v = _mm512_mask_sub_pd(v, big, v, _mm512_set1_pd(64 * LN2));
    v = _mm512_max_pd(_mm512_set1_pd(-104.0), _mm512_min_pd(_mm512_set1_pd(89.0), v));
    __m512d nd = _mm512_roundscale_pd(_mm512_mul_pd(v, _mm512_set1_pd(1 / LN2)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    *r = _mm512_cvtpd_ps(_mm512_fnmadd_pd(nd, _mm512_set1_pd(LN2), v));
    *n = _mm512_cvtpd_ps(nd);
}

static inline __m512 join(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

static inline __m512 gelu16(__m512 x) {
    __mmask16 big = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-8.0f), _CMP_LT_OQ);
    __m256 r0, n0, r1, n1;
    reduce8(_mm512_castps512_ps256(x), (__mmask8)big, &r0, &n0);
    reduce8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)), (__mmask8)(big >> 8), &r1, &n1);
    __m512 e = _mm512_scalef_ps(exp512_poly(join(r0, r1)), join(n0, n1));
    __m512 c = _mm512_mask_blend_ps(big, _mm512_set1_ps(1.0f), _mm512_set1_ps(0x1p-64f));
    return _mm512_div_ps(_mm512_mul_ps(x, c), _mm512_add_ps(c, e));
}

void gelu_f32_avx512(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = gelu16(_mm512_loadu_ps(x + i));
        __m512 b = gelu16(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_ps(out + i, a);
        _mm512_storeu_ps(out + i + 16, b);
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? 0xffff : tail_mask512(n - i);
        _mm512_mask_storeu_ps(out + i, k, gelu16(_mm512_maskz_loadu_ps(k, x + i)));
    }
}
