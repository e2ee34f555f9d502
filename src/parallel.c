// A small persistent pool: the workers are started once and then wait for
// parallel_run, because a matmul at 64x64x64 takes microseconds and starting a
// thread takes tens of them. Every wait spins briefly, then blocks on the
// pool's condition variable, so an idle pool burns no core.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"

// About 50-100 us of pause instructions: long enough to catch the next part of
// a run, short enough that an idle pool sleeps almost at once.
#define SPINS 4000

static struct {
    pthread_mutex_t lock; // for the blocking half of every wait
    pthread_cond_t changed;
    pthread_mutex_t run_lock; // one parallel_run at a time
    int threads;              // as set, the caller included
    int workers;              // started, threads t = 1 .. workers
    unsigned born[MAX_THREADS]; // go when worker t was started: runs before it are not its own
    // the run: posted before go is bumped, read by the workers after
    void (*fn)(void *arg, int t, int n);
    void *arg;
    int n;
    atomic_uint go;   // bumped once per run
    atomic_int left;  // workers that have not finished this run
    atomic_int count; // parts at the barrier
    atomic_uint phase; // bumped when a barrier opens
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER,
    .run_lock = PTHREAD_MUTEX_INITIALIZER,
    .threads = 1,
};

static void relax(void) { __builtin_ia32_pause(); }

// after changing what some thread may wait on
static void wake_all(void) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.changed);
    pthread_mutex_unlock(&pool.lock);
}

static void wait_while_uint(atomic_uint *x, unsigned v) {
    for (int i = 0; i < SPINS; i++) {
        if (atomic_load(x) != v) return;
        relax();
    }
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(x) == v) pthread_cond_wait(&pool.changed, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

static void wait_for_zero(atomic_int *x) {
    for (int i = 0; i < SPINS; i++) {
        if (atomic_load(x) == 0) return;
        relax();
    }
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(x) != 0) pthread_cond_wait(&pool.changed, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

static void *worker(void *p) {
    int t = (int)(long)p;
    unsigned seen = pool.born[t];
    for (;;) {
        wait_while_uint(&pool.go, seen);
        // go cannot move again before this worker counts itself off below
        seen = atomic_load(&pool.go);
        if (t < pool.n) pool.fn(pool.arg, t, pool.n);
        if (atomic_fetch_sub(&pool.left, 1) == 1) wake_all();
    }
    return NULL;
}

void parallel_set_threads(int n) {
    n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
    pthread_mutex_lock(&pool.run_lock);
    while (pool.workers < n - 1) {
        pthread_t id;
        pthread_attr_t attr;
        int err = pthread_attr_init(&attr);
        if (!err) err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool.born[pool.workers + 1] = atomic_load(&pool.go);
        // the workers take no signals: SIGINT and SIGTERM must reach the main
        // thread, to wake the Python kernel it may be sleeping in
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (!err) err = pthread_create(&id, &attr, worker, (void *)(long)(pool.workers + 1));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (err) {
            fprintf(stderr, "bmml-host: warning: %s:%d: could not start thread %d of %d: %s; using %d\n",
                    __FILE__, __LINE__, pool.workers + 2, n, strerror(err), pool.workers + 1);
            n = pool.workers + 1;
            break;
        }
        pool.workers++;
    }
    pool.threads = n;
    pthread_mutex_unlock(&pool.run_lock);
}

int parallel_threads(void) { return pool.threads; }

void parallel_run(void (*fn)(void *arg, int t, int n), void *arg, int n) {
    pthread_mutex_lock(&pool.run_lock);
    if (n < 1 || n > pool.workers + 1) {
        fprintf(stderr, "bmml-host: %s:%d: %d parts asked of a pool of %d threads\n", __FILE__, __LINE__, n,
                pool.workers + 1);
        abort();
    }
    if (n == 1) {
        fn(arg, 0, 1);
    } else {
        pool.fn = fn;
        pool.arg = arg;
        pool.n = n;
        // every started worker answers, also those this run does not use
        atomic_store(&pool.left, pool.workers);
        atomic_fetch_add(&pool.go, 1);
        wake_all();
        fn(arg, 0, n);
        wait_for_zero(&pool.left);
    }
    pthread_mutex_unlock(&pool.run_lock);
}

void parallel_barrier(int n) {
    if (n <= 1) return;
    // read before arriving: the phase cannot move until this part has arrived
    unsigned phase = atomic_load(&pool.phase);
    if (atomic_fetch_add(&pool.count, 1) == n - 1) {
        atomic_store(&pool.count, 0);
        atomic_fetch_add(&pool.phase, 1);
        wake_all();
    } else {
        wait_while_uint(&pool.phase, phase);
    }
}
