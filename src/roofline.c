#define _GNU_SOURCE // sched_setaffinity
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cpu.h"
#include "kernels.h"
#include "roofline.h"
#include "util.h"

// The best of many short runs of a peak loop, in operations per ns. The
// best, not the median: a peak is what the core can do, and interference
// only lowers it. Short runs (about 1 ms), so that on a core shared with
// other work some run within one time slice of the scheduler; after a
// warm-up of 20 ms at least, which brings the vector units up to full clock
// and width (Intel cores run wide vectors slower for tens of microseconds,
// and change clock in hundreds).
static double best_rate(void (*run)(long), double ops_per_iter) {
    long iters = 1000;
    double dt = 0, warm = 0;
    while (warm < 20e6 || dt < 0.5e6) { // grow the runs to 1 ms while warming up
        double t0 = now_ns();
        run(iters);
        dt = now_ns() - t0;
        warm += dt;
        if (dt < 0.5e6) iters = dt > 0 && 1e6 / dt < 10 ? (long)(iters * 1e6 / dt) + 1 : iters * 10;
    }
    double best = 0;
    for (int i = 0; i < 30; i++) {
        double t0 = now_ns();
        run(iters);
        dt = now_ns() - t0;
        if (dt > 0 && ops_per_iter * iters / dt > best) best = ops_per_iter * iters / dt;
    }
    return best;
}

static volatile float sink_f;
static volatile int sink_i;
#if HAVE_AVX2
static void run_avx2(long n) { sink_f = peak_fma_avx2(n); }
#endif
#if HAVE_AVX512
static void run_avx512(long n) { sink_f = peak_fma_avx512(n); }
#endif
#if HAVE_AVX512VNNI
static void run_vnni(long n) { sink_i = peak_vnni_avx512(n); }
#endif
#if HAVE_AVXVNNI
static void run_avxvnni(long n) { sink_i = peak_vnni_avxvnni(n); }
#endif

// 128 MiB each way: well past any last-level cache of today's x86 cores
#define COPY_BYTES ((size_t)128 << 20)

static void copy_memcpy(float *out, const float *x, size_t n) { memcpy(out, x, n * sizeof *x); }

double roofline_copy_gbps(float *out, const float *x, size_t n, unsigned cpu, int runs) {
    void (*copies[2])(float *, const float *, size_t) = {copy_memcpy, NULL};
#if HAVE_AVX2
    if ((cpu & (CPU_AVX2 | CPU_FMA)) == (CPU_AVX2 | CPU_FMA)) copies[1] = copy_stream_avx2;
#else
    (void)cpu;
#endif
    double best = 0;
    copy_memcpy(out, x, n); // fault the pages in and warm the caches
    for (int c = 0; c < 2 && copies[c]; c++) {
        for (int i = 0; i < runs; i++) {
            double t0 = now_ns();
            copies[c](out, x, n);
            double dt = now_ns() - t0;
            if (dt > 0 && 8.0 * n / dt > best) best = 8.0 * n / dt;
        }
    }
    return best;
}

// What moving memory costs here, the best of 3 copies of each kind.
static double copy_rate(unsigned cpu) {
    float *src = aligned_new(COPY_BYTES), *dst = aligned_new(COPY_BYTES);
    double best = 0;
    if (src && dst) {
        memset(src, 1, COPY_BYTES);
        best = roofline_copy_gbps(dst, src, COPY_BYTES / 4, cpu, 3);
    }
    free(src);
    free(dst);
    return best;
}

// The peaks on the core this thread runs on.
static void peaks_here(struct roofline *r, unsigned cpu) {
    (void)cpu, (void)r;
#if HAVE_AVX2
    if ((cpu & (CPU_AVX2 | CPU_FMA)) == (CPU_AVX2 | CPU_FMA))
        r->fma_avx2_gflops = fmax(r->fma_avx2_gflops, best_rate(run_avx2, 192));
#endif
#if HAVE_AVX512
    if ((cpu & CPU_AVX512F))
        r->fma_avx512_gflops = fmax(r->fma_avx512_gflops, best_rate(run_avx512, 512));
#endif
#if HAVE_AVX512VNNI
    if ((cpu & (CPU_AVX512F | CPU_AVX512VNNI)) == (CPU_AVX512F | CPU_AVX512VNNI))
        r->vnni_avx512_gops = fmax(r->vnni_avx512_gops, best_rate(run_vnni, 2048));
#endif
#if HAVE_AVXVNNI
    if ((cpu & (CPU_AVX2 | CPU_AVXVNNI)) == (CPU_AVX2 | CPU_AVXVNNI))
        r->vnni_avxvnni_gops = fmax(r->vnni_avxvnni_gops, best_rate(run_avxvnni, 768));
#endif
}

double roofline_int8(const struct roofline *r, const char **name) {
    int zmm = r->vnni_avx512_gops >= r->vnni_avxvnni_gops;
    double peak = zmm ? r->vnni_avx512_gops : r->vnni_avxvnni_gops;
    *name = peak <= 0 ? NULL : zmm ? "AVX512-VNNI peak" : "AVX-VNNI peak";
    return peak;
}

void roofline_keep_best(struct roofline *best, const struct roofline *now) {
    if (!now->measured) return;
    if (!best->measured) {
        *best = *now;
        return;
    }
    best->fma_avx2_gflops = fmax(best->fma_avx2_gflops, now->fma_avx2_gflops);
    best->fma_avx512_gflops = fmax(best->fma_avx512_gflops, now->fma_avx512_gflops);
    best->vnni_avx512_gops = fmax(best->vnni_avx512_gops, now->vnni_avx512_gops);
    best->vnni_avxvnni_gops = fmax(best->vnni_avxvnni_gops, now->vnni_avxvnni_gops);
    best->copy_gbps = fmax(best->copy_gbps, now->copy_gbps);
    best->seconds += now->seconds;
    if (now->cores_measured > best->cores_measured) best->cores_measured = now->cores_measured;
}

void roofline_measure(struct roofline *r, unsigned cpu) {
    memset(r, 0, sizeof *r);
    double t0 = now_ns() * 1e-9;
    // Cores of one machine need not be equal (on one virtual machine here one
    // of two CPUs ran vpdpbusd markedly slower), and the scheduler may run a
    // kernel on any of them: the roof is the best core's, measured on each in turn.
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        for (int c = 0; c < CPU_SETSIZE; c++) {
            if (!CPU_ISSET(c, &allowed)) continue;
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            if (sched_setaffinity(0, sizeof one, &one) == 0) peaks_here(r, cpu), r->cores_measured++;
        }
        sched_setaffinity(0, sizeof allowed, &allowed);
    }
    if (!r->cores_measured) peaks_here(r, cpu);
    r->copy_gbps = copy_rate(cpu);
    r->seconds = now_ns() * 1e-9 - t0;
    r->measured = 1;
}
