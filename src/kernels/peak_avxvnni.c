// Peak int8 throughput with AVX-VNNI: independent chains of vpdpbusd on ymm,
// each iteration 12 of them on 32 byte pairs, 12 x 32 x 2 = 768 integer
// operations. The VEX encoding reaches only ymm0-15: 12 chains and the two
// sources fill 14, and 12 cover latency x ports on the cores we know (5 x 2
// on Intel's). The tests also build it with the EVEX encoding (avxvnni.h).
#include <immintrin.h>

#include "avxvnni.h" // before kernels.h: the EVEX build's names
#include "../kernels.h"

// One vpdpbusd updating its chain in place, in asm (avxvnni.h) as in
// peak_avx512vnni.c: the compiler's copies of the accumulators would take
// slots on the vector ports.
#define DP(a) a = dpbusd(a, u, s)
#define DP4(a, b, c, d) DP(a); DP(b); DP(c); DP(d)

int peak_vnni_avxvnni(long iters) {
    const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
    // distinct starting values, or the compiler merges identical chains
    __m256i a0 = _mm256_set1_epi32(0), a1 = _mm256_set1_epi32(1), a2 = _mm256_set1_epi32(2), a3 = _mm256_set1_epi32(3);
    __m256i a4 = _mm256_set1_epi32(4), a5 = _mm256_set1_epi32(5), a6 = _mm256_set1_epi32(6), a7 = _mm256_set1_epi32(7);
    __m256i a8 = _mm256_set1_epi32(8), a9 = _mm256_set1_epi32(9), a10 = _mm256_set1_epi32(10), a11 = _mm256_set1_epi32(11);
    for (long i = 0; i < iters; i++) {
        DP4(a0, a1, a2, a3);
        DP4(a4, a5, a6, a7);
        DP4(a8, a9, a10, a11);
    }
    __m256i t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)),
                                 _mm256_add_epi32(_mm256_add_epi32(a4, a5), _mm256_add_epi32(a6, a7)));
    t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(a8, a9), _mm256_add_epi32(a10, a11)));
    // the 8 lanes' sum
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(h);
}
