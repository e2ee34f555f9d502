// The reports: the JSON reader, the comparison's statistics, and a report
// directory written from synthetic results whose files must agree.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "compare.h"
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
    m->dims[0] = 64, m->dims[1] = 128, m->dims[2] = 10;
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
    ctx.model = &model;
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
    cr_expect_str_eq(json_string(json_get(m, "name")), "model/scalar/fp32/batch360");
    cr_expect_str_eq(json_string(json_get(m, "speedup_interval_kind")), "range");
    cr_expect_eq(json_number(json_get(m, "speedup_vs_python"), 0), 50);
    json_free(doc);
}

Test(report_dir, svgs_are_well_formed_xml, .init = write_reports, .fini = remove_tmpdir) {
    if (system("command -v xmllint >/dev/null 2>&1") != 0) cr_skip_test("xmllint is not installed (Debian: libxml2-utils)");
    static const char *const svgs[] = {"speedup.svg", "decomposition.svg", "scaling.svg"};
    for (size_t i = 0; i < 3; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", in_dir(svgs[i]));
        cr_expect_eq(system(cmd), 0, "%s", cmd);
    }
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
    char *model_part = strstr(text, "\n## The model\n");
    cr_assert(model_part, "the model's table is missing");
    cr_expect(strstr(model_part, "model digits.bmml: 64 -\\> 128 (GELU) -\\> 10 (softmax); 360 test images"), "%s", model_part);
    cr_expect(strstr(model_part, "| scalar | fp32 | x86-64 | 400 us | 1.11 us | 50x | 0.9800 | 1.0000 | 2e-06 | ok |"),
              "%s", model_part);
    cr_expect(strstr(model_part, "| avx2 | fp32 | x86-64 | 100 us | 278 ns | 200x | 0.9800 | 1.0000 | 2e-06 | FAILED: 3 "
                                 "classes differ from the reference |"), "%s", model_part);
    cr_expect(strstr(model_part, "| avx512 | int8 | - | - | - | - | - | - | - | -: not available on this CPU |"),
              "%s", model_part);
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
