// The thread pool: every part of a run runs once, on as many threads as asked,
// and the barrier holds every part until all have arrived. Then every GEMM
// variant on 1, 2 and 3 threads against the references, on shapes with tails
// in every dimension and larger than one block (gemm_driver.h) in each.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"
#include "parallel.h"
#include "evex.h"
#include "buffers.h"

// ---------------------------------------------------------------------------
// parallel_run

struct tally {
    atomic_int runs[MAX_THREADS];
    atomic_int n_seen[MAX_THREADS];
    pthread_t self[MAX_THREADS];
};

static void count_part(void *arg, int t, int n) {
    struct tally *tl = arg;
    atomic_fetch_add(&tl->runs[t], 1);
    atomic_store(&tl->n_seen[t], n);
    tl->self[t] = pthread_self();
}

static void runs_each_part_once(int threads) {
    parallel_set_threads(threads);
    cr_assert_eq(parallel_threads(), threads);
    for (int rep = 0; rep < 100; rep++) {
        static struct tally tl;
        memset(&tl, 0, sizeof tl);
        parallel_run(count_part, &tl, parallel_threads());
        for (int t = 0; t < MAX_THREADS; t++) {
            cr_assert_eq(atomic_load(&tl.runs[t]), t < threads, "run %d, %d threads: part %d ran %d times",
                         rep, threads, t, atomic_load(&tl.runs[t]));
            if (t < threads) cr_assert_eq(atomic_load(&tl.n_seen[t]), threads);
        }
        cr_assert(pthread_equal(tl.self[0], pthread_self()), "part 0 runs on the caller's thread");
        for (int t = 1; t < threads; t++)
            for (int u = 0; u < t; u++) cr_assert(!pthread_equal(tl.self[t], tl.self[u]), "parts %d and %d shared a thread", u, t);
    }
}

Test(parallel, runs_each_part_once_on_1_thread) { runs_each_part_once(1); }
Test(parallel, runs_each_part_once_on_2_threads) { runs_each_part_once(2); }
Test(parallel, runs_each_part_once_on_3_threads) { runs_each_part_once(3); }
Test(parallel, runs_each_part_once_on_max_threads) { runs_each_part_once(MAX_THREADS); }

// the pool grows between runs: a new worker must not take an old run for its own
Test(parallel, changing_the_thread_count_still_runs_each_part_once) {
    runs_each_part_once(2);
    runs_each_part_once(5);
    runs_each_part_once(3);
    runs_each_part_once(7);
    runs_each_part_once(1);
    runs_each_part_once(4);
}

Test(parallel, clamps_the_thread_count) {
    parallel_set_threads(0);
    cr_expect_eq(parallel_threads(), 1);
    parallel_set_threads(MAX_THREADS + 1);
    cr_expect_eq(parallel_threads(), MAX_THREADS);
}

// ---------------------------------------------------------------------------
// parallel_barrier

#define ROUNDS 200

struct rounds {
    atomic_int arrived[ROUNDS];
    atomic_int bad;
};

// each round: arrive, wait, then every part must see all n arrivals
static void barrier_rounds(void *arg, int t, int n) {
    struct rounds *r = arg;
    (void)t;
    for (int i = 0; i < ROUNDS; i++) {
        atomic_fetch_add(&r->arrived[i], 1);
        parallel_barrier(n);
        if (atomic_load(&r->arrived[i]) != n) atomic_fetch_add(&r->bad, 1);
    }
}

Test(parallel, barrier_holds_every_part_until_all_arrive) {
    for (int threads = 1; threads <= 4; threads++) {
        static struct rounds r;
        memset(&r, 0, sizeof r);
        parallel_set_threads(threads);
        parallel_run(barrier_rounds, &r, parallel_threads());
        cr_assert_eq(atomic_load(&r.bad), 0, "%d threads: %d parts passed a barrier early", threads, atomic_load(&r.bad));
    }
}

// ---------------------------------------------------------------------------
// every GEMM variant on 1, 2 and 3 threads

static const struct shape shapes[] = {
    // below 128^3 multiply-adds the kernels run on one thread whatever the setting
    {1, 1, 1}, {7, 13, 5}, {17, 33, 65}, {100, 37, 250}, {13, 31, 513},
    // from here on they use the threads
    {300, 301, 302}, {130, 131, 129},
    {7, 13, 30000},  // too few rows to share: the threads share columns, some get none
    {2, 1000, 1100}, // likewise, with many column slivers, k beyond the largest KC
    {2, 600, 20000}, // likewise, many whole KC blocks to drift apart in before the short last one,
                     // whose slivers lie where another part's were: it must wait for them
    {510, 40, 120},  // m beyond the largest MC (GEMM_MC_MAX, 504)
    {40, 60, 1100},  // k beyond the largest KC (GEMM_KC_MAX, 1024): c is added to
    {20, 4200, 30},  // n beyond the largest NC (GEMM_NC_MAX, 4096), columns shared
    {490, 4110, 40}, // m and n beyond a block at once, rows shared
    {130, 70, 1100}, // rows shared, each of two parts packing its own b, k beyond KC
    {20, 4200, 60},  // n beyond NC with k past the fused tile's prefetch distance
};
#define N_SHAPES (int)(sizeof shapes / sizeof shapes[0])

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    cr_assert(p != NULL, "no memory for %zu bytes", bytes);
    return p;
}

// the variant in slot `slot` of tier t of the kernel (EVEX_SLOT: the AVX-VNNI
// GEMM's EVEX build, evex.h), or NULL after a skip
static const struct variant *usable(const struct kernel *kern, enum tier t, int slot) {
    const struct variant *v = variant_in(kern, t, slot);
    if (!v->fn.matmul_f32) cr_skip_test("%s %s slot %d: not built here", kern->name, tier_names[t], slot);
    unsigned have = cpu_features(CAP_AVX512);
    if (v->needs & ~have) {
        char lacks[128];
        cr_skip_test("%s %s: this CPU lacks %s", kern->name, v->isa, cpu_feature_names(v->needs & ~have, lacks, sizeof lacks));
    }
    return v;
}

// calls of each shape on two and on three threads
#define CALLS 4

static void gemm_on_1_2_3_threads(const char *name, enum tier t, int slot) {
    const struct kernel *kern = kernel_find(name);
    cr_assert(kern != NULL);
    const struct variant *v = usable(kern, t, slot);
    int f32 = kern->kind == KIND_MATMUL_F32;
    uint64_t seed = 42;
    for (int i = 0; i < N_SHAPES; i++) {
        struct shape s = shapes[i];
        int m = (int)s.m, n = (int)s.n, k = (int)s.k;
        size_t in = f32 ? 4 : 1, out = 4;
        void *a = xmalloc(s.m * s.k * in), *b = xmalloc(s.k * s.n * in), *c = xmalloc(s.m * s.n * out);
        void *ref = xmalloc(s.m * s.n * (f32 ? 8 : 4));
        // other inputs, to leave other values in the kernel's static pack buffers
        void *a2 = xmalloc(s.m * s.k * in), *b2 = xmalloc(s.k * s.n * in);
        memset(a2, 0x11, s.m * s.k * in);
        memset(b2, 0x22, s.k * s.n * in);
        double *bound = f32 ? xmalloc(s.m * s.n * 8) : NULL;
        if (f32) {
            float *x = a, *y = b;
            for (size_t j = 0; j < s.m * s.k; j++) x[j] = (float)(splitmix64(&seed) >> 40) * 0x1p-23f - 1;
            for (size_t j = 0; j < s.k * s.n; j++) y[j] = (float)(splitmix64(&seed) >> 40) * 0x1p-23f - 1;
            matmul_f32_ref(ref, bound, a, b, m, n, k);
        } else {
            int8_t *x = a, *y = b;
            for (size_t j = 0; j < s.m * s.k; j++) x[j] = (int8_t)(splitmix64(&seed) >> 56);
            for (size_t j = 0; j < s.k * s.n; j++) y[j] = (int8_t)(splitmix64(&seed) >> 56);
            matmul_i8_ref(ref, a, b, m, n, k);
        }
        for (int threads = 1; threads <= 3; threads++) {
            // a part a thread failed to pack would otherwise still hold the last call's values
            parallel_set_threads(1);
            if (f32) v->fn.matmul_f32(c, a2, b2, m, n, k);
            else v->fn.matmul_i8(c, a2, b2, m, n, k);
            parallel_set_threads(threads);
            // a race between the parts shows only when one of them runs ahead
            // (three threads on two cores, a busy machine): give it more chances
            for (int call = 0; call < (threads > 1 ? CALLS : 1); call++) {
                memset(c, 0x7f, s.m * s.n * out); // not zero: every element must be written
                if (f32) v->fn.matmul_f32(c, a, b, m, n, k);
                else v->fn.matmul_i8(c, a, b, m, n, k);
                double abs_err, rel_err;
                // fp32: within the matmul's bound (kernels.c); int8: exact
                cr_expect(verify_output(kern, s, c, ref, bound, &abs_err, &rel_err, NULL),
                          "%s %s, %dx%dx%d on %d threads, call %d: max error %g", name, v->isa, m, n, k, threads,
                          call + 1, abs_err);
            }
        }
        free(a), free(b), free(c), free(ref), free(bound), free(a2), free(b2);
    }
}

Test(gemm, f32_avx2_matches_reference_on_1_2_3_threads) { gemm_on_1_2_3_threads("matmul", T_AVX2, 0); }
Test(gemm, f32_avx512_matches_reference_on_1_2_3_threads) { gemm_on_1_2_3_threads("matmul", T_AVX512, 0); }
Test(gemm, i8_avxvnni_is_exact_on_1_2_3_threads) { gemm_on_1_2_3_threads("matmul_int8", T_AVX2, 0); }
Test(gemm, i8_avx2_is_exact_on_1_2_3_threads) { gemm_on_1_2_3_threads("matmul_int8", T_AVX2, 1); }
Test(gemm, i8_avx512vnni_is_exact_on_1_2_3_threads) { gemm_on_1_2_3_threads("matmul_int8", T_AVX512, 0); }
Test(gemm, i8_avxvnni_evex_is_exact_on_1_2_3_threads) { gemm_on_1_2_3_threads("matmul_int8", T_AVX2, EVEX_SLOT); }
