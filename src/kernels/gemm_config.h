// Every GEMM's blocking, in one place: as in BLIS, the block sizes are
// configuration, apart from the micro-kernels (matmul_<isa>.c) and the loop
// nest (gemm_driver.h). Each matmul_<isa>.c takes its MR, NR, KC, MC, NC from here.
//
// MR x NR, the micro-tile, is fixed by the micro-kernel's registers (its file
// says why). KC, MC and NC follow BLIS's analytical rule (Low et al., "Analytical
// Modeling Is Enough for High-Performance BLIS"), e bytes a packed element:
//   KC  the b sliver, KC x NR x e, and the a sliver streaming past it, KC x MR x e,
//       fit the L1d together, so the b sliver is reused from L1; or, where a GEMM
//       below says so, the b sliver is too big for the L1d and streams from L2
//       beside the a block. A k of up to KC is one pass: c is written once.
//   MC  the packed a block, MC x KC x e, fits half the L2; MC is a multiple of MR.
//   NC  the packed b block, KC x NC x e, lives in L3, a quarter of it at most (two
//       threads may each pack their own, gemm_driver.h); NC is a multiple of NR.
// The cache sizes below are what the rule assumes, not read from the CPU. With a
// 32 KiB L1d, the b slivers of the fp32 AVX2 and int8 AVX512-VNNI GEMMs fill it alone.
#ifndef BMML_GEMM_CONFIG_H
#define BMML_GEMM_CONFIG_H

#define GEMM_L1D_BYTES (48 << 10) // assumed: a 48 KiB L1d
#define GEMM_L2_BYTES (1 << 20)   // assumed: a 1 MiB L2
#define GEMM_L3_BYTES (16 << 20)  // assumed: an L3 of 16 MiB or more

// fp32, AVX2 + FMA; e = 4. b sliver 32 KiB + a sliver 12 KiB in L1d; a block 240 KiB; b block 4 MiB
#define GEMM_F32_AVX2_MR 6
#define GEMM_F32_AVX2_NR 16
#define GEMM_F32_AVX2_KC 512
#define GEMM_F32_AVX2_MC 120
#define GEMM_F32_AVX2_NC 2048

// fp32, AVX-512; e = 4. b sliver 128 KiB, from L2 beside the 448 KiB a block; b block 4 MiB
#define GEMM_F32_AVX512_MR 14
#define GEMM_F32_AVX512_NR 32
#define GEMM_F32_AVX512_KC 1024
#define GEMM_F32_AVX512_MC 112
#define GEMM_F32_AVX512_NC 1024

// int8, AVX2 (packed as int16); e = 2. b sliver 16 KiB + a sliver 6 KiB in L1d; a block 240 KiB; b block 4 MiB
#define GEMM_I8_AVX2_MR 6
#define GEMM_I8_AVX2_NR 16
#define GEMM_I8_AVX2_KC 512
#define GEMM_I8_AVX2_MC 240
#define GEMM_I8_AVX2_NC 4096

// int8, AVX-VNNI; e = 1. b sliver 16 KiB + a sliver 6 KiB in L1d; a block 240 KiB; b block 4 MiB
#define GEMM_I8_AVXVNNI_MR 6
#define GEMM_I8_AVXVNNI_NR 16
#define GEMM_I8_AVXVNNI_KC 1024
#define GEMM_I8_AVXVNNI_MC 240
#define GEMM_I8_AVXVNNI_NC 4096

// int8, AVX512-VNNI; e = 1. b sliver 32 KiB + a sliver 3 KiB in L1d; a block 240 KiB; b block 2 MiB
#define GEMM_I8_AVX512VNNI_MR 6
#define GEMM_I8_AVX512VNNI_NR 64
#define GEMM_I8_AVX512VNNI_KC 512
#define GEMM_I8_AVX512VNNI_MC 480
#define GEMM_I8_AVX512VNNI_NC 4096

// The rule, checked for GEMM g with e-byte packed elements.
#define GEMM_BLOCKS_OK(g, e)                                                                   \
    _Static_assert(g##_MC % g##_MR == 0 && g##_NC % g##_NR == 0, #g ": blocks hold whole slivers"); \
    _Static_assert(g##_MC * g##_KC * (e) <= GEMM_L2_BYTES / 2, #g ": the a block fits half the L2"); \
    _Static_assert(g##_KC * g##_NC * (e) <= GEMM_L3_BYTES / 4, #g ": the b block fits a quarter of the L3")
#define GEMM_SLIVER_IN_L1(g, e)                                         \
    _Static_assert((g##_NR + g##_MR) * g##_KC * (e) <= GEMM_L1D_BYTES, \
                   #g ": the b sliver and an a sliver fit the L1d")
#define GEMM_SLIVER_IN_L2(g, e)                                                           \
    _Static_assert(g##_NR * g##_KC * (e) > GEMM_L1D_BYTES &&                              \
                       (g##_NR + g##_MC) * g##_KC * (e) <= GEMM_L2_BYTES,                 \
                   #g ": the b sliver streams from L2, beside the a block")

GEMM_BLOCKS_OK(GEMM_F32_AVX2, 4);
GEMM_SLIVER_IN_L1(GEMM_F32_AVX2, 4);
GEMM_BLOCKS_OK(GEMM_F32_AVX512, 4);
GEMM_SLIVER_IN_L2(GEMM_F32_AVX512, 4);
GEMM_BLOCKS_OK(GEMM_I8_AVX2, 2);
GEMM_SLIVER_IN_L1(GEMM_I8_AVX2, 2);
GEMM_BLOCKS_OK(GEMM_I8_AVXVNNI, 1);
GEMM_SLIVER_IN_L1(GEMM_I8_AVXVNNI, 1);
GEMM_BLOCKS_OK(GEMM_I8_AVX512VNNI, 1);
GEMM_SLIVER_IN_L1(GEMM_I8_AVX512VNNI, 1);

#endif
