// The threaded GEMM under ThreadSanitizer: make races, in a tree configured
// with --enable-sanitizers=thread. A race between the parts of a GEMM gives
// wrong sums only when one part runs ahead of another, which test_parallel
// sees now and then; ThreadSanitizer reports the unordered accesses whether
// or not they happened to collide. Criterion cannot start under it, so this
// is a plain program: every GEMM variant this CPU runs (and the AVX-VNNI
// GEMM's EVEX build, evex.h), on shapes that take each way through gemm_part,
// on 2, 3 and 17 threads and back to 2 (the pool grows between runs), then on
// 2 and 3 with all rows the first part's to start with (the others take theirs
// from its share), each result checked against the reference; then two calls
// at once from two threads of the program's own, each packing into its own
// buffers. Exits 1 on a wrong result; ThreadSanitizer exits 66 on a race.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"
#include "parallel.h"
#include "buffers.h"
#include "kernels/gemm_config.h"
#include "evex.h"

static const struct shape shapes[] = {
    {300, 301, 302},  // rows shared: two parts pack b each (the fused tile); three share one b
    {200, 70, 1100},  // likewise, k beyond KC
    {490, 4110, 40},  // rows shared, n beyond NC
    {2, 600, 3000},   // too few rows: the parts share columns, over several KC blocks
    {20, 4200, 60},   // columns shared, n beyond NC
};
#define N_SHAPES (int)(sizeof shapes / sizeof shapes[0])

static void fill(void *x, size_t count, int f32, uint32_t *seed) {
    for (size_t i = 0; i < count; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        if (f32) ((float *)x)[i] = (float)(*seed >> 8) * 0x1p-23f - 1;
        else ((int8_t *)x)[i] = (int8_t)(*seed >> 24);
    }
}

// 0 when every call of v matched; prints what did not
static int check_variant(const struct kernel *kern, const struct variant *v) {
    int f32 = kern->kind == KIND_MATMUL_F32, bad = 0;
    uint32_t seed = 1;
    for (int i = 0; i < N_SHAPES; i++) {
        struct shape s = shapes[i];
        int m = (int)s.m, n = (int)s.n, k = (int)s.k;
        size_t in = f32 ? 4 : 1;
        void *a = malloc(s.m * s.k * in), *b = malloc(s.k * s.n * in), *c = malloc(s.m * s.n * 4);
        void *ref = malloc(s.m * s.n * (f32 ? 8 : 4));
        double *bound = f32 ? malloc(s.m * s.n * 8) : NULL;
        if (!a || !b || !c || !ref || (f32 && !bound)) {
            fprintf(stderr, "races: out of memory\n");
            exit(2);
        }
        fill(a, s.m * s.k, f32, &seed);
        fill(b, s.k * s.n, f32, &seed);
        if (f32) matmul_f32_ref(ref, bound, a, b, m, n, k);
        else matmul_i8_ref(ref, a, b, m, n, k);
        // 17: more parts than the rows can share, which share columns
        static const struct {
            int threads, lopsided;
        } runs[] = {{2, 0}, {3, 0}, {17, 0}, {2, 0}, {2, 1}, {3, 1}};
        for (int j = 0; j < (int)(sizeof runs / sizeof runs[0]); j++) {
            parallel_set_threads(runs[j].threads);
            gemm_lopsided_force(runs[j].lopsided);
            memset(c, 0x7f, s.m * s.n * 4);
            if (f32) v->fn.matmul_f32(c, a, b, m, n, k);
            else v->fn.matmul_i8(c, a, b, m, n, k);
            double err;
            if (!verify_output(kern, s, c, ref, bound, &err, NULL, NULL)) {
                fprintf(stderr, "races: %s %s, %dx%dx%d on %d threads%s: max error %g\n", kern->name, v->isa, m, n, k,
                        runs[j].threads, runs[j].lopsided ? " (lopsided shares)" : "", err);
                bad = 1;
            }
        }
        gemm_lopsided_force(0);
        free(a), free(b), free(c), free(ref), free(bound);
    }
    return bad;
}

// one call of v on shapes[i], its inputs drawn from seed, checked: 0 when it matched
struct call {
    const struct kernel *kern;
    const struct variant *v;
    int i, bad;
};

static void *call_once(void *arg) {
    struct call *c = arg;
    int f32 = c->kern->kind == KIND_MATMUL_F32;
    struct shape s = shapes[c->i];
    struct buffers buf;
    if (buffers_new(&buf, c->kern, s, 3 + c->i)) {
        fprintf(stderr, "races: out of memory\n");
        exit(2);
    }
    if (f32) c->v->fn.matmul_f32(buf.out, buf.in[0], buf.in[1], (int)s.m, (int)s.n, (int)s.k);
    else c->v->fn.matmul_i8(buf.out, buf.in[0], buf.in[1], (int)s.m, (int)s.n, (int)s.k);
    c->bad = !verify_output(c->kern, s, buf.out, buf.ref, buf.bound, NULL, NULL, NULL);
    buffers_free(&buf);
    return NULL;
}

// two calls of v at once, from two threads, on one thread each: 0 when both matched
static int two_callers(const struct kernel *kern, const struct variant *v) {
    parallel_set_threads(1);
    struct call calls[2] = {{kern, v, 0, 0}, {kern, v, 1, 0}};
    pthread_t id[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&id[i], NULL, call_once, &calls[i])) {
            fprintf(stderr, "races: cannot start a thread\n");
            exit(2);
        }
    for (int i = 0; i < 2; i++) pthread_join(id[i], NULL);
    if (calls[0].bad || calls[1].bad) fprintf(stderr, "races: %s %s: wrong beside another call\n", kern->name, v->isa);
    return calls[0].bad || calls[1].bad;
}

int main(void) {
    unsigned have = cpu_features(CAP_AVX512);
    int bad = 0, ran = 0;
    for (int i = 0; i < n_kernels; i++) {
        const struct kernel *kern = &kernels[i];
        if (kern->kind != KIND_MATMUL_F32 && kern->kind != KIND_MATMUL_I8) continue;
        // the SIMD tiers, built on gemm_driver.h; the plain C ones run on one thread
        for (int t = T_AVX2; t <= T_AVX512; t++)
            for (int s = 0; s < 3; s++) {
                // a third for int8's avx2 tier: the AVX-VNNI GEMM's EVEX build (evex.h)
                if (s == 2 && !(kern->kind == KIND_MATMUL_I8 && t == T_AVX2)) continue;
                const struct variant *v = variant_in(kern, t, s < 2 ? s : EVEX_SLOT);
                if (!v->fn.matmul_f32) continue;
                if (v->needs & ~have) {
                    printf("races: %s %s: not run, this CPU lacks it\n", kern->name, v->isa);
                    continue;
                }
                int b = check_variant(kern, v) | two_callers(kern, v);
                printf("races: %s %s: %s\n", kern->name, v->isa, b ? "WRONG" : "ok");
                bad |= b;
                ran++;
            }
    }
    if (!ran) {
        fprintf(stderr, "races: no GEMM variant ran\n");
        return 1;
    }
    return bad;
}
