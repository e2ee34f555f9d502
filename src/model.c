// The digits perceptron end to end: load, quantize, run every tier, compare.
//
// The file, models/digits.bmml (written by tools/train_digits.py), all
// integers unsigned 32-bit and everything little-endian:
//
//   offset  size          field
//   0       4             magic "BMML"
//   4       4             version, 1
//   8       4             L, the number of layers: 2 in version 1
//   12      4             N, the number of test images, >= 1
//   16      4             reserved, 0
//   20      12 L          per layer: inputs, outputs, activation (1 GELU, tanh
//                         approximation; 2 softmax); version 1 is GELU then
//                         softmax, each layer's inputs the previous one's outputs
//   ...                   per layer: float32 weights (inputs x outputs, row-major,
//                         so y = x @ W + b), then float32 biases (outputs)
//   ...                   float32 test images (N x inputs of layer 1), pixel / 16
//   ...                   int32 labels (N), each in [0, outputs of layer L)
//   end                   the file ends there: no byte more, none less
//
// Sizes are limited (MAX_DIM, MAX_TEST) and the byte count is computed with
// overflow checks before anything is read past the header.
//
// The int8 weights are not in the file: model_parse derives them (per output
// column, symmetric: scale = max |w| / 127). The float weights are the model
// and int8 is one way to run it; deriving keeps one truth in the file, so the
// two cannot disagree, and costs some microseconds for 9,472 weights.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "embed.h"
#include "kernels.h"
#include "model.h"
#include "parallel.h"
#include "quant.h"
#include "runner.h"
#include "util.h"

#define HEADER_BYTES 20
#define LAYER_BYTES 12
#define MAX_DIM 65536      // inputs or outputs of a layer
#define MAX_TEST (1 << 24) // test images
#define MAX_FILE (1L << 30)

static uint32_t le32(const unsigned char *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void model_free(struct model *m) {
    for (int l = 0; l < MODEL_LAYERS; l++) {
        free(m->layer[l].w), free(m->layer[l].b);
        free(m->layer[l].wq), free(m->layer[l].scale);
    }
    free(m->x), free(m->label);
    memset(m, 0, sizeof *m);
}

// Copy count float32 from the file at *at into a new buffer; NULL on a value
// that is not finite (a corrupted file) or no memory.
static float *take_f32(const unsigned char *data, size_t *at, size_t count, const char *what,
                       char *err, size_t errlen) {
    float *v = aligned_new(count * 4);
    if (!v) return failf(err, errlen, "%s: out of memory", what), NULL;
    memcpy(v, data + *at, count * 4); // x86-64 only (configure.ac): the file's byte order
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(v[i])) {
            free(v);
            return failf(err, errlen, "%s: value %zu is not a finite number", what, i), NULL;
        }
    }
    *at += count * 4;
    return v;
}

// Per output column j (quant.h): w[p][j] ~ wq[p][j] * scale[j].
static int quantize_weights(struct layer *l) {
    l->wq = aligned_new((size_t)l->n_in * l->n_out);
    l->scale = aligned_new((size_t)l->n_out * 4);
    if (!l->wq || !l->scale) return -1;
    quantize_i8(l->wq, l->scale, l->w, l->n_out, l->n_in, 1, l->n_out);
    return 0;
}

int model_parse(struct model *m, const void *bytes, size_t size, char *err, size_t errlen) {
    const unsigned char *data = bytes;
    memset(m, 0, sizeof *m);
    if (size < HEADER_BYTES)
        return failf(err, errlen, "truncated: %zu bytes, the header alone has %d", size, HEADER_BYTES);
    if (memcmp(data, "BMML", 4) != 0) return failf(err, errlen, "not a bmml model: the magic is not \"BMML\"");
    uint32_t version = le32(data + 4), n_layers = le32(data + 8), n_test = le32(data + 12);
    if (version != MODEL_VERSION)
        return failf(err, errlen, "version %u; this bmml reads version %d", version, MODEL_VERSION);
    if (n_layers != MODEL_LAYERS)
        return failf(err, errlen, "%u layers; version %d has %d", n_layers, MODEL_VERSION, MODEL_LAYERS);
    if (n_test < 1 || n_test > MAX_TEST)
        return failf(err, errlen, "%u test images; the format allows 1 to %d", n_test, MAX_TEST);
    if (le32(data + 16) != 0) return failf(err, errlen, "the reserved header field is not 0");
    if (size < HEADER_BYTES + LAYER_BYTES * MODEL_LAYERS)
        return failf(err, errlen, "truncated: %zu bytes, the layer shapes end at %d", size,
                    HEADER_BYTES + LAYER_BYTES * MODEL_LAYERS);

    // each dimension <= 2^16 and n_test <= 2^24 keep every product below 2^40:
    // the sum below cannot overflow a 64-bit size_t
    size_t need = HEADER_BYTES + LAYER_BYTES * MODEL_LAYERS;
    for (int l = 0; l < MODEL_LAYERS; l++) {
        const unsigned char *p = data + HEADER_BYTES + LAYER_BYTES * l;
        uint32_t n_in = le32(p), n_out = le32(p + 4), act = le32(p + 8);
        if (n_in < 1 || n_in > MAX_DIM || n_out < 1 || n_out > MAX_DIM)
            return failf(err, errlen, "layer %d: shape %u x %u; each side must be 1 to %d", l + 1, n_in, n_out, MAX_DIM);
        if (l > 0 && (int)n_in != m->layer[l - 1].n_out)
            return failf(err, errlen, "layer %d takes %u inputs but layer %d gives %d", l + 1, n_in, l,
                        m->layer[l - 1].n_out);
        uint32_t want = l == MODEL_LAYERS - 1 ? ACT_SOFTMAX : ACT_GELU;
        if (act != want)
            return failf(err, errlen, "layer %d: activation %u; version %d wants %u (%s)", l + 1, act,
                        MODEL_VERSION, want, want == ACT_GELU ? "GELU" : "softmax");
        m->layer[l] = (struct layer){(int)n_in, (int)n_out, (int)act, NULL, NULL, NULL, NULL};
        need += ((size_t)n_in * n_out + n_out) * 4;
    }
    m->n_test = (int)n_test;
    need += (size_t)n_test * m->layer[0].n_in * 4 + (size_t)n_test * 4;
    if (size < need) return failf(err, errlen, "truncated: %zu bytes, the shapes in the header need %zu", size, need);
    if (size > need)
        return failf(err, errlen, "%zu bytes where the shapes in the header need %zu: the shapes do not match the file",
                    size, need);

    size_t at = HEADER_BYTES + LAYER_BYTES * MODEL_LAYERS;
    char what[64];
    for (int l = 0; l < MODEL_LAYERS; l++) {
        struct layer *ly = &m->layer[l];
        snprintf(what, sizeof what, "layer %d weights", l + 1);
        if (!(ly->w = take_f32(data, &at, (size_t)ly->n_in * ly->n_out, what, err, errlen))) goto bad;
        snprintf(what, sizeof what, "layer %d biases", l + 1);
        if (!(ly->b = take_f32(data, &at, ly->n_out, what, err, errlen))) goto bad;
        if (quantize_weights(ly) < 0) {
            failf(err, errlen, "out of memory");
            goto bad;
        }
    }
    if (!(m->x = take_f32(data, &at, (size_t)m->n_test * m->layer[0].n_in, "test images", err, errlen))) goto bad;
    if (!(m->label = aligned_new((size_t)m->n_test * 4))) {
        failf(err, errlen, "out of memory");
        goto bad;
    }
    int classes = m->layer[MODEL_LAYERS - 1].n_out;
    for (int i = 0; i < m->n_test; i++) {
        m->label[i] = (int32_t)le32(data + at + 4 * (size_t)i);
        if (m->label[i] < 0 || m->label[i] >= classes) {
            failf(err, errlen, "label of test image %d is %d, not a class in 0..%d", i, m->label[i], classes - 1);
            goto bad;
        }
    }
    return 0;
bad:
    model_free(m);
    return -1;
}

int model_load(struct model *m, const char *path, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    size_t size;
    char *data = read_file(path, MAX_FILE, &size, err, errlen);
    if (!data) return -1;
    char why[256];
    int rc = model_parse(m, data, size, why, sizeof why) < 0 ? failf(err, errlen, "%s: %s", path, why) : 0;
    free(data);
    return rc;
}

const char *model_default_path(void) {
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/models/digits.bmml", in_build_tree() ? BMML_SRCDIR : BMML_PKGDATADIR);
    return path;
}

// ---------------------------------------------------------------------------
// The forward pass, one batch of rows, with one tier's kernels from the table

struct ops {
    matmul_f32_fn matmul;
    matmul_i8_fn matmul_i8; // NULL: the fp32 path
    unary_f32_fn gelu, softmax;
};

// Scratch for one batch: the hidden layer, and the int8 path's quantized rows
struct work {
    float *pre, *hid;   // (batch, hidden)
    int8_t *q;          // (batch, widest input)
    float *qscale;      // (batch)
    int32_t *acc;       // (batch, widest output)
};

static void add_bias(float *y, const float *b, int rows, int n) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < n; j++) y[(size_t)i * n + j] += b[j];
}

// y = x @ w + b. The int8 path quantizes each row of x symmetrically
// (scale = max |x| / 127), multiplies exactly in int32, and scales back:
// y[i][j] = acc[i][j] * xscale[i] * wscale[j] + b[j].
static void dense(const struct ops *op, const struct work *w, float *y, const float *x, const struct layer *l, int rows) {
    if (!op->matmul_i8) {
        op->matmul(y, x, l->w, rows, l->n_out, l->n_in);
        add_bias(y, l->b, rows, l->n_out);
        return;
    }
    quantize_i8(w->q, w->qscale, x, rows, l->n_in, l->n_in, 1);
    op->matmul_i8(w->acc, w->q, l->wq, rows, l->n_out, l->n_in);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < l->n_out; j++)
            y[(size_t)i * l->n_out + j] = (float)w->acc[(size_t)i * l->n_out + j] * (w->qscale[i] * l->scale[j]) + l->b[j];
}

// x (rows, 64) -> GELU(x @ W1 + b1) -> @ W2 + b2 = logits -> softmax per row = probs
static void forward(const struct ops *op, const struct work *w, float *probs, float *logits, const float *x,
                    const struct model *m, int rows) {
    const struct layer *l1 = &m->layer[0], *l2 = &m->layer[1];
    dense(op, w, w->pre, x, l1, rows);
    op->gelu(w->hid, w->pre, (size_t)rows * l1->n_out);
    dense(op, w, logits, w->hid, l2, rows);
    for (int i = 0; i < rows; i++)
        op->softmax(probs + (size_t)i * l2->n_out, logits + (size_t)i * l2->n_out, l2->n_out);
}

// ---------------------------------------------------------------------------
// Tiers: each runs the whole test set in batches on the same buffers



struct run {
    const struct model *m;
    int batch, n_batches, classes;
    struct work w;
    float *probs, *logits;                      // (n_test, classes): the tier running now writes here
    float *kept[MODEL_TIERS][2];              // each tier's probs and logits, for scoring at the end
};

// One tier's way to run a batch: its kernels, or prepared Python calls
struct pass {
    struct ops op;
    struct py_call **py; // one per batch, views over that batch's rows
};

static int run_pass(const struct run *r, const struct pass *p, char *err, size_t errlen) {
    const struct model *m = r->m;
    for (int b = 0; b < r->n_batches; b++) {
        size_t r0 = (size_t)b * r->batch;
        int rows = m->n_test - (int)r0 < r->batch ? m->n_test - (int)r0 : r->batch;
        if (p->py) {
            if (embed_call(p->py[b], err, errlen) < 0) return -1;
        } else {
            forward(&p->op, &r->w, r->probs + r0 * r->classes, r->logits + r0 * r->classes,
                    m->x + r0 * m->layer[0].n_in, m, rows);
        }
    }
    return 0;
}

static void py_calls_free(struct py_call **calls, int n) {
    for (int b = 0; calls && b < n; b++) embed_call_free(calls[b]);
    free(calls);
}

// module.forward(probs, logits, hidden, x, w1, b1, w2, b2) per batch: the
// sizes follow from the views' lengths (model.py)
static struct py_call **py_calls_new(const char *module, const struct run *r, char *err, size_t errlen) {
    const struct model *m = r->m;
    const struct layer *l1 = &m->layer[0], *l2 = &m->layer[1];
    struct py_call **calls = calloc(r->n_batches, sizeof *calls);
    if (!calls) return failf(err, errlen, "out of memory"), NULL;
    for (int b = 0; b < r->n_batches; b++) {
        size_t r0 = (size_t)b * r->batch;
        size_t rows = m->n_test - r0 < (size_t)r->batch ? m->n_test - r0 : (size_t)r->batch;
        struct py_arg a[8] = {
            {ARG_VIEW, r->probs + r0 * r->classes, rows * r->classes, 'f', 0},
            {ARG_VIEW, r->logits + r0 * r->classes, rows * r->classes, 'f', 0},
            {ARG_VIEW, r->w.hid, rows * l1->n_out, 'f', 0},
            {ARG_VIEW, m->x + r0 * l1->n_in, rows * l1->n_in, 'f', 0},
            {ARG_VIEW, l1->w, (size_t)l1->n_in * l1->n_out, 'f', 0},
            {ARG_VIEW, l1->b, (size_t)l1->n_out, 'f', 0},
            {ARG_VIEW, l2->w, (size_t)l2->n_in * l2->n_out, 'f', 0},
            {ARG_VIEW, l2->b, (size_t)l2->n_out, 'f', 0},
        };
        if (!(calls[b] = embed_call_new(module, "forward", a, 8, err, errlen))) {
            py_calls_free(calls, b);
            return NULL;
        }
    }
    return calls;
}

// This tier's kernels from the table, as this CPU runs them
static int pick_ops(int tier, int int8, unsigned cpu, struct ops *op, const char **isa, char *why, size_t whylen) {
    const struct variant *mm = variant_pick(kernel_find(int8 ? "matmul_int8" : "matmul"), tier, cpu, NULL, why, whylen);
    const struct variant *g = mm ? variant_pick(kernel_find("gelu"), tier, cpu, NULL, why, whylen) : NULL;
    const struct variant *s = g ? variant_pick(kernel_find("softmax"), tier, cpu, NULL, why, whylen) : NULL;
    if (!s) return -1;
    *op = (struct ops){int8 ? NULL : mm->fn.matmul_f32, int8 ? mm->fn.matmul_i8 : NULL, g->fn.unary, s->fn.unary};
    *isa = mm->isa;
    return 0;
}

// What sample_tier times: one pass over the test set
struct timed_pass {
    const struct run *r;
    const struct pass *p;
    int slot; // where the checked pass's outputs were kept
};

// A Python pass is long beside a check: each timed one is checked, untimed,
// against the pass checked before timing, so a script that skips work once
// it is being timed fails. NaN, the poison, never compares within tolerance.
static void poison_outputs(void *what) {
    const struct timed_pass *tp = what;
    size_t bytes = (size_t)tp->r->m->n_test * tp->r->classes * 4;
    memset(tp->r->probs, 0xff, bytes), memset(tp->r->logits, 0xff, bytes);
}

static int same_outputs(void *what, struct tier_result *tr) {
    const struct timed_pass *tp = what;
    size_t n = (size_t)tp->r->m->n_test * tp->r->classes;
    const float *kept = tp->r->kept[tp->slot][1];
    for (size_t i = 0; i < n; i++) {
        if (!(fabsf(tp->r->logits[i] - kept[i]) <= MODEL_LOGIT_TOL) ||
            !(fabsf(tp->r->probs[i] - tp->r->kept[tp->slot][0][i]) <= MODEL_LOGIT_TOL)) {
            tr->status = ST_FAILED;
            snprintf(tr->note, sizeof tr->note,
                     "a timed pass gave other outputs than the checked one (output %zu): the script skipped work", i);
            return -1;
        }
    }
    return 0;
}

static int timed_pass(void *what, char *err, size_t errlen) {
    const struct timed_pass *tp = what;
    return run_pass(tp->r, tp->p, err, errlen);
}

static void run_tier(struct run *r, int slot, const struct run_config *cfg, struct model_tier *t) {
    struct pass p = {0};
    struct tier_result *tr = &t->r;
    tr->status = ST_UNAVAILABLE;
    if (tr->tier == T_PYTHON) {
        if (!cfg->python) return (void)snprintf(tr->note, sizeof tr->note, "kernels.py did not import");
        tr->isa = "CPython";
        if (!(p.py = py_calls_new("model", r, tr->note, sizeof tr->note))) return;
    } else if (tr->tier == T_NUMPY) {
        if (!cfg->numpy) return (void)snprintf(tr->note, sizeof tr->note, "%s", cfg->numpy_note);
        tr->isa = "NumPy";
        if (!(p.py = py_calls_new("numpy_kernels", r, tr->note, sizeof tr->note))) return;
    } else if (pick_ops(tr->tier, t->int8, cfg->cpu, &p.op, &tr->isa, tr->note, sizeof tr->note) < 0) {
        return;
    }
    // one pass to check, kept for scoring, then the timed passes
    size_t out_bytes = (size_t)r->m->n_test * r->classes * 4;
    memset(r->probs, 0xff, out_bytes), memset(r->logits, 0xff, out_bytes); // NaN: a pass that writes nothing shows
    tr->status = ST_FAILED;
    double t0 = now_ns();
    if (run_pass(r, &p, tr->note, sizeof tr->note) < 0) goto done;
    double first = now_ns() - t0;
    memcpy(r->kept[slot][0], r->probs, out_bytes);
    memcpy(r->kept[slot][1], r->logits, out_bytes);
    char size[32];
    snprintf(size, sizeof size, "%s/batch%d", t->int8 ? "int8" : "fp32", r->batch);
    struct timed_pass tp = {r, &p, slot};
    static const struct call_guard checked = {poison_outputs, same_outputs};
    int is_py = tr->tier == T_PYTHON || tr->tier == T_NUMPY;
    if (sample_tier(timed_pass, is_py ? &checked : NULL, &tp, first, cfg, "model", size, tr) < 0) goto done;
    t->batch_ns = tr->median_ns / r->n_batches;
    t->inference_ns = tr->median_ns / r->m->n_test;
done:
    finish_tier(tr);
    py_calls_free(p.py, r->n_batches);
}

// the first largest value's index
static int argmax(const float *v, int n) {
    int best = 0;
    for (int j = 1; j < n; j++) best = v[j] > v[best] ? j : best;
    return best;
}

// Accuracy, agreement with the reference pass and the largest logit difference.
// fp32 must agree on every class and stay within MODEL_LOGIT_TOL; int8 only reports.
//
// MODEL_LOGIT_TOL bounds the error of a float32 forward pass: with any order
// of summation (Higham, Accuracy and Stability, 3.5) it is at most
//   |d pre|   <= gamma_n1 sum_p |x_p w1_pj| + 2u |pre|           (matmul, bias; n1 inputs)
//   |d h|     <= max |GELU'| |d pre| + the GELU kernel's 1e-6 + 1e-6 |h|,  max |GELU'| = 1.13
//   |d logit| <= gamma_n2 sum_p |h_p w2_pj| + sum_p |d h_p| |w2_pj| + 2u |logit|
// with gamma_k = k u / (1 - k u), u = 2^-24; the Python twin rounds once per
// stored value. The tolerance holds for a model whose bound over its test set
// stays below it, and the class cannot change where an image's two largest
// logits are more than twice the tolerance apart. The committed file meets
// both (the figures: the message of commit 8f5d080).
static void score(const struct run *r, int slot, int ref, const char *ref_name, struct model_tier *t) {
    const float *probs = r->kept[slot][0], *logits = r->kept[slot][1];
    const float *ref_probs = ref >= 0 ? r->kept[ref][0] : NULL, *ref_logits = ref >= 0 ? r->kept[ref][1] : NULL;
    int n = r->m->n_test, c = r->classes, right = 0, same = 0, bad_row = -1;
    double diff = 0, sum_err = 0;
    for (int i = 0; i < n; i++) {
        const float *pi = probs + (size_t)i * c;
        int cls = argmax(pi, c);
        right += cls == r->m->label[i];
        double sum = 0;
        for (int j = 0; j < c; j++) sum += pi[j];
        // 10 terms of a few ulp each: 1e-5 leaves room and still catches a row left unscaled
        if (!(fabs(sum - 1) <= 1e-5) && bad_row < 0) bad_row = i, sum_err = sum;
        if (!ref_probs) continue;
        same += cls == argmax(ref_probs + (size_t)i * c, c);
        for (int j = 0; j < c; j++) {
            double d = fabs((double)logits[(size_t)i * c + j] - ref_logits[(size_t)i * c + j]);
            diff = d > diff || isnan(d) ? d : diff; // NaN sticks: a logit never written fails
        }
    }
    t->accuracy = (double)right / n;
    t->agreement = ref_probs ? (double)same / n : NAN;
    t->changed = ref_probs ? n - same : 0;
    t->max_logit_diff = ref_probs ? diff : NAN;
    if (bad_row >= 0) {
        t->r.status = ST_FAILED;
        snprintf(t->r.note, sizeof t->r.note, "the probabilities of test image %d sum to %g", bad_row, sum_err);
    } else if (slot == ref) {
        snprintf(t->r.note, sizeof t->r.note, "the reference");
    } else if (!ref_probs) {
        snprintf(t->r.note, sizeof t->r.note, "no reference pass ran: agreement not checked");
    } else if (t->int8) {
        snprintf(t->r.note, sizeof t->r.note, "%d of %d classes differ from %s's", t->changed, n, ref_name);
    } else if (t->changed || !(diff <= MODEL_LOGIT_TOL)) {
        t->r.status = ST_FAILED;
        snprintf(t->r.note, sizeof t->r.note, "%d classes differ from the reference; max |logit difference| %.3g (tolerance %g)",
                 t->changed, diff, MODEL_LOGIT_TOL);
    }
}

static void work_free(struct run *r) {
    free(r->w.pre), free(r->w.hid), free(r->w.q), free(r->w.qscale), free(r->w.acc);
    free(r->probs), free(r->logits);
    for (int i = 0; i < MODEL_TIERS; i++) free(r->kept[i][0]), free(r->kept[i][1]);
}

static int work_new(struct run *r) {
    const struct model *m = r->m;
    size_t rows = (size_t)r->batch, hidden = m->layer[0].n_out, out = (size_t)m->n_test * r->classes;
    size_t widest_in = m->layer[0].n_in > m->layer[1].n_in ? m->layer[0].n_in : m->layer[1].n_in;
    r->w = (struct work){aligned_new(rows * hidden * 4), aligned_new(rows * hidden * 4), aligned_new(rows * widest_in),
                         aligned_new(rows * 4), aligned_new(rows * (hidden > (size_t)r->classes ? hidden : (size_t)r->classes) * 4)};
    r->probs = aligned_new(out * 4), r->logits = aligned_new(out * 4);
    int ok = r->w.pre && r->w.hid && r->w.q && r->w.qscale && r->w.acc && r->probs && r->logits;
    for (int i = 0; i < MODEL_TIERS; i++) {
        r->kept[i][0] = aligned_new(out * 4), r->kept[i][1] = aligned_new(out * 4);
        ok = ok && r->kept[i][0] && r->kept[i][1];
    }
    return ok ? 0 : -1;
}

int model_run(const char *path, size_t batch, const struct run_config *cfg, struct model_result *out,
              char *err, size_t errlen) {
    struct model m;
    memset(out, 0, sizeof *out);
    if (model_load(&m, path, err, errlen) < 0) return -1;
    snprintf(out->path, sizeof out->path, "%s", path);
    for (int l = 0; l < MODEL_LAYERS; l++) out->dims[l] = m.layer[l].n_in;
    out->dims[MODEL_LAYERS] = m.layer[MODEL_LAYERS - 1].n_out;
    out->n_test = m.n_test;
    out->batch = batch == 0 || batch > (size_t)m.n_test ? m.n_test : (int)batch;
    out->n_batches = (m.n_test + out->batch - 1) / out->batch;
    struct run r = {.m = &m, .batch = out->batch, .n_batches = out->n_batches, .classes = out->dims[MODEL_LAYERS]};
    if (work_new(&r) < 0) {
        work_free(&r);
        model_free(&m);
        return failf(err, errlen, "%s: out of memory for a batch of %d", path, out->batch);
    }
    struct run_config c = *cfg;
    c.pass = 0, c.passes = 1; // after the kernels' passes, in one of its own
    char why[200];
    if (c.python && embed_import("model", why, sizeof why) < 0) c.python = 0; // the Python tier says why below
    parallel_set_threads(cfg->threads);

    // python and numpy, the native tiers in fp32, then the native tiers in int8
    for (int int8 = 0; int8 < 2; int8++) {
        for (int tier = 0; tier < N_TIERS; tier++) {
            if (tier_is_library(tier) || (int8 && !tier_is_native(tier)) || !(cfg->tiers & (1u << tier))) continue;
            struct model_tier *t = &out->tiers[out->n_tiers];
            t->r.tier = tier;
            t->int8 = int8;
            run_tier(&r, out->n_tiers, &c, t);
            if (tier == T_PYTHON && !c.python && cfg->python)
                snprintf(t->r.note, sizeof t->r.note, "model.py did not import: %s", why);
            out->n_tiers++;
        }
    }

    // the reference: Python's pass, else plain C's
    out->ref = -1;
    for (int i = 0; i < out->n_tiers && out->ref < 0; i++)
        if (out->tiers[i].r.tier == T_PYTHON && out->tiers[i].r.status == ST_OK) out->ref = i;
    for (int i = 0; i < out->n_tiers && out->ref < 0; i++)
        if (out->tiers[i].r.tier == T_SCALAR && !out->tiers[i].int8 && out->tiers[i].r.status == ST_OK) out->ref = i;
    const struct model_tier *py = out->ref >= 0 && out->tiers[out->ref].r.tier == T_PYTHON ? &out->tiers[out->ref] : NULL;
    for (int i = 0; i < out->n_tiers; i++) {
        struct model_tier *t = &out->tiers[i];
        if (t->r.status != ST_OK) continue;
        score(&r, i, out->ref, out->ref >= 0 ? tier_names[out->tiers[out->ref].r.tier] : "", t);
        t->r.verified = t->r.status == ST_OK && out->ref >= 0; // checked against the reference pass, and passed
        if (py && t != py) speedup_interval(&py->r, &t->r, cfg->seed + i);
        else if (py) t->r.speedup = 1;
    }
    work_free(&r);
    model_free(&m);
    return 0;
}
