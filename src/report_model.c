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

void model_report_json(FILE *f, const struct model_result *r) {
    for (int i = 0; i < r->n_tiers; i++) {
        const struct model_tier *t = &r->tiers[i];
        int ok = t->r.status == ST_OK;
        fprintf(f, "%s    {\"name\": \"model/%s/%s/batch%d\", \"run_type\": \"iteration\", \"kernel\": \"model\"",
                i ? ",\n" : "", tier_names[t->r.tier], t->int8 ? "int8" : "fp32", r->batch);
        // size names the path and batch, so (kernel, tier, size) tells every entry apart (--compare)
        fprintf(f, ", \"tier\": \"%s\", \"path\": \"%s\", \"size\": \"%s/batch%d\", \"isa\": ", tier_names[t->r.tier],
                t->int8 ? "int8" : "fp32", t->int8 ? "int8" : "fp32", r->batch);
        json_str(f, t->r.isa ? t->r.isa : "");
        fputs(", \"status\": ", f);
        json_str(f, status_names[t->r.status]);
        fputs(", \"note\": ", f);
        json_str(f, t->r.note);
        fprintf(f, ",\n     \"model\": ");
        json_str(f, r->path);
        fprintf(f, ", \"dims\": [%d, %d, %d], \"test_images\": %d, \"batch\": %d, \"batches\": %d, \"repetitions\": %d",
                r->dims[0], r->dims[1], r->dims[2], r->n_test, r->batch, r->n_batches, t->r.repetitions);
        fputs(", \"time_unit\": \"ns\"", f);
        json_value(f, "real_time", ok ? t->r.median_ns : NAN);
        json_value(f, "median_ns", ok ? t->r.median_ns : NAN);
        json_value(f, "min_ns", ok ? t->r.min_ns : NAN);
        json_value(f, "mad_ns", ok ? t->r.mad_ns : NAN);
        json_value(f, "ns_per_batch", ok ? t->batch_ns : NAN);
        json_value(f, "ns_per_inference", ok ? t->inference_ns : NAN);
        json_value(f, "speedup_vs_python", ok && t->r.speedup > 0 ? t->r.speedup : NAN);
        json_value(f, "accuracy", t->r.repetitions ? t->accuracy : NAN);
        json_value(f, "agreement", t->r.repetitions ? t->agreement : NAN);
        json_value(f, "changed", t->r.repetitions && isfinite(t->agreement) ? t->changed : NAN);
        json_value(f, "max_logit_diff", t->r.repetitions ? t->max_logit_diff : NAN);
        json_value(f, "logit_tolerance", t->int8 ? NAN : MODEL_LOGIT_TOL);
        fputs(", \"samples_ns\": [", f);
        for (int k = 0; ok && k < t->r.repetitions; k++) {
            if (k) fputs(", ", f);
            json_num(f, t->r.samples_ns[k]);
        }
        fputs("]}", f);
    }
}
