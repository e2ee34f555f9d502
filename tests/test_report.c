// The reports: the JSON reader, the comparison's statistics, and a report
// directory written from synthetic results whose files must agree.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
