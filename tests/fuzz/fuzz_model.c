// libFuzzer target for the model loader (model_parse in src/model.c): the
// input is a model file's bytes (format version 2). A refusal must say why
// and leave nothing to free; an accepted model must hold what the format
// promises: ops whose shapes chain from the input to (1, classes), SOFTMAX
// last, finite values, labels that are classes, int8 weights within half a
// step of the floats. An accepted model small enough to run in a moment is
// then run by the scalar tier's interpreter, fp32 and int8, in batches of
// 2, so AddressSanitizer watches the buffers model.c sizes from the
// shapes. Built by `make fuzz`.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"
#include "model.h"

static struct model m; // 16 KiB of op records

// Values the interpreter touches (n_test x the largest activation or
// attention scores of one image) and multiply-adds it does: below these it
// runs in milliseconds under the sanitizers, and the fuzzer keeps its pace.
#define RUN_VALUES 1000000.0
#define RUN_WORK 20000000.0

static int small_enough(const struct model *md) {
    double most = (double)md->in_rows * md->in_cols, work = 0;
    for (int i = 0; i < md->n_ops; i++) {
        const struct op *o = &md->op[i];
        double in = (double)o->rows * o->cols, out = (double)o->out_rows * o->out_cols;
        double scores = o->kind == OP_ATTENTION ? (double)o->a * o->rows * o->rows : 0;
        most = fmax(most, fmax(out, scores));
        work += o->kind == OP_DENSE ? (double)o->rows * o->a * o->b
                : o->kind == OP_ATTENTION ? 2 * scores * (o->out_cols / o->a) : in;
    }
    return md->n_test * most < RUN_VALUES && md->n_test * work < RUN_WORK;
}

// The scalar tier's forward pass, fp32 then int8, in batches of 2; the
// probabilities of every image that came out finite sum to 1 (an overflow
// to infinity in the activations may leave NaN, which is no memory error).
static void run_scalar(const struct model *md) {
    size_t n = (size_t)md->n_test * md->classes;
    float *logits = malloc(n * 4), *probs = malloc(n * 4);
    double cat[N_CATEGORIES], pass;
    char err[256];
    for (int int8 = 0; int8 < 2 && logits && probs; int8++) {
        if (model_forward(md, T_SCALAR, int8, cpu_features(CAP_AVX512), 2, logits, probs, cat, &pass, err,
                          sizeof err) != 0)
            abort(); // the scalar tier is always there; memory for a small model always is
        for (int i = 0; i < md->n_test; i++) {
            double sum = 0;
            for (int j = 0; j < md->classes; j++) sum += probs[(size_t)i * md->classes + j];
            if (isfinite(sum) && fabs(sum - 1) > 1e-3) abort();
        }
    }
    free(logits), free(probs);
}

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
    if (small_enough(&m)) run_scalar(&m);
    model_free(&m);
    free(copy);
    return 0;
}
