// int8 matmul with plain AVX2: int8 sign-extended to int16, then vpmaddwd.
//
// vpmaddwd multiplies int16 pairs and adds each pair into an int32 lane:
// 2 * 128 * 128 = 32768 fits, so it is exact (vpmaddubsw would saturate its
// int16 sums). vpaddd then accumulates in int32, which wraps modulo 2^32, so c
// is exact whenever the true sum fits (|c| <= k * 128 * 128, k < 131072).
// No offset is needed: both operands stay signed.
// The loop nest around the micro-kernel: gemm_driver.h.
#include <immintrin.h>
#include <string.h>

#include "../kernels.h"
#include "gemm_config.h"

// 6x16 micro-tile: 6 x 2 = 12 ymm accumulators, 2 for B, 1 for A, 1 product, of 16
#define MR GEMM_I8_AVX2_MR
#define NR GEMM_I8_AVX2_NR
#define GEMM_ID GEMM_I8_AVX2 // its blocking: gemm_blocking(GEMM_ID)
_Static_assert(MR == 6 && NR == 16, "the assembly below computes a 6x16 tile");

typedef int8_t gemm_in;
typedef int32_t gemm_out;
struct packed_a {
    uint32_t *v; // pairs of k, MR rows of 2 int16 each
};
struct packed_b {
    int16_t *v; // pairs of k, NR columns of 2 int16 each
};
// an odd kc takes a whole pair, as KC, a multiple of the k_unit 2, does
#define A_BYTES(mc, kc) ((size_t)(mc) * ((kc) + 1) / 2 * 4)
#define B_BYTES(kc, nc) ((size_t)((kc) + 1) / 2 * (nc) * 4)
#include "gemm_driver.h"

// up to 16 bytes, zero filled, never past src + w
static inline __m128i load16(const int8_t *src, int w) {
    if (w == 16) return _mm_loadu_si128((const __m128i *)src);
    _Alignas(16) int8_t t[16] = {0};
    memcpy(t, src, w);
    return _mm_load_si128((const __m128i *)t);
}

// B rows [0, kc) x columns [0, nc) -> NR-column panels of k pairs as int16 from column j0 on, zero padded.
static void pack_b(struct packed_b *pb, int j0, const int8_t *b, int ldb, int kc, int nc) {
    int kg = (kc + 1) / 2, ncr = (nc + NR - 1) / NR * NR;
    int16_t *bp = pb->v + (size_t)j0 * kg * 2;
    for (int j = 0; j < ncr; j += NR, bp += (size_t)kg * NR * 2) {
        int w = nc - j < 16 ? nc - j : 16;
        int16_t *dst = bp;
        for (int p = 0; p < kc; p += 2, dst += NR * 2) {
            const int8_t *src = b + (size_t)p * ldb + j;
            __m128i r0 = load16(src, w);
            __m128i r1 = p + 1 < kc ? load16(src + ldb, w) : _mm_setzero_si128();
            // interleave the two rows, then sign-extend: column j gets (b_pj, b_p+1,j)
            _mm256_store_si256((__m256i *)dst, _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(r0, r1)));
            _mm256_store_si256((__m256i *)(dst + 16), _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(r0, r1)));
        }
    }
}

// A rows [0, mc) x columns [0, kc) -> MR-row panels of k pairs as int16.
// Padding rows and k are left 0: padded k meets zeros in B, padded rows are not stored.
static void pack_a(struct packed_a *pa, const int8_t *a, int lda, int mc, int kc) {
    int kg = (kc + 1) / 2, k2 = kc / 2 * 2;
    uint32_t *ap = pa->v;
    for (int i0 = 0; i0 < mc; i0 += MR, ap += (size_t)kg * MR) {
        for (int i = 0; i < MR; i++) {
            uint32_t *dst = ap + i;
            if (i0 + i >= mc) {
                for (int g = 0; g < kg; g++) dst[g * MR] = 0;
                continue;
            }
            const int8_t *row = a + (size_t)(i0 + i) * lda;
            for (int p = 0; p < k2; p += 2)
                dst[p / 2 * MR] = (uint16_t)row[p] | (uint32_t)(uint16_t)row[p + 1] << 16;
            if (k2 < kc) dst[k2 / 2 * MR] = (uint16_t)row[k2];
        }
    }
}

// The micro-kernel's core is assembly: GCC 12 spills register-blocked accumulators
// to the stack on every k step. Accumulators ymm0-11 (row i in ymm 2i, 2i+1),
// B in ymm12-13, A broadcast in ymm14, product in ymm15.
#define ROW_STEP(i, x, y)                               \
    "vpbroadcastd " #i "*4(%[a]), %%ymm14\n\t"          \
    "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"            \
    "vpaddd %%ymm15, %%ymm" #x ", %%ymm" #x "\n\t"      \
    "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"            \
    "vpaddd %%ymm15, %%ymm" #y ", %%ymm" #y "\n\t"
#define ROW_SAVE(i, x, y)                             \
    "vmovdqa %%ymm" #x ", " #i "*64(%[t])\n\t"        \
    "vmovdqa %%ymm" #y ", " #i "*64+32(%[t])\n\t"

static void tile(int32_t *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0, int kc,
                 int add) {
    long kg = (kc + 1) / 2;
    const uint32_t *a = pa->v + (size_t)i0 * kg;
    const int16_t *b = pb->v + (size_t)j0 * kg * 2;
    _Alignas(64) int32_t t[MR * NR];
    asm_reads(a, kg * MR * 4);
    asm_reads(b, kg * NR * 4);
    __asm__ volatile(
        "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
        "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"
        "vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm1, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm1, %%ymm5\n\t"
        "vmovdqa %%ymm0, %%ymm6\n\t vmovdqa %%ymm1, %%ymm7\n\t"
        "vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm1, %%ymm9\n\t"
        "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm1, %%ymm11\n\t"
        "1:\n\t"
        "vmovdqa (%[b]), %%ymm12\n\t"
        "vmovdqa 32(%[b]), %%ymm13\n\t"
        ROW_STEP(0, 0, 1) ROW_STEP(1, 2, 3) ROW_STEP(2, 4, 5)
        ROW_STEP(3, 6, 7) ROW_STEP(4, 8, 9) ROW_STEP(5, 10, 11)
        "add $24, %[a]\n\t"
        "add $64, %[b]\n\t"
        "dec %[kg]\n\t"
        "jnz 1b\n\t"
        ROW_SAVE(0, 0, 1) ROW_SAVE(1, 2, 3) ROW_SAVE(2, 4, 5)
        ROW_SAVE(3, 6, 7) ROW_SAVE(4, 8, 9) ROW_SAVE(5, 10, 11)
        : [a] "+r"(a), [b] "+r"(b), [kg] "+r"(kg)
        : [t] "r"(t)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    add_tile(c, ldc, t, MR, NR, add);
}

void matmul_i8_avx2(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
