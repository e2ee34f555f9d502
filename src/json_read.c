// Recursive descent over the whole text in memory, with a depth limit so no
// input can exhaust the stack.
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "util.h"

struct parser {
    const char *s, *end, *p;
    char *err;
    size_t errlen;
    int failed;
};

// Record the first error; -1, for the caller to return.
__attribute__((format(printf, 2, 3)))
static int fail(struct parser *ps, const char *fmt, ...) {
    if (ps->failed) return -1;
    ps->failed = 1;
    int line = 1, col = 1;
    for (const char *q = ps->s; q < ps->p; q++) {
        if (*q == '\n') line++, col = 1;
        else col++;
    }
    int used = snprintf(ps->err, ps->errlen, "line %d, column %d: ", line, col);
    if (used < 0 || (size_t)used >= ps->errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + used, ps->errlen - used, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_space(struct parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int at_end(const struct parser *ps) { return ps->p >= ps->end; }

static int value(struct parser *ps, struct json *v, int depth);

static int literal(struct parser *ps, struct json *v, const char *word, enum json_type type) {
    size_t len = strlen(word);
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) return fail(ps, "expected a value");
    ps->p += len;
    v->type = type;
    return 0;
}

static int is_digit(const struct parser *ps) { return !at_end(ps) && *ps->p >= '0' && *ps->p <= '9'; }

static void digits(struct parser *ps) {
    while (is_digit(ps)) ps->p++;
}

// The grammar is checked here; strtod converts only what passed it.
static int number(struct parser *ps, struct json *v) {
    const char *start = ps->p;
    if (*ps->p == '-') ps->p++;
    if (!is_digit(ps)) return fail(ps, "a digit must follow '-'");
    if (*ps->p == '0') ps->p++;
    else digits(ps);
    if (!at_end(ps) && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps)) return fail(ps, "a digit must follow the decimal point");
        digits(ps);
    }
    if (!at_end(ps) && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (!at_end(ps) && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (!is_digit(ps)) return fail(ps, "a digit must follow the exponent");
        digits(ps);
    }
    if (is_digit(ps)) return fail(ps, "a number may not have a leading zero");
    char buf[64];
    size_t len = (size_t)(ps->p - start);
    if (len >= sizeof buf) return fail(ps, "number too long");
    memcpy(buf, start, len);
    buf[len] = '\0';
    v->type = JSON_NUMBER;
    v->num = strtod(buf, NULL);
    return isfinite(v->num) ? 0 : fail(ps, "number out of range");
}

static int hex4(struct parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return -1;
    unsigned u = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        u = u * 16 + (unsigned)d;
    }
    ps->p += 4;
    *out = u;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

// \uXXXX, with a surrogate pair joined into one code point
static int unicode_escape(struct parser *ps, unsigned *cp) {
    if (hex4(ps, cp) < 0) return fail(ps, "\\u needs four hex digits");
    if (*cp >= 0xdc00 && *cp <= 0xdfff) return fail(ps, "a low surrogate without a high one");
    if (*cp >= 0xd800 && *cp <= 0xdbff) {
        unsigned lo;
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') return fail(ps, "a high surrogate without a low one");
        ps->p += 2;
        if (hex4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) return fail(ps, "a high surrogate without a low one");
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (*cp == 0) return fail(ps, "\\u0000 is not supported");
    return 0;
}

// One escape after the backslash, written to o; its length, or 0 on error.
static size_t escape(struct parser *ps, char *o) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (at_end(ps)) return fail(ps, "unterminated string"), 0;
    char c = *ps->p++;
    const char *k = strchr(from, c);
    if (c && k) return o[0] = to[k - from], 1;
    if (c != 'u') {
        ps->p--;
        return fail(ps, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?'), 0;
    }
    unsigned cp;
    return unicode_escape(ps, &cp) < 0 ? 0 : put_utf8(o, cp);
}

// The string after the opening quote; malloc'd, or NULL on error.
static char *string(struct parser *ps) {
    // the decoded text is never longer than the source
    const char *q = ps->p;
    while (q < ps->end && *q != '"') q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
    char *out = malloc((size_t)(q - ps->p) + 1), *o = out;
    if (!out) return fail(ps, "out of memory"), NULL;
    for (;;) {
        if (at_end(ps)) return fail(ps, "unterminated string"), free(out), NULL;
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') break;
        if (c < 0x20) return fail(ps, "a control character inside a string"), free(out), NULL;
        ps->p++;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        size_t n = escape(ps, o);
        if (!n) return free(out), NULL;
        o += n;
    }
    ps->p++;
    *o = '\0';
    return out;
}

// Append an empty value to v's items (and a key slot for objects).
static struct json *push(struct parser *ps, struct json *v, size_t *cap) {
    if (v->n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 8;
        struct json *items = realloc(v->items, ncap * sizeof *items);
        if (!items) return fail(ps, "out of memory"), NULL;
        v->items = items;
        if (v->type == JSON_OBJECT) {
            char **keys = realloc(v->keys, ncap * sizeof *keys);
            if (!keys) return fail(ps, "out of memory"), NULL;
            v->keys = keys;
        }
        *cap = ncap;
    }
    struct json *item = &v->items[v->n];
    memset(item, 0, sizeof *item);
    if (v->type == JSON_OBJECT) v->keys[v->n] = NULL;
    v->n++;
    return item;
}

// An array or an object after its opening bracket, up to its closing one.
static int container(struct parser *ps, struct json *v, int depth, char close) {
    size_t cap = 0;
    skip_space(ps);
    if (!at_end(ps) && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        struct json *item = push(ps, v, &cap);
        if (!item) return -1;
        if (v->type == JSON_OBJECT) {
            skip_space(ps);
            if (at_end(ps) || *ps->p != '"') return fail(ps, "expected a string key");
            ps->p++;
            if (!(v->keys[v->n - 1] = string(ps))) return -1;
            skip_space(ps);
            if (at_end(ps) || *ps->p != ':') return fail(ps, "expected ':' after the key");
            ps->p++;
        }
        if (value(ps, item, depth + 1) < 0) return -1;
        skip_space(ps);
        if (at_end(ps)) return fail(ps, "unterminated %s", close == ']' ? "array" : "object");
        char c = *ps->p++;
        if (c == close) return 0;
        if (c != ',') {
            ps->p--;
            return fail(ps, "expected ',' or '%c'", close);
        }
    }
}

static int value(struct parser *ps, struct json *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(ps, "nested deeper than %d", JSON_MAX_DEPTH);
    skip_space(ps);
    if (at_end(ps)) return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return ps->p++, v->type = JSON_OBJECT, container(ps, v, depth, '}');
    case '[': return ps->p++, v->type = JSON_ARRAY, container(ps, v, depth, ']');
    case '"':
        ps->p++;
        v->type = JSON_STRING;
        return (v->str = string(ps)) ? 0 : -1;
    case 't': return literal(ps, v, "true", JSON_TRUE);
    case 'f': return literal(ps, v, "false", JSON_FALSE);
    case 'n': return literal(ps, v, "null", JSON_NULL);
    }
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return number(ps, v);
    return fail(ps, "expected a value");
}

static void release(struct json *v) {
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        release(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

void json_free(struct json *v) {
    if (!v) return;
    release(v);
    free(v);
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    struct parser ps = {text, text + len, text, err, errlen, 0};
    struct json *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    value(&ps, v, 1);
    skip_space(&ps);
    if (!ps.failed && !at_end(&ps)) fail(&ps, "trailing characters after the value");
    if (ps.failed) {
        json_free(v);
        return NULL;
    }
    return v;
}

struct json *json_parse_file(const char *path, char *err, size_t errlen) {
    size_t len;
    char *text = read_file(path, JSON_MAX_FILE, &len, err, errlen);
    if (!text) return NULL;
    char why[256];
    struct json *v = json_parse(text, len, why, sizeof why);
    free(text);
    if (!v) snprintf(err, errlen, "%s: %s", path, why);
    return v;
}

const struct json *json_get(const struct json *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->keys[i], key) == 0) return &v->items[i];
    }
    return NULL;
}

const char *json_string(const struct json *v) { return v && v->type == JSON_STRING ? v->str : NULL; }

double json_number(const struct json *v, double otherwise) {
    return v && v->type == JSON_NUMBER ? v->num : otherwise;
}
