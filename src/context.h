// What the machine and the run are: the CPU, its caches, the governor, the
// compiler and its flags, the libraries, the options. Every report starts
// from it; the measurements it points to are filled by their own rooms.
#ifndef BMML_CONTEXT_H
#define BMML_CONTEXT_H

#include "cli.h"
#include "harness.h"
#include "kernels/gemm_config.h"
#include "roofline.h"

struct model_result;

struct context {
    char cpu_model[128];
    int cores;
    long l1d_bytes, l2_bytes, l3_bytes;   // 0 where the system does not say
    struct gemm_blocking gemm[N_GEMMS];   // each GEMM's blocks on these caches (gemm_config.h)
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
    const char *onednn_version, *onednn_isa; // NULL when the build has no oneDNN
    int blas_fallback;               // the core lacks blas_lacks, which the CPU has (blas.h)
    const char *numpy_blas_core;     // the OpenBLAS core NumPy's BLAS runs, NULL when unknown
    int numpy_blas_shared;           // NumPy calls the blas tier's own OpenBLAS
    int numpy_blas_fallback;         // that core lacks numpy_blas_lacks, which the CPU has
    const char *numpy_blas_lacks, *numpy_blas_matching;
    const char *blas_lacks, *blas_matching; // then: the vector extension, the OPENBLAS_CORETYPE that matches
    char blas_threads[16];
    char blas_coretype[40];          // OPENBLAS_CORETYPE as OpenBLAS found it ("" unset), --blas-core's too
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
    const struct controls *controls; // NULL: not measured (controls.h)
    const struct model_result *models; // the models that ran (model.h), n_models of them
    int n_models;
};

// Probe the machine and record o. numpy: numpy_kernels.py imported, so
// NumPy's version can be read. Warns where the build or the governor makes
// timings doubtful.
void context_fill(struct context *ctx, const struct options *o, const char *scripts, int numpy);

#endif
