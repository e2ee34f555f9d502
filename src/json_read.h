// A small, strict JSON reader (RFC 8259), enough to read back what
// bmml-host writes: numbers, strings with escapes, arrays, objects, true,
// false, null. Malformed input is refused with the line and column.
#ifndef BMML_JSON_READ_H
#define BMML_JSON_READ_H

#include <stddef.h>

#define JSON_MAX_DEPTH 64 // nesting deeper than this is refused, not recursed into

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    double num;          // JSON_NUMBER
    char *str;           // JSON_STRING, UTF-8, NUL-terminated (\u0000 is refused)
    size_t n;            // items in an array or object
    struct json *items;  // its values
    char **keys;         // an object's keys, items[i] being keys[i]'s value
};

// Parse text[0..len). NULL with "line L, column C: why" in err.
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
#define JSON_MAX_FILE (256u << 20) // a results file is a few MiB at most: a larger one is refused unread
// Read and parse a regular file of at most JSON_MAX_FILE bytes. NULL with "path: why" in err.
struct json *json_parse_file(const char *path, char *err, size_t errlen);
void json_free(struct json *v);

// An object's value for key (the first, if repeated); NULL when v is not an object or lacks it.
const struct json *json_get(const struct json *v, const char *key);
// The string, or NULL when v is not a string.
const char *json_string(const struct json *v);
// The number, or otherwise when v is not a number (null included).
double json_number(const struct json *v, double otherwise);

#endif
