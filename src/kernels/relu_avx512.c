#include <immintrin.h>

#include "../kernels.h"
#include "vmath_avx512.h"

// relu(x) = x < 0 ? 0 : x. maxps returns its second operand when either is NaN
// or both are zero, so max(0, x) passes NaN and -0 through as the scalar does.
void relu_f32_avx512(float *out, const float *x, size_t n) {
    __m512 zero = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_loadu_ps(x + i);
        __m512 b = _mm512_loadu_ps(x + i + 16);
        __m512 c = _mm512_loadu_ps(x + i + 32);
        __m512 d = _mm512_loadu_ps(x + i + 48);
        _mm512_storeu_ps(out + i, _mm512_max_ps(zero, a));
        _mm512_storeu_ps(out + i + 16, _mm512_max_ps(zero, b));
        _mm512_storeu_ps(out + i + 32, _mm512_max_ps(zero, c));
        _mm512_storeu_ps(out + i + 48, _mm512_max_ps(zero, d));
    }
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(out + i, _mm512_max_ps(zero, _mm512_loadu_ps(x + i)));
    }
    if (i < n) {
        __mmask16 m = tail_mask512(n - i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_max_ps(zero, _mm512_maskz_loadu_ps(m, x + i)));
    }
}
