// libFuzzer target for the model loader (model_parse in src/model.c): the
// input is a model file's bytes. A refusal must say why and leave nothing to
// free; an accepted model must hold what the format promises: layers that
// chain, finite values, labels that are classes, int8 weights within half a
// step of the floats. Built by `make fuzz`.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // a buffer of exactly size bytes, so AddressSanitizer sees a read one byte too far
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    struct model m;
    char err[512];
    err[0] = '\0';
    if (model_parse(&m, copy, size, err, sizeof err) != 0) {
        if (!err[0] || !memchr(err, '\0', sizeof err)) abort(); // a refusal always says why
        for (int l = 0; l < MODEL_LAYERS; l++)
            if (m.layer[l].w || m.layer[l].b || m.layer[l].wq || m.layer[l].scale) abort(); // nothing to free
        if (m.x || m.label) abort();
        free(copy);
        return 0;
    }
    if (m.n_test < 1) abort();
    for (int l = 0; l < MODEL_LAYERS; l++) {
        const struct layer *ly = &m.layer[l];
        if (ly->n_in < 1 || ly->n_out < 1 || (l > 0 && ly->n_in != m.layer[l - 1].n_out)) abort();
        for (int j = 0; j < ly->n_out; j++) {
            if (!isfinite(ly->b[j]) || !(ly->scale[j] >= 0)) abort();
            for (int p = 0; p < ly->n_in; p++) {
                size_t i = (size_t)p * ly->n_out + j;
                if (!isfinite(ly->w[i])) abort();
                // the int8 weight scales back to within half a step (and a rounding) of the float
                if (fabsf(ly->wq[i] * ly->scale[j] - ly->w[i]) > 0.5f * ly->scale[j] * 1.0001f + 1e-30f) abort();
            }
        }
    }
    int classes = m.layer[MODEL_LAYERS - 1].n_out;
    for (int i = 0; i < m.n_test; i++) {
        if (m.label[i] < 0 || m.label[i] >= classes) abort();
        for (int p = 0; p < m.layer[0].n_in; p++)
            if (!isfinite(m.x[(size_t)i * m.layer[0].n_in + p])) abort();
    }
    model_free(&m);
    free(copy);
    return 0;
}
