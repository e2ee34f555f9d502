// Small helpers every room shares: the clock, aligned memory, the seeded
// generator, error messages, and where this binary runs from. Depends on nothing.
#ifndef BMML_UTIL_H
#define BMML_UTIL_H

#include <stddef.h>
#include <stdint.h>

// CLOCK_MONOTONIC, in ns.
double now_ns(void);
// The CPU time of the process, every thread of it, in ns.
double process_cpu_ns(void);
// The calling thread's CPU time, in nanoseconds: what it ran, without the
// time other work on its core took from it.
double thread_cpu_ns(void);
// clock_getres(CLOCK_MONOTONIC), in ns.
double clock_res_ns(void);
// The least time between two readings of the clock, over `tries` pairs; 0
// when no two readings differed.
double clock_read_ns(int tries);
// What one reading of the clock can resolve: its resolution or the cost of
// reading it, whichever is larger. Measured once, on the first call.
double clock_tick_ns(void);

// 64-byte aligned memory of at least bytes (rounded up to a multiple of 64,
// as aligned_alloc asks), for free(). NULL when the size overflows or no memory.
void *aligned_new(size_t bytes);

// The next number of the splitmix64 sequence (Steele, Lea, Flood 2014) from state.
uint64_t splitmix64(uint64_t *state);

// Format the message into err; returns -1, for `return failf(...)`.
int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// The whole of a regular file of at most max bytes, NUL-terminated, for
// free(), its length in *len. NULL with "path: why" in err for anything else:
// a directory, a FIFO or a device (refused before a read can block or never
// end), a larger file, a read error, no memory.
char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);
// "a directory", "a FIFO", "a device", "a socket", "not a regular file": what st_mode is
const char *file_kind(unsigned mode);

// 1 when this binary is the one in the build tree (so it reads the source
// tree's pyscripts/ and models/), 0 when it is an installed copy.
int in_build_tree(void);

#endif
