// fp32 matmul, AVX-512F + FMA, GotoBLAS/BLIS style: pack an MC x KC block of a into
// MR-row slivers and a KC x NC block of b into NR-column slivers, then run a 14x32
// register-blocked micro-kernel over them. On one or two threads, the first tile of
// each whole sliver of b in the first block of rows a thread takes in a pass packs
// the sliver as it reads it (GEMM_FUSED_TILE). A small GEMM skips all that (small(), below).
// Accumulator: float, one FMA per product;
// each c element sums its k products in order within a KC block and adds the blocks
// in order, so the error stays within Higham's gamma_k * sum |a||b| (kernels.c).
#include <immintrin.h>

#include "../kernels.h"
#include "gemm_config.h"

// 14x32 micro-tile: 28 zmm accumulators + 2 for b + 1 broadcast of a. 28 independent
// FMA chains cover Zen 5's 2 pipes x 4 cycles latency 3.5 times over, and each k step
// loads 2 vectors and 14 scalars for 28 FMAs, well within 2 loads per cycle.
// The b sliver streams from L2 (gemm_config.h): 128 B a k step, one step per 14 cycles.
#define MR GEMM_F32_AVX512_MR
#define NR GEMM_F32_AVX512_NR
#define GEMM_ID GEMM_F32_AVX512 // its blocking: gemm_blocking(GEMM_ID)
_Static_assert(MR == 14 && NR == 32, "kernel_rows() holds a 14x32 tile in 28 zmm; pack_a transposes 14 rows");

#define GEMM_SHORT_TILE
#define GEMM_FUSED_TILE
typedef float gemm_in, gemm_out;
struct packed_a { float *v; }; // MR-row slivers, each (kc,MR)
struct packed_b { float *v; }; // NR-column slivers, each (kc,NR)
#define A_BYTES(mc, kc) ((size_t)(mc) * (kc) * sizeof(float))
#define B_BYTES(kc, nc) ((size_t)(kc) * (nc) * sizeof(float))
#define GEMM_SMALL
#include "gemm_driver.h"

// acc += rows [0, rows) of a (MR) x b (NR), one k step: 2 loads of b, a broadcast and 2 FMAs a row.
// With pack, b is a row of the matrix itself, stored to pack as it is used.
static inline __attribute__((always_inline)) void step(__m512 acc[MR][2], const float *restrict a,
                                                       const float *restrict b, float *restrict pack, int rows) {
    __m512 b0, b1;
    if (pack) {
        b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm512_store_ps(pack, b0);
        _mm512_store_ps(pack + 16, b1);
    } else {
        b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
    }
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
        __m512 ai = _mm512_set1_ps(a[i]);
        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
}

// k steps before the end at which the kernel starts fetching c
#define C_AHEAD 32
// Rows of b ahead of the one in use that a fused tile fetches. b comes from memory
// there, one row of 128 bytes a step, each row on another page when rows are 4 KiB
// apart; without these prefetches the fused tile saved nothing on Zen 5. 48 steps
// are about 670 cycles; measured against 16, 32, 64 and 128.
#define B_AHEAD 48

// c (mr,NR) = or += rows [0, mr) of a sliver (kc,MR) @ b (kc,NR), row stride ldb.
// Without pack, b is a packed sliver (ldb = NR); with pack, b is the matrix itself,
// and each of its rows is stored to pack, making the packed sliver.
// rows, a constant where it is inlined, is how many rows are computed: mr <= rows <= MR.
static inline __attribute__((always_inline)) void kernel_rows(float *restrict c, long ldc, const float *restrict a,
                                                              const float *restrict b, long ldb,
                                                              float *restrict pack, int kc, int first, int rows,
                                                              int mr) {
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    int p = 0;
    if (pack)
        for (; p < kc - B_AHEAD; p++, a += MR, b += ldb, pack += NR) {
            // NR floats span three lines unless they start one
            _mm_prefetch((const char *)(b + B_AHEAD * ldb), _MM_HINT_T0);
            _mm_prefetch((const char *)(b + B_AHEAD * ldb + NR / 2), _MM_HINT_T0);
            _mm_prefetch((const char *)(b + B_AHEAD * ldb + NR - 1), _MM_HINT_T0);
            step(acc, a, b, pack, rows);
        }
    // c is read or written last. Fetched at the start, it would be evicted by the
    // slivers streaming through L1 long before that; a few steps ahead, it arrives in time.
    for (; p < kc - C_AHEAD; p++, a += MR, b += ldb, pack += pack ? NR : 0) step(acc, a, b, pack, rows);
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++)
        if (i < mr) {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
        }
    for (; p < kc; p++, a += MR, b += ldb, pack += pack ? NR : 0) step(acc, a, b, pack, rows);
#pragma GCC unroll 14
    for (int i = 0; i < rows; i++) {
        if (i >= mr) break;
        float *ci = c + i * ldc;
        if (!first) {
            acc[i][0] = _mm512_add_ps(_mm512_loadu_ps(ci), acc[i][0]);
            acc[i][1] = _mm512_add_ps(_mm512_loadu_ps(ci + 16), acc[i][1]);
        }
        _mm512_storeu_ps(ci, acc[i][0]);
        _mm512_storeu_ps(ci + 16, acc[i][1]);
    }
}

static void kernel(float *restrict c, long ldc, const float *restrict a, const float *restrict b, int kc, int first) {
    kernel_rows(c, ldc, a, b, NR, NULL, kc, first, MR, MR);
}

// dst[i], dst[i + d] = lanes 0 and 2, lanes 1 and 3 of src[i] then src[i + d], for each i
// without bit d: a step of a 16x16 transpose
static inline __attribute__((always_inline)) void lanes(__m512 *dst, const __m512 *src, int d) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        if (!(i & d)) {
            dst[i] = _mm512_shuffle_f32x4(src[i], src[i + d], 0x88);
            dst[i + d] = _mm512_shuffle_f32x4(src[i], src[i + d], 0xdd);
        }
}

// pa[p * MR + r] = a[r * lda + p] for 16 columns p of the MR rows r: a 16x16
// transpose with two zero rows
static inline void transpose14x16(float *restrict pa, const float *restrict a, int lda) {
    __m512 r[16], t[16];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) r[i] = _mm512_loadu_ps(a + (size_t)i * lda);
    r[14] = r[15] = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    // r[4q + j], 128-bit lane l: rows 4q..4q+3 of column 4l + j. Gather lane l of
    // r[j], r[4 + j], r[8 + j], r[12 + j] into r[4l + j]
    lanes(t, r, 4);
    lanes(r, t, 8);
    // r[p] = column p; each store also writes 2 floats of the next column, which the next store rewrites
#pragma GCC unroll 15
    for (int p = 0; p < 15; p++) _mm512_storeu_ps(pa + p * MR, r[p]);
    _mm512_mask_storeu_ps(pa + 15 * MR, (1 << MR) - 1, r[15]);
}

// a block (mc,kc), row stride lda -> MR-row slivers, each (kc,MR), short sliver zero-padded
static void pack_a(struct packed_a *packed, const float *restrict a, int lda, int mc, int kc) {
    float *restrict pa = packed->v;
    for (int i0 = 0; i0 < mc; i0 += MR, pa += MR * kc) {
        int mr = mc - i0 < MR ? mc - i0 : MR;
        const float *ai = a + (size_t)i0 * lda;
        int p = 0;
        // 16 columns, a whole cache line of each row, at a time: with a power-of-two
        // lda the rows share an L1 set, and a line left half read would be evicted
        if (mr == MR)
            for (; p + 16 <= kc; p += 16) transpose14x16(pa + p * MR, ai + p, lda);
        for (; p < kc; p++)
            for (int i = 0; i < MR; i++) pa[p * MR + i] = i < mr ? ai[(size_t)i * lda + p] : 0.0f;
    }
}

// b block (kc,nc), row stride ldb -> NR-column slivers from column j0 on, each (kc,NR), short sliver zero-padded
static void pack_b(struct packed_b *packed, int j0, const float *restrict b, int ldb, int kc, int nc) {
    float *restrict pb = packed->v + (size_t)j0 * kc;
    int nfull = nc / NR * NR;
    // a band of 8 rows at a time, across all the slivers: b is read in whole rows from
    // a few pages at once (a sliver at a time reads a new page every row), and each
    // sliver is written 1 KiB at a time
    for (int p0 = 0; p0 < kc; p0 += 8) {
        int p1 = p0 + 8 < kc ? p0 + 8 : kc;
        float *dst = pb;
        for (int j = 0; j < nfull; j += NR, dst += NR * kc) {
            const float *bp = b + (size_t)p0 * ldb + j;
            for (int p = p0; p < p1; p++, bp += ldb) {
                _mm512_store_ps(dst + p * NR, _mm512_loadu_ps(bp));
                _mm512_store_ps(dst + p * NR + 16, _mm512_loadu_ps(bp + 16));
            }
        }
    }
    if (nfull < nc) {
        int nr = nc - nfull;
        float *dst = pb + (size_t)nfull * kc;
        for (int p = 0; p < kc; p++) {
            const float *bp = b + (size_t)p * ldb + nfull;
            for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? bp[j] : 0.0f;
        }
    }
}

static void tile(float *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0, int kc,
                 int add) {
    kernel(c, ldc, pa->v + (size_t)i0 * kc, pb->v + (size_t)j0 * kc, kc, !add);
}

// A short tile computes 4 or 7 rows rather than 14: the padding rows of the
// sliver are zero, and only mr rows are written.
static void short_tile(float *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0,
                       int kc, int add, int mr) {
    const float *a = pa->v + (size_t)i0 * kc, *b = pb->v + (size_t)j0 * kc;
    if (mr <= 4) kernel_rows(c, ldc, a, b, NR, NULL, kc, !add, 4, mr);
    else if (mr <= 7) kernel_rows(c, ldc, a, b, NR, NULL, kc, !add, 7, mr);
    else kernel_rows(c, ldc, a, b, NR, NULL, kc, !add, MR, mr);
}

static void fused_tile(float *c, int ldc, const struct packed_a *pa, struct packed_b *pb, int j0, const float *b,
                       int ldb, int kc, int add) {
    kernel_rows(c, ldc, pa->v, b, ldb, pb->v + (size_t)j0 * kc, kc, !add, MR, MR);
}

// The small-matrix path (BLIS's "sup": small, unpacked). A small GEMM costs more
// in packing, with its zero padding to whole slivers, and in edge tiles computed
// whole than in its multiply-adds: this reads a and b where they lie, a broadcast
// of a and a row of b (masked loads on the column tail) a k step, a block of rows
// at a time. Each c element sums its k products in order from zero, one FMA each,
// as a packed tile does: where k fits one KC block, the two paths agree bit for bit.
#define SMALL_ROWS 8 // 8 rows x 2 vectors: 16 accumulators, 2 for b, 1 for a

// As small_rows for w <= 8, the columns in m0, in one ymm: a zmm would take as
// long a multiply-add for half its lanes idle
static inline __attribute__((always_inline)) void small_rows_ymm(float *restrict c, int ldc, const float *restrict a,
                                                                 int lda, const float *restrict b, int ldb, int k,
                                                                 int rows, __mmask8 m0) {
    __m256 acc[SMALL_ROWS];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i] = _mm256_setzero_ps();
    for (int p = 0; p < k; p++, a++, b += ldb) {
        __m256 b0 = _mm256_maskz_loadu_ps(m0, b);
#pragma GCC unroll 8
        for (int i = 0; i < rows; i++) acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(a[(size_t)i * lda]), b0, acc[i]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) _mm256_mask_storeu_ps(c + (size_t)i * ldc, m0, acc[i]);
}

// c (rows,w) = a (rows,k) @ b (k,w), w <= 16 * nv, the last vector's columns in m1
// (or m0 when nv is 1; nv 0: one ymm, small_rows_ymm); rows and nv are constants
// where it is inlined
static inline __attribute__((always_inline)) void small_rows(float *restrict c, int ldc, const float *restrict a,
                                                             int lda, const float *restrict b, int ldb, int k,
                                                             int rows, int nv, __mmask16 m0, __mmask16 m1) {
    if (nv == 0) {
        small_rows_ymm(c, ldc, a, lda, b, ldb, k, rows, (__mmask8)m0);
        return;
    }
    __m512 acc[SMALL_ROWS][2];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++, a++, b += ldb) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = nv > 1 ? _mm512_maskz_loadu_ps(m1, b + 16) : b0;
#pragma GCC unroll 8
        for (int i = 0; i < rows; i++) {
            __m512 ai = _mm512_set1_ps(a[(size_t)i * lda]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            if (nv > 1) acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) {
        _mm512_mask_storeu_ps(c + (size_t)i * ldc, m0, acc[i][0]);
        if (nv > 1) _mm512_mask_storeu_ps(c + (size_t)i * ldc + 16, m1, acc[i][1]);
    }
}

// c (m,w) = a (m,k) @ b (k,w): blocks of 8 rows, then 4, 2 and 1
static inline __attribute__((always_inline)) void small_cols(float *c, int ldc, const float *a, const float *b,
                                                             int ldb, int m, int k, int nv, __mmask16 m0,
                                                             __mmask16 m1) {
    int i = 0;
    for (; i + 8 <= m; i += 8) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 8, nv, m0, m1);
    if (m - i >= 4) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 4, nv, m0, m1), i += 4;
    if (m - i >= 2) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 2, nv, m0, m1), i += 2;
    if (m - i >= 1) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 1, nv, m0, m1);
}

static void small(float *c, const float *a, const float *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    for (int j = 0; j < n; j += 32) {
        int w = n - j < 32 ? n - j : 32;
        __mmask16 m0 = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
        __mmask16 m1 = w >= 32 ? 0xffff : w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0;
        if (w > 16) small_cols(c + j, n, a, b + j, n, m, k, 2, m0, m1);
        else if (w > 8) small_cols(c + j, n, a, b + j, n, m, k, 1, m0, m1);
        else small_cols(c + j, n, a, b + j, n, m, k, 0, m0, m1);
    }
}

void matmul_f32_avx512(float *c, const float *a, const float *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
