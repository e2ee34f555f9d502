// int8 matmul with AVX-VNNI: vpdpbusd on ymm, 32 multiply-adds per instruction.
//
// vpdpbusd multiplies u8 by s8, so A is offset into u8 (a + 128, an xor with
// 0x80) and the offset is taken back with the column sums of B:
//   sum_p a_ip b_pj = sum_p (a_ip + 128) b_pj - 128 sum_p b_pj.
// Products are at most 255 * 128 and four of them fit the int32 lane, so nothing
// saturates; int32 wraps modulo 2^32, so c is exact whenever the true sum fits
// (|c| <= k * 128 * 128, k < 131072).
// The loop nest around the micro-kernel: gemm_driver.h.
//
// The tests build this file a second time with BMML_AVXVNNI_TWIN (Makefile.am):
// vpdpbusd in its AVX512-VNNI (EVEX) encoding, which computes the same on the
// same ymm registers, as matmul_i8_avxvnni_twin. A CPU with AVX512-VNNI and no
// AVX-VNNI so runs and checks every line here but the encoding (tests/twin.h).
#ifdef BMML_AVXVNNI_TWIN
#define matmul_i8_avxvnni matmul_i8_avxvnni_twin
#define VPDPBUSD "vpdpbusd "
#define dpbusd _mm256_dpbusd_epi32
#else
#define VPDPBUSD "%{vex%} vpdpbusd " // the VEX (AVX-VNNI) encoding, not the EVEX one of AVX512-VNNI
#define dpbusd _mm256_dpbusd_avx_epi32
#endif
#include <immintrin.h>
#include <string.h>

#include "../kernels.h"
#include "gemm_config.h"

// 6x16 micro-tile: 6 x 2 = 12 ymm accumulators, 2 for B, 2 for A, of 16
#define MR GEMM_I8_AVXVNNI_MR
#define NR GEMM_I8_AVXVNNI_NR
#define GEMM_ID GEMM_I8_AVXVNNI // its blocking: gemm_blocking(GEMM_ID)
_Static_assert(MR == 6 && NR == 16, "the assembly below computes a 6x16 tile");

typedef int8_t gemm_in;
typedef int32_t gemm_out;
struct packed_a {
    uint32_t *v; // groups of 4 k, MR rows of 4 u8 each
};
struct packed_b {
    int8_t *v;     // groups of 4 k, NR columns of 4 bytes each
    int32_t *comp; // -128 * column sums of the packed B block, before v in the buffer
};
#define A_BYTES(mc, kc) ((size_t)(mc) * ((kc) + 3) / 4 * 4)
#define B_BYTES(kc, nc) ((size_t)(nc) * sizeof(int32_t) + (size_t)((kc) + 3) / 4 * (nc) * 4)
#define GEMM_B_COMP
#include "gemm_driver.h"

// up to 16 bytes, zero filled, never past src + w
static inline __m128i load16(const int8_t *src, int w) {
    if (w == 16) return _mm_loadu_si128((const __m128i *)src);
    _Alignas(16) int8_t t[16] = {0};
    memcpy(t, src, w);
    return _mm_load_si128((const __m128i *)t);
}

// B rows [0, kc) x columns [0, nc) -> NR-column panels of 4-k groups from column j0 on, zero padded.
static void pack_b(struct packed_b *pb, int j0, const int8_t *b, int ldb, int kc, int nc) {
    int kg = (kc + 3) / 4, ncr = (nc + NR - 1) / NR * NR;
    int8_t *bp = pb->v + (size_t)j0 * kg * 4;
    int32_t *comp = pb->comp + j0;
    const __m256i ones = _mm256_set1_epi8(1);
    for (int j = 0; j < ncr; j += NR, bp += (size_t)kg * NR * 4) {
        int w = nc - j < 16 ? nc - j : 16;
        int8_t *dst = bp;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (int p = 0; p < kc; p += 4, dst += NR * 4) {
            const int8_t *src = b + (size_t)p * ldb + j;
            __m128i zero = _mm_setzero_si128();
            __m128i r0 = load16(src, w);
            __m128i r1 = p + 1 < kc ? load16(src + ldb, w) : zero;
            __m128i r2 = p + 2 < kc ? load16(src + 2 * (size_t)ldb, w) : zero;
            __m128i r3 = p + 3 < kc ? load16(src + 3 * (size_t)ldb, w) : zero;
            // transpose 4 rows x 16 columns into 16 columns of 4 consecutive k
            __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
            __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
            __m256i v0 = _mm256_setr_m128i(_mm_unpacklo_epi16(t0, t2), _mm_unpackhi_epi16(t0, t2));
            __m256i v1 = _mm256_setr_m128i(_mm_unpacklo_epi16(t1, t3), _mm_unpackhi_epi16(t1, t3));
            _mm256_store_si256((__m256i *)dst, v0);
            _mm256_store_si256((__m256i *)(dst + 32), v1);
            s0 = dpbusd(s0, ones, v0);
            s1 = dpbusd(s1, ones, v1);
        }
        _mm256_store_si256((__m256i *)(comp + j), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(s0, 7)));
        _mm256_store_si256((__m256i *)(comp + j + 8), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(s1, 7)));
    }
}

// A rows [0, mc) x columns [0, kc) -> MR-row panels of 4-k groups, offset to u8.
// Padding rows and k are left 0: padded k meets zeros in B, padded rows are not stored.
static void pack_a(struct packed_a *pa, const int8_t *a, int lda, int mc, int kc) {
    int kg = (kc + 3) / 4, k4 = kc / 4 * 4;
    uint32_t *ap = pa->v;
    for (int i0 = 0; i0 < mc; i0 += MR, ap += (size_t)kg * MR) {
        for (int i = 0; i < MR; i++) {
            uint32_t *dst = ap + i;
            if (i0 + i >= mc) {
                for (int g = 0; g < kg; g++) dst[g * MR] = 0;
                continue;
            }
            const int8_t *row = a + (size_t)(i0 + i) * lda;
            for (int p = 0; p < k4; p += 4) {
                uint32_t x;
                memcpy(&x, row + p, 4);
                dst[p / 4 * MR] = x ^ 0x80808080u;
            }
            if (k4 < kc) {
                uint32_t x = 0;
                for (int p = k4; p < kc; p++) x |= (uint32_t)(uint8_t)(row[p] ^ 0x80) << 8 * (p - k4);
                dst[k4 / 4 * MR] = x;
            }
        }
    }
}

// The micro-kernel's core is assembly: GCC 12 spills register-blocked accumulators
// to the stack on every k step. Accumulators ymm0-11 (row i in ymm 2i, 2i+1),
// B in ymm12-13, A broadcast in ymm14-15. VPDPBUSD's {vex} keeps the AVX-VNNI
// encoding: the EVEX form would need AVX512-VNNI.
#define ROW_STEP(i, x, y, s)                                  \
    "vpbroadcastd " #i "*4(%[a]), %%ymm" #s "\n\t"            \
    VPDPBUSD "%%ymm12, %%ymm" #s ", %%ymm" #x "\n\t"  \
    VPDPBUSD "%%ymm13, %%ymm" #s ", %%ymm" #y "\n\t"
#define ROW_SAVE(i, x, y)                             \
    "vmovdqa %%ymm" #x ", " #i "*64(%[t])\n\t"        \
    "vmovdqa %%ymm" #y ", " #i "*64+32(%[t])\n\t"

static void tile(int32_t *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0, int kc,
                 int add) {
    long kg = (kc + 3) / 4;
    const uint32_t *a = pa->v + (size_t)i0 * kg;
    const int8_t *b = pb->v + (size_t)j0 * kg * 4;
    const int32_t *comp = pb->comp + j0;
    _Alignas(64) int32_t t[MR * NR];
    asm_reads(a, kg * MR * 4);
    asm_reads(b, kg * NR * 4);
    asm_reads(comp, NR * 4);
    __asm__ volatile(
        "vmovdqa (%[comp]), %%ymm0\n\t"
        "vmovdqa 32(%[comp]), %%ymm1\n\t"
        "vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm1, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm1, %%ymm5\n\t"
        "vmovdqa %%ymm0, %%ymm6\n\t vmovdqa %%ymm1, %%ymm7\n\t"
        "vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm1, %%ymm9\n\t"
        "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm1, %%ymm11\n\t"
        "1:\n\t"
        "vmovdqa (%[b]), %%ymm12\n\t"
        "vmovdqa 32(%[b]), %%ymm13\n\t"
        ROW_STEP(0, 0, 1, 14) ROW_STEP(1, 2, 3, 15) ROW_STEP(2, 4, 5, 14)
        ROW_STEP(3, 6, 7, 15) ROW_STEP(4, 8, 9, 14) ROW_STEP(5, 10, 11, 15)
        "add $24, %[a]\n\t"
        "add $64, %[b]\n\t"
        "dec %[kg]\n\t"
        "jnz 1b\n\t"
        ROW_SAVE(0, 0, 1) ROW_SAVE(1, 2, 3) ROW_SAVE(2, 4, 5)
        ROW_SAVE(3, 6, 7) ROW_SAVE(4, 8, 9) ROW_SAVE(5, 10, 11)
        : [a] "+r"(a), [b] "+r"(b), [kg] "+r"(kg)
        : [comp] "r"(comp), [t] "r"(t)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    add_tile(c, ldc, t, MR, NR, add);
}

void matmul_i8_avxvnni(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
