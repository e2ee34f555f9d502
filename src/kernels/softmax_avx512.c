#include <immintrin.h>
#include <math.h>

#include "../kernels.h"
#include "vmath_avx512.h"

// softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max): the passes over one
// block of x, for softmax_driver.h, which runs them and holds the method.

static float max_f32(const float *x, size_t n) {
    __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
        m2 = _mm512_max_ps(m2, _mm512_loadu_ps(x + i + 32));
        m3 = _mm512_max_ps(m3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i + 16 <= n; i += 16) m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    if (i < n) {
        // lanes past the end load -inf, which cannot win
        __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask512(n - i), x + i);
        m1 = _mm512_max_ps(m1, v);
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

// exp(x - max) with x - max = hi + lo exactly (TwoSum): x - max rounds in
// float, and exp would turn that rounding into up to 20 ulp at |x - max| = 20
static inline __m512 exp_sub(__m512 x, __m512 negmax) {
    __m512 hi = _mm512_add_ps(x, negmax);
    __m512 b = _mm512_sub_ps(hi, x);
    __m512 lo = _mm512_add_ps(_mm512_sub_ps(x, _mm512_sub_ps(hi, b)), _mm512_sub_ps(negmax, b));
    return exp512_hilo(hi, lo);
}

// sum += e, widened to double
static inline __m512d add_lo(__m512d s, __m512 e) {
    return _mm512_add_pd(s, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
}
static inline __m512d add_hi(__m512d s, __m512 e) {
    return _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
}

// out = exp(x - shift); the sum of out, in double
static double exp_pass(float *out, const float *x, size_t n, float shift) {
    __m512 negmax = _mm512_set1_ps(-shift);
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 e0 = exp_sub(_mm512_loadu_ps(x + i), negmax);
        __m512 e1 = exp_sub(_mm512_loadu_ps(x + i + 16), negmax);
        _mm512_storeu_ps(out + i, e0);
        _mm512_storeu_ps(out + i + 16, e1);
        s0 = add_lo(s0, e0);
        s1 = add_hi(s1, e0);
        s2 = add_lo(s2, e1);
        s3 = add_hi(s3, e1);
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? 0xffff : tail_mask512(n - i);
        // lanes past the end load 0 and are zeroed after exp, adding nothing
        __m512 e = _mm512_maskz_mov_ps(k, exp_sub(_mm512_maskz_loadu_ps(k, x + i), negmax));
        _mm512_mask_storeu_ps(out + i, k, e);
        s0 = add_lo(s0, e);
        s1 = add_hi(s1, e);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
}

static void scale_pass(float *out, size_t n, float f) {
    __m512 scale = _mm512_set1_ps(f);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(out + i), scale));
        _mm512_storeu_ps(out + i + 16, _mm512_mul_ps(_mm512_loadu_ps(out + i + 16), scale));
        _mm512_storeu_ps(out + i + 32, _mm512_mul_ps(_mm512_loadu_ps(out + i + 32), scale));
        _mm512_storeu_ps(out + i + 48, _mm512_mul_ps(_mm512_loadu_ps(out + i + 48), scale));
    }
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(out + i), scale));
    }
    if (i < n) {
        __mmask16 k = tail_mask512(n - i);
        _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, out + i), scale));
    }
}

#include "softmax_driver.h"

// A row of at most 16 values, as the driver computes it (the same max, exps,
// sum in double and factor, so the same bits), in one vector and with no
// passes to set up: attention's scores come as many such rows, and there the
// passes' set-up cost more than their work. Rows whose max is
// +-inf or NaN take the driver's way; a NaN the max misses (max_ps keeps one
// operand of a NaN pair) makes the sum, so every output, NaN, as in the driver.
void softmax_f32_avx512(float *out, const float *x, size_t n) {
    if (n == 0 || n > 16) {
        softmax(out, x, n);
        return;
    }
    __mmask16 k = tail_mask512(n);
    __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x);
    float m = _mm512_reduce_max_ps(v);
    if (!(m > -INFINITY && m < INFINITY)) {
        softmax(out, x, n);
        return;
    }
    __m512 e = _mm512_maskz_mov_ps(k, exp_sub(v, _mm512_set1_ps(-m)));
    double sum = _mm512_reduce_add_pd(add_hi(add_lo(_mm512_setzero_pd(), e), e));
    _mm512_mask_storeu_ps(out, k, _mm512_mul_ps(e, _mm512_set1_ps((float)(1.0 / sum))));
}

void softmax_f32_avx512_blocked(float *out, const float *x, size_t n) {
    softmax(out, x, n);
}
