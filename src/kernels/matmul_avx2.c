// fp32 matmul, AVX2 + FMA, GotoBLAS/BLIS style: pack an MC x KC block of a into
// MR-row slivers and a KC x NC block of b into NR-column slivers, then run a 6x16
// register-blocked micro-kernel over them; a small GEMM reads a and b unpacked
// (small(), below). Accumulator: float, one FMA per product;
// each c element sums its k products in order within a KC block and adds the blocks
// in order, so the error stays within Higham's gamma_k * sum |a||b| (kernels.c).
#include <immintrin.h>

#include "../kernels.h"
#include "gemm_config.h"

// 6x16 micro-tile: 12 ymm accumulators + 2 for b + 1 broadcast of a, 15 of the 16
// registers. 12 independent FMA chains cover Zen 5's 2 pipes x 4 cycles latency, and
// each k step loads 2 vectors and 6 scalars for 12 FMAs.
#define MR GEMM_F32_AVX2_MR
#define NR GEMM_F32_AVX2_NR
#define GEMM_ID GEMM_F32_AVX2 // its blocking: gemm_blocking(GEMM_ID)
_Static_assert(MR == 6 && NR == 16, "kernel() holds a 6x16 tile in 12 ymm; pack_a transposes 6 rows");

typedef float gemm_in, gemm_out;
struct packed_a { float *v; }; // MR-row slivers, each (kc,MR)
struct packed_b { float *v; }; // NR-column slivers, each (kc,NR)
#define A_BYTES(mc, kc) ((size_t)(mc) * (kc) * sizeof(float))
#define B_BYTES(kc, nc) ((size_t)(kc) * (nc) * sizeof(float))
#define GEMM_SMALL
#include "gemm_driver.h"

// c (MR,NR) = or += a sliver (kc,MR) @ b sliver (kc,NR); both slivers packed.
static void kernel(float *restrict c, long ldc, const float *restrict a, const float *restrict b, int kc, int first) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    // c comes last but is far away (an L3 row per i): start fetching it now
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_set1_ps(a[i]);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR;
        b += NR;
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (!first) {
            acc[i][0] = _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]);
            acc[i][1] = _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]);
        }
        _mm256_storeu_ps(ci, acc[i][0]);
        _mm256_storeu_ps(ci + 8, acc[i][1]);
    }
}

// pa[p * MR + r] = a[r * lda + p] for a 4x4 block
static inline void transpose4(float *restrict pa, const float *restrict a, int lda) {
    __m128 r0 = _mm_loadu_ps(a), r1 = _mm_loadu_ps(a + (size_t)lda);
    __m128 r2 = _mm_loadu_ps(a + 2 * (size_t)lda), r3 = _mm_loadu_ps(a + 3 * (size_t)lda);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(pa, r0);
    _mm_storeu_ps(pa + MR, r1);
    _mm_storeu_ps(pa + 2 * MR, r2);
    _mm_storeu_ps(pa + 3 * MR, r3);
}

// a block (mc,kc), row stride lda -> MR-row slivers, each (kc,MR), short sliver zero-padded
static void pack_a(struct packed_a *packed, const float *restrict a, int lda, int mc, int kc) {
    float *restrict pa = packed->v;
    for (int i0 = 0; i0 < mc; i0 += MR, pa += MR * kc) {
        int mr = mc - i0 < MR ? mc - i0 : MR;
        const float *ai = a + (size_t)i0 * lda;
        int p = 0;
        if (mr == MR)
            for (; p + 4 <= kc; p += 4) {
                // rows 0-3 and 2-5: the overlap rewrites rows 2, 3 with the same values
                transpose4(pa + p * MR, ai + p, lda);
                transpose4(pa + p * MR + MR - 4, ai + (size_t)(MR - 4) * lda + p, lda);
            }
        for (; p < kc; p++)
            for (int i = 0; i < MR; i++) pa[p * MR + i] = i < mr ? ai[(size_t)i * lda + p] : 0.0f;
    }
}

// b block (kc,nc), row stride ldb -> NR-column slivers from column j0 on, each (kc,NR), short sliver zero-padded
static void pack_b(struct packed_b *packed, int j0, const float *restrict b, int ldb, int kc, int nc) {
    float *restrict pb = packed->v + (size_t)j0 * kc;
    int nfull = nc / NR * NR;
    // row by row, so b is read in long contiguous runs
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (size_t)p * ldb;
        float *dst = pb + p * NR;
        for (int j = 0; j < nfull; j += NR, dst += NR * kc) {
            _mm256_store_ps(dst, _mm256_loadu_ps(bp + j));
            _mm256_store_ps(dst + 8, _mm256_loadu_ps(bp + j + 8));
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

// The small-matrix path (BLIS's "sup": small, unpacked), as in matmul_avx512.c:
// a and b read where they lie, a broadcast of a and a row of b a k step, a block
// of rows at a time; each c element sums its k products in order from zero, one
// FMA each, as a packed tile does, so where k fits one KC block the two paths
// agree bit for bit.
// 4 rows x 2 vectors or 8 rows x 1: 8 accumulators, the FMA chains that 2 pipes
// of 4 cycles' latency need, 2 for b, 1 for a
#define SMALL_ROWS 8

// c (rows,w) = a (rows,k) @ b (k,w), w <= 8 * nv; with tail, the last vector's
// columns are those of mask (maskload and maskstore skip the others, so no byte
// past c's or b's row is touched); rows, nv and tail are constants where it is inlined
static inline __attribute__((always_inline)) void small_rows(float *restrict c, int ldc, const float *restrict a,
                                                             int lda, const float *restrict b, int ldb, int k,
                                                             int rows, int nv, int tail, __m256i mask) {
    __m256 acc[SMALL_ROWS][2];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int p = 0; p < k; p++, a++, b += ldb) {
        __m256 b0, b1 = _mm256_setzero_ps();
        if (nv == 1) b0 = tail ? _mm256_maskload_ps(b, mask) : _mm256_loadu_ps(b);
        else b0 = _mm256_loadu_ps(b), b1 = tail ? _mm256_maskload_ps(b + 8, mask) : _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
        for (int i = 0; i < rows; i++) {
            __m256 ai = _mm256_broadcast_ss(a + (size_t)i * lda);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            if (nv > 1) acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) {
        float *ci = c + (size_t)i * ldc;
        if (nv > 1) _mm256_storeu_ps(ci, acc[i][0]), ci += 8;
        __m256 last = acc[i][nv - 1];
        if (tail) _mm256_maskstore_ps(ci, mask, last);
        else _mm256_storeu_ps(ci, last);
    }
}

// c (m,w) = a (m,k) @ b (k,w): blocks of 8 rows (one vector wide) or 4 (two), then 4, 2 and 1
static inline __attribute__((always_inline)) void small_cols(float *c, int ldc, const float *a, const float *b,
                                                             int ldb, int m, int k, int nv, int tail,
                                                             __m256i mask) {
    int i = 0;
    if (nv == 1)
        for (; i + 8 <= m; i += 8)
            small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 8, nv, tail, mask);
    for (; i + 4 <= m; i += 4) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 4, nv, tail, mask);
    if (m - i >= 2) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 2, nv, tail, mask), i += 2;
    if (m - i >= 1) small_rows(c + (size_t)i * ldc, ldc, a + (size_t)i * k, k, b, ldb, k, 1, nv, tail, mask);
}

static void small(float *c, const float *a, const float *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    for (int j = 0; j < n; j += 16) {
        int w = n - j < 16 ? n - j : 16, nv = w > 8 ? 2 : 1, tail = w % 8 != 0;
        // lanes [0, w % 8) of the last vector
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(w % 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const float *bj = b + j;
        float *cj = c + j;
        if (nv == 2 && tail) small_cols(cj, n, a, bj, n, m, k, 2, 1, mask);
        else if (nv == 2) small_cols(cj, n, a, bj, n, m, k, 2, 0, mask);
        else if (tail) small_cols(cj, n, a, bj, n, m, k, 1, 1, mask);
        else small_cols(cj, n, a, bj, n, m, k, 1, 0, mask);
    }
}

void matmul_f32_avx2(float *c, const float *a, const float *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    gemm(c, a, b, m, n, k);
}
