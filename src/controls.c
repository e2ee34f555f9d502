// The steadiness controls (controls.h): each a fixed amount of one kind of
// work, timed CONTROL_RUNS times a pass after one untimed run, the median
// kept. About 1 ms a run, some 30 ms a pass for the four.
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "controls.h"
#include "cpu.h"
#include "embed.h"
#include "kernels.h"
#include "stats.h"
#include "util.h"
#include "warn.h"

const char *const control_names[N_CONTROLS] = {"python", "scalar", "simd", "memory"};

#define PY_TURNS 20000            // of _bmml.control_loop
#define PY_BESIDE_TURNS 4000      // of the same beside each Python sample: short beside the sample
#define SCALAR_STEPS (1L << 20)   // of a dependent float chain, so one element at a time
#define SIMD_ITERS (1L << 17)     // of peak_fma_avx2, or of the SSE2 loop below
// A copy past any L2 of today's cores and within their L3 (a copy that
// straddles the L3 keeps speeding up for many runs as the cache settles, and
// one well past it lasts too long), repeated to last about a millisecond.
#define COPY_BYTES ((size_t)4 << 20)
#define COPIES 8

static volatile float sink;

// One multiply-add after another, each waiting for the last: what a scalar
// tier's loop is, without its memory.
static void scalar_loop(long steps) {
    float acc = 1.0f;
    for (long i = 0; i < steps; i++) acc = acc * 0.999999f + 1e-7f;
    sink = acc;
}

// Baseline x86-64's vectors (SSE2), four independent chains of four floats.
typedef float v4 __attribute__((vector_size(16)));
static void sse2_loop(long iters) {
    v4 m = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, k = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
    v4 a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = {9, 10, 11, 12}, d = {13, 14, 15, 16};
    for (long i = 0; i < 4 * iters; i++) a = a * m + k, b = b * m + k, c = c * m + k, d = d * m + k;
    v4 s = a + b + c + d;
    sink = s[0];
}

#if HAVE_AVX2
static void avx2_loop(long iters) { sink = peak_fma_avx2(iters); }
#endif

// The median of CONTROL_RUNS runs of `work`, after one untimed.
#define TIME_RUNS(result, work)                            \
    do {                                                   \
        double t_[CONTROL_RUNS], s_[CONTROL_RUNS];         \
        work;                                              \
        for (int i_ = 0; i_ < CONTROL_RUNS; i_++) {        \
            double t0_ = now_ns();                         \
            work;                                          \
            t_[i_] = now_ns() - t0_;                       \
        }                                                  \
        result = stats_median(t_, CONTROL_RUNS, s_);       \
    } while (0)

void controls_record(struct controls *c, int k, double ns) {
    if (c->passes > MAX_PASSES || k < 0 || k >= N_CONTROLS) return;
    c->present[k] = 1;
    c->samples_ns[k][c->passes - 1] = ns;
}

void controls_pass(struct controls *c, unsigned cpu, int python) {
    if (c->passes >= MAX_PASSES) return;
    c->passes++;
    double ns;
    char err[256];
    if (python) {
        struct py_arg turns = {ARG_INT, NULL, 0, 0, PY_TURNS};
        struct py_call *call = embed_call_new("_bmml", "control_loop", &turns, 1, err, sizeof err);
        if (call) {
            int failed = 0;
            TIME_RUNS(ns, failed |= embed_call(call, err, sizeof err));
            if (!failed) controls_record(c, C_PYTHON, ns);
        }
        embed_call_free(call);
    }
    TIME_RUNS(ns, scalar_loop(SCALAR_STEPS));
    controls_record(c, C_SCALAR, ns);
    void (*simd)(long) = sse2_loop;
    c->isa[C_SIMD] = "sse2";
#if HAVE_AVX2
    if ((cpu & (CPU_AVX2 | CPU_FMA)) == (CPU_AVX2 | CPU_FMA)) simd = avx2_loop, c->isa[C_SIMD] = "avx2";
#else
    (void)cpu;
#endif
    TIME_RUNS(ns, simd(SIMD_ITERS));
    controls_record(c, C_SIMD, ns);
    if (!c->copy_src && (c->copy_src = aligned_new(COPY_BYTES))) memset(c->copy_src, 1, COPY_BYTES);
    if (!c->copy_dst && (c->copy_dst = aligned_new(COPY_BYTES))) memset(c->copy_dst, 0, COPY_BYTES);
    if (c->copy_src && c->copy_dst) {
        TIME_RUNS(ns, for (int j = 0; j < COPIES; j++) memcpy(c->copy_dst, c->copy_src, COPY_BYTES));
        controls_record(c, C_MEMORY, ns);
    }
}

double controls_python_beside(struct controls *c) {
    char err[256];
    if (c->beside_failed) return 0;
    if (!c->beside) {
        struct py_arg turns = {ARG_INT, NULL, 0, 0, PY_BESIDE_TURNS};
        if (!(c->beside = embed_call_new("_bmml", "control_loop", &turns, 1, err, sizeof err))) {
            c->beside_failed = 1;
            return 0;
        }
    }
    double t0 = thread_cpu_ns();
    if (embed_call(c->beside, err, sizeof err) < 0) {
        c->beside_failed = 1;
        return 0;
    }
    return thread_cpu_ns() - t0;
}

void controls_free(struct controls *c) {
    free(c->copy_src), free(c->copy_dst);
    c->copy_src = c->copy_dst = NULL;
    embed_call_free(c->beside);
    c->beside = NULL;
}

double controls_spread(const struct controls *c, int k) {
    if (!c->present[k] || c->passes < 2) return 0;
    const double *x = c->samples_ns[k];
    double lo = stats_min(x, c->passes), hi = stats_max(x, c->passes);
    return lo > 0 ? hi / lo - 1 : 0;
}

double controls_median(const struct controls *c, int k) {
    double scratch[MAX_PASSES];
    return c->present[k] ? stats_median(c->samples_ns[k], c->passes, scratch) : 0;
}

int controls_warn(const struct controls *c) {
    int moved = 0;
    for (int k = 0; k < N_CONTROLS; k++) {
        double s = controls_spread(c, k);
        if (s <= CONTROL_STEADY) continue;
        warnf("the %s control moved %.0f%% between passes (more than %.0f%%): the machine changed state during "
              "the run, and figures of that kind of work read less steady than they are",
              control_names[k], 100 * s, 100 * CONTROL_STEADY);
        moved++;
    }
    return moved;
}
