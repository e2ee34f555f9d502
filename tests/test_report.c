// The reports: the JSON reader, the comparison's statistics, and a report
// directory written from synthetic results whose files must agree.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "json_read.h"

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
// Mann-Whitney U

static struct mann_whitney mw(const double *x, size_t nx, const double *y, size_t ny) {
    struct mann_whitney r;
    cr_assert_eq(mann_whitney(x, nx, y, ny, &r), 0);
    return r;
}

Test(mann_whitney, identical_samples_are_not_significant) {
    double x[10] = {5, 3, 8, 1, 9, 2, 7, 4, 6, 10};
    struct mann_whitney r = mw(x, 10, x, 10);
    cr_expect_eq(r.u, 50, "half of the 100 pairs, by symmetry");
    cr_expect_eq(r.p, 1);
    cr_expect_not(r.too_few);
}

Test(mann_whitney, all_equal_values_carry_no_evidence) {
    double x[9] = {4, 4, 4, 4, 4, 4, 4, 4, 4};
    struct mann_whitney r = mw(x, 9, x, 8);
    cr_expect_eq(r.p, 1, "zero variance must not divide by zero");
}

// x = 1..8 below y = 9..16: U = 0, mean 32, variance 8*8*17/12, so with the
// continuity correction z = 31.5 / 9.522 = 3.308 and p = erfc(z / sqrt 2) = 0.000939.
Test(mann_whitney, clearly_shifted_samples_are_significant) {
    double x[8], y[8];
    for (int i = 0; i < 8; i++) x[i] = i + 1, y[i] = i + 9;
    struct mann_whitney r = mw(x, 8, y, 8);
    cr_expect_eq(r.u, 0);
    cr_expect_float_eq(r.z, -3.308162, 1e-6);
    cr_expect_float_eq(r.p, 0.000939106, 1e-8);
    cr_expect_lt(r.p, MW_ALPHA);
}

// Counted by hand, pair by pair: x = {1, 4} beats y = {2, 3} in (4,2) and
// (4,3): U = 2. With ties, x = {1, 2, 2} against y = {2, 3}: the two 2s tie
// the 2 (one half each) and lose to 3: U = 1.
Test(mann_whitney, hand_computed_u_on_tiny_samples) {
    struct mann_whitney r = mw((double[]){1, 4}, 2, (double[]){2, 3}, 2);
    cr_expect_eq(r.u, 2);
    cr_expect(r.too_few, "two samples cannot show anything");
    r = mw((double[]){1, 2, 2}, 3, (double[]){2, 3}, 2);
    cr_expect_eq(r.u, 1);
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

// one entry of bmml-host's JSON, its samples base, base + step, ...
static void entry(char *buf, size_t size, const char *tier, double base, double step, int n) {
    int len = snprintf(buf, size, "{\"kernel\": \"relu\", \"tier\": \"%s\", \"size\": \"1000\", \"status\": \"ok\", "
                       "\"median_ns\": %g, \"samples_ns\": [", tier, base + step * (n - 1) / 2);
    for (int i = 0; i < n; i++) len += snprintf(buf + len, size - len, "%s%g", i ? ", " : "", base + step * i);
    snprintf(buf + len, size - len, "]}");
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

Test(compare, names_slower_unchanged_and_underpowered_entries, .init = make_tmpdir, .fini = remove_tmpdir) {
    char a[2][1024], b[3][1024], old_text[4096], new_text[4096];
    entry(a[0], sizeof a[0], "scalar", 1000, 1, 20);
    entry(a[1], sizeof a[1], "avx2", 100, 1, 20);
    entry(b[0], sizeof b[0], "scalar", 2000, 1, 20); // twice as slow
    entry(b[1], sizeof b[1], "avx2", 100, 1, 20);    // the same
    entry(b[2], sizeof b[2], "python", 9e6, 1e5, 3); // only in NEW
    snprintf(old_text, sizeof old_text, "{\"benchmarks\": [%s, %s]}", a[0], a[1]);
    snprintf(new_text, sizeof new_text, "{\"benchmarks\": [%s, %s, %s]}", b[0], b[1], b[2]);
    int rc;
    char *out = run_compare(old_text, new_text, &rc);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "1.99x slower"), "%s", out); // medians 2009.5 and 1009.5 ns
    cr_expect(strstr(out, "not significant"), "%s", out);
    cr_expect(strstr(out, "only in NEW"), "%s", out);
    cr_expect(strstr(out, "0 faster, 1 slower, 1 not significant, 0 with too few samples, 1 not compared"), "%s", out);
    free(out);

    entry(a[0], sizeof a[0], "python", 9e6, 1e5, 3);
    snprintf(old_text, sizeof old_text, "{\"benchmarks\": [%s]}", a[0]);
    out = run_compare(old_text, new_text, &rc);
    cr_expect(strstr(out, "too few samples (3 and 3"), "%s", out);
    free(out);
}

Test(compare, malformed_input_exits_2_with_the_file_named, .init = make_tmpdir, .fini = remove_tmpdir) {
    static const char *const bad[] = {
        "{\"benchmarks\": [", "[]", "{\"benchmarks\": {}}", "{\"benchmarks\": [{\"kernel\": 1}]}",
        "{\"benchmarks\": [{\"kernel\": \"relu\", \"tier\": \"avx2\", \"size\": \"1\", \"status\": \"ok\", \"samples_ns\": [\"x\"]}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc;
        free(run_compare("{\"benchmarks\": []}", bad[i], &rc));
        cr_expect_eq(rc, 2, "%s", bad[i]);
        cr_expect(strstr(err, "new.json"), "%s -> %s", bad[i], err);
    }
}
