// The AVX-512 twin of peak_avx2.c: each iteration is 16 FMAs on 16 floats,
// 512 floating-point operations.
#include <immintrin.h>

#include "../kernels.h"

#define FMA4(a, b, c, d) \
    a = _mm512_fmadd_ps(a, m, k), b = _mm512_fmadd_ps(b, m, k), \
    c = _mm512_fmadd_ps(c, m, k), d = _mm512_fmadd_ps(d, m, k)

float peak_fma_avx512(long iters) {
    const __m512 m = _mm512_set1_ps(0.999999f), k = _mm512_set1_ps(1e-7f);
    // distinct starting values, or the compiler merges identical chains
    __m512 a0 = _mm512_set1_ps(1.000000f), a1 = _mm512_set1_ps(1.015625f), a2 = _mm512_set1_ps(1.031250f), a3 = _mm512_set1_ps(1.046875f);
    __m512 a4 = _mm512_set1_ps(1.062500f), a5 = _mm512_set1_ps(1.078125f), a6 = _mm512_set1_ps(1.093750f), a7 = _mm512_set1_ps(1.109375f);
    __m512 a8 = _mm512_set1_ps(1.125000f), a9 = _mm512_set1_ps(1.140625f), a10 = _mm512_set1_ps(1.156250f), a11 = _mm512_set1_ps(1.171875f);
    __m512 a12 = _mm512_set1_ps(1.187500f), a13 = _mm512_set1_ps(1.203125f), a14 = _mm512_set1_ps(1.218750f), a15 = _mm512_set1_ps(1.234375f);
    for (long i = 0; i < iters; i++) {
        FMA4(a0, a1, a2, a3);
        FMA4(a4, a5, a6, a7);
        FMA4(a8, a9, a10, a11);
        FMA4(a12, a13, a14, a15);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                       _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    return _mm512_reduce_add_ps(s);
}
