#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx2.h"

// GELU, tanh approximation, with the constants of gelu_scalar.c:
// gelu(x) = 0.5 x (1 + tanh(u)), u = 0.7978845608 (x + 0.044715 x^3).
// Since 1 + tanh(u) = 2 / (1 + exp(-2u)), gelu(x) = x / (1 + exp(-2u)): the same
// function without the cancellation of 1 + tanh(u) where x < 0 and gelu is small.
// -2u is formed in double and split into floats hi + lo for exp: rounded to
// one float, -2u = 16.9 at x = -5 would already cost exp 16 ulp.
// For x < -8 (-2u > 49) top and bottom are scaled by 2^-64, so exp(-2u) does
// not overflow while gelu is still a normal or denormal float (down to x = -10.7).
#define C1 (-2.0 * 0.7978845608)
#define C3 (-2.0 * 0.7978845608 * 0.044715)
#define LN2 0.693147180559945309

// -2u, less 64 ln2 where x < -8; x is a float widened to double (exact)
static inline __m256d minus_2u(__m256d x) {
    __m256d t = _mm256_mul_pd(x, _mm256_fmadd_pd(_mm256_mul_pd(x, x), _mm256_set1_pd(C3), _mm256_set1_pd(C1)));
    __m256d big = _mm256_cmp_pd(x, _mm256_set1_pd(-8.0), _CMP_LT_OQ);
    return _mm256_sub_pd(t, _mm256_and_pd(big, _mm256_set1_pd(64 * LN2)));
}

static inline __m256 gelu8(__m256 x) {
    __m256d a = minus_2u(_mm256_cvtps_pd(_mm256_castps256_ps128(x)));
    __m256d b = minus_2u(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
    __m128 ha = _mm256_cvtpd_ps(a), hb = _mm256_cvtpd_ps(b);
    // exact differences; inf or NaN where hi overflowed, which exp256_hilo drops
    __m128 la = _mm256_cvtpd_ps(_mm256_sub_pd(a, _mm256_cvtps_pd(ha)));
    __m128 lb = _mm256_cvtpd_ps(_mm256_sub_pd(b, _mm256_cvtps_pd(hb)));
    __m256 e = exp256_hilo(_mm256_set_m128(hb, ha), _mm256_set_m128(lb, la));
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
