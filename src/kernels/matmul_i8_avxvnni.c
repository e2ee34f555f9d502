// int8 matmul with AVX-VNNI: vpdpbusd on ymm, 32 multiply-adds per instruction.
//
// vpdpbusd multiplies u8 by s8, so A is offset into u8 (a + 128, an xor with
// 0x80) and the offset is taken back with the column sums of B:
//   sum_p a_ip b_pj = sum_p (a_ip + 128) b_pj - 128 sum_p b_pj.
// Products are at most 255 * 128 and four of them fit the int32 lane, so nothing
// saturates; int32 wraps modulo 2^32, so c is exact whenever the true sum fits
// (|c| <= k * 128 * 128, k < 131072).
// The loop nest around the micro-kernel: gemm_driver.h; a small GEMM takes
// small() (below) instead.
//
// The tests also build it with vpdpbusd's AVX512-VNNI encoding: avxvnni.h.
#include <immintrin.h>
#include <string.h>

#include "avxvnni.h" // before kernels.h: the EVEX build's names
#include "../kernels.h"
#include "gemm_config.h"
#include "tile_i8_6x16.h"

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
#define GEMM_SMALL
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
    const __m256i off = _mm256_set1_epi8((char)0x80);
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
            // 32 k offset at once: 8 groups, each a 32-bit word of the sliver
            for (; p + 32 <= k4; p += 32) {
                _Alignas(32) uint32_t w[8];
                _mm256_store_si256((__m256i *)w, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row + p)), off));
                for (int q = 0; q < 8; q++) dst[(p / 4 + q) * MR] = w[q];
            }
            for (; p < k4; p += 4) {
                uint32_t x;
                memcpy(&x, row + p, 4);
                dst[p / 4 * MR] = x ^ 0x80808080u;
            }
            if (k4 < kc) {
                uint32_t x = 0;
                for (p = k4; p < kc; p++) x |= (uint32_t)(uint8_t)(row[p] ^ 0x80) << 8 * (p - k4);
                dst[k4 / 4 * MR] = x;
            }
        }
    }
}

// The micro-kernel's core is assembly: GCC 12 spills register-blocked accumulators
// to the stack on every k step. Accumulators ymm0-11 (row i in ymm 2i, 2i+1),
// B in ymm12-13, A broadcast in ymm14-15. VPDPBUSD (avxvnni.h) is the VEX
// (AVX-VNNI) encoding, but in the tests' EVEX build.
#define ROW_STEP(ao, i, x, y, s)                            \
    "vpbroadcastd " #ao "+" #i "*4(%[a]), %%ymm" #s "\n\t"  \
    VPDPBUSD "%%ymm12, %%ymm" #s ", %%ymm" #x "\n\t"        \
    VPDPBUSD "%%ymm13, %%ymm" #s ", %%ymm" #y "\n\t"
// one group of 4 k: a's 6 words at ao bytes on, b's 16 groups at bo
#define K_STEP(ao, bo)                                                              \
    "vmovdqa " #bo "(%[b]), %%ymm12\n\t"                                           \
    "vmovdqa " #bo "+32(%[b]), %%ymm13\n\t"                                        \
    ROW_STEP(ao, 0, 0, 1, 14) ROW_STEP(ao, 1, 2, 3, 15) ROW_STEP(ao, 2, 4, 5, 14)   \
    ROW_STEP(ao, 3, 6, 7, 15) ROW_STEP(ao, 4, 8, 9, 14) ROW_STEP(ao, 5, 10, 11, 15)
static void tile(int32_t *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0, int kc,
                 int add) {
    long kg = (kc + 3) / 4, ldc_bytes = (long)ldc * 4, adds = add;
    const uint32_t *a = pa->v + (size_t)i0 * kg;
    const int8_t *b = pb->v + (size_t)j0 * kg * 4;
    const int32_t *comp = pb->comp + j0;
    int32_t *c3 = c + 3 * (size_t)ldc;
    asm_reads(a, kg * MR * 4);
    asm_reads(b, kg * NR * 4);
    asm_reads(comp, NR * 4);
    for (int i = 0; i < MR; i++) {
        if (add) asm_reads(c + (size_t)i * ldc, NR * 4);
        asm_writes(c + (size_t)i * ldc, NR * 4);
    }
    // c is read or written once per KC: ask for it early
    for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
    __asm__ volatile(
        "vmovdqa (%[comp]), %%ymm0\n\t"
        "vmovdqa 32(%[comp]), %%ymm1\n\t"
        "vmovdqa %%ymm0, %%ymm2\n\t vmovdqa %%ymm1, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\t vmovdqa %%ymm1, %%ymm5\n\t"
        "vmovdqa %%ymm0, %%ymm6\n\t vmovdqa %%ymm1, %%ymm7\n\t"
        "vmovdqa %%ymm0, %%ymm8\n\t vmovdqa %%ymm1, %%ymm9\n\t"
        "vmovdqa %%ymm0, %%ymm10\n\t vmovdqa %%ymm1, %%ymm11\n\t"
        TILE_K_LOOP
        TILE_STORE
        : [a] "+r"(a), [b] "+r"(b), [kg] "+r"(kg)
        : [comp] "r"(comp), [c] "r"(c), [c3] "r"(c3), [ldc] "r"(ldc_bytes), [adds] "r"(adds)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// The small-matrix path (BLIS's "sup"; as in matmul_i8_avx512vnni.c, on ymm): a
// small GEMM costs more in packing a into 6-row slivers, in the blocking and
// buffers' set-up and in edge tiles computed whole than in its products. Here a
// is read where it lies, 4 bytes (a group of k) of a row at a time, offset to u8
// as it is broadcast; b, whose 4 rows of a group vpdpbusd needs side by side, is
// packed 16 columns at a time by pack_b (with their comp) into this thread's
// buffer for b and read by every block of rows. Exact, as the packed path.
// That buffer grows with k, so only a k of at most GEMM_KC_MAX takes this path
// (gemm_config.c, small_k_max): no longer than the packed path's blocks.
#define SMALL_ROWS 8 // 8 rows x 1 vector or 4 x 2: 8 accumulators, 2 for b, 1 for a

// the group of k at p of a row, its first bytes bytes (the rest zero), offset
// to u8 (a + 128) and broadcast; bytes a constant where it is inlined. A whole
// group is broadcast from memory (a load), then offset; a short one, the last
// of a row, is put together in a register: from a copy through memory it would
// wait on the stores of its parts.
static inline __attribute__((always_inline)) __m256i a_group(const int8_t *a, int p, int bytes) {
    const __m256i off = _mm256_set1_epi8((char)0x80);
    if (bytes == 4) {
        uint32_t x;
        memcpy(&x, a + p, 4); // little-endian: byte q is k p + q
        return _mm256_xor_si256(_mm256_set1_epi32((int)x), off);
    }
    uint32_t x = (uint8_t)a[p];
    if (bytes > 1) x |= (uint32_t)(uint8_t)a[p + 1] << 8;
    if (bytes > 2) x |= (uint32_t)(uint8_t)a[p + 2] << 16;
    return _mm256_xor_si256(_mm256_set1_epi32((int)x), off);
}

// acc[i] += row i of a, group of k at p (its first bytes bytes) x b0, b1, for rows [0, rows)
static inline __attribute__((always_inline)) void small_step(__m256i (*acc)[2], const int8_t *a, int lda, int p,
                                                             int bytes, const int8_t *bq, int rows, int nv) {
    __m256i b0 = _mm256_load_si256((const __m256i *)bq), b1 = _mm256_setzero_si256();
    if (nv > 1) b1 = _mm256_load_si256((const __m256i *)(bq + 32));
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) {
        __m256i ai = a_group(a + (size_t)i * lda, p, bytes);
        acc[i][0] = dpbusd(acc[i][0], ai, b0);
        if (nv > 1) acc[i][1] = dpbusd(acc[i][1], ai, b1);
    }
}

// c (rows,w) = a (rows,k) @ b (k,w), w <= 8 * nv: b packed (pack_b, one 16-column
// sliver, its comp); with tail, the last vector's columns are those of mask
// (maskstore skips the others); rows, nv and tail are constants where it is inlined
static inline __attribute__((always_inline)) void small_rows(int32_t *restrict c, int ldc, const int8_t *restrict a,
                                                             int lda, const struct packed_b *pb, int k, int rows,
                                                             int nv, int tail, __m256i mask) {
    __m256i acc[SMALL_ROWS][2];
    __m256i c0 = _mm256_load_si256((const __m256i *)pb->comp), c1 = _mm256_setzero_si256();
    if (nv > 1) c1 = _mm256_load_si256((const __m256i *)(pb->comp + 8));
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i][0] = c0, acc[i][1] = c1;
    const int8_t *bq = pb->v;
    int p = 0;
    for (; p + 4 <= k; p += 4, bq += NR * 4) small_step(acc, a, lda, p, 4, bq, rows, nv);
    // the last group's bytes past k would be the next row's, or past a: not read
    if (k - p == 3) small_step(acc, a, lda, p, 3, bq, rows, nv);
    if (k - p == 2) small_step(acc, a, lda, p, 2, bq, rows, nv);
    if (k - p == 1) small_step(acc, a, lda, p, 1, bq, rows, nv);
    small_store(c, ldc, acc, rows, nv, tail, mask);
}

// c (m,w) = a (m,k) @ b (k,w): blocks of 8 rows (one vector wide) or 4 (two), then 4, 2 and 1
static inline __attribute__((always_inline)) void small_cols(int32_t *c, int ldc, const int8_t *a, int lda,
                                                             const struct packed_b *pb, int m, int k, int nv,
                                                             int tail, __m256i mask) {
    int i = 0;
    if (nv == 1)
        for (; i + 8 <= m; i += 8) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, pb, k, 8, nv, tail, mask);
    for (; i + 4 <= m; i += 4) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, pb, k, 4, nv, tail, mask);
    if (m - i >= 2) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, pb, k, 2, nv, tail, mask), i += 2;
    if (m - i >= 1) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * lda, lda, pb, k, 1, nv, tail, mask);
}

static void small(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    // comp, then the groups: B_BYTES's layout for one sliver
    char *buf = gemm_buffer(GEMM_BUF_B, B_BYTES(k, NR));
    struct packed_b pb = {(int8_t *)(buf + NR * sizeof(int32_t)), (int32_t *)buf};
    for (int j = 0; j < n; j += NR) {
        int w = n - j < NR ? n - j : NR, nv = w > 8 ? 2 : 1, tail = w % 8 != 0;
        // lanes [0, w % 8) of the last vector
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(w % 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        pack_b(&pb, 0, b + j, n, k, w);
        int32_t *cj = c + j;
        if (nv == 2 && tail) small_cols(cj, n, a, k, &pb, m, k, 2, 1, mask);
        else if (nv == 2) small_cols(cj, n, a, k, &pb, m, k, 2, 0, mask);
        else if (tail) small_cols(cj, n, a, k, &pb, m, k, 1, 1, mask);
        else small_cols(cj, n, a, k, &pb, m, k, 1, 0, mask);
    }
}

void matmul_i8_avxvnni(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
