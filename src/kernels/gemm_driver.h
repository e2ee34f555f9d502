// The GEMM driver every matmul_<isa>.c shares: Goto's algorithm as in BLIS,
// and its split across threads. Included once into each ISA's file, so it is
// compiled with that file's flags only.
//
// The ISA file defines, before including this:
//   gemm_in, gemm_out        element types of a and b, and of c
//   MR, NR                   the micro-tile: MR rows by NR columns of c
//   GEMM_ID                  its entry in gemm_config.h, whose rule picks the blocks at
//                            run time: kc of k, mc rows of a, nc columns of b
//   struct packed_a          where one mc x kc block of a lies, in the layout its tile() reads:
//                            its first member, v, points into this thread's buffer for a
//   struct packed_b          where one kc x nc block of b lies, likewise
//   A_BYTES(mc, kc)          the bytes a packed block of a takes, at most, when the blocking's
//   B_BYTES(kc, nc)          blocks are mc x kc and kc x nc (those of b)
// and after it the three functions declared below, and its entry point, which calls gemm().
// It defines GEMM_B_COMP where packed_b also holds comp, blk.nc int32 terms a
// column, which lie before v in the buffer.
// It may define GEMM_SMALL and small() (declared below), a path for GEMMs too small
// to pay for packing (gemm_small_below in gemm_config.h), which then runs instead
// where m and k are within its geometry's small_m_max and small_k_max.
// It may also define GEMM_SHORT_TILE and short_tile() (declared below) for tiles of
// fewer than MR rows, which would otherwise cost a whole tile each, and
// GEMM_FUSED_TILE and fused_tile(), which packs a sliver of b in the first tile
// that reads it (see gemm_part).
//
// The loop nest, outermost first:
//   jc: nc columns of b and c      (a block of b, from L3)
//   pc: kc of k                    pack that block of b, shared by the threads (two: one each;
//                                  with GEMM_FUSED_TILE, one or two pack it in their first ic)
//   ic: up to mc rows of a and c   claimed by the threads, each packs its own (into this core's L2)
//   jr: NR columns                 a sliver of b, reused from L1 (or streamed from L2 where
//                                  gemm_config.h says so) by ...
//   ir: MR rows                    ... every sliver of a: the micro-kernel
// Each c element sums its k products in order within a kc block and adds the
// blocks in order, whatever the number of threads, so results do not depend on it.
#include <stdatomic.h>
#include <string.h>

#include "../parallel.h"
#include "gemm_config.h"

// a (mc,kc), row stride lda -> pa; mc <= MC, kc <= KC; rows of the last sliver past mc zero
static void pack_a(struct packed_a *pa, const gemm_in *a, int lda, int mc, int kc);
// b (kc,nc), row stride ldb -> columns [j0, j0 + nc) of pb; j0 % NR == 0; the last sliver zero-padded
static void pack_b(struct packed_b *pb, int j0, const gemm_in *b, int ldb, int kc, int nc);
// c (MR,NR), row stride ldc, = (add ? c : 0) + rows [i0, i0 + MR) of pa @ columns [j0, j0 + NR) of pb
static void tile(gemm_out *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0,
                 int kc, int add);
#ifdef GEMM_SMALL
// c (m,n) = a (m,k) @ b (k,n), without the blocked packing (an ISA file's small()
// may still pack or widen an operand whole); one thread
static void small(gemm_out *c, const gemm_in *a, const gemm_in *b, int m, int n, int k);
// the shapes small() takes: m and k within its geometry's limits (0: any)
static inline int small_fits(int m, int k) {
    const struct gemm_geometry *g = &gemm_geometries[GEMM_ID];
    return (!g->small_m_max || m <= g->small_m_max) && (!g->small_k_max || k <= g->small_k_max);
}
#endif
#ifdef GEMM_SHORT_TILE
// as tile, for rows [i0, i0 + mr) only, mr < MR
static void short_tile(gemm_out *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0,
                       int kc, int add, int mr);
#endif
// the packed block of b in mem, a buffer of B_BYTES(blk.kc, blk.nc)
static struct packed_b b_at(void *mem, struct gemm_blocking blk) {
#ifdef GEMM_B_COMP
    return (struct packed_b){(int8_t *)mem + (size_t)blk.nc * sizeof(int32_t), mem};
#else
    (void)blk;
    return (struct packed_b){mem};
#endif
}
#ifdef GEMM_FUSED_TILE
// as tile for rows [0, MR), with the sliver's NR columns of b (kc,NR), row stride ldb,
// read from b itself and packed into pb at column j0 on the way
static void fused_tile(gemm_out *c, int ldc, const struct packed_a *pa, struct packed_b *pb, int j0,
                       const gemm_in *b, int ldb, int kc, int add);
#endif

// ThreadSanitizer (make races) sees every load and store of C code, but not
// those of inline assembly: a tile written in it says what it reads with
// asm_reads and asm_writes, the compiler's own entry points for a range of memory.
#if defined(__SANITIZE_THREAD__) // gcc
#define GEMM_TSAN 1
#elif defined(__has_feature) // clang
#if __has_feature(thread_sanitizer)
#define GEMM_TSAN 1
#endif
#endif
#ifdef GEMM_TSAN
void __tsan_read_range(void *addr, unsigned long size);
void __tsan_write_range(void *addr, unsigned long size);
#define asm_reads(p, bytes) __tsan_read_range((void *)(p), (unsigned long)(bytes))
#define asm_writes(p, bytes) __tsan_write_range((void *)(p), (unsigned long)(bytes))
#else
#define asm_reads(p, bytes) ((void)0)
#define asm_writes(p, bytes) ((void)0)
#endif

// Below this many multiply-adds (tens of microseconds), waking the other threads
// and meeting at the barriers costs about what they save.
#define GEMM_MIN_PARALLEL (128L * 128 * 128)

// Each part packs into its thread's own buffers (gemm_buffer), so GEMMs called
// from different threads run at once; one call's parts run on the pool
// (parallel.h), which takes one call at a time.
//
// Two parts that share rows each pack the whole block of b for themselves, into
// their own buffer: writing lines the other core has read costs more than
// packing them twice, and no part waits for another's share of it. More parts
// pack a share each of one block of b, in the caller's buffer, and read it all.
#define GEMM_OWN_B_PARTS 2

// the slivers of rows a part has yet to claim in a pass (see take), on a line of
// its own: the part takes from it every block, others only once theirs is used up
struct gemm_share {
    _Alignas(64) atomic_ullong left;
};

struct gemm_job {
    gemm_out *c;
    const gemm_in *a, *b;
    int m, n, k;
    struct gemm_blocking blk; // this call's blocks, read once by the caller
    struct packed_b shared;   // the caller's buffer for b, for parts that share a block of b (parts > 1)
    int lopsided;             // gemm_lopsided(), read once by the caller
    // the parts' shares of the rows, parts > 1: [parts * (pass & 1) + t] for part t;
    // by the pass's parity, as a part sets its share of the next pass while others
    // may still take from this one's
    struct gemm_share *shares;
};

static inline int min_int(int x, int y) { return x < y ? x : y; }

// parts take shares of the rows of a and c (else of the columns of each block of b)
static inline int by_rows(int m, int parts) { return (m + MR - 1) / MR >= 4 * parts; }

// c (mr,nr) = (add ? c : 0) + the top-left mr x nr of a whole tile t (MR,NR)
static inline void add_tile(gemm_out *restrict c, int ldc, const gemm_out *restrict t, int mr, int nr, int add) {
    for (int i = 0; i < mr; i++, c += ldc, t += NR) {
        if (add)
            for (int j = 0; j < nr; j++) c[j] += t[j];
        else
            for (int j = 0; j < nr; j++) c[j] = t[j];
    }
}

// part t of parts: [units * t / parts, units * (t + 1) / parts) in steps of step, at most end
static inline void share(int units, int step, int end, int t, int parts, int *lo, int *hi) {
    *lo = min_int((int)((long)units * t / parts) * step, end);
    *hi = min_int((int)((long)units * (t + 1) / parts) * step, end);
}

// Parts that share the rows of a and c claim them as they go, so that one the host
// slows does less of a pass and the others do not wait for it at the end. A part
// starts each pass with its equal share of the slivers (MR rows each), [lo, hi) in
// one word, and takes blocks from its front; with none left, it takes them from the
// back of another's. A block is half of what is left in the share, at most an mc
// block of rows and at least one sliver, so the parts finish within about a sliver
// of each other; taking from the two ends leaves most rows of c with the part that
// had them in the pass before.
static inline unsigned long long span(int lo, int hi) { return (unsigned long long)lo << 32 | (unsigned)hi; }

// a block of slivers from share s, at most `most`, from its front or its back: its
// first sliver, and in *n how many (0 when the share is used up)
static int take(atomic_ullong *s, int front, int most, int *n) {
    unsigned long long x = atomic_load(s);
    for (;;) {
        int lo = (int)(x >> 32), hi = (int)(unsigned)x;
        *n = min_int(most, (hi - lo + 1) / 2);
        if (*n <= 0) return 0;
        if (atomic_compare_exchange_weak(s, &x, front ? span(lo + *n, hi) : span(lo, hi - *n)))
            return front ? lo : hi - *n;
    }
}

// part t's next block in pass p: from its own share, else from another's
static int next_block(const struct gemm_job *g, int p, int t, int parts, int most, int *n) {
    struct gemm_share *pass = g->shares + (size_t)parts * (p & 1);
    int s = take(&pass[t].left, 1, most, n);
    for (int v = 1; *n == 0 && v < parts; v++) s = take(&pass[(t + v) % parts].left, 0, most, n);
    return s;
}

// part t's share of pass p (see gemm_lopsided_force)
static void share_rows(const struct gemm_job *g, int p, int t, int parts) {
    int lo, hi, slivers = (g->m + MR - 1) / MR;
    share(slivers, 1, slivers, t, g->lopsided ? 1 : parts, &lo, &hi);
    atomic_store(&g->shares[(size_t)parts * (p & 1) + t].left, span(lo, hi));
}

// c (rows [i0, mc), columns [j0, j1) of the block) = or += packed a @ packed b; i0 % MR == 0
static void macro_kernel(gemm_out *c, int ldc, const struct packed_a *pa, const struct packed_b *pb, int i0,
                         int mc, int j0, int j1, int kc, int add) {
    // b sliver outer: it stays in L1 (or, where gemm_config.h says so, in L2) while
    // the a slivers stream past it from L2
    for (int jr = j0; jr < j1; jr += NR)
        for (int ir = i0; ir < mc; ir += MR) {
            gemm_out *cij = c + (size_t)ir * ldc + jr;
            int mr = min_int(MR, mc - ir), nr = min_int(NR, j1 - jr);
            if (mr == MR && nr == NR) {
                tile(cij, ldc, pa, ir, pb, jr, kc, add);
                continue;
            }
#ifdef GEMM_SHORT_TILE
            if (nr == NR) {
                short_tile(cij, ldc, pa, ir, pb, jr, kc, add, mr);
                continue;
            }
#endif
            // edge tile: compute it whole, write only the part inside c
            _Alignas(64) gemm_out t[MR * NR];
            tile(t, NR, pa, ir, pb, jr, kc, 0);
            add_tile(cij, ldc, t, mr, nr, add);
        }
}

// The first row block of a part that packs the whole block of b for itself:
// the first tile of each whole sliver packs it on the way (fused_tile), so that
// b arrives from memory while the FMAs run instead of before them; the other
// tiles read it packed. The last, partial sliver was packed before.
#ifdef GEMM_FUSED_TILE
static void first_row_block(gemm_out *c, int ldc, const struct packed_a *pa, struct packed_b *pb, int mc,
                            const gemm_in *b, int ldb, int nc, int kc, int add) {
    int nfull = nc / NR * NR;
    for (int jr = 0; jr < nfull; jr += NR) {
        fused_tile(c + jr, ldc, pa, pb, jr, b + jr, ldb, kc, add);
        macro_kernel(c, ldc, pa, pb, MR, mc, jr, jr + NR, kc, add);
    }
    if (nfull < nc) macro_kernel(c, ldc, pa, pb, 0, mc, nfull, nc, kc, add);
}
#endif

// Part t of parts. Each block of b is packed by all the parts, an equal share
// of its slivers each, and read by all (but see GEMM_OWN_B_PARTS). The parts
// then claim the rows of a and c block by block (see take); when there are too
// few rows for that, all take every row and share the columns of each block of b
// instead, and each reads only the slivers it packed. Where a sliver lies in pb
// depends on kc and on the share of nc, so a block's slivers overlap those of the
// block before in other parts' places: every part that shares pb waits for the
// others to be done with a block before it packs the next. Parts that claim rows
// wait for each other at the end of each pass too, as a row of c must have its
// kc blocks added in order, whichever parts add them.
static void gemm_part(void *arg, int t, int parts) {
    const struct gemm_job *g = arg;
    int m = g->m, n = g->n, k = g->k;
    int rows = by_rows(m, parts);
    int own_b = rows && parts <= GEMM_OWN_B_PARTS; // b not shared: no barrier before reading it
    int read_all = rows && !own_b; // reads slivers other parts packed
    struct gemm_blocking blk = g->blk;
    // alone, a part packs into its own buffer too
    struct packed_b blk_b = own_b || parts == 1 ? b_at(gemm_buffer(GEMM_BUF_B, B_BYTES(blk.kc, blk.nc)), blk) : g->shared;
    struct packed_b *pb = &blk_b;
    struct packed_a buf_a = {gemm_buffer(GEMM_BUF_A, A_BYTES(blk.mc, blk.kc))}, *pa = &buf_a;
    int claim = rows && parts > 1, pass = 0;
    for (int jc = 0; jc < n; jc += blk.nc) {
        int nc = min_int(blk.nc, n - jc), s0 = 0, s1 = nc, j0 = 0, j1 = nc;
        if (!rows) share((nc + NR - 1) / NR, NR, nc, t, parts, &j0, &j1);
        if (!own_b) share((nc + NR - 1) / NR, NR, nc, t, parts, &s0, &s1);
        for (int pc = 0; pc < k; pc += blk.kc, pass++) {
            int kc = min_int(blk.kc, k - pc), last = pc + kc >= k && jc + nc >= n;
            const gemm_in *bp = g->b + (size_t)pc * n + jc;
#ifdef GEMM_FUSED_TILE
            // a part alone with its block of b (s0 = j0 = 0, s1 = j1 = nc) packs its whole
            // slivers in its first block of rows: on the way when that block has a whole
            // sliver of a, else before it
            int fuse = own_b || parts == 1;
#else
            int fuse = 0;
#endif
            int nfull = fuse ? nc / NR * NR : s0;
            if (nfull < s1) pack_b(pb, nfull, bp + nfull, n, kc, s1 - nfull);
            if (read_all) parallel_barrier(parts); // the block of b is whole
            // no part reads the next pass's shares before the barrier that ends this one
            if (claim && !last) share_rows(g, pass + 1, t, parts);
            int ic = 0, mc = 0;
            for (;;) { // the blocks of rows this part computes in this pass
                if (claim) {
                    int got, s = next_block(g, pass, t, parts, blk.mc / MR, &got);
                    if (got == 0) break;
                    ic = s * MR, mc = min_int(got * MR, m - ic);
                } else {
                    ic += mc;
                    if (ic >= m || j0 >= j1) break;
                    mc = min_int(blk.mc, m - ic);
                }
                gemm_out *c = g->c + (size_t)ic * n + jc;
                pack_a(pa, g->a + (size_t)ic * k + pc, k, mc, kc);
#ifdef GEMM_FUSED_TILE
                if (fuse && nfull > 0) { // the whole slivers of b are not packed yet
                    if (mc >= MR) {
                        first_row_block(c, n, pa, pb, mc, bp, n, nc, kc, pc > 0);
                        nfull = 0;
                        continue;
                    }
                    pack_b(pb, 0, bp, n, kc, nfull);
                    nfull = 0;
                }
#endif
                macro_kernel(c, n, pa, pb, 0, mc, j0, j1, kc, pc > 0);
            }
            // all are done with it before it is repacked, or before rows go on to the next
            if ((!own_b || claim) && !last) parallel_barrier(parts);
        }
    }
}

static void gemm(gemm_out *c, const gemm_in *a, const gemm_in *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    if (m <= 0 || n <= 0) return;
    if (k <= 0) { // an empty sum
        memset(c, 0, (size_t)m * n * sizeof *c);
        return;
    }
#ifdef GEMM_SMALL
    if ((long)m * n * k < gemm_small_below(GEMM_ID) && small_fits(m, k)) {
        small(c, a, b, m, n, k);
        return;
    }
#endif
    int parts = (long)m * n * k < GEMM_MIN_PARALLEL ? 1 : parallel_threads();
    // the parts that each pack a block of b for themselves (gemm_part) share the L3
    int own_b = by_rows(m, parts) && parts <= GEMM_OWN_B_PARTS ? parts : 1;
    struct gemm_blocking blk = gemm_blocking(GEMM_ID, own_b);
    // no block larger than the matrices: the same blocks, and buffers no larger
    // than the call needs (a small GEMM's first call does not fault in megabytes)
    blk.kc = min_int(blk.kc, k);
    blk.mc = min_int(blk.mc, (m + MR - 1) / MR * MR);
    blk.nc = min_int(blk.nc, (n + NR - 1) / NR * NR);
    struct gemm_job job = {c, a, b, m, n, k, blk, {0}, gemm_lopsided(), NULL};
    if (parts == 1) {
        gemm_part(&job, 0, 1);
        return;
    }
    job.shared = b_at(gemm_buffer(GEMM_BUF_B, B_BYTES(blk.kc, blk.nc)), blk);
    struct gemm_share shares[2 * MAX_THREADS]; // set below for the first pass, by the parts for the next
    job.shares = shares;
    for (int t = 0; t < parts; t++) share_rows(&job, 0, t, parts);
    parallel_run(gemm_part, &job, parts);
}
