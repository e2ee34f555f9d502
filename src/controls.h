// The steadiness controls: fixed loops timed in every pass, one for each
// kind of work the tiers do (interpreter bytecode, scalar C, SIMD
// arithmetic, a memory copy). The work never changes, so a control that
// moves between passes, or between two runs, measures the machine, not the
// code: the report says how much each moved and --compare allows for it.
#ifndef BMML_CONTROLS_H
#define BMML_CONTROLS_H

#include "results.h"

struct py_call; // embed.h

enum control { C_PYTHON, C_SCALAR, C_SIMD, C_MEMORY, N_CONTROLS };
extern const char *const control_names[N_CONTROLS];

// A control that moved more than this between the fastest and the slowest
// pass (max / min - 1) says the machine changed state during the run: a
// warning names it. The same bound as a tier's own repetitions are warned at
// (runner.c): a fixed loop should move less than a kernel's samples do.
#define CONTROL_STEADY 0.10

struct controls {
    int passes;                         // passes recorded
    int present[N_CONTROLS];            // measured (python: only when the interpreter runs)
    const char *isa[N_CONTROLS];        // what the SIMD control ran: "avx2" or "sse2"
    double samples_ns[N_CONTROLS][MAX_PASSES]; // per pass: the median of the control's runs
    char *copy_src, *copy_dst;          // the memory control's, kept so that every pass copies the same pages
    struct py_call *beside;             // the short Python control timed beside each Python sample
    int beside_failed;                  // it could not be made, or raised: none is timed
};

// The runs of one control a pass times; the pass's figure is their median.
#define CONTROL_RUNS 7

// Time every control once more (a pass), appending to c; cpu (CPU_* bits)
// picks the SIMD loop, python says whether the interpreter runs.
void controls_pass(struct controls *c, unsigned cpu, int python);
// One short run of the Python control, timed beside a Python sample
// (runner.c): the interpreter thread's CPU time it took, or 0 when it cannot
// run. On a shared machine the interpreter's speed moves in spells shorter
// than a pass (other work on the other core of the same physical core), so
// --compare sets a Python row against the control timed next to its samples.
double controls_python_beside(struct controls *c);
// Free what the passes kept (the figures stay).
void controls_free(struct controls *c);
// Record one pass's figure of control k (what controls_pass does for each).
void controls_record(struct controls *c, int k, double ns);
// How much control k moved over the passes: max / min - 1 (0 with fewer than 2).
double controls_spread(const struct controls *c, int k);
// The median of control k over the passes (0 when not measured).
double controls_median(const struct controls *c, int k);
// Warn, naming each control that moved more than CONTROL_STEADY. How many did.
int controls_warn(const struct controls *c);

#endif
