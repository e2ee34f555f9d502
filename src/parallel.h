// Threads for the native matmul tiers (--threads). The kernels split their
// work with parallel_run; everything else in bmml runs on one thread.
#ifndef BMML_PARALLEL_H
#define BMML_PARALLEL_H

#define MAX_THREADS 64

// How many threads the native matmul tiers use (1 by default).
void parallel_set_threads(int n);
int parallel_threads(void);

// Run fn(arg, t, n) for t = 0 .. n-1, n = parallel_threads(), on n threads
// (t = 0 on the caller's), and return when all have finished.
void parallel_run(void (*fn)(void *arg, int t, int n), void *arg);

#endif
