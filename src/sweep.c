#include "sweep.h"

int sweep_shapes(const struct kernel *k, struct shape *out, int max) {
    // 1-3-10 steps: about half a decade apart, so each cache level gets a point or two
    static const size_t elements[] = {1000, 3000, 10000, 30000, 100000, 300000, 1000000, 3000000, 10000000};
    static const size_t sides[] = {16, 32, 64, 128, 256, 512, 1024};
    int unary = k->kind == KIND_UNARY_F32;
    int n = unary ? (int)(sizeof elements / sizeof *elements) : (int)(sizeof sides / sizeof *sides);
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        if (unary) out[i] = (struct shape){0, elements[i], 0};
        else out[i] = (struct shape){sides[i], sides[i], sides[i]};
    }
    return n;
}
