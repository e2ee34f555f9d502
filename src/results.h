// The words every room shares: tiers, statuses, shapes, the results of a case
// and of a tier, and the speedup's decomposition. The runner and the model
// fill these; the reporters, --compare and the CLI read them. Nothing here
// measures anything, and this header includes no other of the project's.
#ifndef BMML_RESULTS_H
#define BMML_RESULTS_H

#include <stddef.h>

struct kernel; // kernels.h

// Every tier a kernel is measured in, the interpreter first: the two Python
// tiers, the native ones (kernels.h's table has a slot for each), then
// OpenBLAS (fp32 matmul only), then oneDNN (both matmuls).
enum tier {
    T_PYTHON,  // the pure-Python twin, pyscripts/kernels.py
    T_NUMPY,   // the NumPy way, pyscripts/numpy_kernels.py
    T_SCALAR,  // plain C, -fno-tree-vectorize: one element at a time
    T_AUTOVEC, // the same plain C, vectorizer on, -mavx2 -mfma: what the compiler gives for free
    T_AVX2,    // AVX2 + FMA intrinsics (AVX-VNNI for int8)
    T_AVX512,  // AVX-512 intrinsics (AVX512-VNNI for int8)
    T_BLAS,    // OpenBLAS's cblas_sgemm
    T_ONEDNN,  // oneDNN's dnnl_sgemm and its exact int8 GEMM (matmuls only)
    N_TIERS
};
extern const char *const tier_names[N_TIERS];
int tier_find(const char *name); // -1 when unknown
// 1 for the tiers the kernel table holds variants of (scalar to avx512)
static inline int tier_is_native(int t) { return t >= T_SCALAR && t <= T_AVX512; }
// 1 for the libraries' tiers, whose step in the decomposition is "library"
static inline int tier_is_library(int t) { return t == T_BLAS || t == T_ONEDNN; }

struct shape {
    // element-wise kernels: n elements, m = k = 0; matmuls: a (m,k) @ b (k,n);
    // layernorm: m rows of n columns, k = 0; attention: m heads of n tokens of k dims
    size_t m, n, k;
};
// "10000000", "4096x1024" or "500x500x500", into buf.
const char *shape_str(const struct kernel *kern, struct shape s, char *buf, size_t size);
// "relu/avx2/1000": what names a kernel's tier at a size, in warnings and reports.
const char *case_label(const struct kernel *kern, int tier, struct shape s, char *buf, size_t size);

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
// --passes takes 1 to MIN_REPETITIONS, so that every pass has a sample
#define MAX_PASSES MIN_REPETITIONS

struct tier_result {
    int tier;            // enum tier
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
    // python: per call, the interpreter thread's CPU time in each repetition,
    // and the Python control's (controls.h) timed beside it, 0 when none
    double cpu_samples_ns[MAX_SAMPLES], control_cpu_ns[MAX_SAMPLES];
    int pass_samples[MAX_PASSES];   // how many of them each pass took, in order (--compare's unit is a pass)
    double max_abs_err, max_rel_err;
    double max_ulp_err;  // in ulp of the reference rounded to float; NaN for int8
    int verified;
    double rate;         // GB/s or GFLOP/s or GOP/s at the median
    double speedup;      // python median / this median; 0 when there is none
    double speedup_lo, speedup_hi; // its interval: see `interval`
    const char *interval;  // "bootstrap95" (10+ repetitions a side), "range" (fewer: min/max over max/min), NULL
    double interval_coverage; // the probability the interval holds the ratio of medians: 0.95, or range's lower bound
    double pct_of_roof;  // rate as a share of the roofline's roof for this kernel, 0 when unknown
    int fallback;        // blas, and numpy's matmul: OpenBLAS ran a core without a vector extension the CPU has (note says which)
};

// The speedup over Python as a product of steps, each the ratio of two tiers' medians.
enum { F_INTERPRETER, F_COMPILER, F_HAND_SIMD, F_WIDER, F_LIBRARY, N_FACTORS };
extern const char *const factor_names[N_FACTORS];
struct decomposition {
    double factor[N_FACTORS]; // 0 where a tier of the pair did not run
    int from[N_FACTORS], to[N_FACTORS]; // the two tiers of each factor
    double total;             // python / the last tier in the chain that ran
    int last_tier;            // that tier
    int library_fallback;     // the library step measured a fallback core (tier_result.fallback)
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

// The tier's result in cr when it ran (status ok), else NULL.
const struct tier_result *case_tier_ok(const struct case_result *cr, int tier);

// Fill cr->decomp from the tiers' medians: interpreter (python -> scalar),
// compiler (scalar -> autovec), hand SIMD (autovec -> avx2), wider vectors
// (avx2 -> avx512), library (our best native tier -> the faster of blas and onednn). A tier that did
// not run folds into the next step, so the factors multiply back to
// python / the last tier that ran.
void decompose(struct case_result *cr);
// The name of factor f as the decomposition ran it: its own ("compiler")
// when it joins its two usual tiers, else "from->to" ("python->avx512").
const char *factor_label(const struct decomposition *d, int f, char *buf, size_t size);

// How far above its roof a tier of ours may run before the roof is held to
// have been measured low (a busy core) and is measured again: 5%, beyond
// the run-to-run spread of the peaks.
#define ROOF_MARGIN 1.05

// Every tier's rate from its median, and its share of cr->roof (0 without one).
void roof_shares(struct case_result *cr);
// Whether native tier r ran more than ROOF_MARGIN above its case's roof, of
// any kind: then the roof is measured again before the report.
int above_roof(const struct case_result *cr, const struct tier_result *r);
// The same against a compute peak only: impossible unless the peak was
// measured low. Memory roofs are left out: a kernel on cached data may beat
// a copy of the same buffers.
int above_compute_roof(const struct case_result *cr, const struct tier_result *r);

#endif
