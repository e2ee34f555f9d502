// Writers of results: the terminal table and JSON. They know results only.
#ifndef BMML_REPORT_H
#define BMML_REPORT_H

#include <stdio.h>

#include "harness.h"
#include "model.h"
#include "roofline.h"
#include "runner.h"

struct context {
    char cpu_model[128];
    int cores;
    long l1d_bytes, l2_bytes, l3_bytes;   // 0 where the system does not say
    char cpu_flags[256];     // what the CPU and OS support
    char tiers_built[128];   // the native tiers this build has
    char max_isa[16];
    char governor[32];       // cpufreq governor, "unknown" in a VM without cpufreq
    char kernel[160];        // uname: system and release
    const char *compiler;
    const char *build;       // "optimized", "debug" or "sanitizers"
    const char *kernel_cflags[6][2]; // library and its flags
    const char *python_version;
    char libpython[256];
    char numpy_version[32];  // "" when NumPy is absent
    const char *blas_config, *blas_core; // NULL when the build has no OpenBLAS
    char blas_threads[16];
    const char *scripts_dir;
    char date[32];
    unsigned long long seed;
    double min_time, max_time;
    int repetitions;
    int passes;                      // the repetitions of each case were taken in this many passes
    int threads;
    int pinned_cpu;                  // the CPU the run was pinned to, -1: none
    int interrupted;                 // the signal that stopped the run, or 0: results partial
    const struct roofline *roof;     // NULL: not measured
    const struct harness *harness;   // NULL: not measured
    const struct model_result *model; // NULL: the model did not run
};

// The pieces of the terminal table, for the other human-readable reports.
const char *fmt_time(double ns, char *buf, size_t size); // "423 ms", "1.27 us"
const char *fmt_sig(double v, char *buf, size_t size);   // three significant digits
// One tier's cells as the table shows them; only size is set when the tier is not ok.
struct tier_cells {
    char size[64], median[32], min[32], mad[32], cv[16], rate[48], roof[16], speedup[128], check[300];
};
void tier_cells(const struct case_result *cr, const struct tier_result *r, struct tier_cells *c);
// 1 when the case has a native tier that ran beside Python
int has_decomposition(const struct case_result *cr);
// "relu: python -> avx512 = 120x = interpreter 48x * ...", "" without one
const char *decomposition_str(const struct case_result *cr, char *buf, size_t size);
// "CPU, 8 cores; Python 3.11.2, NumPy 1.24.2, OpenBLAS core Haswell"
const char *context_str(const struct context *ctx, char *buf, size_t size);
// "roofline, one core: ...", "" when not measured
const char *roofline_str(const struct roofline *r, char *buf, size_t size);

// JSON pieces for every writer: a string with its escapes, a number (null
// when not finite).
void json_str(FILE *f, const char *s);
void json_num(FILE *f, double v);

void report_table(FILE *f, const struct context *ctx, const struct case_result *cases, int n);
// 0, or -1 when the file could not be written (errno set).
int report_json(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// results.csv: one row per kernel x tier x size, RFC 4180. 0, or -1 with errno.
int report_csv(const char *path, const struct case_result *cases, int n);
// results.md: the table in GitHub-flavoured Markdown. 0, or -1 with errno.
int report_md(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// The charts, SVG 1.1. 0, or -1 with errno.
int report_svg_speedup(const char *path, const struct context *ctx, const struct case_result *cases, int n);
int report_svg_decomposition(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// scaling.svg needs a kernel measured at two sizes or more, as after a sweep
int report_has_sweep(const struct case_result *cases, int n);
int report_svg_scaling(const char *path, const struct context *ctx, const struct case_result *cases, int n);

// Write results.json, results.csv, results.md, speedup.svg,
// decomposition.svg and, after a sweep, scaling.svg into dir, making dir
// (not its parents) when it does not exist. Each file appears whole or not
// at all. 0, or -1 with the file and the reason in err.
int report_dir(const char *dir, const struct context *ctx, const struct case_result *cases, int n, char *err,
               size_t errlen);

#endif
