// The sizes a --sweep runs: a geometric range per kind of kernel, wide
// enough to cross every level of the cache.
#ifndef BMML_SWEEP_H
#define BMML_SWEEP_H

#include "kernels.h"
#include "runner.h"

#define MAX_SWEEP_SHAPES 9

// Element-wise: 1e3, 3e3, 1e4, ... 1e7 elements; matmuls: n = 16, 32, ...
// 1024, square. Writes at most max shapes to out; returns how many.
int sweep_shapes(const struct kernel *k, struct shape *out, int max);

#endif
