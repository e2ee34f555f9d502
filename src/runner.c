// One case: a kernel at one size, every selected tier on the same buffers
// (buffers.c), each warmed up and verified before it is timed; and the
// timing of any work in samples, which the model's passes use as well.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "buffers.h"
#include "controls.h"
#include "embed.h"
#include "interrupt.h"
#include "model.h"
#include "onednn.h"
#include "parallel.h"
#include "plan.h"
#include "runner.h"
#include "stats.h"
#include "util.h"
#include "warn.h"

// ---------------------------------------------------------------------------
// timing

int pass_share(int count, int pass, int passes) {
    return count * (pass + 1) / passes - count * pass / passes;
}

// The nanoseconds n calls took, their CPU time added to *cpu (the
// process's) and *own (this thread's); -1 at the first that fails (or whose
// guard rejects it) or after a signal. With a guard each call is timed
// alone, wall clock and CPU time both, so the guard's work stays out of
// either.
static double call_n(timed_fn call, const struct call_guard *guard, void *what, long n, struct tier_result *r,
                     double *cpu, double *own) {
    double timed = 0, t0 = now_ns(), c0 = process_cpu_ns(), o0 = thread_cpu_ns();
    for (long i = 0; i < n; i++) {
        if (guard) guard->before(what), o0 = thread_cpu_ns(), c0 = process_cpu_ns(), t0 = now_ns();
        if (call(what, r->note, sizeof r->note) < 0 || interrupt_signal()) return -1;
        if (guard) {
            timed += now_ns() - t0;
            *cpu += process_cpu_ns() - c0;
            *own += thread_cpu_ns() - o0;
            if (guard->after(what, r) < 0) return -1;
        }
    }
    if (guard) return timed;
    *cpu += process_cpu_ns() - c0;
    *own += thread_cpu_ns() - o0;
    return now_ns() - t0;
}

// median, min, MAD and CV over r's samples
static void tier_stats(struct tier_result *r) {
    double scratch[MAX_SAMPLES];
    int n = r->repetitions;
    r->min_ns = stats_min(r->samples_ns, n);
    r->mad_ns = stats_mad(r->samples_ns, n, scratch);
    r->median_ns = stats_median(r->samples_ns, n, scratch);
    r->cv = stats_cv(r->samples_ns, n);
}

// what a reader should doubt in r's figures, on stderr and in the JSON
static void tier_warnings(const char *kernel, const char *size, const struct tier_result *r) {
    char label[192];
    snprintf(label, sizeof label, "%s/%s/%s", kernel, tier_names[r->tier], size);
    // MAD scaled by 1.4826 estimates the standard deviation of normal
    // samples, and one preempted repetition does not move it as it does CV
    double spread = r->median_ns > 0 ? 1.4826 * r->mad_ns / r->median_ns : 0;
    if (spread > 0.10)
        warnf("%s: the repetitions vary by %.0f%% (1.4826 MAD / median); the machine may be busy", label, 100 * spread);
    if (r->min_ns * r->iterations < 100 * clock_tick_ns()) warnf("%s: a repetition lasts under 100 ticks of the clock", label);
}

int sample_tier(timed_fn call, const struct call_guard *guard, void *what, double first_ns, const struct run_config *cfg, const char *kernel,
                const char *size, struct tier_result *r) {
    int is_py = r->tier == T_PYTHON || r->tier == T_NUMPY;
    // calibrate on warm calls in the first pass (these runs are more warm-up)
    double target = cfg->min_time * 1e9 / 30;
    long iters = cfg->pass == 0 ? 1 : r->iterations;
    for (double dt = first_ns; cfg->pass == 0 && dt < target && iters < (1L << 30);) {
        iters = dt > 0 && target / dt < 10 ? (long)(iters * 1.2 * target / dt) + 1 : iters * 10;
        double warm_cpu = 0, warm_own = 0;
        if ((dt = call_n(call, guard, what, iters, r, &warm_cpu, &warm_own)) < 0) goto failed;
    }
    r->iterations = iters;
    // at least MIN_REPETITIONS samples and min_time seconds in all, spread evenly over the passes
    int before = r->repetitions, n = 0;
    double *samples = r->samples_ns + before, total = 0, cpu = 0;
    int want = cfg->repetitions ? pass_share(cfg->repetitions, cfg->pass, cfg->passes) : 0;
    int least = pass_share(MIN_REPETITIONS, cfg->pass, cfg->passes);
    double time = cfg->min_time * 1e9 / cfg->passes;
    // a Python sample's CPU time, and the Python control's beside it: timed
    // before and after the sample, the smaller kept (other work on the
    // core, in a spell, slows the two alike; one run it breaks into is long)
    int beside = r->tier == T_PYTHON && cfg->controls;
    double control = beside ? controls_python_beside(cfg->controls) : 0;
    while (want ? n < want : before + n < MAX_SAMPLES && (n < least || total < time)) {
        double own = 0, dt = call_n(call, guard, what, iters, r, &cpu, &own);
        if (dt < 0) goto failed;
        r->cpu_samples_ns[before + n] = own / iters;
        if (beside) {
            double after = controls_python_beside(cfg->controls);
            r->control_cpu_ns[before + n] = after < control ? after : control;
            control = after;
        }
        samples[n++] = dt / iters;
        if (cfg->progress) cfg->progress(kernel, tier_names[r->tier], size, before + n);
        total += dt;
        if (!cfg->repetitions && is_py && dt / iters > cfg->max_time * 1e9) {
            r->ended = 1;
            break;
        }
    }
    cpu /= iters; // the CPU time of this pass's n samples, per call
    r->cpu_ns = (r->cpu_ns * before + cpu) / (before + n);
    r->repetitions = before + n;
    r->pass_samples[cfg->pass] = n;
    r->cut = r->ended && r->repetitions < MIN_REPETITIONS;
    tier_stats(r);
    r->status = ST_OK;
    if (r->cut)
        snprintf(r->note, sizeof r->note, "%d repetition%s: one took longer than --max-time", r->repetitions,
                 r->repetitions > 1 ? "s" : "");
    if (cfg->pass == cfg->passes - 1 || r->ended) tier_warnings(kernel, size, r);
    return 0;
failed:
    r->status = ST_FAILED;
    return -1;
}

void finish_tier(struct tier_result *r) {
    if (!interrupt_signal() || r->status != ST_FAILED) return;
    if (r->repetitions > 0) {
        // stopped in a later pass: the earlier passes' samples and statistics stand
        r->status = ST_OK;
        snprintf(r->note, sizeof r->note, "%d repetitions: signal %d stopped the rest", r->repetitions,
                 interrupt_signal());
    } else {
        r->status = ST_INTERRUPTED; // whatever the kernel said, the signal stopped it
        snprintf(r->note, sizeof r->note, "interrupted by signal %d", interrupt_signal());
    }
}

// ---------------------------------------------------------------------------
// one tier of a case: what to call

struct invoker {
    const struct kernel *kern;
    struct shape s;
    const struct buffers *b;
    const struct variant *v;  // native tiers
    struct py_call *py;       // Python tiers
    int blas;                 // the blas tier
    int onednn;               // the onednn tier
};

static int invoke(void *what, char *err, size_t errlen) {
    const struct invoker *iv = what;
    const struct buffers *b = iv->b;
    if (iv->py) return embed_call(iv->py, err, errlen);
    if (iv->blas) {
        blas_sgemm(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k);
        return 0;
    }
    if (iv->onednn && iv->kern->kind == KIND_MATMUL_F32)
        return onednn_sgemm(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k, err, errlen);
    if (iv->onednn) return onednn_gemm_s8(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k, err, errlen);
    switch (iv->kern->kind) {
    case KIND_UNARY_F32: iv->v->fn.unary(b->out, b->in[0], iv->s.n); break;
    case KIND_MATMUL_F32: iv->v->fn.matmul_f32(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k); break;
    case KIND_MATMUL_I8: iv->v->fn.matmul_i8(b->out, b->in[0], b->in[1], iv->s.m, iv->s.n, iv->s.k); break;
    case KIND_LAYERNORM: iv->v->fn.layernorm(b->out, b->in[0], b->in[1], b->in[2], iv->s.m, iv->s.n); break;
    case KIND_ATTENTION:
        iv->v->fn.attention(b->out, b->in[0], b->in[1], b->in[2], iv->s.m, iv->s.n, iv->s.k);
        break;
    case N_KINDS: break;
    }
    return 0;
}

// The module that holds each Python tier's functions.
static const char *const py_modules[2] = {"kernels", "numpy_kernels"};

// The arguments: out, then the inputs (the order buffers.python_holds
// follows), then the sizes.
static struct py_call *py_call_new(int tier, const struct kernel *kern, struct shape s,
                                   const struct buffers *b, char *err, size_t errlen) {
    char fmt_in = kern->kind == KIND_MATMUL_I8 ? 'b' : 'f';
    char fmt_out = kern->kind == KIND_MATMUL_I8 ? 'i' : 'f';
    struct py_arg args[7];
    int n = 0;
    args[n++] = (struct py_arg){ARG_VIEW, b->out, b->out_bytes / 4, fmt_out, 0};
    for (int i = 0; i < b->n_in; i++)
        args[n++] = (struct py_arg){ARG_VIEW, b->in[i], b->in_bytes[i] / (fmt_in == 'f' ? 4 : 1), fmt_in, 0};
    // the sizes the kind takes, in the order m, n, k (element-wise: n alone)
    const size_t sizes[3][3] = {{s.n}, {s.m, s.n}, {s.m, s.n, s.k}};
    int dims = kinds[kern->kind].dims;
    for (int i = 0; i < dims; i++) args[n++] = (struct py_arg){ARG_INT, NULL, 0, 0, (long)sizes[dims - 1][i]};
    return embed_call_new(py_modules[tier], kern->name, args, n, err, errlen);
}

// A script kept a view's memory past its call: the tier fails, and the
// buffers it reaches are left to Python.
static void python_kept(unsigned held, const struct kernel *kern, struct buffers *b, struct tier_result *r) {
    const char *const *name = kinds[kern->kind].arg;
    char which[48] = "";
    for (int i = 0; i < 1 + kinds[kern->kind].n_in; i++) {
        if (held >> i & 1) snprintf(which + strlen(which), sizeof which - strlen(which), "%s%s", *which ? ", " : "", name[i]);
    }
    b->python_holds |= held;
    size_t used = r->status == ST_FAILED ? strlen(r->note) : 0; // after why it failed, if it did
    r->status = ST_FAILED;
    snprintf(r->note + used, sizeof r->note - used,
             "%sthe kernel kept %s past its call (a slice or an array over the view): that memory is left to Python",
             used ? "; " : "", which);
}

// The invoker for tier t, or -1 with r unavailable and the reason in its note.
static int invoker_for(int t, const struct run_config *cfg, struct invoker *iv, struct tier_result *r) {
    if (t == T_PYTHON || t == T_NUMPY) {
        if (t == T_PYTHON && !cfg->python) return snprintf(r->note, sizeof r->note, "kernels.py did not import"), -1;
        if (t == T_PYTHON && cfg->python_skip) return snprintf(r->note, sizeof r->note, "%s", cfg->python_skip_note), -1;
        if (t == T_NUMPY && !cfg->numpy) return snprintf(r->note, sizeof r->note, "%s", cfg->numpy_note), -1;
        r->isa = t == T_PYTHON ? "CPython" : "NumPy";
        iv->py = py_call_new(t, iv->kern, iv->s, iv->b, r->note, sizeof r->note);
        if (iv->py && t == T_NUMPY && iv->kern->kind == KIND_MATMUL_F32 && cfg->numpy_blas_note[0]) {
            r->fallback = 1; // NumPy's matmul is OpenBLAS's sgemm
            snprintf(r->note, sizeof r->note, "%s", cfg->numpy_blas_note);
        }
        return iv->py ? 0 : -1;
    }
    if (t == T_BLAS) {
        if (!blas_available()) return snprintf(r->note, sizeof r->note, "not built: configure found no OpenBLAS"), -1;
        iv->blas = 1;
        r->isa = blas_corename();
        const char *lacks, *matching;
        if ((r->fallback = blas_core_fallback(r->isa, cpu_features(CAP_AVX512), &lacks, &matching)))
            snprintf(r->note, sizeof r->note, "fallback: %s lacks %s; OPENBLAS_CORETYPE=%s or --blas-core auto",
                     r->isa, lacks, matching);
        return 0;
    }
    if (t == T_ONEDNN) {
        if (!onednn_available()) return snprintf(r->note, sizeof r->note, "not built: configure found no oneDNN"), -1;
        if (iv->kern->kind == KIND_MATMUL_I8 && !onednn_int8_exact(cfg->cpu, r->note, sizeof r->note)) return -1;
        iv->onednn = 1;
        r->isa = onednn_isa();
        return 0;
    }
    if (!(iv->v = variant_pick(iv->kern, t, cfg->cpu, NULL, r->note, sizeof r->note))) return -1;
    r->isa = iv->v->isa;
    return 0;
}

// Verify the output of the call just made, keeping the largest errors in r
// (the first check of a run replaces them); 0, or -1 with r failed and why.
static int output_checked(const struct invoker *iv, int first, const char *which, struct tier_result *r) {
    double abs_err, rel_err, ulp_err;
    r->verified = verify_output(iv->kern, iv->s, iv->b->out, iv->b->ref, iv->b->bound, &abs_err, &rel_err, &ulp_err);
    if (first || !(abs_err <= r->max_abs_err)) r->max_abs_err = abs_err;
    if (first || !(rel_err <= r->max_rel_err)) r->max_rel_err = rel_err;
    if (first || !(ulp_err <= r->max_ulp_err)) r->max_ulp_err = ulp_err;
    if (r->verified) return 0;
    r->status = ST_FAILED;
    snprintf(r->note, sizeof r->note, "wrong result%s: max abs error %.3g", which, abs_err);
    return -1;
}

// A Python tier's timed calls, each checked as its warm-up was: a script
// that does the work once and returns at once later, or only when it is not
// timed, cannot pass on an output an earlier call wrote.
static void poison_before(void *what) { poison(((const struct invoker *)what)->b); }

static int verify_after(void *what, struct tier_result *r) {
    return output_checked(what, 0, " in a timed call (the warm-up's was right): the kernel skipped work", r);
}

static const struct call_guard python_guard = {poison_before, verify_after};

// 1 when the inputs are as filled; else r fails with the reason
static int inputs_checked(const struct buffers *b, struct tier_result *r) {
    if (inputs_intact(b)) return 1;
    r->status = ST_FAILED;
    snprintf(r->note, sizeof r->note, "the kernel wrote to its input");
    return 0;
}

static void run_tier(int t, const struct kernel *kern, struct shape s, struct buffers *b,
                     const struct run_config *cfg, struct tier_result *r) {
    if (cfg->pass == 0) {
        memset(r, 0, sizeof *r);
        r->tier = t;
        r->status = ST_UNAVAILABLE;
    } else if (r->status != ST_OK || r->ended) {
        return; // as an earlier pass left it
    }
    struct invoker iv = {kern, s, b, NULL, NULL, 0, 0};
    if (invoker_for(t, cfg, &iv, r) < 0) return;

    // warm-up, then verify that one call before any timing counts
    char size[64];
    shape_str(kern, s, size, sizeof size);
    poison(b);
    double t0 = now_ns();
    if (invoke(&iv, r->note, sizeof r->note) < 0 || interrupt_signal()) {
        r->status = ST_FAILED;
        goto done;
    }
    double first = now_ns() - t0;
    if (cfg->progress) cfg->progress(kern->name, tier_names[t], size, 0);
    if (output_checked(&iv, cfg->pass == 0, "", r) < 0 || !inputs_checked(b, r)) goto done;
    if (sample_tier(invoke, iv.py ? &python_guard : NULL, &iv, first, cfg, kern->name, size, r) == 0)
        inputs_checked(b, r);
done:
    finish_tier(r);
    unsigned held = embed_call_free(iv.py);
    if (held) python_kept(held, kern, b, r);
    if (!inputs_intact(b)) restore_inputs(b); // also after a tier that raised or failed verification
}

// ---------------------------------------------------------------------------
// the case

// The roof of cr's kernel as measured now, in cr->unit (0 when unknown),
// its name in cr->roof_name. The streaming kernels (element-wise, layernorm):
// the speed of merely moving their bytes, a copy from x to out of as many
// floats as out holds (the case's own
// buffers, so a case that fits in cache is held to the cache's bandwidth and
// a large one to memory's). The MatMuls: the best peak so far, one core's
// times the threads used (int8: the faster VNNI, on zmm or on ymm); attention,
// which runs on one thread: one core's.
static double roof_now(struct case_result *cr, const struct roofline *roof, float *out, const float *x,
                       unsigned cpu, int threads) {
    if (!roof || !roof->measured) return 0;
    size_t in[3], elems;
    if (kinds[cr->kern->kind].streaming && case_elems(cr->kern, cr->shape, in, &elems) >= 0) {
        cr->roof_name = "the fastest copy of the same buffers";
        return roofline_copy_gbps(out, x, elems, cpu, 9);
    }
    switch (cr->kern->kind) {
    case KIND_MATMUL_F32:
    case KIND_ATTENTION: { // attention runs on one thread, whatever --threads says
        double fma = roof->fma_avx512_gflops ? roof->fma_avx512_gflops : roof->fma_avx2_gflops;
        cr->roof_name = !fma ? NULL : roof->fma_avx512_gflops ? "AVX-512 FMA peak" : "AVX2 FMA peak";
        return (cr->kern->kind == KIND_MATMUL_F32 ? threads : 1) * fma;
    }
    case KIND_MATMUL_I8: return threads * roofline_int8(roof, &cr->roof_name);
    default: return 0;
    }
}

int roofs_recheck(struct case_result *results, int n, roof_fn measure, void *arg) {
    int again = 0;
    for (int i = 0; i < n; i++) {
        struct case_result *cr = &results[i];
        int above = 0;
        for (int t = 0; t < cr->n_tiers; t++) above |= above_roof(cr, &cr->tiers[t]);
        if (!above) continue;
        const char *name = cr->roof_name;
        double now = measure(cr, arg, &name);
        if (now > cr->roof) cr->roof = now, cr->roof_name = name;
        roof_shares(cr);
        again++;
        for (int t = 0; t < cr->n_tiers; t++) {
            const struct tier_result *r = &cr->tiers[t];
            char label[128];
            if (above_compute_roof(cr, r))
                warnf("%s: %.0f%% of the %s, measured again: every share of that peak in this run reads high "
                      "(a busy core while the peak ran)",
                      case_label(cr->kern, r->tier, cr->shape, label, sizeof label), r->pct_of_roof, cr->roof_name);
        }
    }
    return again;
}

// roofs_recheck's measure in a run: the peaks once more on this core (the
// best kept in cfg->roof), a copy on fresh buffers of the case's size.
struct remeasure {
    const struct run_config *cfg;
    int peaks_done;
};

static double roof_again(const struct case_result *cr, void *arg, const char **name) {
    struct remeasure *m = arg;
    float *out = NULL, *x = NULL;
    size_t in[3], elems;
    if (kinds[cr->kern->kind].streaming && case_elems(cr->kern, cr->shape, in, &elems) >= 0) {
        size_t bytes = elems * sizeof(float);
        if (!(out = aligned_new(bytes)) || !(x = aligned_new(bytes))) {
            free(out), free(x);
            return 0;
        }
        memset(x, 0, bytes);
    } else if (!m->peaks_done) {
        struct roofline now;
        roofline_measure(&now, m->cfg->cpu);
        roofline_keep_best(m->cfg->roof, &now);
        m->peaks_done = 1;
    }
    struct case_result scratch = *cr; // roof_now names the roof into scratch
    double roof = roof_now(&scratch, m->cfg->roof, out, x, m->cfg->cpu, m->cfg->threads);
    *name = scratch.roof_name;
    free(out), free(x);
    return roof;
}

void speedup_interval(const struct tier_result *py, struct tier_result *r, uint64_t seed) {
    double scratch[2 * MAX_SAMPLES];
    r->speedup = py->median_ns / r->median_ns;
    if (py->repetitions >= 10 && r->repetitions >= 10) {
        stats_ratio_interval(py->samples_ns, py->repetitions, r->samples_ns, r->repetitions, 2000, seed, scratch,
                             &r->speedup_lo, &r->speedup_hi);
        r->interval = "bootstrap95";
        r->interval_coverage = 0.95;
    } else {
        // a bootstrap of the median of a few samples covers far less than
        // 95%: give the whole range the samples allow instead (MIN_REPETITIONS)
        r->speedup_lo = stats_min(py->samples_ns, py->repetitions) / stats_max(r->samples_ns, r->repetitions);
        r->speedup_hi = stats_max(py->samples_ns, py->repetitions) / stats_min(r->samples_ns, r->repetitions);
        r->interval = "range";
        r->interval_coverage = stats_range_coverage(py->repetitions, r->repetitions);
    }
}

// Each tier's speedup over Python and its interval, as of this pass.
static void speedups(struct case_result *cr, const struct run_config *cfg) {
    const struct tier_result *py = case_tier_ok(cr, T_PYTHON);
    for (int i = 0; i < cr->n_tiers; i++) { // as of this pass: Python may have failed in it
        cr->tiers[i].speedup = cr->tiers[i].speedup_lo = cr->tiers[i].speedup_hi = 0;
        cr->tiers[i].interval = NULL;
    }
    for (int i = 0; py && i < cr->n_tiers; i++) {
        struct tier_result *r = &cr->tiers[i];
        if (r->status != ST_OK) continue;
        if (r == py) { // python against itself has no interval worth printing
            r->speedup = 1;
            continue;
        }
        speedup_interval(py, r, cfg->seed + i);
        if (r->interval_coverage < 0.95 && cfg->pass == cfg->passes - 1) {
            char label[128];
            warnf("%s: with %d and %d repetitions the speedup's range holds the ratio of medians "
                  "with probability %.0f%% at least, not 95%%",
                  case_label(cr->kern, r->tier, cr->shape, label, sizeof label), py->repetitions, r->repetitions,
                  100 * r->interval_coverage);
        }
    }
}

int run_case(const struct kernel *kern, struct shape s, const struct run_config *cfg, struct case_result *out) {
    struct buffers b;
    int first = cfg->pass == 0;
    if (first) {
        memset(out, 0, sizeof *out);
        out->kern = kern;
        out->shape = s;
        if (kern->kind == KIND_UNARY_F32) {
            out->work = 8.0 * s.n; // the least traffic: read x once, write out once
            out->unit = "GB/s";
        } else if (kern->kind == KIND_LAYERNORM) {
            out->work = 8.0 * s.m * s.n + 8.0 * s.n; // x and out once, gamma and beta once
            out->unit = "GB/s";
        } else if (kern->kind == KIND_ATTENTION) {
            out->work = 4.0 * s.m * s.n * s.n * s.k; // q k^T and p v, each 2 seq^2 dim per head
            out->unit = "GFLOP/s";
        } else {
            out->work = 2.0 * s.m * s.n * s.k;
            out->unit = kern->kind == KIND_MATMUL_F32 ? "GFLOP/s" : "GOP/s";
        }
    }
    if (buffers_new(&b, kern, s, cfg->seed) < 0) {
        char sz[64];
        fprintf(stderr, "bmml-host: %s %s: out of memory: %s\n", kern->name, shape_str(kern, s, sz, sizeof sz),
                strerror(ENOMEM));
        return 3;
    }
    if (first && kern->kind == KIND_MATMUL_I8) out->quant_rel_err = quantization_error(s, &b);
    // a roof is what the machine can do: measured in every pass, the best kept
    double roof = roof_now(out, cfg->roof, b.out, b.in[0], cfg->cpu, cfg->threads);
    if (roof > out->roof) out->roof = roof;
    parallel_set_threads(kinds[kern->kind].streaming ? 1 : cfg->threads);
    blas_set_threads(cfg->threads);
    onednn_set_threads(cfg->threads);
    int k = 0; // the tiers in the same order every pass
    for (int t = 0; t < N_TIERS && !interrupt_signal(); t++) {
        if (!(cfg->tiers & (1u << t))) continue;
        if (tier_is_library(t) && !(kinds[kern->kind].libraries & (1u << t))) continue;
        if (first) out->n_tiers++;
        struct tier_result *r = &out->tiers[k++];
        run_tier(t, kern, s, &b, cfg, r);
    }
    buffers_free(&b);
    roof_shares(out);
    speedups(out, cfg);
    decompose(out);
    return 0;
}

int run_plan(const struct plan *p, struct run_config *cfg, struct case_result *results, int *n_done) {
    // Every case's samples are taken in passes over the whole plan, so the
    // repetitions of each are spread over the run: a spell of the machine
    // running slower (other work on it, another virtual machine on the same
    // core) then touches a few samples of every case rather than every sample
    // of one, as Google Benchmark's random interleaving does for its runs.
    int status = 0;
    *n_done = 0;
    for (int pass = 0; pass < cfg->passes && !status && !interrupt_signal(); pass++) {
        cfg->pass = pass;
        if (cfg->controls) controls_pass(cfg->controls, cfg->cpu, cfg->python);
        if (pass && cfg->roof && cfg->roof->measured) { // the first pass has main's
            struct roofline now;
            roofline_measure(&now, cfg->cpu);
            roofline_keep_best(cfg->roof, &now);
        }
        for (int i = 0; i < (pass ? *n_done : p->n) && !interrupt_signal(); i++) {
            // a later pass leaves Python out where the first did
            cfg->python_skip = pass ? 0 : plan_python_skip(p, results, *n_done, i, cfg->max_time,
                                                           cfg->python_skip_note, sizeof cfg->python_skip_note);
            if ((status = run_case(p->kern[i], p->shape[i], cfg, &results[i]))) break;
            if (!pass) ++*n_done;
        }
    }
    if (cfg->roof && cfg->roof->measured && !interrupt_signal()) {
        struct remeasure m = {cfg, 0};
        roofs_recheck(results, *n_done, roof_again, &m);
    }
    for (int i = 0; i < *n_done && !status; i++) {
        for (int t = 0; t < results[i].n_tiers; t++) {
            if (results[i].tiers[t].status == ST_FAILED) status = 1;
        }
    }
    return status;
}

int run_models(const struct plan *p, size_t batch, const struct run_config *cfg, struct model_result *out,
               int *n_done) {
    int status = 0, unloaded = 0;
    char err[600];
    *n_done = 0;
    for (int i = 0; i < p->n_models && !interrupt_signal(); i++) {
        struct model_result *m = &out[*n_done];
        if (model_run(p->model_path[i], batch, cfg, m, err, sizeof err) < 0) {
            fprintf(stderr, "bmml-host: model %s\n", err); // err names the file
            unloaded = 1;
            continue;
        }
        ++*n_done;
        for (int t = 0; t < m->n_tiers; t++)
            if (m->tiers[t].r.status == ST_FAILED) status = 1;
    }
    return unloaded ? 3 : status;
}
