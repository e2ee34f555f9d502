// Peak int8 throughput: independent chains of vpdpbusd, each iteration 16 of
// them on 64 byte pairs, 16 x 64 x 2 = 2048 integer operations. 16 chains
// cover latency x ports on the cores we know (5 x 2 on Intel's server cores).
#include <immintrin.h>

#include "../kernels.h"

// One vpdpbusd updating its chain in place. Written with the intrinsic,
// GCC 12 at -O2 moves every accumulator to another register each iteration
// (about 30 zmm moves and 2 stores to the stack per 16 vpdpbusd); a move the
// core does not eliminate takes a slot on the vector ports vpdpbusd needs,
// and whether it does varies, so the peak came out at 2/3 in some processes.
// The asm leaves the compiler no copy to make: the loop is the 16 vpdpbusd,
// the counter and the branch.
#define DP(a) __asm__("vpdpbusd %2, %1, %0" : "+v"(a) : "v"(u), "v"(s))
#define DP4(a, b, c, d) DP(a); DP(b); DP(c); DP(d)

int peak_vnni_avx512(long iters) {
    const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
    // distinct starting values, or the compiler merges identical chains
    __m512i a0 = _mm512_set1_epi32(0), a1 = _mm512_set1_epi32(1), a2 = _mm512_set1_epi32(2), a3 = _mm512_set1_epi32(3);
    __m512i a4 = _mm512_set1_epi32(4), a5 = _mm512_set1_epi32(5), a6 = _mm512_set1_epi32(6), a7 = _mm512_set1_epi32(7);
    __m512i a8 = _mm512_set1_epi32(8), a9 = _mm512_set1_epi32(9), a10 = _mm512_set1_epi32(10), a11 = _mm512_set1_epi32(11);
    __m512i a12 = _mm512_set1_epi32(12), a13 = _mm512_set1_epi32(13), a14 = _mm512_set1_epi32(14), a15 = _mm512_set1_epi32(15);
    for (long i = 0; i < iters; i++) {
        DP4(a0, a1, a2, a3);
        DP4(a4, a5, a6, a7);
        DP4(a8, a9, a10, a11);
        DP4(a12, a13, a14, a15);
    }
    __m512i t = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                                 _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
    t = _mm512_add_epi32(t, _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11)),
                                             _mm512_add_epi32(_mm512_add_epi32(a12, a13), _mm512_add_epi32(a14, a15))));
    return _mm512_reduce_add_epi32(t);
}
