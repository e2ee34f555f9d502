// Threads for the native matmul tiers (--threads). The kernels split their
// work with parallel_run; everything else in bmml runs on one thread.
#ifndef BMML_PARALLEL_H
#define BMML_PARALLEL_H

#define MAX_THREADS 64

// How many threads the native matmul tiers use (1 by default). Starts the
// pool's threads on first use; if some cannot be started it says so on stderr
// and parallel_threads() reports how many there are.
void parallel_set_threads(int n);
int parallel_threads(void);

// Run fn(arg, t, n) for t = 0 .. n-1 on n threads at once (t = 0 on the
// caller's), and return when all have finished. n is parallel_threads() as the
// caller read it, or fewer: the pool's threads, once started, stay, so a
// parallel_set_threads in between does not change how many parts run. One
// caller at a time; fn must not call parallel_run itself.
void parallel_run(void (*fn)(void *arg, int t, int n), void *arg, int n);

// Inside fn: wait until all n parts of this run have reached the barrier.
// Every part must pass the same number of barriers. n <= 1 returns at once.
void parallel_barrier(int n);

#endif
