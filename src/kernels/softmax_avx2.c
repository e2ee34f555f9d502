#include <immintrin.h>
#include <math.h>

#include "../kernels.h"
#include "vmath_avx2.h"

// softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max): the passes over one
// block of x, for softmax_driver.h, which runs them and holds the method.

static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline double hsum256d(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static float max_f32(const float *x, size_t n) {
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
        m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
        m2 = _mm256_max_ps(m2, _mm256_loadu_ps(x + i + 16));
        m3 = _mm256_max_ps(m3, _mm256_loadu_ps(x + i + 24));
    }
    for (; i + 8 <= n; i += 8) m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
    if (i < n) {
        // lanes past the end must not win: -inf, not the zeros maskload gives
        __m256i k = tail_mask256(n - i);
        __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(x + i, k),
                                    _mm256_castsi256_ps(k));
        m1 = _mm256_max_ps(m1, v);
    }
    return hmax256(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
}

// exp(x - max) with x - max = hi + lo exactly (TwoSum): x - max rounds in
// float, and exp would turn that rounding into up to 20 ulp at |x - max| = 20
static inline __m256 exp_sub(__m256 x, __m256 negmax) {
    __m256 hi = _mm256_add_ps(x, negmax);
    __m256 b = _mm256_sub_ps(hi, x);
    __m256 lo = _mm256_add_ps(_mm256_sub_ps(x, _mm256_sub_ps(hi, b)), _mm256_sub_ps(negmax, b));
    return exp256_hilo(hi, lo);
}

// sum += e, widened to double
static inline __m256d add_wide(__m256d s, __m256 e, int half) {
    __m128 h = half ? _mm256_extractf128_ps(e, 1) : _mm256_castps256_ps128(e);
    return _mm256_add_pd(s, _mm256_cvtps_pd(h));
}

// out = exp(x - shift); the sum of out, in double
static double exp_pass(float *out, const float *x, size_t n, float shift) {
    __m256 negmax = _mm256_set1_ps(-shift);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 e0 = exp_sub(_mm256_loadu_ps(x + i), negmax);
        __m256 e1 = exp_sub(_mm256_loadu_ps(x + i + 8), negmax);
        _mm256_storeu_ps(out + i, e0);
        _mm256_storeu_ps(out + i + 8, e1);
        s0 = add_wide(s0, e0, 0);
        s1 = add_wide(s1, e0, 1);
        s2 = add_wide(s2, e1, 0);
        s3 = add_wide(s3, e1, 1);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask256(n - i); // all set but in the last block
        __m256 e = exp_sub(_mm256_maskload_ps(x + i, k), negmax);
        e = _mm256_and_ps(e, _mm256_castsi256_ps(k)); // lanes past the end add nothing
        _mm256_maskstore_ps(out + i, k, e);
        s0 = add_wide(s0, e, 0);
        s1 = add_wide(s1, e, 1);
    }
    return hsum256d(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
}

static void scale_pass(float *out, size_t n, float f) {
    __m256 scale = _mm256_set1_ps(f);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(out + i), scale));
        _mm256_storeu_ps(out + i + 8, _mm256_mul_ps(_mm256_loadu_ps(out + i + 8), scale));
        _mm256_storeu_ps(out + i + 16, _mm256_mul_ps(_mm256_loadu_ps(out + i + 16), scale));
        _mm256_storeu_ps(out + i + 24, _mm256_mul_ps(_mm256_loadu_ps(out + i + 24), scale));
    }
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(out + i), scale));
    }
    if (i < n) {
        __m256i k = tail_mask256(n - i);
        _mm256_maskstore_ps(out + i, k, _mm256_mul_ps(_mm256_maskload_ps(out + i, k), scale));
    }
}

#include "softmax_driver.h"

// A row of at most 16 values, as the driver computes it (the same max, exps,
// sums in double in the same order, and factor, so the same bits), in two
// vectors and with no passes to set up: attention's scores come as many such
// rows, and there the passes' set-up cost more than their work. Rows whose
// max is +-inf or NaN take the driver's way; a NaN the max misses (max_ps
// keeps one operand of a NaN pair) makes the sum, so every output, NaN, as
// in the driver.
void softmax_f32_avx2(float *out, const float *x, size_t n) {
    if (n == 0 || n > 16) {
        softmax(out, x, n);
        return;
    }
    __m256i k0 = tail_mask256(n < 8 ? n : 8), k1 = tail_mask256(n > 8 ? n - 8 : 0);
    __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 v0 = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x, k0), _mm256_castsi256_ps(k0));
    __m256 v1 = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + 8, k1), _mm256_castsi256_ps(k1));
    float m = hmax256(_mm256_max_ps(v0, v1));
    if (!(m > -INFINITY && m < INFINITY)) {
        softmax(out, x, n);
        return;
    }
    __m256 negmax = _mm256_set1_ps(-m);
    __m256 e0 = _mm256_and_ps(exp_sub(v0, negmax), _mm256_castsi256_ps(k0));
    __m256 e1 = _mm256_and_ps(exp_sub(v1, negmax), _mm256_castsi256_ps(k1));
    __m256d z = _mm256_setzero_pd(), lo0 = add_wide(z, e0, 0), hi0 = add_wide(z, e0, 1);
    __m256d lo1 = add_wide(z, e1, 0), hi1 = add_wide(z, e1, 1);
    // exp_pass's order: 16 values in its unrolled loop, fewer in its tail loop
    __m256d s = n == 16 ? _mm256_add_pd(_mm256_add_pd(lo0, hi0), _mm256_add_pd(lo1, hi1))
                        : _mm256_add_pd(_mm256_add_pd(lo0, lo1), _mm256_add_pd(hi0, hi1));
    __m256 f = _mm256_set1_ps((float)(1.0 / hsum256d(s)));
    // a masked store costs more than a plain one: only where the row ends inside a vector
    if (n >= 8)
        _mm256_storeu_ps(out, _mm256_mul_ps(e0, f));
    else
        _mm256_maskstore_ps(out, k0, _mm256_mul_ps(e0, f));
    if (n == 16)
        _mm256_storeu_ps(out + 8, _mm256_mul_ps(e1, f));
    else if (n > 8)
        _mm256_maskstore_ps(out + 8, k1, _mm256_mul_ps(e1, f));
}

void softmax_f32_avx2_blocked(float *out, const float *x, size_t n) {
    softmax(out, x, n);
}
