// libFuzzer target for the option parser: the input, split at NUL bytes, is
// the argument list after the program name. Each input is parsed twice, as
// the tests do, so a parse that leaves getopt's state behind (cli_parse
// resets it with optind = 0) shows up as two different results; every
// argument is also tried as a --size value. Built by `make fuzz`.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS 64

static void check_size(const char *s) {
    for (int matmul = 0; matmul < 2; matmul++) {
        struct shape sh = {7, 7, 7};
        if (cli_parse_size(s, matmul, &sh) != 0) continue;
        if (sh.n < 1 || (matmul && (sh.m < 1 || sh.k < 1)) || (!matmul && (sh.m || sh.k))) abort();
        if (!strchr(s, 'x') && matmul && (sh.m != sh.n || sh.k != sh.n)) abort(); // N means NxNxN
    }
}

// The quoted argument of a message that starts with prefix, or NULL.
static const char *quoted_after(const char *err, const char *prefix) {
    return strncmp(err, prefix, strlen(prefix)) == 0 ? err + strlen(prefix) : NULL;
}

// A message names the argument at fault as it is: an unknown option is one
// ("-..."), and only "--name=value" gives a value to an option that takes none.
static void check_message(const char *err) {
    const char *q;
    if ((q = quoted_after(err, "unknown option '")) && q[0] != '-') abort();
    if ((q = quoted_after(err, "option '")) && strstr(q, "takes no value") && !strchr(q, '=')) abort();
}

// a parse may permute argv (getopt does): parse a copy, not the original
static int parse(struct options *o, int argc, char *const *argv, char *err, size_t errlen) {
    char *copy[MAX_ARGS + 2];
    memcpy(copy, argv, (size_t)(argc + 1) * sizeof *copy);
    err[0] = '\0';
    int rc = cli_parse(o, argc, copy, err, errlen);
    if (rc != 0 && rc != 2) abort();
    if (rc == 2 && (!err[0] || !memchr(err, '\0', errlen))) abort(); // a usage error always says why
    if (rc == 2) check_message(err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2] = {"bmml-host"};
    int argc = 1;
    for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;

    for (int i = 1; i < argc; i++) check_size(argv[i]);
    struct options a, b;
    char err_a[512], err_b[512];
    int rc_a = parse(&a, argc, argv, err_a, sizeof err_a);
    int rc_b = parse(&b, argc, argv, err_b, sizeof err_b);
    if (rc_a != rc_b || strcmp(err_a, err_b) != 0) abort();
    if (rc_a == 0) {
        if (memcmp(&a, &b, sizeof a) != 0) abort();
        if (a.n_kernel < 0 || a.n_kernel > 16 || !a.tiers || a.threads < 1 || a.min_time <= 0) abort();
    }
    free(buf);
    return 0;
}
