#include <immintrin.h>
#include <stdint.h>

#include "../kernels.h"
#include "vmath_avx2.h"

// Streaming stores skip reading each output line into cache before writing it,
// which pays once the data no longer stays cached between calls. On Zen 5 they
// measured no faster at 2^20 floats, faster from 2^21 up (8 MB of output), and
// slower on data that fits in L2; bmml-host --sweep shows where they pay.
#define STREAM_MIN ((size_t)1 << 21)

// relu(x) = x < 0 ? 0 : x. maxps returns its second operand when either is NaN
// or both are zero, so max(0, x) passes NaN and -0 through as the scalar does.
static inline __m256 relu8(__m256 x) {
    return _mm256_max_ps(_mm256_setzero_ps(), x);
}

void relu_f32_avx2(float *out, const float *x, size_t n) {
    // peel up to a 32-byte aligned out, as streaming stores need
    size_t i = (-(uintptr_t)out & 31) / sizeof(float);
    if (i > n) i = n;
    if (i) {
        __m256i m = tail_mask256(i);
        _mm256_maskstore_ps(out, m, relu8(_mm256_maskload_ps(x, m)));
    }
    if (n >= STREAM_MIN && ((uintptr_t)(out + i) & 31) == 0) {
        for (; i + 32 <= n; i += 32) {
            __m256 a = _mm256_loadu_ps(x + i);
            __m256 b = _mm256_loadu_ps(x + i + 8);
            __m256 c = _mm256_loadu_ps(x + i + 16);
            __m256 d = _mm256_loadu_ps(x + i + 24);
            _mm256_stream_ps(out + i, relu8(a));
            _mm256_stream_ps(out + i + 8, relu8(b));
            _mm256_stream_ps(out + i + 16, relu8(c));
            _mm256_stream_ps(out + i + 24, relu8(d));
        }
        _mm_sfence(); // streaming stores are weakly ordered: make them visible before returning
    }
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i);
        __m256 b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16);
        __m256 d = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(out + i, relu8(a));
        _mm256_storeu_ps(out + i + 8, relu8(b));
        _mm256_storeu_ps(out + i + 16, relu8(c));
        _mm256_storeu_ps(out + i + 24, relu8(d));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, relu8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = tail_mask256(n - i);
        _mm256_maskstore_ps(out + i, m, relu8(_mm256_maskload_ps(x + i, m)));
    }
}
