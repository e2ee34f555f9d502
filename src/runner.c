// One case: a kernel at one size. Buffers are allocated once, filled from the
// seed, and every tier, Python's included, runs on the same memory, is
// verified against the reference, then timed.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blas.h"
#include "config.h"
#include "cpu.h"
#include "embed.h"
#include "interrupt.h"
#include "parallel.h"
#include "quant.h"
#include "runner.h"
#include "stats.h"
#include "warn.h"

const char *const all_tier_names[N_TIERS] = {"python", "numpy", "scalar", "autovec", "avx2", "avx512", "blas"};
const char *const factor_names[N_FACTORS] = {"interpreter", "compiler", "hand SIMD", "wider vectors", "library"};
const char *const status_names[4] = {"ok", "unavailable", "failed", "interrupted"};

// The module that holds each Python tier's functions.
static const char *const py_modules[2] = {"kernels", "numpy_kernels"};

int tier_find(const char *name) {
    for (int t = 0; t < N_TIERS; t++) {
        if (strcmp(all_tier_names[t], name) == 0) return t;
    }
    return -1;
}

// ---------------------------------------------------------------------------
// shapes

struct shape default_shape(const struct kernel *kern, int quick) {
    struct shape s = {0, 0, 0};
    if (kern->kind == KIND_UNARY_F32) {
        // relu is memory-bound: 10M floats (40 MB each way) go well past the last-level cache
        s.n = quick ? 100000 : strcmp(kern->name, "relu") == 0 ? 10000000 : 1000000;
    } else {
        s.m = s.n = s.k = quick ? 64 : 500;
    }
    return s;
}

const char *shape_str(const struct kernel *kern, struct shape s, char *buf, size_t size) {
    if (kern->kind == KIND_UNARY_F32) snprintf(buf, size, "%zu", s.n);
    else snprintf(buf, size, "%zux%zux%zu", s.m, s.n, s.k);
    return buf;
}

// a * b, or -1 when it would overflow
static int mul_ok(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

// Bytes a case needs: inputs, their copies (to check nobody wrote them),
// the output and the reference. -1 on overflow.
static int case_bytes(const struct kernel *kern, struct shape s, size_t *bytes) {
    size_t mk, kn, mn, t[6];
    if (kern->kind == KIND_UNARY_F32) {
        // x, copy of x, out: 4 bytes each; reference: 8
        return mul_ok(s.n, 20, bytes);
    }
    if (mul_ok(s.m, s.k, &mk) || mul_ok(s.k, s.n, &kn) || mul_ok(s.m, s.n, &mn)) return -1;
    size_t in = kern->kind == KIND_MATMUL_F32 ? 4 : 1;
    size_t ref = kern->kind == KIND_MATMUL_F32 ? 16 : 4; // value and error bound, or int32
    if (mul_ok(mk, 2 * in, &t[0]) || mul_ok(kn, 2 * in, &t[1]) || mul_ok(mn, 4 + ref, &t[2])) return -1;
    t[3] = t[0] + t[1];
    if (t[3] < t[0] || t[3] + t[2] < t[3]) return -1;
    *bytes = t[3] + t[2];
    return 0;
}

int shape_check(const struct kernel *kern, struct shape s, char *err, size_t errlen) {
    if (kern->kind == KIND_UNARY_F32) {
        if (s.n == 0) return snprintf(err, errlen, "%s needs a size of at least 1", kern->name), -1;
        if (s.n > LONG_MAX / 8) return snprintf(err, errlen, "size %zu is too large", s.n), -1;
    } else {
        if (!s.m || !s.n || !s.k) return snprintf(err, errlen, "%s needs sizes of at least 1", kern->name), -1;
        if (s.m > INT_MAX || s.n > INT_MAX || s.k > INT_MAX)
            return snprintf(err, errlen, "%s sizes must be at most %d", kern->name, INT_MAX), -1;
        // |c| <= k * 128 * 128 must fit int32
        if (kern->kind == KIND_MATMUL_I8 && s.k > 131071)
            return snprintf(err, errlen, "%s needs k <= 131071 so that int32 sums cannot overflow", kern->name), -1;
    }
    size_t bytes;
    if (case_bytes(kern, s, &bytes) < 0) return snprintf(err, errlen, "%s: the size overflows", kern->name), -1;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    double have = pages > 0 && page > 0 ? (double)pages * page : 0;
    if (have && bytes > have)
        return snprintf(err, errlen, "%s at this size needs %.1f GiB of memory; this machine has %.1f GiB",
                        kern->name, bytes / 1073741824.0, have / 1073741824.0), -1;
    return 0;
}

// ---------------------------------------------------------------------------
// buffers

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill_f32(float *x, size_t n, float lo, float hi, uint64_t *state) {
    for (size_t i = 0; i < n; i++) {
        float u = (float)(splitmix64(state) >> 40) * 0x1p-24f; // [0, 1)
        x[i] = lo + (hi - lo) * u;
    }
}

// 64-byte aligned, size rounded up to a multiple of 64 as aligned_alloc asks
static void *buffer_new(size_t bytes) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return NULL;
    return aligned_alloc(64, rounded ? rounded : 64);
}

struct buffers {
    void *in[2], *copy[2]; // inputs and their pristine copies
    size_t in_bytes[2];
    int n_in;
    void *out;
    size_t out_bytes;
    void *ref;   // double (float kernels) or int32 (int8)
    double *bound; // matmul: sum_p |a_ip b_pj|
    // int8 matmul: the float matrices that were quantized, and their scales
    float *fa, *fb, *scale_a, *scale_b;
    unsigned python_holds; // bit 0: out, bit 1 + i: in[i], as a Python call's arguments are
};

// Memory a script still reaches after its call (embed_call_free): never
// freed, and listed here so that it stays reachable rather than leaked.
static void **left_to_python;
static size_t n_left_to_python;

static void free_unless_held(void *p, int held) {
    if (!held) {
        free(p);
        return;
    }
    void **grown = realloc(left_to_python, (n_left_to_python + 1) * sizeof *grown);
    if (grown) left_to_python = grown, left_to_python[n_left_to_python++] = p;
}

static void buffers_free(struct buffers *b) {
    for (int i = 0; i < 2; i++) free_unless_held(b->in[i], b->python_holds >> (1 + i) & 1), free(b->copy[i]);
    free_unless_held(b->out, b->python_holds & 1);
    free(b->ref);
    free(b->bound);
    free(b->fa), free(b->fb), free(b->scale_a), free(b->scale_b);
}

static int buffers_new(struct buffers *b, const struct kernel *kern, struct shape s, uint64_t seed) {
    memset(b, 0, sizeof *b);
    uint64_t state = seed;
    size_t elems_out;
    if (kern->kind == KIND_UNARY_F32) {
        b->n_in = 1;
        b->in_bytes[0] = s.n * 4;
        elems_out = s.n;
    } else {
        size_t in = kern->kind == KIND_MATMUL_F32 ? 4 : 1;
        b->n_in = 2;
        b->in_bytes[0] = s.m * s.k * in;
        b->in_bytes[1] = s.k * s.n * in;
        elems_out = s.m * s.n;
    }
    b->out_bytes = elems_out * 4;
    for (int i = 0; i < b->n_in; i++) {
        b->in[i] = buffer_new(b->in_bytes[i]);
        b->copy[i] = buffer_new(b->in_bytes[i]);
        if (!b->in[i] || !b->copy[i]) goto nomem;
        if (kern->kind != KIND_MATMUL_I8) fill_f32(b->in[i], b->in_bytes[i] / 4, kern->in_lo, kern->in_hi, &state);
    }
    if (kern->kind == KIND_MATMUL_I8) {
        b->fa = buffer_new(s.m * s.k * 4), b->fb = buffer_new(s.k * s.n * 4);
        b->scale_a = buffer_new(s.m * 4), b->scale_b = buffer_new(s.n * 4);
        if (!b->fa || !b->fb || !b->scale_a || !b->scale_b) goto nomem;
        fill_f32(b->fa, s.m * s.k, kern->in_lo, kern->in_hi, &state);
        fill_f32(b->fb, s.k * s.n, kern->in_lo, kern->in_hi, &state);
        quantize_i8(b->in[0], b->scale_a, b->fa, s.m, s.k, s.k, 1); // rows of a
        quantize_i8(b->in[1], b->scale_b, b->fb, s.n, s.k, 1, s.n); // columns of b
    }
    for (int i = 0; i < b->n_in; i++) memcpy(b->copy[i], b->in[i], b->in_bytes[i]);
    b->out = buffer_new(b->out_bytes);
    b->ref = buffer_new(elems_out * (kern->kind == KIND_MATMUL_I8 ? 4 : 8));
    if (!b->out || !b->ref) goto nomem;
    if (kern->kind == KIND_MATMUL_F32 && !(b->bound = buffer_new(elems_out * 8))) goto nomem;
    return 0;
nomem:
    buffers_free(b);
    return -1;
}

// ||dequantized c - a @ b||_F / ||a @ b||_F with the float a and b that were
// quantized: what int8 costs in accuracy. c is the exact int32 product.
static double quantization_error(struct shape s, const struct buffers *b) {
    double err = 0, norm = 0;
    double *row = malloc(s.n * sizeof *row);
    if (!row) return NAN;
    const int32_t *c = b->ref;
    for (size_t i = 0; i < s.m; i++) {
        for (size_t j = 0; j < s.n; j++) row[j] = 0;
        for (size_t p = 0; p < s.k; p++) {
            double aip = b->fa[i * s.k + p];
            for (size_t j = 0; j < s.n; j++) row[j] += aip * b->fb[p * s.n + j];
        }
        for (size_t j = 0; j < s.n; j++) {
            double deq = (double)c[i * s.n + j] * b->scale_a[i] * b->scale_b[j];
            err += (deq - row[j]) * (deq - row[j]);
            norm += row[j] * row[j];
        }
    }
    free(row);
    return norm > 0 ? sqrt(err / norm) : 0;
}

static void reference(const struct kernel *kern, struct shape s, struct buffers *b) {
    switch (kern->kind) {
    case KIND_UNARY_F32: kern->ref(b->ref, b->in[0], s.n); break;
    case KIND_MATMUL_F32: matmul_f32_ref(b->ref, b->bound, b->in[0], b->in[1], s.m, s.n, s.k); break;
    case KIND_MATMUL_I8: matmul_i8_ref(b->ref, b->in[0], b->in[1], s.m, s.n, s.k); break;
    }
}

// ---------------------------------------------------------------------------
// verification

double ulp_error(float y, double r) {
    float rf = (float)r;
    uint32_t bits;
    memcpy(&bits, &rf, sizeof bits);
    // the biased exponent: 0 (subnormals, 0) has the ulp of 1, FLT_MIN's;
    // 255 (beyond FLT_MAX) that of 254, FLT_MAX's
    int e = (int)(bits >> 23 & 0xff);
    e = e < 1 ? 1 : e > 254 ? 254 : e;
    return ldexp(fabs(y - r), 150 - e); // ulp = 2^(e - 127 - 23)
}

int verify_output(const struct kernel *kern, struct shape s, const void *out, const void *ref,
                  const double *bound, double *abs_err, double *rel_err, double *ulp_err) {
    size_t count = kern->kind == KIND_UNARY_F32 ? s.n : s.m * s.n;
    double max_abs = 0, max_rel = 0, max_ulp = kern->kind == KIND_MATMUL_I8 ? NAN : 0;
    int ok = 1;
    if (kern->kind == KIND_MATMUL_I8) {
        const int32_t *y = out, *r = ref;
        for (size_t i = 0; i < count; i++) {
            double e = fabs((double)y[i] - r[i]);
            if (e > max_abs) max_abs = e;
            if (r[i] && e / fabs((double)r[i]) > max_rel) max_rel = e / fabs((double)r[i]);
            ok &= e == 0;
        }
    } else {
        // gamma_k = k u / (1 - k u), u = 2^-24 (kernels.c). That bound holds
        // without underflow; with gradual underflow each of the k products
        // may also be off by up to half the least subnormal, 2^-150 (Higham,
        // 2.1), an absolute error no relative bound covers.
        double gamma = 0, underflow = 0;
        if (kern->kind == KIND_MATMUL_F32) {
            gamma = s.k * 0x1p-24 / (1 - s.k * 0x1p-24);
            underflow = s.k * 0x1p-150 * (1 + gamma);
        }
        const float *y = out;
        const double *r = ref;
        for (size_t i = 0; i < count; i++) {
            double yi = y[i], ri = r[i];
            if (isnan(ri) || isnan(yi) || isinf(ri)) {
                // NaN where the reference has NaN, the same infinity where it has one
                if (!(isnan(ri) && isnan(yi)) && yi != ri) ok = 0, max_abs = INFINITY;
                continue;
            }
            double tol = kern->atol + kern->rtol * fabs(ri);
            if (bound) tol += gamma * bound[i] + underflow;
            if (isinf(yi)) {
                // right where the reference, within the tolerance, is beyond float's
                // range: past FLT_MAX + half its ulp, round to nearest gives infinity
                if (signbit(yi) != signbit(ri) || fabs(ri) + tol < 0x1p128 - 0x1p103) ok = 0, max_abs = INFINITY;
                continue;
            }
            double e = fabs(yi - ri);
            if (e > max_abs) max_abs = e;
            if (ri != 0 && e / fabs(ri) > max_rel) max_rel = e / fabs(ri);
            double u = ulp_error(y[i], ri);
            if (u > max_ulp) max_ulp = u;
            if (!(e <= tol)) ok = 0;
        }
    }
    if (abs_err) *abs_err = max_abs;
    if (rel_err) *rel_err = max_rel;
    if (ulp_err) *ulp_err = max_ulp;
    return ok;
}

static int inputs_intact(const struct buffers *b) {
    for (int i = 0; i < b->n_in; i++) {
        if (memcmp(b->in[i], b->copy[i], b->in_bytes[i]) != 0) return 0;
    }
    return 1;
}

// After a tier that wrote its input: the next tiers get the input the
// reference was computed from, so they are not failed for its damage.
static void restore_inputs(const struct buffers *b) {
    for (int i = 0; i < b->n_in; i++) memcpy(b->in[i], b->copy[i], b->in_bytes[i]);
}

// ---------------------------------------------------------------------------
// one tier: what to call

struct invoker {
    const struct kernel *kern;
    struct shape s;
    const struct buffers *b;
    const struct variant *v;  // native tiers
    struct py_call *py;       // Python tiers
    int blas;                 // the blas tier
    char *err;
    size_t errlen;
};

static int invoke(const struct invoker *iv) {
    const struct buffers *b = iv->b;
    if (iv->py) return embed_call(iv->py, iv->err, iv->errlen);
    if (iv->blas) {
        blas_sgemm(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k);
        return 0;
    }
    switch (iv->kern->kind) {
    case KIND_UNARY_F32: iv->v->fn.unary(b->out, b->in[0], iv->s.n); break;
    case KIND_MATMUL_F32: iv->v->fn.matmul_f32(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k); break;
    case KIND_MATMUL_I8: iv->v->fn.matmul_i8(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k); break;
    }
    return 0;
}

static double clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

// What one reading of the clock can resolve: its resolution or the cost of
// reading it, whichever is larger (reading usually costs more than the resolution).
static double clock_tick_ns(void) {
    static double tick;
    if (tick > 0) return tick;
    struct timespec res;
    double least = 1e9;
    for (int i = 0; i < 100; i++) {
        double a = now_ns(), b = now_ns();
        if (b - a > 0 && b - a < least) least = b - a;
    }
    tick = clock_getres(CLOCK_MONOTONIC, &res) == 0 ? res.tv_sec * 1e9 + res.tv_nsec : 1;
    if (least > tick) tick = least;
    return tick;
}

const struct variant *variant_pick(const struct kernel *kern, int tier, unsigned cpu, char *why, size_t whylen) {
    const struct variant *v = kern->tier[tier], *last = NULL;
    for (int i = 0; i < 2; i++) {
        if (!v[i].fn.unary) continue;
        last = &v[i]; // the least demanding variant comes last
        if ((v[i].needs & cpu) == v[i].needs) return &v[i];
    }
    char names[128];
    unsigned lacks = last ? last->needs & ~cpu_features(CAP_AVX512) : 0;
    if (!last) snprintf(why, whylen, "not built: the compiler lacks the flags for it");
    else if (!lacks) snprintf(why, whylen, "excluded by --max-isa");
    else snprintf(why, whylen, "not available on this CPU: it lacks %s", cpu_feature_names(lacks, names, sizeof names));
    return NULL;
}

// The arguments: out, then the inputs (the order buffers.python_holds
// follows), then the sizes.
static struct py_call *py_call_new(int tier, const struct kernel *kern, struct shape s,
                                   const struct buffers *b, char *err, size_t errlen) {
    char fmt_in = kern->kind == KIND_MATMUL_I8 ? 'b' : 'f';
    char fmt_out = kern->kind == KIND_MATMUL_I8 ? 'i' : 'f';
    struct py_arg args[6];
    int n = 0;
    args[n++] = (struct py_arg){ARG_VIEW, b->out, b->out_bytes / 4, fmt_out, 0};
    for (int i = 0; i < b->n_in; i++)
        args[n++] = (struct py_arg){ARG_VIEW, b->in[i], b->in_bytes[i] / (fmt_in == 'f' ? 4 : 1), fmt_in, 0};
    if (kern->kind == KIND_UNARY_F32) {
        args[n++] = (struct py_arg){ARG_INT, NULL, 0, 0, (long)s.n};
    } else {
        args[n++] = (struct py_arg){ARG_INT, NULL, 0, 0, (long)s.m};
        args[n++] = (struct py_arg){ARG_INT, NULL, 0, 0, (long)s.n};
        args[n++] = (struct py_arg){ARG_INT, NULL, 0, 0, (long)s.k};
    }
    return embed_call_new(py_modules[tier], kern->name, args, n, err, errlen);
}

// Fill the output with a pattern no kernel produces by chance, so a tier that
// writes nothing cannot pass on an earlier tier's result.
static void poison(const struct buffers *b) {
    memset(b->out, 0xff, b->out_bytes); // float NaN, int32 -1
}

// A script kept a view's memory past its call: the tier fails, and the
// buffers it reaches are left to Python.
static void python_kept(unsigned held, const struct kernel *kern, struct buffers *b, struct tier_result *r) {
    static const char *const names[2][3] = {{"out", "x", ""}, {"c", "a", "b"}};
    const char *const *name = names[kern->kind != KIND_UNARY_F32];
    char which[32] = "";
    for (int i = 0; i < 3; i++) {
        if (held >> i & 1) snprintf(which + strlen(which), sizeof which - strlen(which), "%s%s", *which ? ", " : "", name[i]);
    }
    b->python_holds |= held;
    size_t used = r->status == ST_FAILED ? strlen(r->note) : 0; // after why it failed, if it did
    r->status = ST_FAILED;
    snprintf(r->note + used, sizeof r->note - used,
             "%sthe kernel kept %s past its call (a slice or an array over the view): that memory is left to Python",
             used ? "; " : "", which);
}

// median, min, MAD and CV over r's samples
static void tier_stats(struct tier_result *r) {
    double scratch[MAX_SAMPLES];
    int n = r->repetitions;
    r->min_ns = stats_min(r->samples_ns, n);
    r->mad_ns = stats_mad(r->samples_ns, n, scratch);
    r->median_ns = stats_median(r->samples_ns, n, scratch);
    r->cv = stats_cv(r->samples_ns, n);
}

// what a reader should doubt in r's figures, on stderr and in the JSON
static void tier_warnings(const struct kernel *kern, struct shape s, const struct tier_result *r) {
    char sz[64];
    // MAD scaled by 1.4826 estimates the standard deviation of normal
    // samples, and one preempted repetition does not move it as it does CV
    double spread = r->median_ns > 0 ? 1.4826 * r->mad_ns / r->median_ns : 0;
    if (spread > 0.10)
        warnf("%s/%s/%s: the repetitions vary by %.0f%% (1.4826 MAD / median); the machine may be busy",
              kern->name, all_tier_names[r->tier], shape_str(kern, s, sz, sizeof sz), 100 * spread);
    if (r->min_ns * r->iterations < 100 * clock_tick_ns())
        warnf("%s/%s/%s: a repetition lasts under 100 ticks of the clock", kern->name, all_tier_names[r->tier],
              shape_str(kern, s, sz, sizeof sz));
}

int pass_share(int count, int pass, int passes) {
    return count * (pass + 1) / passes - count * pass / passes;
}

static void run_tier(int t, const struct kernel *kern, struct shape s, struct buffers *b,
                     const struct run_config *cfg, struct tier_result *r) {
    if (cfg->pass == 0) {
        memset(r, 0, sizeof *r);
        r->tier = t;
        r->status = ST_UNAVAILABLE;
    } else if (r->status != ST_OK || r->ended) {
        return; // as an earlier pass left it
    }
    struct invoker iv = {kern, s, b, NULL, NULL, 0, r->note, sizeof r->note};
    int is_py = t == T_PYTHON || t == T_NUMPY;
    if (is_py) {
        if (t == T_PYTHON && !cfg->python) return (void)snprintf(r->note, sizeof r->note, "kernels.py did not import");
        if (t == T_PYTHON && cfg->python_skip) return (void)snprintf(r->note, sizeof r->note, "%s", cfg->python_skip_note);
        if (t == T_NUMPY && !cfg->numpy) return (void)snprintf(r->note, sizeof r->note, "%s", cfg->numpy_note);
        r->isa = t == T_PYTHON ? "CPython" : "NumPy";
        if (!(iv.py = py_call_new(t, kern, s, b, r->note, sizeof r->note))) return;
    } else if (t == T_BLAS) {
        if (!blas_available()) return (void)snprintf(r->note, sizeof r->note, "not built: configure found no OpenBLAS");
        iv.blas = 1;
        r->isa = blas_corename();
    } else {
        if (!(iv.v = variant_pick(kern, t - T_SCALAR, cfg->cpu, r->note, sizeof r->note))) return;
        r->isa = iv.v->isa;
    }

    // warm-up, then verify that one call before any timing counts
    poison(b);
    double t0 = now_ns();
    if (invoke(&iv) < 0 || interrupt_signal()) {
        r->status = ST_FAILED;
        goto done;
    }
    double first = now_ns() - t0;
    char size[64];
    shape_str(kern, s, size, sizeof size);
    if (cfg->progress) cfg->progress(kern->name, all_tier_names[t], size, 0);
    double abs_err, rel_err, ulp_err;
    r->verified = verify_output(kern, s, b->out, b->ref, b->bound, &abs_err, &rel_err, &ulp_err);
    if (cfg->pass == 0 || !(abs_err <= r->max_abs_err)) r->max_abs_err = abs_err;
    if (cfg->pass == 0 || !(rel_err <= r->max_rel_err)) r->max_rel_err = rel_err;
    if (cfg->pass == 0 || !(ulp_err <= r->max_ulp_err)) r->max_ulp_err = ulp_err;
    if (!r->verified) {
        r->status = ST_FAILED;
        snprintf(r->note, sizeof r->note, "wrong result: max abs error %.3g", abs_err);
        goto done;
    }
    if (!inputs_intact(b)) {
        r->status = ST_FAILED;
        snprintf(r->note, sizeof r->note, "the kernel wrote to its input");
        goto done;
    }

    // Samples of `iterations` calls each, long enough to dwarf the clock's
    // cost; at least MIN_REPETITIONS samples and min_time seconds in all,
    // spread evenly over the passes. A Python sample longer than max_time ends
    // the series.
    // Calibrate on warm calls in the first pass, as Google Benchmark does: grow
    // the count until one sample of it lasts target (these runs are more warm-up).
    double target = cfg->min_time * 1e9 / 30;
    long iters = cfg->pass == 0 ? 1 : r->iterations;
    for (double dt = first; cfg->pass == 0 && dt < target && iters < (1L << 30);) {
        iters = dt > 0 && target / dt < 10 ? (long)(iters * 1.2 * target / dt) + 1 : iters * 10;
        t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            if (invoke(&iv) < 0 || interrupt_signal()) {
                r->status = ST_FAILED;
                goto done;
            }
        }
        dt = now_ns() - t0;
    }
    r->iterations = iters;
    int before = r->repetitions, n = 0;
    double *samples = r->samples_ns + before, total = 0, cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    int want = cfg->repetitions ? pass_share(cfg->repetitions, cfg->pass, cfg->passes) : 0;
    int least = pass_share(MIN_REPETITIONS, cfg->pass, cfg->passes);
    double time = cfg->min_time * 1e9 / cfg->passes;
    while (want ? n < want : before + n < MAX_SAMPLES && (n < least || total < time)) {
        t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            if (invoke(&iv) < 0 || interrupt_signal()) {
                r->status = ST_FAILED;
                goto done;
            }
        }
        double dt = now_ns() - t0;
        samples[n++] = dt / iters;
        if (cfg->progress) cfg->progress(kern->name, all_tier_names[t], size, before + n);
        total += dt;
        if (!cfg->repetitions && is_py && dt / iters > cfg->max_time * 1e9) {
            r->ended = 1;
            break;
        }
    }
    if (!inputs_intact(b)) {
        r->status = ST_FAILED;
        snprintf(r->note, sizeof r->note, "the kernel wrote to its input");
        goto done;
    }
    double cpu = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / iters; // the CPU time of this pass's n samples
    r->cpu_ns = (r->cpu_ns * before + cpu) / (before + n);
    r->repetitions = before + n;
    r->cut = r->ended && r->repetitions < MIN_REPETITIONS;
    tier_stats(r);
    r->status = ST_OK;
    if (r->cut)
        snprintf(r->note, sizeof r->note, "%d repetition%s: one took longer than --max-time", r->repetitions,
                 r->repetitions > 1 ? "s" : "");
    if (cfg->pass == cfg->passes - 1 || r->ended) tier_warnings(kern, s, r);
done:
    if (interrupt_signal() && r->status == ST_FAILED) {
        if (r->repetitions > 0) {
            // stopped in a later pass: the earlier passes' samples and statistics stand
            r->status = ST_OK;
            snprintf(r->note, sizeof r->note, "%d repetitions: signal %d stopped the rest", r->repetitions,
                     interrupt_signal());
        } else {
            r->status = ST_INTERRUPTED; // whatever the kernel said, the signal stopped it
            snprintf(r->note, sizeof r->note, "interrupted by signal %d", interrupt_signal());
        }
    }
    unsigned held = embed_call_free(iv.py);
    if (held) python_kept(held, kern, b, r);
    if (!inputs_intact(b)) restore_inputs(b); // also after a tier that raised or failed verification
}

static const struct tier_result *find_ok(const struct case_result *cr, int tier) {
    for (int i = 0; i < cr->n_tiers; i++) {
        if (cr->tiers[i].tier == tier && cr->tiers[i].status == ST_OK) return &cr->tiers[i];
    }
    return NULL;
}

// interpreter (python -> scalar), compiler (scalar -> autovec), hand SIMD
// (autovec -> avx2), wider vectors (avx2 -> avx512), library (our best native
// tier -> blas): the factors multiply back to python / the last tier that ran.
const char *factor_label(const struct decomposition *d, int f, char *buf, size_t size) {
    static const int usual[N_FACTORS][2] = {{T_PYTHON, T_SCALAR}, {T_SCALAR, T_AUTOVEC}, {T_AUTOVEC, T_AVX2},
                                            {T_AVX2, T_AVX512}, {T_AVX512, T_BLAS}};
    if (d->from[f] == usual[f][0] && d->to[f] == usual[f][1]) snprintf(buf, size, "%s", factor_names[f]);
    else snprintf(buf, size, "%s->%s", all_tier_names[d->from[f]], all_tier_names[d->to[f]]);
    return buf;
}

void decompose(struct case_result *cr) {
    static const int chain[] = {T_PYTHON, T_SCALAR, T_AUTOVEC, T_AVX2, T_AVX512};
    struct decomposition *d = &cr->decomp;
    memset(d, 0, sizeof *d); // nothing of an earlier pass's, when a tier has failed since
    const struct tier_result *prev = find_ok(cr, T_PYTHON);
    d->last_tier = prev ? T_PYTHON : -1;
    for (int f = 0; prev && f < 4; f++) {
        const struct tier_result *next = find_ok(cr, chain[f + 1]);
        if (!next) continue; // a missing step folds into the next factor
        d->factor[f] = prev->median_ns / next->median_ns;
        d->from[f] = prev->tier, d->to[f] = next->tier; // not chain[f] when a step folded in
        prev = next;
        d->last_tier = next->tier;
    }
    const struct tier_result *blas = find_ok(cr, T_BLAS);
    if (prev && blas) {
        d->factor[F_LIBRARY] = prev->median_ns / blas->median_ns;
        d->from[F_LIBRARY] = prev->tier, d->to[F_LIBRARY] = T_BLAS;
        prev = blas;
        d->last_tier = T_BLAS;
    }
    const struct tier_result *py = find_ok(cr, T_PYTHON);
    d->total = py && prev ? py->median_ns / prev->median_ns : 0;
}

// The element-wise kernels' roof is the speed of merely moving their bytes:
// a copy from x to out, the same buffers at the same size, so a case that fits
// in cache is held to the cache's bandwidth and a large one to memory's.
static double copy_time(const struct buffers *b, void (*copy)(float *, const float *, size_t)) {
    double t[9], scratch[9];
    size_t n = b->out_bytes / 4;
    copy(b->out, b->in[0], n); // warm-up
    for (int i = 0; i < 9; i++) {
        double t0 = now_ns();
        copy(b->out, b->in[0], n);
        t[i] = now_ns() - t0;
    }
    return stats_median(t, 9, scratch);
}

static void copy_memcpy(float *out, const float *x, size_t n) { memcpy(out, x, n * sizeof *x); }

// the faster of memcpy and a copy with streaming stores (which wins once the
// data leaves the cache), each the median of 9
static double copy_gbps(const struct buffers *b, unsigned cpu) {
    double best = copy_time(b, copy_memcpy);
#if HAVE_AVX2
    if ((cpu & (CPU_AVX2 | CPU_FMA)) == (CPU_AVX2 | CPU_FMA)) {
        double t = copy_time(b, copy_stream_avx2);
        if (t < best) best = t;
    }
#else
    (void)cpu;
#endif
    return best > 0 ? 2.0 * b->out_bytes / best : 0;
}

int above_compute_roof(const struct case_result *cr, const struct tier_result *r) {
    // NumPy and OpenBLAS pick their own instructions and threads, which may be
    // beyond the roof's (under --max-isa avx2 the fp32 roof is the AVX2 peak)
    int ours = r->tier >= T_SCALAR && r->tier <= T_AVX512;
    return ours && cr->kern->kind != KIND_UNARY_F32 && cr->roof > 0 && r->status == ST_OK && r->rate > cr->roof;
}

static void roof_for(struct case_result *cr, const struct roofline *roof, const struct buffers *b, unsigned cpu) {
    if (!roof || !roof->measured) return;
    switch (cr->kern->kind) {
    case KIND_UNARY_F32: cr->roof = copy_gbps(b, cpu), cr->roof_name = "the fastest copy of the same buffers"; break;
    case KIND_MATMUL_F32:
        if (roof->fma_avx512_gflops) cr->roof = roof->fma_avx512_gflops, cr->roof_name = "AVX-512 FMA peak";
        else if (roof->fma_avx2_gflops) cr->roof = roof->fma_avx2_gflops, cr->roof_name = "AVX2 FMA peak";
        break;
    case KIND_MATMUL_I8:
        if (roof->vnni_avx512_gops) cr->roof = roof->vnni_avx512_gops, cr->roof_name = "AVX512-VNNI peak";
        break;
    }
}

int run_case(const struct kernel *kern, struct shape s, const struct run_config *cfg, struct case_result *out) {
    struct buffers b;
    int first = cfg->pass == 0;
    if (first) {
        memset(out, 0, sizeof *out);
        out->kern = kern;
        out->shape = s;
        if (kern->kind == KIND_UNARY_F32) {
            out->work = 8.0 * s.n; // the least traffic: read x once, write out once
            out->unit = "GB/s";
        } else {
            out->work = 2.0 * s.m * s.n * s.k;
            out->unit = kern->kind == KIND_MATMUL_F32 ? "GFLOP/s" : "GOP/s";
        }
    }
    if (buffers_new(&b, kern, s, cfg->seed) < 0) {
        char sz[64];
        fprintf(stderr, "bmml-host: %s %s: out of memory: %s\n", kern->name,
                shape_str(kern, s, sz, sizeof sz), strerror(ENOMEM));
        return 3;
    }
    reference(kern, s, &b);
    if (first) {
        if (kern->kind == KIND_MATMUL_I8) out->quant_rel_err = quantization_error(s, &b);
        roof_for(out, cfg->roof, &b, cfg->cpu);
        if (kern->kind != KIND_UNARY_F32) out->roof *= cfg->threads; // one core's peak, times the cores used
    }
    parallel_set_threads(kern->kind == KIND_UNARY_F32 ? 1 : cfg->threads);
    blas_set_threads(cfg->threads);
    int k = 0; // the tiers in the same order every pass
    for (int t = 0; t < N_TIERS && !interrupt_signal(); t++) {
        if (!(cfg->tiers & (1u << t))) continue;
        if (t == T_BLAS && kern->kind != KIND_MATMUL_F32) continue; // BLAS has only this one
        if (first) out->n_tiers++;
        struct tier_result *r = &out->tiers[k++];
        run_tier(t, kern, s, &b, cfg, r);
        if (r->status != ST_OK) continue;
        r->rate = out->work / r->median_ns; // per ns = giga per s
        if (out->roof > 0) r->pct_of_roof = 100 * r->rate / out->roof;
        if (cfg->pass == cfg->passes - 1 && above_compute_roof(out, r)) {
            char sz[64];
            warnf("%s/%s/%s: %.0f%% of the %s, which must have been measured low (a busy core while the roofline "
                  "ran): every share of that peak in this run reads high",
                  kern->name, all_tier_names[r->tier], shape_str(kern, s, sz, sizeof sz), r->pct_of_roof,
                  out->roof_name);
        }
    }
    buffers_free(&b);

    const struct tier_result *py = find_ok(out, T_PYTHON);
    double scratch[2 * MAX_SAMPLES];
    for (int i = 0; i < out->n_tiers; i++) { // as of this pass: Python may have failed in it
        out->tiers[i].speedup = out->tiers[i].speedup_lo = out->tiers[i].speedup_hi = 0;
        out->tiers[i].interval = NULL;
    }
    for (int i = 0; py && i < out->n_tiers; i++) {
        struct tier_result *r = &out->tiers[i];
        if (r->status != ST_OK) continue;
        r->speedup = py->median_ns / r->median_ns;
        if (r == py) continue; // python against itself has no interval worth printing
        if (py->repetitions >= 10 && r->repetitions >= 10) {
            stats_ratio_interval(py->samples_ns, py->repetitions, r->samples_ns, r->repetitions, 2000,
                                 cfg->seed + i, scratch, &r->speedup_lo, &r->speedup_hi);
            r->interval = "bootstrap95";
            r->interval_coverage = 0.95;
        } else {
            // a bootstrap of the median of a few samples covers far less than
            // 95%: give the whole range the samples allow instead (MIN_REPETITIONS)
            r->speedup_lo = stats_min(py->samples_ns, py->repetitions) / stats_max(r->samples_ns, r->repetitions);
            r->speedup_hi = stats_max(py->samples_ns, py->repetitions) / stats_min(r->samples_ns, r->repetitions);
            r->interval = "range";
            r->interval_coverage = stats_range_coverage(py->repetitions, r->repetitions);
            if (r->interval_coverage < 0.95 && cfg->pass == cfg->passes - 1) {
                char sz[64];
                warnf("%s/%s/%s: with %d and %d repetitions the speedup's range holds the ratio of medians "
                      "with probability %.0f%% at least, not 95%%",
                      kern->name, all_tier_names[r->tier], shape_str(kern, s, sz, sizeof sz), py->repetitions,
                      r->repetitions, 100 * r->interval_coverage);
            }
        }
    }
    decompose(out);
    return 0;
}
