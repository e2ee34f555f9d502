// The model: its loader on good and bad files of format version 2 (made
// here, op by op), the interpreter in every native tier against a forward
// pass in double precision, the per-operation bookkeeping, the int8 path
// where it is exact, and the committed models in every tier.
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cpu.h"
#include "embed.h"
#include "kernels/steps.h"
#include "model.h"
#include "model_files.h"
#include "plan.h"
#include "quant.h"
#include "runner.h"
#include "tiers.h"
#include "util.h"

#define PYSCRIPTS BMML_SRCDIR "/pyscripts"

static char err[512];
static struct model m; // 16 KiB of op records: not on the stack

static void expect_refused_bytes(const unsigned char *data, size_t size, const char *says) {
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    cr_expect_eq(model_parse(&m, copy, size, err, sizeof err), -1, "accepted; wanted \"%s\"", says);
    cr_expect(strstr(err, says) != NULL, "error \"%s\" does not say \"%s\"", err, says);
    free(copy);
}

static void expect_refused(const struct spec *s, const char *says) {
    size_t size;
    unsigned char *d = make_file(s, 7, &size);
    expect_refused_bytes(d, size, says);
    free(d);
}

static void load_spec(const struct spec *s, uint64_t seed) {
    size_t size;
    unsigned char *d = make_file(s, seed, &size);
    cr_assert_eq(model_parse(&m, d, size, err, sizeof err), 0, "%s", err);
    free(d);
}

// ---------------------------------------------------------------------------
// The loader

Test(model, loads_a_vit_and_follows_its_shapes) {
    struct spec s = vit(8, 2, 16, 4, 24, 2, 10, 5);
    load_spec(&s, 1);
    cr_expect_eq(m.n_ops, 31);
    cr_expect_eq(m.classes, 10);
    cr_expect_float_eq(m.logit_tol, 1e-3, 1e-9);
    const struct op *patches = &m.op[0], *qkv = &m.op[5], *att = &m.op[6], *mean = &m.op[28];
    cr_expect(patches->out_rows == 16 && patches->out_cols == 4, "PATCHES 2 of 8x8: (16, 4)");
    cr_expect(qkv->out_rows == 16 && qkv->out_cols == 48);
    cr_expect(att->rows == 16 && att->cols == 48 && att->out_cols == 16, "ATTENTION: (16, 48) -> (16, 16)");
    cr_expect(mean->out_rows == 1 && mean->out_cols == 16);
    for (int i = 0; i < m.n_ops; i++) {
        const struct op *o = &m.op[i];
        if (o->kind != OP_DENSE) continue;
        cr_expect_eq((uintptr_t)o->p[0] % 64, 0, "64-byte aligned");
        // the int8 weights scale back to within half a step of the floats
        for (int p = 0; p < o->a; p++)
            for (int j = 0; j < o->b; j++) {
                size_t k = (size_t)p * o->b + j;
                cr_assert(fabsf(o->wq[k] * o->scale[j] - o->p[0][k]) <= 0.5f * o->scale[j] * 1.0001f);
            }
    }
    model_free(&m);
}

Test(model, a_missing_file_is_named) {
    cr_expect_eq(model_load(&m, "/nonexistent/digits.bmml", err, sizeof err), -1);
    cr_expect(strstr(err, "/nonexistent/digits.bmml") && strstr(err, "No such file"), "%s", err);
}

Test(model, refuses_a_wrong_header) {
    struct spec good = mlp(8, 3, 2);
    size_t size;
    unsigned char *d = make_file(&good, 3, &size), *bad = malloc(size);
    struct { size_t at; uint32_t value; const char *says; } cases[] = {
        {0, 0x4c4d4d43, "magic"},                 // "CMML"
        {4, 1, "version 1; this bmml reads version 2"},
        {4, 3, "version 3"},
        {8, 0, "0 ops; the format allows 1 to 256"},
        {8, 257, "257 ops"},
        {8, 0xffffffff, "4294967295 ops"},
        {12, 0, "0 test images"},
        {12, (1u << 24) + 1, "16777217 test images"},
        {12, 3, "shapes in the header need"},     // one image more than the bytes hold
        {16, 0, "input shape (0, 64)"},
        {20, 65537, "input shape (1, 65537)"},
        {24, 1, "1 classes; the format allows 2 to 65536"},
        {24, 4, "the final shape is (1, 3), not (1, 4)"},
        {28, 0x7fc00000, "logit tolerance nan"},
        {28, 0, "logit tolerance 0"},
        {28, 0xbf800000, "logit tolerance -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, d, size);
        put32(bad + cases[i].at, cases[i].value);
        expect_refused_bytes(bad, size, cases[i].says);
    }
    free(bad);
    free(d);
}

// One op changed from a good model: the error names the op and what is wrong with it.
Test(model, refuses_ops_that_do_not_fit) {
    struct { int op; uint32_t kind, a, b, c; const char *says; } cases[] = {
        {1, 0, 0, 0, 0, "op 2: kind 0 is not an operation (1 to 10)"},
        {1, 11, 0, 0, 0, "op 2: kind 11 is not an operation"},
        {1, OP_GELU, 5, 0, 0, "op 2 (GELU): field a is 5; GELU does not use it, so it must be 0"},
        {3, OP_SOFTMAX, 0, 0, 1, "op 4 (SOFTMAX): field c is 1"},
        {0, OP_DENSE, 64, 8, 0, "op 1 (DENSE): role 0; the roles are 1 to 4"},
        {0, OP_DENSE, 64, 8, 5, "op 1 (DENSE): role 5"},
        {0, OP_DENSE, 63, 8, 3, "op 1 (DENSE): takes 63 inputs but the activation (1, 64) has 64 columns"},
        {0, OP_DENSE, 64, 0, 3, "op 1 (DENSE): shape 64 x 0; each side must be 1 to 65536"},
        {0, OP_DENSE, 64, 65537, 3, "op 1 (DENSE): shape 64 x 65537"},
        {2, OP_DENSE, 7, 3, 4, "op 3 (DENSE): takes 7 inputs but the activation (1, 8) has 8 columns"},
        {1, OP_SOFTMAX, 0, 0, 0, "op 2: SOFTMAX before the last op"},
        {3, OP_GELU, 0, 0, 0, "the last op is GELU, not SOFTMAX"},
        {1, OP_LAYERNORM, 7, 0, 0, "op 2 (LAYERNORM): 7 columns but the activation (1, 8) has 8"},
        {1, OP_PATCHES, 3, 0, 0, "op 2 (PATCHES): patches of 3 do not divide the activation (1, 8)"},
        {1, OP_PATCHES, 0, 0, 0, "op 2 (PATCHES): patches of 0 do not divide"},
        {1, OP_ADD_POS, 1, 7, 0, "op 2 (ADD_POS): positions (1, 7) but the activation is (1, 8)"},
        {1, OP_ADD, 0, 0, 0, "op 2 (ADD): the residual stack is empty"},
        {1, OP_SAVE, 0, 0, 0, "1 saved activation left on the residual stack at the end"},
        {1, OP_ATTENTION, 0, 0, 0, "op 2 (ATTENTION): 0 heads"},
        {1, OP_ATTENTION, 1, 0, 0, "op 2 (ATTENTION): the activation's 8 columns are not 3 x D"},
        {1, OP_MEAN, 0, 0, 0, NULL}, // not an error: MEAN of one row is that row
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct spec s = mlp(8, 3, 2);
        uint32_t *o = s.op[cases[i].op];
        o[0] = cases[i].kind, o[1] = cases[i].a, o[2] = cases[i].b, o[3] = cases[i].c;
        if (!cases[i].says) {
            size_t size;
            unsigned char *d = make_file(&s, 7, &size);
            cr_expect_eq(model_parse(&m, d, size, err, sizeof err), 0, "%s", err);
            model_free(&m);
            free(d);
            continue;
        }
        expect_refused(&s, cases[i].says);
    }
}

// Fields of 2^31 or more, negative as int, are out of range, not below it:
// written into a good file's op records (the file's size is then wrong
// too, which the loader must not get to first).
Test(model, refuses_fields_of_2_31_or_more) {
    struct { int op; uint32_t kind, a, b, c; const char *says; } cases[] = {
        {0, OP_DENSE, 0x80000000, 8, 3, "op 1 (DENSE): shape 2147483648 x 8; each side must be 1 to 65536"},
        {0, OP_DENSE, 64, 0xffffffc0, 3, "op 1 (DENSE): shape 64 x 4294967232; each side"},
        {2, OP_DENSE, 8, 0x80000000, 4, "op 3 (DENSE): shape 8 x 2147483648; each side"},
        {0, OP_DENSE, 64, 8, 0x80000000, "op 1 (DENSE): role 2147483648; the roles are 1 to 4"},
        {1, OP_PATCHES, 0xffffffc0, 0, 0, "op 2 (PATCHES): patches of 4294967232 do not divide"},
        {1, OP_ATTENTION, 0x80000000, 0, 0, "op 2 (ATTENTION): 2147483648 heads; there must be 1 to 65536"},
    };
    struct spec good = mlp(8, 3, 2);
    size_t size;
    unsigned char *d = make_file(&good, 3, &size), *bad = malloc(size);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, d, size);
        uint32_t rec[4] = {cases[i].kind, cases[i].a, cases[i].b, cases[i].c};
        for (int k = 0; k < 4; k++) put32(bad + 32 + 16 * cases[i].op + 4 * k, rec[k]);
        expect_refused_bytes(bad, size, cases[i].says);
    }
    free(bad);
    free(d);
}

Test(model, refuses_a_broken_residual_stack_or_attention) {
    struct spec s = vit(8, 2, 12, 3, 8, 1, 4, 2);
    expect_refused(&(struct spec){0}, "0 ops"); // nothing at all
    // ADD of a saved (16, 12) to the (16, 36) of the qkv projection, in ATTENTION's place
    struct spec t = s;
    memcpy(t.op[6], (uint32_t[4]){OP_ADD, 0, 0, 0}, 16);
    expect_refused(&t, "op 7 (ADD): adds a saved (16, 12) to the activation (16, 36)");
    // five SAVEs in a row
    t = s;
    for (int i = 3; i < 8; i++) memcpy(t.op[i], (uint32_t[4]){OP_SAVE, 0, 0, 0}, 16);
    expect_refused(&t, "op 8 (SAVE): the residual stack is full (4 saved)");
    // D = 12 is not divisible by 5 heads; 3 heads of 4 are fine (s itself loads)
    t = s;
    t.op[6][1] = 5;
    expect_refused(&t, "op 7 (ATTENTION): the activation's 36 columns are not 3 x D with D divisible by 5 heads");
    // patches of 3 do not divide 8 x 8
    t = s;
    t.op[0][1] = 3;
    expect_refused(&t, "op 1 (PATCHES): patches of 3 do not divide the activation (8, 8)");
    // scores of 256 heads x 4096 x 4096 are more than 2^24 values
    struct spec big = {.n_ops = 3, .op = {{OP_ATTENTION, 256}, {OP_MEAN}, {OP_SOFTMAX}}, .n_test = 1, .in_rows = 4096,
                       .in_cols = 768, .classes = 3, .tol = 1e-3f};
    expect_refused(&big, "op 1 (ATTENTION): 256 heads x 4096 x 4096 scores are more than 16777216 values");
    load_spec(&s, 2);
    model_free(&m);
}

Test(model, refuses_a_truncated_or_padded_file) {
    struct spec s = vit(4, 2, 6, 2, 4, 1, 3, 2);
    size_t size;
    unsigned char *d = make_file(&s, 5, &size);
    size_t cuts[] = {0, 3, 4, 31, 32, 33, 100, 32 + 16 * (size_t)s.n_ops, size / 2, size - 4, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) expect_refused_bytes(d, cuts[i], "truncated");
    unsigned char *longer = malloc(size + 1);
    memcpy(longer, d, size);
    longer[size] = 0;
    expect_refused_bytes(longer, size + 1, "do not match the file");
    // the largest shapes the limits allow: far more bytes than the file has, and no overflow on the way
    struct spec wide = {.n_ops = 4, .op = {{OP_DENSE, 65536, 65536, ROLE_MLP}, {OP_DENSE, 65536, 65536, ROLE_MLP},
                                           {OP_DENSE, 65536, 3, ROLE_HEAD}, {OP_SOFTMAX}},
                        .n_test = 1, .in_rows = 1, .in_cols = 65536, .classes = 3, .tol = 1};
    unsigned char head[32 + 64];
    memcpy(head, "BMML", 4);
    uint32_t h[] = {2, 4, 1u << 24, 1, 65536, 3};
    for (int i = 0; i < 6; i++) put32(head + 4 + 4 * i, h[i]);
    putf(head + 28, 1);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) put32(head + 32 + 16 * i + 4 * k, wide.op[i][k]);
    expect_refused_bytes(head, sizeof head, "truncated: 96 bytes, the shapes in the header need 4432474669164");
    free(longer);
    free(d);
}

Test(model, refuses_values_a_model_cannot_hold) {
    struct spec s = mlp(8, 3, 4);
    size_t size, weights = 32 + 16 * 4, images = weights + 4 * (64 * 8 + 8 + 8 * 3 + 3);
    unsigned char *d = make_file(&s, 9, &size);
    put32(d + weights + 4 * 100, 0x7fc00000); // NaN
    expect_refused_bytes(d, size, "op 1 (DENSE) weights: value 100 is not a finite number");
    free(d);
    d = make_file(&s, 9, &size);
    put32(d + weights + 4 * (64 * 8 + 8 + 24 + 2), 0xff800000); // -inf
    expect_refused_bytes(d, size, "op 3 (DENSE) biases: value 2 is not a finite number");
    free(d);
    d = make_file(&s, 9, &size);
    put32(d + images + 4 * 7, 0x7f800000); // +inf
    expect_refused_bytes(d, size, "test images: value 7");
    free(d);
    d = make_file(&s, 9, &size);
    put32(d + size - 4, 3);
    expect_refused_bytes(d, size, "label of test image 3 is 3, not a class in 0..2");
    free(d);
    struct spec v = vit(4, 2, 6, 2, 4, 1, 3, 2);
    d = make_file(&v, 9, &size);
    put32(d + 32 + 16 * v.n_ops + 4 * (4 * 6 + 6 + 4 * 6 + 1), 0x7fc00000); // LayerNorm's second gamma
    expect_refused_bytes(d, size, "op 5 (LAYERNORM) gamma: value 1 is not a finite number");
    free(d);
}

Test(model, a_truncated_file_on_disk_is_named) {
    struct spec s = mlp(8, 3, 2);
    size_t size;
    unsigned char *d = make_file(&s, 3, &size);
    char path[] = "/tmp/bmml-model-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, d, 100), 100);
    close(fd);
    cr_expect_eq(model_load(&m, path, err, sizeof err), -1);
    cr_expect(strstr(err, path) && strstr(err, "truncated"), "%s", err);
    unlink(path);
    free(d);
}

// ---------------------------------------------------------------------------
// The interpreter against a forward pass in double precision, written here
// from the format's definitions, one image at a time

static double gelu_d(double x) { return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }

// logits (n_test, classes) of model m
static void reference_forward(const struct model *md, double *logits) {
    size_t most = (size_t)md->in_rows * md->in_cols;
    for (int i = 0; i < md->n_ops; i++)
        if ((size_t)md->op[i].rows * md->op[i].cols > most) most = (size_t)md->op[i].rows * md->op[i].cols;
    double *a = malloc(most * 8), *b = malloc(most * 8), *stack[MODEL_MAX_STACK];
    for (int k = 0; k < MODEL_MAX_STACK; k++) stack[k] = malloc(most * 8);
    for (int img = 0; img < md->n_test; img++) {
        int r = md->in_rows, c = md->in_cols, depth = 0;
        for (int j = 0; j < r * c; j++) a[j] = md->x[(size_t)img * r * c + j];
        for (int i = 0; i < md->n_ops; i++) {
            const struct op *o = &md->op[i];
            switch (o->kind) {
            case OP_DENSE:
                for (int t = 0; t < r; t++)
                    for (int j = 0; j < o->b; j++) {
                        double s = o->p[1][j];
                        for (int p = 0; p < o->a; p++) s += a[t * c + p] * o->p[0][(size_t)p * o->b + j];
                        b[t * o->b + j] = s;
                    }
                c = o->b;
                break;
            case OP_GELU:
                for (int j = 0; j < r * c; j++) b[j] = gelu_d(a[j]);
                break;
            case OP_SOFTMAX: // the logits are what the pass compares: leave them
                memcpy(b, a, (size_t)r * c * 8);
                break;
            case OP_LAYERNORM:
                for (int t = 0; t < r; t++) {
                    double mean = 0, var = 0;
                    for (int j = 0; j < c; j++) mean += a[t * c + j] / c;
                    for (int j = 0; j < c; j++) var += (a[t * c + j] - mean) * (a[t * c + j] - mean) / c;
                    for (int j = 0; j < c; j++)
                        b[t * c + j] = (a[t * c + j] - mean) / sqrt(var + 1e-5) * o->p[0][j] + o->p[1][j];
                }
                break;
            case OP_PATCHES: {
                int p = o->a, k = 0;
                for (int pr = 0; pr < r / p; pr++)
                    for (int pc = 0; pc < c / p; pc++)
                        for (int y = 0; y < p; y++)
                            for (int x = 0; x < p; x++) b[k++] = a[(pr * p + y) * c + pc * p + x];
                r = (r / p) * (c / p), c = p * p;
                break;
            }
            case OP_ADD_POS:
                for (int j = 0; j < r * c; j++) b[j] = a[j] + o->p[0][j];
                break;
            case OP_SAVE:
                memcpy(stack[depth++], a, (size_t)r * c * 8);
                memcpy(b, a, (size_t)r * c * 8);
                break;
            case OP_ADD:
                depth--;
                for (int j = 0; j < r * c; j++) b[j] = a[j] + stack[depth][j];
                break;
            case OP_ATTENTION: {
                int d = c / 3, dim = d / o->a;
                double *s = malloc((size_t)r * 8);
                for (int h = 0; h < o->a; h++)
                    for (int t = 0; t < r; t++) {
                        double mx = -INFINITY, sum = 0;
                        for (int u = 0; u < r; u++) {
                            double dot = 0;
                            for (int k = 0; k < dim; k++) dot += a[t * c + h * dim + k] * a[u * c + d + h * dim + k];
                            s[u] = dot / sqrt((double)dim);
                            mx = fmax(mx, s[u]);
                        }
                        for (int u = 0; u < r; u++) sum += s[u] = exp(s[u] - mx);
                        for (int k = 0; k < dim; k++) {
                            double v = 0;
                            for (int u = 0; u < r; u++) v += s[u] / sum * a[u * c + 2 * d + h * dim + k];
                            b[t * d + h * dim + k] = v;
                        }
                    }
                free(s);
                c = d;
                break;
            }
            case OP_MEAN:
                for (int j = 0; j < c; j++) {
                    double s = 0;
                    for (int t = 0; t < r; t++) s += a[t * c + j];
                    b[j] = s / r;
                }
                r = 1;
                break;
            }
            double *swap = a;
            a = b, b = swap;
        }
        memcpy(logits + (size_t)img * md->classes, a, (size_t)md->classes * 8);
    }
    for (int k = 0; k < MODEL_MAX_STACK; k++) free(stack[k]);
    free(a), free(b);
}

// Odd sizes: 6x6 images in patches of 2 (9 tokens), width 15 in 3 heads of
// 5, MLP width 7, 3 blocks, 7 classes, 13 images in batches of 5, 5 and 3.
// Every tier's fp32 logits stay within 2e-5 of the double pass's: float32
// rounding (2^-24 relative) through dot products of at most 15 terms of
// order-1 values, over about 40 ops, leaves errors of order 1e-6; a wrong
// index or a step left out moves a logit by 1e-2 or more.
#define ODD_VIT vit(6, 2, 15, 3, 7, 3, 7, 13)
#define ODD_BATCH 5
#define ODD_TOL 2e-5

OVER_TIERS(model, interpreter_matches_a_double_forward_pass) {
    struct spec s = ODD_VIT;
    load_spec(&s, 11);
    size_t n = (size_t)m.n_test * m.classes;
    float *logits = malloc(n * 4), *probs = malloc(n * 4);
    double *ref = malloc(n * 8), cat[N_CATEGORIES], pass;
    int rc = model_forward(&m, *t, 0, cpu_features(CAP_AVX512), ODD_BATCH, logits, probs, cat, &pass, err, sizeof err);
    if (rc < 0 && strstr(err, "not")) cr_skip_test("%s: %s", tier_names[*t], err);
    cr_assert_eq(rc, 0, "%s", err);
    reference_forward(&m, ref);
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(logits[i] - ref[i]));
    cr_expect_leq(worst, ODD_TOL, "%s: a logit off by %g", tier_names[*t], worst);
    cr_expect_gt(worst, 0, "the float pass differs from the double one somewhere (a pass that compared nothing?)");
    for (int img = 0; img < m.n_test; img++) { // the probabilities are the logits' softmax
        const double *l = ref + (size_t)img * m.classes;
        double mx = l[0], sum = 0;
        for (int j = 1; j < m.classes; j++) mx = fmax(mx, l[j]);
        for (int j = 0; j < m.classes; j++) sum += exp(l[j] - mx);
        for (int j = 0; j < m.classes; j++)
            cr_expect_leq(fabs(probs[(size_t)img * m.classes + j] - exp(l[j] - mx) / sum), 1e-5, "image %d class %d",
                          img, j);
    }
    free(logits), free(probs), free(ref);
    model_free(&m);
}

// The int8 path on a model where quantization loses nothing: integer pixels
// whose row's largest is 127, integer weights whose column's largest is
// 127, integer biases. Both scales are then 1, the int32 sums are exact, and
// so are the float ones (integers below 2^24): int8 gives the fp32 logits
// bit for bit, in every tier; and it runs its own weights, not fp32's.
OVER_TIERS(model, int8_is_exact_where_quantization_loses_nothing) {
    struct spec s = {.n_ops = 2, .op = {{OP_DENSE, 16, 5, ROLE_HEAD}, {OP_SOFTMAX}}, .n_test = 9, .in_rows = 1,
                     .in_cols = 16, .classes = 5, .tol = 1e-3f};
    size_t size;
    unsigned char *d = make_file(&s, 4, &size);
    uint64_t seed = 5;
    for (int i = 0; i < 16 * 5 + 5 + 9 * 16; i++) { // the weights, biases and pixels in order
        int v = (int)(splitmix64(&seed) % 255) - 127;
        int col = i < 80 ? i % 5 : -1, row_start = i >= 85 && (i - 85) % 16 == 0;
        if ((i < 80 && i / 5 == col) || row_start) v = i < 80 && col % 2 ? -127 : 127; // each column's, each row's largest
        putf(d + 32 + 32 + 4 * i, (float)v);
    }
    cr_assert_eq(model_parse(&m, d, size, err, sizeof err), 0, "%s", err);
    free(d);
    size_t n = 9 * 5;
    float l32[45], p32[45], l8[45], p8[45];
    double cat[N_CATEGORIES], pass;
    unsigned cpu = cpu_features(CAP_AVX512);
    int rc = model_forward(&m, *t, 1, cpu, 4, l8, p8, cat, &pass, err, sizeof err);
    if (rc < 0 && strstr(err, "not")) cr_skip_test("%s int8: %s", tier_names[*t], err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(model_forward(&m, *t, 0, cpu, 4, l32, p32, cat, &pass, err, sizeof err), 0, "%s", err);
    for (size_t i = 0; i < n; i++) cr_expect_eq(l8[i], l32[i], "logit %zu: int8 %g, fp32 %g", i, l8[i], l32[i]);
    // the int8 weights were derived on loading: a float weight changed now
    // moves the fp32 logits and leaves int8's as they were, so a tier that
    // ran fp32 where int8 was asked for shows here
    m.op[0].p[0][0] += 0.5f;
    float l8b[45], l32b[45];
    cr_assert_eq(model_forward(&m, *t, 1, cpu, 4, l8b, p8, cat, &pass, err, sizeof err), 0, "%s", err);
    cr_assert_eq(model_forward(&m, *t, 0, cpu, 4, l32b, p32, cat, &pass, err, sizeof err), 0, "%s", err);
    int moved = 0;
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(l8b[i], l8[i], "logit %zu: int8 moved with a float weight", i);
        moved += l32b[i] != l32[i];
    }
    cr_expect_gt(moved, 0, "the fp32 logits moved");
    model_free(&m);
}

// The int8 path quantizes a DENSE's input with the steps' quantize_rows, in
// each build: it must give quantize_i8's int8 values and scales, ties to
// even, on rows of zeros and with a NaN (fmaxf ignores it) included.
static void quantize_rows_as_quantize_i8(const struct model_steps *build, const char *name) {
    enum { ROWS = 6, N = 37 };
    float x[ROWS * N], want_s[ROWS], got_s[ROWS];
    int8_t want[ROWS * N], got[ROWS * N];
    uint64_t seed = 0x9a27;
    for (int i = 0; i < ROWS * N; i++) x[i] = (float)(splitmix64(&seed) >> 40) / (1 << 24) * 6 - 3; // [-3, 3)
    for (int j = 0; j < N; j++) x[N + j] = 0; // row 1: zeros, scale 1
    // row 2: max 127, so x / scale is x itself: halves are ties
    for (int j = 0; j < N; j++) x[2 * N + j] = j == 0 ? 127.0f : (float)(j % 9) - 4.5f;
    x[3 * N + 5] = NAN;
    quantize_i8(want, want_s, x, ROWS, N, N, 1);
    build->quantize_rows(got, got_s, x, ROWS, N);
    for (int i = 0; i < ROWS; i++)
        cr_expect_eq(got_s[i], want_s[i], "%s build, row %d: scale %g, want %g", name, i, got_s[i], want_s[i]);
    for (int i = 0; i < ROWS * N; i++) {
        if (i == 3 * N + 5) continue; // the NaN's own int8 means nothing, in either
        cr_expect_eq(got[i], want[i], "%s build, [%d]: x %g -> %d, want %d", name, i, x[i], got[i], want[i]);
    }
}

Test(model, the_scalar_steps_quantize_rows_as_quantize_i8) {
    quantize_rows_as_quantize_i8(&model_steps_scalar, "scalar");
}

Test(model, the_autovec_steps_quantize_rows_as_quantize_i8) {
#if HAVE_AVX2
    if ((cpu_features(CAP_AVX2) & AVX2_FMA) != AVX2_FMA) cr_skip_test("the autovec build: this CPU lacks AVX2 and FMA");
    quantize_rows_as_quantize_i8(&model_steps_autovec, "autovec");
#else
    cr_skip_test("the autovec build: not built (the compiler lacks AVX2)");
#endif
}

// The bookkeeping: every step's time lands in its op's category, none in a
// category the model has no op of, and the parts stay within the pass.
Test(model, the_time_per_operation_adds_up_to_the_pass) {
    struct spec s = vit(8, 2, 32, 4, 64, 2, 10, 60);
    load_spec(&s, 12);
    size_t n = (size_t)m.n_test * m.classes;
    float *logits = malloc(n * 4), *probs = malloc(n * 4);
    double cat[N_CATEGORIES], pass, sum = 0;
    cr_assert_eq(model_forward(&m, T_SCALAR, 0, cpu_features(CAP_AVX512), 20, logits, probs, cat, &pass, err,
                               sizeof err), 0, "%s", err);
    for (int k = 0; k < N_CATEGORIES; k++) {
        cr_expect_gt(cat[k], 0, "%s: a ViT has ops of every category", category_names[k]);
        sum += cat[k];
    }
    cr_expect_leq(sum, pass, "the steps lie within the pass");
    // the steps are milliseconds, the clock reads between them some microseconds
    cr_expect_geq(sum, 0.9 * pass, "the steps %g ns of a pass of %g ns", sum, pass);
    model_free(&m);

    // the perceptron: matmuls, GELU and the head, nothing else
    struct spec p = mlp(32, 10, 30);
    load_spec(&p, 13);
    cr_assert_eq(model_forward(&m, T_SCALAR, 0, cpu_features(CAP_AVX512), 7, logits, probs, cat, &pass, err,
                               sizeof err), 0, "%s", err);
    for (int k = 0; k < N_CATEGORIES; k++) {
        int has = k == CAT_MLP_MATMUL || k == CAT_GELU || k == CAT_HEAD;
        if (has) cr_expect_gt(cat[k], 0, "%s", category_names[k]);
        else cr_expect_eq(cat[k], 0, "%s: the perceptron has no such op", category_names[k]);
    }
    free(logits), free(probs);
    model_free(&m);
}

// model.py's attn_scores scales by 1 / sqrt(dim) rounded to float32, as the
// C tiers do: a float32 score times a float32 scale is exact in double, so
// its one rounding gives the C tiers' float product bit for bit. Scores
// that are the q values themselves (kt's first row 1, the rest 0) over
// dim 3, whose 1 / sqrt(3) float32 does not hold exactly: with the scale
// left in double, some of the 64 products round the other way.
Test(model, python_scales_the_scores_as_the_c_tiers) {
    enum { T = 64, DIM = 3 };
    static float q[T * DIM], kt[DIM * T], sc[T * T];
    uint64_t seed = 8;
    for (int t = 0; t < T; t++) q[t * DIM] = (float)((splitmix64(&seed) >> 40) * 0x1p-20 - 8), kt[t] = 1;
    cr_assert_eq(embed_start(PYSCRIPTS, err, sizeof err), 0, "embed_start: %s", err);
    cr_assert_eq(embed_import("model", err, sizeof err), 0, "%s", err);
    struct py_arg args[] = {{ARG_VIEW, sc, T * T, 'f', 0}, {ARG_VIEW, q, T * DIM, 'f', 0}, {ARG_VIEW, kt, DIM * T, 'f', 0},
                            {ARG_INT, NULL, 0, 0, 1}, {ARG_INT, NULL, 0, 0, T}, {ARG_INT, NULL, 0, 0, DIM}};
    struct py_call *call = embed_call_new("model", "attn_scores", args, 6, err, sizeof err);
    cr_assert_not_null(call, "%s", err);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_assert_eq(embed_call_free(call), 0);
    float scale = (float)(1 / sqrt((double)DIM));
    for (int t = 0; t < T; t++)
        for (int u = 0; u < T; u++)
            cr_expect_eq(sc[t * T + u], q[t * DIM] * scale, "score (%d, %d): %.9g, not %.9g", t, u, sc[t * T + u],
                         q[t * DIM] * scale);
    embed_stop();
}

// A model that cannot be loaded is said and the rest of the plan's models
// run: exit status 3 at the end, not the others skipped.
Test(model, a_model_that_does_not_load_leaves_the_others_to_run) {
    struct spec s = mlp(8, 3, 4);
    char bad[32], good[32];
    struct spec refused = s;
    refused.n_test = 0; // 0 test images
    cr_assert_eq(write_model(&refused, 1, bad), 0);
    cr_assert_eq(write_model(&s, 1, good), 0);
    static struct plan p;
    p.model_path[0] = bad, p.model_path[1] = good, p.n_models = 2;
    struct run_config cfg = {.seed = 42, .min_time = 0.001, .max_time = 10, .repetitions = 1, .threads = 1,
                             .cpu = cpu_features(CAP_AVX512), .tiers = 1u << T_SCALAR};
    static struct model_result r[MODEL_DEFAULTS];
    int n = -1;
    cr_expect_eq(run_models(&p, 0, &cfg, r, &n), 3);
    unlink(bad), unlink(good);
    cr_assert_eq(n, 1, "the good model ran");
    cr_expect_str_eq(r[0].path, good);
    cr_expect_eq(r[0].tiers[0].r.status, ST_OK, "%s", r[0].tiers[0].r.note);
}

// sample_tier's calibration runs passes before the timed ones (many here: a
// pass far shorter than min_time / 30); the time per operation is taken over
// the timed passes alone, the median of each category and of the pass.
Test(model, the_time_per_operation_leaves_the_warm_ups_out) {
    struct spec s = mlp(8, 3, 4);
    char path[32];
    cr_assert_eq(write_model(&s, 14, path), 0);
    struct run_config cfg = {.seed = 42, .min_time = 0.05, .max_time = 10, .repetitions = 5, .threads = 1,
                             .cpu = cpu_features(CAP_AVX512), .tiers = 1u << T_SCALAR};
    static struct model_result r;
    int rc = model_run(path, 0, &cfg, &r, err, sizeof err);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    const struct model_tier *t = &r.tiers[0];
    cr_assert(t->r.tier == T_SCALAR && !t->int8 && t->r.status == ST_OK, "%s", t->r.note);
    cr_assert_gt(t->r.iterations, 1, "the calibration ran passes");
    cr_expect_eq(t->op_passes, (long)t->r.repetitions * t->r.iterations);
    cr_expect_eq(r.steps, 4, "one step per op: dense, gelu, dense, softmax_rows");
    double sum = 0;
    for (int k = 0; k < N_CATEGORIES; k++) sum += t->cat_ns[k];
    cr_expect(t->pass_ns > 0 && sum > 0 && sum < 2 * t->pass_ns, "steps %g ns, pass %g ns", sum, t->pass_ns);
}

// ---------------------------------------------------------------------------
// The committed models in every tier against the Python twin's pass

#define DIGITS BMML_SRCDIR "/models/digits.bmml"
#define VIT BMML_SRCDIR "/models/vit.bmml"

// One test per tier and path (int8 only for the native tiers): the Python
// pass is the reference and runs in each.
struct path {
    int tier, int8;
};

#define OVER_PATHS(suite, name)                                                                        \
    ParameterizedTestParameters(suite, name) {                                                        \
        static struct path p[] = {{T_PYTHON, 0},  {T_NUMPY, 0},  {T_SCALAR, 0}, {T_SCALAR, 1},          \
                                  {T_AUTOVEC, 0}, {T_AUTOVEC, 1}, {T_AVX2, 0},  {T_AVX2, 1},           \
                                  {T_AVX512, 0},  {T_AVX512, 1}};                                      \
        return cr_make_param_array(struct path, p, sizeof p / sizeof *p);                              \
    }                                                                                                  \
    ParameterizedTest(struct path *p, suite, name)

// Python, the reference, and the tier of p, the scripts from dir
static struct run_config config_in(struct path p, const char *dir) {
    struct run_config cfg = {.seed = 42, .min_time = 0.001, .max_time = 10, .repetitions = 1, .threads = 1,
                             .cpu = cpu_features(CAP_AVX512), .tiers = 1u << T_PYTHON | 1u << p.tier};
    snprintf(cfg.numpy_note, sizeof cfg.numpy_note, "not imported");
    cr_assert_eq(embed_start(dir, err, sizeof err), 0, "embed_start: %s", err);
    cfg.python = embed_import("kernels", err, sizeof err) == 0;
    cr_assert(cfg.python, "kernels.py: %s", err);
    cfg.numpy = embed_import("numpy_kernels", cfg.numpy_note, sizeof cfg.numpy_note) == 0;
    return cfg;
}

static struct run_config config(struct path p) { return config_in(p, PYSCRIPTS); }

// The path p of r: it ran and agrees with the Python twin, or the test is
// skipped saying why it is unavailable (a tier this CPU or build lacks, no NumPy).
static const struct model_tier *path_agrees(const struct model_result *r, struct path p) {
    cr_assert_geq(r->ref, 0, "no reference pass ran");
    cr_expect_eq(r->tiers[r->ref].r.tier, T_PYTHON, "the reference is the Python pass");
    const struct model_tier *t = NULL;
    for (int i = 0; i < r->n_tiers; i++)
        if (r->tiers[i].r.tier == p.tier && r->tiers[i].int8 == p.int8) t = &r->tiers[i];
    const char *name = tier_names[p.tier], *path = p.int8 ? "int8" : "fp32";
    cr_assert_not_null(t, "%s %s did not run", name, path);
    if (t->r.status == ST_UNAVAILABLE) cr_skip_test("%s %s: %s", name, path, t->r.note);
    cr_expect_eq(t->r.status, ST_OK, "%s %s: %s", name, path, t->r.note);
    cr_expect_gt(t->pass_ns, 0, "%s %s: the time per operation was kept", name, path);
    if (t->int8) return t; // int8 may change a class: it reports, it does not fail
    cr_expect_eq(t->agreement, 1.0, "%s: %d classes differ from Python's", name, t->changed);
    cr_expect_leq(t->max_logit_diff, r->logit_tol, "%s: logits off by %g", name, t->max_logit_diff);
    return t;
}

OVER_PATHS(model, tiers_match_the_python_twin_on_a_few_images_in_batches) {
    // a small ViT-like model of odd sizes, 8 images in batches of 3, 3 and 2
    struct spec s = vit(6, 3, 10, 2, 6, 1, 4, 8);
    char path[32];
    cr_assert_eq(write_model(&s, 21, path), 0, "cannot write %s", path);
    struct run_config cfg = config(*p);
    static struct model_result r;
    int rc = model_run(path, 3, &cfg, &r, err, sizeof err);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_eq(r.n_test, 8);
    cr_expect_eq(r.n_batches, 3);
    path_agrees(&r, *p);
    embed_stop();
}

// A step that keeps slices of its views past its call
// (tests/faulty/model_keeps_view): the tier fails saying so, and the memory
// they reach outlives the model's run, so the script's writes through them
// in the next model's run land in memory nobody else uses (under ASan, a use
// after free would end the test).
Test(model, memory_a_script_keeps_is_never_freed) {
    struct run_config cfg = config_in((struct path){T_SCALAR, 0}, BMML_SRCDIR "/tests/faulty/model_keeps_view");
    struct spec first = mlp(8, 3, 4), second = vit(4, 2, 6, 2, 4, 1, 3, 5);
    char paths[2][32];
    cr_assert_eq(write_model(&first, 1, paths[0]), 0);
    cr_assert_eq(write_model(&second, 2, paths[1]), 0);
    static struct model_result r[2];
    for (int i = 0; i < 2; i++) {
        int rc = model_run(paths[i], 0, &cfg, &r[i], err, sizeof err);
        unlink(paths[i]);
        cr_assert_eq(rc, 0, "%s", err);
        cr_assert(r[i].n_tiers == 3 && r[i].tiers[0].r.tier == T_PYTHON && r[i].tiers[1].r.tier == T_SCALAR);
    }
    const struct tier_result *py = &r[0].tiers[0].r;
    cr_expect_eq(py->status, ST_FAILED, "%s", py->note);
    cr_expect(strstr(py->note, "kept dense's argument 1 past its call") && strstr(py->note, "left to Python"), "%s",
              py->note);
    cr_expect_eq(r[0].tiers[1].r.status, ST_OK, "scalar: %s", r[0].tiers[1].r.note);
    cr_expect_eq(r[1].tiers[0].r.status, ST_OK, "the second model's Python tier kept nothing: %s", r[1].tiers[0].r.note);
    embed_stop();
}

static void committed_model_is_accurate(const char *file, struct path p, double least) {
    if (access(file, R_OK) != 0) cr_skip_test("%s is not there", file);
    struct run_config cfg = config(p);
    static struct model_result r;
    cr_assert_eq(model_run(file, 0, &cfg, &r, err, sizeof err), 0, "%s", err);
    cr_expect_eq(r.batch, 360);
    const struct model_tier *t = path_agrees(&r, p);
    cr_expect_gt(t->accuracy, least, "%s %s %s: accuracy %.4f", r.name, tier_names[p.tier], p.int8 ? "int8" : "fp32",
                 t->accuracy);
    embed_stop();
}

// a trained MLP on this set should clear 95%, the ViT 97% (the bars)
OVER_PATHS(model, committed_digits_model_is_accurate) { committed_model_is_accurate(DIGITS, *p, 0.95); }

// The ViT's Python pass over all 360 images takes seconds, several times per
// run: each path is checked against Python on the first images only, a copy
// of vit.bmml whose test set is cut there (the header's count, the images and
// the labels; the ops and parameters as they are).
#define VIT_CUT 40
static void vit_cut(char *path) {
    FILE *f = fopen(VIT, "rb");
    if (!f) cr_skip_test("%s is not there", VIT);
    static unsigned char data[1 << 20];
    size_t size = fread(data, 1, sizeof data, f);
    fclose(f);
    cr_assert(size > 32 && size < sizeof data, "%s: %zu bytes", VIT, size);
    uint32_t n, in_rows, in_cols;
    memcpy(&n, data + 12, 4), memcpy(&in_rows, data + 16, 4), memcpy(&in_cols, data + 20, 4);
    size_t image = (size_t)in_rows * in_cols * 4, labels = size - 4 * (size_t)n, images = labels - n * image;
    cr_assert_gt(n, VIT_CUT);
    uint32_t cut = VIT_CUT;
    memcpy(data + 12, &cut, 4);
    memmove(data + images + cut * image, data + labels, 4 * (size_t)cut); // the first labels after the first images
    strcpy(path, "/tmp/bmml-vit-cut-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t want = images + cut * image + 4 * (size_t)cut;
    cr_assert_eq(write(fd, data, want), (ssize_t)want);
    close(fd);
}

OVER_PATHS(model, committed_vit_agrees_with_python_on_its_first_images) {
    char path[32];
    vit_cut(path);
    struct run_config cfg = config(*p);
    static struct model_result r;
    int rc = model_run(path, 0, &cfg, &r, err, sizeof err);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect_eq(r.n_test, VIT_CUT);
    path_agrees(&r, *p);
    embed_stop();
}

// Accuracy over the whole test set, in each native path alone (no Python pass)
ParameterizedTestParameters(model, committed_vit_is_accurate) {
    static struct path p[] = {{T_SCALAR, 0}, {T_SCALAR, 1}, {T_AUTOVEC, 0}, {T_AUTOVEC, 1},
                              {T_AVX2, 0},   {T_AVX2, 1},   {T_AVX512, 0},  {T_AVX512, 1}};
    return cr_make_param_array(struct path, p, sizeof p / sizeof *p);
}
ParameterizedTest(struct path *p, model, committed_vit_is_accurate) {
    if (access(VIT, R_OK) != 0) cr_skip_test("%s is not there", VIT);
    struct run_config cfg = {.seed = 42, .min_time = 0.001, .max_time = 10, .repetitions = 1, .threads = 1,
                             .cpu = cpu_features(CAP_AVX512), .tiers = 1u << p->tier};
    static struct model_result r;
    cr_assert_eq(model_run(VIT, 0, &cfg, &r, err, sizeof err), 0, "%s", err);
    const struct model_tier *t = NULL;
    for (int i = 0; i < r.n_tiers; i++)
        if (r.tiers[i].int8 == p->int8) t = &r.tiers[i];
    const char *name = tier_names[p->tier], *kind = p->int8 ? "int8" : "fp32";
    cr_assert_not_null(t, "%s %s did not run", name, kind);
    if (t->r.status == ST_UNAVAILABLE) cr_skip_test("%s %s: %s", name, kind, t->r.note);
    cr_expect_eq(t->r.status, ST_OK, "%s %s: %s", name, kind, t->r.note);
    cr_expect_eq(r.n_test, 360);
    cr_expect_gt(t->accuracy, p->int8 ? 0.95 : 0.97, "vit %s %s: accuracy %.4f", name, kind, t->accuracy);
}
