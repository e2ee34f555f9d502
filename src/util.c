// Small helpers every room shares (util.h).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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

double thread_cpu_ns(void) { return read_ns(CLOCK_THREAD_CPUTIME_ID); }

double clock_res_ns(void) {
    struct timespec res;
    return clock_getres(CLOCK_MONOTONIC, &res) == 0 ? res.tv_sec * 1e9 + res.tv_nsec : 0;
}

double clock_read_ns(int tries) {
    double least = 0;
    for (int i = 0; i < tries; i++) {
        double a = now_ns(), b = now_ns();
        if (b - a > 0 && (least == 0 || b - a < least)) least = b - a;
    }
    return least; // 0: no two readings differed, the clock is coarser than a reading
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

const char *file_kind(unsigned mode) {
    return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
         : S_ISSOCK(mode) ? "a socket" : "not a regular file";
}

char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    // O_NONBLOCK: opening a FIFO with no writer must not wait for one
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return failf(err, errlen, "%s: %s", path, strerror(errno)), NULL;
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) != 0) failf(err, errlen, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) failf(err, errlen, "%s: %s, not a file", path, file_kind(st.st_mode));
    else if ((unsigned long long)st.st_size > max)
        failf(err, errlen, "%s: %lld bytes, more than the %zu MiB allowed", path, (long long)st.st_size, max >> 20);
    else if (!(text = malloc((size_t)st.st_size + 1))) failf(err, errlen, "%s: out of memory", path);
    size_t got = 0;
    while (text && got < (size_t)st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { // an error, or the file shrank under us
            failf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "it shrank while read");
            free(text), text = NULL;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (text) text[got] = '\0', *len = got;
    return text;
}
