// Peak loops for the roofline: independent chains of FMA, more of them than
// latency x throughput (Zen 5: 4 cycles x 2 pipes), so the pipes never wait.
// The chains are named variables, not an array, so they stay in registers.
// Each iteration is 12 FMAs on 8 floats: 192 floating-point operations.
#include <immintrin.h>
#include <stdint.h>

#include "../kernels.h"

#define FMA4(a, b, c, d) \
    a = _mm256_fmadd_ps(a, m, k), b = _mm256_fmadd_ps(b, m, k), \
    c = _mm256_fmadd_ps(c, m, k), d = _mm256_fmadd_ps(d, m, k)

float peak_fma_avx2(long iters) {
    const __m256 m = _mm256_set1_ps(0.999999f), k = _mm256_set1_ps(1e-7f);
    // distinct starting values, or the compiler merges identical chains
    __m256 a0 = _mm256_set1_ps(1.000000f), a1 = _mm256_set1_ps(1.015625f), a2 = _mm256_set1_ps(1.031250f), a3 = _mm256_set1_ps(1.046875f);
    __m256 a4 = _mm256_set1_ps(1.062500f), a5 = _mm256_set1_ps(1.078125f), a6 = _mm256_set1_ps(1.093750f), a7 = _mm256_set1_ps(1.109375f);
    __m256 a8 = _mm256_set1_ps(1.125000f), a9 = _mm256_set1_ps(1.140625f), a10 = _mm256_set1_ps(1.156250f), a11 = _mm256_set1_ps(1.171875f);
    for (long i = 0; i < iters; i++) {
        FMA4(a0, a1, a2, a3);
        FMA4(a4, a5, a6, a7);
        FMA4(a8, a9, a10, a11);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    return _mm256_cvtss_f32(s); // a result, so the loop is not optimized away
}

// The other half of the element-wise roof (roofline.h): a copy whose stores
// stream past the cache, so no output line is read before it is written.
// glibc's memcpy streams only past a threshold set from the last-level cache
// size, which a virtual machine may misreport; the roof is the faster of the two.
void copy_stream_avx2(float *out, const float *x, size_t n) {
    size_t i = 0;
    while (i < n && ((uintptr_t)(out + i) & 31)) out[i] = x[i], i++;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        _mm256_stream_ps(out + i, a);
        _mm256_stream_ps(out + i + 8, b);
        _mm256_stream_ps(out + i + 16, c);
        _mm256_stream_ps(out + i + 24, d);
    }
    _mm_sfence();
    for (; i < n; i++) out[i] = x[i];
}
