// The reports: the JSON reader, --compare on synthetic runs, and a report
// directory written from synthetic results whose files must agree.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "compare.h"
#include "controls.h"
#include "json_read.h"
#include "kernels.h"
#include "report.h"
#include "runner.h"
#include "plan.h"

static char err[512];

static struct json *parse(const char *text) {
    err[0] = '\0';
    return json_parse(text, strlen(text), err, sizeof err);
}

Test(json_read, reads_every_kind_of_value) {
    struct json *v = parse(" {\"n\": -1.5e2, \"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"a\": [true, false, null, {}, []]} ");
    cr_assert(v, "%s", err);
    cr_expect_eq(json_number(json_get(v, "n"), 0), -150);
    cr_expect_str_eq(json_string(json_get(v, "s")), "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");
    const struct json *a = json_get(v, "a");
    cr_assert(a && a->type == JSON_ARRAY && a->n == 5);
    cr_expect_eq(a->items[0].type, JSON_TRUE);
    cr_expect_eq(a->items[1].type, JSON_FALSE);
    cr_expect_eq(a->items[2].type, JSON_NULL);
    cr_expect_eq(a->items[3].type, JSON_OBJECT);
    cr_expect_eq(a->items[4].n, 0);
    cr_expect_null(json_get(v, "absent"));
    cr_expect_eq(json_number(&a->items[2], -7), -7, "null is not a number");
    json_free(v);
}

// Each is refused with a message saying where, and nothing leaks or crashes
// (the sanitizer build checks the second half).
static void refused(const char *text, const char *why) {
    struct json *v = parse(text);
    cr_expect_null(v, "accepted: %s", text);
    json_free(v);
    cr_expect(strstr(err, why) && strstr(err, "line 1, column"), "%s -> %s", text, err);
}

Test(json_read, refuses_malformed_input) {
    refused("", "end of input");
    refused("{\"a\": [1, 2", "unterminated array");
    refused("{\"a\": 1", "unterminated object");
    refused("\"abc", "unterminated string");
    refused("[1] x", "trailing");
    refused("{} {}", "trailing");
    refused("\"\\q\"", "bad escape");
    refused("\"\\u12\"", "four hex digits");
    refused("\"\\ud800x\"", "surrogate");
    refused("\"\\udc00\"", "surrogate");
    refused("\"a\tb\"", "control character");
    refused("01", "leading zero");
    refused("-", "digit");
    refused("1.", "digit");
    refused("1e+", "digit");
    refused("+1", "expected a value");
    refused("NaN", "expected a value");
    refused("1e999", "out of range");
    refused("[1,]", "expected a value");
    refused("{\"a\":1,}", "string key");
    refused("{1:2}", "string key");
    refused("{\"a\" 1}", "':'");
    refused("[1 2]", "','");
    refused("tru", "expected a value");
}

static char *nested(int depth) {
    char *s = malloc(2 * depth + 1);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

Test(json_read, nesting_is_limited_not_recursed_without_end) {
    char *ok = nested(JSON_MAX_DEPTH), *deep = nested(JSON_MAX_DEPTH + 1), *huge = nested(1000000);
    struct json *v = parse(ok);
    cr_expect(v, "%s", err);
    json_free(v);
    refused(deep, "nested deeper");
    refused(huge, "nested deeper");
    free(ok), free(deep), free(huge);
}

// Every prefix of a valid document is either refused or (for the whole) read:
// truncation anywhere must give an error, never a crash.
Test(json_read, every_truncation_is_refused) {
    const char *doc = "{\"k\": [1.5, -2e-3, \"x\\u0041\\n\", true, null, {\"z\": false}]}";
    size_t len = strlen(doc);
    for (size_t i = 0; i < len; i++) {
        char *cut = strndup(doc, i);
        struct json *v = json_parse(cut, i, err, sizeof err);
        cr_expect_null(v, "prefix of %zu accepted", i);
        json_free(v);
        free(cut);
    }
    struct json *v = json_parse(doc, len, err, sizeof err);
    cr_expect(v, "%s", err);
    json_free(v);
}

Test(json_read, a_missing_file_is_named) {
    cr_expect_null(json_parse_file("/nonexistent/r.json", err, sizeof err));
    cr_expect(strstr(err, "/nonexistent/r.json"), "%s", err);
}

// ---------------------------------------------------------------------------
// --compare

static char tmpdir[64];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bmml-test-XXXXXX");
    cr_assert(mkdtemp(tmpdir), "mkdtemp");
}

static void remove_tmpdir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_expect_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text) {
    static char path[2][128];
    static int which;
    char *p = path[which++ % 2];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    cr_assert(f, "%s", p);
    fputs(text, f);
    fclose(f);
    return p;
}

// One entry of bmml-host's JSON: three passes of three samples each, pass p's
// around median * scale[p] (1% either side), and the passes recorded.
static void entry(char *buf, size_t size, const char *kernel, const char *tier, const char *sz, double median,
                  const double *scale) {
    int len = snprintf(buf, size, "{\"kernel\": \"%s\", \"tier\": \"%s\", \"size\": \"%s\", \"status\": \"ok\", "
                       "\"median_ns\": %g, \"samples_per_pass\": [3, 3, 3], \"samples_ns\": [", kernel, tier, sz,
                       median * scale[1]);
    for (int p = 0; p < 3; p++)
        len += snprintf(buf + len, size - len, "%s%g, %g, %g", p ? ", " : "", 0.99 * median * scale[p],
                        median * scale[p], 1.01 * median * scale[p]);
    snprintf(buf + len, size - len, "]}");
}

// A context with every control at base ns in each pass, times scale[p].
static void controls_ctx(char *buf, size_t size, double base, const double *scale) {
    int len = snprintf(buf, size, "\"context\": {\"passes\": 3, \"l2_bytes\": 1048576, \"controls\": {");
    static const char *const names[] = {"python", "scalar", "simd", "memory"};
    for (int k = 0; k < 4; k++)
        len += snprintf(buf + len, size - len, "%s\"%s\": {\"samples_ns\": [%g, %g, %g]}", k ? ", " : "", names[k],
                        base * scale[0], base * scale[1], base * scale[2]);
    snprintf(buf + len, size - len, "}}");
}

static char *run_compare(const char *old_text, const char *new_text, int *rc) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    const char *o = write_file("old.json", old_text), *n = write_file("new.json", new_text);
    err[0] = '\0';
    *rc = compare_main(o, n, f, err, sizeof err);
    fclose(f);
    return out;
}

static const double steady[3] = {1, 1.01, 0.99};

Test(compare, a_real_change_with_steady_controls_is_called, .init = make_tmpdir, .fini = remove_tmpdir) {
    char a[2][1024], b[3][1024], c[2][512], old_text[4096], new_text[4096];
    static const double slower[3] = {1.5, 1.51, 1.49}; // 1.5x the work in every pass
    entry(a[0], sizeof a[0], "relu", "python", "1000", 1e6, steady);
    entry(a[1], sizeof a[1], "relu", "avx2", "1000", 100, steady);
    entry(b[0], sizeof b[0], "relu", "python", "1000", 1e6, slower);
    entry(b[1], sizeof b[1], "relu", "avx2", "1000", 100, steady);
    entry(b[2], sizeof b[2], "gelu", "python", "1000", 1e6, steady); // only in NEW
    controls_ctx(c[0], sizeof c[0], 1000, steady);
    controls_ctx(c[1], sizeof c[1], 1000, steady);
    snprintf(old_text, sizeof old_text, "{%s, \"benchmarks\": [%s, %s]}", c[0], a[0], a[1]);
    snprintf(new_text, sizeof new_text, "{%s, \"benchmarks\": [%s, %s, %s]}", c[1], b[0], b[1], b[2]);
    int rc;
    char *out = run_compare(old_text, new_text, &rc);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "1.50x slower (python control 1.00x"), "%s", out);
    cr_expect(strstr(out, "only in NEW"), "%s", out);
    cr_expect(strstr(out, "0 faster, 1 slower, 1 same, 0 moved no more than the machine did, 0 with too few passes, "
                          "1 not compared, 0 unusable"), "%s", out);
    free(out);
}

Test(compare, a_change_of_machine_state_alone_is_not_called, .init = make_tmpdir, .fini = remove_tmpdir) {
    char a[2][1024], b[2][1024], c[2][512], old_text[4096], new_text[4096];
    static const double busy[3] = {1.3, 1.31, 1.29}; // the whole NEW run on a machine 1.3x slower
    entry(a[0], sizeof a[0], "relu", "python", "1000", 1e6, steady);
    entry(a[1], sizeof a[1], "matmul", "avx2", "64x64x64", 1e4, steady);
    entry(b[0], sizeof b[0], "relu", "python", "1000", 1e6, busy);
    entry(b[1], sizeof b[1], "matmul", "avx2", "64x64x64", 1e4, busy);
    controls_ctx(c[0], sizeof c[0], 1000, steady);
    controls_ctx(c[1], sizeof c[1], 1000, busy);
    snprintf(old_text, sizeof old_text, "{%s, \"benchmarks\": [%s, %s]}", c[0], a[0], a[1]);
    snprintf(new_text, sizeof new_text, "{%s, \"benchmarks\": [%s, %s]}", c[1], b[0], b[1]);
    int rc;
    char *out = run_compare(old_text, new_text, &rc);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "0 faster, 0 slower, 0 same, 2 moved no more than the machine did"), "%s", out);
    cr_expect(strstr(out, "machine: 1.30x slower, no more than the python control moved"), "%s", out);
    cr_expect(strstr(out, "machine: 1.30x slower, no more than the simd control moved"), "%s", out);
    cr_expect(strstr(out, "the machine's state changed between the runs: the python control is 1.30x slower"), "%s", out);
    cr_expect(strstr(out, "cannot be told apart from a change of the machine's state"), "%s", out);
    free(out);

    // the same change beyond the machine's: the row is called
    static const double twice[3] = {2.6, 2.62, 2.58};
    entry(b[0], sizeof b[0], "relu", "python", "1000", 1e6, twice);
    snprintf(new_text, sizeof new_text, "{%s, \"benchmarks\": [%s, %s]}", c[1], b[0], b[1]);
    out = run_compare(old_text, new_text, &rc);
    cr_expect(strstr(out, "2.59x slower (python control 1.30x"), "%s", out);
    cr_expect(!strstr(out, "cannot be told apart"), "%s", out);
    free(out);
}

Test(compare, a_pass_at_the_old_speed_keeps_slow_spells_from_being_called, .init = make_tmpdir, .fini = remove_tmpdir) {
    char a[1024], b[1024], c[512], old_text[4096], new_text[4096];
    static const double spell[3] = {1.3, 1.3, 1.0}; // slow spells in two of NEW's passes, the third as OLD's
    entry(a, sizeof a, "relu", "scalar", "1000", 1e4, steady);
    entry(b, sizeof b, "relu", "scalar", "1000", 1e4, spell);
    controls_ctx(c, sizeof c, 1000, steady);
    snprintf(old_text, sizeof old_text, "{%s, \"benchmarks\": [%s]}", c, a);
    snprintf(new_text, sizeof new_text, "{%s, \"benchmarks\": [%s]}", c, b);
    int rc;
    char *out = run_compare(old_text, new_text, &rc);
    cr_expect(strstr(out, "same: the passes' medians overlap"), "%s", out);
    free(out);
}

// A Python entry as bmml-host writes it: entry()'s nine samples around
// wall * scale[p], with the interpreter's CPU time per sample (fastest cpu,
// the others up to 1.8x that: slow spells) and the Python control beside
// each (fastest control); late puts the spells in the other order, so that
// neither side's fastest is its first.
static void python_entry(char *buf, size_t size, double wall, const double *scale, double cpu, double control,
                         int late) {
    entry(buf, size, "relu", "python", "1000", wall, scale);
    static const double spells[9] = {1.8, 1.0, 1.2, 1.5, 1.01, 1.8, 1.3, 1.02, 1.6};
    size_t len = strlen(buf) - 1; // over the closing brace
    len += snprintf(buf + len, size - len, ", \"cpu_samples_ns\": [");
    for (int i = 0; i < 9; i++)
        len += snprintf(buf + len, size - len, "%s%g", i ? ", " : "", cpu * spells[late ? 8 - i : i]);
    len += snprintf(buf + len, size - len, "], \"control_cpu_ns\": [");
    for (int i = 0; i < 9; i++)
        len += snprintf(buf + len, size - len, "%s%g", i ? ", " : "", control * spells[late ? i : 8 - i]);
    snprintf(buf + len, size - len, "]}");
}

static char *compare_python(double wall, const double *scale, double cpu, double control, int *rc) {
    static char a[2048], b[2048], c[512], old_text[4096], new_text[4096];
    python_entry(a, sizeof a, 1e6, steady, 1e6, 1e5, 0);
    python_entry(b, sizeof b, wall, scale, cpu, control, 1);
    controls_ctx(c, sizeof c, 1000, steady);
    snprintf(old_text, sizeof old_text, "{%s, \"benchmarks\": [%s]}", c, a);
    snprintf(new_text, sizeof new_text, "{%s, \"benchmarks\": [%s]}", c, b);
    return run_compare(old_text, new_text, rc);
}

Test(compare, a_python_row_is_judged_on_its_fastest_cpu_time, .init = make_tmpdir, .fini = remove_tmpdir) {
    // every pass of NEW 1.8x slower on the clock, the pass controls steady,
    // the same fastest CPU time: time other programs took, not the kernel's
    static const double sliced[3] = {1.8, 1.81, 1.79};
    int rc;
    char *out = compare_python(1e6, sliced, 1e6, 1e5, &rc);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "same: the fastest CPU time 1.00x slower, within 15%"), "%s", out);
    free(out);

    // 1.5x the work: called, though the clock's passes overlap
    static const double overlap[3] = {1.0, 1.6, 1.6};
    out = compare_python(1.5e6, overlap, 1.5e6, 1e5, &rc);
    cr_expect(strstr(out, "1.50x slower in the fastest CPU time (python control beside it 1.00x, floor 15%)"), "%s", out);
    cr_expect(strstr(out, "0 faster, 1 slower"), "%s", out);
    free(out);
    out = compare_python(1e6 / 1.5, steady, 1e6 / 1.5, 1e5, &rc);
    cr_expect(strstr(out, "1.50x faster in the fastest CPU time"), "%s", out);
    free(out);

    // within the floor
    out = compare_python(1.1e6, steady, 1.1e6, 1e5, &rc);
    cr_expect(strstr(out, "same: the fastest CPU time 1.10x slower, within 15%"), "%s", out);
    free(out);

    // the interpreter 1.3x slower beside every sample of the row, the
    // control too: the machine, not the kernel
    out = compare_python(1.3e6, steady, 1.3e6, 1.3e5, &rc);
    cr_expect(strstr(out, "machine: the fastest CPU time 1.30x slower, no more than the python control beside it "
                          "moved (1.30x) plus 15%"), "%s", out);
    free(out);
}

Test(compare, python_cpu_figures_that_do_not_fit_are_named, .init = make_tmpdir, .fini = remove_tmpdir) {
    static const struct {
        const char *arrays, *reason;
    } bad[] = {
        {"\"cpu_samples_ns\": [1, 2]", "does not have one figure per sample"},
        {"\"cpu_samples_ns\": 5", "is not an array"},
        {"\"cpu_samples_ns\": [1, 2, 3], \"control_cpu_ns\": [1, 0, 3]", "not a positive time"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"benchmarks\": [{\"kernel\": \"relu\", \"tier\": \"python\", \"size\": "
                 "\"1000\", \"status\": \"ok\", \"median_ns\": 2, \"samples_ns\": [1, 2, 3], %s}]}", bad[i].arrays);
        int rc;
        char *out = run_compare(text, text, &rc);
        cr_expect(strstr(out, bad[i].reason), "%s: %s", bad[i].reason, out);
        cr_expect(strstr(out, "1 unusable"), "%s", out);
        free(out);
    }
}

Test(compare, files_without_controls_or_passes_still_compare_with_a_note, .init = make_tmpdir, .fini = remove_tmpdir) {
    // as bmml wrote before it recorded controls and passes: 9 samples, 3 passes in the context
    static const char *const old_text =
        "{\"context\": {\"passes\": 3}, \"benchmarks\": [{\"kernel\": \"relu\", \"tier\": \"python\", \"size\": "
        "\"1000\", \"status\": \"ok\", \"median_ns\": 100, \"samples_ns\": [99, 100, 101, 100, 99, 101, 100, 101, 99]}]}";
    static const char *const new_text =
        "{\"context\": {\"passes\": 3}, \"benchmarks\": [{\"kernel\": \"relu\", \"tier\": \"python\", \"size\": "
        "\"1000\", \"status\": \"ok\", \"median_ns\": 150, \"samples_ns\": [149, 150, 151, 150, 149, 151, 150, 151, 149]}]}";
    int rc;
    char *out = run_compare(old_text, new_text, &rc);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "OLD has no controls"), "%s", out);
    cr_expect(strstr(out, "NEW has no controls"), "%s", out);
    cr_expect(strstr(out, "its passes are taken as equal shares"), "%s", out);
    cr_expect(strstr(out, "1.50x slower (no python control to allow for"), "%s", out);
    free(out);

    // one pass: a single unit a side is too few
    static const char *const one = "{\"benchmarks\": [{\"kernel\": \"relu\", \"tier\": \"python\", \"size\": \"1000\", "
                                   "\"status\": \"ok\", \"median_ns\": 100, \"samples_ns\": [99, 100, 101]}]}";
    out = run_compare(one, one, &rc);
    cr_expect(strstr(out, "too few passes (1 and 1"), "%s", out);
    free(out);
}

Test(compare, unusable_entries_are_named_with_the_reason, .init = make_tmpdir, .fini = remove_tmpdir) {
    static const char *const head = "{\"kernel\": \"relu\", \"tier\": \"%s\", \"size\": \"1000\", \"status\": \"ok\"";
    static const struct {
        const char *tier, *rest, *reason;
    } bad[] = {
        {"python", ", \"median_ns\": 100}", "no samples_ns array"},
        {"numpy", ", \"median_ns\": \"fast\", \"samples_ns\": [100, 100]}", "median_ns is not a positive number"},
        {"scalar", ", \"median_ns\": 100, \"samples_ns\": []}", "an empty samples_ns"},
        {"autovec", ", \"median_ns\": 100, \"samples_ns\": [100, -3]}", "samples_ns[1] = -3 is not a positive time"},
        {"avx512", ", \"median_ns\": 100, \"samples_ns\": [\"x\"]}", "a sample that is not a number"},
        {"blas", ", \"median_ns\": 100, \"samples_ns\": [100], \"samples_per_pass\": [2]}",
         "samples_per_pass does not add up"},
    };
    char text[4096], one[256];
    int len = snprintf(text, sizeof text, "{\"benchmarks\": [");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(one, sizeof one, head, bad[i].tier);
        len += snprintf(text + len, sizeof text - len, "%s%s%s", i ? ", " : "", one, bad[i].rest);
    }
    // the same kernel, tier and size twice
    snprintf(one, sizeof one, head, "avx2");
    len += snprintf(text + len, sizeof text - len, ", %s, \"median_ns\": 1, \"samples_ns\": [1]}, %s, "
                    "\"median_ns\": 2, \"samples_ns\": [2]}]}", one, one);
    int rc;
    char *out = run_compare("{\"benchmarks\": []}", text, &rc);
    cr_expect_eq(rc, 0, "%s", err);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) cr_expect(strstr(out, bad[i].reason), "%s: %s", bad[i].reason, out);
    cr_expect(strstr(out, "benchmarks[6] and [7] name the same kernel, tier and size"), "%s", out);
    cr_expect(strstr(out, "0 not compared, 8 unusable"), "%s", out);
    free(out);
}

Test(compare, each_tier_is_judged_against_its_kind_of_control) {
    cr_expect_eq(compare_control_of("relu", "python", "10000000", 1 << 20), C_PYTHON);
    cr_expect_eq(compare_control_of("matmul", "numpy", "500x500x500", 1 << 20), C_PYTHON);
    cr_expect_eq(compare_control_of("matmul", "scalar", "500x500x500", 1 << 20), C_SCALAR);
    cr_expect_eq(compare_control_of("matmul", "blas", "500x500x500", 1 << 20), C_SIMD);
    cr_expect_eq(compare_control_of("relu", "avx2", "1000", 1 << 20), C_SIMD);     // 8 KB: in cache
    cr_expect_eq(compare_control_of("relu", "avx2", "10000000", 1 << 20), C_MEMORY); // 80 MB: past the L2
    cr_expect_eq(compare_control_of("relu", "scalar", "10000000", 0), C_SCALAR);   // no L2 known
    cr_expect_eq(compare_control_of("model", "avx2", "fp32/batch360", 1 << 20), C_SIMD);
}

Test(compare, malformed_input_exits_2_with_the_file_named, .init = make_tmpdir, .fini = remove_tmpdir) {
    static const char *const bad[] = {
        "{\"benchmarks\": [", "[]", "{\"benchmarks\": {}}", "{\"benchmarks\": [{\"kernel\": 1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc;
        free(run_compare("{\"benchmarks\": []}", bad[i], &rc));
        cr_expect_eq(rc, 2, "%s", bad[i]);
        cr_expect(strstr(err, "new.json"), "%s -> %s", bad[i], err);
    }
}

// ---------------------------------------------------------------------------
// report_dir on synthetic results

static struct case_result cases[4];
static struct context ctx;

// n samples around median, spread 2%, the order shuffled by a fixed stride
static void fill_tier(struct tier_result *r, int tier, double median) {
    memset(r, 0, sizeof *r);
    r->tier = tier;
    r->isa = tier == T_PYTHON ? "CPython" : tier == T_BLAS ? "openblas" : "x86-64";
    r->status = ST_OK;
    r->verified = 1;
    r->repetitions = 10;
    r->iterations = 1;
    for (int i = 0; i < 10; i++) r->samples_ns[i] = median * (1 + 0.02 * ((i * 7 % 10) - 4.5) / 4.5);
    r->median_ns = median, r->min_ns = 0.98 * median, r->mad_ns = 0.01 * median, r->cpu_ns = median;
    r->cv = 0.012;
    r->max_abs_err = tier == T_PYTHON ? 0 : 1.5e-7;
}

static void not_ok(struct tier_result *r, int tier, enum status st, const char *note) {
    memset(r, 0, sizeof *r);
    r->tier = tier;
    r->status = st;
    snprintf(r->note, sizeof r->note, "%s", note);
}

// speedups, intervals, rates and the decomposition, as runner.c derives them
static void derive(struct case_result *cr) {
    const struct tier_result *py = &cr->tiers[0];
    double prev = py->median_ns;
    for (int i = 0; i < cr->n_tiers; i++) {
        struct tier_result *r = &cr->tiers[i];
        if (r->status != ST_OK) continue;
        r->rate = cr->work / r->median_ns;
        r->pct_of_roof = 100 * r->rate / cr->roof;
        r->speedup = py->median_ns / r->median_ns;
        if (r->tier == T_PYTHON) continue;
        r->speedup_lo = 0.9 * r->speedup, r->speedup_hi = 1.1 * r->speedup;
        r->interval = "bootstrap95", r->interval_coverage = 0.95;
        int f = r->tier == T_SCALAR ? F_INTERPRETER : r->tier == T_AVX2 ? F_HAND_SIMD : F_LIBRARY;
        cr->decomp.factor[f] = prev / r->median_ns;
        prev = r->median_ns;
        cr->decomp.last_tier = r->tier;
    }
    cr->decomp.total = py->median_ns / prev;
}

static void relu_case(struct case_result *cr, size_t n, double scale) {
    memset(cr, 0, sizeof *cr);
    cr->kern = kernel_find("relu");
    cr->shape = (struct shape){0, n, 0};
    cr->work = 8.0 * n, cr->unit = "GB/s", cr->roof = 20, cr->roof_name = "memcpy of the same buffers";
    fill_tier(&cr->tiers[0], T_PYTHON, 40 * n * scale);
    fill_tier(&cr->tiers[1], T_SCALAR, 1.1 * n * scale);
    fill_tier(&cr->tiers[2], T_AVX2, 0.21 * n * scale);
    not_ok(&cr->tiers[3], T_AVX512, ST_UNAVAILABLE, "not available on this CPU");
    cr->n_tiers = 4;
    derive(cr);
}

static void matmul_case(struct case_result *cr, size_t n) {
    memset(cr, 0, sizeof *cr);
    cr->kern = kernel_find("matmul");
    cr->shape = (struct shape){n, n, n};
    cr->work = 2.0 * n * n * n, cr->unit = "GFLOP/s", cr->roof = 100, cr->roof_name = "AVX-512 FMA peak";
    fill_tier(&cr->tiers[0], T_PYTHON, cr->work / 0.03);
    fill_tier(&cr->tiers[1], T_SCALAR, cr->work / 4);
    not_ok(&cr->tiers[2], T_AVX2, ST_FAILED, "wrong result: c[3] = 1, \"expected\" 2 | <off> by 1");
    fill_tier(&cr->tiers[3], T_BLAS, cr->work / 3.2); // slower than scalar: a factor below 1
    cr->n_tiers = 4;
    derive(cr);
}

// The model's tiers as model_run leaves them: the reference, one faster,
// one that failed its check, one unavailable.
static struct model_result model;

static void model_results(struct model_result *m) {
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "models/digits.bmml");
    snprintf(m->name, sizeof m->name, "digits");
    m->n_ops = 4, m->in_rows = 1, m->in_cols = 64, m->classes = 10, m->logit_tol = 7.1e-4;
    m->counts[OP_DENSE] = 2, m->counts[OP_GELU] = 1, m->counts[OP_SOFTMAX] = 1;
    m->n_test = m->batch = 360, m->n_batches = 1;
    fill_tier(&m->tiers[0].r, T_PYTHON, 2e7);
    fill_tier(&m->tiers[1].r, T_SCALAR, 4e5);
    fill_tier(&m->tiers[2].r, T_AVX2, 1e5);
    m->tiers[2].r.status = ST_FAILED, m->tiers[2].r.verified = 0;
    snprintf(m->tiers[2].r.note, sizeof m->tiers[2].r.note, "3 classes differ from the reference");
    not_ok(&m->tiers[3].r, T_AVX512, ST_UNAVAILABLE, "not available on this CPU");
    m->tiers[3].int8 = 1;
    m->n_tiers = 4;
    for (int i = 0; i < 3; i++) {
        struct model_tier *t = &m->tiers[i];
        t->batch_ns = t->r.median_ns, t->inference_ns = t->r.median_ns / 360;
        t->accuracy = 0.98, t->agreement = 1, t->max_logit_diff = i ? 2e-6 : 0;
        t->r.speedup = 2e7 / t->r.median_ns;
        if (i) t->r.speedup_lo = 0.9 * t->r.speedup, t->r.speedup_hi = 1.1 * t->r.speedup;
        if (i) t->r.interval = "range", t->r.interval_coverage = 0.998;
    }
    struct model_tier *s = &m->tiers[1];
    s->cat_ns[CAT_MLP_MATMUL] = 3e5, s->cat_ns[CAT_GELU] = 8e4, s->cat_ns[CAT_HEAD] = 1e4, s->pass_ns = 4e5;
    m->steps = 4, m->clock_read_ns = 25;
    // the failed tier has times per operation too, which no writer may show
    struct model_tier *f = &m->tiers[2];
    f->cat_ns[CAT_MLP_MATMUL] = 7e4, f->cat_ns[CAT_GELU] = 2e4, f->cat_ns[CAT_HEAD] = 5e3, f->pass_ns = 1e5;
}

static char dir[128];

static void write_reports(void) {
    make_tmpdir();
    relu_case(&cases[0], 1000, 1.3);
    relu_case(&cases[1], 100000, 1);
    matmul_case(&cases[2], 16);
    matmul_case(&cases[3], 32);
    memset(&ctx, 0, sizeof ctx);
    snprintf(ctx.cpu_model, sizeof ctx.cpu_model, "Test CPU <R&D> \"8 cores\"");
    ctx.cores = 8;
    ctx.python_version = "3.11.2";
    ctx.compiler = "gcc";
    ctx.build = "optimized";
    snprintf(ctx.date, sizeof ctx.date, "2024-01-02T03:04:05Z");
    model_results(&model);
    ctx.models = &model, ctx.n_models = 1;
    snprintf(dir, sizeof dir, "%s/report", tmpdir);
    cr_assert_eq(report_dir(dir, &ctx, cases, 4, err, sizeof err), 0, "%s", err);
}

static const char *in_dir(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    char *text = calloc(1, 1 << 20);
    fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    return text;
}

Test(report_dir, writes_every_file_whole, .init = write_reports, .fini = remove_tmpdir) {
    static const char *const names[] = {"results.json", "results.csv", "results.md", "speedup.svg",
                                        "decomposition.svg", "scaling.svg"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        FILE *f = fopen(in_dir(names[i]), "r");
        cr_expect(f, "%s missing", names[i]);
        if (f) fclose(f);
    }
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    while ((e = readdir(d))) cr_expect_null(strstr(e->d_name, ".tmp"), "a temporary was left: %s", e->d_name);
    closedir(d);
}

// Google Benchmark's compare.py reads real_time, cpu_time and time_unit of
// every entry and takes no null; bmml's own fields are in every entry too,
// the model's included.
Test(report_dir, every_json_entry_has_google_benchmarks_fields_and_bmmls, .init = write_reports,
     .fini = remove_tmpdir) {
    struct json *doc = json_parse_file(in_dir("results.json"), err, sizeof err);
    cr_assert(doc, "%s", err);
    const struct json *b = json_get(doc, "benchmarks");
    cr_assert(b && b->type == JSON_ARRAY);
    static const char *const fields[] = {"name", "run_type", "iterations", "real_time", "cpu_time", "time_unit",
                                         "kernel", "tier", "isa", "size", "status", "note", "repetitions",
                                         "median_ns", "min_ns", "mad_ns", "cv", "verified", "speedup_vs_python",
                                         "speedup_interval_kind", "speedup_interval_coverage", "speedup_interval",
                                         "samples_ns"};
    int models = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct json *e = &b->items[i];
        const char *name = json_string(json_get(e, "name"));
        for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
            cr_expect(json_get(e, fields[k]), "%s lacks %s", name, fields[k]);
        static const char *const gbench[] = {"iterations", "real_time", "cpu_time"};
        for (size_t k = 0; k < 3; k++)
            cr_expect_eq(json_get(e, gbench[k]) ? json_get(e, gbench[k])->type : JSON_NULL, JSON_NUMBER,
                         "%s: %s must be a number", name, gbench[k]);
        cr_expect_str_eq(json_string(json_get(e, "time_unit")), "ns");
        const struct json *v = json_get(e, "verified");
        cr_expect(v && (v->type == JSON_TRUE || v->type == JSON_FALSE), "%s: verified is a boolean", name);
        int ok = strcmp(json_string(json_get(e, "status")), "ok") == 0;
        if (ok) {
            cr_expect_eq(json_number(json_get(e, "real_time"), NAN), json_number(json_get(e, "median_ns"), 0), "%s", name);
            cr_expect_gt(json_number(json_get(e, "iterations"), 0), 0, "%s", name);
        } else {
            cr_expect_eq(json_get(e, "error_occurred") ? json_get(e, "error_occurred")->type : JSON_NULL, JSON_TRUE,
                         "%s: a tier that did not run says so as Google Benchmark does", name);
        }
        models += strcmp(json_string(json_get(e, "kernel")), "model") == 0;
    }
    cr_expect_eq(models, 4, "the model's four tiers");
    const struct json *m = &b->items[b->n - 3]; // the model's scalar tier
    cr_expect_str_eq(json_string(json_get(m, "name")), "model/scalar/digits/fp32/batch360");
    cr_expect_str_eq(json_string(json_get(m, "speedup_interval_kind")), "range");
    cr_expect_eq(json_number(json_get(m, "speedup_vs_python"), 0), 50);
    const struct json *ops = json_get(m, "op_ns");
    cr_expect_eq(json_number(json_get(ops, "mlp_matmuls"), 0), 3e5, "the time per operation, in ns");
    cr_expect_eq(json_number(json_get(ops, "embed"), NAN), 0);
    cr_expect_eq(json_number(json_get(m, "op_pass_ns"), 0), 4e5);
    json_free(doc);
}

Test(report_dir, svgs_are_well_formed_xml, .init = write_reports, .fini = remove_tmpdir) {
    if (system("command -v xmllint >/dev/null 2>&1") != 0) cr_skip_test("xmllint is not installed (Debian: libxml2-utils)");
    static const char *const svgs[] = {"speedup.svg", "decomposition.svg", "scaling.svg", "operations.svg"};
    for (size_t i = 0; i < 4; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", in_dir(svgs[i]));
        cr_expect_eq(system(cmd), 0, "%s", cmd);
    }
}

// The failed avx2 tier has times per operation (model_results): no writer shows them.
Test(report_dir, a_failed_tiers_time_per_operation_is_shown_nowhere, .init = write_reports, .fini = remove_tmpdir) {
    char *md = slurp(in_dir("results.md")), *svg = slurp(in_dir("operations.svg")), *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    model_report_table(f, &model);
    fclose(f);
    const char *ops = strstr(text, "Time per operation");
    cr_assert(ops, "%s", text);
    cr_expect(strstr(ops, "scalar   fp32") && !strstr(ops, "avx2     fp32"), "%s", ops);
    cr_expect(strstr(md, "| scalar | fp32 | 0.0%") && !strstr(md, "| avx2 | fp32 | 0.0%"), "%s", md);
    cr_expect(strstr(svg, ">scalar fp32<") && !strstr(svg, ">avx2 fp32<"), "%s", svg);
    free(md), free(svg), free(text);
}

// A model's name is its file's: Markdown's characters in it are escaped, as in every other cell.
Test(report_dir, a_models_name_is_escaped_in_markdown, .init = write_reports, .fini = remove_tmpdir) {
    snprintf(model.name, sizeof model.name, "my_*vit*|2");
    cr_assert_eq(report_md(in_dir("named.md"), &ctx, cases, 4), 0);
    char *md = slurp(in_dir("named.md"));
    cr_expect(strstr(md, "\n## The model my\\_\\*vit\\*\\|2\n"), "%s", md);
    cr_expect(strstr(md, "\n### Time per operation, my\\_\\*vit\\*\\|2\n"), "%s", md);
    free(md);
}

Test(report_dir, no_sweep_no_scaling_chart, .fini = remove_tmpdir) {
    make_tmpdir();
    relu_case(&cases[0], 1000, 1);
    matmul_case(&cases[1], 16);
    memset(&ctx, 0, sizeof ctx);
    ctx.python_version = ctx.compiler = ctx.build = "";
    snprintf(dir, sizeof dir, "%s", tmpdir);
    cr_assert_eq(report_dir(dir, &ctx, cases, 2, err, sizeof err), 0, "%s", err);
    FILE *f = fopen(in_dir("scaling.svg"), "r");
    cr_expect_null(f, "one size per kernel is not a sweep");
    if (f) fclose(f);
}

Test(report_dir, an_unwritable_place_is_named) {
    memset(&ctx, 0, sizeof ctx);
    cr_expect_eq(report_dir("/nonexistent/parent/out", &ctx, cases, 0, err, sizeof err), -1);
    cr_expect(strstr(err, "/nonexistent/parent/out"), "%s", err);
    cr_expect_eq(report_dir("/etc/passwd", &ctx, cases, 0, err, sizeof err), -1);
    cr_expect(strstr(err, "not a directory"), "%s", err);
}

// RFC 4180: fields split at commas outside quotes, "" inside quotes is one quote.
static int csv_fields(char **line, char fields[][300], int max) {
    int n = 0;
    char *p = *line;
    for (;;) {
        int len = 0, quoted = *p == '"';
        if (quoted) p++;
        while (*p && (quoted || (*p != ',' && *p != '\r'))) {
            if (quoted && *p == '"') {
                if (p[1] != '"') {
                    quoted = 0, p++;
                    continue;
                }
                p++;
            }
            if (len < 299) fields[n][len++] = *p;
            p++;
        }
        fields[n][len] = '\0';
        if (n < max - 1) n++;
        if (*p != ',') break;
        p++;
    }
    cr_assert(p[0] == '\r' && p[1] == '\n', "a CSV line ends in CRLF");
    *line = p + 2;
    return n;
}

static const struct tier_result *find_tier(const char *name) {
    for (int c = 0; c < 4; c++) {
        for (int i = 0; i < cases[c].n_tiers; i++) {
            char want[128], size[64];
            const struct tier_result *r = &cases[c].tiers[i];
            snprintf(want, sizeof want, "%s/%s/%s", cases[c].kern->name, tier_names[r->tier],
                     shape_str(cases[c].kern, cases[c].shape, size, sizeof size));
            if (strcmp(want, name) == 0) return r;
        }
    }
    for (int i = 0; i < model.n_tiers; i++) {
        char want[64], size[32];
        model_entry_names(&model, &model.tiers[i], size, sizeof size, want, sizeof want);
        if (strcmp(want, name) == 0) return &model.tiers[i].r;
    }
    return NULL;
}

Test(report_dir, csv_and_json_agree_with_the_results, .init = write_reports, .fini = remove_tmpdir) {
    struct json *doc = json_parse_file(in_dir("results.json"), err, sizeof err);
    cr_assert(doc, "the JSON must read back: %s", err);
    const struct json *b = json_get(doc, "benchmarks");
    cr_assert(b && b->n == 20, "16 kernel entries and the model's 4");
    int models = 0;
    char *text = slurp(in_dir("results.csv")), *p = text;
    static char f[32][300];
    cr_assert_eq(csv_fields(&p, f, 32), 23, "the header's columns");
    cr_expect_str_eq(f[10], "median_ns");
    cr_expect_str_eq(f[17], "speedup");
    int rows = 0;
    for (; *p; rows++) {
        cr_assert_eq(csv_fields(&p, f, 32), 23, "row %d", rows);
        const struct tier_result *r = find_tier(f[0]);
        cr_assert(r, "unknown row %s", f[0]);
        models += strcmp(f[1], "model") == 0;
        const struct json *e = &b->items[rows];
        cr_expect_str_eq(json_string(json_get(e, "name")), f[0], "the same order");
        cr_expect_str_eq(f[8], status_names[r->status]);
        if (r->status != ST_OK) {
            cr_expect_str_eq(f[10], "", "no median for %s", f[0]);
            cr_expect(isnan(json_number(json_get(e, "median_ns"), NAN)));
            cr_expect_str_eq(f[22], r->note, "the note survives quoting");
            continue;
        }
        // both print %.17g, which reads back to the same double
        cr_expect_eq(strtod(f[10], NULL), r->median_ns, "%s", f[0]);
        cr_expect_eq(json_number(json_get(e, "median_ns"), NAN), r->median_ns, "%s", f[0]);
        cr_expect_eq(strtod(f[17], NULL), r->speedup, "%s", f[0]);
        cr_expect_eq(json_number(json_get(e, "speedup_vs_python"), NAN), r->speedup, "%s", f[0]);
        cr_expect_eq(json_get(e, "samples_ns")->n, 10);
    }
    cr_expect_eq(rows, b->n, "one CSV row per JSON entry");
    cr_expect_eq(models, 4, "the model's rows");
    free(text);
    json_free(doc);
}

// "1.27 us" -> 1270
static double parse_time(const char *s) {
    char unit[8] = "";
    double v = 0;
    sscanf(s, "%lf %7s", &v, unit);
    return v * (strcmp(unit, "s") == 0 ? 1e9 : strcmp(unit, "ms") == 0 ? 1e6 : strcmp(unit, "us") == 0 ? 1e3 : 1);
}

// The Markdown shows three significant digits: within half a unit of the third, 0.5%.
Test(report_dir, markdown_agrees_to_its_three_digits, .init = write_reports, .fini = remove_tmpdir) {
    char *text = slurp(in_dir("results.md"));
    cr_expect(strstr(text, "Test CPU \\<R&D\\> \"8 cores\""), "the CPU, escaped for Markdown");
    char *model_part = strstr(text, "\n## The model digits\n");
    cr_assert(model_part, "the model's table is missing");
    cr_expect(strstr(model_part, "model digits.bmml: (1, 64) -\\> 10 classes in 4 ops (2 DENSE, 1 GELU, 1 SOFTMAX); 360 test images"), "%s", model_part);
    cr_expect(strstr(model_part, "| scalar | fp32 | x86-64 | 400 us | 1.11 us | 50x | 0.9800 | 1.0000 | 2e-06 | ok |"),
              "%s", model_part);
    cr_expect(strstr(model_part, "| avx2 | fp32 | x86-64 | 100 us | 278 ns | 200x | 0.9800 | 1.0000 | 2e-06 | FAILED: 3 "
                                 "classes differ from the reference |"), "%s", model_part);
    cr_expect(strstr(model_part, "| avx512 | int8 | - | - | - | - | - | - | - | -: not available on this CPU |"),
              "%s", model_part);
    // the time per operation: shares of the steps' sum, which falls 2.5% short of the pass
    cr_expect(strstr(model_part, "| scalar | fp32 | 0.0% | 0.0% | 0.0% | 0.0% | 76.9% | 20.5% | 0.0% | 2.6% | 390 us | "
                                 "400 us | 2.5% |"), "%s", model_part);
    // the clock reads every pass holds, from the model's steps and the measured cost of one
    cr_expect(strstr(model_part, "each of the 4 steps of a pass: 4 x 2 reads x 25.0 ns = 200 ns in every pass"), "%s",
              model_part);
    *model_part = '\0'; // the kernels' table above it
    int rows = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char cell[13][320];
        int n = 0;
        if (strncmp(line, "| ", 2) != 0 || strstr(line, "| kernel |")) continue;
        for (char *c = line + 1; *c && n < 13; n++) {
            char *bar = c;
            while (*bar && !(*bar == '|' && bar[-1] != '\\')) bar++;
            snprintf(cell[n], sizeof cell[n], "%.*s", (int)(bar - c), c);
            c = *bar ? bar + 1 : bar;
        }
        char name[160], kernel[32], tier[32], size[64];
        sscanf(cell[0], " %31s", kernel), sscanf(cell[1], " %31s", tier), sscanf(cell[3], " %63s", size);
        snprintf(name, sizeof name, "%s/%s/%s", kernel, tier, size);
        const struct tier_result *r = find_tier(name);
        cr_assert(r, "unknown row %s", name);
        rows++;
        if (r->status != ST_OK) {
            cr_expect(strstr(cell[11], r->status == ST_FAILED ? "FAILED" : "unavailable"), "%s", cell[11]);
            continue;
        }
        cr_expect(fabs(parse_time(cell[4]) / r->median_ns - 1) < 0.005, "%s: %s vs %g ns", name, cell[4], r->median_ns);
        cr_expect(fabs(strtod(cell[10], NULL) / r->speedup - 1) < 0.005, "%s: %s vs %g", name, cell[10], r->speedup);
    }
    cr_expect_eq(rows, 16);
    free(text);
}

Test(sweep, geometric_ranges_per_kind) {
    struct shape s[MAX_SWEEP_SHAPES];
    int n = sweep_shapes(kernel_find("gelu"), s, MAX_SWEEP_SHAPES);
    cr_expect_eq(n, 9);
    cr_expect_eq(s[0].n, 1000);
    cr_expect_eq(s[1].n, 3000);
    cr_expect_eq(s[n - 1].n, 10000000);
    n = sweep_shapes(kernel_find("matmul_int8"), s, MAX_SWEEP_SHAPES);
    cr_expect_eq(n, 7);
    for (int i = 0; i < n; i++) {
        cr_expect_eq(s[i].m, (size_t)16 << i);
        cr_expect(s[i].m == s[i].n && s[i].n == s[i].k);
    }
    cr_expect_eq(sweep_shapes(kernel_find("relu"), s, 2), 2, "no more than asked");
}
