// Vector expf and tanhf for AVX2 + FMA, eight floats at a time.
//
// exp(x): n = round(x / ln2), r = x - n ln2 with ln2 split in two (Cody-Waite,
// each step one FMA), |r| <= ln2/2; exp(r) = 1 + r + r^2 P(r), P of degree 4
// (degree 6 overall), coefficients a minimax fit of the relative error made
// for bmml (Remez in mpmath, then rounded to float); the fit alone is 3.1e-9.
// The result is scaled by 2^n in two exact steps, so denormal results are
// rounded once, as a correctly rounded exp would be. x is clamped to
// [-104, 89] first: exp(-104) rounds to 0 and exp(89) overflows to inf.
// Measured on every float against double exp: worst 1.01 ulp, denormal
// results within 0.75 of the smallest denormal; NaN -> NaN, exp(-inf) = 0.
//
// tanh(x): for |x| < 0.625, x + x^3 Q(x^2), Q of degree 4, minimax for the
// relative error (fit 4.4e-9), so small |x| does not cancel; above it,
// 1 - 2 / (exp(2|x|) + 1), which saturates to 1 as exp overflows. The sign is
// put back last, so -0 stays -0. Measured on every float against double tanh:
// worst 1.34 ulp (just above 0.625, on the exp side); NaN -> NaN.
#ifndef BMML_VMATH_AVX2_H
#define BMML_VMATH_AVX2_H

#include <immintrin.h>
#include <stddef.h>

// lanes [0, rem) set, for the tails: maskload and maskstore never touch the others
static inline __m256i tail_mask256(size_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// 1 + r + r^2 P(r), |r| <= ln2/2
static inline __m256 exp256_poly(__m256 r) {
    __m256 p = _mm256_set1_ps(0x1.6a241ap-10f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.1239f2p-7f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.5558f2p-5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555492p-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.fffffcp-2f));
    // the 1 goes in last, so the roundings before it are small against the result's ulp
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    return _mm256_add_ps(p, _mm256_set1_ps(1.0f));
}

// y * 2^n for n in [-150, 129]: half of n goes into y's exponent, which stays
// normal, and the other half is one multiply, the only rounding
static inline __m256 exp256_scale(__m256 y, __m256 n) {
    __m256i k = _mm256_cvtps_epi32(n);
    __m256i k1 = _mm256_srai_epi32(k, 1);
    __m256i k2 = _mm256_sub_epi32(k, k1);
    y = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y), _mm256_slli_epi32(k1, 23)));
    __m256 s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(y, s);
}

// x clamped to [-104, 89]; x is the second operand so NaN passes through
static inline __m256 exp256_clamp(__m256 x) {
    return _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
}

static inline __m256 exp256_round(__m256 x) {
    return _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(0x1.715476p+0f)),
                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// ln2 = 0x1.62e43p-1 - 0x1.05c61p-29: x - n * high is exact in the first FMA
// (the high part ends 20 bits down and |r| < 1/2), the low part carries the rest
static inline __m256 exp256_reduce(__m256 x, __m256 n) {
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e43p-1f), x);
    return _mm256_fnmadd_ps(n, _mm256_set1_ps(-0x1.05c61p-29f), r);
}

static inline __m256 exp256(__m256 x) {
    x = exp256_clamp(x);
    __m256 n = exp256_round(x);
    return exp256_scale(exp256_poly(exp256_reduce(x, n)), n);
}

// exp(hi + lo) for |lo| <= ulp(hi)/2, e.g. the rounding error of the
// subtraction that made hi: lo joins r after the reduction, where it counts.
// Where hi is clamped (or NaN) lo is dropped, as it may be NaN when hi is inf.
static inline __m256 exp256_hilo(__m256 hi, __m256 lo) {
    __m256 c = exp256_clamp(hi);
    lo = _mm256_and_ps(lo, _mm256_cmp_ps(c, hi, _CMP_EQ_OQ));
    __m256 n = exp256_round(c);
    __m256 r = _mm256_add_ps(exp256_reduce(c, n), lo);
    return exp256_scale(exp256_poly(r), n);
}

static inline __m256 tanh256(__m256 x) {
    __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 s = _mm256_and_ps(x, sign);
    __m256 a = _mm256_andnot_ps(sign, x);
    // small |x|: odd polynomial on |x|
    __m256 z = _mm256_mul_ps(a, a);
    __m256 q = _mm256_set1_ps(-0x1.75e1cep-8f);
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(0x1.52269cp-6f));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-0x1.b83c5ap-5f));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(0x1.110726p-3f));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-0x1.555532p-2f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(a, z), q, a);
    // large |x|: no cancellation, as tanh >= 0.55 here
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp256(_mm256_add_ps(a, a));
    __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    // NaN compares false and takes the large path, which keeps it NaN
    __m256 t = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
    return _mm256_or_ps(t, s);
}

#endif
