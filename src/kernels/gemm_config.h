// Every GEMM's blocking, in one place: as in BLIS, the block sizes are
// configuration, apart from the micro-kernels (matmul_<isa>.c) and the loop
// nest (gemm_driver.h). The micro-tile MR x NR is fixed by each micro-kernel's
// registers (its file says why); KC, MC and NC are chosen at run time from the
// CPU's caches by one rule (gemm_config.c), within the capacities below.
//
// The rule (Low, Igual, Smith, Quintana-Orti, "Analytical Modeling Is Enough for
// High-Performance BLIS", ACM TOMS 2016), e bytes a packed element:
//   KC  the b sliver, KC x NR x e, and the a sliver streaming past it,
//       KC x MR x e, fit the L1d together, so the sliver is reused from L1.
//       A GEMM whose sliver is too wide for that (b_from_l2 in gemm_geometries) streams it
//       from the L2 instead: the sliver takes an eighth of the L2.
//       KC is a power of two, at most GEMM_KC_MAX: a k of up to KC is one pass;
//       at least the GEMM's kc_min, where one is measured to need more k a pass.
//   MC  the packed a block, MC x KC x e, fits a quarter of the L2 (half where the
//       b sliver streams from L2: the a block is then the L2's main tenant);
//       a multiple of MR.
//   NC  the packed b block, KC x NC x e, fits four L2s at most (its core's share
//       of the L3: a virtual machine may report its host's whole L3), and the b
//       blocks of all the threads that pack their own (gemm_driver.h: one, or
//       two threads that share the rows) fit an eighth of the L3 together;
//       a multiple of NR.
// Per thread: each thread of a GEMM runs on its own core, so KC and MC, from the
// L1d and the L2 each core has, are every thread's; the L3 is shared, so NC is
// split among the b blocks packed at once.
#ifndef BMML_GEMM_CONFIG_H
#define BMML_GEMM_CONFIG_H

#include <stddef.h>

// The packing buffers' capacities: the largest blocks the rule may choose
#define GEMM_KC_MAX 1024
#define GEMM_MC_MAX 504  // a multiple of every MR below (6, 14)
#define GEMM_NC_MAX 4096 // a multiple of every NR below (16, 32, 64)

// What the rule needs to know of one GEMM.
struct gemm_geometry {
    const char *name;  // "fp32 avx2", as in --list and the JSON context
    int mr, nr;        // the micro-tile
    int elem;          // bytes per packed element
    int k_unit;        // KC is a multiple of this (the packing's groups of k)
    int b_from_l2;     // the b sliver streams from the L2 (see the rule)
    int kc_min;        // 0, or the least KC that keeps the micro-kernel fed (gemm_config.c says why)
    long small_below;  // 0, or the multiply-adds below which its small path runs (gemm_config.c says why)
    int small_m_max;   // 0, or the most rows of a its small path takes (its buffers grow with them)
    int small_k_max;   // 0, or the longest k it takes, likewise
};

enum gemm_id { GEMM_F32_AVX2, GEMM_F32_AVX512, GEMM_I8_AVX2, GEMM_I8_AVXVNNI, GEMM_I8_AVX512VNNI, N_GEMMS };
extern const struct gemm_geometry gemm_geometries[N_GEMMS];

// The micro-tiles, for the micro-kernels' own checks
#define GEMM_F32_AVX2_MR 6
#define GEMM_F32_AVX2_NR 16
#define GEMM_F32_AVX512_MR 14
#define GEMM_F32_AVX512_NR 32
#define GEMM_I8_AVX2_MR 6
#define GEMM_I8_AVX2_NR 16
#define GEMM_I8_AVXVNNI_MR 6
#define GEMM_I8_AVXVNNI_NR 16
#define GEMM_I8_AVX512VNNI_MR 6
#define GEMM_I8_AVX512VNNI_NR 64

struct gemm_caches {
    long l1d, l2, l3; // bytes; l3 0 when there is none
};
struct gemm_blocking {
    int kc, mc, nc;
};

// The rule above, for geometry g on caches c, where own_b threads (1 or more)
// each pack their own block of b.
struct gemm_blocking gemm_rule(const struct gemm_geometry *g, struct gemm_caches c, int own_b);
// This CPU's caches: what the OS says (glibc reads cpuid), and where it says
// nothing, a small core's (32 KiB L1d, 256 KiB L2, no L3).
struct gemm_caches gemm_caches_here(void);
// The blocking GEMM id uses in this process where own_b threads each pack their
// own block of b: the rule on this CPU's caches, unless gemm_blocking_force set
// another (then that, whatever own_b).
struct gemm_blocking gemm_blocking(enum gemm_id id, int own_b);
// Make GEMM id use b (within the capacities), or the rule again when b is
// NULL: for the tests, which run every GEMM under other CPUs' blockings.
void gemm_blocking_force(enum gemm_id id, const struct gemm_blocking *b);

// 1 when an output of bytes, written once, is better written with streaming
// (non-temporal) stores, which skip reading each line in before writing it:
// when it is larger than the caches this core can count on, its L2 and the
// L3 up to four L2s (a virtual machine may report its host's whole L3), so it
// would leave them before anything read it again. layernorm asks it, and ends
// with a store fence when it streamed. stream_output_force makes outputs
// larger than above bytes stream (0: every one), or the rule again when above
// is negative: for the tests, which run both ways on small shapes.
int stream_output(size_t bytes);
void stream_output_force(long above);

// The small-matrix path (BLIS's "sup"), where an ISA file has one: a GEMM of
// fewer multiply-adds than gemm_small_below(id) (its geometry's small_below)
// skips the blocked packing and runs on one thread (gemm_driver.h), if its
// m and k are within the geometry's small_m_max and small_k_max. gemm_small_force sets another
// bound for GEMM id (0: never the small path; LONG_MAX: every shape it takes), or its own
// again when below is negative: for the tests, which run both paths on the same shapes.
long gemm_small_below(enum gemm_id id);
void gemm_small_force(enum gemm_id id, long below);

// Parts of a GEMM on several threads claim its rows as they go, each starting a
// pass from its equal share (gemm_driver.h). gemm_lopsided_force(1) gives the
// first part every row instead, so that the others take all theirs from its
// share, and (0) equal shares again: for the tests, which would otherwise see a
// part take from another's share only when the host happens to slow one.
int gemm_lopsided(void);
void gemm_lopsided_force(int on);

// The packing buffers. Each thread has its own packing buffer for blocks of a
// and its own for blocks of b, kept for the thread's life and shared by every
// GEMM it runs (one at a time), so GEMMs on different threads never meet. Each
// is sized from the blocks a call uses (its blocking, no larger than its
// matrices: gemm_driver.h), grown when a call needs more, freed
// when the thread ends: this thread's buffer `which`, at least bytes long,
// 64-byte aligned, or 2 MiB-aligned with huge pages asked for (madvise) when it
// spans one. Out of memory ends the process with a message: a GEMM cannot fail.
enum gemm_buffer { GEMM_BUF_A, GEMM_BUF_B };
void *gemm_buffer(enum gemm_buffer which, size_t bytes);

#endif
