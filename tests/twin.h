// The AVX-VNNI int8 GEMM's twin, for the tests alone: matmul_i8_avxvnni.c built
// a second time (Makefile.am, libbmml_avxvnni_twin.a) with vpdpbusd in its
// AVX512-VNNI (EVEX) encoding, which computes the same on the same ymm
// registers. A CPU with AVX512-VNNI but no AVX-VNNI (Zen 4, Ice Lake) runs and
// checks all of that GEMM through it but the encoding of its one instruction;
// the AVX-VNNI variant's own tests still skip there.
#ifndef BMML_TESTS_TWIN_H
#define BMML_TESTS_TWIN_H

#include "config.h"
#include "cpu.h"
#include "kernels.h"

#define TWIN_ISA "avx-vnni, as its AVX512-VNNI twin"

#if HAVE_AVXVNNI_TWIN
void matmul_i8_avxvnni_twin(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
int peak_vnni_avxvnni_twin(long iters);
#define TWIN_FN matmul_i8_avxvnni_twin
#else
#define TWIN_FN NULL
#endif

// a variant as kernels.c's table holds them; its fn is NULL where the twin is not built
static const struct variant avxvnni_twin = {{.matmul_i8 = TWIN_FN}, AVX2_FMA | CPU_AVX512VL | CPU_AVX512VNNI, TWIN_ISA};

#endif
