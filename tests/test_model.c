// The model: its loader on the committed file and on corrupted copies, every
// native forward pass against the Python twin, the committed model's accuracy.
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "embed.h"
#include "model.h"
#include "runner.h"

#define MODEL BMML_SRCDIR "/models/digits.bmml"
#define PYSCRIPTS BMML_SRCDIR "/pyscripts"

static char err[512];

// The committed file's bytes, in a buffer of exactly their size so that
// AddressSanitizer sees a parser that reads one byte too far.
static unsigned char *read_model(size_t *size) {
    FILE *f = fopen(MODEL, "rb");
    cr_assert_not_null(f, "%s", MODEL);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *data = malloc(*size);
    cr_assert_eq(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> 8 * i);
}

// Parse data[0..size) and expect a refusal whose text contains `says`.
static void expect_refused(const unsigned char *data, size_t size, const char *says) {
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    struct model m;
    cr_expect_eq(model_parse(&m, copy, size, err, sizeof err), -1, "accepted; wanted \"%s\"", says);
    cr_expect(strstr(err, says) != NULL, "error \"%s\" does not say \"%s\"", err, says);
    free(copy);
}

Test(model, loads_the_committed_file) {
    struct model m;
    cr_assert_eq(model_load(&m, MODEL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(m.layer[0].n_in, 64);
    cr_expect_eq(m.layer[0].n_out, 128);
    cr_expect_eq(m.layer[1].n_in, 128);
    cr_expect_eq(m.layer[1].n_out, 10);
    cr_expect_eq(m.n_test, 360);
    for (int l = 0; l < MODEL_LAYERS; l++) {
        cr_expect_eq((uintptr_t)m.layer[l].w % 64, 0, "64-byte aligned");
        // the int8 weights scale back to within half a step of the floats
        const struct layer *ly = &m.layer[l];
        for (int p = 0; p < ly->n_in; p++)
            for (int j = 0; j < ly->n_out; j++) {
                size_t i = (size_t)p * ly->n_out + j;
                cr_assert(fabsf(ly->wq[i] * ly->scale[j] - ly->w[i]) <= 0.5f * ly->scale[j] * 1.0001f);
            }
    }
    model_free(&m);
}

Test(model, a_missing_file_is_named) {
    struct model m;
    cr_expect_eq(model_load(&m, "/nonexistent/digits.bmml", err, sizeof err), -1);
    cr_expect(strstr(err, "/nonexistent/digits.bmml") && strstr(err, "No such file"), "%s", err);
}

Test(model, refuses_a_wrong_header) {
    size_t size;
    unsigned char *good = read_model(&size), *bad = malloc(size);
    struct { size_t at; uint32_t value; const char *says; } cases[] = {
        {0, 0x4c4d4d43, "magic"},                  // "CMML"
        {4, 2, "version 2"},
        {4, 0, "version 0"},
        {8, 3, "3 layers"},
        {12, 0, "0 test images"},
        {12, 0xffffffff, "4294967295 test images"},
        {12, 361, "shapes in the header need"},    // one image more than the bytes hold
        {16, 7, "reserved"},
        {20, 0, "layer 1: shape 0 x 128"},
        {20, 65, "shapes in the header need"},
        {24, 129, "layer 2 takes 128 inputs but layer 1 gives 129"},
        {28, 2, "layer 1: activation 2"},
        {40, 1, "layer 2: activation 1"},
        {36, 11, "shapes in the header need"},
        // as large as the limits allow: the size arithmetic must not wrap
        {20, 65536, "truncated: 132084 bytes, the shapes in the header need 127933428"},
        {20, 0xffffffff, "each side must be 1 to 65536"},
        {24, 0x80000000, "each side must be 1 to 65536"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, size);
        put32(bad + cases[i].at, cases[i].value);
        expect_refused(bad, size, cases[i].says);
    }
    // the largest shapes the limits allow, consistent with each other: far more bytes than the file has
    memcpy(bad, good, size);
    put32(bad + 12, 1u << 24);
    put32(bad + 20, 65536), put32(bad + 24, 65536), put32(bad + 32, 65536), put32(bad + 36, 65536);
    expect_refused(bad, size, "truncated");
    free(bad);
    free(good);
}

Test(model, refuses_a_truncated_or_padded_file) {
    size_t size;
    unsigned char *good = read_model(&size);
    size_t cuts[] = {0, 3, 4, 19, 20, 30, 43, 44, 45, 1000, size / 2, size - 4, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) expect_refused(good, cuts[i], "truncated");
    unsigned char *longer = malloc(size + 1);
    memcpy(longer, good, size);
    longer[size] = 0;
    expect_refused(longer, size + 1, "do not match the file");
    free(longer);
    free(good);
}

Test(model, refuses_values_a_model_cannot_hold) {
    size_t size;
    unsigned char *good = read_model(&size);
    size_t weights = 44, biases = weights + 64 * 128 * 4, images = biases + 128 * 4 + 128 * 10 * 4 + 10 * 4;
    put32(good + weights + 4 * 100, 0x7fc00000); // NaN
    expect_refused(good, size, "layer 1 weights: value 100 is not a finite number");
    free(good);
    good = read_model(&size);
    put32(good + images + 4 * 7, 0x7f800000); // +inf
    expect_refused(good, size, "test images: value 7");
    free(good);
    good = read_model(&size);
    put32(good + size - 4, 10);
    expect_refused(good, size, "label of test image 359 is 10");
    free(good);
}

Test(model, a_truncated_file_on_disk_is_named) {
    size_t size;
    unsigned char *good = read_model(&size);
    char path[] = "/tmp/bmml-model-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, good, 100), 100);
    close(fd);
    struct model m;
    cr_expect_eq(model_load(&m, path, err, sizeof err), -1);
    cr_expect(strstr(err, path) && strstr(err, "truncated"), "%s", err);
    unlink(path);
    free(good);
}

// ---------------------------------------------------------------------------
// The forward pass in every tier against the Python twin

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

// Python, the reference, and the tier of p
static struct run_config config(struct path p) {
    struct run_config cfg = {.seed = 42, .min_time = 0.001, .max_time = 10, .repetitions = 1, .threads = 1,
                             .cpu = cpu_features(CAP_AVX512), .tiers = 1u << T_PYTHON | 1u << p.tier};
    snprintf(cfg.numpy_note, sizeof cfg.numpy_note, "not imported");
    cr_assert_eq(embed_start(PYSCRIPTS, err, sizeof err), 0, "embed_start: %s", err);
    cfg.python = embed_import("kernels", err, sizeof err) == 0;
    cr_assert(cfg.python, "kernels.py: %s", err);
    cfg.numpy = embed_import("numpy_kernels", cfg.numpy_note, sizeof cfg.numpy_note) == 0;
    return cfg;
}

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
    if (t->int8) return t; // int8 may change a class: it reports, it does not fail
    cr_expect_eq(t->agreement, 1.0, "%s: %d classes differ from Python's", name, t->changed);
    cr_expect_leq(t->max_logit_diff, MODEL_LOGIT_TOL, "%s: logits off by %g", name, t->max_logit_diff);
    return t;
}

OVER_PATHS(model, native_tiers_match_the_python_twin_on_a_few_images) {
    // the committed model with its first 8 test images: batches of 3, 3 and 2
    size_t size;
    unsigned char *data = read_model(&size);
    size_t params = 44 + (64 * 128 + 128 + 128 * 10 + 10) * 4, n = 8;
    memmove(data + params + n * 64 * 4, data + params + 360 * 64 * 4, n * 4); // the labels follow the images
    put32(data + 12, (uint32_t)n);
    char path[] = "/tmp/bmml-model-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t small = params + n * 64 * 4 + n * 4;
    cr_assert_eq(write(fd, data, small), (ssize_t)small);
    close(fd);
    free(data);

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

OVER_PATHS(model, committed_model_is_accurate) {
    struct run_config cfg = config(*p);
    static struct model_result r;
    cr_assert_eq(model_run(MODEL, 0, &cfg, &r, err, sizeof err), 0, "%s", err);
    cr_expect_eq(r.batch, 360);
    const struct model_tier *t = path_agrees(&r, *p);
    // a trained MLP on this set should clear 95% (the bar)
    cr_expect_gt(t->accuracy, 0.95, "%s %s: accuracy %.4f", tier_names[p->tier], p->int8 ? "int8" : "fp32",
                 t->accuracy);
    embed_stop();
}
