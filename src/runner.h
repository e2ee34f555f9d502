// The runner: a case's tiers in one pass over the plan, each warmed up,
// verified, then timed; and the timing itself, which the model uses too.
#ifndef BMML_RUNNER_H
#define BMML_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "results.h"
#include "roofline.h"

struct controls; // controls.h

struct run_config {
    uint64_t seed;
    double min_time;    // seconds of samples per tier, at least MIN_REPETITIONS samples
    double max_time;    // seconds: a Python sample longer than this ends its series
    int repetitions;    // > 0: exactly this many samples, whatever the times
    int passes;         // the samples of every case are taken in this many passes over the plan
    int pass;           // this one, from 0: run_case appends to what earlier passes left in its result
    int threads;        // for the native matmul tiers and blas
    unsigned cpu;       // CPU_* bits this run may use
    unsigned tiers;     // bit T_* set: run it
    int python;         // kernels.py imported
    int numpy;          // numpy_kernels.py imported
    char numpy_note[200];
    char numpy_blas_note[200]; // "" or why the numpy tier's fp32 matmul measures a fallback OpenBLAS core
    struct roofline *roof; // NULL: not measured; else the best of every pass's measure so far
    struct controls *controls; // NULL: none; else timed at the start of every pass (controls.h)
    int python_skip;    // leave the Python tier out of this case, for the reason in python_skip_note
    char python_skip_note[200];
    // called as work goes on (a warm-up or a repetition ended); NULL: silent
    void (*progress)(const char *kernel, const char *tier, const char *size, int repetition);
};

// Pass `pass`'s share (from 0) of count samples spread over `passes` passes:
// the shares differ by at most one and add up to count.
int pass_share(int count, int pass, int passes);

// Run pass cfg->pass of one case: the first fills out, a later one appends
// its samples to out's, and each leaves out's statistics, speedups and
// intervals computed over all the samples so far. A tier that failed or was
// unavailable in a pass is left out of the later ones. 0 when it ran
// (whatever its tiers' status); 3 when memory could not be had, with the
// reason on stderr.
int run_case(const struct kernel *kern, struct shape s, const struct run_config *cfg,
             struct case_result *out);

struct plan;
// Every case of the plan, in cfg->passes passes over the whole plan (cfg->pass
// set for each), into results[0 .. *n_done). A pass stops at a signal.
// 0 when every tier ran or was unavailable; 1 when a tier failed; 3 when
// memory could not be had.
int run_plan(const struct plan *p, struct run_config *cfg, struct case_result *results, int *n_done);

struct model_result;
// Every model of the plan, in batches of `batch` (model_run), into
// out[0 .. *n_done); a model that cannot be loaded or run is said on stderr
// (the reason names its file) and the others run all the same. 0 when every
// tier ran or was unavailable; 1 when a tier failed; 3 when a model could
// not be loaded or run. Stops at a signal.
int run_models(const struct plan *p, size_t batch, const struct run_config *cfg, struct model_result *out,
               int *n_done);

// A case's roof as measured now, in its unit (0 when unknown), its name into
// *name (the int8 MatMul's may be another peak's than before).
typedef double (*roof_fn)(const struct case_result *cr, void *arg, const char **name);

// Every case where a native tier ran more than ROOF_MARGIN above its roof
// has the roof measured again by measure(cr, arg), the better of the two
// kept and the shares computed anew; a tier still above a compute peak gets
// a warning. How many cases were measured again.
int roofs_recheck(struct case_result *results, int n, roof_fn measure, void *arg);

// ---------------------------------------------------------------------------
// Timing, for any work: the kernels' tiers above and the model's passes.

// One call of what is timed: 0, or -1 with why it failed in err.
typedef int (*timed_fn)(void *what, char *err, size_t errlen);

// Untimed work around every timed call: before() readies it (poisons the
// output), after() checks what it did, and returns -1 with r failed and the
// reason in r->note when the call was wrong.
struct call_guard {
    void (*before)(void *what);
    int (*after)(void *what, struct tier_result *r);
};

// Take pass cfg->pass's samples of call(what) into r, whose first call (the
// warm-up, checked by the caller) took first_ns: in the first pass, grow
// the calls per sample until a sample lasts min_time / 30, as Google
// Benchmark does; then sample until this pass's share of MIN_REPETITIONS and
// of min_time is reached, or, for a Python tier, one sample passes max_time.
// r's statistics then cover every pass's samples so far. 0; or -1 when a call
// failed or a signal came (r->status failed, the call's reason in r->note).
// kernel and size name the work for cfg->progress and the warnings. guard,
// when not NULL, surrounds every call, each then timed alone.
int sample_tier(timed_fn call, const struct call_guard *guard, void *what, double first_ns, const struct run_config *cfg, const char *kernel,
                const char *size, struct tier_result *r);

// r's speedup over py, the median of python's samples over r's, and its
// interval: a bootstrap with 10 samples a side or more, else the whole range
// (results.h's MIN_REPETITIONS); seed seeds the bootstrap.
void speedup_interval(const struct tier_result *py, struct tier_result *r, uint64_t seed);

// After a tier stopped early: when a signal stopped it, a tier with samples
// from earlier passes keeps them (ok), one without is interrupted.
void finish_tier(struct tier_result *r);

#endif
