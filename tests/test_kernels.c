// Every native variant in the kernel table against the references in
// src/kernels/ref.c: sizes that hit every vector tail, pointers off 64-byte
// alignment and flush against guard pages, special values, and the verifier
// the runner trusts.
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

#include "config.h"
#include "cpu.h"
#include "guard.h"
#include "kernels.h"
#include "kernels/gemm_config.h"
#include "evex.h"
#include "buffers.h"

// ---------------------------------------------------------------------------
// inputs

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// uniform in [lo, hi]: 24 random bits, all a float's significand holds
static float uniform(uint64_t *state, float lo, float hi) {
    return lo + (hi - lo) * ((float)(splitmix64(state) >> 40) * 0x1p-24f);
}

static void fill_f32(float *x, size_t n, float lo, float hi, uint64_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = uniform(&seed, lo, hi);
}

enum i8_fill {
    I8_RANDOM,   // all of [-128, 127]
    I8_MIN,      // every element -128: -128 * -128 is the largest product
    I8_EXTREMES, // -128 and 127 at random: where u8 x s8 and int16 pair sums saturate
};

static void fill_i8(int8_t *x, size_t n, enum i8_fill how, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = splitmix64(&seed);
        x[i] = how == I8_MIN ? -128 : how == I8_EXTREMES ? (r >> 63 ? 127 : -128) : (int8_t)(r >> 56);
    }
}

// never NULL, even for 0 bytes, so memcpy and memcmp get valid pointers
static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    cr_assert(p != NULL, "no memory for %zu bytes", bytes);
    return p;
}

// ---------------------------------------------------------------------------
// where a buffer sits

enum where {
    OFFSET,         // off elements past a 64-byte boundary
    END_AT_GUARD,   // its last byte is the last readable one
    START_AT_GUARD, // its first byte follows a PROT_NONE page
};

struct place {
    enum where where;
    int off;
};

struct buf {
    void *heap;
    struct guarded g;
};

static void *buf_new(struct buf *b, struct place p, size_t bytes, size_t elem) {
    memset(b, 0, sizeof *b);
    if (p.where != OFFSET) {
        b->g = guard_alloc(bytes, p.where == END_AT_GUARD ? GUARD_AT_END : GUARD_AT_START);
        return b->g.ptr;
    }
    // exactly as large as asked, so ASan flags even a one-element overrun
    size_t lead = (size_t)p.off * elem;
    if (posix_memalign(&b->heap, 64, lead + bytes ? lead + bytes : 1) != 0) return NULL;
    return (char *)b->heap + lead;
}

static void buf_free(struct buf *b) {
    free(b->heap);
    guard_free(&b->g);
}

static const char *place_str(struct place p, char *s, size_t size) {
    if (p.where == END_AT_GUARD) return "end@guard";
    if (p.where == START_AT_GUARD) return "start@guard";
    snprintf(s, size, "+%d", p.off);
    return s;
}

// ---------------------------------------------------------------------------
// running a variant and saying where it failed

// Criterion reports that a test crashed, not on which case: the case in
// flight is kept here, as the whole line, and printed by the handler.
static char current_case[300];

static void print_current_case(void) {
    // one write, async-signal-safe unlike stdio, and whole among parallel tests
    ssize_t w = write(STDERR_FILENO, current_case, strlen(current_case));
    (void)w;
}

static void on_crash(int sig) {
    print_current_case();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void report_crashes(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    // SIGILL: a variant using an instruction its `needs` bits do not cover
    const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
#ifdef __SANITIZE_ADDRESS__
    // ASan ends the process itself on an overrun, without a signal
    __sanitizer_set_death_callback(print_current_case);
#endif
}

// One bug usually fails every case; a few messages show its pattern.
#define MAX_REPORTED 8

struct run {
    const struct kernel *kern;
    const struct variant *v;
    const char *tier;
    int failures;
};

static void set_current_case(const struct run *r, const char *where) {
    snprintf(current_case, sizeof current_case, "\ncrashed in: %s %s (%s), %s\n", r->kern->name, r->tier, r->v->isa,
             where);
}

__attribute__((format(printf, 2, 3))) static void fail(struct run *r, const char *fmt, ...) {
    if (r->failures++ >= MAX_REPORTED) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cr_expect_fail("%s %s (%s): %s", r->kern->name, r->tier, r->v->isa, msg);
}

// The first element verify_output rejects, checked one at a time, for the
// message: verify_output itself reports only the largest errors.
static size_t first_bad(const struct kernel *kern, struct shape s, const void *out, const void *ref,
                        const double *bound) {
    size_t in[3], count;
    cr_assert(case_elems(kern, s, in, &count) >= 0);
    size_t ref_size = kern->kind == KIND_MATMUL_I8 ? sizeof(int32_t) : sizeof(double);
    struct shape one = kern->kind == KIND_UNARY_F32   ? (struct shape){0, 1, 0}
                       : kern->kind == KIND_LAYERNORM ? (struct shape){1, 1, 0}
                       : kern->kind == KIND_ATTENTION ? (struct shape){1, 1, 1}
                                                      : (struct shape){1, 1, s.k};
    for (size_t i = 0; i < count; i++) {
        if (!verify_output(kern, one, (const char *)out + 4 * i, (const char *)ref + ref_size * i,
                           bound ? bound + i : NULL, NULL, NULL, NULL))
            return i;
    }
    return count;
}

static int built(const struct kernel *kern, const struct variant *v) {
    switch (kern->kind) {
    case KIND_UNARY_F32: return v->fn.unary != NULL;
    case KIND_MATMUL_F32: return v->fn.matmul_f32 != NULL;
    case KIND_MATMUL_I8: return v->fn.matmul_i8 != NULL;
    case KIND_LAYERNORM: return v->fn.layernorm != NULL;
    case KIND_ATTENTION: return v->fn.attention != NULL;
    case N_KINDS: break;
    }
    return 0;
}

// Run check on the variant of tier t whose isa is `isa` (NULL: the tier's
// one variant); skip, saying why, when this build or this CPU lacks it. A
// tier with two variants (the int8 avx2 tier: AVX-VNNI, else vpmaddwd) has a
// test for each, so the one this CPU lacks is skipped while the other runs.
static void run_variant(const char *name, enum tier t, const char *isa, void (*check)(struct run *)) {
    const struct kernel *kern = kernel_find(name);
    cr_assert(kern != NULL, "%s is not in the kernel table", name);
    const struct variant *v = NULL;
    if (isa && strcmp(isa, EVEX_ISA) == 0) // not in the table: tests/evex.h
        v = built(kern, &avxvnni_evex) ? &avxvnni_evex : NULL;
    for (int i = 0; i < 2 && !v; i++) {
        const struct variant *s = &kern->tier[t][i];
        if (!built(kern, s) || (isa && strcmp(s->isa, isa) != 0)) continue;
        cr_assert(!v, "%s %s has more than one variant: name the one to test", name, tier_names[t]);
        v = s;
    }
    if (!v) cr_skip_test("%s %s%s%s: not built (this build lacks the instruction set)", name, tier_names[t],
                         isa ? " " : "", isa ? isa : "");
    unsigned lacks = v->needs & ~cpu_features(CAP_AVX512);
    char names[128];
    if (lacks) cr_skip_test("%s %s (%s): this CPU lacks %s", name, tier_names[t], v->isa,
                            cpu_feature_names(lacks, names, sizeof names));
    struct run r = {kern, v, tier_names[t], 0};
    check(&r);
    if (r.failures > MAX_REPORTED)
        cr_expect_fail("%s %s (%s): and %d more failing cases", name, tier_names[t], v->isa, r.failures - MAX_REPORTED);
}

// One Test per native tier, each running check on that tier's variant; the
// int8 MatMul has one per variant.
#define FOR_EACH_TIER(suite, what, check)                                                              \
    Test(suite, scalar_##what, .init = report_crashes) { run_variant(#suite, T_SCALAR, NULL, check); } \
    Test(suite, autovec_##what, .init = report_crashes) { run_variant(#suite, T_AUTOVEC, NULL, check); } \
    Test(suite, avx2_##what, .init = report_crashes) { run_variant(#suite, T_AVX2, NULL, check); }     \
    Test(suite, avx512_##what, .init = report_crashes) { run_variant(#suite, T_AVX512, NULL, check); }
#define FOR_EACH_INT8_VARIANT(what, check)                                                                      \
    Test(matmul_int8, scalar_##what, .init = report_crashes) { run_variant("matmul_int8", T_SCALAR, NULL, check); } \
    Test(matmul_int8, autovec_##what, .init = report_crashes) { run_variant("matmul_int8", T_AUTOVEC, NULL, check); } \
    Test(matmul_int8, avxvnni_##what, .init = report_crashes) { run_variant("matmul_int8", T_AVX2, "avx-vnni", check); } \
    Test(matmul_int8, avxvnni_evex_##what, .init = report_crashes) { run_variant("matmul_int8", T_AVX2, EVEX_ISA, check); } \
    Test(matmul_int8, avx2_vpmaddwd_##what, .init = report_crashes) {                                        \
        run_variant("matmul_int8", T_AVX2, "avx2 (vpmaddwd)", check);                                             \
    }                                                                                                             \
    Test(matmul_int8, avx512vnni_##what, .init = report_crashes) { run_variant("matmul_int8", T_AVX512, NULL, check); }

// ---------------------------------------------------------------------------
// element-wise kernels

// Call the variant on a copy of x0 (n floats) placed as px says, its output
// placed as po says and prefilled with NaN bytes, so a kernel that writes
// nothing fails. The output is copied to result.
static void unary_call(struct run *r, float *result, const float *x0, size_t n, struct place px, struct place po,
                       const char *where) {
    struct buf bx, bo;
    float *x = buf_new(&bx, px, n * sizeof *x, sizeof *x);
    float *out = buf_new(&bo, po, n * sizeof *out, sizeof *out);
    cr_assert(x && out, "no memory for %zu floats", n);
    memcpy(x, x0, n * sizeof *x);
    memset(out, 0xff, n * sizeof *out);
    set_current_case(r, where);
    r->v->fn.unary(out, x, n);
    if (memcmp(x, x0, n * sizeof *x) != 0) fail(r, "%s: the kernel wrote to its input", where);
    memcpy(result, out, n * sizeof *out);
    buf_free(&bx);
    buf_free(&bo);
}

static void unary_verify(struct run *r, const float *x, const float *out, const double *ref, size_t n,
                         const char *where) {
    struct shape s = {0, n, 0};
    double abs_err, rel_err;
    if (verify_output(r->kern, s, out, ref, NULL, &abs_err, &rel_err, NULL)) return;
    size_t i = first_bad(r->kern, s, out, ref, NULL);
    fail(r, "%s: max abs error %.3g (rel %.3g; atol %g, rtol %g), first at [%zu]: x %.9g -> %.9g, reference %.9g",
         where, abs_err, rel_err, r->kern->atol, r->kern->rtol, i, x[i], out[i], ref[i]);
}

// 8 floats fill an AVX2 register, 16 an AVX-512 one: 7 and 15 = 8 + 7 leave
// the longest AVX2 tail, 17, 33 and 65 one element past whole vectors, 31 and
// 63 the longest AVX-512 tail, 1000 = 31 * 32 + 8 and 4099 = 4096 + 3 the
// unrolled loops with a short tail, 0 a call that must touch nothing.
static const size_t unary_sizes[] = {0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 1000, 4099};

static void unary_tails(struct run *r) {
    // x and out at every pair of offsets 0..3 floats, so neither can hide
    // behind the other's alignment; then each pair of guard placements
    struct place places[16 + 4][2];
    int n_places = 0;
    for (int ox = 0; ox < 4; ox++) {
        for (int oo = 0; oo < 4; oo++) {
            places[n_places][0] = (struct place){OFFSET, ox};
            places[n_places++][1] = (struct place){OFFSET, oo};
        }
    }
    const enum where guards[] = {END_AT_GUARD, START_AT_GUARD};
    for (int gx = 0; gx < 2; gx++) {
        for (int go = 0; go < 2; go++) {
            places[n_places][0] = (struct place){guards[gx], 0};
            places[n_places++][1] = (struct place){guards[go], 0};
        }
    }
    for (size_t si = 0; si < sizeof unary_sizes / sizeof unary_sizes[0]; si++) {
        size_t n = unary_sizes[si];
        float *x = xmalloc(n * sizeof *x), *out = xmalloc(n * sizeof *out);
        double *ref = xmalloc(n * sizeof *ref);
        fill_f32(x, n, r->kern->in_lo, r->kern->in_hi, 0x5eed0000 + n);
        r->kern->ref(ref, x, n);
        for (int p = 0; p < n_places; p++) {
            char where[96], s1[16], s2[16];
            snprintf(where, sizeof where, "n=%zu, x %s, out %s", n, place_str(places[p][0], s1, sizeof s1),
                     place_str(places[p][1], s2, sizeof s2));
            unary_call(r, out, x, n, places[p][0], places[p][1], where);
            unary_verify(r, x, out, ref, n, where);
        }
        free(x), free(out), free(ref);
    }
}

// special values, spread through 37 = 32 + 5 elements: whole AVX2 and
// AVX-512 vectors and a tail
#define N_MIXED 37
#define N_SPECIAL 15

static void special_values(float v[N_SPECIAL]) {
    // a negative NaN with a payload: relu must pass it on bit for bit
    uint32_t bits = 0xffc00123u;
    float neg_nan;
    memcpy(&neg_nan, &bits, sizeof neg_nan);
    const float s[N_SPECIAL] = {NAN,      neg_nan,   INFINITY, -INFINITY, -0.0f,  0.0f,   FLT_MAX, -FLT_MAX,
                                0x1p-149f, 1e-30f, -1e-30f,  88.7f,     -88.7f, 100.0f, -100.0f};
    memcpy(v, s, sizeof s);
}

// Ordinary values with the specials at (5 i + rot) mod 37: over rot = 0..36
// every special visits every lane, the tail included.
static void mixed(float x[N_MIXED], const struct kernel *kern, int rot) {
    float s[N_SPECIAL];
    special_values(s);
    fill_f32(x, N_MIXED, kern->in_lo, kern->in_hi, 0x5bec0000 + rot);
    for (int i = 0; i < N_SPECIAL; i++) x[(5 * i + rot) % N_MIXED] = s[i];
}

static const struct place unaligned[2] = {{OFFSET, 1}, {OFFSET, 2}};

static void relu_special(struct run *r) {
    for (int rot = 0; rot < N_MIXED; rot++) {
        float x[N_MIXED], out[N_MIXED];
        char where[64];
        snprintf(where, sizeof where, "special values rotated by %d", rot);
        mixed(x, r->kern, rot);
        unary_call(r, out, x, N_MIXED, unaligned[0], unaligned[1], where);
        for (int i = 0; i < N_MIXED; i++) {
            // the scalar rule, bit for bit: NaN and -0.0 are not < 0, so they pass through
            float want = x[i] < 0.0f ? 0.0f : x[i];
            if (memcmp(&out[i], &want, sizeof want) != 0) {
                uint32_t xb, ob, wb;
                memcpy(&xb, &x[i], 4), memcpy(&ob, &out[i], 4), memcpy(&wb, &want, 4);
                fail(r, "%s: [%d] x %g (0x%08x) -> %g (0x%08x), want 0x%08x", where, i, x[i], xb, out[i], ob, wb);
            }
        }
    }
}

static void gelu_special(struct run *r) {
    for (int rot = 0; rot < N_MIXED; rot++) {
        float x[N_MIXED], out[N_MIXED];
        double ref[N_MIXED];
        char where[64];
        snprintf(where, sizeof where, "special values rotated by %d", rot);
        mixed(x, r->kern, rot);
        r->kern->ref(ref, x, N_MIXED);
        unary_call(r, out, x, N_MIXED, unaligned[0], unaligned[1], where);
        // NaN exactly where the reference has it: at NaN and at -inf (-inf * 0)
        for (int i = 0; i < N_MIXED; i++) {
            if (!isnan(ref[i]) != !isnan(out[i]))
                fail(r, "%s: [%d] x %g -> %g, reference %g", where, i, x[i], out[i], ref[i]);
        }
        unary_verify(r, x, out, ref, N_MIXED, where);
    }
}

static void all_nan(struct run *r, const float *out, size_t n, const char *where) {
    for (size_t i = 0; i < n; i++) {
        if (!isnan(out[i])) {
            fail(r, "%s: [%zu] is %g, want NaN", where, i, out[i]);
            return;
        }
    }
}

static void softmax_special(struct run *r) {
    const size_t max_n = 4099;
    float *x = xmalloc(max_n * sizeof *x), *out = xmalloc(max_n * sizeof *out);
    double *ref = xmalloc(max_n * sizeof *ref);
    char where[96];

    // A NaN anywhere makes the sum NaN, so every output is NaN; a kernel that
    // clamps exp's argument with max/min can turn it into a number instead.
    for (int rot = 0; rot < N_MIXED; rot++) {
        mixed(x, r->kern, rot);
        snprintf(where, sizeof where, "special values rotated by %d", rot);
        unary_call(r, out, x, N_MIXED, unaligned[0], unaligned[1], where);
        all_nan(r, out, N_MIXED, where);
    }
    // and one NaN at the start, middle or end of a short row (one vector,
    // where a kernel may take a way of its own) and of the unrolled loops
    const size_t long_n[] = {5, 16, 1000, max_n};
    for (int ni = 0; ni < 4; ni++) {
        size_t n = long_n[ni], at[] = {0, n / 2, n - 1};
        for (int ai = 0; ai < 3; ai++) {
            fill_f32(x, n, r->kern->in_lo, r->kern->in_hi, 0x7a70000 + n);
            x[at[ai]] = NAN;
            snprintf(where, sizeof where, "n=%zu, NaN at [%zu]", n, at[ai]);
            unary_call(r, out, x, n, unaligned[0], unaligned[1], where);
            all_nan(r, out, n, where);
        }
    }

    // All equal: x - max is 0 everywhere, so each output is 1/n whatever the
    // value, even at the ends of the float range.
    const size_t eq_n[] = {1, 7, 8, 17, 37, 1000};
    const float eq_v[] = {0.0f, 1.0f, -7.5f, 1e4f, -1e4f, FLT_MAX, -FLT_MAX, 0x1p-149f};
    for (size_t ni = 0; ni < sizeof eq_n / sizeof eq_n[0]; ni++) {
        for (size_t vi = 0; vi < sizeof eq_v / sizeof eq_v[0]; vi++) {
            size_t n = eq_n[ni];
            for (size_t i = 0; i < n; i++) x[i] = eq_v[vi];
            snprintf(where, sizeof where, "n=%zu, all %g", n, eq_v[vi]);
            r->kern->ref(ref, x, n);
            unary_call(r, out, x, n, unaligned[0], unaligned[1], where);
            unary_verify(r, x, out, ref, n, where);
        }
    }

    // +-1e4: exp of x - max can only be finite if the max is subtracted
    // first; exp(-2e4) must underflow to 0, not wrap an exponent. The rest
    // sit within 10 of the max, where x - max is exact (Sterbenz) and the
    // usual tolerance holds. Each output is within rtol = 4e-6 of its share,
    // so the sum is within 4e-6 of 1: 1e-5 leaves room for the sum's rounding.
    for (int trial = 0; trial < 6; trial++) {
        size_t n = trial >= 4 ? 16 - 5 * (trial - 4) : trial % 2 ? 1000 : N_MIXED; // 16 and 11: short rows
        uint64_t seed = 0x1e40000 + trial;
        for (size_t i = 0; i < n; i++) {
            uint64_t pick = splitmix64(&seed) % 3;
            x[i] = pick == 0 ? 1e4f : pick == 1 ? -1e4f : 1e4f - uniform(&seed, 0, 10);
        }
        snprintf(where, sizeof where, "n=%zu, +-1e4 (trial %d)", n, trial);
        r->kern->ref(ref, x, n);
        unary_call(r, out, x, n, unaligned[0], unaligned[1], where);
        double sum = 0;
        size_t bad = n;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(out[i]) && bad == n) bad = i;
            sum += out[i];
        }
        if (bad < n) fail(r, "%s: [%zu] x %g -> %g, not finite", where, bad, x[bad], out[bad]);
        if (!(fabs(sum - 1) <= 1e-5)) fail(r, "%s: the outputs sum to %.9g, not 1", where, sum);
        unary_verify(r, x, out, ref, n, where);
    }

    // -inf is how attention masks a position: its weight must be exactly 0
    for (int trial = 0; trial < 4; trial++) {
        size_t n = trial == 3 ? 7 : trial == 2 ? 16 : trial ? 1000 : N_MIXED;
        fill_f32(x, n, r->kern->in_lo, r->kern->in_hi, 0x3a5c0000 + trial);
        for (size_t i = 2; i < n; i += 3) x[i] = -INFINITY;
        snprintf(where, sizeof where, "n=%zu, every third -inf", n);
        r->kern->ref(ref, x, n);
        unary_call(r, out, x, n, unaligned[0], unaligned[1], where);
        for (size_t i = 2; i < n; i += 3) {
            if (out[i] != 0.0f) {
                fail(r, "%s: [%zu] -inf -> %g, want 0", where, i, out[i]);
                break;
            }
        }
        unary_verify(r, x, out, ref, n, where);
    }
    free(x), free(out), free(ref);
}

// ---------------------------------------------------------------------------
// matmuls

struct mm_case {
    int m, n, k;
    enum i8_fill fill; // int8 only; fp32 inputs are uniform in [in_lo, in_hi]
};

// Rows of a and c, columns of b and c, and k each hit their loops' tails:
// AVX2 holds 8 floats or 32 int8, AVX-512 16 or 64, VNNI sums groups of 4 k.
static const struct mm_case mm_cases[] = {
    {1, 1, 1, I8_RANDOM},       // every loop is all tail
    {7, 13, 5, I8_RANDOM},      // each dimension short of one vector
    {17, 33, 65, I8_RANDOM},    // one past whole vectors everywhere
    {64, 64, 64, I8_RANDOM},    // whole vectors and tiles, no tail at all
    {100, 37, 250, I8_RANDOM},  // 37 = 32 + 5 columns; k = 250 ends in half a VNNI group
    {3, 5, 7, I8_RANDOM},       // all tails, k = 4 + 3
    {6, 16, 1, I8_RANDOM},      // exactly one 6x16 AVX2 register tile, k = 1
    {5, 15, 3, I8_RANDOM},      // one short of that tile in every direction
    {13, 31, 513, I8_RANDOM},   // k one past 512, a multiple of any k block
    {33, 17, 31, I8_RANDOM},    // rows one past 32, k one short of it
    {1, 100, 1, I8_RANDOM},     // a single row
    {100, 1, 100, I8_RANDOM},   // a single column, narrower than any vector
    {31, 47, 129, I8_RANDOM},   // primes and one past 128
    {200, 200, 200, I8_RANDOM}, // several tiles and cache blocks, with tails
};

// int8 only: the products int8 kernels get wrong first.
static const struct mm_case i8_cases[] = {
    {5, 37, 4096, I8_MIN},     // the largest products, summed long
    // 127 * 127 pairs overflow vpmaddubsw's int16 sums, and 127 is where the
    // + 128 that VNNI's u8 x s8 needs reaches 255
    {13, 31, 513, I8_EXTREMES},
    {7, 9, 100, I8_EXTREMES}, // the same with every row and column a tail
    // the largest k shape_check allows: 131071 * 16384 = 2147467264 just fits int32
    {2, 17, 131071, I8_MIN},
};

// a, b, c: aligned, one element (one byte for int8 a and b) off, against
// guard pages on either side, and mixed
static const struct place mm_places[][3] = {
    {{OFFSET, 0}, {OFFSET, 0}, {OFFSET, 0}},
    {{OFFSET, 1}, {OFFSET, 1}, {OFFSET, 1}},
    {{END_AT_GUARD, 0}, {END_AT_GUARD, 0}, {END_AT_GUARD, 0}},
    {{START_AT_GUARD, 0}, {START_AT_GUARD, 0}, {START_AT_GUARD, 0}},
    {{OFFSET, 1}, {END_AT_GUARD, 0}, {START_AT_GUARD, 0}},
};

static void mm_where(char *where, size_t size, int m, int n, int k, const struct place p[3]) {
    char s[3][16];
    snprintf(where, size, "%dx%dx%d, a %s, b %s, c %s", m, n, k, place_str(p[0], s[0], 16),
             place_str(p[1], s[1], 16), place_str(p[2], s[2], 16));
}

// As unary_call: a0 and b0 copied where p says, c prefilled with 0xff bytes
// (NaN, or -1 for int8, so a kernel that adds into c fails too).
static void matmul_call(struct run *r, void *result, const void *a0, const void *b0, int m, int n, int k,
                        const struct place p[3], const char *where) {
    int f32 = r->kern->kind == KIND_MATMUL_F32;
    size_t in = f32 ? sizeof(float) : sizeof(int8_t);
    size_t a_bytes = (size_t)m * k * in, b_bytes = (size_t)k * n * in, c_bytes = (size_t)m * n * 4;
    struct buf ba, bb, bc;
    void *a = buf_new(&ba, p[0], a_bytes, in), *b = buf_new(&bb, p[1], b_bytes, in);
    void *c = buf_new(&bc, p[2], c_bytes, 4);
    cr_assert(a && b && c, "no memory for %s", where);
    memcpy(a, a0, a_bytes);
    memcpy(b, b0, b_bytes);
    memset(c, 0xff, c_bytes);
    set_current_case(r, where);
    if (f32) r->v->fn.matmul_f32(c, a, b, m, n, k);
    else r->v->fn.matmul_i8(c, a, b, m, n, k);
    if (memcmp(a, a0, a_bytes) != 0 || memcmp(b, b0, b_bytes) != 0)
        fail(r, "%s: the kernel wrote to its input", where);
    memcpy(result, c, c_bytes);
    buf_free(&ba), buf_free(&bb), buf_free(&bc);
}

// a (m,k) and b (k,n) filled from seed (int8: as fill says), and their reference
// into ref (double, with its bound, for fp32; int32 for int8)
static void mm_inputs(const struct run *r, int m, int n, int k, enum i8_fill fill, uint64_t seed, void *a, void *b,
                      void *ref, double *bound) {
    if (r->kern->kind == KIND_MATMUL_F32) {
        fill_f32(a, (size_t)m * k, r->kern->in_lo, r->kern->in_hi, seed);
        fill_f32(b, (size_t)k * n, r->kern->in_lo, r->kern->in_hi, ~seed);
        matmul_f32_ref(ref, bound, a, b, m, n, k);
    } else {
        fill_i8(a, (size_t)m * k, fill, seed);
        fill_i8(b, (size_t)k * n, fill, ~seed);
        matmul_i8_ref(ref, a, b, m, n, k);
    }
}

static void matmul_one(struct run *r, const struct mm_case *mc) {
    int m = mc->m, n = mc->n, k = mc->k, f32 = r->kern->kind == KIND_MATMUL_F32;
    size_t in = f32 ? sizeof(float) : sizeof(int8_t), mn = (size_t)m * n;
    void *a = xmalloc((size_t)m * k * in), *b = xmalloc((size_t)k * n * in), *c = xmalloc(mn * 4);
    void *ref = xmalloc(mn * (f32 ? sizeof(double) : sizeof(int32_t)));
    double *bound = f32 ? xmalloc(mn * sizeof *bound) : NULL;
    mm_inputs(r, m, n, k, mc->fill, 0xa0000000ull + (uint64_t)m * 1000003 + (uint64_t)n * 1009 + (uint64_t)k, a, b,
              ref, bound);
    struct shape s = {(size_t)m, (size_t)n, (size_t)k};
    for (size_t p = 0; p < sizeof mm_places / sizeof mm_places[0]; p++) {
        char where[128];
        mm_where(where, sizeof where, m, n, k, mm_places[p]);
        if (mc->fill == I8_MIN) strcat(where, ", all -128");
        if (mc->fill == I8_EXTREMES) strcat(where, ", -128 and 127");
        matmul_call(r, c, a, b, m, n, k, mm_places[p], where);
        double abs_err, rel_err;
        if (verify_output(r->kern, s, c, ref, bound, &abs_err, &rel_err, NULL)) continue;
        size_t i = first_bad(r->kern, s, c, ref, bound);
        if (f32)
            fail(r, "%s: max abs error %.3g (rel %.3g), first at c[%zu,%zu] = %.9g, reference %.9g (bound %.3g)",
                 where, abs_err, rel_err, i / n, i % n, ((float *)c)[i], ((double *)ref)[i], bound[i]);
        else
            fail(r, "%s: max abs error %.0f, first at c[%zu,%zu] = %d, reference %d", where, abs_err, i / n, i % n,
                 ((int32_t *)c)[i], ((int32_t *)ref)[i]);
    }
    free(a), free(b), free(c), free(ref), free(bound);
}

static void matmul_tails(struct run *r) {
    for (size_t i = 0; i < sizeof mm_cases / sizeof mm_cases[0]; i++) matmul_one(r, &mm_cases[i]);
    if (r->kern->kind != KIND_MATMUL_I8) return;
    for (size_t i = 0; i < sizeof i8_cases / sizeof i8_cases[0]; i++) matmul_one(r, &i8_cases[i]);
}

// k = 0 is an empty sum: c must be all zeros, which a kernel that only
// accumulates into c never writes. m = 0 or n = 0: c is empty, and the
// guard pages around the empty buffers catch any access.
static void matmul_empty(struct run *r) {
    static const int shapes[][3] = {{1, 1, 0}, {7, 13, 0}, {6, 16, 0}, {17, 33, 0}, {100, 37, 0},
                                    {0, 5, 3}, {5, 0, 3},  {0, 0, 0}};
    static const struct place guarded[][3] = {
        {{END_AT_GUARD, 0}, {END_AT_GUARD, 0}, {END_AT_GUARD, 0}},
        {{START_AT_GUARD, 0}, {START_AT_GUARD, 0}, {START_AT_GUARD, 0}},
    };
    int f32 = r->kern->kind == KIND_MATMUL_F32;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
        size_t in = f32 ? sizeof(float) : sizeof(int8_t);
        void *a = xmalloc((size_t)m * k * in), *b = xmalloc((size_t)k * n * in);
        void *c = xmalloc((size_t)m * n * 4);
        memset(a, 0x11, (size_t)m * k * in), memset(b, 0x22, (size_t)k * n * in);
        for (int p = 0; p < 2; p++) {
            char where[128];
            mm_where(where, sizeof where, m, n, k, guarded[p]);
            matmul_call(r, c, a, b, m, n, k, guarded[p], where);
            for (size_t i = 0; i < (size_t)m * n; i++) {
                int zero = f32 ? ((float *)c)[i] == 0.0f : ((int32_t *)c)[i] == 0;
                if (!zero) {
                    fail(r, "%s: c[%zu,%zu] is %g, want 0", where, i / n, i % n,
                         f32 ? ((float *)c)[i] : (double)((int32_t *)c)[i]);
                    break;
                }
            }
        }
        free(a), free(b), free(c);
    }
}

// The GEMMs' small paths (gemm_driver.h's small(), without the blocked packing) and their packed
// paths on the same shapes: every m, n and k tail of the small paths' row blocks
// (8, 4, 2, 1 rows), vectors (8 and 16 floats; 8 and 16 int32; masked tails) and
// groups of 2 and 4 k, each shape under one of the placements in turn, against the
// reference; and, with k within one KC block, the fp32 paths sum each c
// element's products in the same order, so both paths must agree bit for bit
// (int8: both exact).
static void small_path_one(struct run *r, enum gemm_id id, int m, int n, int k, const struct place p[3]) {
    int f32 = r->kern->kind == KIND_MATMUL_F32;
    size_t mn = (size_t)m * n, in = f32 ? sizeof(float) : sizeof(int8_t);
    void *a = xmalloc((size_t)m * k * in), *b = xmalloc((size_t)k * n * in);
    char *small = xmalloc(mn * 4), *packed = xmalloc(mn * 4);
    void *ref = xmalloc(mn * (f32 ? sizeof(double) : sizeof(int32_t)));
    double *bound = f32 ? xmalloc(mn * sizeof *bound) : NULL;
    // int8: -128 and 127 every other shape, the largest products and u8 offsets
    mm_inputs(r, m, n, k, (m + n + k) % 2 ? I8_EXTREMES : I8_RANDOM,
              0x5a000000ull + (uint64_t)m * 1000003 + (uint64_t)n * 1009 + (uint64_t)k, a, b, ref, bound);
    char where[160];
    mm_where(where, sizeof where, m, n, k, p);
    strcat(where, ", small path");
    gemm_small_force(id, LONG_MAX);
    matmul_call(r, small, a, b, m, n, k, p, where);
    gemm_small_force(id, 0);
    matmul_call(r, packed, a, b, m, n, k, mm_places[0], where);
    gemm_small_force(id, -1);
    struct shape s = {(size_t)m, (size_t)n, (size_t)k};
    double abs_err, rel_err;
    if (!verify_output(r->kern, s, small, ref, bound, &abs_err, &rel_err, NULL)) {
        size_t i = first_bad(r->kern, s, small, ref, bound);
        fail(r, "%s: max abs error %.3g (rel %.3g), first at c[%zu,%zu] = %.9g, reference %.9g", where, abs_err,
             rel_err, i / n, i % n, f32 ? ((float *)small)[i] : ((int32_t *)small)[i],
             f32 ? ((double *)ref)[i] : ((int32_t *)ref)[i]);
    } else if (k <= gemm_blocking(id, 1).kc && memcmp(small, packed, mn * 4) != 0) {
        size_t i = 0;
        while (memcmp(small + 4 * i, packed + 4 * i, 4) == 0) i++;
        fail(r, "%s: c[%zu,%zu] = %.9g, the packed path's %.9g: not the same sums in the same order", where, i / n,
             i % n, f32 ? ((float *)small)[i] : ((int32_t *)small)[i],
             f32 ? ((float *)packed)[i] : ((int32_t *)packed)[i]);
    }
    free(a), free(b), free(small), free(packed), free(ref), free(bound);
}

static void small_path_tails(struct run *r, enum gemm_id id) {
    static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 15, 16, 17, 23, 31, 32, 33, 40};
    static const int ks[] = {1, 2, 3, 7, 8, 16, 17, 33};
    size_t places = sizeof mm_places / sizeof mm_places[0], turn = 0;
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (int n = 1; n <= 40; n++)
            for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
                small_path_one(r, id, ms[mi], n, ks[ki], mm_places[turn++ % places]);
}

// Around the bound on either side, as shipped: the last shapes below it take the
// small path (but int8's long row, whose k the int8 small paths do not take),
// the first at it the packed one, with the placements of the tails.
// The shapes sit around e * e * e multiply-adds, the bound each caller asserts:
// a new bound must move them with it. int8 takes extreme inputs, and its long
// row of -128s stops at the longest k whose sum fits int32 (131071).
static void around_bound(struct run *r, int e) {
    int i8 = r->kern->kind == KIND_MATMUL_I8, long_k = e * e * e - 1;
    const struct mm_case around[] = {{e - 1, e, e, i8 ? I8_EXTREMES : I8_RANDOM},
                                     {e, e, e, i8 ? I8_EXTREMES : I8_RANDOM},
                                     {e + 1, e - 1, e - 1, I8_RANDOM},
                                     {1, 1, i8 && long_k > 131071 ? 131071 : long_k, i8 ? I8_MIN : I8_RANDOM}};
    for (size_t i = 0; i < sizeof around / sizeof *around; i++) matmul_one(r, &around[i]);
}
static void small_bound(struct run *r) {
    cr_assert_eq(gemm_small_below(GEMM_F32_AVX2), 128L * 128 * 128);
    cr_assert_eq(gemm_small_below(GEMM_F32_AVX512), 128L * 128 * 128);
    around_bound(r, 128);
}
static void small_bound_i8(struct run *r) {
    cr_assert_eq(gemm_small_below(GEMM_I8_AVX512VNNI), 96L * 96 * 96);
    around_bound(r, 96);
}
static void small_bound_i8_avxvnni(struct run *r) {
    cr_assert_eq(gemm_small_below(GEMM_I8_AVXVNNI), 96L * 96 * 96);
    around_bound(r, 96);
}
static void small_bound_i8_avx2(struct run *r) {
    cr_assert_eq(gemm_small_below(GEMM_I8_AVX2), 128L * 128 * 128);
    around_bound(r, 128);
}

static void small_path_avx2(struct run *r) { small_path_tails(r, GEMM_F32_AVX2); }
static void small_path_avx512(struct run *r) { small_path_tails(r, GEMM_F32_AVX512); }
static void small_path_avx512vnni(struct run *r) { small_path_tails(r, GEMM_I8_AVX512VNNI); }
static void small_path_i8_avx2(struct run *r) { small_path_tails(r, GEMM_I8_AVX2); }
static void small_path_i8_avxvnni(struct run *r) { small_path_tails(r, GEMM_I8_AVXVNNI); }
// the tails' shapes, most of them below the bound, on the packed path
static void packed_tails(struct run *r, enum gemm_id id) {
    gemm_small_force(id, 0);
    matmul_tails(r);
    gemm_small_force(id, -1);
}
static void packed_tails_i8_avx2(struct run *r) { packed_tails(r, GEMM_I8_AVX2); }
static void packed_tails_i8_avxvnni(struct run *r) { packed_tails(r, GEMM_I8_AVXVNNI); }

Test(matmul, avx2_small_path_matches_reference_and_packed_path, .init = report_crashes) {
    run_variant("matmul", T_AVX2, NULL, small_path_avx2);
}
Test(matmul, avx512_small_path_matches_reference_and_packed_path, .init = report_crashes) {
    run_variant("matmul", T_AVX512, NULL, small_path_avx512);
}
Test(matmul_int8, avx512vnni_small_path_is_exact_and_matches_packed_path, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX512, NULL, small_path_avx512vnni);
}
Test(matmul_int8, avx2_vpmaddwd_small_path_is_exact_and_matches_packed_path, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, "avx2 (vpmaddwd)", small_path_i8_avx2);
}
Test(matmul_int8, avx2_vpmaddwd_packed_path_matches_reference_on_tails, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, "avx2 (vpmaddwd)", packed_tails_i8_avx2);
}
// the AVX-VNNI GEMM's: on a CPU with it, and through its EVEX build (evex.h)
Test(matmul_int8, avxvnni_small_path_is_exact_and_matches_packed_path, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, "avx-vnni", small_path_i8_avxvnni);
}
Test(matmul_int8, avxvnni_evex_small_path_is_exact_and_matches_packed_path, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, EVEX_ISA, small_path_i8_avxvnni);
}
Test(matmul_int8, avxvnni_packed_path_matches_reference_on_tails, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, "avx-vnni", packed_tails_i8_avxvnni);
}
Test(matmul_int8, avxvnni_evex_packed_path_matches_reference_on_tails, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, EVEX_ISA, packed_tails_i8_avxvnni);
}
Test(matmul_int8, avxvnni_is_exact_around_the_small_path_bound, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, "avx-vnni", small_bound_i8_avxvnni);
}
Test(matmul_int8, avxvnni_evex_is_exact_around_the_small_path_bound, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, EVEX_ISA, small_bound_i8_avxvnni);
}
Test(matmul, avx2_matches_reference_around_the_small_path_bound, .init = report_crashes) {
    run_variant("matmul", T_AVX2, NULL, small_bound);
}
Test(matmul, avx512_matches_reference_around_the_small_path_bound, .init = report_crashes) {
    run_variant("matmul", T_AVX512, NULL, small_bound);
}
Test(matmul_int8, avx512vnni_is_exact_around_the_small_path_bound, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX512, NULL, small_bound_i8);
}
Test(matmul_int8, avx2_vpmaddwd_is_exact_around_the_small_path_bound, .init = report_crashes) {
    run_variant("matmul_int8", T_AVX2, "avx2 (vpmaddwd)", small_bound_i8_avx2);
}

// ---------------------------------------------------------------------------
// layernorm

// x, gamma, beta and out: aligned, each a different number of floats off
// (so none hides behind another's alignment), against guard pages on either
// side, and mixed
static const struct place ln_places[][4] = {
    {{OFFSET, 0}, {OFFSET, 0}, {OFFSET, 0}, {OFFSET, 0}},
    {{OFFSET, 1}, {OFFSET, 2}, {OFFSET, 3}, {OFFSET, 1}},
    {{OFFSET, 3}, {OFFSET, 1}, {OFFSET, 2}, {OFFSET, 2}},
    {{END_AT_GUARD, 0}, {END_AT_GUARD, 0}, {END_AT_GUARD, 0}, {END_AT_GUARD, 0}},
    {{START_AT_GUARD, 0}, {START_AT_GUARD, 0}, {START_AT_GUARD, 0}, {START_AT_GUARD, 0}},
    {{OFFSET, 1}, {END_AT_GUARD, 0}, {START_AT_GUARD, 0}, {END_AT_GUARD, 0}},
};

// As unary_call: the inputs copied where p says, out prefilled with NaN bytes.
static void layernorm_call(struct run *r, float *result, const float *x0, const float *g0, const float *b0, int rows,
                           int cols, const struct place p[4], const char *where) {
    size_t xb = (size_t)rows * cols * 4, vb = (size_t)cols * 4;
    struct buf bx, bg, bb, bo;
    float *x = buf_new(&bx, p[0], xb, 4), *g = buf_new(&bg, p[1], vb, 4), *b = buf_new(&bb, p[2], vb, 4);
    float *out = buf_new(&bo, p[3], xb, 4);
    cr_assert(x && g && b && out, "no memory for %s", where);
    memcpy(x, x0, xb), memcpy(g, g0, vb), memcpy(b, b0, vb);
    memset(out, 0xff, xb);
    set_current_case(r, where);
    r->v->fn.layernorm(out, x, g, b, rows, cols);
    if (memcmp(x, x0, xb) || memcmp(g, g0, vb) || memcmp(b, b0, vb)) fail(r, "%s: the kernel wrote to its input", where);
    memcpy(result, out, xb);
    buf_free(&bx), buf_free(&bg), buf_free(&bb), buf_free(&bo);
}

static void layernorm_where(char *where, size_t size, int rows, int cols, const struct place p[4]) {
    char s[4][16];
    snprintf(where, size, "%dx%d, x %s, gamma %s, beta %s, out %s", rows, cols, place_str(p[0], s[0], 16),
             place_str(p[1], s[1], 16), place_str(p[2], s[2], 16), place_str(p[3], s[3], 16));
}

// cols as unary_sizes, whose every tail the row's three loops meet (the
// passes over the row step by 8 doubles or 16 floats); rows of 1 and 3, so a
// row's start is not always a vector's. 0 rows or 0 columns touch nothing.
static const int ln_cols[] = {1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 1000, 4099};

static void layernorm_tails(struct run *r) {
    for (size_t ci = 0; ci < sizeof ln_cols / sizeof ln_cols[0]; ci++) {
        static const int ln_rows[] = {0, 1, 3};
        for (size_t ri = 0; ri < 3; ri++) {
            int rows = ln_rows[ri], cols = ln_cols[ci];
            size_t n = (size_t)rows * cols;
            float *x = xmalloc(n * 4), *g = xmalloc(cols * 4), *b = xmalloc(cols * 4), *out = xmalloc(n * 4);
            double *ref = xmalloc(n * 8), *bound = xmalloc(n * 8);
            uint64_t seed = 0x1a000000ull + (uint64_t)rows * 100003 + (uint64_t)cols;
            fill_f32(x, n, r->kern->in_lo, r->kern->in_hi, seed);
            fill_f32(g, cols, r->kern->in_lo, r->kern->in_hi, ~seed);
            fill_f32(b, cols, r->kern->in_lo, r->kern->in_hi, seed ^ 0xb);
            layernorm_ref(ref, bound, x, g, b, rows, cols);
            struct shape s = {(size_t)rows, (size_t)cols, 0};
            for (size_t p = 0; p < sizeof ln_places / sizeof ln_places[0]; p++) {
                char where[160];
                layernorm_where(where, sizeof where, rows, cols, ln_places[p]);
                layernorm_call(r, out, x, g, b, rows, cols, ln_places[p], where);
                double abs_err, rel_err;
                if (verify_output(r->kern, s, out, ref, bound, &abs_err, &rel_err, NULL)) continue;
                size_t i = first_bad(r->kern, s, out, ref, bound);
                fail(r, "%s: max abs error %.3g, first at [%zu,%zu] = %.9g, reference %.9g (bound %.3g)", where,
                     abs_err, i / cols, i % cols, out[i], ref[i], bound[i]);
            }
            free(x), free(g), free(b), free(out), free(ref), free(bound);
        }
    }
    // no columns: nothing to touch, whatever the rows
    float none[1] = {0};
    layernorm_call(r, none, none, none, none, 5, 0, ln_places[3], "5x0, against the guards");
}

// layernorm_tails with every output written by streaming stores, which the
// native tiers use only for outputs past the caches (stream_output): the
// aligned body, the floats before it and the tail after, on the same shapes
// and places
static void layernorm_tails_streaming(struct run *r) {
    stream_output_force(0);
    layernorm_tails(r);
    stream_output_force(-1);
}

// A constant row has mean exactly its value and deviations exactly 0: the
// output is beta, bit for bit, even where the value is large. And a row far
// from 0 (1000 + [-1, 1]): its deviations are small against the mean, which
// the native tiers split into two floats so that x - mean keeps the accuracy
// of d itself. There they must meet the bound without the mean's share,
// 8 u |gamma| rstd |d| + 2 u |r|, u = 2^-24; what lo itself rounds,
// u |lo| <= u^2 |mean|, is 2^-46 |gamma| rstd mean|x| with room.
static void layernorm_special(struct run *r) {
    enum { ROWS = 3, COLS = 37 };
    float x[ROWS * COLS], g[COLS], b[COLS], out[ROWS * COLS];
    const float values[] = {0.0f, 1.0f, -7.5f, 1e4f, -3e7f, 0x1p-149f};
    const struct place *p = ln_places[1];
    fill_f32(g, COLS, -1, 1, 7), fill_f32(b, COLS, -1, 1, 8);
    for (size_t vi = 0; vi < sizeof values / sizeof values[0]; vi++) {
        char where[96];
        snprintf(where, sizeof where, "%dx%d, every row all %g", ROWS, COLS, values[vi]);
        for (int i = 0; i < ROWS * COLS; i++) x[i] = values[vi];
        layernorm_call(r, out, x, g, b, ROWS, COLS, p, where);
        for (int i = 0; i < ROWS * COLS; i++) {
            if (memcmp(&out[i], &b[i % COLS], 4) != 0) {
                fail(r, "%s: [%d,%d] = %.9g, want beta %.9g", where, i / COLS, i % COLS, out[i], b[i % COLS]);
                break;
            }
        }
    }
    for (int trial = 0; trial < 4; trial++) {
        char where[96];
        snprintf(where, sizeof where, "%dx%d, 1000 + [-1, 1] (trial %d)", ROWS, COLS, trial);
        fill_f32(x, ROWS * COLS, -1, 1, 0xfa40 + trial);
        for (int i = 0; i < ROWS * COLS; i++) x[i] += 1000.0f;
        layernorm_call(r, out, x, g, b, ROWS, COLS, p, where);
        // the reference with gamma 1 and beta 0 gives d rstd, and its bound rstd (|d| + mean|x|)
        double want[ROWS * COLS], bound[ROWS * COLS], unit[ROWS * COLS], ubound[ROWS * COLS];
        float ones[COLS], zeros[COLS];
        for (int j = 0; j < COLS; j++) ones[j] = 1, zeros[j] = 0;
        layernorm_ref(want, bound, x, g, b, ROWS, COLS);
        layernorm_ref(unit, ubound, x, ones, zeros, ROWS, COLS);
        for (int i = 0; i < ROWS * COLS; i++) {
            double gi = fabs(g[i % COLS]), y = out[i];
            double tol = 8 * 0x1p-24 * gi * fabs(unit[i]) + 0x1p-46 * gi * (ubound[i] - fabs(unit[i])) +
                         2 * 0x1p-24 * fabs(want[i]);
            if (!(fabs(y - want[i]) <= tol)) {
                fail(r, "%s: [%d,%d] = %.9g, reference %.9g (error %.3g, tolerance %.3g)", where, i / COLS, i % COLS,
                     y, want[i], fabs(y - want[i]), tol);
                break;
            }
        }
    }
    // Deviations whose squares pass float's range (|d| past 1.8e19), in a row
    // as in the sums of a chunk of them: a sum of squares in float would be
    // inf and every output beta; the usual bound holds.
    const float big[] = {3e18f, 1e20f, 1e30f};
    for (size_t bi = 0; bi < sizeof big / sizeof big[0]; bi++) {
        char where[96];
        snprintf(where, sizeof where, "%dx%d, +-%g times [0.5, 1]", ROWS, COLS, big[bi]);
        fill_f32(x, ROWS * COLS, 0.5f, 1, 0xb190 + bi);
        for (int i = 0; i < ROWS * COLS; i++) x[i] *= i % 2 ? big[bi] : -big[bi];
        double want[ROWS * COLS], bound[ROWS * COLS];
        layernorm_ref(want, bound, x, g, b, ROWS, COLS);
        layernorm_call(r, out, x, g, b, ROWS, COLS, p, where);
        struct shape s = {ROWS, COLS, 0};
        double abs_err, rel_err;
        if (!verify_output(r->kern, s, out, want, bound, &abs_err, &rel_err, NULL)) {
            size_t i = first_bad(r->kern, s, out, want, bound);
            fail(r, "%s: [%zu,%zu] = %.9g, reference %.9g", where, i / COLS, i % COLS, out[i], want[i]);
        }
    }
}

// ---------------------------------------------------------------------------
// attention

// q, k, v and out are placed as ln_places places layernorm's four buffers

// As layernorm_call: the inputs copied where p says, out prefilled with NaN bytes.
static void attention_call(struct run *r, float *result, const float *q0, const float *k0, const float *v0, int heads,
                           int seq, int dim, const struct place p[4], const char *where) {
    size_t bytes = (size_t)heads * seq * dim * 4;
    struct buf bq, bk, bv, bo;
    float *q = buf_new(&bq, p[0], bytes, 4), *k = buf_new(&bk, p[1], bytes, 4), *v = buf_new(&bv, p[2], bytes, 4);
    float *out = buf_new(&bo, p[3], bytes, 4);
    cr_assert(q && k && v && out, "no memory for %s", where);
    memcpy(q, q0, bytes), memcpy(k, k0, bytes), memcpy(v, v0, bytes);
    memset(out, 0xff, bytes);
    set_current_case(r, where);
    r->v->fn.attention(out, q, k, v, heads, seq, dim);
    if (memcmp(q, q0, bytes) || memcmp(k, k0, bytes) || memcmp(v, v0, bytes))
        fail(r, "%s: the kernel wrote to its input", where);
    memcpy(result, out, bytes);
    buf_free(&bq), buf_free(&bk), buf_free(&bv), buf_free(&bo);
}

static void attention_where(char *where, size_t size, int heads, int seq, int dim, const struct place p[4]) {
    char s[4][16];
    snprintf(where, size, "%dx%dx%d, q %s, k %s, v %s, out %s", heads, seq, dim, place_str(p[0], s[0], 16),
             place_str(p[1], s[1], 16), place_str(p[2], s[2], 16), place_str(p[3], s[3], 16));
}

// Check one case against the reference, reporting the first element off.
static void attention_check(struct run *r, const float *q, const float *k, const float *v, int heads, int seq,
                            int dim, const struct place p[4], const char *what) {
    size_t n = (size_t)heads * seq * dim;
    float *out = xmalloc(n * 4);
    double *ref = xmalloc(n * 8), *bound = xmalloc(n * 8);
    attention_ref(ref, bound, q, k, v, heads, seq, dim);
    char where[200];
    attention_where(where, sizeof where, heads, seq, dim, p);
    snprintf(where + strlen(where), sizeof where - strlen(where), "%s", what);
    attention_call(r, out, q, k, v, heads, seq, dim, p, where);
    struct shape s = {(size_t)heads, (size_t)seq, (size_t)dim};
    double abs_err;
    if (!verify_output(r->kern, s, out, ref, bound, &abs_err, NULL, NULL)) {
        size_t i = first_bad(r->kern, s, out, ref, bound);
        fail(r, "%s: max abs error %.3g, first at [%zu,%zu,%zu] = %.9g, reference %.9g (tolerance %.3g)", where,
             abs_err, i / dim / seq, i / dim % seq, i % dim, out[i], ref[i], r->kern->btol * bound[i]);
    }
    free(out), free(ref), free(bound);
}

// dims and tokens that meet every tail of the SIMD tiers: a row of 8 or 16
// floats and a block of 8 or 16 keys or queries, short by one, whole, and one
// past; 1 and 3 heads, so a head's start is not always a vector's.
static const int att_dims[] = {1, 7, 8, 15, 16, 17, 33, 64, 65};
static const int att_seqs[] = {1, 2, 15, 16, 17, 31, 33, 100};

static void attention_tails(struct run *r) {
    for (size_t di = 0; di < sizeof att_dims / sizeof att_dims[0]; di++) {
        for (size_t si = 0; si < sizeof att_seqs / sizeof att_seqs[0]; si++) {
            for (int heads = 1; heads <= 3; heads += 2) {
                int seq = att_seqs[si], dim = att_dims[di];
                size_t n = (size_t)heads * seq * dim;
                float *q = xmalloc(n * 4), *k = xmalloc(n * 4), *v = xmalloc(n * 4);
                uint64_t seed = 0xa7000000ull + (uint64_t)heads * 1000003 + (uint64_t)seq * 1009 + (uint64_t)dim;
                fill_f32(q, n, r->kern->in_lo, r->kern->in_hi, seed);
                fill_f32(k, n, r->kern->in_lo, r->kern->in_hi, ~seed);
                fill_f32(v, n, r->kern->in_lo, r->kern->in_hi, seed ^ 0xb);
                // every placement on the smaller cases, two on the rest: the guards catch overreads
                size_t n_places = seq <= 33 ? sizeof ln_places / sizeof ln_places[0] : 2;
                for (size_t p = 0; p < n_places; p++) attention_check(r, q, k, v, heads, seq, dim, ln_places[p], "");
                free(q), free(k), free(v);
            }
        }
    }
    // more keys than the SIMD tiers score at once (256 or 512 of them), so the
    // out rows are rescaled between chunks, the last one short; and exactly
    // one chunk's keys, and one more
    static const int chunk_cases[][2] = {{256, 17}, {257, 17}, {512, 17}, {513, 17}, {600, 17}, {600, 64}};
    for (size_t ci = 0; ci < sizeof chunk_cases / sizeof chunk_cases[0]; ci++) {
        int heads = 2, seq = chunk_cases[ci][0], dim = chunk_cases[ci][1];
        size_t n = (size_t)heads * seq * dim;
        float *q = xmalloc(n * 4), *k = xmalloc(n * 4), *v = xmalloc(n * 4);
        fill_f32(q, n, r->kern->in_lo, r->kern->in_hi, 0xa8000000ull + dim + seq);
        fill_f32(k, n, r->kern->in_lo, r->kern->in_hi, 0xa9000000ull + dim + seq);
        fill_f32(v, n, r->kern->in_lo, r->kern->in_hi, 0xaa000000ull + dim + seq);
        for (size_t p = 0; p < 2; p++) attention_check(r, q, k, v, heads, seq, dim, ln_places[p], "");
        free(q), free(k), free(v);
    }
    // no heads, tokens or dims: nothing to touch
    float none[1] = {0};
    attention_call(r, none, none, none, none, 0, 16, 16, ln_places[3], "0x16x16, against the guards");
    attention_call(r, none, none, none, none, 3, 0, 16, ln_places[4], "3x0x16, against the guards");
    attention_call(r, none, none, none, none, 3, 16, 0, ln_places[3], "3x16x0, against the guards");
}

// One key of each head, at token lead of seq, far ahead of the others: its
// softmax weight is 1 and every other exactly 0, so its row of v comes out
// bit for bit, however the keys before it were summed and rescaled.
static void attention_lead_key(struct run *r, int seq, int lead) {
    enum { H = 2, D = 17 };
    size_t n = (size_t)H * seq * D;
    float *q = xmalloc(n * 4), *k = xmalloc(n * 4), *v = xmalloc(n * 4), *out = xmalloc(n * 4);
    fill_f32(q, n, 0.5f, 1, 0x1ead + lead);
    fill_f32(k, n, -1, 1, 0x1eae + lead);
    fill_f32(v, n, -1, 1, 0x5ca20);
    for (int h = 0; h < H; h++)
        for (int c = 0; c < D; c++) k[((size_t)h * seq + lead) * D + c] = 1000;
    char where[96];
    snprintf(where, sizeof where, "%dx%dx%d, key %d of each head ahead by thousands", H, seq, D, lead);
    attention_call(r, out, q, k, v, H, seq, D, ln_places[1], where);
    for (size_t i = 0; i < n; i++) {
        size_t h = i / ((size_t)seq * D), c = i % D;
        float want = v[(h * seq + lead) * D + c];
        if (memcmp(&out[i], &want, 4) != 0) {
            fail(r, "%s: [%zu,%zu,%zu] = %.9g, want v's %.9g", where, h, i / D % seq, c, out[i], want);
            break;
        }
    }
    free(q), free(k), free(v), free(out);
}

// Large scores: q and k scaled by 40 give scores up to thousands, where an
// exp not shifted by the row's max overflows. And one key far ahead of the
// others (attention_lead_key), in the first, a middle or the last block of
// keys, and at the ends of the SIMD tiers' chunks of 256 and 512 keys.
static void attention_special(struct run *r) {
    enum { H = 2, S = 37, D = 17, N = H * S * D };
    float q[N], k[N], v[N];
    fill_f32(q, N, -40, 40, 0x5ca1e);
    fill_f32(k, N, -40, 40, 0x5ca1f);
    fill_f32(v, N, -1, 1, 0x5ca20);
    attention_check(r, q, k, v, H, S, D, ln_places[1], ", q and k in [-40, 40]");
    static const int lead[] = {0, 16, 20, S - 1};
    for (size_t li = 0; li < sizeof lead / sizeof lead[0]; li++) attention_lead_key(r, S, lead[li]);
    static const int far[] = {0, 255, 256, 511, 512, 599};
    for (size_t li = 0; li < sizeof far / sizeof far[0]; li++) attention_lead_key(r, 600, far[li]);
}

// The SIMD softmaxes take rows of 16 or fewer their own way, which must give
// the driver's bits (softmax_f32_*_blocked): on random rows of every such
// length, with special values mixed in (NaN, +-inf, +-0, +-FLT_MAX, a
// denormal, +-1e4). Both NaN counts as equal: the payload is not promised.
static void softmax_short_rows(struct run *r) {
    unary_f32_fn blocked = NULL;
#if HAVE_AVX2
    if (r->v->fn.unary == softmax_f32_avx2) blocked = softmax_f32_avx2_blocked;
#endif
#if HAVE_AVX512
    if (r->v->fn.unary == softmax_f32_avx512) blocked = softmax_f32_avx512_blocked;
#endif
    cr_assert(blocked != NULL, "softmax %s: no driver to compare with", r->tier);
    const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, 0x1p-140f, 1e4f, -1e4f};
    uint64_t seed = 0x5b0f7;
    float x[16], got[16], want[16];
    for (int n = 1; n <= 16; n++) {
        for (int row = 0; row < 3000; row++) {
            for (int i = 0; i < n; i++) {
                uint64_t pick = splitmix64(&seed);
                x[i] = pick % 8 == 0 ? special[(pick >> 8) % 10] : (float)((pick >> 40) % 20001) / 1000 - 10;
            }
            blocked(want, x, n);
            r->v->fn.unary(got, x, n);
            for (int i = 0; i < n; i++) {
                if (memcmp(&got[i], &want[i], 4) == 0 || (isnan(got[i]) && isnan(want[i]))) continue;
                fail(r, "n=%d, row %d: [%d] = %.9g, the driver's %.9g", n, row, i, got[i], want[i]);
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// the tests: every kernel in every native tier

FOR_EACH_TIER(relu, matches_reference_on_tails, unary_tails)
FOR_EACH_TIER(softmax, matches_reference_on_tails, unary_tails)
FOR_EACH_TIER(gelu, matches_reference_on_tails, unary_tails)
FOR_EACH_TIER(matmul, matches_reference_on_tails, matmul_tails)
FOR_EACH_INT8_VARIANT(matches_reference_on_tails, matmul_tails)
FOR_EACH_TIER(layernorm, matches_reference_on_tails, layernorm_tails)
Test(layernorm, avx2_matches_reference_on_tails_streaming, .init = report_crashes) {
    run_variant("layernorm", T_AVX2, NULL, layernorm_tails_streaming);
}
Test(layernorm, avx512_matches_reference_on_tails_streaming, .init = report_crashes) {
    run_variant("layernorm", T_AVX512, NULL, layernorm_tails_streaming);
}
FOR_EACH_TIER(attention, matches_reference_on_tails, attention_tails)

FOR_EACH_TIER(relu, handles_special_values, relu_special)
FOR_EACH_TIER(softmax, handles_special_values, softmax_special)
FOR_EACH_TIER(gelu, handles_special_values, gelu_special)
FOR_EACH_TIER(layernorm, handles_special_values, layernorm_special)
FOR_EACH_TIER(attention, handles_special_values, attention_special)
Test(softmax, avx2_short_rows_give_the_drivers_bits, .init = report_crashes) {
    run_variant("softmax", T_AVX2, NULL, softmax_short_rows);
}
Test(softmax, avx512_short_rows_give_the_drivers_bits, .init = report_crashes) {
    run_variant("softmax", T_AVX512, NULL, softmax_short_rows);
}

FOR_EACH_TIER(matmul, handles_empty_shapes, matmul_empty)
FOR_EACH_INT8_VARIANT(handles_empty_shapes, matmul_empty)

// ---------------------------------------------------------------------------
// the verifier: every test above trusts it to fail

// A float more than tol away from r: r + 4 tol, so that rounding to float
// (half an ulp, less than tol) cannot bring it back within; the next float
// up where tol is 0.
static float beyond(double r, double tol) {
    float y = (float)(r + 4 * tol);
    return y == (float)r ? nextafterf((float)r, INFINITY) : y;
}

Test(verify_output, fails_a_float_off_by_more_than_the_tolerance) {
    const char *const unary[] = {"relu", "softmax", "gelu"};
    const size_t n = 33, at[] = {0, 16, 32};
    float x[33], out[33];
    double ref[33];
    for (size_t u = 0; u < 3; u++) {
        const struct kernel *kern = kernel_find(unary[u]);
        cr_assert(kern != NULL);
        struct shape s = {0, n, 0};
        fill_f32(x, n, kern->in_lo, kern->in_hi, 42);
        kern->ref(ref, x, n);
        for (size_t i = 0; i < n; i++) out[i] = (float)ref[i];
        cr_assert(verify_output(kern, s, out, ref, NULL, NULL, NULL, NULL), "%s: the rounded reference must pass",
                  kern->name);
        for (size_t j = 0; j < 3; j++) {
            size_t i = at[j];
            double tol = kern->atol + kern->rtol * fabs(ref[i]);
            float keep = out[i];
            out[i] = beyond(ref[i], tol);
            cr_assert(fabs(out[i] - ref[i]) > tol, "%s: the perturbation must exceed the tolerance", kern->name);
            cr_expect(!verify_output(kern, s, out, ref, NULL, NULL, NULL, NULL),
                      "%s: [%zu] = %.9g against %.9g (tolerance %.3g) passed", kern->name, i, out[i], ref[i], tol);
            out[i] = keep;
        }
    }

    // the fp32 matmul, whose tolerance grows with k and the error bound
    const struct kernel *kern = kernel_find("matmul");
    cr_assert(kern != NULL);
    enum { M = 7, N = 13, K = 5 };
    float a[M * K], b[K * N], c[M * N];
    double cref[M * N], bound[M * N];
    fill_f32(a, M * K, kern->in_lo, kern->in_hi, 1);
    fill_f32(b, K * N, kern->in_lo, kern->in_hi, 2);
    matmul_f32_ref(cref, bound, a, b, M, N, K);
    for (int i = 0; i < M * N; i++) c[i] = (float)cref[i];
    struct shape s = {M, N, K};
    cr_assert(verify_output(kern, s, c, cref, bound, NULL, NULL, NULL), "matmul: the rounded reference must pass");
    for (int i = 0; i < M * N; i += 30) {
        // gamma_k = k u / (1 - k u), u = 2^-24, as kernels.c states
        double tol = kern->atol + kern->rtol * fabs(cref[i]) + K * 0x1p-24 / (1 - K * 0x1p-24) * bound[i];
        float keep = c[i];
        c[i] = beyond(cref[i], tol);
        cr_expect(!verify_output(kern, s, c, cref, bound, NULL, NULL, NULL),
                  "matmul: c[%d] = %.9g against %.9g (tolerance %.3g) passed", i, c[i], cref[i], tol);
        c[i] = keep;
    }
}

Test(verify_output, fails_an_int8_result_off_by_one) {
    const struct kernel *kern = kernel_find("matmul_int8");
    cr_assert(kern != NULL);
    enum { M = 5, N = 7, K = 9 };
    int8_t a[M * K], b[K * N];
    int32_t c[M * N], ref[M * N];
    fill_i8(a, M * K, I8_RANDOM, 3);
    fill_i8(b, K * N, I8_RANDOM, 4);
    matmul_i8_ref(ref, a, b, M, N, K);
    memcpy(c, ref, sizeof c);
    struct shape s = {M, N, K};
    cr_assert(verify_output(kern, s, c, ref, NULL, NULL, NULL, NULL), "matmul_int8: the reference must pass");
    for (int i = 0; i < M * N; i += 17) {
        for (int d = -1; d <= 1; d += 2) {
            c[i] = ref[i] + d;
            cr_expect(!verify_output(kern, s, c, ref, NULL, NULL, NULL, NULL), "matmul_int8: c[%d] = %d against %d passed",
                      i, c[i], ref[i]);
            c[i] = ref[i];
        }
    }
}

// The NaN bytes every output is prefilled with only catch a kernel that
// writes nothing if NaN against a finite reference fails.
Test(verify_output, fails_nan_or_infinity_where_the_reference_is_finite) {
    const char *const unary[] = {"relu", "softmax", "gelu"};
    float x[9], out[9];
    double ref[9];
    for (size_t u = 0; u < 3; u++) {
        const struct kernel *kern = kernel_find(unary[u]);
        cr_assert(kern != NULL);
        struct shape s = {0, 9, 0};
        fill_f32(x, 9, kern->in_lo, kern->in_hi, 5);
        kern->ref(ref, x, 9);
        const float wrong[] = {NAN, INFINITY, -INFINITY};
        for (size_t w = 0; w < 3; w++) {
            for (size_t i = 0; i < 9; i++) out[i] = (float)ref[i];
            out[8] = wrong[w];
            cr_expect(!verify_output(kern, s, out, ref, NULL, NULL, NULL, NULL), "%s: %g against %g passed", kern->name,
                      out[8], ref[8]);
        }
        // and NaN where the reference has NaN passes
        for (size_t i = 0; i < 9; i++) out[i] = (float)ref[i];
        ref[8] = NAN, out[8] = NAN;
        cr_expect(verify_output(kern, s, out, ref, NULL, NULL, NULL, NULL), "%s: NaN against NaN failed", kern->name);
    }
}

// ulp of the reference rounded to float: 2^-23 at 1, and the one below
// 1 is still measured in 1's ulp; 2^-149 for subnormals and 0.
Test(verify_output, measures_the_worst_error_in_ulp) {
    cr_expect_eq(ulp_error(1.0f + 0x1p-23f, 1.0), 1.0);
    cr_expect_eq(ulp_error(1.0f - 0x1p-24f, 1.0), 0.5);
    cr_expect_eq(ulp_error(0x1.000002p-3f, 0x1p-3 + 0x1p-27), 0.5);
    cr_expect_eq(ulp_error(0x1p-148f, 0x1p-149), 1.0);
    cr_expect_eq(ulp_error(0x1p-149f, 0.0), 1.0);
    cr_expect_eq(ulp_error(-0x1p-126f, -0x1p-126 - 0x1p-149), 1.0);
    cr_expect_eq(ulp_error(FLT_MAX, 0x1p128), 0x1p-104 * (0x1p128 - FLT_MAX));

    const struct kernel *gelu = kernel_find("gelu");
    float out[3] = {1.0f + 0x1p-22f, NAN, 0.5f};
    double ref[3] = {1.0, NAN, 0.5}, ulp = 0;
    cr_expect(verify_output(gelu, (struct shape){0, 3, 0}, out, ref, NULL, NULL, NULL, &ulp));
    cr_expect_eq(ulp, 2.0, "worst %g ulp, NaN against NaN left out", ulp);

    const struct kernel *i8 = kernel_find("matmul_int8");
    int32_t c[1] = {3}, cref[1] = {3};
    cr_expect(verify_output(i8, (struct shape){1, 1, 1}, c, cref, NULL, NULL, NULL, &ulp));
    cr_expect(isnan(ulp), "int8 has no ulp: %g", ulp);
}

// ---------------------------------------------------------------------------
// the guard pages: the tests above are only as strict as these

Test(guard, places_buffers_flush_against_the_guard) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), sizes[] = {0, 1, 7, page - 1, page, page + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct guarded end = guard_alloc(sizes[i], GUARD_AT_END), start = guard_alloc(sizes[i], GUARD_AT_START);
        cr_assert(end.ptr && start.ptr, "guard_alloc(%zu) failed", sizes[i]);
        cr_expect((uintptr_t)((char *)end.ptr + sizes[i]) % page == 0, "%zu bytes do not end at a page", sizes[i]);
        cr_expect((uintptr_t)start.ptr % page == 0, "%zu bytes do not start at a page", sizes[i]);
        memset(end.ptr, 1, sizes[i]);
        memset(start.ptr, 2, sizes[i]);
        guard_free(&end), guard_free(&start);
    }
}

// ASan's own handler would turn the fault into an exit(1): restore the default.
Test(guard, faults_on_the_byte_after_the_end, .signal = SIGSEGV) {
    struct guarded g = guard_alloc(15, GUARD_AT_END);
    cr_assert(g.ptr != NULL);
    signal(SIGSEGV, SIG_DFL);
    volatile char *p = g.ptr;
    (void)p[15];
}

Test(guard, faults_on_the_byte_before_the_start, .signal = SIGSEGV) {
    struct guarded g = guard_alloc(15, GUARD_AT_START);
    cr_assert(g.ptr != NULL);
    signal(SIGSEGV, SIG_DFL);
    volatile char *p = g.ptr;
    (void)p[-1];
}

// The VNNI peak loop does every vpdpbusd it counts, with u = 3 unsigned and
// s = -2 signed: each of the 16 chains starts at its index and each of its 16
// lanes gains 4 x 3 x -2 = -24 a step, exactly, in int32.
Test(peak, vnni_avx512_does_every_vpdpbusd_it_counts) {
#if HAVE_AVX512VNNI
    if ((cpu_features(CAP_AVX512) & (CPU_AVX512F | CPU_AVX512VNNI)) != (CPU_AVX512F | CPU_AVX512VNNI))
        cr_skip_test("this CPU lacks AVX512-VNNI");
    static const long iters[] = {0, 1, 7, 1000};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(peak_vnni_avx512(iters[i]), 16 * 120 - 16 * 16 * 24 * iters[i], "%ld iterations", iters[i]);
#else
    cr_skip_test("not built (this build lacks AVX512-VNNI)");
#endif
}

// The same for AVX-VNNI's loop: 12 chains on ymm, 8 lanes each, starting at
// 0 to 11; and for its EVEX build (evex.h), on a CPU with AVX512-VNNI.
static void avxvnni_peak_counts(int (*peak)(long)) {
    static const long iters[] = {0, 1, 7, 1000};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(peak(iters[i]), 8 * 66 - 12 * 8 * 24 * iters[i], "%ld iterations", iters[i]);
}
Test(peak, vnni_avxvnni_does_every_vpdpbusd_it_counts) {
#if HAVE_AVXVNNI
    if ((cpu_features(CAP_AVX512) & (CPU_AVX2 | CPU_AVXVNNI)) != (CPU_AVX2 | CPU_AVXVNNI))
        cr_skip_test("this CPU lacks AVX-VNNI");
    avxvnni_peak_counts(peak_vnni_avxvnni);
#else
    cr_skip_test("not built (this build lacks AVX-VNNI)");
#endif
}
Test(peak, vnni_avxvnni_evex_does_every_vpdpbusd_it_counts) {
#if HAVE_AVXVNNI_EVEX
    if ((avxvnni_evex.needs & cpu_features(CAP_AVX512)) != avxvnni_evex.needs)
        cr_skip_test("this CPU lacks AVX512-VNNI with VL, which the EVEX build needs");
    avxvnni_peak_counts(peak_vnni_avxvnni_evex);
#else
    cr_skip_test("not built (this build lacks AVX-VNNI, or its assembler vpdpbusd's EVEX form)");
#endif
}
