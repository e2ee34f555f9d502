#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx2.h"

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

// -2u (less 64 ln2 where x < -8) = n ln2 + r for 4 floats widened to double
// (exact); clamped first to [-104, 89] as exp256 clamps, NaN passing through
static inline void reduce4(__m128 xf, __m128 *r, __m128 *n) {
    __m256d x = _mm256_cvtps_pd(xf);
    __m256d v = _mm256_mul_pd(x, _mm256_fmadd_pd(_mm256_mul_pd(x, x), _mm256_set1_pd(C3), _mm256_set1_pd(C1)));
    __m256d big = _mm256_cmp_pd(x, _mm256_set1_pd(-8.0), _CMP_LT_OQ);
    v = _mm256_sub_pd(v, _mm256_and_pd(big, _mm256_set1_pd(64 * LN2)));
    v = _mm256_max_pd(_mm256_set1_pd(-104.0), _mm256_min_pd(_mm256_set1_pd(89.0), v));
    __m256d nd = _mm256_round_pd(_mm256_mul_pd(v, _mm256_set1_pd(1 / LN2)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    *r = _mm256_cvtpd_ps(_mm256_fnmadd_pd(nd, _mm256_set1_pd(LN2), v));
    *n = _mm256_cvtpd_ps(nd);
}

static inline __m256 gelu8(__m256 x) {
    __m128 r0, n0, r1, n1;
    reduce4(_mm256_castps256_ps128(x), &r0, &n0);
    reduce4(_mm256_extractf128_ps(x, 1), &r1, &n1);
    __m256 e = exp256_scale(exp256_poly(_mm256_set_m128(r1, r0)), _mm256_set_m128(n1, n0));
    __m256 big = _mm256_cmp_ps(x, _mm256_set1_ps(-8.0f), _CMP_LT_OQ);
    __m256 c = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_set1_ps(0x1p-64f), big);
    return _mm256_div_ps(_mm256_mul_ps(x, c), _mm256_add_ps(c, e));
}

void gelu_f32_avx2(float *out, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = gelu8(_mm256_loadu_ps(x + i));
        __m256 b = gelu8(_mm256_loadu_ps(x + i + 8));
        _mm256_storeu_ps(out + i, a);
        _mm256_storeu_ps(out + i + 8, b);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask256(n - i); // all set but in the last block
        _mm256_maskstore_ps(out + i, k, gelu8(_mm256_maskload_ps(x + i, k)));
    }
}
