// Model files of format version 2 for the tests, made from a list of ops:
// parameters and images drawn from a seed, labels 0, 1, 2, ... modulo classes.
#ifndef BMML_TESTS_MODEL_FILES_H
#define BMML_TESTS_MODEL_FILES_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

struct spec {
    int n_ops;
    uint32_t op[64][4];
    int n_test, in_rows, in_cols, classes;
    float tol;
};

static inline void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> 8 * i);
}

static inline void putf(unsigned char *p, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    put32(p, u);
}

// the parameters the format gives each op, in values (model.c's table, written again)
static inline size_t params_of(const uint32_t *o) {
    return o[0] == OP_DENSE ? (size_t)o[1] * o[2] + o[2] : o[0] == OP_LAYERNORM ? 2 * (size_t)o[1]
                                                           : o[0] == OP_ADD_POS ? (size_t)o[1] * o[2] : 0;
}

// The file's bytes, in a buffer of exactly their size so that AddressSanitizer sees a parser that reads one byte too far.
static inline unsigned char *make_file(const struct spec *s, uint64_t seed, size_t *size) {
    size_t n = 32 + 16 * (size_t)s->n_ops;
    for (int i = 0; i < s->n_ops; i++) n += 4 * params_of(s->op[i]);
    n += 4 * (size_t)s->n_test * s->in_rows * s->in_cols + 4 * (size_t)s->n_test;
    unsigned char *d = malloc(n), *p = d;
    memcpy(p, "BMML", 4);
    uint32_t head[] = {MODEL_VERSION, (uint32_t)s->n_ops, (uint32_t)s->n_test, (uint32_t)s->in_rows,
                       (uint32_t)s->in_cols, (uint32_t)s->classes};
    for (int i = 0; i < 6; i++) put32(p + 4 + 4 * i, head[i]);
    putf(p + 28, s->tol);
    p += 32;
    for (int i = 0; i < s->n_ops; i++, p += 16)
        for (int k = 0; k < 4; k++) put32(p + 4 * k, s->op[i][k]);
    for (int i = 0; i < s->n_ops; i++) {
        const uint32_t *o = s->op[i];
        size_t count = params_of(o);
        // weights of 1 / sqrt(fan-in), LayerNorm's gamma near 1: activations stay of order 1
        double scale = o[0] == OP_DENSE ? 1 / sqrt((double)o[1]) : 0.3;
        for (size_t j = 0; j < count; j++, p += 4) {
            double u = (double)(splitmix64(&seed) >> 11) / (1ull << 53) * 2 - 1;
            putf(p, (float)(o[0] == OP_LAYERNORM && j < o[1] ? 1 + 0.2 * u : scale * u));
        }
    }
    for (size_t j = 0; j < (size_t)s->n_test * s->in_rows * s->in_cols; j++, p += 4)
        putf(p, (float)((splitmix64(&seed) >> 11) % 17) / 16); // pixel / 16, as the digits
    for (int i = 0; i < s->n_test; i++, p += 4) put32(p, (uint32_t)(i % s->classes));
    *size = n;
    return d;
}

// A ViT as the design describes, of sizes d (model width), heads, f (MLP
// width) on side x side images in patches of p: PATCHES; DENSE (embed);
// ADD_POS; blocks of [SAVE; LAYERNORM; DENSE 3d; ATTENTION; DENSE; ADD;
// SAVE; LAYERNORM; DENSE f; GELU; DENSE d; ADD]; LAYERNORM; MEAN; DENSE; SOFTMAX.
static inline struct spec vit(int side, int p, int d, int heads, int f, int blocks, int classes, int n_test) {
    struct spec s = {.n_test = n_test, .in_rows = side, .in_cols = side, .classes = classes, .tol = 1e-3f};
    int t = (side / p) * (side / p), n = 0;
#define OP(k, a, b, c) (s.op[n][0] = (k), s.op[n][1] = (a), s.op[n][2] = (b), s.op[n][3] = (c), n++)
    OP(OP_PATCHES, p, 0, 0), OP(OP_DENSE, p * p, d, ROLE_EMBED), OP(OP_ADD_POS, t, d, 0);
    for (int b = 0; b < blocks; b++) {
        OP(OP_SAVE, 0, 0, 0), OP(OP_LAYERNORM, d, 0, 0), OP(OP_DENSE, d, 3 * d, ROLE_ATTENTION);
        OP(OP_ATTENTION, heads, 0, 0), OP(OP_DENSE, d, d, ROLE_ATTENTION), OP(OP_ADD, 0, 0, 0);
        OP(OP_SAVE, 0, 0, 0), OP(OP_LAYERNORM, d, 0, 0), OP(OP_DENSE, d, f, ROLE_MLP), OP(OP_GELU, 0, 0, 0);
        OP(OP_DENSE, f, d, ROLE_MLP), OP(OP_ADD, 0, 0, 0);
    }
    OP(OP_LAYERNORM, d, 0, 0), OP(OP_MEAN, 0, 0, 0), OP(OP_DENSE, d, classes, ROLE_HEAD), OP(OP_SOFTMAX, 0, 0, 0);
#undef OP
    s.n_ops = n;
    return s;
}

// The digits perceptron's shape: DENSE 64 h; GELU; DENSE h classes; SOFTMAX
static inline struct spec mlp(int h, int classes, int n_test) {
    return (struct spec){.n_ops = 4, .op = {{OP_DENSE, 64, h, ROLE_MLP}, {OP_GELU}, {OP_DENSE, h, classes, ROLE_HEAD},
                                            {OP_SOFTMAX}},
                         .n_test = n_test, .in_rows = 1, .in_cols = 64, .classes = classes, .tol = 1e-3f};
}

// s written to a new file under /tmp, its path in path (room for 32 bytes); 0, or -1.
static inline int write_model(const struct spec *s, uint64_t seed, char *path) {
    size_t size;
    unsigned char *d = make_file(s, seed, &size);
    strcpy(path, "/tmp/bmml-model-XXXXXX");
    int fd = mkstemp(path);
    int ok = fd >= 0 && write(fd, d, size) == (ssize_t)size;
    if (fd >= 0) close(fd);
    free(d);
    return ok ? 0 : -1;
}

#endif
