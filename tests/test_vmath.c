// Accuracy measured, not assumed: the vector exp and tanh the SIMD kernels
// inline, and the GELU and softmax kernels of every native tier, in ulp
// against double references, on a dense grid of float bit patterns and on
// the special values. Each test logs the worst error it found.
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cpu.h"
#include "kernels.h"
#include "buffers.h"
#include "tiers.h"

// Every STRIDE-th of the 2^32 bit patterns: a prime, so the grid walks
// through every exponent and, in turn, every residue of the low significand
// bits. A sanitized build runs several times slower, so it takes a coarser
// grid of the same shape. The bounds' "measured" figures are the worst on
// the grids of stride 61, 97 and 131.
#ifdef BMML_SANITIZED
#define STRIDE 131
#else
#define STRIDE 97
#endif
#define BLOCK 4096

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

// ---------------------------------------------------------------------------
// the vector math of each ISA

struct vmath {
    const char *isa;
    unsigned needs; // CPU_* bits
    unary_f32_fn exp, tanh; // NULL: not built
};

static const struct vmath isas[] = {
#if HAVE_AVX2
    {"avx2", CPU_AVX2 | CPU_FMA, exp_f32_avx2, tanh_f32_avx2},
#else
    {"avx2", CPU_AVX2 | CPU_FMA, NULL, NULL},
#endif
#if HAVE_AVX512
    {"avx512", CPU_AVX512F | CPU_AVX512BW | CPU_AVX512VL, exp_f32_avx512, tanh_f32_avx512},
#else
    {"avx512", CPU_AVX512F | CPU_AVX512BW | CPU_AVX512VL, NULL, NULL},
#endif
};

static const struct vmath *isa_pick(int i) {
    const struct vmath *v = &isas[i];
    unsigned lacks = v->needs & ~cpu_features(CAP_AVX512);
    char names[128];
    if (!v->exp) cr_skip_test("%s: not built (the compiler lacks the flags for it)", v->isa);
    if (lacks) cr_skip_test("%s: this CPU lacks %s", v->isa, cpu_feature_names(lacks, names, sizeof names));
    return v;
}

// the worst error in ulp, and where; the worst absolute error
struct worst {
    double ulp;
    float x, y;
    double r;
    double abs;
};

static void note(struct worst *w, float x, float y, double r) {
    double u = ulp_error(y, r);
    if (!(u <= w->ulp)) w->ulp = u, w->x = x, w->y = y, w->r = r;
    if (!(fabs(y - r) <= w->abs)) w->abs = fabs(y - r);
}

static void log_worst(const char *what, const char *where, const struct worst *w) {
    cr_log_info("%s, %s: worst %.3f ulp at x = %a (%a, not %a)", what, where, w->ulp, w->x, w->y, w->r);
}

// the next block of the grid, from bit pattern *u on, into x; 0 past the end
static size_t grid_block(float *x, uint64_t *u) {
    size_t n = 0;
    for (; n < BLOCK && *u < 1ull << 32; *u += STRIDE) x[n++] = from_bits((uint32_t)*u);
    return n;
}

// f against ref over the grid of bit patterns, the errors noted in
// w[bucket(x, r)]. Where x, y or r rounded to float is NaN or infinite, y
// must be NaN for a NaN x, else exactly r's infinity (or value).
static void sweep(unary_f32_fn f, double (*ref)(double), int (*bucket)(float x, double r), struct worst *w) {
    static float x[BLOCK], y[BLOCK];
    int bad = 0;
    uint64_t u = 0;
    for (size_t n; (n = grid_block(x, &u)) > 0;) {
        f(y, x, n);
        for (size_t i = 0; i < n; i++) {
            double r = ref(x[i]);
            if (!isnan(x[i]) && !isinf(x[i]) && isfinite(y[i]) && isfinite((float)r)) {
                note(&w[bucket(x[i], r)], x[i], y[i], r);
            } else if (!(isnan(x[i]) ? isnan(y[i]) : y[i] == (float)r) && bad++ < 5) {
                cr_log_error("f(%a) = %a, not %a", x[i], y[i], (float)r);
            }
        }
    }
    cr_expect_eq(bad, 0, "%d NaN or infinite results wrong", bad);
}

// 0 where r rounds to a normal float, 1 to a subnormal or 0
static int by_result(float x, double r) {
    (void)x;
    return fabs(r) < FLT_MIN;
}

// within bound ulp where the result is normal, sub_bound units of 2^-149 elsewhere
static void check_vmath(const struct vmath *v, const char *what, unary_f32_fn f, double (*ref)(double),
                        double bound, double sub_bound) {
    struct worst w[2] = {{0}};
    sweep(f, ref, by_result, w);
    char sub[64];
    snprintf(sub, sizeof sub, "%s, subnormal results", what);
    log_worst(v->isa, what, &w[0]);
    log_worst(v->isa, sub, &w[1]);
    cr_expect_leq(w[0].ulp, bound, "%s %s: %g ulp at %a", v->isa, what, w[0].ulp, w[0].x);
    cr_expect_leq(w[1].ulp, sub_bound, "%s %s: %g units of 2^-149 at %a", v->isa, what, w[1].ulp, w[1].x);
}

// One test per ISA (int *i, an index into isas)
#define OVER_ISAS(suite, name)                                                                         \
    ParameterizedTestParameters(suite, name) {                                                        \
        static int isa[] = {0, 1};                                                                     \
        return cr_make_param_array(int, isa, 2);                                                       \
    }                                                                                                  \
    ParameterizedTest(int *i, suite, name)

// exp: the polynomial's fit is 3.1e-9 (0.05 ulp); its evaluation in float
// rounds a few times below the final 1 + p, and the result rounds once more:
// measured 1.01 ulp on every float (vmath_avx2.h), bound 2. Subnormal results
// are rounded once, in the final scaling, onto the grid of 2^-149: half a
// unit for that rounding, plus the unscaled value's error, about half an ulp
// of its 24 bits (1.01 less the final rounding's 0.5 above), which is at most
// half a unit of 2^-149 below FLT_MIN: within 1 unit (measured 0.75).
OVER_ISAS(vmath, exp_within_2_ulp_on_a_grid_of_all_floats) {
    const struct vmath *v = isa_pick(*i);
    check_vmath(v, "exp", v->exp, exp, 2.0, 1.0);
}

// tanh: below 0.625 a polynomial (fit 4.4e-9); above, 1 - 2 / (exp(2|x|) + 1),
// where exp's error (up to 2 ulp of e) shrinks by e / (e + 1)^2 and the
// division and subtraction round once each: measured 1.34 ulp, bound 3.
// tanh is subnormal only for subnormal x, where it returns x.
OVER_ISAS(vmath, tanh_within_3_ulp_on_a_grid_of_all_floats) {
    const struct vmath *v = isa_pick(*i);
    check_vmath(v, "tanh", v->tanh, tanh, 3.0, 1.0);
}

// ---------------------------------------------------------------------------
// special values, exactly

static const uint32_t nans[] = {
    0x7fc00000, 0xffc00000, // the default quiet NaNs
    0x7fc00001, 0x7fd23456, 0xffffffff, // quiet, with payloads
    0x7f800001, 0xff812345, 0x7fbfffff, // signalling
};
#define N_NANS (sizeof nans / sizeof nans[0])

// expect f(x) == want bit for bit (so the sign of 0 counts), or NaN for NaN
static void expect_exact(const char *what, unary_f32_fn f, float x, float want) {
    float y;
    f(&y, &x, 1);
    if (isnan(want)) cr_expect(isnan(y), "%s(%a) = %a, not NaN", what, x, y);
    else cr_expect_eq(to_bits(y), to_bits(want), "%s(%a) = %a, not %a", what, x, y, want);
}

OVER_ISAS(vmath, exp_special_values) {
    const struct vmath *v = isa_pick(*i);
    for (size_t k = 0; k < N_NANS; k++) expect_exact(v->isa, v->exp, from_bits(nans[k]), NAN);
    expect_exact(v->isa, v->exp, INFINITY, INFINITY);
    expect_exact(v->isa, v->exp, -INFINITY, 0.0f);
    expect_exact(v->isa, v->exp, 0.0f, 1.0f);
    expect_exact(v->isa, v->exp, -0.0f, 1.0f);
    expect_exact(v->isa, v->exp, 0x1p-149f, 1.0f);
    expect_exact(v->isa, v->exp, -0x1p-149f, 1.0f);
    expect_exact(v->isa, v->exp, FLT_MAX, INFINITY);
    expect_exact(v->isa, v->exp, -FLT_MAX, 0.0f);
    // overflow: exp(0x1.62e42ep+6) = 0x1.ffff08p+127 is the last finite result
    expect_exact(v->isa, v->exp, 0x1.62e430p+6f, INFINITY);
    expect_exact(v->isa, v->exp, 0x1.62e432p+6f, INFINITY);
    expect_exact(v->isa, v->exp, 89.0f, INFINITY);
    // underflow: below ln 2^-150 = -103.97 a correctly rounded exp is 0
    expect_exact(v->isa, v->exp, -0x1.9fe36ap+6f, 0.0f);
    expect_exact(v->isa, v->exp, -104.0f, 0.0f);
    expect_exact(v->isa, v->exp, -200.0f, 0.0f);
    // and the neighbours on the other side of each threshold, and of the
    // normal range's end (exp = FLT_MIN at -87.34), within the sweep's bounds
    const float near[] = {0x1.62e42ep+6f, 0x1.62e42cp+6f, -0x1.9fe368p+6f, -0x1.9fe366p+6f,
                          -0x1.5d58a0p+6f, -0x1.5d589ep+6f, -0x1.5d58a2p+6f};
    for (size_t k = 0; k < sizeof near / sizeof near[0]; k++) {
        float y;
        v->exp(&y, &near[k], 1);
        double r = exp(near[k]), u = ulp_error(y, r);
        cr_expect(isfinite(y) && u <= ((float)r >= FLT_MIN ? 2.0 : 1.0), "%s exp(%a) = %a, not %a: %g ulp",
                  v->isa, near[k], y, r, u);
    }
}

OVER_ISAS(vmath, tanh_special_values) {
    const struct vmath *v = isa_pick(*i);
    for (size_t k = 0; k < N_NANS; k++) expect_exact(v->isa, v->tanh, from_bits(nans[k]), NAN);
    expect_exact(v->isa, v->tanh, INFINITY, 1.0f);
    expect_exact(v->isa, v->tanh, -INFINITY, -1.0f);
    expect_exact(v->isa, v->tanh, 0.0f, 0.0f);
    expect_exact(v->isa, v->tanh, -0.0f, -0.0f);
    expect_exact(v->isa, v->tanh, 0x1p-149f, 0x1p-149f);
    expect_exact(v->isa, v->tanh, -0x1p-149f, -0x1p-149f);
    expect_exact(v->isa, v->tanh, FLT_MAX, 1.0f);
    expect_exact(v->isa, v->tanh, -FLT_MAX, -1.0f);
    expect_exact(v->isa, v->tanh, 89.0f, 1.0f); // 2|x| makes exp overflow: 1 - 2/inf
    // either side of the switch from the polynomial to exp at 0.625
    const float near[] = {0x1.3ffffep-1f, 0x1.4p-1f, 0x1.400002p-1f, -0x1.3ffffep-1f, -0x1.4p-1f};
    for (size_t k = 0; k < sizeof near / sizeof near[0]; k++) {
        float y;
        v->tanh(&y, &near[k], 1);
        double u = ulp_error(y, tanh(near[k]));
        cr_expect(u <= 3.0, "%s tanh(%a) = %a: %g ulp", v->isa, near[k], y, u);
    }
}

// ---------------------------------------------------------------------------
// the kernels of every native tier

// gelu(x) = 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = 0.7978845608 (x + 0.044715 x^3),
// in double. Not gelu_ref's form: in double too, 1 + tanh(u) cancels, and
// below x = -5.5 gelu_ref is off by more than a float ulp (0 from x = -7.2).
static double gelu_exact(double x) {
    return x / (1 + exp(-2 * 0.7978845608 * (x + 0.044715 * x * x * x)));
}

enum { G_NEG_IN, G_POS_IN, G_NEG, G_POS, G_SUB, N_G };
static const char *const g_names[N_G] = {"gelu, x in [-5, 0)", "gelu, x in [0, 5]", "gelu, x < -5", "gelu, x > 5",
                                         "gelu, subnormal results"};

static int gelu_bucket(float x, double r) {
    return fabs(r) < FLT_MIN ? G_SUB : x < -5 ? G_NEG : x > 5 ? G_POS : x < 0 ? G_NEG_IN : G_POS_IN;
}

// The SIMD tiers, everywhere: exp(-2u) is reduced in double, -2u = n ln2 + r,
// and r rounded to float costs exp under 0.2 ulp; the polynomial is within
// about 1 ulp, c + e and the division round once each: 2 ulp and a little,
// bound 3. Subnormal results (x below -10): the division rounds once onto
// 2^-149's grid, half a unit, and the quotient carries exp's and c + e's
// relative error, about 1.5 ulp of its 24 bits, at most 1.5 units below
// FLT_MIN: within 2 units.
//
// scalar and autovec, 0.5 x (1 + tanhf(u)) in float: for x >= 0, tanhf's
// error (glibc: 2 ulp) is not magnified and three roundings follow: measured
// 2.22 ulp, bound 3. For x < 0, 1 + tanhf(u) cancels as gelu goes to 0 (the
// result is 0 below about x = -6.7), so ulp mean nothing there: tanhf near -1
// is off by up to 2 * 2^-24, times 0.5 |x| <= 2.5 while it matters (|x| <= 5;
// beyond, |gelu| < 2.3e-7), 3e-7, plus the roundings of u and the products:
// within 4e-7 absolute, measured 8.2e-8.
OVER_TIERS(gelu, within_its_tiers_bound_on_a_grid_of_all_floats) {
    const struct kernel *kern = kernel_find("gelu");
    const struct variant *v = tier_pick(kern, *t);
    const char *tier = tier_names[*t];
    struct worst w[N_G] = {{0}};
    sweep(v->fn.unary, gelu_exact, gelu_bucket, w);
    double abs_neg = fmax(w[G_NEG_IN].abs, w[G_NEG].abs); // G_SUB's are below 2^-126
    for (int g = 0; g < N_G; g++) log_worst(tier, g_names[g], &w[g]);
    cr_log_info("%s, gelu, x < 0: worst %.3g absolute", tier, abs_neg);
    if (*t == T_SCALAR || *t == T_AUTOVEC) {
        cr_expect_leq(w[G_POS_IN].ulp, 3.0, "%s gelu: %g ulp at %a", tier, w[G_POS_IN].ulp, w[G_POS_IN].x);
        cr_expect_leq(w[G_POS].ulp, 3.0, "%s gelu: %g ulp at %a", tier, w[G_POS].ulp, w[G_POS].x);
        cr_expect_leq(abs_neg, 4e-7, "%s gelu: %g absolute for x < 0", tier, abs_neg);
        return;
    }
    for (int g = 0; g < G_SUB; g++) cr_expect_leq(w[g].ulp, 3.0, "%s gelu: %g ulp at %a", tier, w[g].ulp, w[g].x);
    cr_expect_leq(w[G_SUB].ulp, 2.0, "%s gelu: %g units of 2^-149 at %a", tier, w[G_SUB].ulp, w[G_SUB].x);
}

// softmax over the grid's points in [-10, 10], where bmml draws its inputs
// (kernels.c): interleaved into vectors of SOFTMAX_N, so each spans the whole
// interval, its largest value near 10 and the smallest exp near e^-20
#define SOFTMAX_N 1031 // prime: a tail for every vector width
#define TEN 0x41200000u // 10.0f

static float grid_point(uint64_t g, uint64_t half) {
    return g < half ? from_bits((uint32_t)(g * STRIDE)) : from_bits(0x80000000u | (uint32_t)((g - half) * STRIDE));
}

static void softmax_sweep(unary_f32_fn f, struct worst *w) {
    static float x[SOFTMAX_N], y[SOFTMAX_N];
    static double r[SOFTMAX_N];
    uint64_t half = TEN / STRIDE + 1, vectors = 2 * half / SOFTMAX_N;
    for (uint64_t b = 0; b < vectors; b++) {
        for (uint64_t k = 0; k < SOFTMAX_N; k++) x[k] = grid_point(b + k * vectors, half);
        f(y, x, SOFTMAX_N);
        softmax_ref(r, x, SOFTMAX_N);
        for (size_t i = 0; i < SOFTMAX_N; i++) note(w, x[i], y[i], r[i]);
    }
}

// Every output is a normal float here, so ulp are meaningful throughout.
// scalar and autovec: x - max rounds in float, by up to ulp(20)/2 = 2^-20,
// which exp turns into a relative error of 2^-20, 8 to 16 ulp; expf, the
// scale 1/sum and the product add about 2 more: measured 17.8, bound 20.
// avx2 and avx512 carry x - max exactly (TwoSum) into exp(hi + lo), about
// 1 ulp, then the same scale and product: measured 2.58, bound 4.
OVER_TIERS(softmax, within_its_tiers_bound_on_a_grid_of_minus_10_to_10) {
    const struct kernel *kern = kernel_find("softmax");
    const struct variant *v = tier_pick(kern, *t);
    struct worst w = {0};
    softmax_sweep(v->fn.unary, &w);
    log_worst(tier_names[*t], "softmax", &w);
    double bound = *t == T_SCALAR || *t == T_AUTOVEC ? 20 : 4;
    cr_expect_leq(w.ulp, bound, "%s softmax: %g ulp at %a", tier_names[*t], w.ulp, w.x);
}

// The SIMD tiers take softmax's input in blocks (softmax_driver.h): each
// block's exps against the largest x so far, then a factor per block puts
// them on the common max. Two inputs of many blocks test that. A rising ramp
// over [-10, 10] gives every block another shift, all but the last below the
// max: the factor exp(shift - max) / sum rounds once, as 1 / sum did, so the
// grid's bounds hold. Then a first block near -93 below a max of 0: its factor
// is subnormal, rounded by at most half a unit of 2^-149, of which an output
// (the factor times an exp <= 1) keeps at most as much; the output rounds once
// more: within 1 unit and a little (scalar and autovec: exp rounds onto the
// grid, then the scale rounds again, the same), bound 1.5.
#define RAMP_N (5 * 4096 + 13)
OVER_TIERS(softmax, within_its_tiers_bound_across_blocks) {
    const struct kernel *kern = kernel_find("softmax");
    const struct variant *v = tier_pick(kern, *t);
    static float x[RAMP_N], y[RAMP_N];
    static double r[RAMP_N];
    struct worst ramp = {0}, far = {0}, far_sub = {0};
    size_t n_sub = 0;
    for (size_t i = 0; i < RAMP_N; i++) x[i] = -10.0f + 20.0f * (float)i / (RAMP_N - 1);
    v->fn.unary(y, x, RAMP_N);
    softmax_ref(r, x, RAMP_N);
    for (size_t i = 0; i < RAMP_N; i++) note(&ramp, x[i], y[i], r[i]);
    for (size_t i = 0; i < RAMP_N; i++) x[i] = i < 4096 + 7 ? -95.0f + 5.0f * (float)i / 4103 : -(float)(i % 1000) / 100;
    v->fn.unary(y, x, RAMP_N);
    softmax_ref(r, x, RAMP_N);
    for (size_t i = 0; i < RAMP_N; i++) {
        n_sub += fabs(r[i]) < FLT_MIN;
        note(fabs(r[i]) < FLT_MIN ? &far_sub : &far, x[i], y[i], r[i]);
    }
    log_worst(tier_names[*t], "softmax, rising ramp", &ramp);
    log_worst(tier_names[*t], "softmax, a block far below the max", &far);
    log_worst(tier_names[*t], "softmax, a block far below the max, subnormal results", &far_sub);
    double bound = *t == T_SCALAR || *t == T_AUTOVEC ? 20 : 4;
    cr_expect_leq(ramp.ulp, bound, "%s softmax, ramp: %g ulp at %a", tier_names[*t], ramp.ulp, ramp.x);
    cr_expect_leq(far.ulp, bound, "%s softmax, far block: %g ulp at %a", tier_names[*t], far.ulp, far.x);
    cr_expect_leq(far_sub.ulp, 1.5, "%s softmax, far block: %g units of 2^-149 at %a", tier_names[*t], far_sub.ulp,
                  far_sub.x);
    cr_expect_geq(n_sub, 4096, "the far block's outputs are subnormal");
}

// Past SOFTMAX_BLOCK * SOFTMAX_MAX_BLOCKS (4M) elements the blocks grow so
// their count stays bounded: the same bounds on a rising ramp of 4M + 100.
OVER_TIERS(softmax, within_its_tiers_bound_past_4m_elements) {
    const struct kernel *kern = kernel_find("softmax");
    const struct variant *v = tier_pick(kern, *t);
    size_t n = 4096 * 1024 + 100;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double *r = malloc(n * sizeof *r);
    cr_assert(x && y && r);
    for (size_t i = 0; i < n; i++) x[i] = -10.0f + 20.0f * (float)i / (float)(n - 1);
    v->fn.unary(y, x, n);
    softmax_ref(r, x, n);
    struct worst w = {0};
    for (size_t i = 0; i < n; i++) note(&w, x[i], y[i], r[i]);
    log_worst(tier_names[*t], "softmax, 4M + 100", &w);
    double bound = *t == T_SCALAR || *t == T_AUTOVEC ? 20 : 4;
    cr_expect_leq(w.ulp, bound, "%s softmax, 4M + 100: %g ulp at %a", tier_names[*t], w.ulp, w.x);
    free(x), free(y), free(r);
}
