// The thread pool: every part of a run runs once, on as many threads as asked,
// and the barrier holds every part until all have arrived.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "parallel.h"

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
        parallel_run(count_part, &tl);
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
        parallel_run(barrier_rounds, &r);
        cr_assert_eq(atomic_load(&r.bad), 0, "%d threads: %d parts passed a barrier early", threads, atomic_load(&r.bad));
    }
}
