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
    int threads;
    int interrupted;                 // the signal that stopped the run, or 0: results partial
    const struct roofline *roof;     // NULL: not measured
    const struct harness *harness;   // NULL: not measured
    const struct model_result *model; // NULL: the model did not run
};

void report_table(FILE *f, const struct context *ctx, const struct case_result *cases, int n);
// 0, or -1 when the file could not be written (errno set).
int report_json(const char *path, const struct context *ctx, const struct case_result *cases, int n);

#endif
