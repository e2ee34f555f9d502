// The model's writers: its table under the kernels', and its entries in the
// JSON file's "benchmarks" array. They read the model's results alone.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "report.h"

void model_report_table(FILE *f, const struct model_result *r) {
    const char *name = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
    fprintf(f, "\nmodel %s: %d -> %d (GELU) -> %d (softmax); %d test images in %d batch%s of %d\n", name,
            r->dims[0], r->dims[1], r->dims[2], r->n_test, r->n_batches, r->n_batches > 1 ? "es" : "", r->batch);
    fprintf(f, "%-8s %-5s %-15s %10s %10s %9s %9s %9s %12s  %s\n", "tier", "path", "isa", "per batch", "per image",
            "speedup", "accuracy", "agreement", "max |dlogit|", "check");
    for (int i = 0; i < r->n_tiers; i++) {
        const struct model_tier *t = &r->tiers[i];
        fprintf(f, "%-8s %-5s %-15.15s ", tier_names[t->r.tier], t->int8 ? "int8" : "fp32", t->r.isa ? t->r.isa : "-");
        if (t->r.status == ST_UNAVAILABLE || (t->r.status == ST_FAILED && !t->r.repetitions)) {
            fprintf(f, "%s: %s\n", t->r.status == ST_FAILED ? "FAILED" : "-", t->r.note);
            continue;
        }
        char a[32], b[32], sp[32];
        snprintf(sp, sizeof sp, t->r.speedup >= 100 ? "%.0fx" : t->r.speedup > 0 ? "%.3gx" : "-", t->r.speedup);
        fprintf(f, "%10s %10s %9s %9.4f %9.4f %12.3g  %s%s%s\n", fmt_time(t->batch_ns, a, sizeof a),
                fmt_time(t->inference_ns, b, sizeof b), sp, t->accuracy, t->agreement, t->max_logit_diff,
                t->r.status == ST_OK ? "ok" : "FAILED", t->r.note[0] ? ": " : "", t->r.note);
    }
    fprintf(f, "fp32 tiers must give the reference's class for every image and logits within %g of it\n",
            MODEL_LOGIT_TOL);
}

static void json_value(FILE *f, const char *key, double v) {
    fprintf(f, ", \"%s\": ", key);
    json_num(f, v);
}

// size names the path and batch, so (kernel, tier, size) tells every entry apart (--compare)
void model_entry_names(const struct model_result *r, const struct model_tier *t, char *size, size_t size_len,
                       char *name, size_t name_len) {
    snprintf(size, size_len, "%s/batch%d", t->int8 ? "int8" : "fp32", r->batch);
    snprintf(name, name_len, "model/%s/%s", tier_names[t->r.tier], size);
}

void model_report_json(FILE *f, const struct model_result *r) {
    for (int i = 0; i < r->n_tiers; i++) {
        const struct model_tier *t = &r->tiers[i];
        int ok = t->r.status == ST_OK;
        char size[32], name[64];
        model_entry_names(r, t, size, sizeof size, name, sizeof name);
        if (i) fputs(",\n", f);
        json_entry_open(f, name, "model", &t->r);
        fprintf(f, ", \"path\": \"%s\", \"size\": \"%s\",\n     \"model\": ",
                t->int8 ? "int8" : "fp32", size);
        json_str(f, r->path);
        fprintf(f, ", \"dims\": [%d, %d, %d], \"test_images\": %d, \"batch\": %d, \"batches\": %d", r->dims[0],
                r->dims[1], r->dims[2], r->n_test, r->batch, r->n_batches);
        json_value(f, "ns_per_batch", ok ? t->batch_ns : NAN);
        json_value(f, "ns_per_inference", ok ? t->inference_ns : NAN);
        json_value(f, "accuracy", t->r.repetitions ? t->accuracy : NAN);
        json_value(f, "agreement", t->r.repetitions ? t->agreement : NAN);
        json_value(f, "changed", t->r.repetitions && isfinite(t->agreement) ? t->changed : NAN);
        json_value(f, "max_logit_diff", t->r.repetitions ? t->max_logit_diff : NAN);
        json_value(f, "logit_tolerance", t->int8 ? NAN : MODEL_LOGIT_TOL);
        json_entry_close(f, &t->r);
    }
}
