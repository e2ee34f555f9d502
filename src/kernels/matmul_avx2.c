// fp32 matmul, AVX2 + FMA, GotoBLAS/BLIS style: pack an MC x KC block of a into
// MR-row slivers and a KC x NC block of b into NR-column slivers, then run a 6x16
// register-blocked micro-kernel over them. Accumulator: float, one FMA per product;
// each c element sums its k products in order within a KC block and adds the blocks
// in order, so the error stays within Higham's gamma_k * sum |a||b| (kernels.c).
#include <immintrin.h>
#include <string.h>

#include "../kernels.h"

// 6x16 micro-tile: 12 ymm accumulators + 2 for b + 1 broadcast of a, 15 of the 16
// registers. 12 independent FMA chains cover Zen 5's 2 pipes x 4 cycles latency, and
// each k step loads 2 vectors and 6 scalars for 12 FMAs.
#define MR 6
#define NR 16
// KC = 512: a k of up to 512 (the 500 case) is one pass, so c is written once, never
// re-read; the b sliver, 512 x 16 x 4 = 32 KiB, stays in L1 (48 KiB).
// MC = 120 (20 slivers): the packed a block, 240 KiB, stays in L2 (1 MiB).
// NC = 2048: the packed b block, 4 MiB, lives in L3.
// Measured on Zen 5 against KC 256..512, MC 120..240 and a 4x24 tile.
#define KC 512
#define MC 120
#define NC 2048

// One block each; single-threaded. A threaded caller passes its own to gemm().
static float pack_a_buf[MC * KC] __attribute__((aligned(64)));
static float pack_b_buf[KC * NC] __attribute__((aligned(64)));

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
static void pack_a(float *restrict pa, const float *restrict a, int lda, int mc, int kc) {
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

// b block (kc,nc), row stride ldb -> NR-column slivers, each (kc,NR), short sliver zero-padded
static void pack_b(float *restrict pb, const float *restrict b, int ldb, int kc, int nc) {
    int nfull = nc / NR * NR;
    // row by row, so b is read in long contiguous runs
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (size_t)p * ldb;
        float *dst = pb + p * NR;
        for (int j0 = 0; j0 < nfull; j0 += NR, dst += NR * kc) {
            _mm256_store_ps(dst, _mm256_loadu_ps(bp + j0));
            _mm256_store_ps(dst + 8, _mm256_loadu_ps(bp + j0 + 8));
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

// c block (mc,nc) = or += packed a (mc,kc) @ packed b (kc,nc)
static void macro_kernel(float *c, int ldc, const float *pa, const float *pb, int mc, int nc, int kc, int first) {
    float tile[MR * NR] __attribute__((aligned(64)));
    // b sliver outer: it stays cached while the a slivers stream past it
    for (int j0 = 0; j0 < nc; j0 += NR) {
        int nr = nc - j0 < NR ? nc - j0 : NR;
        for (int i0 = 0; i0 < mc; i0 += MR) {
            int mr = mc - i0 < MR ? mc - i0 : MR;
            float *cij = c + (size_t)i0 * ldc + j0;
            const float *ap = pa + (size_t)i0 * kc, *bp = pb + (size_t)j0 * kc;
            if (mr == MR && nr == NR) {
                kernel(cij, ldc, ap, bp, kc, first);
                continue;
            }
            // edge tile: compute it whole, write only the part inside c
            kernel(tile, NR, ap, bp, kc, 1);
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < nr; j++)
                    cij[(size_t)i * ldc + j] = first ? tile[i * NR + j] : cij[(size_t)i * ldc + j] + tile[i * NR + j];
        }
    }
}

// pa: MC * KC floats, pb: KC * NC floats, both 64-byte aligned
static void gemm(float *c, const float *a, const float *b, int m, int n, int k, float *pa, float *pb) {
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC;
            pack_b(pb, b + (size_t)pc * n + jc, n, kc, nc);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = m - ic < MC ? m - ic : MC;
                pack_a(pa, a + (size_t)ic * k + pc, k, mc, kc);
                macro_kernel(c + (size_t)ic * n + jc, n, pa, pb, mc, nc, kc, pc == 0);
            }
        }
    }
}

void matmul_f32_avx2(float *c, const float *a, const float *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        memset(c, 0, (size_t)m * n * sizeof *c);
        return;
    }
    gemm(c, a, b, m, n, k, pack_a_buf, pack_b_buf);
}
