// int8 matmul with plain AVX2: int8 sign-extended to int16, then vpmaddwd.
//
// vpmaddwd multiplies int16 pairs and adds each pair into an int32 lane:
// 2 * 128 * 128 = 32768 fits, so it is exact (vpmaddubsw would saturate its
// int16 sums). vpaddd then accumulates in int32, which wraps modulo 2^32, so c
// is exact whenever the true sum fits (|c| <= k * 128 * 128, k < 131072).
// No offset is needed: both operands stay signed.
// The loop nest around the micro-kernel: gemm_driver.h; a small GEMM takes
// small() (below) instead.
#include <immintrin.h>
#include <string.h>

#include "../kernels.h"
#include "gemm_config.h"
#include "tile_i8_6x16.h"

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
#define GEMM_SMALL
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
            int p = 0;
            // 16 k widened at once: 8 pairs, each a 32-bit word of the sliver
            for (; p + 16 <= k2; p += 16) {
                _Alignas(32) uint32_t w[8];
                _mm256_store_si256((__m256i *)w, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(row + p))));
                for (int q = 0; q < 8; q++) dst[(p / 2 + q) * MR] = w[q];
            }
            for (; p < k2; p += 2) dst[p / 2 * MR] = (uint16_t)row[p] | (uint32_t)(uint16_t)row[p + 1] << 16;
            if (k2 < kc) dst[k2 / 2 * MR] = (uint16_t)row[k2];
        }
    }
}

// The micro-kernel's core is assembly: GCC 12 spills register-blocked accumulators
// to the stack on every k step. Accumulators ymm0-11 (row i in ymm 2i, 2i+1),
// B in ymm12-13, A broadcast in ymm14, product in ymm15.
#define ROW_STEP(ao, i, x, y)                           \
    "vpbroadcastd " #ao "+" #i "*4(%[a]), %%ymm14\n\t"  \
    "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n\t"            \
    "vpaddd %%ymm15, %%ymm" #x ", %%ymm" #x "\n\t"      \
    "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n\t"            \
    "vpaddd %%ymm15, %%ymm" #y ", %%ymm" #y "\n\t"
// one pair of k: a's 6 words at ao bytes on, b's 16 pairs at bo
#define K_STEP(ao, bo)                                                      \
    "vmovdqa " #bo "(%[b]), %%ymm12\n\t"                                   \
    "vmovdqa " #bo "+32(%[b]), %%ymm13\n\t"                                \
    ROW_STEP(ao, 0, 0, 1) ROW_STEP(ao, 1, 2, 3) ROW_STEP(ao, 2, 4, 5)       \
    ROW_STEP(ao, 3, 6, 7) ROW_STEP(ao, 4, 8, 9) ROW_STEP(ao, 5, 10, 11)
static void tile(int32_t *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0, int kc,
                 int add) {
    long kg = (kc + 1) / 2, ldc_bytes = (long)ldc * 4, adds = add;
    const uint32_t *a = pa->v + (size_t)i0 * kg;
    const int16_t *b = pb->v + (size_t)j0 * kg * 2;
    int32_t *c3 = c + 3 * (size_t)ldc;
    asm_reads(a, kg * MR * 4);
    asm_reads(b, kg * NR * 4);
    for (int i = 0; i < MR; i++) {
        if (add) asm_reads(c + (size_t)i * ldc, NR * 4);
        asm_writes(c + (size_t)i * ldc, NR * 4);
    }
    // c is read or written once per KC: ask for it early
    for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
    __asm__ volatile(
        "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
        "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"
        "vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm1, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm1, %%ymm5\n\t"
        "vmovdqa %%ymm0, %%ymm6\n\t vmovdqa %%ymm1, %%ymm7\n\t"
        "vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm1, %%ymm9\n\t"
        "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm1, %%ymm11\n\t"
        TILE_K_LOOP
        TILE_STORE
        : [a] "+r"(a), [b] "+r"(b), [kg] "+r"(kg)
        : [c] "r"(c), [c3] "r"(c3), [ldc] "r"(ldc_bytes), [adds] "r"(adds)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// The small-matrix path (BLIS's "sup"; as in matmul_i8_avx512vnni.c): a small
// GEMM costs more in packing a into 6-row slivers, in the blocking and buffers'
// set-up and in edge tiles computed whole than in its products. Here a is
// widened to int16 once, whole, into this thread's buffer for a (pairs of k
// side by side, as vpmaddwd takes them), and b is packed 16 columns at a time
// by pack_b into this thread's buffer for b and read by every block of rows.
// Exact, as the packed path. Those buffers grow with a and k, so only a of at
// most GEMM_MC_MAX x GEMM_KC_MAX takes this path (gemm_config.c, small_m_max
// and small_k_max): no larger than the packed path's blocks.
#define SMALL_ROWS 8 // 8 rows x 1 vector or 4 x 2: 8 accumulators, 2 for b, 1 for a, 1 product

// a (m,k) -> m rows of (k + 1) / 2 pairs of int16, an odd k's last pair ending in 0
static void widen_a(int16_t *restrict dst, const int8_t *restrict a, int m, int k) {
    int ld = (k + 1) / 2 * 2;
    for (int i = 0; i < m; i++, dst += ld, a += k) {
        int p = 0;
        for (; p + 16 <= k; p += 16)
            _mm256_storeu_si256((__m256i *)(dst + p), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + p))));
        for (; p < k; p++) dst[p] = a[p];
        if (k < ld) dst[k] = 0;
    }
}

// c (rows,w) = a (rows, 2 kg) @ b (2 kg,w), w <= 8 * nv: a widened (widen_a, row
// stride lda), b packed (pack_b, one 16-column sliver); with tail, the last
// vector's columns are those of mask (maskstore skips the others); rows, nv and
// tail are constants where it is inlined
static inline __attribute__((always_inline)) void small_rows(int32_t *restrict c, int ldc, const int16_t *restrict a,
                                                             int lda, const int16_t *restrict bq, int kg, int rows,
                                                             int nv, int tail, __m256i mask) {
    __m256i acc[SMALL_ROWS][2];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    for (int g = 0; g < kg; g++, a += 2, bq += 2 * NR) {
        __m256i b0 = _mm256_load_si256((const __m256i *)bq), b1 = _mm256_setzero_si256();
        if (nv > 1) b1 = _mm256_load_si256((const __m256i *)(bq + NR));
#pragma GCC unroll 8
        for (int i = 0; i < rows; i++) {
            __m256i ai = _mm256_broadcastd_epi32(_mm_loadu_si32(a + (size_t)i * lda));
            acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(ai, b0));
            if (nv > 1) acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(ai, b1));
        }
    }
    small_store(c, ldc, acc, rows, nv, tail, mask);
}

// c (m,w) = a (m,k) @ b (k,w): blocks of 8 rows (one vector wide) or 4 (two), then 4, 2 and 1
static inline __attribute__((always_inline)) void small_cols(int32_t *c, int ldc, const int16_t *a, int lda,
                                                             const int16_t *bq, int m, int kg, int nv, int tail,
                                                             __m256i mask) {
    int i = 0;
    if (nv == 1)
        for (; i + 8 <= m; i += 8)
            small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, bq, kg, 8, nv, tail, mask);
    for (; i + 4 <= m; i += 4) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, bq, kg, 4, nv, tail, mask);
    if (m - i >= 2) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, bq, kg, 2, nv, tail, mask), i += 2;
    if (m - i >= 1) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, bq, kg, 1, nv, tail, mask);
}

static void small(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    int kg = (k + 1) / 2;
    int16_t *a16 = gemm_buffer(GEMM_BUF_A, (size_t)m * kg * 4);
    struct packed_b pb = {gemm_buffer(GEMM_BUF_B, B_BYTES(k, NR))};
    widen_a(a16, a, m, k);
    for (int j = 0; j < n; j += NR) {
        int w = n - j < NR ? n - j : NR, nv = w > 8 ? 2 : 1, tail = w % 8 != 0;
        // lanes [0, w % 8) of the last vector
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(w % 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        pack_b(&pb, 0, b + j, n, k, w);
        int32_t *cj = c + j;
        if (nv == 2 && tail) small_cols(cj, n, a16, 2 * kg, pb.v, m, kg, 2, 1, mask);
        else if (nv == 2) small_cols(cj, n, a16, 2 * kg, pb.v, m, kg, 2, 0, mask);
        else if (tail) small_cols(cj, n, a16, 2 * kg, pb.v, m, kg, 1, 1, mask);
        else small_cols(cj, n, a16, 2 * kg, pb.v, m, kg, 1, 0, mask);
    }
}

void matmul_i8_avx2(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
