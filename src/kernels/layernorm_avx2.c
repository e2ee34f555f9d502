#include <immintrin.h>
#include <stdint.h>

#include "../kernels.h"
#include "vmath_avx2.h"

// The passes over one row of layernorm, for layernorm_driver.h, which runs them
// and states the method; the mean's sum is in double, four chains of four lanes,
// the squares' in float over short chunks (row_squares says why).

// 8 floats into two chains of doubles
static inline void add8(__m256d *s0, __m256d *s1, __m256 v) {
    *s0 = _mm256_add_pd(*s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    *s1 = _mm256_add_pd(*s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

static inline double hsum(__m256d a, __m256d b, __m256d c, __m256d d) {
    __m256d s = _mm256_add_pd(_mm256_add_pd(a, b), _mm256_add_pd(c, d));
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

// (x - hi) - lo, the deviation from the mean hi + lo
static inline __m256 dev8(__m256 x, __m256 hi, __m256 lo) { return _mm256_sub_ps(_mm256_sub_ps(x, hi), lo); }

static double row_sum(const float *x, int n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        add8(&s0, &s1, _mm256_loadu_ps(x + j));
        add8(&s2, &s3, _mm256_loadu_ps(x + j + 8));
    }
    for (; j < n; j += 8) // lanes past the end load 0
        add8(&s0, &s1, _mm256_maskload_ps(x + j, tail_mask256(n - j >= 8 ? 8 : (size_t)(n - j))));
    return hsum(s0, s1, s2, s3);
}

// The squares are summed in float over chunks of at most SQ_CHUNK floats, each
// chunk's 8 lanes then added in double: a lane's chain within a chunk is at
// most 4 + 3 + 1 + 2 roundings deep, whatever n (kernels.c states the bound).
#define SQ_CHUNK 128

// the sum of the squares of ((x - hi) - lo) over x[0, n), n <= SQ_CHUNK, in 8 lanes
static __m256 chunk_squares(const float *x, int n, __m256 hi, __m256 lo) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 d0 = dev8(_mm256_loadu_ps(x + j), hi, lo), d1 = dev8(_mm256_loadu_ps(x + j + 8), hi, lo);
        __m256 d2 = dev8(_mm256_loadu_ps(x + j + 16), hi, lo), d3 = dev8(_mm256_loadu_ps(x + j + 24), hi, lo);
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 d = dev8(_mm256_loadu_ps(x + j), hi, lo);
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (j < n) {
        __m256i m = tail_mask256((size_t)(n - j));
        // lanes past the end are zeroed after the subtraction, adding nothing
        __m256 d = _mm256_and_ps(dev8(_mm256_maskload_ps(x + j, m), hi, lo), _mm256_castsi256_ps(m));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
}

// Float, not double, for the squares: converting every element to double cost
// more than the pass's loads; the variance's error only scales rstd, and a
// few u of it is inside the bound kernels.c gives. The mean stays in double:
// its error would go into every deviation, small ones too.
static double row_squares(const float *x, int n, float mhi, float mlo) {
    __m256 hi = _mm256_set1_ps(mhi), lo = _mm256_set1_ps(mlo);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, zero = s0;
    for (int j = 0; j < n; j += SQ_CHUNK)
        add8(&s0, &s1, chunk_squares(x + j, n - j < SQ_CHUNK ? n - j : SQ_CHUNK, hi, lo));
    return hsum(s0, s1, zero, zero);
}

// y = (x - hi - lo) * rstd * gamma + beta
static inline __m256 norm8(__m256 x, __m256 hi, __m256 lo, __m256 rstd, __m256 g, __m256 b) {
    return _mm256_fmadd_ps(_mm256_mul_ps(dev8(x, hi, lo), rstd), g, b);
}

// y[0, n), n < 8, with masked loads and stores that touch nothing past n
static void norm_part(float *y, const float *x, const float *gamma, const float *beta, int n, __m256 hi, __m256 lo,
                      __m256 rstd) {
    __m256i m = tail_mask256((size_t)n);
    __m256 v = norm8(_mm256_maskload_ps(x, m), hi, lo, rstd, _mm256_maskload_ps(gamma, m), _mm256_maskload_ps(beta, m));
    _mm256_maskstore_ps(y, m, v);
}

static void row_norm(float *y, const float *x, const float *gamma, const float *beta, int n, float mhi, float mlo,
                     float r, int stream) {
    __m256 hi = _mm256_set1_ps(mhi), lo = _mm256_set1_ps(mlo), rstd = _mm256_set1_ps(r);
    int j = 0;
    if (stream) { // streaming stores take whole aligned lines: the floats before the first go the usual way
        j = (int)((64 - (uintptr_t)y % 64) % 64 / 4);
        if (j > n) j = n;
        int h = 0;
        for (; h + 8 <= j; h += 8)
            _mm256_storeu_ps(y + h, norm8(_mm256_loadu_ps(x + h), hi, lo, rstd, _mm256_loadu_ps(gamma + h),
                                          _mm256_loadu_ps(beta + h)));
        if (h < j) norm_part(y + h, x + h, gamma + h, beta + h, j - h, hi, lo, rstd);
        for (; j + 8 <= n; j += 8)
            _mm256_stream_ps(y + j, norm8(_mm256_loadu_ps(x + j), hi, lo, rstd, _mm256_loadu_ps(gamma + j),
                                          _mm256_loadu_ps(beta + j)));
    }
    for (; j + 16 <= n; j += 16) {
        __m256 y0 = norm8(_mm256_loadu_ps(x + j), hi, lo, rstd, _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j));
        __m256 y1 = norm8(_mm256_loadu_ps(x + j + 8), hi, lo, rstd, _mm256_loadu_ps(gamma + j + 8),
                          _mm256_loadu_ps(beta + j + 8));
        _mm256_storeu_ps(y + j, y0);
        _mm256_storeu_ps(y + j + 8, y1);
    }
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(y + j, norm8(_mm256_loadu_ps(x + j), hi, lo, rstd, _mm256_loadu_ps(gamma + j),
                                      _mm256_loadu_ps(beta + j)));
    if (j < n) norm_part(y + j, x + j, gamma + j, beta + j, n - j, hi, lo, rstd);
}

#include "layernorm_driver.h"

void layernorm_f32_avx2(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols) {
    layernorm(out, x, gamma, beta, rows, cols);
}
