// exp256 and tanh256 over arrays, so tests/test_vmath.c can measure the very
// code the kernels inline.
#include "../kernels.h"
#include "vmath_avx2.h"

void exp_f32_avx2(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        __m256i k = tail_mask256(n - i); // all set but in the last block
        _mm256_maskstore_ps(out + i, k, exp256(_mm256_maskload_ps(x + i, k)));
    }
}

void tanh_f32_avx2(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        __m256i k = tail_mask256(n - i);
        _mm256_maskstore_ps(out + i, k, tanh256(_mm256_maskload_ps(x + i, k)));
    }
}
