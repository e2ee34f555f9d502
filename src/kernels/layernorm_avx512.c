#include <immintrin.h>
#include <stdint.h>

#include "../kernels.h"
#include "vmath_avx512.h"

// The passes over one row of layernorm, for layernorm_driver.h, which runs them
// and states the method; the mean's sum is in double, four chains of eight lanes,
// the squares' in float over short chunks (row_squares says why).

static inline __mmask8 tail8(int rem) { return (__mmask8)((1u << rem) - 1); }

static double row_sum(const float *x, int n) {
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 32 <= n; j += 32) {
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm256_loadu_ps(x + j)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 8)));
        s2 = _mm512_add_pd(s2, _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 16)));
        s3 = _mm512_add_pd(s3, _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 24)));
    }
    for (; j < n; j += 8) {
        __mmask8 k = n - j >= 8 ? 0xff : tail8(n - j); // lanes past the end load 0
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, x + j)));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
}

// The squares are summed in float over chunks of at most SQ_CHUNK floats, each
// chunk's 16 lanes then added in double: a lane's chain within a chunk is at
// most 4 + 3 + 1 + 2 roundings deep, whatever n (kernels.c states the bound).
#define SQ_CHUNK 256

// (x - hi) - lo, the deviation from the mean hi + lo
static inline __m512 dev16(__m512 x, __m512 hi, __m512 lo) { return _mm512_sub_ps(_mm512_sub_ps(x, hi), lo); }

// the sum of the squares of ((x - hi) - lo) over x[0, n), n <= SQ_CHUNK, in 16 lanes
static __m512 chunk_squares(const float *x, int n, __m512 hi, __m512 lo) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 64 <= n; j += 64) {
        __m512 d0 = dev16(_mm512_loadu_ps(x + j), hi, lo), d1 = dev16(_mm512_loadu_ps(x + j + 16), hi, lo);
        __m512 d2 = dev16(_mm512_loadu_ps(x + j + 32), hi, lo), d3 = dev16(_mm512_loadu_ps(x + j + 48), hi, lo);
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
        s2 = _mm512_fmadd_ps(d2, d2, s2);
        s3 = _mm512_fmadd_ps(d3, d3, s3);
    }
    for (; j + 16 <= n; j += 16) {
        __m512 d = dev16(_mm512_loadu_ps(x + j), hi, lo);
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (j < n) {
        __mmask16 k = tail_mask512(n - j);
        // lanes past the end are zeroed after the subtraction, adding nothing
        __m512 d = _mm512_maskz_mov_ps(k, dev16(_mm512_maskz_loadu_ps(k, x + j), hi, lo));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3));
}

// Float, not double, for the squares: converting every element to double cost
// more than the pass's loads; the variance's error only scales rstd, and a
// few u of it is inside the bound kernels.c gives. The mean stays in double:
// its error would go into every deviation, small ones too.
static double row_squares(const float *x, int n, float mhi, float mlo) {
    __m512 hi = _mm512_set1_ps(mhi), lo = _mm512_set1_ps(mlo);
    __m512d s = _mm512_setzero_pd();
    for (int j = 0; j < n; j += SQ_CHUNK) {
        __m512 c = chunk_squares(x + j, n - j < SQ_CHUNK ? n - j : SQ_CHUNK, hi, lo);
        s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm512_castps512_ps256(c)));
        s = _mm512_add_pd(s, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(c), 1))));
    }
    return _mm512_reduce_add_pd(s);
}

// y = (x - hi - lo) * rstd * gamma + beta
static inline __m512 norm16(__m512 x, __m512 hi, __m512 lo, __m512 rstd, __m512 g, __m512 b) {
    return _mm512_fmadd_ps(_mm512_mul_ps(dev16(x, hi, lo), rstd), g, b);
}

// y[0, n), n < 16, with masked loads and stores that touch nothing past n
static void norm_part(float *y, const float *x, const float *gamma, const float *beta, int n, __m512 hi, __m512 lo,
                      __m512 rstd) {
    __mmask16 k = tail_mask512(n);
    __m512 v = norm16(_mm512_maskz_loadu_ps(k, x), hi, lo, rstd, _mm512_maskz_loadu_ps(k, gamma),
                      _mm512_maskz_loadu_ps(k, beta));
    _mm512_mask_storeu_ps(y, k, v);
}

static void row_norm(float *y, const float *x, const float *gamma, const float *beta, int n, float mhi, float mlo,
                     float r, int stream) {
    __m512 hi = _mm512_set1_ps(mhi), lo = _mm512_set1_ps(mlo), rstd = _mm512_set1_ps(r);
    int j = 0;
    if (stream) { // streaming stores take whole aligned lines: the floats before the first go the usual way
        j = (int)((64 - (uintptr_t)y % 64) % 64 / 4);
        if (j > n) j = n;
        if (j) norm_part(y, x, gamma, beta, j, hi, lo, rstd);
        for (; j + 16 <= n; j += 16)
            _mm512_stream_ps(y + j, norm16(_mm512_loadu_ps(x + j), hi, lo, rstd, _mm512_loadu_ps(gamma + j),
                                           _mm512_loadu_ps(beta + j)));
    }
    for (; j + 32 <= n; j += 32) {
        __m512 y0 = norm16(_mm512_loadu_ps(x + j), hi, lo, rstd, _mm512_loadu_ps(gamma + j), _mm512_loadu_ps(beta + j));
        __m512 y1 = norm16(_mm512_loadu_ps(x + j + 16), hi, lo, rstd, _mm512_loadu_ps(gamma + j + 16),
                           _mm512_loadu_ps(beta + j + 16));
        _mm512_storeu_ps(y + j, y0);
        _mm512_storeu_ps(y + j + 16, y1);
    }
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(y + j, norm16(_mm512_loadu_ps(x + j), hi, lo, rstd, _mm512_loadu_ps(gamma + j),
                                       _mm512_loadu_ps(beta + j)));
    if (j < n) norm_part(y + j, x + j, gamma + j, beta + j, n - j, hi, lo, rstd);
}

#include "layernorm_driver.h"

void layernorm_f32_avx512(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols) {
    layernorm(out, x, gamma, beta, rows, cols);
}
