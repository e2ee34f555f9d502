// A trained model end to end: a file of model format version 2 (a sequence
// of operations: the digits perceptron of models/digits.bmml, the vision
// transformer of models/vit.bmml), loaded once into C memory, run in every
// tier on that memory as an interpreter over its operations, its classes
// checked against the labels and against the pure-Python forward pass, and
// its time split by operation. The file format: the comment at the top of
// model.c.
#ifndef BMML_MODEL_H
#define BMML_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"

struct run_config; // runner.h

#define MODEL_VERSION 2
#define MODEL_MAX_OPS 256
#define MODEL_MAX_STACK 4 // SAVE's residual stack

enum op_kind {
    OP_DENSE = 1, OP_GELU, OP_SOFTMAX, OP_LAYERNORM, OP_PATCHES,
    OP_ADD_POS, OP_SAVE, OP_ADD, OP_ATTENTION, OP_MEAN, OP_KINDS_END
};
extern const char *const op_names[OP_KINDS_END]; // "DENSE", ...

// DENSE's role, for the per-operation table
enum { ROLE_EMBED = 1, ROLE_ATTENTION, ROLE_MLP, ROLE_HEAD };

// Where a pass spends its time, in table order
enum category {
    CAT_EMBED,        // PATCHES, DENSE role 1, ADD_POS
    CAT_LAYERNORM,
    CAT_ATTN_MATMUL,  // DENSE role 2 and attention's split, scores, context, merge
    CAT_ATTN_SOFTMAX,
    CAT_MLP_MATMUL,   // DENSE role 3
    CAT_GELU,
    CAT_RESIDUAL,     // SAVE (free: the saved activation stays where it is), ADD
    CAT_HEAD,         // MEAN, DENSE role 4, SOFTMAX
    N_CATEGORIES
};
extern const char *const category_names[N_CATEGORIES]; // "embed", "layernorm", ...

struct op {
    int kind, a, b, c;        // as in the file
    int rows, cols;           // the activation it takes, per image
    int out_rows, out_cols;   // the one it leaves
    float *p[2];              // DENSE: w (a x b, row-major: y = x @ w + bias), bias (b);
                              // LAYERNORM: gamma, beta; ADD_POS: pos (a x b)
    int8_t *wq;               // DENSE: w per output column, w[i][j] ~ wq[i][j] * scale[j], |wq| <= 127
    float *scale;             // DENSE: (b)
};

struct model {
    int n_ops, n_test, in_rows, in_cols, classes;
    double logit_tol; // the bound on |logit - the Python pass's logit| an fp32 tier may show
    struct op op[MODEL_MAX_OPS];
    float *x;       // (n_test, in_rows, in_cols), the test images, pixel / 16
    int32_t *label; // (n_test), each in [0, classes)
};

// Read and check a model file. 0, or -1 with what is wrong in err and
// nothing to free. Every buffer is 64-byte aligned.
int model_load(struct model *m, const char *path, char *err, size_t errlen);
// The same from the file's bytes in memory.
int model_parse(struct model *m, const void *data, size_t size, char *err, size_t errlen);
void model_free(struct model *m);

// The committed models: models/digits.bmml and models/vit.bmml of the source
// tree when this binary runs from the build tree, else the installed copies
// in $(pkgdatadir)/models. MODEL_DEFAULTS paths.
#define MODEL_DEFAULTS 2
const char *model_default_path(int i);

// One forward pass over the whole test set by one native tier, outside the
// timing (for the tests): logits and probs (n_test, classes), cat_ns the time
// of each category, pass_ns the pass's. 0, or -1 with the reason in err
// (the tier is unavailable here, or no memory).
int model_forward(const struct model *m, int tier, int int8, unsigned cpu, int batch, float *logits, float *probs,
                  double cat_ns[N_CATEGORIES], double *pass_ns, char *err, size_t errlen);

// One tier's run of the whole test set, in batches: its timing as any
// tier's (median per pass over the test set), then what the model adds.
struct model_tier {
    struct tier_result r;     // r.status: fp32 fails on a class or a logit off the reference; int8 only reports
    int int8;                 // 1: DENSE with quantized weights and activations, int8 matmul
    double batch_ns, inference_ns; // the median per batch and per image
    double accuracy;          // share of the test images given their label
    double agreement;         // share given the reference pass's class
    int changed;              // images whose class differs from the reference's
    double max_logit_diff;    // largest |logit - reference logit|
    // Over the op_passes timed passes (warm-ups left out), each category's
    // median time and the median pass's time, all measured by the host's
    // clock around each step and around the pass; 0 when none was timed.
    // Medians of the parts need not add up to the pass's: the reports show
    // their sum beside it.
    double cat_ns[N_CATEGORIES], pass_ns;
    long op_passes;
};

// python, numpy, the native tiers in fp32, the native tiers in int8
#define MODEL_TIERS (2 * (T_AVX512 - T_SCALAR + 1) + 2)

struct model_result {
    char path[512];
    char name[64];            // the file's name without directory and ".bmml": "vit"
    int n_ops, in_rows, in_cols, classes;
    int counts[OP_KINDS_END]; // ops of each kind
    double logit_tol;
    int n_test, batch, n_batches;
    int ref;                  // index in tiers of the reference pass (Python's, else scalar's); -1: none ran
    int steps;                // steps of one pass over the test set, the host's clock read around each
    double clock_read_ns;     // what one reading of the clock costs, measured by model_run
    int n_tiers;
    struct model_tier tiers[MODEL_TIERS];
};

// Load path and run its test set in every tier cfg selects (cfg->tiers; the
// native tiers run fp32 and int8) in batches of `batch` images, 0 or more
// than the test set meaning all of it at once. The Python tiers need the
// interpreter started (cfg->python, cfg->numpy), and import model.py and
// numpy_model.py. 0 when it ran, whatever the tiers' status; -1 with the
// reason in err when the model could not be loaded or memory could not be had.
int model_run(const char *path, size_t batch, const struct run_config *cfg, struct model_result *out,
              char *err, size_t errlen);

#endif
