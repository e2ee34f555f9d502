// The model's writers: its tables under the kernels' (the tiers, then the
// time per operation), and its entries in the JSON file's "benchmarks"
// array. They read the model's results alone.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "report.h"

const char *model_title(const struct model_result *r, char *buf, size_t size) {
    const char *name = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
    int o = snprintf(buf, size, "model %s: (%d, %d) -> %d classes in %d ops (", name, r->in_rows, r->in_cols,
                     r->classes, r->n_ops);
    const char *sep = "";
    for (int k = 1; k < OP_KINDS_END && o >= 0 && (size_t)o < size; k++) {
        if (!r->counts[k]) continue;
        o += snprintf(buf + o, size - o, "%s%d %s", sep, r->counts[k], op_names[k]);
        sep = ", ";
    }
    if (o >= 0 && (size_t)o < size)
        snprintf(buf + o, size - o, "); %d test images in %d batch%s of %d", r->n_test, r->n_batches,
                 r->n_batches > 1 ? "es" : "", r->batch);
    return buf;
}

int model_cells(const struct model_tier *t, struct model_cells *c) {
    memset(c, 0, sizeof *c);
    if (t->r.status == ST_UNAVAILABLE || (t->r.status == ST_FAILED && !t->r.repetitions)) {
        snprintf(c->check, sizeof c->check, "%s: %s", t->r.status == ST_FAILED ? "FAILED" : "-", t->r.note);
        return 0;
    }
    fmt_time(t->batch_ns, c->batch, sizeof c->batch);
    fmt_time(t->inference_ns, c->image, sizeof c->image);
    snprintf(c->speedup, sizeof c->speedup, t->r.speedup >= 100 ? "%.0fx" : t->r.speedup > 0 ? "%.3gx" : "-",
             t->r.speedup);
    snprintf(c->accuracy, sizeof c->accuracy, "%.4f", t->accuracy);
    snprintf(c->agreement, sizeof c->agreement, "%.4f", t->agreement);
    snprintf(c->logit_diff, sizeof c->logit_diff, "%.3g", t->max_logit_diff);
    snprintf(c->check, sizeof c->check, "%s%s%s", t->r.status == ST_OK ? "ok" : "FAILED", t->r.note[0] ? ": " : "",
             t->r.note);
    return 1;
}

const char *const category_short[N_CATEGORIES] = {"embed", "layernorm", "attn mm", "attn softmax",
                                                  "MLP mm", "GELU", "residual", "head"};

int model_has_op_times(const struct model_tier *t) { return t->r.status == ST_OK && t->pass_ns > 0; }

int model_op_cells(const struct model_tier *t, struct model_op_cells *c) {
    memset(c, 0, sizeof *c);
    if (!model_has_op_times(t)) return 0;
    double sum = 0;
    for (int k = 0; k < N_CATEGORIES; k++) sum += t->cat_ns[k];
    for (int k = 0; k < N_CATEGORIES; k++) snprintf(c->share[k], sizeof c->share[k], "%.1f%%", 100 * t->cat_ns[k] / sum);
    fmt_time(sum, c->steps, sizeof c->steps);
    fmt_time(t->pass_ns, c->pass, sizeof c->pass);
    snprintf(c->gap, sizeof c->gap, "%.1f%%", 100 * (t->pass_ns - sum) / t->pass_ns);
    return 1;
}

void model_report_table(FILE *f, const struct model_result *r) {
    char title[512];
    fprintf(f, "\n%s\n", model_title(r, title, sizeof title));
    fprintf(f, "%-8s %-5s %-15s %10s %10s %9s %9s %9s %12s  %s\n", "tier", "path", "isa", "per batch", "per image",
            "speedup", "accuracy", "agreement", "max |dlogit|", "check");
    for (int i = 0; i < r->n_tiers; i++) {
        const struct model_tier *t = &r->tiers[i];
        struct model_cells c;
        fprintf(f, "%-8s %-5s %-15.15s ", tier_names[t->r.tier], t->int8 ? "int8" : "fp32", t->r.isa ? t->r.isa : "-");
        if (!model_cells(t, &c)) fprintf(f, "%s\n", c.check);
        else fprintf(f, "%10s %10s %9s %9s %9s %12s  %s\n", c.batch, c.image, c.speedup, c.accuracy, c.agreement,
                     c.logit_diff, c.check);
    }
    fprintf(f, "fp32 tiers must give the reference's class for every image and logits within %g of it\n",
            r->logit_tol);
    fprintf(f, "\nTime per operation, %s: each category's median, as a share of the medians' sum; that sum, the "
               "median pass, the gap\n", r->name);
    fprintf(f, "%-8s %-5s", "tier", "path");
    for (int k = 0; k < N_CATEGORIES; k++) fprintf(f, " %*s", k == CAT_ATTN_SOFTMAX ? 12 : 9, category_short[k]);
    fprintf(f, " %10s %10s %6s\n", "steps", "pass", "gap");
    for (int i = 0; i < r->n_tiers; i++) {
        const struct model_tier *t = &r->tiers[i];
        struct model_op_cells c;
        if (!model_op_cells(t, &c)) continue;
        fprintf(f, "%-8s %-5s", tier_names[t->r.tier], t->int8 ? "int8" : "fp32");
        for (int k = 0; k < N_CATEGORIES; k++) fprintf(f, " %*s", k == CAT_ATTN_SOFTMAX ? 12 : 9, c.share[k]);
        fprintf(f, " %10s %10s %6s\n", c.steps, c.pass, c.gap);
    }
    char note[600];
    fprintf(f, "%s\n", model_op_note(r, note, sizeof note));
}

const char *model_op_note(const struct model_result *r, char *buf, size_t size) {
    char one[32], all[32];
    fmt_time(r->clock_read_ns, one, sizeof one);
    fmt_time(2.0 * r->steps * r->clock_read_ns, all, sizeof all);
    snprintf(buf, size,
             "(each category: the median of its time over the timed passes, warm-ups left out; steps: the sum of "
             "those medians; pass: the median pass; gap: (pass - steps) / pass, the loop between the steps, and "
             "medians of parts need not add up to the median whole. The host's clock is read around each of the %d "
             "steps of a pass: %d x 2 reads x %s = %s in every pass, the times of the table above included)",
             r->steps, r->steps, one, all);
    return buf;
}

static void json_value(FILE *f, const char *key, double v) {
    fprintf(f, ", \"%s\": ", key);
    json_num(f, v);
}

// size names the model, the path and the batch, so (kernel, tier, size) tells every entry apart (--compare)
void model_entry_names(const struct model_result *r, const struct model_tier *t, char *size, size_t size_len,
                       char *name, size_t name_len) {
    snprintf(size, size_len, "%s/%s/batch%d", r->name, t->int8 ? "int8" : "fp32", r->batch);
    snprintf(name, name_len, "model/%s/%s", tier_names[t->r.tier], size);
}

static const char *const category_keys[N_CATEGORIES] = {
    "embed", "layernorm", "attention_matmuls", "attention_softmax", "mlp_matmuls", "gelu", "residual", "head",
};

void model_report_json(FILE *f, const struct model_result *r) {
    for (int i = 0; i < r->n_tiers; i++) {
        const struct model_tier *t = &r->tiers[i];
        int ok = t->r.status == ST_OK;
        char size[128], name[160];
        model_entry_names(r, t, size, sizeof size, name, sizeof name);
        if (i) fputs(",\n", f);
        json_entry_open(f, name, "model", &t->r);
        fprintf(f, ", \"path\": \"%s\", \"size\": ", t->int8 ? "int8" : "fp32");
        json_str(f, size);
        fputs(",\n     \"model\": ", f);
        json_str(f, r->path);
        fprintf(f, ", \"input\": [%d, %d], \"classes\": %d, \"ops\": %d, \"test_images\": %d, \"batch\": %d, "
                   "\"batches\": %d", r->in_rows, r->in_cols, r->classes, r->n_ops, r->n_test, r->batch, r->n_batches);
        json_value(f, "ns_per_batch", ok ? t->batch_ns : NAN);
        json_value(f, "ns_per_inference", ok ? t->inference_ns : NAN);
        json_value(f, "accuracy", t->r.repetitions ? t->accuracy : NAN);
        json_value(f, "agreement", t->r.repetitions ? t->agreement : NAN);
        json_value(f, "changed", t->r.repetitions && isfinite(t->agreement) ? t->changed : NAN);
        json_value(f, "max_logit_diff", t->r.repetitions ? t->max_logit_diff : NAN);
        json_value(f, "logit_tolerance", t->int8 ? NAN : r->logit_tol);
        // each category's median over the timed passes, host clock around each step (model.h)
        fputs(",\n     \"op_ns\": {", f);
        for (int k = 0; k < N_CATEGORIES; k++) {
            fprintf(f, "%s\"%s\": ", k ? ", " : "", category_keys[k]);
            json_num(f, model_has_op_times(t) ? t->cat_ns[k] : NAN);
        }
        fputs("}", f);
        json_value(f, "op_pass_ns", model_has_op_times(t) ? t->pass_ns : NAN);
        json_value(f, "op_passes", model_has_op_times(t) ? (double)t->op_passes : NAN);
        json_value(f, "clock_reads_ns_per_pass", 2.0 * r->steps * r->clock_read_ns);
        json_entry_close(f, &t->r);
    }
}
