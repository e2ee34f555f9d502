// A trained model end to end: the digits perceptron of models/digits.bmml,
// loaded once into C memory, run in every tier on that memory, its classes
// checked against the labels and against the pure-Python forward pass.
// The file format: the comment at the top of model.c.
#ifndef BMML_MODEL_H
#define BMML_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"

struct run_config; // runner.h

#define MODEL_VERSION 1
#define MODEL_LAYERS 2 // version 1: x -> dense + GELU -> dense + softmax
enum { ACT_GELU = 1, ACT_SOFTMAX = 2 };

struct layer {
    int n_in, n_out, act;
    float *w;     // (n_in, n_out), row-major: y = x @ w + b
    float *b;     // (n_out)
    int8_t *wq;   // w per output column: w[p][j] ~ wq[p][j] * scale[j], |wq| <= 127
    float *scale; // (n_out)
};

struct model {
    struct layer layer[MODEL_LAYERS];
    int n_test;
    float *x;       // (n_test, layer[0].n_in), the test images, pixel / 16
    int32_t *label; // (n_test), in [0, layer[MODEL_LAYERS - 1].n_out)
};

// Read and check a model file. 0, or -1 with what is wrong in err and
// nothing to free. Every buffer is 64-byte aligned.
int model_load(struct model *m, const char *path, char *err, size_t errlen);
// The same from the file's bytes in memory.
int model_parse(struct model *m, const void *data, size_t size, char *err, size_t errlen);
void model_free(struct model *m);

// Where the model is: models/digits.bmml of the source tree when this binary
// runs from the build tree, else the installed copy in $(pkgdatadir)/models.
const char *model_default_path(void);

// Largest |logit - the Python pass's logit| an fp32 tier may show (model.c says why).
#define MODEL_LOGIT_TOL 1e-3

// One tier's run of the whole test set, in batches: its timing as any
// tier's (median per pass over the test set), then what the model adds.
struct model_tier {
    struct tier_result r;     // r.status: fp32 fails on a class or a logit off the reference; int8 only reports
    int int8;                 // 1: quantized weights and activations, int8 matmul
    double batch_ns, inference_ns; // the median per batch and per image
    double accuracy;          // share of the test images given their label
    double agreement;         // share given the reference pass's class
    int changed;              // images whose class differs from the reference's
    double max_logit_diff;    // largest |logit - reference logit|
};

// python, numpy, the native tiers in fp32, the native tiers in int8
#define MODEL_TIERS (2 * (T_AVX512 - T_SCALAR + 1) + 2)

struct model_result {
    char path[512];
    int dims[MODEL_LAYERS + 1]; // 64, 128, 10
    int n_test, batch, n_batches;
    int ref;                  // index in tiers of the reference pass (Python's, else scalar's); -1: none ran
    int n_tiers;
    struct model_tier tiers[MODEL_TIERS];
};

// Load path and run its test set in every tier cfg selects (cfg->tiers; the
// native tiers run fp32 and int8) in batches of `batch` images, 0 or more
// than the test set meaning all of it at once. The Python tiers need the
// interpreter started (cfg->python, cfg->numpy), and import model.py.
// 0 when it ran, whatever the tiers' status; -1 with the reason in err when
// the model could not be loaded or memory could not be had.
int model_run(const char *path, size_t batch, const struct run_config *cfg, struct model_result *out,
              char *err, size_t errlen);

#endif
