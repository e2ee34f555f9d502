// The AVX-VNNI files' one instruction, vpdpbusd on ymm, always written as
// assembly: in its VEX encoding, or, in the tests' EVEX build of the same
// files (BMML_AVXVNNI_EVEX, Makefile.am), in its AVX512-VNNI (EVEX) encoding,
// which computes the same on the same registers. Both builds take the same
// compiler flags, so all the rest is the same machine code, and a CPU with
// AVX512-VNNI and no AVX-VNNI runs and checks all of it (tests/evex.h). The
// EVEX build's functions end in _evex. Include this before kernels.h, whose
// prototypes those names then rename.
#ifndef BMML_AVXVNNI_H
#define BMML_AVXVNNI_H

#include <immintrin.h>

#ifdef BMML_AVXVNNI_EVEX
#define matmul_i8_avxvnni matmul_i8_avxvnni_evex
#define peak_vnni_avxvnni peak_vnni_avxvnni_evex
#define VPDPBUSD "%{evex%} vpdpbusd "
#else
#define VPDPBUSD "%{vex%} vpdpbusd " // {vex}: not the EVEX form of AVX512-VNNI
#endif

// acc + the products of u (u8) and s (s8), four a lane ("x": ymm0-15, which VEX can name)
static inline __attribute__((always_inline)) __m256i dpbusd(__m256i acc, __m256i u, __m256i s) {
    __asm__(VPDPBUSD "%2, %1, %0" : "+x"(acc) : "x"(u), "x"(s));
    return acc;
}

#endif
