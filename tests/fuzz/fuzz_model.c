// libFuzzer target for the model loader (model_parse in src/model.c): the
// input is a model file's bytes (format version 2). A refusal must say why
// and leave nothing to free; an accepted model must hold what the format
// promises: ops whose shapes chain from the input to (1, classes), SOFTMAX
// last, finite values, labels that are classes, int8 weights within half a
// step of the floats. Built by `make fuzz`.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static struct model m; // 16 KiB of op records

static void all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // a buffer of exactly size bytes, so AddressSanitizer sees a read one byte too far
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    char err[512];
    err[0] = '\0';
    if (model_parse(&m, copy, size, err, sizeof err) != 0) {
        if (!err[0] || !memchr(err, '\0', sizeof err)) abort(); // a refusal always says why
        if (m.n_ops || m.x || m.label) abort();                  // nothing to free
        free(copy);
        return 0;
    }
    if (m.n_test < 1 || m.n_ops < 1 || m.op[m.n_ops - 1].kind != OP_SOFTMAX) abort();
    int rows = m.in_rows, cols = m.in_cols;
    for (int i = 0; i < m.n_ops; i++) {
        const struct op *o = &m.op[i];
        if (o->rows != rows || o->cols != cols || (o->kind == OP_SOFTMAX) != (i == m.n_ops - 1)) abort();
        rows = o->out_rows, cols = o->out_cols;
        if (o->kind == OP_LAYERNORM) all_finite(o->p[0], o->a), all_finite(o->p[1], o->a);
        if (o->kind == OP_ADD_POS) all_finite(o->p[0], (size_t)o->a * o->b);
        if (o->kind != OP_DENSE) continue;
        all_finite(o->p[1], o->b);
        for (int j = 0; j < o->b; j++) {
            if (!(o->scale[j] >= 0)) abort();
            for (int p = 0; p < o->a; p++) {
                size_t k = (size_t)p * o->b + j;
                if (!isfinite(o->p[0][k])) abort();
                // the int8 weight scales back to within half a step (and a rounding) of the float
                if (fabsf(o->wq[k] * o->scale[j] - o->p[0][k]) > 0.5f * o->scale[j] * 1.0001f + 1e-30f) abort();
            }
        }
    }
    if (rows != 1 || cols != m.classes) abort();
    for (int i = 0; i < m.n_test; i++)
        if (m.label[i] < 0 || m.label[i] >= m.classes) abort();
    all_finite(m.x, (size_t)m.n_test * m.in_rows * m.in_cols);
    model_free(&m);
    free(copy);
    return 0;
}
