// Cases, buffers, warm-up, repetitions, verification.
#ifndef BMML_RUNNER_H
#define BMML_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "roofline.h"

// Every tier a kernel is measured in: the two Python ones, the native ones in
// the order of enum tier (T_SCALAR + TIER_x), then OpenBLAS (fp32 matmul only).
enum { T_PYTHON, T_NUMPY, T_SCALAR, T_AUTOVEC, T_AVX2, T_AVX512, T_BLAS, N_TIERS };
extern const char *const all_tier_names[N_TIERS];
int tier_find(const char *name); // -1 when unknown

struct shape {
    size_t m, n, k; // element-wise kernels: n elements, m = k = 0
};

// The shape --all (or --quick) runs for a kernel.
struct shape default_shape(const struct kernel *kern, int quick);
// Check a shape for kernel: limits, overflow, memory. 0, or -1 with the reason.
int shape_check(const struct kernel *kern, struct shape s, char *err, size_t errlen);
// "10000000" or "500x500x500", into buf.
const char *shape_str(const struct kernel *kern, struct shape s, char *buf, size_t size);

enum status { ST_OK, ST_UNAVAILABLE, ST_FAILED, ST_INTERRUPTED };
extern const char *const status_names[4];

#define MAX_SAMPLES 1000
// Repetitions per tier at least, unless --repetitions sets them. Of n samples,
// the smallest and the largest enclose their median with probability
// 1 - 2^(1-n) whatever the distribution: 98.4% for 7. So the ratio of two
// tiers' medians lies within min/max .. max/min with probability at least
// 1 - 2^(1-n_a) - 2^(1-n_b), 96.9% for 7 and 7: the speedup interval of tiers
// too slow for the 10 repetitions a bootstrap needs is still a 95% one.
#define MIN_REPETITIONS 7

struct tier_result {
    int tier;            // T_*
    const char *isa;     // the instruction set the variant uses, or NULL
    enum status status;
    char note[256];      // why unavailable or failed; a remark when ok
    int repetitions;     // timed samples
    long iterations;     // calls per sample
    int cut;             // the series ended early at --max-time, short of MIN_REPETITIONS
    int ended;           // a Python sample passed --max-time: later passes leave the tier out
    double median_ns, min_ns, mad_ns; // per call, wall clock
    double cpu_ns;       // per call, the process's CPU time (every thread), mean over the samples
    double cv;           // standard deviation / mean of the samples
    double samples_ns[MAX_SAMPLES]; // per call, one per repetition
    double max_abs_err, max_rel_err;
    double max_ulp_err;  // in ulp of the reference rounded to float; NaN for int8
    int verified;
    double rate;         // GB/s or GFLOP/s or GOP/s at the median
    double speedup;      // python median / this median; 0 when there is none
    double speedup_lo, speedup_hi; // its interval: see `interval`
    const char *interval;  // "bootstrap95" (10+ repetitions a side), "range" (fewer: min/max over max/min), NULL
    double interval_coverage; // the probability the interval holds the ratio of medians: 0.95, or range's lower bound
    double pct_of_roof;  // rate as a share of the roofline's roof for this kernel, 0 when unknown
};

// The speedup over Python as a product of steps, each the ratio of two tiers' medians.
enum { F_INTERPRETER, F_COMPILER, F_HAND_SIMD, F_WIDER, F_LIBRARY, N_FACTORS };
extern const char *const factor_names[N_FACTORS];
struct decomposition {
    double factor[N_FACTORS]; // 0 where a tier of the pair did not run
    int from[N_FACTORS], to[N_FACTORS]; // the two tiers of each factor (T_*)
    double total;             // python / the last tier in the chain that ran
    int last_tier;            // that tier
};

struct case_result {
    const struct kernel *kern;
    struct shape shape;
    double work;        // bytes (element-wise) or operations (matmul) per call
    const char *unit;   // "GB/s", "GFLOP/s", "GOP/s"
    double quant_rel_err; // int8 matmul: relative Frobenius error of the dequantized product
    double roof;        // the roof in `unit`, 0 when not measured
    const char *roof_name;
    int n_tiers;
    struct tier_result tiers[N_TIERS];
    struct decomposition decomp;
};

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
    const struct roofline *roof; // NULL: not measured
    int python_skip;    // leave the Python tier out of this case, for the reason in python_skip_note
    char python_skip_note[200];
    // called as work goes on (a warm-up or a repetition ended); NULL: silent
    void (*progress)(const char *kernel, const char *tier, const char *size, int repetition);
};

// 1 when out (float32 or int32) passes against ref (double or int32) with the
// kernel's tolerance, bound being the matmul's sum_p |a_ip b_pj| or NULL.
// The largest absolute and relative errors go to abs_err and rel_err, and
// the largest in ulp (ulp_error; NaN and infinite pairs left out, NaN for
// int8) to ulp_err; each may be NULL.
int verify_output(const struct kernel *kern, struct shape s, const void *out, const void *ref,
                  const double *bound, double *abs_err, double *rel_err, double *ulp_err);

// |y - r| in units in the last place of r rounded to float: below FLT_MIN the
// least subnormal, 2^-149; beyond FLT_MAX the ulp of FLT_MAX. r finite.
double ulp_error(float y, double r);

// The variant of native tier `tier` (enum tier) that a CPU with the CPU_*
// bits `cpu` runs, or NULL with the reason in why.
const struct variant *variant_pick(const struct kernel *kern, int tier, unsigned cpu, char *why, size_t whylen);

// Pass `pass`'s share (from 0) of count samples spread over `passes` passes:
// the shares differ by at most one and add up to count.
int pass_share(int count, int pass, int passes);

// Whether native tier r ran faster than the compute peak of its case: impossible
// unless the peak was measured low. Memory roofs are left out: a kernel on cached
// data may beat a copy of the same buffers.
int above_compute_roof(const struct case_result *cr, const struct tier_result *r);

// Fill cr->decomp from the tiers' medians (run_case does it; exposed for the tests).
void decompose(struct case_result *cr);
// The name of factor f as the decomposition ran it: its own ("compiler")
// when it joins its two usual tiers, else "from->to" ("python->avx512").
const char *factor_label(const struct decomposition *d, int f, char *buf, size_t size);

// Run pass cfg->pass of one case: the first fills out, a later one appends
// its samples to out's, and each leaves out's statistics, speedups and
// intervals computed over all the samples so far. A tier that failed or was
// unavailable in a pass is left out of the later ones. 0 when it ran
// (whatever its tiers' status); 3 when memory could not be had, with the
// reason on stderr.
int run_case(const struct kernel *kern, struct shape s, const struct run_config *cfg,
             struct case_result *out);

#endif
