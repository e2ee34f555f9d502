// Small helpers every room shares (util.h).
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static double read_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double now_ns(void) { return read_ns(CLOCK_MONOTONIC); }

double process_cpu_ns(void) { return read_ns(CLOCK_PROCESS_CPUTIME_ID); }

double clock_res_ns(void) {
    struct timespec res;
    return clock_getres(CLOCK_MONOTONIC, &res) == 0 ? res.tv_sec * 1e9 + res.tv_nsec : 0;
}

double clock_read_ns(int tries) {
    double least = 1e18;
    for (int i = 0; i < tries; i++) {
        double a = now_ns(), b = now_ns();
        if (b - a > 0 && b - a < least) least = b - a;
    }
    return least;
}

double clock_tick_ns(void) {
    static double tick;
    if (tick > 0) return tick;
    double res = clock_res_ns(), read = clock_read_ns(100); // reading usually costs more than the resolution
    tick = res > read ? res : read;
    if (!(tick > 0)) tick = 1;
    return tick;
}

void *aligned_new(size_t bytes) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return NULL;
    return aligned_alloc(64, rounded ? rounded : 64);
}

uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int failf(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int in_build_tree(void) {
    char exe[PATH_MAX], build[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || !realpath(BMML_BUILDDIR, build)) return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = '\0';
    return strcmp(exe, build) == 0;
}
