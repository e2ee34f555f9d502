// bmml-host: parse the options, make the plan, run it in passes, hand the
// results to the reporters, and exit with what happened.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "blas.h"
#include "cli.h"
#include "compare.h"
#include "config.h"
#include "context.h"
#include "controls.h"
#include "cpu.h"
#include "embed.h"
#include "harness.h"
#include "interrupt.h"
#include "kernels/gemm_config.h"
#include "kernels.h"
#include "model.h"
#include "onednn.h"
#include "plan.h"
#include "report.h"
#include "roofline.h"
#include "runner.h"
#include "util.h"
#include "warn.h"

static int usage_error(const char *msg) {
    fprintf(stderr, "bmml-host: %s\nTry 'bmml-host --help' for more information.\n", msg);
    return 2;
}

// Which tier of each kernel this run can measure, and why not.
static void print_list(const struct run_config *cfg) {
    static const char *const marks[] = {[PICK_OK] = "yes", [PICK_NOT_BUILT] = "not-built",
                                        [PICK_MAX_ISA] = "max-isa", [PICK_NO_CPU] = "no-cpu"};
    printf("%-12s", "kernel");
    for (int t = 0; t < N_TIERS; t++) printf(" %-8s", tier_names[t]);
    printf("\n");
    for (int i = 0; i < n_kernels; i++) {
        printf("%-12s", kernels[i].name);
        printf(" %-8s %-8s", cfg->python ? "yes" : "no", cfg->numpy ? "yes" : "no");
        for (int t = T_SCALAR; t <= T_AVX512; t++) {
            enum pick why;
            variant_pick(&kernels[i], t, cfg->cpu, &why, NULL, 0);
            printf(" %-8s", marks[why]);
        }
        unsigned libs = kinds[kernels[i].kind].libraries;
        printf(" %-8s", !(libs & 1u << T_BLAS) ? "-" : blas_available() ? "yes" : "not-built");
        char why[160];
        printf(" %-8s\n", !(libs & 1u << T_ONEDNN) ? "-" : !onednn_available() ? "not-built"
                          : kernels[i].kind == KIND_MATMUL_I8 && !onednn_int8_exact(cfg->cpu, why, sizeof why) ? "inexact"
                          : "yes");
    }
    printf("(no-cpu: this CPU lacks the instruction set; max-isa: excluded by --max-isa; inexact: oneDNN's int8\n"
           " GEMM may saturate without VNNI)\n");
    struct gemm_caches c = gemm_caches_here();
    printf("GEMM blocking for this CPU's caches (L1d %ld KiB, L2 %ld KiB, L3 %ld KiB):\n", c.l1d >> 10, c.l2 >> 10,
           c.l3 >> 10);
    for (int g = 0; g < N_GEMMS; g++) {
        struct gemm_blocking b = gemm_blocking(g, 1);
        printf("  %-17s %2dx%-2d KC %4d MC %4d NC %4d", gemm_geometries[g].name, gemm_geometries[g].mr,
               gemm_geometries[g].nr, b.kc, b.mc, b.nc);
        const struct gemm_geometry *geo = &gemm_geometries[g];
        if (geo->small_below) printf("  small path below %ld multiply-adds", geo->small_below);
        if (geo->small_below && geo->small_m_max) printf(", m <= %d", geo->small_m_max);
        if (geo->small_below && geo->small_k_max) printf(", k <= %d", geo->small_k_max);
        putchar('\n');
    }
    if (!cfg->numpy) printf("numpy: %s\n", cfg->numpy_note);
}

// --blas-core. OpenBLAS reads OPENBLAS_CORETYPE once, in the constructor
// that runs when the library is loaded, before main: setting it now would
// change nothing. So the host sets it and runs itself again with the same
// arguments (execv of /proc/self/exe); that run finds it set as wanted and
// goes on. 0, or 3 when the host could not run itself again.
static int blas_core_apply(const struct options *o, char **argv) {
    if (!o->blas_core || !blas_available()) return 0;
    const char *want = o->blas_core;
    if (strcmp(want, "auto") == 0 && !blas_core_fallback(blas_corename(), cpu_features(CAP_AVX512), NULL, &want))
        return 0; // the core OpenBLAS chose already matches the CPU
    const char *have = getenv("OPENBLAS_CORETYPE");
    if (have && strcmp(have, want) == 0) {
        if (strcasecmp(blas_corename(), want) != 0)
            warnf("OpenBLAS runs its %s core, not the %s --blas-core asked for (a name it does not know, or "
                  "a core this CPU cannot run)", blas_corename(), want);
        return 0;
    }
    if (setenv("OPENBLAS_CORETYPE", want, 1) == 0) execv("/proc/self/exe", argv);
    fprintf(stderr, "bmml-host: --blas-core %s: cannot run again with OPENBLAS_CORETYPE set: %s\n", want,
            strerror(errno));
    return 3;
}

// Start the interpreter and import the twins when a Python tier or --list
// needs them. 0, or 3 with the reason on stderr.
static int start_python(const struct options *o, struct run_config *cfg, const char **scripts) {
    char err[512], looked[3 * 4096];
    snprintf(cfg->numpy_note, sizeof cfg->numpy_note, "not selected");
    if (!o->list && !(o->tiers & ((1u << T_PYTHON) | (1u << T_NUMPY)))) return 0;
    if (!(*scripts = embed_find_scripts(o->scripts_dir, looked, sizeof looked))) {
        fprintf(stderr, "bmml-host: kernels.py not found; looked in %s\n", looked);
        return 3;
    }
    if (embed_start(*scripts, err, sizeof err) < 0) {
        fprintf(stderr, "bmml-host: %s\n", err);
        return 3;
    }
    if (embed_import("kernels", err, sizeof err) < 0) {
        fprintf(stderr, "bmml-host: %s/kernels.py could not be imported: %s\n", *scripts, err);
        embed_stop();
        return 3;
    }
    cfg->python = 1;
    if (embed_import("numpy_kernels", cfg->numpy_note, sizeof cfg->numpy_note) == 0) cfg->numpy = 1;
    return 0;
}

// One line on stderr, rewritten in place, at most ten times a second.
static void progress(const char *kernel, const char *tier, const char *size, int repetition) {
    static double last;
    double now = now_ns();
    if (kernel && now - last < 1e8) return;
    last = now;
    if (!kernel) fprintf(stderr, "\r\033[K"); // clear the line
    else if (repetition == 0) fprintf(stderr, "\r\033[K%s %s %s: warm-up and check", kernel, tier, size);
    else fprintf(stderr, "\r\033[K%s %s %s: repetition %d", kernel, tier, size, repetition);
    fflush(stderr);
}

// The reports the options ask for; status, or 3 when a file could not be written.
static int report(const struct options *o, const struct context *ctx, const struct case_result *results, int n,
                  int status) {
    char err[512];
    report_table(stdout, ctx, results, n);
    for (int m = 0; m < ctx->n_models; m++) {
        printf("\n");
        model_report_table(stdout, &ctx->models[m]);
    }
    fflush(stdout);
    warn_print(stderr);
    if (o->report_dir && report_dir(o->report_dir, ctx, results, n, err, sizeof err) < 0) {
        fprintf(stderr, "bmml-host: %s\n", err);
        if (!status) status = 3;
    }
    if (o->json_path && report_json(o->json_path, ctx, results, n) < 0) {
        fprintf(stderr, "bmml-host: cannot write %s: %s\n", o->json_path, strerror(errno));
        if (!status) status = 3;
    }
    return status;
}

int main(int argc, char **argv) {
    struct options o;
    char err[512];
    if (cli_parse(&o, argc, argv, err, sizeof err)) return usage_error(err);
    if (o.help) return cli_usage(stdout), 0;
    if (o.version) return printf("bmml-host %s\n", PACKAGE_VERSION), 0;
    if (o.compare[0]) {
        int rc = compare_main(o.compare[0], o.compare[1], stdout, err, sizeof err);
        if (rc) fprintf(stderr, "bmml-host: %s\n", err);
        return rc;
    }
    int status = blas_core_apply(&o, argv);
    if (status) return status;
    static struct plan plan;
    status = plan_make(&plan, &o, err, sizeof err);
    if (status == 2) return usage_error(err);
    if (status) return fprintf(stderr, "bmml-host: %s\n", err), status;

    // OpenBLAS (which NumPy's BLAS calls also reach on Debian) on as many
    // threads as the native tiers: one unless --threads says more
    blas_set_threads(o.threads);
    onednn_set_threads(o.threads);
    struct run_config cfg = {.seed = o.seed, .min_time = o.min_time, .max_time = o.max_time,
                             .repetitions = o.repetitions, .threads = o.threads, .cpu = cpu_features(o.max_isa),
                             .tiers = o.tiers, .passes = cli_passes(&o)};
    onednn_limit_isa(cfg.cpu); // as --max-isa caps our own tiers
    const char *scripts = NULL;
    if ((status = start_python(&o, &cfg, &scripts))) return status;
    // after Python has put its SIGINT handler in place (it installs none over
    // another's), so that the host's handler can forward to it
    interrupt_install(cfg.python ? embed_interrupt : NULL, cfg.python ? embed_force_stop : NULL);
    if (o.list) {
        print_list(&cfg);
        embed_stop();
        return 0;
    }

    struct context ctx;
    context_fill(&ctx, &o, scripts, cfg.numpy);
    if (ctx.numpy_blas_fallback)
        snprintf(cfg.numpy_blas_note, sizeof cfg.numpy_blas_note,
                 "fallback: NumPy's OpenBLAS runs %s, which lacks %s; OPENBLAS_CORETYPE=%s", ctx.numpy_blas_core,
                 ctx.numpy_blas_lacks, ctx.numpy_blas_matching);
    struct roofline roof;
    if (!o.no_roofline) {
        roofline_measure(&roof, cfg.cpu);
        cfg.roof = &roof;
        ctx.roof = &roof;
    }
    // One thread's figures move with the core it runs on (virtual CPUs of one
    // machine need not be equal), so a one-thread run stays on one CPU, after
    // the roofline has measured every core. --cpu was checked at start.
    ctx.pinned_cpu = -1;
    if (o.threads == 1 || o.cpu >= 0) {
        if ((ctx.pinned_cpu = cpu_pin(o.cpu)) < 0) {
            fprintf(stderr, "bmml-host: cannot run on CPU %d: %s\n", o.cpu, strerror(errno));
            embed_stop();
            return 2;
        }
    }
    struct harness harness;
    if (cfg.python) {
        harness_measure(&harness);
        ctx.harness = &harness;
    }
    if (isatty(STDERR_FILENO) && !o.quiet) cfg.progress = progress;

    static struct controls controls;
    cfg.controls = &controls;
    ctx.controls = &controls;
    static struct case_result results[MAX_CASES];
    int n_done;
    status = run_plan(&plan, &cfg, results, &n_done);
    controls_warn(&controls);
    static struct model_result models[MODEL_DEFAULTS];
    ctx.models = models;
    if (status != 3) { // memory ran out for a kernel's case: no model either
        int models_status = run_models(&plan, o.batch, &cfg, models, &ctx.n_models);
        if (models_status == 3 || !status) status = models_status;
    }
    controls_free(&controls); // after the models, whose Python samples have their controls too
    if (cfg.progress) progress(NULL, NULL, NULL, 0);
    ctx.interrupted = interrupt_signal();
    if (ctx.interrupted) {
        fprintf(stderr, "bmml-host: interrupted by signal %d: the results below are partial\n", ctx.interrupted);
        status = 128 + ctx.interrupted;
    }
    status = report(&o, &ctx, results, n_done, status);
    if (embed_stop() < 0) fflush(NULL), _exit(status); // a script's thread would hold exit() for ever
    return status;
}
