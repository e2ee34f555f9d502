// int8 matmul with AVX512-VNNI: vpdpbusd on zmm, 64 multiply-adds per instruction.
//
// vpdpbusd multiplies u8 by s8, so A is offset into u8 (a + 128, an xor with
// 0x80) and the offset is taken back with the column sums of B:
//   sum_p a_ip b_pj = sum_p (a_ip + 128) b_pj - 128 sum_p b_pj.
// Products are at most 255 * 128 and four of them fit the int32 lane, so nothing
// saturates; int32 wraps modulo 2^32, so c is exact whenever the true sum fits
// (|c| <= k * 128 * 128, k < 131072).
// The loop nest around the micro-kernel: gemm_driver.h.
#include <immintrin.h>

#include "../kernels.h"
#include "gemm_config.h"

// 6x64 micro-tile: 6 x 4 = 24 zmm accumulators, 4 for B, 1 for A, of 32
#define MR GEMM_I8_AVX512VNNI_MR
#define NR GEMM_I8_AVX512VNNI_NR
#define GEMM_ID GEMM_I8_AVX512VNNI // its blocking: gemm_blocking(GEMM_ID)
_Static_assert(MR == 6 && NR == 64, "the assembly below computes a 6x64 tile");

typedef int8_t gemm_in;
typedef int32_t gemm_out;
struct packed_a {
    uint8_t *v; // a + 128 as u8, rows of kc rounded up to 64 bytes
};
struct packed_b {
    int8_t *v;     // groups of 4 k, NR columns of 4 bytes each
    int32_t *comp; // -128 * column sums of the packed B block, before v in the buffer
};
#define A_BYTES(mc, kc) ((size_t)(mc) * (((kc) + 63) & ~63))
#define B_BYTES(kc, nc) ((size_t)(nc) * sizeof(int32_t) + (size_t)((kc) + 3) / 4 * (nc) * 4)
#define GEMM_B_COMP
#define GEMM_SMALL
#include "gemm_driver.h"

// B rows [0, kc) x columns [0, w), w <= 16 -> 16 columns of 4-k groups, a group
// each step bytes from the last, zero padded; their -128 * column sums -> comp.
static void pack_b16(int8_t *dst, size_t step, int32_t *comp, const int8_t *b, int ldb, int kc, int w) {
    const __m512i ones = _mm512_set1_epi8(1);
    __mmask16 mk = (__mmask16)((1u << w) - 1);
    __m512i sum = _mm512_setzero_si512();
    for (int p = 0; p < kc; p += 4, dst += step) {
        const int8_t *src = b + (size_t)p * ldb;
        __m128i zero = _mm_setzero_si128();
        __m128i r0 = _mm_maskz_loadu_epi8(mk, src);
        __m128i r1 = p + 1 < kc ? _mm_maskz_loadu_epi8(mk, src + ldb) : zero;
        __m128i r2 = p + 2 < kc ? _mm_maskz_loadu_epi8(mk, src + 2 * (size_t)ldb) : zero;
        __m128i r3 = p + 3 < kc ? _mm_maskz_loadu_epi8(mk, src + 3 * (size_t)ldb) : zero;
        // transpose 4 rows x 16 columns into 16 columns of 4 consecutive k
        __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
        __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
        __m512i v = _mm512_castsi128_si512(_mm_unpacklo_epi16(t0, t2));
        v = _mm512_inserti32x4(v, _mm_unpackhi_epi16(t0, t2), 1);
        v = _mm512_inserti32x4(v, _mm_unpacklo_epi16(t1, t3), 2);
        v = _mm512_inserti32x4(v, _mm_unpackhi_epi16(t1, t3), 3);
        _mm512_store_si512(dst, v);
        sum = _mm512_dpbusd_epi32(sum, ones, v);
    }
    _mm512_store_si512(comp, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, 7)));
}

// B rows [0, kc) x columns [0, nc) -> NR-column panels of 4-k groups from column j0 on, zero padded.
static void pack_b(struct packed_b *pb, int j0, const int8_t *b, int ldb, int kc, int nc) {
    int kg = (kc + 3) / 4, ncr = (nc + NR - 1) / NR * NR;
    int8_t *bp = pb->v + (size_t)j0 * kg * 4;
    for (int j = 0; j < ncr; j += 16) {
        int w = nc - j < 0 ? 0 : nc - j < 16 ? nc - j : 16;
        pack_b16(bp + (size_t)(j / NR) * kg * NR * 4 + (j % NR) * 4, NR * 4, pb->comp + j0 + j, b + j, ldb, kc, w);
    }
}

// A rows [0, mc) x columns [0, kc) -> u8 rows lda = kc rounded up to 64 bytes,
// rows past mc zero. Padded k is harmless: it meets zeros in B.
static void pack_a(struct packed_a *pa, const int8_t *a, int lda, int mc, int kc) {
    int ldp = (kc + 63) & ~63, mcr = (mc + MR - 1) / MR * MR;
    uint8_t *ap = pa->v;
    const __m512i off = _mm512_set1_epi8((char)0x80);
    for (int i = 0; i < mcr; i++, ap += ldp) {
        const int8_t *row = a + (size_t)i * lda;
        for (int p = 0; p < ldp; p += 64) {
            __m512i x = _mm512_setzero_si512();
            if (i < mc) {
                __mmask64 mk = kc - p >= 64 ? ~0ull : (1ull << (kc - p)) - 1;
                x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mk, row + p), off);
            }
            _mm512_store_si512(ap + p, x);
        }
    }
}

// The micro-kernel's core is assembly: GCC 12 keeps the 24 zmm accumulators
// in registers but also stores all of them to the stack on every k step.
// Accumulators zmm0-23 (row i in zmm 4i..4i+3), B in zmm28-31, A broadcast in zmm27.
// A's rows are read as six streams: rows 0-2 at a + {0,1,2} lda, rows 3-5 at a3.
#define ROW_INIT(x, y, z, w) \
    "vmovdqa64 %%zmm0, %%zmm" #x "\n\t vmovdqa64 %%zmm1, %%zmm" #y "\n\t" \
    "vmovdqa64 %%zmm2, %%zmm" #z "\n\t vmovdqa64 %%zmm3, %%zmm" #w "\n\t"
#define ROW_STEP(src, x, y, z, w)                    \
    "vpbroadcastd " src ", %%zmm27\n\t"              \
    "vpdpbusd %%zmm28, %%zmm27, %%zmm" #x "\n\t"     \
    "vpdpbusd %%zmm29, %%zmm27, %%zmm" #y "\n\t"     \
    "vpdpbusd %%zmm30, %%zmm27, %%zmm" #z "\n\t"     \
    "vpdpbusd %%zmm31, %%zmm27, %%zmm" #w "\n\t"
// c's rows are written as six streams too: rows 0-2 at c + {0,1,2} ldc, rows 3-5 at c3
#define ROW_ADD(row, x, y, z, w)                              \
    "vpaddd (" row "), %%zmm" #x ", %%zmm" #x "\n\t"          \
    "vpaddd 64(" row "), %%zmm" #y ", %%zmm" #y "\n\t"        \
    "vpaddd 128(" row "), %%zmm" #z ", %%zmm" #z "\n\t"       \
    "vpaddd 192(" row "), %%zmm" #w ", %%zmm" #w "\n\t"
#define ROW_SAVE(row, x, y, z, w)                          \
    "vmovdqu32 %%zmm" #x ", (" row ")\n\t"                 \
    "vmovdqu32 %%zmm" #y ", 64(" row ")\n\t"               \
    "vmovdqu32 %%zmm" #z ", 128(" row ")\n\t"              \
    "vmovdqu32 %%zmm" #w ", 192(" row ")\n\t"
#define ROWS(op)                                                                               \
    op("%[c]", 0, 1, 2, 3) op("%[c],%[ldc]", 4, 5, 6, 7) op("%[c],%[ldc],2", 8, 9, 10, 11)       \
    op("%[c3]", 12, 13, 14, 15) op("%[c3],%[ldc]", 16, 17, 18, 19) op("%[c3],%[ldc],2", 20, 21, 22, 23)

static void tile(int32_t *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0, int kc,
                 int add) {
    long kg = (kc + 3) / 4, lda = (kc + 63) & ~63;
    const uint8_t *a = pa->v + (size_t)i0 * lda;
    const int8_t *b = pb->v + (size_t)j0 * kg * 4;
    const int32_t *comp = pb->comp + j0;
    const uint8_t *a3 = a + 3 * lda;
    int32_t *c3 = c + 3 * (size_t)ldc;
    long ldc_bytes = (long)ldc * 4, adds = add;
    for (int i = 0; i < MR; i++) asm_reads(a + i * lda, kg * 4);
    asm_reads(b, kg * NR * 4);
    asm_reads(comp, NR * 4);
    for (int i = 0; i < MR; i++) {
        if (add) asm_reads(c + (size_t)i * ldc, NR * 4);
        asm_writes(c + (size_t)i * ldc, NR * 4);
    }
    // c is read or written once per KC: ask for it early
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j += 16) _mm_prefetch((const char *)(c + (size_t)i * ldc + j), _MM_HINT_T0);
    __asm__ volatile(
        "vmovdqa64 (%[comp]), %%zmm0\n\t"
        "vmovdqa64 64(%[comp]), %%zmm1\n\t"
        "vmovdqa64 128(%[comp]), %%zmm2\n\t"
        "vmovdqa64 192(%[comp]), %%zmm3\n\t"
        ROW_INIT(4, 5, 6, 7) ROW_INIT(8, 9, 10, 11) ROW_INIT(12, 13, 14, 15)
        ROW_INIT(16, 17, 18, 19) ROW_INIT(20, 21, 22, 23)
        "1:\n\t"
        "vmovdqa64 (%[b]), %%zmm28\n\t"
        "vmovdqa64 64(%[b]), %%zmm29\n\t"
        "vmovdqa64 128(%[b]), %%zmm30\n\t"
        "vmovdqa64 192(%[b]), %%zmm31\n\t"
        ROW_STEP("(%[a])", 0, 1, 2, 3)
        ROW_STEP("(%[a],%[lda])", 4, 5, 6, 7)
        ROW_STEP("(%[a],%[lda],2)", 8, 9, 10, 11)
        ROW_STEP("(%[a3])", 12, 13, 14, 15)
        ROW_STEP("(%[a3],%[lda])", 16, 17, 18, 19)
        ROW_STEP("(%[a3],%[lda],2)", 20, 21, 22, 23)
        "add $4, %[a]\n\t"
        "add $4, %[a3]\n\t"
        "add $256, %[b]\n\t"
        "dec %[kg]\n\t"
        "jnz 1b\n\t"
        "test %[adds], %[adds]\n\t"
        "jz 2f\n\t"
        ROWS(ROW_ADD)
        "2:\n\t"
        ROWS(ROW_SAVE)
        : [a] "+r"(a), [a3] "+r"(a3), [b] "+r"(b), [kg] "+r"(kg)
        : [lda] "r"(lda), [comp] "r"(comp), [c] "r"(c), [c3] "r"(c3), [ldc] "r"(ldc_bytes), [adds] "r"(adds)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",
          "xmm21", "xmm22", "xmm23", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

// The small-matrix path (BLIS's "sup"; as in matmul_avx512.c): a small GEMM costs
// more in packing a into padded rows and in 6x64 edge tiles computed whole than in
// its products. Here a is read where it lies, 4 bytes (a group of k) of a row
// at a time, offset to u8 as it is broadcast; b, whose 4 rows of a group
// vpdpbusd needs side by side, is packed 16 columns at a time (pack_b16) into
// this thread's buffer for b and read by every block of rows. Exact, as the
// packed path. That buffer grows with k, so only a k of at most GEMM_KC_MAX
// takes this path (gemm_config.c, small_k_max): no longer than the packed
// path's blocks.
#define SMALL_ROWS 8 // 8 accumulators, each a chain of vpdpbusd

// the group of k at p of a row, its first bytes bytes (the rest zero), offset
// to u8 (a + 128) and broadcast; bytes a constant where it is inlined. A whole
// group is broadcast from memory (a load), then offset; a short one, the last
// of a row, is put together in a register: from a copy through memory it would
// wait on the stores of its parts.
static inline __attribute__((always_inline)) __m512i a_group(const int8_t *a, int p, int bytes) {
    const __m512i off = _mm512_set1_epi8((char)0x80);
    if (bytes == 4) {
        uint32_t x;
        memcpy(&x, a + p, 4); // little-endian: byte q is k p + q
        return _mm512_xor_si512(_mm512_set1_epi32((int)x), off);
    }
    uint32_t x = (uint8_t)a[p];
    if (bytes > 1) x |= (uint32_t)(uint8_t)a[p + 1] << 8;
    if (bytes > 2) x |= (uint32_t)(uint8_t)a[p + 2] << 16;
    return _mm512_xor_si512(_mm512_set1_epi32((int)x), off);
}

// acc[i] += row i of a, group of k at p (its first bytes bytes) x bv, for rows [0, rows)
static inline __attribute__((always_inline)) void small_step(__m512i *acc, const int8_t *a, int lda, int p,
                                                             int bytes, __m512i bv, int rows) {
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a_group(a + (size_t)i * lda, p, bytes), bv);
}

// c (rows,w) = a (rows,k) @ b (k,w), w <= 16, the columns in mk; b packed by
// pack_b16 (bq, its comp); rows a constant where it is inlined
static inline __attribute__((always_inline)) void small_rows(int32_t *restrict c, int ldc, const int8_t *restrict a,
                                                             int lda, const int8_t *restrict bq,
                                                             const int32_t *restrict comp, int k, int rows,
                                                             __mmask16 mk) {
    __m512i acc[SMALL_ROWS];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i] = _mm512_load_si512(comp);
    int p = 0;
    for (; p + 4 <= k; p += 4, bq += 64) small_step(acc, a, lda, p, 4, _mm512_load_si512(bq), rows);
    // the last group's bytes past k would be the next row's, or past a: not read
    if (k - p == 3) small_step(acc, a, lda, p, 3, _mm512_load_si512(bq), rows);
    if (k - p == 2) small_step(acc, a, lda, p, 2, _mm512_load_si512(bq), rows);
    if (k - p == 1) small_step(acc, a, lda, p, 1, _mm512_load_si512(bq), rows);
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) _mm512_mask_storeu_epi32(c + (size_t)i * ldc, mk, acc[i]);
}

static void small(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    // comp, then the groups: 64 bytes each
    int8_t *buf = gemm_buffer(GEMM_BUF_B, 64 + (size_t)(k + 3) / 4 * 64), *bq = buf + 64;
    int32_t *comp = (int32_t *)buf;
    for (int j = 0; j < n; j += 16) {
        int w = n - j < 16 ? n - j : 16, i = 0;
        __mmask16 mk = (__mmask16)((1u << w) - 1);
        pack_b16(bq, 64, comp, b + j, n, k, w);
        int32_t *cj = c + j;
        for (; i + 8 <= m; i += 8) small_rows(cj + (size_t)i * n, n, a + (size_t)i * k, k, bq, comp, k, 8, mk);
        if (m - i >= 4) small_rows(cj + (size_t)i * n, n, a + (size_t)i * k, k, bq, comp, k, 4, mk), i += 4;
        if (m - i >= 2) small_rows(cj + (size_t)i * n, n, a + (size_t)i * k, k, bq, comp, k, 2, mk), i += 2;
        if (m - i >= 1) small_rows(cj + (size_t)i * n, n, a + (size_t)i * k, k, bq, comp, k, 1, mk);
    }
}

void matmul_i8_avx512vnni(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
