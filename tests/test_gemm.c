// The GEMMs' blocking (src/kernels/gemm_config.c): the rule on the caches of
// several CPUs, every GEMM against the reference under each blocking the
// rule gives them, and two GEMMs at once from two threads.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "cpu.h"
#include "kernels.h"
#include "kernels/gemm_config.h"
#include "parallel.h"
#include "evex.h"
#include "util.h"

static const struct {
    const char *name;
    struct gemm_caches c;
} cpus[] = {
    {"this CPU", {0, 0, 0}}, // filled from gemm_caches_here()
    {"Zen 5", {48 << 10, 1 << 20, 32 << 20}},
    {"Skylake-X", {32 << 10, 1 << 20, 11 << 20}},
    {"an AVX2 laptop core", {32 << 10, 256 << 10, 6 << 20}},
    {"no L3", {32 << 10, 512 << 10, 0}},
};
#define N_CPUS (int)(sizeof cpus / sizeof cpus[0])

static struct gemm_caches caches_of(int i) { return i == 0 ? gemm_caches_here() : cpus[i].c; }

static int is_pow2(long v) { return v > 0 && (v & (v - 1)) == 0; }

Test(gemm_rule, meets_its_constraints_on_every_cpu) {
    for (int i = 0; i < N_CPUS; i++) {
        struct gemm_caches c = caches_of(i);
        for (int g = 0; g < N_GEMMS; g++)
            for (int own = 1; own <= 2; own++) {
                const struct gemm_geometry *geo = &gemm_geometries[g];
                struct gemm_blocking b = gemm_rule(geo, c, own);
                long e = geo->elem, sliver = (long)b.kc * geo->nr * e, a_block = (long)b.mc * b.kc * e;
                const char *n = cpus[i].name, *gn = geo->name;
                // KC and MC are every thread's: each has its own core's L1d and L2
                struct gemm_blocking one = gemm_rule(geo, c, 1);
                cr_expect(b.kc == one.kc && b.mc == one.mc, "%s %s: KC, MC of %d threads as of one", n, gn, own);
                cr_expect(is_pow2(b.kc) && b.kc % geo->k_unit == 0 && b.kc <= GEMM_KC_MAX, "%s %s: KC %d", n, gn, b.kc);
                cr_expect(b.mc % geo->mr == 0 && b.mc > 0 && b.mc <= GEMM_MC_MAX, "%s %s: MC %d", n, gn, b.mc);
                cr_expect(b.nc % geo->nr == 0 && b.nc > 0 && b.nc <= GEMM_NC_MAX, "%s %s: NC %d", n, gn, b.nc);
                if (geo->b_from_l2) {
                    cr_expect_leq(sliver, c.l2 / 8, "%s %s: the b sliver takes at most an eighth of the L2", n, gn);
                    cr_expect_leq(a_block, c.l2 / 2, "%s %s: the a block fits half the L2", n, gn);
                } else {
                    // the smallest KC (one group of k, or the GEMM's kc_min) is kept even where it overflows the L1
                    int least = geo->kc_min > geo->k_unit ? geo->kc_min : geo->k_unit;
                    if (b.kc > least)
                        cr_expect_leq(sliver + (long)b.kc * geo->mr * e, c.l1d, "%s %s: b and a slivers fit the L1d", n, gn);
                    // and the next power of two would not have fitted
                    if (b.kc < GEMM_KC_MAX)
                        cr_expect_gt(2 * (sliver + (long)b.kc * geo->mr * e), c.l1d, "%s %s: KC %d is the largest", n, gn, b.kc);
                    cr_expect_leq(a_block, c.l2 / 4, "%s %s: the a block fits a quarter of the L2", n, gn);
                }
                // the b blocks of all own threads share an eighth of the L3, each at most four L2s
                long b_block = (long)b.kc * b.nc * e;
                if (b.nc > geo->nr && c.l3 > 0) {
                    cr_expect_leq(own * b_block, c.l3 / 8, "%s %s, %d threads: the b blocks fit the L3's share", n, gn, own);
                    cr_expect_leq(b_block, 4 * c.l2, "%s %s, %d threads: the b block fits four L2s", n, gn, own);
                }
                if (b.nc > geo->nr && c.l3 <= 0)
                    cr_expect_leq(b_block, c.l2 / 2, "%s %s: no L3, the b block fits half the L2", n, gn);
            }
    }
}

// Zen 5's fp32 AVX-512 GEMM was tuned by measurement to KC 1024, MC 112, NC 1024,
// with MC 112 and 140 alike (commit 25e700f): the rule must land there.
Test(gemm_rule, gives_zen5_the_avx512_blocking_measured_best_there) {
    struct gemm_blocking b = gemm_rule(&gemm_geometries[GEMM_F32_AVX512], cpus[1].c, 1);
    cr_expect_eq(b.kc, 1024);
    cr_expect_eq(b.nc, 1024);
    cr_expect(b.mc >= 112 && b.mc <= 140, "MC %d", b.mc);
}

Test(gemm_rule, forced_blocks_are_kept_within_the_capacities_and_units) {
    struct gemm_blocking odd = {1000, 500, 5000};
    gemm_blocking_force(GEMM_I8_AVX512VNNI, &odd);
    struct gemm_blocking b = gemm_blocking(GEMM_I8_AVX512VNNI, 2);
    cr_expect_eq(b.kc, 960, "KC rounded down to whole 64-byte rows: %d", b.kc);
    cr_expect_eq(b.mc, 498, "MC rounded down to whole slivers of 6: %d", b.mc);
    cr_expect_eq(b.nc, GEMM_NC_MAX, "NC capped: %d", b.nc);
    gemm_blocking_force(GEMM_I8_AVX512VNNI, NULL);
    struct gemm_blocking r = gemm_rule(&gemm_geometries[GEMM_I8_AVX512VNNI], gemm_caches_here(), 1);
    b = gemm_blocking(GEMM_I8_AVX512VNNI, 1);
    cr_expect(b.kc == r.kc && b.mc == r.mc && b.nc == r.nc, "the rule again once the force is lifted");
}

// ---------------------------------------------------------------------------
// every GEMM under every CPU's blocking

static const struct shape shapes[] = {
    {7, 13, 5}, {100, 37, 250}, {13, 31, 513}, {130, 131, 129}, {70, 800, 300}, {260, 70, 1100}, {2, 1000, 1100},
};

static const struct {
    const char *kernel;
    int tier, slot;
    enum gemm_id id;
} gemms[] = {
    {"matmul", T_AVX2, 0, GEMM_F32_AVX2},         {"matmul", T_AVX512, 0, GEMM_F32_AVX512},
    {"matmul_int8", T_AVX2, 0, GEMM_I8_AVXVNNI},  {"matmul_int8", T_AVX2, 1, GEMM_I8_AVX2},
    {"matmul_int8", T_AVX512, 0, GEMM_I8_AVX512VNNI}, {"matmul_int8", T_AVX2, EVEX_SLOT, GEMM_I8_AVXVNNI},
};

// the variant gemms[which] names (EVEX_SLOT: the AVX-VNNI GEMM's EVEX build, evex.h)
static const struct variant *variant_of(int which) {
    return variant_in(kernel_find(gemms[which].kernel), gemms[which].tier, gemms[which].slot);
}

// Threads 2 each pack their own block of b, 3 share one. Lopsided: every part
// but the first takes all its rows from the first's share (gemm_lopsided_force),
// as when the host slows the first, and one that takes a block of them first
// packs its b in that block on the way.
static const struct {
    int threads, lopsided;
} runs[] = {{1, 0}, {2, 0}, {2, 1}, {3, 0}, {3, 1}};

static void under_every_blocking(int which) {
    const struct kernel *kern = kernel_find(gemms[which].kernel);
    const struct variant *v = variant_of(which);
    enum gemm_id id = gemms[which].id;
    if (!v->fn.matmul_f32) cr_skip_test("%s (%s): not built here", gemm_geometries[id].name, v->isa);
    if (v->needs & ~cpu_features(CAP_AVX512)) cr_skip_test("%s (%s): this CPU lacks it", gemm_geometries[id].name, v->isa);
    int f32 = kern->kind == KIND_MATMUL_F32;
    gemm_small_force(id, 0); // the packed path, whose blocks these are, on the small shapes too
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        struct buffers buf;
        cr_assert_eq(buffers_new(&buf, kern, shapes[i], 42 + i), 0);
        int m = (int)shapes[i].m, n = (int)shapes[i].n, k = (int)shapes[i].k;
        // every CPU's blocking, then this CPU's with blocks of one sliver of rows: a part
        // with no rows of its own (lopsided) then takes the first part's last sliver
        // first, short where m is not a whole number of slivers
        for (int c = 0; c <= N_CPUS; c++)
            for (int run = 0; run < (int)(sizeof runs / sizeof *runs); run++) {
                int threads = runs[run].threads;
                // the rule's blocking as gemm() asks it: two threads pack a block of b each,
                // three share one
                struct gemm_blocking b = gemm_rule(&gemm_geometries[id], caches_of(c < N_CPUS ? c : 0), threads == 2 ? 2 : 1);
                if (c == N_CPUS) b.mc = gemm_geometries[id].mr;
                gemm_blocking_force(id, &b);
                parallel_set_threads(threads);
                gemm_lopsided_force(runs[run].lopsided);
                poison(&buf);
                if (f32) v->fn.matmul_f32(buf.out, buf.in[0], buf.in[1], m, n, k);
                else v->fn.matmul_i8(buf.out, buf.in[0], buf.in[1], m, n, k);
                double err;
                // fp32 within the matmul's bound (kernels.c), int8 exact
                cr_expect(verify_output(kern, shapes[i], buf.out, buf.ref, buf.bound, &err, NULL, NULL),
                          "%s, %dx%dx%d, %s's blocking (KC %d MC %d NC %d), %d threads%s: max error %g",
                          gemm_geometries[id].name, m, n, k, c < N_CPUS ? cpus[c].name : "one sliver a block",
                          b.kc, b.mc, b.nc, threads,
                          runs[run].lopsided ? ", all rows the first's to start with" : "", err);
            }
        gemm_lopsided_force(0);
        gemm_blocking_force(id, NULL);
        parallel_set_threads(1);
        buffers_free(&buf);
    }
    gemm_small_force(id, -1);
}

Test(gemm, f32_avx2_matches_the_reference_under_every_blocking) { under_every_blocking(0); }
Test(gemm, f32_avx512_matches_the_reference_under_every_blocking) { under_every_blocking(1); }
Test(gemm, i8_avxvnni_is_exact_under_every_blocking) { under_every_blocking(2); }
Test(gemm, i8_avx2_is_exact_under_every_blocking) { under_every_blocking(3); }
Test(gemm, i8_avx512vnni_is_exact_under_every_blocking) { under_every_blocking(4); }
Test(gemm, i8_avxvnni_evex_is_exact_under_every_blocking) { under_every_blocking(5); }

// ---------------------------------------------------------------------------
// two GEMMs at once: each thread packs into its own buffers (gemm_buffer)

struct caller {
    const struct kernel *kern;
    const struct variant *v;
    struct shape s;
    struct buffers buf;
    pthread_barrier_t *start;
    int wrong; // calls that missed the reference
};

// Rounds of calls from each thread: enough that the two threads' packing overlaps
#define ROUNDS 8

static void *call_rounds(void *arg) {
    struct caller *c = arg;
    int m = (int)c->s.m, n = (int)c->s.n, k = (int)c->s.k;
    pthread_barrier_wait(c->start);
    for (int r = 0; r < ROUNDS; r++) {
        poison(&c->buf);
        if (c->kern->kind == KIND_MATMUL_F32) c->v->fn.matmul_f32(c->buf.out, c->buf.in[0], c->buf.in[1], m, n, k);
        else c->v->fn.matmul_i8(c->buf.out, c->buf.in[0], c->buf.in[1], m, n, k);
        c->wrong += !verify_output(c->kern, c->s, c->buf.out, c->buf.ref, c->buf.bound, NULL, NULL, NULL);
    }
    return NULL;
}

static void two_at_once(int which) {
    const struct kernel *kern = kernel_find(gemms[which].kernel);
    const struct variant *v = variant_of(which);
    const char *name = gemm_geometries[gemms[which].id].name;
    if (!v->fn.matmul_f32) cr_skip_test("%s (%s): not built here", name, v->isa);
    if (v->needs & ~cpu_features(CAP_AVX512)) cr_skip_test("%s (%s): this CPU lacks it", name, v->isa);
    // other shapes and inputs in each thread, each over several blocks of k and of
    // rows: a buffer the two shared would hold the other's blocks
    static const struct shape at_once[2] = {{300, 200, 1100}, {260, 310, 700}};
    struct caller callers[2];
    pthread_barrier_t start;
    cr_assert_eq(pthread_barrier_init(&start, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        callers[i] = (struct caller){.kern = kern, .v = v, .s = at_once[i], .start = &start};
        cr_assert_eq(buffers_new(&callers[i].buf, kern, at_once[i], 7 + i), 0);
    }
    // one thread each, then each call on the pool's two threads in turn
    for (int threads = 1; threads <= 2; threads++) {
        parallel_set_threads(threads);
        pthread_t id[2];
        for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&id[i], NULL, call_rounds, &callers[i]), 0);
        for (int i = 0; i < 2; i++) pthread_join(id[i], NULL);
        for (int i = 0; i < 2; i++)
            cr_expect_eq(callers[i].wrong, 0, "%s, %zux%zux%zu beside another GEMM, %d threads each: %d of %d calls wrong",
                         name, at_once[i].m, at_once[i].n, at_once[i].k, threads, callers[i].wrong, ROUNDS);
    }
    parallel_set_threads(1);
    for (int i = 0; i < 2; i++) buffers_free(&callers[i].buf);
    pthread_barrier_destroy(&start);
}

Test(gemm, f32_avx2_gives_the_reference_beside_another_call) { two_at_once(0); }
Test(gemm, f32_avx512_gives_the_reference_beside_another_call) { two_at_once(1); }
Test(gemm, i8_avxvnni_is_exact_beside_another_call) { two_at_once(2); }
Test(gemm, i8_avx2_is_exact_beside_another_call) { two_at_once(3); }
Test(gemm, i8_avx512vnni_is_exact_beside_another_call) { two_at_once(4); }
Test(gemm, i8_avxvnni_evex_is_exact_beside_another_call) { two_at_once(5); }
