// The AVX-VNNI files' one instruction, vpdpbusd on ymm, in its VEX encoding;
// or, in the tests' twin build (BMML_AVXVNNI_TWIN, Makefile.am), in its
// AVX512-VNNI (EVEX) encoding, which computes the same on the same registers.
// A CPU with AVX512-VNNI and no AVX-VNNI so runs and checks all of those files
// but the encoding (tests/twin.h). The twin's functions end in _twin.
// Include it before kernels.h, whose prototypes the twin's names then rename.
#ifndef BMML_AVXVNNI_H
#define BMML_AVXVNNI_H

#ifdef BMML_AVXVNNI_TWIN
#define matmul_i8_avxvnni matmul_i8_avxvnni_twin
#define peak_vnni_avxvnni peak_vnni_avxvnni_twin
#define VPDPBUSD "vpdpbusd "
#define dpbusd _mm256_dpbusd_epi32
#else
#define VPDPBUSD "%{vex%} vpdpbusd " // in asm: {vex}, not the EVEX form of AVX512-VNNI
#define dpbusd _mm256_dpbusd_avx_epi32
#endif

#endif
