// The GEMMs' blocking from the CPU's caches (gemm_config.h says the rule).
// Baseline C: the ISA files ask it, so it runs on any CPU.
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gemm_config.h"

// The small paths against the packed ones, on one thread of Zen 4 (AMD EPYC, 1 MiB
// L2). fp32: the small path was the faster at every shape tried below this
// bound, and level with the packed path well above; the bound stops where the
// packed path starts splitting the work across threads (gemm_driver.h's
// GEMM_MIN_PARALLEL), which the small path does not do, and well short of where
// b's rows, reread for every block of rows, would no longer stay in the L2 of a
// smaller core. int8 avx512-vnni: the small path (for each row a broadcast of
// a, which is a load, and a group of b, every 16 columns) was the faster at
// every square tried below this bound, and at some above it (where n leaves the
// packed path's 64-column tiles a part to compute whole), but not at 120 to 128.
// int8 avx2 (vpmaddwd): the small path, whose a is widened to int16 once, was
// the faster at every square shape tried up to 256; its bound is fp32's, where
// the packed path starts splitting the work across threads (the buffers it
// widens a and packs b into are kept within the packed path's blocks by the
// shapes it takes, small_m_max and small_k_max). int8 avx-vnni, measured
// through its EVEX build (the same code with vpdpbusd's AVX512-VNNI encoding,
// src/kernels/avxvnni.h; Zen 4 has no AVX-VNNI): its small path, whose
// broadcasts of a are loads, was the faster at the squares tried below this
// bound and level with the packed path at it; not yet measured on a CPU with
// AVX-VNNI.
#define SMALL_F32 (128L * 128 * 128)
#define SMALL_I8_AVX512VNNI (96L * 96 * 96)
#define SMALL_I8_AVX2 SMALL_F32
#define SMALL_I8_AVXVNNI (96L * 96 * 96)

const struct gemm_geometry gemm_geometries[N_GEMMS] = {
    [GEMM_F32_AVX2] = {"fp32 avx2", GEMM_F32_AVX2_MR, GEMM_F32_AVX2_NR, 4, 1, 0, 0, SMALL_F32},
    // 32 floats a k step: 128 bytes a k, too wide a sliver for an L1d's share
    [GEMM_F32_AVX512] = {"fp32 avx512", GEMM_F32_AVX512_MR, GEMM_F32_AVX512_NR, 4, 1, 1, 0, SMALL_F32},
    // int16 pairs of k; small() widens a whole and packs b of k rows
    [GEMM_I8_AVX2] = {"int8 avx2", GEMM_I8_AVX2_MR, GEMM_I8_AVX2_NR, 2, 2, 0, 0, SMALL_I8_AVX2, GEMM_MC_MAX, GEMM_KC_MAX},
    // groups of 4 k; small() packs b of k rows
    [GEMM_I8_AVXVNNI] = {"int8 avx-vnni", GEMM_I8_AVXVNNI_MR, GEMM_I8_AVXVNNI_NR, 1, 4, 0, 0, SMALL_I8_AVXVNNI, 0,
                         GEMM_KC_MAX},
    // 64-byte rows of a. 384 multiply-adds a cycle leave each pass over c little
    // time to hide it: KC 512, though its 32 KiB sliver crowds a 32 KiB L1d, beat
    // 256 (and 384) on both AMD cores measured, and KC 1024 (the sliver then
    // streams from L2) beats 512 on Zen 4 at one and two threads
    [GEMM_I8_AVX512VNNI] = {"int8 avx512-vnni", GEMM_I8_AVX512VNNI_MR, GEMM_I8_AVX512VNNI_NR, 1, 64, 0, 1024,
                            SMALL_I8_AVX512VNNI, 0, GEMM_KC_MAX}, // small() packs b of k rows
};

static long round_down(long v, long unit) { return v / unit * unit; }

static long pow2_at_most(long v) {
    long p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
}

static long clamp(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

struct gemm_blocking gemm_rule(const struct gemm_geometry *g, struct gemm_caches c, int own_b) {
    long e = g->elem;
    long kc = g->b_from_l2 ? c.l2 / 8 / (g->nr * e) : c.l1d / ((g->mr + g->nr) * e);
    kc = clamp(pow2_at_most(kc), g->kc_min > g->k_unit ? g->kc_min : g->k_unit, GEMM_KC_MAX);
    long mc = round_down((g->b_from_l2 ? c.l2 / 2 : c.l2 / 4) / (kc * e), g->mr);
    mc = clamp(mc, g->mr, round_down(GEMM_MC_MAX, g->mr));
    // no L3: the b block takes half the L2, beside nothing else worth keeping
    long l3_share = c.l3 / 8 / (own_b > 1 ? own_b : 1);
    long b_block = c.l3 <= 0 ? c.l2 / 2 : l3_share < 4 * c.l2 ? l3_share : 4 * c.l2;
    long nc = round_down(b_block / (kc * e), g->nr);
    nc = clamp(nc, g->nr, GEMM_NC_MAX);
    return (struct gemm_blocking){(int)kc, (int)mc, (int)nc};
}

struct gemm_caches gemm_caches_here(void) {
    long l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return (struct gemm_caches){l1d > 0 ? l1d : 32 << 10, l2 > 0 ? l2 : 256 << 10, l3 > 0 ? l3 : 0};
}

static struct gemm_blocking forced[N_GEMMS];
// The rule on this CPU's caches, for one and two threads that pack their own b,
// worked out once: its divisions cost a small GEMM's call a tenth of its time
#define KEPT_OWN_B 2
static struct gemm_caches here;
static struct gemm_blocking kept[N_GEMMS][KEPT_OWN_B];
static pthread_once_t here_once = PTHREAD_ONCE_INIT;
static atomic_int here_known; // set once kept is, so later calls skip pthread_once

static void here_read(void) {
    here = gemm_caches_here();
    for (int id = 0; id < N_GEMMS; id++)
        for (int own = 1; own <= KEPT_OWN_B; own++) kept[id][own - 1] = gemm_rule(&gemm_geometries[id], here, own);
    atomic_store_explicit(&here_known, 1, memory_order_release);
}

struct gemm_blocking gemm_blocking(enum gemm_id id, int own_b) {
    if (forced[id].kc) return forced[id];
    if (!atomic_load_explicit(&here_known, memory_order_acquire)) pthread_once(&here_once, here_read);
    return own_b <= KEPT_OWN_B ? kept[id][own_b < 1 ? 0 : own_b - 1] : gemm_rule(&gemm_geometries[id], here, own_b);
}

static long stream_forced = -1; // set by the tests only, before the kernels run

int stream_output(size_t bytes) {
    if (stream_forced >= 0) return bytes > (size_t)stream_forced;
    if (!atomic_load_explicit(&here_known, memory_order_acquire)) pthread_once(&here_once, here_read);
    long share = here.l3 < 4 * here.l2 ? here.l3 : 4 * here.l2;
    return bytes > (size_t)(here.l2 + share);
}

void stream_output_force(long above) { stream_forced = above < 0 ? -1 : above; }

void gemm_blocking_force(enum gemm_id id, const struct gemm_blocking *b) {
    const struct gemm_geometry *g = &gemm_geometries[id];
    if (!b) {
        forced[id] = (struct gemm_blocking){0, 0, 0};
        return;
    }
    forced[id] = (struct gemm_blocking){
        (int)clamp(round_down(b->kc, g->k_unit), g->k_unit, GEMM_KC_MAX),
        (int)clamp(round_down(b->mc, g->mr), g->mr, round_down(GEMM_MC_MAX, g->mr)),
        (int)clamp(round_down(b->nc, g->nr), g->nr, GEMM_NC_MAX),
    };
}

static long small_forced[N_GEMMS]; // 0: not forced, else the bound forced + 1

long gemm_small_below(enum gemm_id id) {
    return small_forced[id] ? small_forced[id] - 1 : gemm_geometries[id].small_below;
}

void gemm_small_force(enum gemm_id id, long below) {
    small_forced[id] = below < 0 ? 0 : below == LONG_MAX ? LONG_MAX : below + 1;
}

static atomic_int lopsided;

int gemm_lopsided(void) { return atomic_load(&lopsided); }

void gemm_lopsided_force(int on) { atomic_store(&lopsided, on); }

// This thread's packing buffers: found through a thread-local pointer (a
// pthread key costs a small GEMM's call a tenth of its time), and kept under a
// key too, whose destructor frees them when the thread ends (the pool's workers
// never end; a caller's thread may).
struct buffers {
    void *p[2];
    size_t bytes[2];
};

static _Thread_local struct buffers *mine;
static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;

static void buffers_free(void *arg) {
    struct buffers *b = arg;
    free(b->p[GEMM_BUF_A]);
    free(b->p[GEMM_BUF_B]);
    free(b);
}

static void die(const char *what, size_t bytes, int line) {
    fprintf(stderr, "bmml-host: %s:%d: %s (%zu bytes)\n", __FILE__, line, what, bytes);
    exit(1);
}

static void buffers_key_new(void) {
    if (pthread_key_create(&buffers_key, buffers_free)) die("no thread key for the GEMM buffers", 0, __LINE__);
}

// A transparent huge page spans this much
#define HUGE_PAGE (2UL << 20)

void *gemm_buffer(enum gemm_buffer which, size_t bytes) {
    struct buffers *b = mine;
    if (b && b->bytes[which] >= bytes) return b->p[which];
    if (!b) {
        pthread_once(&buffers_once, buffers_key_new);
        if (!(b = calloc(1, sizeof *b))) die("out of memory for the GEMM buffers", sizeof *b, __LINE__);
        if (pthread_setspecific(buffers_key, b)) die("cannot keep the GEMM buffers", sizeof *b, __LINE__);
        mine = b;
    }
    free(b->p[which]);
    b->p[which] = NULL, b->bytes[which] = 0;
    // a buffer of huge pages needs one TLB entry per 2 MiB instead of 512
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
    if (bytes > (size_t)-1 - align) die("GEMM buffer too large", bytes, __LINE__);
    size_t size = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, size);
    if (!p) die("out of memory for a GEMM buffer", size, __LINE__);
#ifndef GEMM_NO_HUGE
    if (align == HUGE_PAGE) madvise(p, size, MADV_HUGEPAGE); // a hint: where refused, small pages do
#endif
    b->p[which] = p, b->bytes[which] = size;
    return p;
}
