// exp512 and tanh512 over arrays, so tests/test_vmath.c can measure the very
// code the kernels inline.
#include "../kernels.h"
#include "vmath_avx512.h"

void exp_f32_avx512(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? 0xffff : tail_mask512(n - i);
        _mm512_mask_storeu_ps(out + i, k, exp512(_mm512_maskz_loadu_ps(k, x + i)));
    }
}

void tanh_f32_avx512(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? 0xffff : tail_mask512(n - i);
        _mm512_mask_storeu_ps(out + i, k, tanh512(_mm512_maskz_loadu_ps(k, x + i)));
    }
}
