// Numerics at the edges, for what tests/test_kernels.c does not already
// cover (it runs NaN, +-inf, +-0, denormals and +-FLT_MAX through every
// element-wise kernel, and int8 at -128 and 127 through every int8 matmul):
// the fp32 matmul with special values in its inputs, results that overflow
// float, and softmax rows whose maximum is itself infinite. Each native tier,
// in a test of its own, must give what the double reference gives: NaN where
// it has NaN, the same infinity where it has one (or where it is beyond
// float's range), and a number within the tolerance elsewhere.
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"
#include "buffers.h"
#include "tiers.h"

// -1: -inf, 1: +inf, 2: NaN, 0: a number; a double beyond float's range
// counts as the infinity it rounds to (0x1p128 - 0x1p103 is the midpoint
// between FLT_MAX and 2^128, where round-to-nearest-even goes up)
static int class_of(double r) {
    if (isnan(r)) return 2;
    if (fabs(r) >= 0x1p128 - 0x1p103) return r < 0 ? -1 : 1;
    return 0;
}

static const char *class_name(int c) {
    return c == 2 ? "NaN" : c == 1 ? "+inf" : c == -1 ? "-inf" : "a number";
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// ---------------------------------------------------------------------------
// fp32 matmul

// Values in [-1, 1], and one in every `every` a special one. Finite values
// stay far from overflow, so no order of summation can turn them into an
// infinity: which outputs are NaN or infinite is fixed by the inputs alone.
static void fill_special(float *x, size_t n, int every, uint64_t seed) {
    static const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 0x1p-149f, -0x1p-140f, FLT_MIN / 2,
                                    FLT_MIN, 1e-30f};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = splitmix64(&seed);
        x[i] = (float)(r >> 40) * 0x1p-23f - 1.0f;
        if (every && r % every == 0) x[i] = special[(r >> 8) % (sizeof special / sizeof special[0])];
    }
}

// Run native tier t's matmul on a and b; each output's class must be the
// reference's, and verify_output must pass the whole.
static void matmul_against_reference(int t, const float *a, const float *b, int m, int n, int k, const char *what) {
    const struct variant *v = tier_pick(kernel_find("matmul"), t);
    size_t mn = (size_t)m * n;
    double *ref = malloc(mn * sizeof *ref), *bound = malloc(mn * sizeof *bound);
    float *c = malloc(mn * sizeof *c);
    cr_assert(ref && bound && c);
    matmul_f32_ref(ref, bound, a, b, m, n, k);
    memset(c, 0xff, mn * sizeof *c);
    v->fn.matmul_f32(c, a, b, m, n, k);
    int reported = 0;
    for (size_t j = 0; j < mn && reported < 4; j++) {
        int want = class_of(ref[j]), got = class_of(c[j]);
        if (want == got) continue;
        reported++;
        cr_expect_fail("matmul %s (%s), %s, %dx%dx%d: c[%zu,%zu] is %s (%g), the reference %s (%g)", tier_names[t],
                       v->isa, what, m, n, k, j / n, j % n, class_name(got), c[j], class_name(want), ref[j]);
    }
    double abs_err;
    struct shape s = {(size_t)m, (size_t)n, (size_t)k};
    cr_expect(verify_output(kernel_find("matmul"), s, c, ref, bound, &abs_err, NULL, NULL),
              "matmul %s (%s), %s, %dx%dx%d: fails verification, max abs error %g", tier_names[t], v->isa, what, m, n,
              k, abs_err);
    free(ref), free(bound), free(c);
}

// Shapes with every AVX2 and AVX-512 tail, and tiles with and without them.
static const int mm_shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {6, 16, 8}, {17, 33, 65}, {31, 47, 129}, {64, 64, 64}};

static void matmul_with_specials(int t, int every, const char *what) {
    for (size_t si = 0; si < sizeof mm_shapes / sizeof mm_shapes[0]; si++) {
        int m = mm_shapes[si][0], n = mm_shapes[si][1], k = mm_shapes[si][2];
        float *a = malloc((size_t)m * k * sizeof *a), *b = malloc((size_t)k * n * sizeof *b);
        cr_assert(a && b);
        for (uint64_t trial = 0; trial < 4; trial++) {
            fill_special(a, (size_t)m * k, every, 0xed9e0000 + 2 * trial + si * 100);
            fill_special(b, (size_t)k * n, every, 0xed9e0001 + 2 * trial + si * 100);
            matmul_against_reference(t, a, b, m, n, k, what);
        }
        free(a), free(b);
    }
}

// Sparse specials: most outputs stay numbers, some become NaN or infinite.
OVER_TIERS(matmul, puts_nan_and_inf_where_the_reference_does) {
    matmul_with_specials(*t, 97, "one special value in 97");
}

// Dense specials: most outputs NaN, and zeros, signed zeros and denormals
// among the numbers.
OVER_TIERS(matmul, agrees_with_the_reference_on_dense_special_values) {
    matmul_with_specials(*t, 3, "one special value in 3");
}

// Denormal inputs alone: each product underflows, and the sums stay in the
// subnormal range, where float's gradual underflow loses what double keeps.
OVER_TIERS(matmul, matches_the_reference_on_denormals) {
    enum { M = 17, N = 33, K = 65 };
    static float a[M * K], b[K * N];
    uint64_t seed = 0xde40;
    for (int i = 0; i < M * K; i++) a[i] = (float)(splitmix64(&seed) >> 61) * 0x1p-149f; // 0 to 7 times the least
    for (int i = 0; i < K * N; i++) b[i] = (float)(splitmix64(&seed) >> 40) * 0x1p-23f - 1.0f;
    matmul_against_reference(*t, a, b, M, N, K, "denormal a");
}

// Sums beyond FLT_MAX with no cancellation: every order overflows, so every
// tier must give the infinity the reference rounds to in float.
OVER_TIERS(matmul, overflows_to_the_infinity_the_reference_rounds_to) {
    enum { M = 7, N = 19, K = 9 };
    float a[M * K], b[K * N];
    for (int i = 0; i < M * K; i++) a[i] = (i / K) % 2 ? -0x1p127f : 0x1p127f; // rows of alternating sign
    for (int i = 0; i < K * N; i++) b[i] = 0.5f + (float)(i % 5) * 0.25f;   // positive: no cancellation
    matmul_against_reference(*t, a, b, M, N, K, "+-2^127 times [0.5, 1.5]");
    // huge, but each row's sum fits: no overflow anywhere
    for (int i = 0; i < M * K; i++) a[i] = (i % 2 ? -1 : 1) * 0x1p120f;
    matmul_against_reference(*t, a, b, M, N, K, "+-2^120 times [0.5, 1.5]");
}

// ---------------------------------------------------------------------------
// softmax rows whose maximum is infinite (test_kernels.c has NaN, -inf among
// numbers, +-1e4, and rows of one value)

static void softmax_against_reference(int t, const float *x, size_t n, const char *what) {
    const struct variant *v = tier_pick(kernel_find("softmax"), t);
    double *ref = malloc(n * sizeof *ref);
    float *out = malloc(n * sizeof *out);
    cr_assert(ref && out);
    kernel_find("softmax")->ref(ref, x, n);
    memset(out, 0xff, n * sizeof *out);
    v->fn.unary(out, x, n);
    for (size_t j = 0; j < n; j++) {
        int want = class_of(ref[j]), got = class_of(out[j]);
        if (want == got) continue;
        cr_expect_fail("softmax %s (%s), %s, n=%zu: [%zu] x %g -> %s (%g), the reference %s (%g)", tier_names[t],
                       v->isa, what, n, j, x[j], class_name(got), out[j], class_name(want), ref[j]);
        break;
    }
    double abs_err;
    cr_expect(verify_output(kernel_find("softmax"), (struct shape){0, n, 0}, out, ref, NULL, &abs_err, NULL, NULL),
              "softmax %s (%s), %s, n=%zu: fails verification, max abs error %g", tier_names[t], v->isa, what, n,
              abs_err);
    free(ref), free(out);
}

OVER_TIERS(softmax, agrees_with_the_reference_when_the_max_is_infinite) {
    // 9000: three of softmax_driver.h's blocks, the first ones all -inf below
    static const size_t sizes[] = {1, 7, 8, 17, 37, 1000, 9000};
    static float x[9000];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        uint64_t seed = 0x50f7 + n;
        for (size_t i = 0; i < n; i++) x[i] = (float)(splitmix64(&seed) >> 40) * 0x1p-20f - 8.0f;
        // +inf among numbers: inf - inf is NaN, so every output is NaN
        x[n / 2] = INFINITY;
        softmax_against_reference(*t, x, n, "one +inf");
        // every element -inf: the max is -inf, -inf - -inf is NaN again
        for (size_t i = 0; i < n; i++) x[i] = -INFINITY;
        softmax_against_reference(*t, x, n, "all -inf");
        // -inf but for one number: that one gets all the weight
        x[n - 1] = 3.0f;
        softmax_against_reference(*t, x, n, "all -inf but the last");
        // denormals and zeros: all exp(~0) = 1, each 1/n
        for (size_t i = 0; i < n; i++) x[i] = i % 3 ? 0x1p-149f * (float)i : -0.0f;
        softmax_against_reference(*t, x, n, "denormals and -0");
        // +-FLT_MAX: x - max is -inf in float, finite in double; exp of either is 0
        for (size_t i = 0; i < n; i++) x[i] = i % 2 ? -FLT_MAX : FLT_MAX;
        softmax_against_reference(*t, x, n, "+-FLT_MAX");
    }
}

// ---------------------------------------------------------------------------
// the verifier at the edges

Test(verify_output, takes_float_infinity_only_where_the_reference_is_beyond_float) {
    const struct kernel *kern = kernel_find("matmul");
    struct shape s = {1, 1, 2};
    double bound[1] = {0x1p127}, ref[1];
    float c[1] = {INFINITY};
    ref[0] = 0x1p128; // 2^127 + 2^127 in double: float rounds it to infinity
    cr_expect(verify_output(kern, s, c, ref, bound, NULL, NULL, NULL), "+inf against 2^128");
    c[0] = -INFINITY;
    cr_expect(!verify_output(kern, s, c, ref, bound, NULL, NULL, NULL), "-inf against 2^128");
    c[0] = INFINITY;
    ref[0] = 0x1p126; // well within float
    cr_expect(!verify_output(kern, s, c, ref, bound, NULL, NULL, NULL), "+inf against 2^126");
    ref[0] = -0x1p129;
    c[0] = -INFINITY;
    cr_expect(verify_output(kern, s, c, ref, bound, NULL, NULL, NULL), "-inf against -2^129");
}

Test(verify_output, allows_matmul_half_the_least_subnormal_per_product) {
    const struct kernel *kern = kernel_find("matmul");
    enum { K = 8 };
    struct shape s = {1, 1, K};
    double ref[1] = {0x1p-149}, bound[1] = {0x1p-149};
    float c[1] = {0x1p-149f * 5}; // 4 x 2^-149 = K x 2^-150 off: every product rounded the same way
    cr_expect(verify_output(kern, s, c, ref, bound, NULL, NULL, NULL), "k products off by 2^-150 each");
    c[0] = 0x1p-149f * 6;
    cr_expect(!verify_output(kern, s, c, ref, bound, NULL, NULL, NULL), "more than k x 2^-150 off");
}
