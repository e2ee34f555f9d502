#include <immintrin.h>
#include <stdint.h>

#include "../kernels.h"
#include "vmath_avx512.h"

// Streaming stores skip reading each output line into cache before writing it,
// which pays once the data no longer stays cached between calls. On Zen 5 they
// measured no faster at 2^20 floats, faster from 2^21 up (8 MB of output), and
// slower on data that fits in L2; bmml-host --sweep shows where they pay.
#define STREAM_MIN ((size_t)1 << 21)

// relu(x) = x < 0 ? 0 : x. maxps returns its second operand when either is NaN
// or both are zero, so max(0, x) passes NaN and -0 through as the scalar does.
static inline __m512 relu16(__m512 x) {
    return _mm512_max_ps(_mm512_setzero_ps(), x);
}

void relu_f32_avx512(float *out, const float *x, size_t n) {
    // peel up to a 64-byte aligned out: streaming stores need it, and plain
    // stores no longer straddle two cache lines
    size_t i = (-(uintptr_t)out & 63) / sizeof(float);
    if (i > n) i = n;
    if (i) {
        __mmask16 m = tail_mask512(i);
        _mm512_mask_storeu_ps(out, m, relu16(_mm512_maskz_loadu_ps(m, x)));
    }
    if (n >= STREAM_MIN && ((uintptr_t)(out + i) & 63) == 0) {
        for (; i + 64 <= n; i += 64) {
            __m512 a = _mm512_loadu_ps(x + i);
            __m512 b = _mm512_loadu_ps(x + i + 16);
            __m512 c = _mm512_loadu_ps(x + i + 32);
            __m512 d = _mm512_loadu_ps(x + i + 48);
            _mm512_stream_ps(out + i, relu16(a));
            _mm512_stream_ps(out + i + 16, relu16(b));
            _mm512_stream_ps(out + i + 32, relu16(c));
            _mm512_stream_ps(out + i + 48, relu16(d));
        }
        _mm_sfence(); // streaming stores are weakly ordered: make them visible before returning
    }
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_loadu_ps(x + i);
        __m512 b = _mm512_loadu_ps(x + i + 16);
        __m512 c = _mm512_loadu_ps(x + i + 32);
        __m512 d = _mm512_loadu_ps(x + i + 48);
        _mm512_storeu_ps(out + i, relu16(a));
        _mm512_storeu_ps(out + i + 16, relu16(b));
        _mm512_storeu_ps(out + i + 32, relu16(c));
        _mm512_storeu_ps(out + i + 48, relu16(d));
    }
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, relu16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = tail_mask512(n - i);
        _mm512_mask_storeu_ps(out + i, m, relu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
