// A case's memory (buffers.h): allocated once, filled from the seed, the
// reference computed once; every tier, Python's included, runs on it and is
// verified against that reference.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "quant.h"
#include "util.h"

// a * b, or -1 when it would overflow
static int mul_ok(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int case_elems(const struct kernel *kern, struct shape s, size_t in[3], size_t *out) {
    size_t mn, mk, kn;
    if (mul_ok(s.m, s.n, &mn) || mul_ok(s.m, s.k, &mk) || mul_ok(s.k, s.n, &kn)) return -1;
    switch (kern->kind) {
    case KIND_UNARY_F32: in[0] = *out = s.n; break;
    case KIND_MATMUL_F32:
    case KIND_MATMUL_I8: in[0] = mk, in[1] = kn, *out = mn; break;
    case KIND_LAYERNORM: in[0] = *out = mn, in[1] = in[2] = s.n; break;
    case KIND_ATTENTION:
        if (mul_ok(mn, s.k, out)) return -1;
        in[0] = in[1] = in[2] = *out;
        break;
    default: return -1;
    }
    return kinds[kern->kind].n_in;
}

// bytes of one element of an input
static size_t in_size(const struct kernel *kern) { return kern->kind == KIND_MATMUL_I8 ? 1 : 4; }

// bytes of the reference per output element: value and bound, value, or int32
static size_t ref_size(const struct kernel *kern) {
    return kern->kind == KIND_MATMUL_I8 ? 4 : kern->kind == KIND_UNARY_F32 ? 8 : 16;
}

// inputs, their copies (to check nobody wrote them), the output and the
// reference; for int8 also the float matrices that were quantized and their scales
int buffers_bytes(const struct kernel *kern, struct shape s, size_t *bytes) {
    size_t in[3], out, t, sum = 0;
    int n_in = case_elems(kern, s, in, &out), i8 = kern->kind == KIND_MATMUL_I8;
    if (n_in < 0) return -1;
    for (int i = 0; i < n_in; i++) {
        if (mul_ok(in[i], 2 * in_size(kern) + (i8 ? 4 : 0), &t) || sum + t < sum) return -1;
        sum += t;
    }
    if (i8 && (mul_ok(s.m + s.n, 4, &t) || sum + t < sum)) return -1;
    if (i8) sum += t;
    if (mul_ok(out, 4 + ref_size(kern), &t) || sum + t < sum) return -1;
    *bytes = sum + t;
    return 0;
}

static void fill_f32(float *x, size_t n, float lo, float hi, uint64_t *state) {
    for (size_t i = 0; i < n; i++) {
        float u = (float)(splitmix64(state) >> 40) * 0x1p-24f; // [0, 1)
        x[i] = lo + (hi - lo) * u;
    }
}


// Memory a script still reaches after its call (embed_call_free): never
// freed, and listed here so that it stays reachable rather than leaked.
static void **left_to_python;
static size_t n_left_to_python;

void free_unless_held(void *p, int held) {
    if (!held) {
        free(p);
        return;
    }
    void **grown = realloc(left_to_python, (n_left_to_python + 1) * sizeof *grown);
    if (grown) left_to_python = grown, left_to_python[n_left_to_python++] = p;
}

void buffers_free(struct buffers *b) {
    for (int i = 0; i < 3; i++) free_unless_held(b->in[i], b->python_holds >> (1 + i) & 1), free(b->copy[i]);
    free_unless_held(b->out, b->python_holds & 1);
    free(b->ref);
    free(b->bound);
    free(b->fa), free(b->fb), free(b->scale_a), free(b->scale_b);
}

static void reference(const struct kernel *kern, struct shape s, struct buffers *b) {
    switch (kern->kind) {
    case KIND_UNARY_F32: kern->ref(b->ref, b->in[0], s.n); break;
    case KIND_MATMUL_F32: matmul_f32_ref(b->ref, b->bound, b->in[0], b->in[1], s.m, s.n, s.k); break;
    case KIND_MATMUL_I8: matmul_i8_ref(b->ref, b->in[0], b->in[1], s.m, s.n, s.k); break;
    case KIND_LAYERNORM: layernorm_ref(b->ref, b->bound, b->in[0], b->in[1], b->in[2], s.m, s.n); break;
    case KIND_ATTENTION:
        attention_ref(b->ref, b->bound, b->in[0], b->in[1], b->in[2], (int)s.m, (int)s.n, (int)s.k);
        break;
    case N_KINDS: break;
    }
}

int buffers_new(struct buffers *b, const struct kernel *kern, struct shape s, uint64_t seed) {
    memset(b, 0, sizeof *b);
    uint64_t state = seed;
    size_t elems_in[3], elems_out;
    if ((b->n_in = case_elems(kern, s, elems_in, &elems_out)) < 0) return -1;
    for (int i = 0; i < b->n_in; i++) b->in_bytes[i] = elems_in[i] * in_size(kern);
    b->out_bytes = elems_out * 4;
    for (int i = 0; i < b->n_in; i++) {
        b->in[i] = aligned_new(b->in_bytes[i]);
        b->copy[i] = aligned_new(b->in_bytes[i]);
        if (!b->in[i] || !b->copy[i]) goto nomem;
        if (kern->kind != KIND_MATMUL_I8) fill_f32(b->in[i], b->in_bytes[i] / 4, kern->in_lo, kern->in_hi, &state);
    }
    if (kern->kind == KIND_MATMUL_I8) {
        b->fa = aligned_new(s.m * s.k * 4), b->fb = aligned_new(s.k * s.n * 4);
        b->scale_a = aligned_new(s.m * 4), b->scale_b = aligned_new(s.n * 4);
        if (!b->fa || !b->fb || !b->scale_a || !b->scale_b) goto nomem;
        fill_f32(b->fa, s.m * s.k, kern->in_lo, kern->in_hi, &state);
        fill_f32(b->fb, s.k * s.n, kern->in_lo, kern->in_hi, &state);
        quantize_i8(b->in[0], b->scale_a, b->fa, s.m, s.k, s.k, 1); // rows of a
        quantize_i8(b->in[1], b->scale_b, b->fb, s.n, s.k, 1, s.n); // columns of b
    }
    for (int i = 0; i < b->n_in; i++) memcpy(b->copy[i], b->in[i], b->in_bytes[i]);
    b->out = aligned_new(b->out_bytes);
    b->ref = aligned_new(elems_out * (kern->kind == KIND_MATMUL_I8 ? 4 : 8));
    if (!b->out || !b->ref) goto nomem;
    if (ref_size(kern) == 16 && !(b->bound = aligned_new(elems_out * 8))) goto nomem;
    reference(kern, s, b);
    return 0;
nomem:
    buffers_free(b);
    return -1;
}

// ||dequantized c - a @ b||_F / ||a @ b||_F with the float a and b that were
// quantized: what int8 costs in accuracy. c is the exact int32 product.
double quantization_error(struct shape s, const struct buffers *b) {
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

void poison(const struct buffers *b) {
    memset(b->out, 0xff, b->out_bytes); // float NaN, int32 -1
}

int inputs_intact(const struct buffers *b) {
    for (int i = 0; i < b->n_in; i++) {
        if (memcmp(b->in[i], b->copy[i], b->in_bytes[i]) != 0) return 0;
    }
    return 1;
}

// After a tier that wrote its input: the next tiers get the input the
// reference was computed from, so they are not failed for its damage.
void restore_inputs(const struct buffers *b) {
    for (int i = 0; i < b->n_in; i++) memcpy(b->in[i], b->copy[i], b->in_bytes[i]);
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
    size_t in[3], count;
    if (case_elems(kern, s, in, &count) < 0) count = 0;
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
        // The other kernels with a bound: btol of it, as kernels.c derives.
        double gamma = kern->btol, underflow = 0;
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
