// libFuzzer target for the JSON reader behind --compare (src/json_read.c):
// the input is a file's bytes. A refusal must say where and why; a parsed
// document must be a well-formed tree whose every key json_get finds, and
// parsing it again must give the same tree. Built by `make fuzz`.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"

// The tree under v is well formed: NUL-terminated strings and keys, items
// where n says, no deeper than the reader allows.
static void check_tree(const struct json *v, int depth) {
    if (depth > JSON_MAX_DEPTH + 1) abort();
    switch (v->type) {
    case JSON_STRING:
        if (!v->str) abort();
        (void)strlen(v->str);
        if (json_string(v) != v->str) abort();
        break;
    case JSON_NUMBER:
        if (json_number(v, 0) != v->num && v->num == v->num) abort();
        break;
    case JSON_OBJECT:
        if (v->n && !v->keys) abort();
        for (size_t i = 0; i < v->n; i++) {
            if (!v->keys[i]) abort();
            size_t first = 0;
            while (strcmp(v->keys[first], v->keys[i]) != 0) first++;
            if (json_get(v, v->keys[i]) != &v->items[first]) abort(); // the first of a repeated key
        }
        /* fall through */
    case JSON_ARRAY:
        if (v->n && !v->items) abort();
        for (size_t i = 0; i < v->n; i++) check_tree(&v->items[i], depth + 1);
        break;
    case JSON_NULL:
    case JSON_FALSE:
    case JSON_TRUE:
        break;
    default:
        abort();
    }
}

static int same(const struct json *a, const struct json *b) {
    if (a->type != b->type || a->n != b->n) return 0;
    if (a->type == JSON_NUMBER) return a->num == b->num || (a->num != a->num && b->num != b->num);
    if (a->type == JSON_STRING) return strcmp(a->str, b->str) == 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->type == JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0) return 0;
        if (!same(&a->items[i], &b->items[i])) return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // a buffer of exactly size bytes, so AddressSanitizer sees a read one byte too far
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    char err[256], err2[256];
    err[0] = '\0';
    struct json *doc = json_parse(text, size, err, sizeof err);
    if (!doc) {
        if (!err[0] || !memchr(err, '\0', sizeof err) || strncmp(err, "line ", 5) != 0) abort(); // says where
    } else {
        check_tree(doc, 0);
        struct json *again = json_parse(text, size, err2, sizeof err2);
        if (!again || !same(doc, again)) abort();
        json_free(again);
        json_free(doc);
    }
    free(text);
    return 0;
}
