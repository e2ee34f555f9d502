// Vector expf and tanhf for AVX-512F, sixteen floats at a time.
// The method and coefficients are those of vmath_avx2.h:
//
// exp(x): n = round(x / ln2), r = x - n ln2 with ln2 split in two (Cody-Waite,
// each step one FMA), |r| <= ln2/2; exp(r) = 1 + r + r^2 P(r), P of degree 4
// (degree 6 overall), coefficients a minimax fit of the relative error made
// for bmml (Remez in mpmath, then rounded to float); the fit alone is 3.1e-9.
// vscalefps multiplies by 2^n with one rounding, denormal results included.
// x is clamped to [-104, 89] first: exp(-104) rounds to 0, exp(89) to inf.
// Measured on every float against double exp: worst 1.01 ulp, denormal
// results within 0.75 of the smallest denormal; NaN -> NaN, exp(-inf) = 0.
//
// tanh(x): for |x| < 0.625, x + x^3 Q(x^2), Q of degree 4, minimax for the
// relative error (fit 4.4e-9), so small |x| does not cancel; above it,
// 1 - 2 / (exp(2|x|) + 1), which saturates to 1 as exp overflows. The sign is
// put back last, so -0 stays -0. Measured on every float against double tanh:
// worst 1.34 ulp (just above 0.625, on the exp side); NaN -> NaN.
//
// Only AVX-512F: the float and/or/andnot of AVX-512DQ are done on integers.
#ifndef BMML_VMATH_AVX512_H
#define BMML_VMATH_AVX512_H

#include <immintrin.h>
#include <stddef.h>

// lanes [0, rem) set, rem < 16, for the tails: masked loads and stores never touch the others
static inline __mmask16 tail_mask512(size_t rem) {
    return (__mmask16)((1u << rem) - 1);
}

// 1 + r + r^2 P(r), |r| <= ln2/2
static inline __m512 exp512_poly(__m512 r) {
    __m512 p = _mm512_set1_ps(0x1.6a241ap-10f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.1239f2p-7f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.5558f2p-5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.555492p-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.fffffcp-2f));
    // the 1 goes in last, so the roundings before it are small against the result's ulp
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    return _mm512_add_ps(p, _mm512_set1_ps(1.0f));
}

// x clamped to [-104, 89]; x is the second operand so NaN passes through
static inline __m512 exp512_clamp(__m512 x) {
    return _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x));
}

static inline __m512 exp512_round(__m512 x) {
    return _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p+0f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// ln2 = 0x1.62e43p-1 - 0x1.05c61p-29: x - n * high is exact in the first FMA
// (the high part ends 20 bits down and |r| < 1/2), the low part carries the rest
static inline __m512 exp512_reduce(__m512 x, __m512 n) {
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e43p-1f), x);
    return _mm512_fnmadd_ps(n, _mm512_set1_ps(-0x1.05c61p-29f), r);
}

static inline __m512 exp512(__m512 x) {
    x = exp512_clamp(x);
    __m512 n = exp512_round(x);
    return _mm512_scalef_ps(exp512_poly(exp512_reduce(x, n)), n);
}

// exp(hi + lo) for |lo| <= ulp(hi)/2, e.g. the rounding error of the
// subtraction that made hi: lo joins r after the reduction, where it counts.
// Where hi is clamped (or NaN) lo is dropped, as it may be NaN when hi is inf.
static inline __m512 exp512_hilo(__m512 hi, __m512 lo) {
    __m512 c = exp512_clamp(hi);
    __mmask16 keep = _mm512_cmp_ps_mask(c, hi, _CMP_EQ_OQ);
    __m512 n = exp512_round(c);
    __m512 r = exp512_reduce(c, n);
    r = _mm512_mask_add_ps(r, keep, r, lo);
    return _mm512_scalef_ps(exp512_poly(r), n);
}

static inline __m512 tanh512(__m512 x) {
    __m512i bits = _mm512_castps_si512(x);
    __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    __m512 a = _mm512_castsi512_ps(_mm512_andnot_si512(sign, bits));
    // small |x|: odd polynomial on |x|
    __m512 z = _mm512_mul_ps(a, a);
    __m512 q = _mm512_set1_ps(-0x1.75e1cep-8f);
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(0x1.52269cp-6f));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(-0x1.b83c5ap-5f));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(0x1.110726p-3f));
    q = _mm512_fmadd_ps(q, z, _mm512_set1_ps(-0x1.555532p-2f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(a, z), q, a);
    // large |x|: no cancellation, as tanh >= 0.55 here
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = exp512(_mm512_add_ps(a, a));
    __m512 large = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
    // NaN compares false and takes the large path, which keeps it NaN
    __mmask16 lt = _mm512_cmp_ps_mask(a, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
    __m512 t = _mm512_mask_blend_ps(lt, large, small);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t), _mm512_and_si512(bits, sign)));
}

#endif
