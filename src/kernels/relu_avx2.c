#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx2.h"

// relu(x) = x < 0 ? 0 : x. maxps returns its second operand when either is NaN
// or both are zero, so max(0, x) passes NaN and -0 through as the scalar does.
void relu_f32_avx2(float *out, const float *x, size_t n) {
    __m256 zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i);
        __m256 b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16);
        __m256 d = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(out + i, _mm256_max_ps(zero, a));
        _mm256_storeu_ps(out + i + 8, _mm256_max_ps(zero, b));
        _mm256_storeu_ps(out + i + 16, _mm256_max_ps(zero, c));
        _mm256_storeu_ps(out + i + 24, _mm256_max_ps(zero, d));
    }
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_max_ps(zero, _mm256_loadu_ps(x + i)));
    }
    if (i < n) {
        __m256i m = tail_mask256(n - i);
        _mm256_maskstore_ps(out + i, m, _mm256_max_ps(zero, _mm256_maskload_ps(x + i, m)));
    }
}
