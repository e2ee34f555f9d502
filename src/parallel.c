#include "parallel.h"

static int threads = 1;

void parallel_set_threads(int n) { threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n; }
int parallel_threads(void) { return threads; }

// For now the work runs on the caller's thread, one part after another.
void parallel_run(void (*fn)(void *arg, int t, int n), void *arg) {
    for (int t = 0; t < threads; t++) fn(arg, t, threads);
}
