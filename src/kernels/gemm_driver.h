// The GEMM driver every matmul_<isa>.c shares: Goto's algorithm as in BLIS.
// Included once into each ISA's file, so it is
// compiled with that file's flags only.
//
// The ISA file defines, before including this:
//   gemm_in, gemm_out        element types of a and b, and of c
//   MR, NR                   the micro-tile: MR rows by NR columns of c
//   KC, MC, NC               the blocks: KC of k, MC rows of a, NC columns of b
//   struct packed_a          one MC x KC block of a, in the layout its tile() reads
//   struct packed_b          one KC x NC block of b, likewise
// and after it the three functions declared below, and its entry point, which calls gemm().
//
// The loop nest, outermost first:
//   jc: NC columns of b and c      (a block of b, from L3)
//   pc: KC of k                    pack that block of b
//   ic: MC rows of a and c         pack them (into L2)
//   jr: NR columns                 a sliver of b, reused from L1 by ...
//   ir: MR rows                    ... every sliver of a: the micro-kernel
// Each c element sums its k products in order within a KC block and adds the
// blocks in order.
#include <string.h>

// a (mc,kc), row stride lda -> pa; mc <= MC, kc <= KC; rows of the last sliver past mc zero
static void pack_a(struct packed_a *pa, const gemm_in *a, int lda, int mc, int kc);
// b (kc,nc), row stride ldb -> columns [j0, j0 + nc) of pb; j0 % NR == 0; the last sliver zero-padded
static void pack_b(struct packed_b *pb, int j0, const gemm_in *b, int ldb, int kc, int nc);
// c (MR,NR), row stride ldc, = (add ? c : 0) + rows [i0, i0 + MR) of pa @ columns [j0, j0 + NR) of pb
static void tile(gemm_out *c, int ldc, const struct packed_a *pa, int i0, const struct packed_b *pb, int j0,
                 int kc, int add);

static struct packed_b gemm_pb;
static struct packed_a gemm_pa;

static inline int min_int(int x, int y) { return x < y ? x : y; }

// c (mr,nr) = (add ? c : 0) + the top-left mr x nr of a whole tile t (MR,NR)
static inline void add_tile(gemm_out *restrict c, int ldc, const gemm_out *restrict t, int mr, int nr, int add) {
    for (int i = 0; i < mr; i++, c += ldc, t += NR) {
        if (add)
            for (int j = 0; j < nr; j++) c[j] += t[j];
        else
            for (int j = 0; j < nr; j++) c[j] = t[j];
    }
}

// c (mc, columns [j0, j1) of the block) = or += packed a @ packed b
static void macro_kernel(gemm_out *c, int ldc, const struct packed_a *pa, const struct packed_b *pb, int mc,
                         int j0, int j1, int kc, int add) {
    // b sliver outer: it stays in L1 while the a slivers stream past it from L2
    for (int jr = j0; jr < j1; jr += NR)
        for (int ir = 0; ir < mc; ir += MR) {
            gemm_out *cij = c + (size_t)ir * ldc + jr;
            int mr = min_int(MR, mc - ir), nr = min_int(NR, j1 - jr);
            if (mr == MR && nr == NR) {
                tile(cij, ldc, pa, ir, pb, jr, kc, add);
                continue;
            }
            // edge tile: compute it whole, write only the part inside c
            _Alignas(64) gemm_out t[MR * NR];
            tile(t, NR, pa, ir, pb, jr, kc, 0);
            add_tile(cij, ldc, t, mr, nr, add);
        }
}

static void gemm(gemm_out *c, const gemm_in *a, const gemm_in *b, int m, int n, int k) { // a (m,k) @ b (k,n) -> c (m,n)
    if (m <= 0 || n <= 0) return;
    if (k <= 0) { // an empty sum
        memset(c, 0, (size_t)m * n * sizeof *c);
        return;
    }
    for (int jc = 0; jc < n; jc += NC) {
        int nc = min_int(NC, n - jc);
        for (int pc = 0; pc < k; pc += KC) {
            int kc = min_int(KC, k - pc);
            pack_b(&gemm_pb, 0, b + (size_t)pc * n + jc, n, kc, nc);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = min_int(MC, m - ic);
                pack_a(&gemm_pa, a + (size_t)ic * k + pc, k, mc, kc);
                macro_kernel(c + (size_t)ic * n + jc, n, &gemm_pa, &gemm_pb, mc, 0, nc, kc, pc > 0);
            }
        }
    }
}
