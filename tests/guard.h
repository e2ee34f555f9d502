// Buffers flush against a PROT_NONE page: a kernel that touches one byte
// before or after its data faults at once. ASan sees overruns of the heap;
// a guard page sees any access, even from a build without it.
#ifndef BMML_TESTS_GUARD_H
#define BMML_TESTS_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

enum guard_side {
    GUARD_AT_END,   // the buffer's last byte is the last readable one
    GUARD_AT_START, // the buffer's first byte follows the guard
};

struct guarded {
    void *ptr;  // the buffer; NULL when the memory could not be had
    void *map;  // the whole mapping, guard included
    size_t len;
};

// bytes of read-write memory with a guard page on one side. With bytes 0 the
// mapping is the guard alone and ptr sits on its boundary.
static struct guarded guard_alloc(size_t bytes, enum guard_side side) {
    struct guarded g = {NULL, NULL, 0};
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0) return g;
    size_t page = (size_t)ps;
    if (bytes > SIZE_MAX - 2 * page) return g;
    size_t data = (bytes + page - 1) / page * page;
    char *map = mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return g;
    char *guard = side == GUARD_AT_END ? map + data : map;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        munmap(map, data + page);
        return g;
    }
    g.map = map;
    g.len = data + page;
    g.ptr = side == GUARD_AT_END ? guard - bytes : guard + page;
    return g;
}

static void guard_free(struct guarded *g) {
    if (g->map) munmap(g->map, g->len);
    g->ptr = g->map = NULL;
    g->len = 0;
}

#endif
