// The embedded interpreter: shared memory, the twins against the references,
// and a script's errors caught without ending the host.
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "embed.h"
#include "kernels.h"
#include "buffers.h"

#define PYSCRIPTS BMML_SRCDIR "/pyscripts"
#define PROBES BMML_SRCDIR "/tests/scripts"

static char err[512];

static void start(const char *dir) {
    cr_assert_eq(embed_start(dir, err, sizeof err), 0, "embed_start: %s", err);
}

static struct py_call *probe(const char *name, float *out, float *x, size_t n) {
    struct py_arg args[3] = {
        {ARG_VIEW, out, n, 'f', 0},
        {ARG_VIEW, x, n, 'f', 0},
        {ARG_INT, NULL, 0, 0, (long)n},
    };
    struct py_call *call = embed_call_new("probe", name, args, 3, err, sizeof err);
    cr_assert_not_null(call, "probe.%s: %s", name, err);
    return call;
}

Test(embed, memoryview_shares_memory_both_ways) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("write_marker", out, x, 4);
    x[0] = 5.0f; // written by C after the view was made: Python must see it
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect_eq(out[0], 42.0f, "what Python wrote is at the C address");
    cr_expect_eq(out[1], 6.0f, "Python read what C wrote, with no copy in between");
    embed_call_free(call);
    embed_stop();
}

Test(embed, views_have_the_element_format) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("formats", out, x, 4);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect_eq(out[0], (float)'f');
    cr_expect_eq(out[1], 4.0f, "len(view) counts elements, not bytes");
    cr_expect_eq(out[2], 0.0f, "views are writable");
    embed_call_free(call);
    embed_stop();
}

Test(embed, a_kept_view_is_released_after_the_case) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("keep_view", out, x, 4);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect_eq(embed_call_free(call), 0u, "a released view holds nothing");
    // the memory is the host's again: from Python the view must be dead
    struct py_call *check = embed_call_new("probe", "use_kept_view", NULL, 0, err, sizeof err);
    cr_assert_not_null(check, "%s", err);
    cr_assert_eq(embed_call(check, err, sizeof err), 0, "%s", err);
    embed_call_free(check);
    cr_expect_eq(out[0], 0.0f, "the released view wrote nothing");
    embed_stop();
}

// A slice shares the view's buffer, and the view's release does not reach
// it: the host must learn that the memory is still Python's.
Test(embed, a_kept_slice_is_reported_and_its_memory_stays_valid) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("keep_slice", out, x, 4);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect_eq(embed_call_free(call), 1u, "out (argument 0) is still reached by the slice");
    // out is alive (this frame's), as the caller must keep it: the write lands there
    struct py_call *use = embed_call_new("probe", "use_kept_slice", NULL, 0, err, sizeof err);
    cr_assert_not_null(use, "%s", err);
    cr_assert_eq(embed_call(use, err, sizeof err), 0, "%s", err);
    cr_expect_eq(embed_call_free(use), 0u);
    cr_expect_eq(out[0], 3.0f);
    embed_stop();
}

Test(embed, the_memory_behind_a_finished_call_gives_no_new_views) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("keep_exporter", out, x, 4);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect_eq(embed_call_free(call), 0u, "the object alone exports nothing");
    struct py_call *check = embed_call_new("probe", "view_kept_exporter", NULL, 0, err, sizeof err);
    cr_assert_not_null(check, "%s", err);
    cr_expect_eq(embed_call(check, err, sizeof err), 0, "%s", err);
    embed_call_free(check);
    embed_stop();
}

Test(embed, an_exception_is_reported_not_fatal) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("raise_error", out, x, 4);
    cr_expect_eq(embed_call(call, err, sizeof err), -1);
    cr_expect(strstr(err, "RuntimeError: raised on purpose") != NULL, "err: %s", err);
    embed_call_free(call);
    embed_stop();
}

Test(embed, system_exit_does_not_end_the_host) {
    start(PROBES);
    float out[4] = {0}, x[4] = {0};
    struct py_call *call = probe("call_exit", out, x, 4);
    cr_expect_eq(embed_call(call, err, sizeof err), -1);
    cr_expect(strstr(err, "SystemExit") != NULL, "err: %s", err);
    embed_call_free(call);
    embed_stop(); // reached: the process is still ours
}

Test(embed, a_missing_function_is_named) {
    start(PROBES);
    cr_expect_null(embed_call_new("probe", "no_such_kernel", NULL, 0, err, sizeof err));
    cr_expect(strstr(err, "no_such_kernel") != NULL, "err: %s", err);
    embed_stop();
}

Test(embed, a_missing_module_is_named) {
    start(PROBES);
    cr_expect_eq(embed_import("no_such_module", err, sizeof err), -1);
    cr_expect(strstr(err, "no_such_module") != NULL, "err: %s", err);
    embed_stop();
}

// ---------------------------------------------------------------------------
// the twins in pyscripts/kernels.py against the references, on small sizes

static void fill(float *x, size_t n, float lo, float hi) {
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) * 0x1p-24f;
    }
}

static void check_unary_twin(const char *name, size_t n) {
    const struct kernel *k = kernel_find(name);
    cr_assert_not_null(k);
    float *x = malloc((n + 1) * 4), *copy = malloc((n + 1) * 4), *out = malloc((n + 1) * 4);
    double *ref = malloc((n + 1) * 8);
    fill(x, n, k->in_lo, k->in_hi);
    memcpy(copy, x, n * 4);
    memset(out, 0xff, n * 4);
    k->ref(ref, x, n);
    struct py_arg args[3] = {{ARG_VIEW, out, n, 'f', 0}, {ARG_VIEW, x, n, 'f', 0}, {ARG_INT, NULL, 0, 0, (long)n}};
    struct py_call *call = embed_call_new("kernels", name, args, 3, err, sizeof err);
    cr_assert_not_null(call, "%s", err);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s(n=%zu): %s", name, n, err);
    double abs_err, rel_err;
    cr_expect(verify_output(k, (struct shape){0, n, 0}, out, ref, NULL, &abs_err, &rel_err, NULL),
              "%s twin, n=%zu: max abs error %g", name, n, abs_err);
    cr_expect_eq(memcmp(x, copy, n * 4), 0, "%s twin wrote to its input", name);
    embed_call_free(call);
    free(x), free(copy), free(out), free(ref);
}

Test(twins, relu_softmax_gelu_match_the_references) {
    start(PYSCRIPTS);
    static const size_t sizes[] = {1, 7, 17, 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_unary_twin("relu", sizes[i]);
        check_unary_twin("softmax", sizes[i]);
        check_unary_twin("gelu", sizes[i]);
    }
    embed_stop();
}

Test(twins, matmul_matches_the_reference) {
    start(PYSCRIPTS);
    const struct kernel *k = kernel_find("matmul");
    int m = 7, n = 13, kk = 5;
    float a[7 * 5], b[5 * 13], c[7 * 13];
    double ref[7 * 13], bound[7 * 13], abs_err;
    fill(a, sizeof a / 4, -1, 1);
    fill(b, sizeof b / 4, -1, 1);
    matmul_f32_ref(ref, bound, a, b, m, n, kk);
    struct py_arg args[6] = {{ARG_VIEW, c, 7 * 13, 'f', 0}, {ARG_VIEW, a, 7 * 5, 'f', 0}, {ARG_VIEW, b, 5 * 13, 'f', 0},
                             {ARG_INT, NULL, 0, 0, m}, {ARG_INT, NULL, 0, 0, n}, {ARG_INT, NULL, 0, 0, kk}};
    struct py_call *call = embed_call_new("kernels", "matmul", args, 6, err, sizeof err);
    cr_assert_not_null(call, "%s", err);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect(verify_output(k, (struct shape){m, n, kk}, c, ref, bound, &abs_err, NULL, NULL), "max abs error %g", abs_err);
    embed_call_free(call);
    embed_stop();
}

// Both Python forms, kernels.py's and numpy_kernels.py's, on 3 rows of 37:
// whole NumPy blocks and a tail; the same tolerance as the native tiers.
Test(twins, layernorm_matches_the_reference) {
    start(PYSCRIPTS);
    const struct kernel *k = kernel_find("layernorm");
    cr_assert_not_null(k);
    enum { R = 3, C = 37 };
    float x[R * C], g[C], b[C], out[R * C];
    double ref[R * C], bound[R * C], abs_err;
    fill(x, R * C, 1, 3); // off 0, so the mean matters
    fill(g, C, -1, 1);
    fill(b, C, -1, 1);
    layernorm_ref(ref, bound, x, g, b, R, C);
    static const char *const modules[] = {"kernels", "numpy_kernels"};
    for (int mod = 0; mod < 2; mod++) {
        memset(out, 0xff, sizeof out);
        struct py_arg args[6] = {{ARG_VIEW, out, R * C, 'f', 0}, {ARG_VIEW, x, R * C, 'f', 0}, {ARG_VIEW, g, C, 'f', 0},
                                 {ARG_VIEW, b, C, 'f', 0},       {ARG_INT, NULL, 0, 0, R},    {ARG_INT, NULL, 0, 0, C}};
        struct py_call *call = embed_call_new(modules[mod], "layernorm", args, 6, err, sizeof err);
        cr_assert_not_null(call, "%s", err);
        cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
        cr_expect(verify_output(k, (struct shape){R, C, 0}, out, ref, bound, &abs_err, NULL, NULL),
                  "%s.layernorm: max abs error %g", modules[mod], abs_err);
        embed_call_free(call);
    }
    embed_stop();
}

// Both Python forms on 3 heads of 37 tokens of 17 dims, with inputs in
// [-1, 1] and with q and k in [-30, 30], where scores reach hundreds and
// only the max's shift keeps exp finite: the native tiers' tolerance.
Test(twins, attention_matches_the_reference) {
    start(PYSCRIPTS);
    const struct kernel *k = kernel_find("attention");
    cr_assert_not_null(k);
    enum { H = 3, S = 37, D = 17, N = H * S * D };
    static float qkv[3 * N], out[N];
    float *q = qkv, *kk = qkv + N, *v = qkv + 2 * N;
    static double ref[N], bound[N];
    static const char *const modules[] = {"kernels", "numpy_kernels"};
    for (int big = 0; big < 2; big++) {
        float r = big ? 30 : 1;
        fill(qkv, 3 * N, -1, 1); // one stream, so q, k and v differ
        for (int i = 0; i < 2 * N; i++) qkv[i] *= r;
        attention_ref(ref, bound, q, kk, v, H, S, D);
        for (int mod = 0; mod < 2; mod++) {
            double abs_err;
            memset(out, 0xff, sizeof out);
            struct py_arg args[7] = {{ARG_VIEW, out, N, 'f', 0}, {ARG_VIEW, q, N, 'f', 0}, {ARG_VIEW, kk, N, 'f', 0},
                                     {ARG_VIEW, v, N, 'f', 0},   {ARG_INT, NULL, 0, 0, H},  {ARG_INT, NULL, 0, 0, S},
                                     {ARG_INT, NULL, 0, 0, D}};
            struct py_call *call = embed_call_new(modules[mod], "attention", args, 7, err, sizeof err);
            cr_assert_not_null(call, "%s", err);
            cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
            cr_expect(verify_output(k, (struct shape){H, S, D}, out, ref, bound, &abs_err, NULL, NULL),
                      "%s.attention, q and k in [-%g, %g]: max abs error %g", modules[mod], r, r, abs_err);
            embed_call_free(call);
        }
    }
    embed_stop();
}

Test(twins, matmul_int8_is_exact) {
    start(PYSCRIPTS);
    const struct kernel *k = kernel_find("matmul_int8");
    int m = 5, n = 9, kk = 300;
    int8_t a[5 * 300], b[300 * 9];
    int32_t c[5 * 9], ref[5 * 9];
    for (int i = 0; i < m * kk; i++) a[i] = (int8_t)(i * 37 + 11); // wraps: covers -128..127
    for (int i = 0; i < kk * n; i++) b[i] = i % 2 ? -128 : 127;
    matmul_i8_ref(ref, a, b, m, n, kk);
    struct py_arg args[6] = {{ARG_VIEW, c, 5 * 9, 'i', 0}, {ARG_VIEW, a, 5 * 300, 'b', 0}, {ARG_VIEW, b, 300 * 9, 'b', 0},
                             {ARG_INT, NULL, 0, 0, m}, {ARG_INT, NULL, 0, 0, n}, {ARG_INT, NULL, 0, 0, kk}};
    struct py_call *call = embed_call_new("kernels", "matmul_int8", args, 6, err, sizeof err);
    cr_assert_not_null(call, "%s", err);
    cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s", err);
    cr_expect(verify_output(k, (struct shape){m, n, kk}, c, ref, NULL, NULL, NULL, NULL), "int8 twin not exact");
    cr_expect_eq(memcmp(c, ref, sizeof c), 0);
    embed_call_free(call);
    embed_stop();
}

Test(twins, special_values_match_the_references) {
    start(PYSCRIPTS);
    // NaN, -0 and the infinities pass through relu; gelu and softmax give NaN
    // where their references do
    float x[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, -1.5f, 2.5f, 1e-30f, -1e-30f};
    size_t n = sizeof x / sizeof x[0];
    static const char *const names[] = {"relu", "gelu", "softmax"};
    for (int i = 0; i < 3; i++) {
        const struct kernel *k = kernel_find(names[i]);
        float out[16];
        double ref[16];
        memset(out, 0xff, sizeof out);
        k->ref(ref, x, n);
        struct py_arg args[3] = {{ARG_VIEW, out, n, 'f', 0}, {ARG_VIEW, x, n, 'f', 0}, {ARG_INT, NULL, 0, 0, (long)n}};
        struct py_call *call = embed_call_new("kernels", names[i], args, 3, err, sizeof err);
        cr_assert_not_null(call, "%s", err);
        cr_assert_eq(embed_call(call, err, sizeof err), 0, "%s: %s", names[i], err);
        for (size_t j = 0; j < n; j++) {
            if (isnan(ref[j])) cr_expect(isnan(out[j]), "%s(x[%zu]) should be NaN, is %g", names[i], j, out[j]);
            else if (isinf(ref[j])) cr_expect_eq(out[j], (float)ref[j], "%s(x[%zu])", names[i], j);
        }
        if (i == 0) cr_expect(signbit(out[1]) && out[1] == 0, "relu(-0) is -0");
        cr_expect(verify_output(k, (struct shape){0, n, 0}, out, ref, NULL, NULL, NULL, NULL),
                  "%s twin on special values", names[i]);
        embed_call_free(call);
    }
    embed_stop();
}
