// Command-line options and their validation.
#ifndef BMML_CLI_H
#define BMML_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu.h"
#include "results.h"

struct options {
    int kernel[16];       // indices into kernels[], in the order given
    int n_kernel;         // 0: every kernel
    unsigned tiers;       // bit t set: run tier t (enum tier, results.h); all by default
    int have_size;        // --size given
    struct shape size;    // --size N (element-wise n, or NxNxN) or MxNxK
    int quick, list, help, version;
    int no_roofline;      // skip measuring the machine's peaks
    int quiet;            // no progress line
    int repetitions;      // 0: calibrate to --min-time; else exactly this many samples
    int passes;           // the repetitions of every case in this many passes over the plan
    int threads;          // for the native matmul tiers and blas
    int cpu;              // --cpu N: the CPU a one-thread run is pinned to; -1: the first allowed
    uint64_t seed;
    double min_time, max_time;
    enum isa_cap max_isa;
    const char *model_path; // --model FILE
    size_t batch;           // --batch B, 0: the whole test set
    const char *scripts_dir;
    const char *blas_core;  // --blas-core: a core name, "auto", or NULL (the environment's)
    const char *json_path;
    const char *report_dir;  // --report DIR
    int sweep;               // --sweep: each kernel over a range of sizes
    const char *compare[2];  // --compare OLD NEW
};

// Parse argv into o. 0 on success; 2 on a usage error, with a one-line message in err.
int cli_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);
void cli_usage(FILE *f);
// --passes, but no more passes than --repetitions gives samples
int cli_passes(const struct options *o);

// Parse a size: "N" or, where matmul is true, "MxNxK" (N alone: NxNxN). 0 on
// success, -1 otherwise. (--size also takes layernorm's "RxC" and attention's "HxSxD".)
int cli_parse_size(const char *s, int matmul, struct shape *out);

#endif
