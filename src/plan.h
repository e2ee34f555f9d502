// The plan: the kernels and the shapes a run measures, the model it runs, and
// where its results go, each checked before anything is measured.
#ifndef BMML_PLAN_H
#define BMML_PLAN_H

#include <stddef.h>

#include "cli.h"
#include "kernels.h"
#include "model.h"
#include "results.h"

#define MAX_SWEEP_SHAPES 9
#define MAX_CASES (16 * MAX_SWEEP_SHAPES)

struct plan {
    int n;
    const struct kernel *kern[MAX_CASES];
    struct shape shape[MAX_CASES];
    const char *model_path[MODEL_DEFAULTS]; // the models to run, n_models of them
    int n_models;
};

// The plan o asks for, every shape checked for its limits, overflow and the
// machine's memory, and the outputs (--json, --report) and --cpu checked
// too. 0; 2 on bad usage, 3 when --model cannot be read, with the reason in err.
int plan_make(struct plan *p, const struct options *o, char *err, size_t errlen);

// The shape --all (or --quick) runs for a kernel.
struct shape default_shape(const struct kernel *kern, int quick);
// Check a shape for kernel: limits, overflow, memory. 0, or -1 with the reason.
int shape_check(const struct kernel *kern, struct shape s, char *err, size_t errlen);
// The sizes a --sweep runs: a geometric range per kind of kernel, wide enough
// to cross every level of the cache. Element-wise: 1e3, 3e3, 1e4, ... 1e7
// elements; matmuls: n = 16, 32, ... 1024, square. Writes at most max shapes
// to out; returns how many.
int sweep_shapes(const struct kernel *k, struct shape *out, int max);

// In a sweep, the Python tier stops where one repetition would pass
// max_time: the time of the last size of the same kernel, scaled by the
// work, predicts the next. 1 (with the reason in note) to leave Python out of
// case i, given the n_done cases measured before it.
int plan_python_skip(const struct plan *p, const struct case_result *done, int n_done, int i, double max_time,
                     char *note, size_t size);

#endif
