// bmml-host: parse the options, run the plan, hand the results to the reporters.
#define _GNU_SOURCE // sched_setaffinity
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "atomic_file.h"
#include "blas.h"
#include "cli.h"
#include "config.h"
#include "cpu.h"
#include "embed.h"
#include "harness.h"
#include "interrupt.h"
#include "kernels.h"
#include "model.h"
#include "report.h"
#include "roofline.h"
#include "runner.h"
#include "sweep.h"
#include "compare.h"
#include "warn.h"

#define MAX_CASES (16 * MAX_SWEEP_SHAPES)

static int usage_error(const char *msg) {
    fprintf(stderr, "bmml-host: %s\nTry 'bmml-host --help' for more information.\n", msg);
    return 2;
}

static int is_file(const char *dir, const char *name) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
    return access(path, R_OK) == 0;
}

// The directory that holds kernels.py: --scripts-dir, then $BMML_SCRIPTS_DIR,
// then the source tree when this binary is the one in the build tree, then
// the installed copy. NULL when none has it, with the places tried in looked.
static const char *find_scripts(const char *opt, char *looked, size_t size) {
    static char buf[PATH_MAX];
    looked[0] = '\0';
    if (opt) {
        snprintf(looked, size, "%s (--scripts-dir)", opt);
        return is_file(opt, "kernels.py") ? opt : NULL;
    }
    const char *env = getenv("BMML_SCRIPTS_DIR");
    if (env && *env) {
        snprintf(looked, size, "%s ($BMML_SCRIPTS_DIR)", env);
        return is_file(env, "kernels.py") ? env : NULL;
    }
    char exe[PATH_MAX], real_build[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0 && realpath(BMML_BUILDDIR, real_build)) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        if (strcmp(exe, real_build) == 0) {
            snprintf(buf, sizeof buf, "%s/pyscripts", BMML_SRCDIR);
            snprintf(looked, size, "%s (build tree)", buf);
            if (is_file(buf, "kernels.py")) return buf;
        }
    }
    size_t used = strlen(looked);
    snprintf(looked + used, size - used, "%s%s/pyscripts (installed)", used ? ", " : "", BMML_PKGDATADIR);
    snprintf(buf, sizeof buf, "%s/pyscripts", BMML_PKGDATADIR);
    return is_file(buf, "kernels.py") ? buf : NULL;
}

static void print_list(unsigned cpu, const struct run_config *cfg) {
    printf("%-12s", "kernel");
    for (int t = 0; t < N_TIERS; t++) printf(" %-8s", all_tier_names[t]);
    printf("\n");
    for (int i = 0; i < n_kernels; i++) {
        printf("%-12s", kernels[i].name);
        printf(" %-8s %-8s", cfg->python ? "yes" : "no", cfg->numpy ? "yes" : "no");
        for (int t = 0; t < N_NATIVE_TIERS; t++) {
            const struct variant *v = kernels[i].tier[t];
            const char *mark = "not-built";
            unsigned all = cpu_features(CAP_AVX512);
            for (int j = 1; j >= 0; j--) {
                if (!v[j].fn.unary || mark[0] == 'y') continue;
                mark = (v[j].needs & cpu) == v[j].needs ? "yes" : (v[j].needs & all) == v[j].needs ? "max-isa" : "no-cpu";
            }
            printf(" %-8s", mark);
        }
        printf(" %-8s\n", kernels[i].kind != KIND_MATMUL_F32 ? "-" : blas_available() ? "yes" : "not-built");
    }
    printf("(no-cpu: this CPU lacks the instruction set; max-isa: excluded by --max-isa)\n");
    if (!cfg->numpy) printf("numpy: %s\n", cfg->numpy_note);
}

static void read_line(const char *path, char *buf, size_t size, const char *otherwise) {
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, (int)size, f)) snprintf(buf, size, "%s", otherwise);
    if (f) fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

// --passes, but no more passes than --repetitions gives samples
static int passes_of(const struct options *o) {
    return o->repetitions && o->repetitions < o->passes ? o->repetitions : o->passes;
}

static void fill_context(struct context *ctx, const struct options *o, const char *scripts) {
    memset(ctx, 0, sizeof *ctx);
    cpu_model(ctx->cpu_model, sizeof ctx->cpu_model);
    ctx->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    ctx->l1d_bytes = sysconf(_SC_LEVEL1_DCACHE_SIZE) > 0 ? sysconf(_SC_LEVEL1_DCACHE_SIZE) : 0;
    ctx->l2_bytes = sysconf(_SC_LEVEL2_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL2_CACHE_SIZE) : 0;
    ctx->l3_bytes = sysconf(_SC_LEVEL3_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL3_CACHE_SIZE) : 0;
    cpu_feature_names(cpu_features(CAP_AVX512), ctx->cpu_flags, sizeof ctx->cpu_flags);
    size_t len = 0;
    for (int t = 0; t < N_NATIVE_TIERS; t++) {
        int built = 0;
        for (int i = 0; i < n_kernels; i++) built |= kernels[i].tier[t][0].fn.unary || kernels[i].tier[t][1].fn.unary;
        if (built) len += snprintf(ctx->tiers_built + len, sizeof ctx->tiers_built - len, "%s%s",
                                   len ? " " : "", tier_names[t]);
    }
    if (blas_available()) snprintf(ctx->tiers_built + len, sizeof ctx->tiers_built - len, " blas");
    snprintf(ctx->max_isa, sizeof ctx->max_isa, "%s",
             o->max_isa == CAP_SCALAR ? "scalar" : o->max_isa == CAP_AVX2 ? "avx2" : "avx512");
    read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", ctx->governor, sizeof ctx->governor, "unknown");
    struct utsname u;
    if (uname(&u) == 0) snprintf(ctx->kernel, sizeof ctx->kernel, "%s %s", u.sysname, u.release);
#if defined(__clang__)
    ctx->compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
    ctx->compiler = "gcc " __VERSION__;
#else
    ctx->compiler = "unknown";
#endif
#if defined(BMML_SANITIZED)
    ctx->build = "sanitizers";
#elif !defined(__OPTIMIZE__)
    ctx->build = "debug";
#else
    ctx->build = "optimized";
#endif
    static const char *const flags[6][2] = {
        {"scalar", BMML_KFLAGS_SCALAR}, {"autovec", BMML_KFLAGS_AUTOVEC}, {"avx2", BMML_KFLAGS_AVX2},
        {"avx-vnni", BMML_KFLAGS_AVXVNNI}, {"avx512", BMML_KFLAGS_AVX512}, {"avx512-vnni", BMML_KFLAGS_AVX512VNNI},
    };
    memcpy(ctx->kernel_cflags, flags, sizeof flags);
    ctx->python_version = embed_running() ? embed_python_version() : "";
    embed_libpython(ctx->libpython, sizeof ctx->libpython);
    ctx->blas_config = blas_config();
    ctx->blas_core = blas_corename();
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    snprintf(ctx->blas_threads, sizeof ctx->blas_threads, "%s", threads ? threads : "");
    ctx->scripts_dir = scripts ? scripts : "";
    time_t now = time(NULL);
    strftime(ctx->date, sizeof ctx->date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    ctx->seed = o->seed;
    ctx->min_time = o->min_time;
    ctx->max_time = o->max_time;
    ctx->repetitions = o->repetitions;
    ctx->passes = passes_of(o);
    ctx->threads = o->threads;
}

// One line on stderr, rewritten in place, at most ten times a second.
static void progress(const char *kernel, const char *tier, const char *size, int repetition) {
    static struct timespec last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (kernel && (now.tv_sec - last.tv_sec) * 1000000000L + (now.tv_nsec - last.tv_nsec) < 100000000L) return;
    last = now;
    if (!kernel) fprintf(stderr, "\r\033[K"); // clear the line
    else if (repetition == 0) fprintf(stderr, "\r\033[K%s %s %s: warm-up and check", kernel, tier, size);
    else fprintf(stderr, "\r\033[K%s %s %s: repetition %d", kernel, tier, size, repetition);
    fflush(stderr);
}

// In a sweep, the Python tier stops where one repetition would pass
// --max-time: the time of the last size of the same kernel, scaled by the
// work, predicts the next. 1 (with the reason in note) to leave Python out.
static int python_skip(const struct kernel *const *plan, const struct shape *shapes,
                       const struct case_result *done, int n_done, int i, double max_time, char *note, size_t size) {
    if (i == 0 || plan[i - 1] != plan[i] || n_done == 0) return 0;
    const struct case_result *prev = &done[n_done - 1];
    for (int t = 0; t < prev->n_tiers; t++) {
        const struct tier_result *r = &prev->tiers[t];
        if (r->tier != T_PYTHON) continue;
        if (r->status == ST_UNAVAILABLE && strstr(r->note, "--max-time")) {
            snprintf(note, size, "%s", r->note); // already past it at a smaller size
            return 1;
        }
        if (r->status != ST_OK) return 0;
        double work = plan[i]->kind == KIND_UNARY_F32 ? (double)shapes[i].n
                                                       : (double)shapes[i].m * shapes[i].n * shapes[i].k;
        double prev_work = plan[i]->kind == KIND_UNARY_F32 ? (double)prev->shape.n
                                                            : (double)prev->shape.m * prev->shape.n * prev->shape.k;
        double predicted = r->median_ns * 1e-9 * work / prev_work;
        if (predicted <= max_time) return 0;
        snprintf(note, size, "left out of the sweep: one repetition would take about %.0f s, past --max-time", predicted);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct options o;
    char err[512];
    if (cli_parse(&o, argc, argv, err, sizeof err)) return usage_error(err);
    if (o.help) {
        cli_usage(stdout);
        return 0;
    }
    if (o.version) {
        printf("bmml-host %s\n", PACKAGE_VERSION);
        return 0;
    }

    if (o.compare[0]) {
        int rc = compare_main(o.compare[0], o.compare[1], stdout, err, sizeof err);
        if (rc) fprintf(stderr, "bmml-host: %s\n", err);
        return rc;
    }
    if (o.sweep && o.have_size) return usage_error("--sweep chooses the sizes: drop --size");

    // the plan: kernels and their shapes, every one checked before anything runs
    static struct shape shapes[MAX_CASES];
    static const struct kernel *plan[MAX_CASES];
    // --model alone runs only the model; no selection at all runs the kernels and the committed model
    int n_kernel_plan = o.n_kernel ? o.n_kernel : o.model_path ? 0 : n_kernels, n_plan = 0;
    const char *model_path = o.model_path ? o.model_path : o.n_kernel ? NULL : model_default_path();
    if (o.batch && !model_path) return usage_error("--batch goes with --model");
    if (model_path && access(model_path, R_OK) != 0) {
        if (o.model_path) {
            fprintf(stderr, "bmml-host: --model %s: %s\n", model_path, strerror(errno));
            return 3;
        }
        warnf("the committed model is not at %s; the model is left out", model_path);
        model_path = NULL;
    }
    for (int i = 0; i < n_kernel_plan; i++) {
        const struct kernel *k = &kernels[o.n_kernel ? o.kernel[i] : i];
        if (o.sweep) {
            int n = sweep_shapes(k, shapes + n_plan, MAX_SWEEP_SHAPES);
            for (int j = 0; j < n; j++) plan[n_plan++] = k;
            continue;
        }
        plan[n_plan] = k;
        shapes[n_plan] = default_shape(k, o.quick);
        if (o.have_size) {
            shapes[n_plan] = o.size;
            if (k->kind != KIND_UNARY_F32 && !o.size.m) shapes[n_plan].m = shapes[n_plan].k = o.size.n;
        }
        n_plan++;
    }
    for (int i = 0; i < n_plan; i++) {
        if (shape_check(plan[i], shapes[i], err, sizeof err)) return usage_error(err);
    }
    if (o.cpu >= 0) {
        cpu_set_t allowed;
        if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || o.cpu >= CPU_SETSIZE || !CPU_ISSET(o.cpu, &allowed)) {
            snprintf(err, sizeof err, "--cpu %d: this process may not run on that CPU", o.cpu);
            return usage_error(err);
        }
    }
    if (o.report_dir) {
        // the directory, or its parent when report_dir is to make it, must take files
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", o.report_dir);
        char *slash = strrchr(parent, '/');
        const char *where = access(o.report_dir, F_OK) == 0 ? o.report_dir
                            : slash ? (slash == parent ? "/" : (*slash = '\0', parent)) : ".";
        if (access(where, W_OK | X_OK) != 0) {
            snprintf(err, sizeof err, "cannot write --report %.200s: %.200s: %s", o.report_dir, where, strerror(errno));
            return usage_error(err);
        }
    }
    if (o.json_path) {
        // fail now, not after minutes of measuring: a temporary of its own
        // beside the target, removed at once, touches no file of the user's
        struct atomic_file probe;
        if (atomic_open(&probe, o.json_path) < 0) {
            snprintf(err, sizeof err, "cannot write --json %s: %s", o.json_path, strerror(errno));
            return usage_error(err);
        }
        atomic_abort(&probe);
    }

    // OpenBLAS (which NumPy's BLAS calls also reach on Debian) on as many
    // threads as the native tiers: one unless --threads says more
    blas_set_threads(o.threads);

    struct run_config cfg = {.seed = o.seed, .min_time = o.min_time, .max_time = o.max_time,
                             .repetitions = o.repetitions, .threads = o.threads, .cpu = cpu_features(o.max_isa), .tiers = o.tiers,
                             .passes = passes_of(&o)};
    snprintf(cfg.numpy_note, sizeof cfg.numpy_note, "not selected");
    int need_python = o.list || (o.tiers & ((1u << T_PYTHON) | (1u << T_NUMPY)));
    char looked[3 * PATH_MAX];
    const char *scripts = NULL;
    if (need_python) {
        scripts = find_scripts(o.scripts_dir, looked, sizeof looked);
        if (!scripts) {
            fprintf(stderr, "bmml-host: kernels.py not found; looked in %s\n", looked);
            return 3;
        }
        if (embed_start(scripts, err, sizeof err) < 0) {
            fprintf(stderr, "bmml-host: %s\n", err);
            return 3;
        }
        if (embed_import("kernels", err, sizeof err) < 0) {
            fprintf(stderr, "bmml-host: %s/kernels.py could not be imported: %s\n", scripts, err);
            embed_stop();
            return 3;
        }
        cfg.python = 1;
        if (embed_import("numpy_kernels", cfg.numpy_note, sizeof cfg.numpy_note) == 0) cfg.numpy = 1;
    }
    // after Python has put its SIGINT handler in place (it installs none over
    // another's), so that the host's handler can forward to it
    interrupt_install(cfg.python ? embed_interrupt : NULL);
    if (o.list) {
        print_list(cfg.cpu, &cfg);
        embed_stop();
        return 0;
    }

    struct context ctx;
    fill_context(&ctx, &o, scripts);
    if (cfg.numpy) embed_attr_string("numpy", "__version__", ctx.numpy_version, sizeof ctx.numpy_version);
    if (strcmp(ctx.build, "optimized") != 0)
        warnf("this is a %s build: its timings are not those of an optimized one", ctx.build);
    if (strcmp(ctx.governor, "performance") != 0 && strcmp(ctx.governor, "unknown") != 0)
        warnf("the CPU frequency governor is '%s', not 'performance': clocks may vary", ctx.governor);
    struct roofline roof;
    if (!o.no_roofline) {
        roofline_measure(&roof, cfg.cpu);
        cfg.roof = ctx.roof = &roof;
    }
    // One thread's figures move with the core it runs on (virtual CPUs of one
    // machine need not be equal), so a one-thread run stays on one CPU, after
    // the roofline has measured every core. --cpu was checked at start.
    if (o.threads == 1 || o.cpu >= 0) {
        cpu_set_t allowed, one;
        int pin = o.cpu;
        if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && pin < 0)
            for (int c = 0; c < CPU_SETSIZE && pin < 0; c++) pin = CPU_ISSET(c, &allowed) ? c : -1;
        CPU_ZERO(&one);
        if (pin >= 0) CPU_SET(pin, &one);
        if (pin < 0 || sched_setaffinity(0, sizeof one, &one) != 0) {
            fprintf(stderr, "bmml-host: cannot run on CPU %d: %s\n", pin, strerror(errno));
            embed_stop();
            return 2;
        }
        ctx.pinned_cpu = pin;
    } else {
        ctx.pinned_cpu = -1;
    }
    struct harness harness;
    if (cfg.python) {
        harness_measure(&harness);
        ctx.harness = &harness;
    }

    if (isatty(STDERR_FILENO) && !o.quiet) cfg.progress = progress;

    // Every case's samples are taken in passes over the whole plan, so the
    // repetitions of each are spread over the run: a spell of the machine
    // running slower (other work on it, another virtual machine on the same
    // core) then touches a few samples of every case rather than every sample
    // of one, as Google Benchmark's random interleaving does for its runs.
    static struct case_result results[MAX_CASES];
    int status = 0, n_done = 0;
    for (int pass = 0; pass < cfg.passes && !status && !interrupt_signal(); pass++) {
        cfg.pass = pass;
        for (int i = 0; i < (pass ? n_done : n_plan) && !interrupt_signal(); i++) {
            // a later pass leaves Python out where the first did
            cfg.python_skip = pass ? 0 : python_skip(plan, shapes, results, n_done, i, o.max_time,
                                                     cfg.python_skip_note, sizeof cfg.python_skip_note);
            int rc = run_case(plan[i], shapes[i], &cfg, &results[i]);
            if (rc) {
                status = rc;
                break;
            }
            if (!pass) n_done++;
        }
    }
    for (int i = 0; i < n_done && !status; i++) {
        for (int t = 0; t < results[i].n_tiers; t++) {
            if (results[i].tiers[t].status == ST_FAILED) status = 1;
        }
    }
    static struct model_result model;
    if (model_path && !interrupt_signal() && status != 3) {
        if (model_run(model_path, o.batch, &cfg, &model, err, sizeof err) < 0) {
            fprintf(stderr, "bmml-host: model %s: %s\n", model_path, err);
            status = 3;
        } else {
            ctx.model = &model;
            for (int t = 0; t < model.n_tiers; t++) {
                if (model.tiers[t].status == ST_FAILED && !status) status = 1;
            }
        }
    }
    if (cfg.progress) progress(NULL, NULL, NULL, 0);
    ctx.interrupted = interrupt_signal();
    if (ctx.interrupted) {
        fprintf(stderr, "bmml-host: interrupted by signal %d: the results below are partial\n", ctx.interrupted);
        status = 128 + ctx.interrupted;
    }
    report_table(stdout, &ctx, results, n_done);
    if (ctx.model) {
        printf("\n");
        model_report_table(stdout, ctx.model);
    }
    fflush(stdout);
    warn_print(stderr);

    if (o.report_dir && report_dir(o.report_dir, &ctx, results, n_done, err, sizeof err) < 0) {
        fprintf(stderr, "bmml-host: %s\n", err);
        if (!status) status = 3;
    }
    if (o.json_path) {
        if (report_json(o.json_path, &ctx, results, n_done) < 0) {
            fprintf(stderr, "bmml-host: cannot write %s: %s\n", o.json_path, strerror(errno));
            if (!status) status = 3;
        }
    }
    embed_stop();
    return status;
}
