// The terminal table and the JSON file, both from the results alone.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "config.h"
#include "controls.h"
#include "report.h"
#include "warn.h"

// "423 ms", "1.27 us": three significant digits in the largest unit below the value
const char *fmt_time(double ns, char *buf, size_t size) {
    static const char *const units[] = {"ns", "us", "ms", "s"};
    int u = 0;
    while (u < 3 && ns >= 1000) ns /= 1000, u++;
    snprintf(buf, size, ns >= 100 ? "%.0f %s" : ns >= 10 ? "%.1f %s" : "%.2f %s", ns, units[u]);
    return buf;
}

const char *fmt_sig(double v, char *buf, size_t size) {
    snprintf(buf, size, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3g", v);
    return buf;
}

int has_decomposition(const struct case_result *cr) {
    return cr->decomp.total > 0 && cr->decomp.last_tier != T_PYTHON;
}

const char *decomposition_str(const struct case_result *cr, char *buf, size_t size) {
    const struct decomposition *d = &cr->decomp;
    buf[0] = '\0';
    if (!has_decomposition(cr)) return buf;
    char v[32];
    size_t len = snprintf(buf, size, "%s: python -> %s = %sx =", cr->kern->name, tier_names[d->last_tier],
                          fmt_sig(d->total, v, sizeof v));
    const char *sep = "";
    for (int i = 0; i < N_FACTORS && len < size; i++) {
        if (d->factor[i] <= 0) continue;
        char label[32];
        len += snprintf(buf + len, size - len, "%s %s %sx%s", sep, factor_label(d, i, label, sizeof label),
                        fmt_sig(d->factor[i], v, sizeof v),
                        i == F_LIBRARY && d->library_fallback ? " (OpenBLAS on a fallback core)" : "");
        sep = " *";
    }
    return buf;
}

const char *context_str(const struct context *ctx, char *buf, size_t size) {
    size_t len = snprintf(buf, size, "%s, %d cores; %s%s%s%s", ctx->cpu_model, ctx->cores,
                          ctx->python_version && ctx->python_version[0] ? "Python " : "no Python tier",
                          ctx->python_version ? ctx->python_version : "",
                          ctx->numpy_version[0] ? ", NumPy " : "", ctx->numpy_version);
    if (ctx->pinned_cpu >= 0 && len < size) len += snprintf(buf + len, size - len, "; pinned to CPU %d", ctx->pinned_cpu);
    if (ctx->blas_core && len < size) snprintf(buf + len, size - len, ", OpenBLAS core %s", ctx->blas_core);
    return buf;
}

const char *roofline_str(const struct roofline *r, char *buf, size_t size) {
    char a[32], b[32], c[32], v[32], d[32];
    buf[0] = '\0';
    if (r && r->measured)
        snprintf(buf, size, "roofline, one thread on the best of %d cores: AVX2 FMA %s GFLOP/s, AVX-512 FMA %s GFLOP/s, "
                            "AVX512-VNNI %s GOP/s, AVX-VNNI %s GOP/s, memory copy %s GB/s",
                 r->cores_measured ? r->cores_measured : 1,
                 r->fma_avx2_gflops ? fmt_sig(r->fma_avx2_gflops, a, sizeof a) : "-",
                 r->fma_avx512_gflops ? fmt_sig(r->fma_avx512_gflops, b, sizeof b) : "-",
                 r->vnni_avx512_gops ? fmt_sig(r->vnni_avx512_gops, c, sizeof c) : "-",
                 r->vnni_avxvnni_gops ? fmt_sig(r->vnni_avxvnni_gops, v, sizeof v) : "-",
                 fmt_sig(r->copy_gbps, d, sizeof d));
    return buf;
}

const char *controls_str(const struct controls *c, char *buf, size_t size) {
    char t[32];
    const char *sep = "";
    size_t len = 0;
    buf[0] = '\0';
    if (!c || !c->passes) return buf;
    len = snprintf(buf, size, "controls, median of %d pass%s (moved between passes):", c->passes,
                   c->passes > 1 ? "es" : "");
    for (int k = 0; k < N_CONTROLS && len < size; k++) {
        if (!c->present[k]) continue;
        double s = controls_spread(c, k);
        len += snprintf(buf + len, size - len, "%s %s %s (%.1f%%%s)", sep, control_names[k],
                        fmt_time(controls_median(c, k), t, sizeof t), 100 * s, s > CONTROL_STEADY ? ", UNSTEADY" : "");
        sep = ",";
    }
    return buf;
}

void tier_cells(const struct case_result *cr, const struct tier_result *r, struct tier_cells *c) {
    char a[32], b[32], d[32];
    memset(c, 0, sizeof *c);
    shape_str(cr->kern, cr->shape, c->size, sizeof c->size);
    if (r->status != ST_OK) return;
    fmt_time(r->median_ns, c->median, sizeof c->median);
    fmt_time(r->min_ns, c->min, sizeof c->min);
    fmt_time(r->mad_ns, c->mad, sizeof c->mad);
    snprintf(c->cv, sizeof c->cv, "%.0f%%", 100 * r->cv);
    snprintf(c->rate, sizeof c->rate, "%s %s", fmt_sig(r->rate, a, sizeof a), cr->unit);
    if (r->pct_of_roof > 0) snprintf(c->roof, sizeof c->roof, "%.0f%%", r->pct_of_roof);
    else snprintf(c->roof, sizeof c->roof, "-");
    int range = r->interval && strcmp(r->interval, "range") == 0;
    if (r->speedup > 0 && r->speedup_hi > 0)
        snprintf(c->speedup, sizeof c->speedup, range ? "%sx (%s-%s)" : "%sx [%s-%s]", fmt_sig(r->speedup, a, sizeof a),
                 fmt_sig(r->speedup_lo, b, sizeof b), fmt_sig(r->speedup_hi, d, sizeof d));
    else if (r->speedup > 0) snprintf(c->speedup, sizeof c->speedup, "%sx", fmt_sig(r->speedup, a, sizeof a));
    else snprintf(c->speedup, sizeof c->speedup, "-");
    snprintf(c->check, sizeof c->check, "ok, max err %.2g%s%s", r->max_abs_err, r->note[0] ? "; " : "", r->note);
}

void report_table(FILE *f, const struct context *ctx, const struct case_result *cases, int n) {
    char a[32], b[32], c[32], line[512];
    if (ctx) {
        fprintf(f, "%s\n", context_str(ctx, line, sizeof line));
        if (roofline_str(ctx->roof, line, sizeof line)[0]) fprintf(f, "%s\n", line);
        if (controls_str(ctx->controls, line, sizeof line)[0]) fprintf(f, "%s\n", line);
        fprintf(f, "\n");
    }
    if (n) fprintf(f, "%-11s %-7s %-15s %-11s %9s %9s %9s %5s %14s %6s %22s  %s\n", "kernel", "tier", "isa", "size",
            "median", "min", "MAD", "CV", "throughput", "roof", "speedup [interval]", "check");
    for (int ci = 0; ci < n; ci++) {
        const struct case_result *cr = &cases[ci];
        for (int i = 0; i < cr->n_tiers; i++) {
            const struct tier_result *r = &cr->tiers[i];
            struct tier_cells t;
            tier_cells(cr, r, &t);
            fprintf(f, "%-11s %-7s %-15.15s %-11s ", cr->kern->name, tier_names[r->tier],
                    r->isa ? r->isa : "-", t.size);
            if (r->status != ST_OK) {
                fprintf(f, "%s: %s\n", r->status == ST_FAILED ? "FAILED" : r->status == ST_INTERRUPTED ? "STOPPED" : "-", r->note);
                continue;
            }
            fprintf(f, "%9s %9s %9s %5s %14s %6s %22s  %s\n", t.median, t.min, t.mad, t.cv, t.rate, t.roof,
                    t.speedup, t.check);
        }
    }
    int speedups = 0;
    for (int ci = 0; ci < n; ci++)
        for (int i = 0; i < cases[ci].n_tiers; i++) speedups |= cases[ci].tiers[i].speedup > 0;
    if (speedups)
        fprintf(f, "\nspeedup: Python's median over the tier's; [a-b] a 95%% bootstrap interval (10 or more repetitions "
                   "on both sides), (a-b) the whole range of the ratio (fewer; with %d or more on both sides it holds the ratio "
                   "of the medians with 95%% probability or more, whatever the distribution).\n", MIN_REPETITIONS);
    int any = 0;
    for (int ci = 0; ci < n; ci++) any |= has_decomposition(&cases[ci]);
    if (any) {
        fprintf(f, "\nwhere the speedup comes from (ratios of medians; they multiply to the total):\n");
        for (int ci = 0; ci < n; ci++) {
            if (has_decomposition(&cases[ci])) fprintf(f, "  %s\n", decomposition_str(&cases[ci], line, sizeof line));
        }
    }
    for (int ci = 0; ci < n; ci++) {
        if (cases[ci].kern->kind != KIND_MATMUL_I8 || !(cases[ci].quant_rel_err >= 0)) continue;
        fprintf(f, "\n%s: every tier's int32 product is exact; dequantized with per-row and per-column scales it is "
                   "%.2g%% from the fp32 product (relative Frobenius norm).\n",
                cases[ci].kern->name, 100 * cases[ci].quant_rel_err);
    }
    const struct harness *h = ctx ? ctx->harness : NULL;
    if (h) {
        fprintf(f, "\nharness: an empty Python call from C costs %s (included in the Python figures);",
                fmt_time(h->empty_call_ns, a, sizeof a));
        fprintf(f, " the clock ticks in %s and costs %s to read.\n", fmt_time(h->clock_res_ns, b, sizeof b),
                fmt_time(h->clock_read_ns, c, sizeof c));
        fprintf(f, "what the embedding avoids: starting a Python subprocess %s, a call into C through ctypes %s.\n",
                h->subprocess_ms > 0 ? fmt_time(h->subprocess_ms * 1e6, a, sizeof a) : "(could not run)",
                h->ctypes_call_ns > 0 ? fmt_time(h->ctypes_call_ns, b, sizeof b) : "(could not run)");
    }
}

// ---------------------------------------------------------------------------
// JSON

void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.17g", v);
    else fputs("null", f);
}

// Google Benchmark's fields, which its compare.py reads, open an entry of
// "benchmarks". A tier that did not run has no time: 0 iterations and 0 ns
// with error_occurred, as Google Benchmark writes a run that failed (compare.py
// cannot take a null). Then on one line what names the tier and its status.
void json_entry_open(FILE *f, const char *name, const char *kernel, const struct tier_result *r) {
    int ok = r->status == ST_OK;
    fputs("    {\"name\": ", f);
    json_str(f, name);
    fputs(", \"run_type\": \"iteration\"", f);
    fprintf(f, ", \"iterations\": %ld", ok ? r->iterations * r->repetitions : 0L);
    fputs(", \"real_time\": ", f);
    json_num(f, ok ? r->median_ns : 0);
    fputs(", \"cpu_time\": ", f);
    json_num(f, ok ? r->cpu_ns : 0);
    fputs(", \"time_unit\": \"ns\"", f);
    if (!ok) {
        fputs(", \"error_occurred\": true, \"error_message\": ", f);
        json_str(f, r->note[0] ? r->note : status_names[r->status]);
    }
    fputs(",\n     \"kernel\": ", f);
    json_str(f, kernel);
    fputs(", \"tier\": ", f);
    json_str(f, tier_names[r->tier]);
    fputs(", \"isa\": ", f);
    if (r->isa) json_str(f, r->isa);
    else fputs("null", f);
    fputs(", \"status\": ", f);
    json_str(f, status_names[r->status]);
    fputs(", \"note\": ", f);
    json_str(f, r->note);
}

// bmml's fields of any tier, the kernels' and the model's, closing the entry
// with the samples.
void json_entry_close(FILE *f, const struct tier_result *r) {
    int ok = r->status == ST_OK;
    fprintf(f, ",\n     \"repetitions\": %d, \"iterations_per_repetition\": %ld, \"cut_by_max_time\": %s",
            r->repetitions, r->iterations, r->cut ? "true" : "false");
    fputs(", \"median_ns\": ", f);
    json_num(f, ok ? r->median_ns : NAN);
    fputs(", \"min_ns\": ", f);
    json_num(f, ok ? r->min_ns : NAN);
    fputs(", \"mad_ns\": ", f);
    json_num(f, ok ? r->mad_ns : NAN);
    fputs(", \"cv\": ", f);
    json_num(f, ok ? r->cv : NAN);
    fprintf(f, ",\n     \"verified\": %s, \"speedup_vs_python\": ", r->verified ? "true" : "false");
    json_num(f, ok && r->speedup > 0 ? r->speedup : NAN);
    fputs(", \"speedup_interval_kind\": ", f);
    if (ok && r->interval) json_str(f, r->interval);
    else fputs("null", f);
    fputs(", \"speedup_interval_coverage\": ", f);
    json_num(f, ok && r->interval ? r->interval_coverage : NAN);
    fputs(", \"speedup_interval\": ", f);
    if (ok && r->speedup > 0 && r->interval && isfinite(r->speedup_lo)) {
        fputs("[", f);
        json_num(f, r->speedup_lo);
        fputs(", ", f);
        json_num(f, r->speedup_hi);
        fputs("]", f);
    } else {
        fputs("null", f);
    }
    fputs(",\n     \"samples_ns\": [", f);
    for (int i = 0; ok && i < r->repetitions; i++) {
        if (i) fputs(", ", f);
        json_num(f, r->samples_ns[i]);
    }
    if (ok && r->tier == T_PYTHON) { // what --compare judges a Python row on
        fputs("], \"cpu_samples_ns\": [", f);
        for (int i = 0; i < r->repetitions; i++) {
            if (i) fputs(", ", f);
            json_num(f, r->cpu_samples_ns[i]);
        }
        fputs("], \"control_cpu_ns\": [", f);
        for (int i = 0; i < r->repetitions && r->control_cpu_ns[0] > 0; i++) {
            if (i) fputs(", ", f);
            json_num(f, r->control_cpu_ns[i]);
        }
    }
    fputs("], \"samples_per_pass\": [", f);
    for (int p = 0, sum = 0; ok && p < MAX_PASSES && sum < r->repetitions; sum += r->pass_samples[p++])
        fprintf(f, "%s%d", p ? ", " : "", r->pass_samples[p]);
    fputs("]}", f);
}

static void json_tier(FILE *f, const struct case_result *cr, const struct tier_result *r) {
    char size[64], name[128];
    shape_str(cr->kern, cr->shape, size, sizeof size);
    case_label(cr->kern, r->tier, cr->shape, name, sizeof name);
    int ok = r->status == ST_OK;
    json_entry_open(f, name, cr->kern->name, r);
    if (cr->kern->kind == KIND_UNARY_F32) fprintf(f, ", \"n\": %zu", cr->shape.n);
    else fprintf(f, ", \"n\": %zu, \"m\": %zu, \"k\": %zu", cr->shape.n, cr->shape.m, cr->shape.k);
    fputs(", \"size\": ", f);
    json_str(f, size);
    fprintf(f, ",\n     \"%s\": ", kinds[cr->kern->kind].streaming ? "gbps" : cr->kern->kind == KIND_MATMUL_I8 ? "gops" : "gflops");
    json_num(f, ok ? r->rate : NAN);
    fputs(", \"pct_of_roof\": ", f);
    json_num(f, ok && r->pct_of_roof > 0 ? r->pct_of_roof : NAN);
    fputs(", \"roof\": ", f);
    if (cr->roof_name) json_str(f, cr->roof_name);
    else fputs("null", f);
    fputs(",\n     \"max_abs_err\": ", f);
    json_num(f, r->status == ST_UNAVAILABLE ? NAN : r->max_abs_err);
    fputs(", \"max_rel_err\": ", f);
    json_num(f, r->status == ST_UNAVAILABLE ? NAN : r->max_rel_err);
    fputs(", \"max_ulp_err\": ", f);
    json_num(f, r->status == ST_UNAVAILABLE || cr->kern->kind == KIND_MATMUL_I8 ? NAN : r->max_ulp_err);
    if (cr->kern->kind == KIND_MATMUL_I8) {
        fputs(", \"quant_rel_err\": ", f);
        json_num(f, cr->quant_rel_err);
    }
    json_entry_close(f, r);
}

static void json_decomposition(FILE *f, const struct case_result *cr) {
    const struct decomposition *d = &cr->decomp;
    fputs("    {\"kernel\": ", f);
    json_str(f, cr->kern->name);
    fputs(", \"to_tier\": ", f);
    if (d->last_tier >= 0) json_str(f, tier_names[d->last_tier]);
    else fputs("null", f);
    fputs(", \"total\": ", f);
    json_num(f, d->total > 0 ? d->total : NAN);
    fputs(", \"factors\": {", f);
    for (int i = 0; i < N_FACTORS; i++) {
        if (i) fputs(", ", f);
        json_str(f, factor_names[i]);
        fputs(": ", f);
        json_num(f, d->factor[i] > 0 ? d->factor[i] : NAN);
    }
    fputs("}, \"steps\": [", f); // which tiers each factor joined: a missing tier folds a step into the next
    const char *sep = "";
    for (int i = 0; i < N_FACTORS; i++) {
        if (d->factor[i] <= 0) continue;
        fprintf(f, "%s{\"factor\": \"%s\", \"from\": \"%s\", \"to\": \"%s\", \"ratio\": ", sep, factor_names[i],
                tier_names[d->from[i]], tier_names[d->to[i]]);
        json_num(f, d->factor[i]);
        if (i == F_LIBRARY) fprintf(f, ", \"fallback\": %s", d->library_fallback ? "true" : "false");
        fputs("}", f);
        sep = ", ";
    }
    fputs("]}", f);
}

static void json_kv_str(FILE *f, const char *key, const char *v) {
    fprintf(f, ",\n    \"%s\": ", key);
    if (v) json_str(f, v);
    else fputs("null", f);
}

static void json_kv_num(FILE *f, const char *key, double v) {
    fprintf(f, ",\n    \"%s\": ", key);
    json_num(f, v);
}

// Each control's figure per pass and how much it moved; what --compare reads.
static void json_controls(FILE *f, const struct controls *c) {
    fputs(",\n    \"controls\": ", f);
    if (!c || !c->passes) {
        fputs("null", f);
        return;
    }
    fputs("{\"steady_below\": ", f);
    json_num(f, CONTROL_STEADY);
    for (int k = 0; k < N_CONTROLS; k++) {
        if (!c->present[k]) continue;
        fprintf(f, ",\n      \"%s\": {\"samples_ns\": [", control_names[k]);
        for (int p = 0; p < c->passes; p++) {
            if (p) fputs(", ", f);
            json_num(f, c->samples_ns[k][p]);
        }
        fputs("], \"spread\": ", f);
        json_num(f, controls_spread(c, k));
        if (c->isa[k]) fprintf(f, ", \"isa\": \"%s\"", c->isa[k]);
        fputs("}", f);
    }
    fputs("}", f);
}

static void json_ctx(FILE *f, const struct context *c) {
    fputs("  \"context\": {\n    \"cpu_model\": ", f);
    json_str(f, c->cpu_model);
    json_kv_num(f, "cores", c->cores);
    json_kv_num(f, "l1d_bytes", c->l1d_bytes ? c->l1d_bytes : NAN);
    json_kv_num(f, "l2_bytes", c->l2_bytes ? c->l2_bytes : NAN);
    json_kv_num(f, "l3_bytes", c->l3_bytes ? c->l3_bytes : NAN);
    fputs(",\n    \"gemm_blocking\": {", f);
    for (int g = 0; g < N_GEMMS; g++) {
        const struct gemm_geometry *geo = &gemm_geometries[g];
        fputs(g ? ", " : "", f);
        json_str(f, geo->name);
        // small_below: the multiply-adds below which its small path runs (0: none);
        // small_m_max, small_k_max: the most m and k it takes (null: any)
        fprintf(f, ": {\"mr\": %d, \"nr\": %d, \"kc\": %d, \"mc\": %d, \"nc\": %d, \"small_below\": %ld", geo->mr,
                geo->nr, c->gemm[g].kc, c->gemm[g].mc, c->gemm[g].nc, geo->small_below);
        fputs(", \"small_m_max\": ", f);
        json_num(f, geo->small_m_max ? geo->small_m_max : NAN);
        fputs(", \"small_k_max\": ", f);
        json_num(f, geo->small_k_max ? geo->small_k_max : NAN);
        fputs("}", f);
    }
    fputs("}", f);
    json_kv_str(f, "cpu_isa", c->cpu_flags);
    json_kv_str(f, "tiers_built", c->tiers_built);
    json_kv_str(f, "max_isa", c->max_isa);
    json_kv_str(f, "governor", c->governor);
    json_kv_str(f, "os_kernel", c->kernel);
    json_kv_str(f, "compiler", c->compiler);
    json_kv_str(f, "build", c->build);
    fputs(",\n    \"kernel_cflags\": {", f);
    for (int i = 0; i < 6 && c->kernel_cflags[i][0]; i++) {
        fputs(i ? ", " : "", f);
        json_str(f, c->kernel_cflags[i][0]);
        fputs(": ", f);
        json_str(f, c->kernel_cflags[i][1]);
    }
    fputs("}", f);
    json_kv_str(f, "python_version", c->python_version);
    json_kv_str(f, "libpython", c->libpython[0] ? c->libpython : NULL);
    json_kv_str(f, "numpy_version", c->numpy_version[0] ? c->numpy_version : NULL);
    json_kv_str(f, "onednn_version", c->onednn_version);
    json_kv_str(f, "onednn_isa", c->onednn_isa);
    json_kv_str(f, "openblas_config", c->blas_config);
    json_kv_str(f, "openblas_core", c->blas_core);
    // the core lacks a vector extension the CPU has: the blas figures are a fallback's
    if (c->blas_core) fprintf(f, ",\n    \"openblas_fallback\": %s", c->blas_fallback ? "true" : "false");
    json_kv_str(f, "openblas_matching_core", c->blas_fallback ? c->blas_matching : NULL);
    json_kv_str(f, "openblas_coretype", c->blas_coretype);
    json_kv_str(f, "numpy_openblas_core", c->numpy_blas_core);
    if (c->numpy_blas_core) {
        fprintf(f, ",\n    \"numpy_openblas_shared\": %s", c->numpy_blas_shared ? "true" : "false");
        fprintf(f, ",\n    \"numpy_openblas_fallback\": %s", c->numpy_blas_fallback ? "true" : "false");
    }
    json_kv_str(f, "openblas_num_threads", c->blas_threads);
    json_kv_str(f, "scripts_dir", c->scripts_dir);
    json_kv_str(f, "bmml_version", PACKAGE_VERSION);
    json_kv_str(f, "date", c->date);
    fprintf(f, ",\n    \"seed\": %llu", c->seed);
    json_kv_num(f, "min_time_s", c->min_time);
    json_kv_num(f, "max_time_s", c->max_time);
    json_kv_num(f, "repetitions", c->repetitions ? c->repetitions : NAN);
    json_kv_num(f, "passes", c->passes);
    json_kv_num(f, "threads", c->threads);
    json_kv_num(f, "pinned_cpu", c->pinned_cpu >= 0 ? c->pinned_cpu : NAN);
    fprintf(f, ",\n    \"partial\": %s", c->interrupted ? "true" : "false");
    json_kv_num(f, "interrupted_by_signal", c->interrupted ? c->interrupted : NAN);
    const struct roofline *r = c->roof;
    fputs(",\n    \"roofline\": ", f);
    if (r && r->measured) {
        fputs("{\"fma_avx2_gflops\": ", f);
        json_num(f, r->fma_avx2_gflops ? r->fma_avx2_gflops : NAN);
        fputs(", \"fma_avx512_gflops\": ", f);
        json_num(f, r->fma_avx512_gflops ? r->fma_avx512_gflops : NAN);
        fputs(", \"vnni_avx512_gops\": ", f);
        json_num(f, r->vnni_avx512_gops ? r->vnni_avx512_gops : NAN);
        fputs(", \"vnni_avxvnni_gops\": ", f);
        json_num(f, r->vnni_avxvnni_gops ? r->vnni_avxvnni_gops : NAN);
        fputs(", \"copy_gbps\": ", f);
        json_num(f, r->copy_gbps);
        fputs(", \"seconds\": ", f);
        json_num(f, r->seconds);
        fprintf(f, ", \"cores_measured\": %d", r->cores_measured);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    const struct harness *h = c->harness;
    fputs(",\n    \"harness\": ", f);
    if (h) {
        fputs("{\"clock_resolution_ns\": ", f);
        json_num(f, h->clock_res_ns);
        fputs(", \"clock_read_ns\": ", f);
        json_num(f, h->clock_read_ns);
        fputs(", \"empty_python_call_ns\": ", f);
        json_num(f, h->empty_call_ns);
        fputs(", \"python_subprocess_ms\": ", f);
        json_num(f, h->subprocess_ms > 0 ? h->subprocess_ms : NAN);
        fputs(", \"ctypes_call_ns\": ", f);
        json_num(f, h->ctypes_call_ns > 0 ? h->ctypes_call_ns : NAN);
        fputs(", \"python_executable\": ", f);
        json_str(f, h->python_exe);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    json_controls(f, c->controls);
    fputs(",\n    \"warnings\": [", f);
    for (int i = 0; i < warn_count(); i++) {
        if (i) fputs(", ", f);
        json_str(f, warn_text(i));
    }
    fputs("]\n  }", f);
}

int report_json(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    struct atomic_file a;
    if (atomic_open(&a, path) < 0) return -1;
    FILE *f = a.f;
    fputs("{\n", f);
    json_ctx(f, ctx);
    fputs(",\n  \"benchmarks\": [\n", f);
    int first = 1;
    for (int c = 0; c < n; c++) {
        for (int i = 0; i < cases[c].n_tiers; i++) {
            if (!first) fputs(",\n", f);
            first = 0;
            json_tier(f, &cases[c], &cases[c].tiers[i]);
        }
    }
    for (int m = 0; m < ctx->n_models; m++) {
        if (!ctx->models[m].n_tiers) continue;
        if (!first) fputs(",\n", f);
        first = 0;
        model_report_json(f, &ctx->models[m]);
    }
    fputs("\n  ],\n  \"decomposition\": [\n", f);
    for (int c = 0; c < n; c++) {
        if (c) fputs(",\n", f);
        json_decomposition(f, &cases[c]);
    }
    fputs("\n  ]\n}\n", f);
    return atomic_commit(&a);
}
