// The plan (plan.h): from the options to the cases, each checked.
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buffers.h"
#include "model.h"
#include "plan.h"
#include "util.h"
#include "warn.h"

struct shape default_shape(const struct kernel *kern, int quick) {
    struct shape s = {0, 0, 0};
    if (kern->kind == KIND_UNARY_F32) {
        // relu is memory-bound: 10M floats (40 MB each way) go well past the last-level cache
        s.n = quick ? 100000 : strcmp(kern->name, "relu") == 0 ? 10000000 : 1000000;
    } else if (kern->kind == KIND_LAYERNORM) {
        // a transformer's activations: 4096 tokens of width 1024, 16 MB each way
        s.m = quick ? 64 : 4096;
        s.n = quick ? 256 : 1024;
    } else if (kern->kind == KIND_ATTENTION) {
        // a small transformer's self-attention: 8 heads of 64 dims over 256 tokens
        s.m = quick ? 2 : 8;
        s.n = quick ? 32 : 256;
        s.k = quick ? 16 : 64;
    } else {
        s.m = s.n = s.k = quick ? 64 : 500;
    }
    return s;
}

int sweep_shapes(const struct kernel *k, struct shape *out, int max) {
    // 1-3-10 steps: about half a decade apart, so each cache level gets a point or two
    static const size_t elements[] = {1000, 3000, 10000, 30000, 100000, 300000, 1000000, 3000000, 10000000};
    static const size_t sides[] = {16, 32, 64, 128, 256, 512, 1024};
    // layernorm: rows of 1024, from 4 KB to 64 MB each way
    static const size_t rows[] = {1, 4, 16, 64, 256, 1024, 4096, 16384};
    // attention: 8 heads of 64 dims over 16 to 1024 tokens (sides)
    int unary = k->kind == KIND_UNARY_F32, ln = k->kind == KIND_LAYERNORM, att = k->kind == KIND_ATTENTION;
    int n = unary ? (int)(sizeof elements / sizeof *elements)
            : ln  ? (int)(sizeof rows / sizeof *rows)
                  : (int)(sizeof sides / sizeof *sides);
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        if (unary) out[i] = (struct shape){0, elements[i], 0};
        else if (ln) out[i] = (struct shape){rows[i], 1024, 0};
        else if (att) out[i] = (struct shape){8, sides[i], 64};
        else out[i] = (struct shape){sides[i], sides[i], sides[i]};
    }
    return n;
}

int shape_check(const struct kernel *kern, struct shape s, char *err, size_t errlen) {
    if (kern->kind == KIND_UNARY_F32) {
        if (s.n == 0) return snprintf(err, errlen, "%s needs a size of at least 1", kern->name), -1;
        if (s.n > LONG_MAX / 8) return snprintf(err, errlen, "size %zu is too large", s.n), -1;
    } else {
        if (!s.m || !s.n || (!s.k && kinds[kern->kind].dims == 3))
            return snprintf(err, errlen, "%s needs sizes of at least 1", kern->name), -1;
        if (s.m > INT_MAX || s.n > INT_MAX || s.k > INT_MAX)
            return snprintf(err, errlen, "%s sizes must be at most %d", kern->name, INT_MAX), -1;
        // |c| <= k * 128 * 128 must fit int32
        if (kern->kind == KIND_MATMUL_I8 && s.k > 131071)
            return snprintf(err, errlen, "%s needs k <= 131071 so that int32 sums cannot overflow", kern->name), -1;
    }
    size_t bytes;
    if (buffers_bytes(kern, s, &bytes) < 0) return snprintf(err, errlen, "%s: the size overflows", kern->name), -1;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    double have = pages > 0 && page > 0 ? (double)pages * page : 0;
    if (have && bytes > have)
        return snprintf(err, errlen, "%s at this size needs %.1f GiB of memory; this machine has %.1f GiB",
                        kern->name, bytes / 1073741824.0, have / 1073741824.0), -1;
    return 0;
}

// The outputs must take files, and --cpu must be a CPU this process may run
// on: fail now, not after minutes of measuring. 0, or 2 with the reason.
static int check_targets(const struct options *o, char *err, size_t errlen) {
    if (o->cpu >= 0 && !cpu_allowed(o->cpu))
        return snprintf(err, errlen, "--cpu %d: this process may not run on that CPU", o->cpu), 2;
    if (o->report_dir) {
        // the directory, or its parent when report_dir is to make it
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", o->report_dir);
        char *slash = strrchr(parent, '/');
        const char *where = access(o->report_dir, F_OK) == 0 ? o->report_dir
                            : slash ? (slash == parent ? "/" : (*slash = '\0', parent)) : ".";
        if (access(where, W_OK | X_OK) != 0)
            return snprintf(err, errlen, "cannot write --report %.200s: %.200s: %s", o->report_dir, where,
                            strerror(errno)), 2;
    }
    if (o->json_path) {
        // a temporary of its own beside the target, removed at once, touches no file of the user's
        struct atomic_file probe;
        if (atomic_open(&probe, o->json_path) < 0)
            return snprintf(err, errlen, "cannot write --json %s: %s", o->json_path, strerror(errno)), 2;
        atomic_abort(&probe);
    }
    return 0;
}

int plan_make(struct plan *p, const struct options *o, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    if (o->sweep && o->have_size) return snprintf(err, errlen, "--sweep chooses the sizes: drop --size"), 2;
    // --model alone runs only that model; no selection at all runs the kernels and the committed models
    int n_kernels_planned = o->n_kernel ? o->n_kernel : o->model_path ? 0 : n_kernels;
    if (o->model_path) {
        p->model_path[p->n_models++] = o->model_path;
    } else if (!o->n_kernel) {
        for (int i = 0; i < MODEL_DEFAULTS; i++) {
            const char *path = model_default_path(i);
            if (access(path, R_OK) == 0) p->model_path[p->n_models++] = path;
            else warnf("the committed model is not at %s; it is left out", path);
        }
    }
    if (o->batch && !p->n_models) return snprintf(err, errlen, "--batch goes with --model"), 2;
    if (o->model_path && access(o->model_path, R_OK) != 0)
        return snprintf(err, errlen, "--model %s: %s", o->model_path, strerror(errno)), 3;
    struct stat st;
    for (int i = 0; i < p->n_models; i++)
        if (stat(p->model_path[i], &st) == 0 && !S_ISREG(st.st_mode))
            return snprintf(err, errlen, "--model %s: %s, not a file", p->model_path[i], file_kind(st.st_mode)), 3;
    for (int i = 0; i < n_kernels_planned; i++) {
        const struct kernel *k = &kernels[o->n_kernel ? o->kernel[i] : i];
        if (o->sweep) {
            int n = sweep_shapes(k, p->shape + p->n, MAX_SWEEP_SHAPES);
            for (int j = 0; j < n; j++) p->kern[p->n++] = k;
            continue;
        }
        p->kern[p->n] = k;
        p->shape[p->n] = default_shape(k, o->quick);
        if (o->have_size) {
            p->shape[p->n] = o->size;
            // N alone: every size N, as many as the kind takes
            if (kinds[k->kind].dims > 1 && !o->size.m) p->shape[p->n].m = o->size.n;
            if (kinds[k->kind].dims > 2 && !o->size.k) p->shape[p->n].k = o->size.n;
        }
        p->n++;
    }
    for (int i = 0; i < p->n; i++) {
        if (shape_check(p->kern[i], p->shape[i], err, errlen)) return 2;
    }
    return check_targets(o, err, errlen);
}

// the multiply-adds or elements of kernel k at shape s
static double work_of(const struct kernel *k, struct shape s) {
    if (k->kind == KIND_ATTENTION) return 2.0 * s.m * s.n * s.n * s.k;
    switch (kinds[k->kind].dims) {
    case 1: return (double)s.n;
    case 2: return (double)s.m * s.n;
    default: return (double)s.m * s.n * s.k;
    }
}

int plan_python_skip(const struct plan *p, const struct case_result *done, int n_done, int i, double max_time,
                     char *note, size_t size) {
    if (i == 0 || p->kern[i - 1] != p->kern[i] || n_done == 0) return 0;
    const struct case_result *prev = &done[n_done - 1];
    for (int t = 0; t < prev->n_tiers; t++) {
        const struct tier_result *r = &prev->tiers[t];
        if (r->tier != T_PYTHON) continue;
        if (r->status == ST_UNAVAILABLE && strstr(r->note, "--max-time")) {
            snprintf(note, size, "left out of the sweep: a smaller size was already past --max-time");
            return 1;
        }
        if (r->status != ST_OK) return 0;
        double predicted = r->median_ns * 1e-9 * work_of(p->kern[i], p->shape[i]) / work_of(prev->kern, prev->shape);
        if (predicted <= max_time) return 0;
        snprintf(note, size, "left out of the sweep: one repetition would take about %.2g s, past --max-time", predicted);
        return 1;
    }
    return 0;
}
