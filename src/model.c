// A model end to end: load, quantize, run every tier as an interpreter over
// the model's operations, time each operation, compare.
//
// The file, model format version 2 (written by tools/train_digits.py and
// tools/train_vit.py): all integers unsigned 32-bit, floats IEEE float32,
// everything little-endian.
//
//   offset  size     field
//   0       4        magic "BMML"
//   4       4        version, 2
//   8       4        n_ops, 1 to 256
//   12      4        n_test, the test images, 1 to 2^24
//   16      4        in_rows, in_cols: one image as a matrix (digits MLP 1 x 64,
//   20      4          ViT 8 x 8), each 1 to 65536
//   24      4        classes, 2 to 65536
//   28      4        logit_tol, float32, finite and > 0: the bound on
//                    |logit - the Python pass's logit| an fp32 tier may show
//   32      16 n_ops per op: kind, a, b, c; the fields an op does not use are 0
//   ...              each op's float32 parameters, in op order
//   ...              float32 test images (n_test x in_rows x in_cols), pixel / 16
//   ...              int32 labels (n_test), each in 0..classes-1
//   end              the file ends there: no byte more, none less
//
// The state of one image is a matrix (rows, cols), starting at (in_rows,
// in_cols); a batch holds its images one after another, so an op applied
// per row sees (images * rows) rows.
//
//   kind  op         a, b, c              parameters            shape
//   1     DENSE      n_in, n_out, role    w (n_in x n_out,      (r, n_in) -> (r, n_out)
//                                         y = x @ w + bias), bias (n_out)
//   2     GELU       -                    -                     same (tanh approximation)
//   3     SOFTMAX    -                    -                     per row; the last op and only there,
//                                                               taking the logits, (1, classes)
//   4     LAYERNORM  cols                 gamma, beta (cols)    same; eps 1e-5, biased variance
//   5     PATCHES    p                    -                     (H, W) -> (H/p * W/p, p*p), p divides H and W;
//                                                               patches row-major, pixels row-major in each
//   6     ADD_POS    rows, cols           pos (rows x cols)     same; adds pos to each image
//   7     SAVE       -                    -                     same; pushes the activation (stack depth <= 4)
//   8     ADD        -                    -                     same; pops and adds, shapes equal;
//                                                               the stack ends empty
//   9     ATTENTION  heads                -                     (T, 3D) -> (T, D); rows [q | k | v]; head h
//                                                               takes columns h*dim.. of each, dim = D / heads;
//                                                               softmax(q k^T / sqrt(dim)) v per image and head
//   10    MEAN       -                    -                     (T, C) -> (1, C), the mean of the rows
//
// DENSE's role: 1 patch embedding, 2 attention projection, 3 MLP, 4 head;
// it files the op's time in the per-operation table. Every size is checked
// before anything is read: each side 1 to 65536, one image's activation (and
// ATTENTION's heads x T x T scores) at most 2^24 values, so that every byte
// count below stays far under 2^64 and every batch's buffer under 2^24
// values per image.
//
// The int8 weights are not in the file: model_parse derives them per DENSE
// op (per output column, symmetric: scale = max |w| / 127). The float
// weights are the model and int8 is one way to run it; deriving keeps one
// truth in the file, so the two cannot disagree.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "config.h"
#include "cpu.h"
#include "embed.h"
#include "kernels.h"
#include "kernels/steps.h"
#include "model.h"
#include "parallel.h"
#include "quant.h"
#include "runner.h"
#include "stats.h"
#include "util.h"

#define HEADER_BYTES 32
#define OP_BYTES 16
#define MAX_DIM 65536
#define MAX_TEST (1 << 24)
#define MAX_ELEMS (1 << 24) // values of one image's activation, or of its attention scores
#define MAX_FILE (1L << 30)

const char *const op_names[OP_KINDS_END] = {
    [OP_DENSE] = "DENSE", [OP_GELU] = "GELU", [OP_SOFTMAX] = "SOFTMAX", [OP_LAYERNORM] = "LAYERNORM",
    [OP_PATCHES] = "PATCHES", [OP_ADD_POS] = "ADD_POS", [OP_SAVE] = "SAVE", [OP_ADD] = "ADD",
    [OP_ATTENTION] = "ATTENTION", [OP_MEAN] = "MEAN",
};

const char *const category_names[N_CATEGORIES] = {
    "embed", "layernorm", "attention matmuls", "attention softmax", "MLP matmuls", "GELU", "residual", "head",
};

static uint32_t le32(const unsigned char *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct run;
static void release(const struct run *r, void *p, size_t bytes);
static void param_counts(const struct op *o, size_t *n0, size_t *n1);

// Free m, but what a script of run r (NULL: none) still reaches.
static void model_release(struct model *m, const struct run *r) {
    for (int i = 0; i < m->n_ops; i++) {
        size_t n[2];
        param_counts(&m->op[i], &n[0], &n[1]);
        release(r, m->op[i].p[0], n[0] * 4), release(r, m->op[i].p[1], n[1] * 4);
        free(m->op[i].wq), free(m->op[i].scale);
    }
    release(r, m->x, (size_t)m->n_test * m->in_rows * m->in_cols * 4);
    free(m->label);
    memset(m, 0, sizeof *m);
}

void model_free(struct model *m) { model_release(m, NULL); }

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
static int quantize_weights(struct op *o) {
    o->wq = aligned_new((size_t)o->a * o->b);
    o->scale = aligned_new((size_t)o->b * 4);
    if (!o->wq || !o->scale) return -1;
    quantize_i8(o->wq, o->scale, o->p[0], o->b, o->a, 1, o->b);
    return 0;
}

// The parameters an op takes from the file, in values: *n0 then *n1.
static void param_counts(const struct op *o, size_t *n0, size_t *n1) {
    *n0 = *n1 = 0;
    if (o->kind == OP_DENSE) *n0 = (size_t)o->a * o->b, *n1 = (size_t)o->b;
    if (o->kind == OP_LAYERNORM) *n0 = *n1 = (size_t)o->a;
    if (o->kind == OP_ADD_POS) *n0 = (size_t)o->a * o->b;
}

// lo <= v <= hi for a field read from the file as int, compared as unsigned:
// a value of 2^31 or more (negative as int) is out of range, not below it
static int in_range(int v, int lo, int hi) { return (uint32_t)v - (uint32_t)lo <= (uint32_t)(hi - lo); }

// Which of a, b, c each kind uses (bit 0: a, 1: b, 2: c)
static const unsigned op_fields[OP_KINDS_END] = {
    [OP_DENSE] = 7, [OP_LAYERNORM] = 1, [OP_PATCHES] = 1, [OP_ADD_POS] = 3, [OP_ATTENTION] = 1,
};

// Check op i's fields against the activation (*rows, *cols) it takes, and
// move that to the shape it leaves; the residual stack's shapes in stack.
static int check_op(struct op *o, int i, int *rows, int *cols, int stack[][2], int *depth, int last, char *err,
                    size_t errlen) {
    const char *name = op_names[o->kind];
    unsigned unused = ~op_fields[o->kind];
    const int field[3] = {o->a, o->b, o->c};
    for (int f = 0; f < 3; f++)
        if ((unused >> f & 1) && field[f] != 0)
            return failf(err, errlen, "op %d (%s): field %c is %u; %s does not use it, so it must be 0", i + 1,
                         name, "abc"[f], (unsigned)field[f], name);
    int r = *rows, c = *cols;
    o->rows = r, o->cols = c;
    switch (o->kind) {
    case OP_DENSE:
        if (!in_range(o->a, 1, MAX_DIM) || !in_range(o->b, 1, MAX_DIM))
            return failf(err, errlen, "op %d (DENSE): shape %u x %u; each side must be 1 to %d", i + 1,
                         (unsigned)o->a, (unsigned)o->b, MAX_DIM);
        if (!in_range(o->c, ROLE_EMBED, ROLE_HEAD))
            return failf(err, errlen, "op %d (DENSE): role %u; the roles are 1 to 4", i + 1, (unsigned)o->c);
        if (o->a != c)
            return failf(err, errlen, "op %d (DENSE): takes %d inputs but the activation (%d, %d) has %d columns",
                         i + 1, o->a, r, c, c);
        c = o->b;
        break;
    case OP_SOFTMAX:
        if (!last) return failf(err, errlen, "op %d: SOFTMAX before the last op; it may only end the model", i + 1);
        break;
    case OP_LAYERNORM:
        if (o->a != c)
            return failf(err, errlen, "op %d (LAYERNORM): %u columns but the activation (%d, %d) has %d", i + 1,
                         (unsigned)o->a, r, c, c);
        break;
    case OP_PATCHES:
        if (!in_range(o->a, 1, MAX_DIM) || r % o->a || c % o->a)
            return failf(err, errlen, "op %d (PATCHES): patches of %u do not divide the activation (%d, %d)", i + 1,
                         (unsigned)o->a, r, c);
        r = (r / o->a) * (c / o->a), c = o->a * o->a;
        break;
    case OP_ADD_POS:
        if (o->a != r || o->b != c)
            return failf(err, errlen, "op %d (ADD_POS): positions (%u, %u) but the activation is (%d, %d)", i + 1,
                         (unsigned)o->a, (unsigned)o->b, r, c);
        break;
    case OP_SAVE:
        if (*depth == MODEL_MAX_STACK)
            return failf(err, errlen, "op %d (SAVE): the residual stack is full (%d saved)", i + 1, MODEL_MAX_STACK);
        stack[*depth][0] = r, stack[*depth][1] = c, ++*depth;
        break;
    case OP_ADD:
        if (*depth == 0) return failf(err, errlen, "op %d (ADD): the residual stack is empty", i + 1);
        --*depth;
        if (stack[*depth][0] != r || stack[*depth][1] != c)
            return failf(err, errlen, "op %d (ADD): adds a saved (%d, %d) to the activation (%d, %d)", i + 1,
                         stack[*depth][0], stack[*depth][1], r, c);
        break;
    case OP_ATTENTION: {
        if (!in_range(o->a, 1, MAX_DIM))
            return failf(err, errlen, "op %d (ATTENTION): %u heads; there must be 1 to %d", i + 1, (unsigned)o->a,
                         MAX_DIM);
        if (c % 3 || (c / 3) % o->a)
            return failf(err, errlen,
                         "op %d (ATTENTION): the activation's %d columns are not 3 x D with D divisible by %u heads",
                         i + 1, c, (unsigned)o->a);
        if ((size_t)o->a * r * r > MAX_ELEMS)
            return failf(err, errlen, "op %d (ATTENTION): %u heads x %d x %d scores are more than %d values", i + 1,
                         (unsigned)o->a, r, r, MAX_ELEMS);
        c /= 3;
        break;
    }
    case OP_MEAN: r = 1; break;
    default: break; // GELU
    }
    if ((size_t)r * c > MAX_ELEMS)
        return failf(err, errlen, "op %d (%s): its output (%d, %d) is more than %d values", i + 1, name, r, c,
                     MAX_ELEMS);
    o->out_rows = *rows = r, o->out_cols = *cols = c;
    return 0;
}

int model_parse(struct model *m, const void *bytes, size_t size, char *err, size_t errlen) {
    const unsigned char *data = bytes;
    memset(m, 0, sizeof *m);
    if (size < HEADER_BYTES)
        return failf(err, errlen, "truncated: %zu bytes, the header alone has %d", size, HEADER_BYTES);
    if (memcmp(data, "BMML", 4) != 0) return failf(err, errlen, "not a bmml model: the magic is not \"BMML\"");
    uint32_t version = le32(data + 4), n_ops = le32(data + 8), n_test = le32(data + 12);
    uint32_t in_rows = le32(data + 16), in_cols = le32(data + 20), classes = le32(data + 24);
    float tol;
    memcpy(&tol, data + 28, 4);
    if (version != MODEL_VERSION)
        return failf(err, errlen, "version %u; this bmml reads version %d", version, MODEL_VERSION);
    if (n_ops < 1 || n_ops > MODEL_MAX_OPS)
        return failf(err, errlen, "%u ops; the format allows 1 to %d", n_ops, MODEL_MAX_OPS);
    if (n_test < 1 || n_test > MAX_TEST)
        return failf(err, errlen, "%u test images; the format allows 1 to %d", n_test, MAX_TEST);
    if (in_rows < 1 || in_rows > MAX_DIM || in_cols < 1 || in_cols > MAX_DIM)
        return failf(err, errlen, "input shape (%u, %u); each side must be 1 to %d", in_rows, in_cols, MAX_DIM);
    if ((size_t)in_rows * in_cols > MAX_ELEMS)
        return failf(err, errlen, "input shape (%u, %u) is more than %d values", in_rows, in_cols, MAX_ELEMS);
    if (classes < 2 || classes > MAX_DIM)
        return failf(err, errlen, "%u classes; the format allows 2 to %d", classes, MAX_DIM);
    if (!(isfinite(tol) && tol > 0))
        return failf(err, errlen, "logit tolerance %g; it must be a finite number above 0", (double)tol);
    size_t need = HEADER_BYTES + (size_t)OP_BYTES * n_ops;
    if (size < need) return failf(err, errlen, "truncated: %zu bytes, the op records end at %zu", size, need);

    m->n_ops = (int)n_ops, m->n_test = (int)n_test, m->in_rows = (int)in_rows, m->in_cols = (int)in_cols;
    m->classes = (int)classes, m->logit_tol = tol;
    // a, b, c of 2^31 or more read as negative ints: check_op compares them as unsigned (in_range)
    int rows = m->in_rows, cols = m->in_cols, stack[MODEL_MAX_STACK][2], depth = 0;
    for (int i = 0; i < m->n_ops; i++) {
        const unsigned char *p = data + HEADER_BYTES + OP_BYTES * i;
        struct op *o = &m->op[i];
        uint32_t kind = le32(p);
        *o = (struct op){.kind = kind < OP_KINDS_END ? (int)kind : -1, .a = (int)le32(p + 4),
                         .b = (int)le32(p + 8), .c = (int)le32(p + 12)};
        if (o->kind < 1) {
            failf(err, errlen, "op %d: kind %u is not an operation (1 to %d)", i + 1, kind, OP_KINDS_END - 1);
            goto refused;
        }
        if (check_op(o, i, &rows, &cols, stack, &depth, i == m->n_ops - 1, err, errlen) < 0) {
            goto refused;
        }
        size_t n0, n1;
        param_counts(o, &n0, &n1);
        need += (n0 + n1) * 4; // at most 2^34 bytes an op (a 65536 x 65536 DENSE), 2^42 in all
    }
    int last = m->op[m->n_ops - 1].kind;
    if (last != OP_SOFTMAX) {
        failf(err, errlen, "the last op is %s, not SOFTMAX", op_names[last]);
        goto refused;
    }
    if (depth) {
        failf(err, errlen, "%d saved activation%s left on the residual stack at the end; each SAVE needs its ADD",
                     depth, depth > 1 ? "s" : "");
        goto refused;
    }
    if (rows != 1 || cols != m->classes) {
        failf(err, errlen, "the final shape is (%d, %d), not (1, %d): one row of the %d classes' logits",
                     rows, cols, m->classes, m->classes);
        goto refused;
    }
    need += (size_t)m->n_test * m->in_rows * m->in_cols * 4 + (size_t)m->n_test * 4; // under 2^51
    if (size < need) {
        failf(err, errlen, "truncated: %zu bytes, the shapes in the header need %zu", size, need);
        goto refused;
    }
    if (size > need) {
        failf(err, errlen,
                     "%zu bytes where the shapes in the header need %zu: the shapes do not match the file", size, need);
        goto refused;
    }

    size_t at = HEADER_BYTES + (size_t)OP_BYTES * m->n_ops;
    char what[64];
    for (int i = 0; i < m->n_ops; i++) {
        struct op *o = &m->op[i];
        size_t n[2];
        param_counts(o, &n[0], &n[1]);
        static const char *const names[OP_KINDS_END][2] = {
            [OP_DENSE] = {"weights", "biases"}, [OP_LAYERNORM] = {"gamma", "beta"}, [OP_ADD_POS] = {"positions"}};
        for (int k = 0; k < 2 && n[k]; k++) {
            snprintf(what, sizeof what, "op %d (%s) %s", i + 1, op_names[o->kind], names[o->kind][k]);
            if (!(o->p[k] = take_f32(data, &at, n[k], what, err, errlen))) goto bad;
        }
        if (o->kind == OP_DENSE && quantize_weights(o) < 0) {
            failf(err, errlen, "out of memory");
            goto bad;
        }
    }
    if (!(m->x = take_f32(data, &at, (size_t)m->n_test * m->in_rows * m->in_cols, "test images", err, errlen)))
        goto bad;
    if (!(m->label = aligned_new((size_t)m->n_test * 4))) {
        failf(err, errlen, "out of memory");
        goto bad;
    }
    for (int i = 0; i < m->n_test; i++) {
        m->label[i] = (int32_t)le32(data + at + 4 * (size_t)i);
        if (m->label[i] < 0 || m->label[i] >= m->classes) {
            failf(err, errlen, "label of test image %d is %d, not a class in 0..%d", i, m->label[i], m->classes - 1);
            goto bad;
        }
    }
    return 0;
refused: // nothing allocated yet
    memset(m, 0, sizeof *m);
    return -1;
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

const char *model_default_path(int i) {
    static char path[MODEL_DEFAULTS][PATH_MAX];
    static const char *const names[MODEL_DEFAULTS] = {"digits", "vit"};
    snprintf(path[i], sizeof path[i], "%s/models/%s.bmml", in_build_tree() ? BMML_SRCDIR : BMML_PKGDATADIR, names[i]);
    return path[i];
}

// ---------------------------------------------------------------------------
// The forward pass: the ops of a batch compiled into steps, each a call of
// one step function with its arguments (the names and arguments of the step
// functions in pyscripts/model.py); a native tier runs a step with its
// kernels from the table, a Python tier calls the step function on views of
// the same buffers.

enum step_kind { S_DENSE, S_GELU, S_SOFTMAX, S_LAYERNORM, S_PATCHES, S_ADD_POS, S_ADD, S_SPLIT, S_SCORES,
                 S_CONTEXT, S_MERGE, S_MEAN, N_STEP_KINDS };
static const char *const step_names[N_STEP_KINDS] = {
    "dense", "gelu", "softmax_rows", "layernorm", "patches", "add_pos", "add",
    "attn_split", "attn_scores", "attn_context", "attn_merge", "mean_rows",
};

#define STEP_ARGS 8
struct step {
    int kind, cat;
    const struct op *op; // DENSE: its int8 weights
    int n_args;
    struct py_arg arg[STEP_ARGS]; // views first, then ints, as the step function takes them
};

// The ops of one tier, from the table
struct ops {
    matmul_f32_fn matmul;   // DENSE in fp32, and attention's matmuls in every native tier
    matmul_i8_fn matmul_i8; // NULL: DENSE in fp32
    unary_f32_fn gelu, softmax;
    layernorm_fn layernorm;
    const struct model_steps *st; // the steps between the kernels
};

#define POOL (MODEL_MAX_STACK + 2) // the saved activations, the current one and the next

// Scratch for one batch
struct work {
    float *pool[POOL];           // (batch, the largest activation of one image)
    float *q, *kt, *v, *o;       // (batch, the largest T x D of an ATTENTION)
    float *s, *p;                // (batch, its largest heads x T x T)
    int8_t *xq;                  // the int8 path: rows quantized, (batch, the largest activation)
    float *xscale;               // (batch, the most rows of an activation)
    int32_t *acc;                // (batch, the largest activation)
    size_t pool_bytes, attn_bytes, scores_bytes; // of each pool[i]; of q, kt, v, o; of s, p
    size_t out_bytes;            // of the run's probs and logits
};

struct pass_times {
    double pass, cat[N_CATEGORIES];
};

struct run {
    const struct model *m;
    const char *name; // the model's, for the warnings
    int batch, n_batches, classes;
    struct work w;
    float *probs, *logits;       // (n_test, classes): the tier running now writes here
    struct step *prog;           // every batch's steps, batch after batch
    int n_steps;
    float *kept[MODEL_TIERS][2]; // model_run: each tier's probs and logits, for scoring at the end
    // every pass sample_tier ran for the tier running now, warm-ups first:
    // call j's times at times[j % cap_times], the last cap_times kept
    struct pass_times *times;
    size_t n_times, cap_times;
    // memory a script still reaches after its calls (embed_call_free): a
    // pointer into each such buffer, which is then never freed; held_all:
    // one could not be recorded, so nothing a script saw is freed
    const void **held;
    size_t n_held;
    int held_all;
};

static struct py_arg view(const float *p, size_t count) { return (struct py_arg){ARG_VIEW, (void *)p, count, 'f', 0}; }
static struct py_arg num(long v) { return (struct py_arg){ARG_INT, NULL, 0, 0, v}; }

static int dense_category(int role) {
    return role == ROLE_EMBED ? CAT_EMBED : role == ROLE_ATTENTION ? CAT_ATTN_MATMUL : role == ROLE_MLP ? CAT_MLP_MATMUL : CAT_HEAD;
}

static struct step *emit(struct step *s, int kind, int cat, const struct op *op, int n, const struct py_arg *a) {
    *s = (struct step){kind, cat, op, n, {{0}}};
    memcpy(s->arg, a, n * sizeof *a);
    return s + 1;
}

// Batch b's steps into s; how many. The activation moves between the pool's
// buffers: an op writes a buffer no saved activation holds, in place only
// for ADD_POS and ADD, as the step functions' contract allows (GELU gets a
// buffer of its own: a free one always exists, the pool being the stack's
// depth and two); SAVE keeps its activation where it is, so it costs nothing
// in any tier. The op before SOFTMAX writes the logits, SOFTMAX the probabilities.
static int compile_batch(const struct run *r, int b, struct step *s) {
    const struct model *m = r->m;
    const struct work *w = &r->w;
    struct step *s0 = s;
    size_t first = (size_t)b * r->batch;
    long n_img = m->n_test - (long)first < r->batch ? m->n_test - (long)first : r->batch;
    const float *cur = m->x + first * m->in_rows * m->in_cols;
    int cur_pool = -1, held[POOL] = {0}, depth = 0, stack_pool[MODEL_MAX_STACK];
    const float *stack[MODEL_MAX_STACK];
    for (int i = 0; i < m->n_ops; i++) {
        const struct op *o = &m->op[i];
        long rows = n_img * o->rows, n = rows * o->cols, out_n = n_img * o->out_rows * o->out_cols;
        if (o->kind == OP_SAVE) {
            stack[depth] = cur, stack_pool[depth++] = cur_pool;
            if (cur_pool >= 0) held[cur_pool]++;
            continue;
        }
        const float *saved = NULL;
        if (o->kind == OP_ADD) {
            saved = stack[--depth];
            if (stack_pool[depth] >= 0) held[stack_pool[depth]]--;
        }
        // where the output goes
        float *y;
        int y_pool = -1;
        if (o->kind == OP_SOFTMAX) {
            y = r->probs + first * r->classes;
        } else if (i == m->n_ops - 2) {
            y = r->logits + first * r->classes;
        } else if ((o->kind == OP_ADD_POS || o->kind == OP_ADD) && cur_pool >= 0 && !held[cur_pool]) {
            y = (float *)cur, y_pool = cur_pool;
        } else {
            for (y_pool = 0; y_pool == cur_pool || held[y_pool]; y_pool++) {}
            y = w->pool[y_pool];
        }
        switch (o->kind) {
        case OP_DENSE:
            s = emit(s, S_DENSE, dense_category(o->c), o, 7,
                     (struct py_arg[]){view(y, out_n), view(cur, n), view(o->p[0], (size_t)o->a * o->b),
                                       view(o->p[1], o->b), num(rows), num(o->a), num(o->b)});
            break;
        case OP_GELU: s = emit(s, S_GELU, CAT_GELU, o, 3, (struct py_arg[]){view(y, n), view(cur, n), num(n)}); break;
        case OP_SOFTMAX:
            s = emit(s, S_SOFTMAX, CAT_HEAD, o, 4,
                     (struct py_arg[]){view(y, n), view(cur, n), num(rows), num(o->cols)});
            break;
        case OP_LAYERNORM:
            s = emit(s, S_LAYERNORM, CAT_LAYERNORM, o, 6,
                     (struct py_arg[]){view(y, n), view(cur, n), view(o->p[0], o->a), view(o->p[1], o->a), num(rows),
                                       num(o->cols)});
            break;
        case OP_PATCHES:
            s = emit(s, S_PATCHES, CAT_EMBED, o, 6,
                     (struct py_arg[]){view(y, n), view(cur, n), num(n_img), num(o->rows), num(o->cols), num(o->a)});
            break;
        case OP_ADD_POS:
            s = emit(s, S_ADD_POS, CAT_EMBED, o, 5,
                     (struct py_arg[]){view(y, n), view(cur, n), view(o->p[0], (size_t)o->a * o->b), num(n_img),
                                       num((long)o->rows * o->cols)});
            break;
        case OP_ADD:
            s = emit(s, S_ADD, CAT_RESIDUAL, o, 4, (struct py_arg[]){view(y, n), view(cur, n), view(saved, n), num(n)});
            break;
        case OP_ATTENTION: {
            long tokens = o->rows, heads = o->a, dim = o->out_cols / o->a, groups = n_img * heads;
            size_t per = (size_t)out_n, scores = (size_t)groups * tokens * tokens;
            s = emit(s, S_SPLIT, CAT_ATTN_MATMUL, o, 8,
                     (struct py_arg[]){view(w->q, per), view(w->kt, per), view(w->v, per), view(cur, n), num(n_img),
                                       num(tokens), num(heads), num(dim)});
            s = emit(s, S_SCORES, CAT_ATTN_MATMUL, o, 6,
                     (struct py_arg[]){view(w->s, scores), view(w->q, per), view(w->kt, per), num(groups), num(tokens),
                                       num(dim)});
            s = emit(s, S_SOFTMAX, CAT_ATTN_SOFTMAX, o, 4,
                     (struct py_arg[]){view(w->p, scores), view(w->s, scores), num(groups * tokens), num(tokens)});
            s = emit(s, S_CONTEXT, CAT_ATTN_MATMUL, o, 6,
                     (struct py_arg[]){view(w->o, per), view(w->p, scores), view(w->v, per), num(groups), num(tokens),
                                       num(dim)});
            s = emit(s, S_MERGE, CAT_ATTN_MATMUL, o, 6,
                     (struct py_arg[]){view(y, per), view(w->o, per), num(n_img), num(tokens), num(heads), num(dim)});
            break;
        }
        case OP_MEAN:
            s = emit(s, S_MEAN, CAT_HEAD, o, 5,
                     (struct py_arg[]){view(y, out_n), view(cur, n), num(n_img), num(o->rows), num(o->cols)});
            break;
        }
        cur = y, cur_pool = y_pool;
    }
    return (int)(s - s0);
}

// steps one batch may take at most: ATTENTION's five for each op
#define STEPS_PER_OP 5

// y = x @ w + b. The int8 path quantizes each row of x symmetrically
// (scale = max |x| / 127), multiplies exactly in int32, and scales back:
// y[i][j] = acc[i][j] * xscale[i] * wscale[j] + b[j].
static void dense(const struct ops *op, const struct work *w, const struct op *o, float *y, const float *x, long rows) {
    int n_in = o->a, n_out = o->b;
    const float *b = o->p[1];
    if (!op->matmul_i8) {
        op->matmul(y, x, o->p[0], (int)rows, n_out, n_in);
        op->st->add_each(y, y, b, rows, n_out); // the bias
        return;
    }
    op->st->quantize_rows(w->xq, w->xscale, x, rows, n_in);
    op->matmul_i8(w->acc, w->xq, o->wq, (int)rows, n_out, n_in);
    op->st->dequant(y, w->acc, w->xscale, o->scale, b, rows, n_out);
}

static void run_step(const struct ops *op, const struct work *w, const struct step *s) {
    const struct py_arg *a = s->arg;
#define P(i) ((float *)a[(i)].p)
#define N(i) (a[(i)].value)
    switch (s->kind) {
    case S_DENSE: dense(op, w, s->op, P(0), P(1), N(4)); break;
    case S_GELU: op->gelu(P(0), P(1), N(2)); break;
    case S_SOFTMAX:
        for (long i = 0; i < N(2); i++) op->softmax(P(0) + i * N(3), P(1) + i * N(3), N(3));
        break;
    case S_LAYERNORM: op->layernorm(P(0), P(1), P(2), P(3), (int)N(4), (int)N(5)); break;
    case S_PATCHES: op->st->patches(P(0), P(1), N(2), (int)N(3), (int)N(4), (int)N(5)); break;
    case S_ADD_POS: op->st->add_each(P(0), P(1), P(2), N(3), N(4)); break;
    case S_ADD: op->st->add(P(0), P(1), P(2), N(3)); break;
    case S_SPLIT: op->st->attn_split(P(0), P(1), P(2), P(3), N(4), (int)N(5), (int)N(6), (int)N(7)); break;
    case S_SCORES: {
        long groups = N(3), t = N(4), dim = N(5);
        // 1 / sqrt(dim) once, in double, rounded to float (as model.py)
        float scale = (float)(1 / sqrt((double)dim));
        for (long g = 0; g < groups; g++)
            op->matmul(P(0) + g * t * t, P(1) + g * t * dim, P(2) + g * dim * t, (int)t, (int)t, (int)dim);
        op->st->scale(P(0), scale, groups * t * t);
        break;
    }
    case S_CONTEXT: {
        long groups = N(3), t = N(4), dim = N(5);
        for (long g = 0; g < groups; g++)
            op->matmul(P(0) + g * t * dim, P(1) + g * t * t, P(2) + g * t * dim, (int)t, (int)dim, (int)t);
        break;
    }
    case S_MERGE: op->st->attn_merge(P(0), P(1), N(2), (int)N(3), (int)N(4), (int)N(5)); break;
    case S_MEAN: op->st->mean_rows(P(0), P(1), N(2), (int)N(3), (int)N(4)); break;
    }
#undef P
#undef N
}

// ---------------------------------------------------------------------------
// Tiers: each runs the whole test set in batches on the same buffers

// free(p), unless a script of r (NULL: none) still reaches into its bytes:
// then it is left to Python (buffers.c), reachable for the rest of the process
static void release(const struct run *r, void *p, size_t bytes) {
    int held = r && r->held_all;
    for (size_t i = 0; r && i < r->n_held && !held; i++)
        held = (const char *)r->held[i] >= (char *)p && (const char *)r->held[i] < (char *)p + bytes;
    free_unless_held(p, held);
}

// after model_release(m, r), which asks r what scripts hold (m may be gone)
static void work_free(struct run *r) {
    struct work *w = &r->w;
    for (int i = 0; i < POOL; i++) release(r, w->pool[i], w->pool_bytes);
    release(r, w->q, w->attn_bytes), release(r, w->kt, w->attn_bytes);
    release(r, w->v, w->attn_bytes), release(r, w->o, w->attn_bytes);
    release(r, w->s, w->scores_bytes), release(r, w->p, w->scores_bytes);
    release(r, r->probs, w->out_bytes), release(r, r->logits, w->out_bytes);
    free(w->xq), free(w->xscale), free(w->acc);
    free(r->prog), free(r->times);
    for (int i = 0; i < MODEL_TIERS; i++) free(r->kept[i][0]), free(r->kept[i][1]);
    free(r->held);
    memset(w, 0, sizeof *w);
}

// The buffers of a batch and the steps of every batch; keep: room to keep
// every tier's outputs. 0, or -1 when memory could not be had.
static int work_new(struct run *r, int keep) {
    const struct model *m = r->m;
    size_t act = (size_t)m->in_rows * m->in_cols, attn = 1, scores = 1, rows = m->in_rows;
    for (int i = 0; i < m->n_ops; i++) {
        const struct op *o = &m->op[i];
        size_t out = (size_t)o->out_rows * o->out_cols;
        act = out > act ? out : act;
        rows = (size_t)o->out_rows > rows ? (size_t)o->out_rows : rows;
        if (o->kind != OP_ATTENTION) continue;
        attn = out > attn ? out : attn;
        size_t sc = (size_t)o->a * o->rows * o->rows;
        scores = sc > scores ? sc : scores;
    }
    size_t b = (size_t)r->batch, out = (size_t)m->n_test * r->classes;
    struct work *w = &r->w;
    w->pool_bytes = b * act * 4, w->attn_bytes = b * attn * 4, w->scores_bytes = b * scores * 4;
    w->out_bytes = out * 4;
    int ok = 1;
    for (int i = 0; i < POOL; i++) ok &= (w->pool[i] = aligned_new(w->pool_bytes)) != NULL;
    w->q = aligned_new(w->attn_bytes), w->kt = aligned_new(w->attn_bytes);
    w->v = aligned_new(w->attn_bytes), w->o = aligned_new(w->attn_bytes);
    w->s = aligned_new(w->scores_bytes), w->p = aligned_new(w->scores_bytes);
    w->xq = aligned_new(b * act), w->xscale = aligned_new(b * rows * 4), w->acc = aligned_new(b * act * 4);
    r->probs = aligned_new(out * 4), r->logits = aligned_new(out * 4);
    r->prog = calloc((size_t)r->n_batches * m->n_ops * STEPS_PER_OP, sizeof *r->prog);
    ok = ok && w->q && w->kt && w->v && w->o && w->s && w->p && w->xq && w->xscale && w->acc && r->probs &&
         r->logits && r->prog;
    for (int i = 0; keep && i < MODEL_TIERS; i++) {
        r->kept[i][0] = aligned_new(out * 4), r->kept[i][1] = aligned_new(out * 4);
        ok = ok && r->kept[i][0] && r->kept[i][1];
    }
    if (!ok) return -1;
    r->n_steps = 0;
    for (int bi = 0; bi < r->n_batches; bi++) r->n_steps += compile_batch(r, bi, r->prog + r->n_steps);
    return 0;
}

// One tier's way to run the steps: its kernels, or prepared Python calls
struct pass {
    struct ops op;
    struct py_call **py; // one per step
};

// One pass over the test set, the host's clock read around each step and
// around the whole; pt may be NULL.
static int run_pass(const struct run *r, const struct pass *p, struct pass_times *pt, char *err, size_t errlen) {
    struct pass_times t = {0};
    double start = now_ns();
    if (r->m->n_ops == 1) // SOFTMAX alone: the images are the logits
        memcpy(r->logits, r->m->x, (size_t)r->m->n_test * r->classes * 4);
    for (int k = 0; k < r->n_steps; k++) {
        double t0 = now_ns();
        if (p->py) {
            if (embed_call(p->py[k], err, errlen) < 0) return -1;
        } else {
            run_step(&p->op, &r->w, &r->prog[k]);
        }
        t.cat[r->prog[k].cat] += now_ns() - t0;
    }
    t.pass = now_ns() - start;
    if (pt) *pt = t;
    return 0;
}

// Free the calls; the views a script kept past them (embed_call_free's
// bits) are recorded in r, with the first such step and argument in
// which. How many were kept.
static int py_calls_free(struct run *r, struct py_call **calls, int n, char *which, size_t whichlen) {
    int kept = 0;
    for (int k = 0; calls && k < n; k++) {
        unsigned held = embed_call_free(calls[k]);
        for (int i = 0; held && i < r->prog[k].n_args; i++) {
            if (!(held >> i & 1)) continue;
            if (!kept++) snprintf(which, whichlen, "%s's argument %d", step_names[r->prog[k].kind], i + 1);
            const void **more = realloc(r->held, (r->n_held + 1) * sizeof *more);
            if (more) r->held = more, r->held[r->n_held++] = r->prog[k].arg[i].p;
            else r->held_all = 1;
        }
    }
    free(calls);
    return kept;
}

// module.<step function>(views..., ints...) for every step
static struct py_call **py_calls_new(const char *module, struct run *r, char *err, size_t errlen) {
    struct py_call **calls = calloc(r->n_steps, sizeof *calls);
    if (!calls) return failf(err, errlen, "out of memory"), NULL;
    for (int k = 0; k < r->n_steps; k++) {
        const struct step *s = &r->prog[k];
        if (!(calls[k] = embed_call_new(module, step_names[s->kind], s->arg, s->n_args, err, errlen))) {
            char which[64];
            py_calls_free(r, calls, k, which, sizeof which); // never called: nothing held
            return NULL;
        }
    }
    return calls;
}

// This tier's kernels from the table, as this CPU runs them
static int pick_ops(int tier, int int8, unsigned cpu, struct ops *op, const char **isa, char *why, size_t whylen) {
    static const char *const names[] = {"matmul", "gelu", "softmax", "layernorm", "matmul_int8"};
    const struct variant *v[5] = {0};
    for (int i = 0; i < 4 + int8; i++)
        if (!(v[i] = variant_pick(kernel_find(names[i]), tier, cpu, NULL, why, whylen))) return -1;
    *op = (struct ops){v[0]->fn.matmul_f32, int8 ? v[4]->fn.matmul_i8 : NULL, v[1]->fn.unary, v[2]->fn.unary,
                       v[3]->fn.layernorm, NULL};
    op->st = &model_steps_scalar;
#if HAVE_AVX2
    if (tier != T_SCALAR && (cpu & AVX2_FMA) == AVX2_FMA) op->st = &model_steps_autovec;
#endif
    *isa = int8 ? v[4]->isa : v[0]->isa;
    return 0;
}

int model_forward(const struct model *m, int tier, int int8, unsigned cpu, int batch, float *logits, float *probs,
                  double cat_ns[N_CATEGORIES], double *pass_ns, char *err, size_t errlen) {
    struct pass p = {0};
    const char *isa;
    if (pick_ops(tier, int8, cpu, &p.op, &isa, err, errlen) < 0) return -1;
    struct run r = {.m = m, .batch = batch < 1 || batch > m->n_test ? m->n_test : batch, .classes = m->classes};
    r.n_batches = (m->n_test + r.batch - 1) / r.batch;
    struct pass_times t;
    int rc = work_new(&r, 0) < 0 ? failf(err, errlen, "out of memory") : run_pass(&r, &p, &t, err, errlen);
    if (rc == 0) {
        size_t bytes = (size_t)m->n_test * m->classes * 4;
        memcpy(logits, r.logits, bytes), memcpy(probs, r.probs, bytes);
        memcpy(cat_ns, t.cat, sizeof t.cat);
        *pass_ns = t.pass;
    }
    work_free(&r);
    return rc;
}

// What sample_tier times: one pass over the test set
struct timed_pass {
    struct run *r;
    const struct pass *p;
    int slot; // where the checked pass's outputs were kept
};

// NaN into every buffer a step writes, not only the outputs: a step a
// script skips, whose buffer no other step rewrites (one block, one batch),
// would otherwise leave an earlier pass's values, or an earlier tier's, for
// the steps after it. NaN carries through to the logits and never compares
// within tolerance.
static void poison_work(const struct run *r) {
    const struct work *w = &r->w;
    size_t bytes = (size_t)r->m->n_test * r->classes * 4;
    memset(r->probs, 0xff, bytes), memset(r->logits, 0xff, bytes);
    for (int i = 0; i < POOL; i++) memset(w->pool[i], 0xff, w->pool_bytes);
    float *attn[] = {w->q, w->kt, w->v, w->o}, *scores[] = {w->s, w->p};
    for (int i = 0; i < 4; i++) memset(attn[i], 0xff, w->attn_bytes);
    for (int i = 0; i < 2; i++) memset(scores[i], 0xff, w->scores_bytes);
}

// A Python pass is long beside a check: each timed one is poisoned and
// checked, untimed, against the pass checked before timing, so a script
// that skips work once it is being timed fails.
static void poison_outputs(void *what) { poison_work(((const struct timed_pass *)what)->r); }

static int same_outputs(void *what, struct tier_result *tr) {
    const struct timed_pass *tp = what;
    size_t n = (size_t)tp->r->m->n_test * tp->r->classes;
    const float *kept = tp->r->kept[tp->slot][1];
    double tol = tp->r->m->logit_tol;
    for (size_t i = 0; i < n; i++) {
        if (!(fabsf(tp->r->logits[i] - kept[i]) <= tol) ||
            !(fabsf(tp->r->probs[i] - tp->r->kept[tp->slot][0][i]) <= tol)) {
            tr->status = ST_FAILED;
            snprintf(tr->note, sizeof tr->note,
                     "a timed pass gave other outputs than the checked one (output %zu): the script skipped work", i);
            return -1;
        }
    }
    return 0;
}

#define MAX_TIMES (1 << 20) // passes whose steps are kept, per tier: the last ones

static int timed_pass(void *what, char *err, size_t errlen) {
    struct timed_pass *tp = what;
    struct run *r = tp->r;
    struct pass_times t;
    if (run_pass(r, tp->p, &t, err, errlen) < 0) return -1;
    if (r->n_times == r->cap_times && r->cap_times < MAX_TIMES) {
        size_t cap = r->cap_times ? 2 * r->cap_times : 256;
        struct pass_times *more = realloc(r->times, cap * sizeof *more);
        if (more) r->times = more, r->cap_times = cap;
    }
    if (r->cap_times) r->times[r->n_times % r->cap_times] = t;
    r->n_times++;
    return 0;
}

// The time per category over the timed passes alone (sample_tier's
// calibration runs first, and those warm-ups are left out): each
// category's median, and the median pass. Medians of parts need not add up
// to the median of the whole; the reports show the sum beside the pass.
static void median_parts(struct run *r, long timed, struct model_tier *t) {
    size_t kept = r->n_times < r->cap_times ? r->n_times : r->cap_times;
    size_t n = (size_t)timed < kept ? (size_t)timed : kept;
    double *v = n ? malloc(2 * n * sizeof *v) : NULL;
    if (!v) return;
    for (int k = 0; k <= N_CATEGORIES; k++) {
        for (size_t i = 0; i < n; i++) {
            const struct pass_times *p = &r->times[(r->n_times - n + i) % r->cap_times];
            v[i] = k < N_CATEGORIES ? p->cat[k] : p->pass;
        }
        double mid = stats_median(v, n, v + n);
        if (k < N_CATEGORIES) t->cat_ns[k] = mid;
        else t->pass_ns = mid;
    }
    t->op_passes = (long)n;
    free(v);
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
        if (!(p.py = py_calls_new("numpy_model", r, tr->note, sizeof tr->note))) return;
    } else if (pick_ops(tr->tier, t->int8, cfg->cpu, &p.op, &tr->isa, tr->note, sizeof tr->note) < 0) {
        return;
    }
    // one pass to check, kept for scoring, then the timed passes
    size_t out_bytes = (size_t)r->m->n_test * r->classes * 4;
    poison_work(r); // a pass that writes nothing shows, and none passes on an earlier tier's work
    tr->status = ST_FAILED;
    double t0 = now_ns();
    if (run_pass(r, &p, NULL, tr->note, sizeof tr->note) < 0) goto done;
    double first = now_ns() - t0;
    memcpy(r->kept[slot][0], r->probs, out_bytes);
    memcpy(r->kept[slot][1], r->logits, out_bytes);
    char size[128];
    snprintf(size, sizeof size, "%s/%s/batch%d", r->name, t->int8 ? "int8" : "fp32", r->batch);
    struct timed_pass tp = {r, &p, slot};
    static const struct call_guard checked = {poison_outputs, same_outputs};
    int is_py = tr->tier == T_PYTHON || tr->tier == T_NUMPY;
    r->n_times = 0;
    if (sample_tier(timed_pass, is_py ? &checked : NULL, &tp, first, cfg, "model", size, tr) < 0) goto done;
    t->batch_ns = tr->median_ns / r->n_batches;
    t->inference_ns = tr->median_ns / r->m->n_test;
    median_parts(r, (long)tr->repetitions * tr->iterations, t); // cfg passes = 1: every sample is this call's
done:
    finish_tier(tr);
    char which[64];
    if (py_calls_free(r, p.py, r->n_steps, which, sizeof which)) {
        size_t used = tr->status == ST_FAILED ? strlen(tr->note) : 0; // after why it failed, if it did
        tr->status = ST_FAILED;
        snprintf(tr->note + used, sizeof tr->note - used,
                 "%sthe script kept %s past its call (a slice or an array over the view): that memory is left to "
                 "Python", used ? "; " : "", which);
    }
}

// the first largest value's index
static int argmax(const float *v, int n) {
    int best = 0;
    for (int j = 1; j < n; j++) best = v[j] > v[best] ? j : best;
    return best;
}

// Accuracy, agreement with the reference pass and the largest logit difference.
// fp32 must agree on every class and stay within the file's logit_tol; int8 only reports.
//
// logit_tol bounds |logit - the Python pass's logit| for a float32 tier,
// derived by the training tool (tools/bmml_format.py, its docstring) for its
// model and test set as a first-order bound in its adjoint form: both passes
// are compared with the exact pass in float64, and a pass's logit is off by
// the sum over every value it stores of the error made at that value times
// |d logit / d value|, the exact derivatives carried back from each logit
// through the ops. The error made at a value is its kernel's stated bound
// (kernels.c's tolerances): a dot product of length n, gamma_n sum |x w|
// (gamma_n = n u / (1 - n u), u = 2^-24, any order of summation: Higham,
// Accuracy and Stability, 3.5) and u |y| per rounding; GELU, softmax and
// LayerNorm, their kernels' stated error. The native tier's sum plus the
// Python pass's own, the largest over the test set, rounded up to two
// significant digits. The class cannot change where an image's two largest
// logits are more than twice the tolerance apart; the tool says how many
// images are not.
static void score(const struct run *r, int slot, int ref, const char *ref_name, struct model_tier *t) {
    const float *probs = r->kept[slot][0], *logits = r->kept[slot][1];
    const float *ref_probs = ref >= 0 ? r->kept[ref][0] : NULL, *ref_logits = ref >= 0 ? r->kept[ref][1] : NULL;
    int n = r->m->n_test, c = r->classes, right = 0, same = 0, bad_row = -1;
    double diff = 0, sum_err = 0, tol = r->m->logit_tol;
    for (int i = 0; i < n; i++) {
        const float *pi = probs + (size_t)i * c;
        int cls = argmax(pi, c);
        right += cls == r->m->label[i];
        double sum = 0;
        for (int j = 0; j < c; j++) sum += pi[j];
        // c terms of a few ulp each: 1e-5 leaves room for 10 classes and still catches a row left unscaled
        if (!(fabs(sum - 1) <= 1e-5 + c * 1e-7) && bad_row < 0) bad_row = i, sum_err = sum;
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
    } else if (t->changed || !(diff <= tol)) {
        t->r.status = ST_FAILED;
        snprintf(t->r.note, sizeof t->r.note, "%d classes differ from the reference; max |logit difference| %.3g (tolerance %g)",
                 t->changed, diff, tol);
    }
}

int model_run(const char *path, size_t batch, const struct run_config *cfg, struct model_result *out,
              char *err, size_t errlen) {
    static struct model m; // 16 KiB of op records: not on the stack
    memset(out, 0, sizeof *out);
    if (model_load(&m, path, err, errlen) < 0) return -1;
    snprintf(out->path, sizeof out->path, "%s", path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".bmml") == 0) len -= 5;
    snprintf(out->name, sizeof out->name, "%.*s", (int)len, base);
    out->n_ops = m.n_ops, out->in_rows = m.in_rows, out->in_cols = m.in_cols, out->classes = m.classes;
    for (int i = 0; i < m.n_ops; i++) out->counts[m.op[i].kind]++;
    out->logit_tol = m.logit_tol;
    out->n_test = m.n_test;
    out->batch = batch == 0 || batch > (size_t)m.n_test ? m.n_test : (int)batch;
    out->n_batches = (m.n_test + out->batch - 1) / out->batch;
    struct run r = {.m = &m, .name = out->name, .batch = out->batch, .n_batches = out->n_batches, .classes = m.classes};
    if (work_new(&r, 1) < 0) {
        model_release(&m, &r);
        work_free(&r);
        return failf(err, errlen, "%s: out of memory for a batch of %d", path, out->batch);
    }
    out->steps = r.n_steps;
    out->clock_read_ns = clock_read_ns(1000);
    struct run_config c = *cfg;
    c.pass = 0, c.passes = 1; // after the kernels' passes, in one of its own
    char why[200], np_why[150];
    if (c.python && embed_import("model", why, sizeof why) < 0) c.python = 0; // the Python tier says why below
    if (c.numpy && embed_import("numpy_model", np_why, sizeof np_why) < 0) {
        c.numpy = 0;
        snprintf(c.numpy_note, sizeof c.numpy_note, "numpy_model.py did not import: %s", np_why);
    }
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
    model_release(&m, &r); // what a script still reaches stays
    work_free(&r);
    return 0;
}
