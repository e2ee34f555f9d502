// The machine's own roofline, measured at start on each core in turn (the
// best counts, since a single-threaded kernel may run on any): peak fp32 FMA
// throughput per instruction set, peak int8 VNNI throughput per instruction
// set (AVX512-VNNI on zmm, AVX-VNNI on ymm), and the memory
// bandwidth of a copy larger than the last-level cache.
#ifndef BMML_ROOFLINE_H
#define BMML_ROOFLINE_H

#include <stddef.h>

struct roofline {
    int measured;
    double fma_avx2_gflops;   // 0 where the CPU or the build lacks it
    double fma_avx512_gflops;
    double vnni_avx512_gops;
    double vnni_avxvnni_gops;
    double copy_gbps;         // bytes read + bytes written per second
    double seconds;           // what measuring took
    int cores_measured;       // the peaks are the best of this many cores
};

// Measure what cpu (CPU_* bits) allows.
void roofline_measure(struct roofline *r, unsigned cpu);
// The int8 MatMul's roof on one core, in GOP/s: the faster of the VNNI peaks,
// on zmm or on ymm; its name into *name. 0 and NULL where neither was measured.
double roofline_int8(const struct roofline *r, const char **name);
// Keep in best the better of each of its roofs and now's: a roof is what the
// machine can do, so a later measure can only raise it. The seconds add up.
void roofline_keep_best(struct roofline *best, const struct roofline *now);

// The fastest copy of n floats from x to out, in GB/s (bytes read + bytes
// written): memcpy and, where cpu has AVX2, a copy with streaming stores
// (which wins once the data leaves the cache), each the best of `runs`.
double roofline_copy_gbps(float *out, const float *x, size_t n, unsigned cpu, int runs);

#endif
