// The AVX-VNNI files' EVEX build, for the tests alone: matmul_i8_avxvnni.c and
// peak_avxvnni.c built a second time (Makefile.am, libbmml_avxvnni_evex.a) with
// the same flags and vpdpbusd in its AVX512-VNNI (EVEX) encoding, which
// computes the same on the same ymm registers (src/kernels/avxvnni.h). A CPU
// with AVX512-VNNI but no AVX-VNNI (Zen 4, Ice Lake) runs and checks all of
// that code through it but the encoding of its one instruction; the AVX-VNNI
// variant's own tests still skip there.
#ifndef BMML_TESTS_EVEX_H
#define BMML_TESTS_EVEX_H

#include "config.h"
#include "cpu.h"
#include "kernels.h"

#define EVEX_ISA "avx-vnni, in AVX512-VNNI's encoding"

#if HAVE_AVXVNNI_EVEX
void matmul_i8_avxvnni_evex(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
int peak_vnni_avxvnni_evex(long iters);
#define EVEX_FN matmul_i8_avxvnni_evex
#else
#define EVEX_FN NULL
#endif

// a variant as kernels.c's table holds them; its fn is NULL where the EVEX build is not built
static const struct variant avxvnni_evex = {{.matmul_i8 = EVEX_FN}, AVX2_FMA | CPU_AVX512VL | CPU_AVX512VNNI, EVEX_ISA};

// The tests' tables name that build as slot EVEX_SLOT of int8's avx2 tier: the
// variant in slot `slot` of tier t of kern, or the EVEX build for EVEX_SLOT.
#define EVEX_SLOT (-1)
static inline const struct variant *variant_in(const struct kernel *kern, int t, int slot) {
    return slot == EVEX_SLOT ? &avxvnni_evex : &kern->tier[t][slot];
}

#endif
