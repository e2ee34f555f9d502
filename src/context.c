// What the machine and the run are (context.h): probed once, before the passes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "blas.h"
#include "onednn.h"
#include "config.h"
#include "context.h"
#include "cpu.h"
#include "embed.h"
#include "kernels.h"
#include "warn.h"

static void read_line(const char *path, char *buf, size_t size, const char *otherwise) {
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, (int)size, f)) snprintf(buf, size, "%s", otherwise);
    if (f) fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

void context_fill(struct context *ctx, const struct options *o, const char *scripts, int numpy) {
    memset(ctx, 0, sizeof *ctx);
    cpu_model(ctx->cpu_model, sizeof ctx->cpu_model);
    ctx->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    ctx->l1d_bytes = sysconf(_SC_LEVEL1_DCACHE_SIZE) > 0 ? sysconf(_SC_LEVEL1_DCACHE_SIZE) : 0;
    ctx->l2_bytes = sysconf(_SC_LEVEL2_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL2_CACHE_SIZE) : 0;
    ctx->l3_bytes = sysconf(_SC_LEVEL3_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL3_CACHE_SIZE) : 0;
    for (int g = 0; g < N_GEMMS; g++) ctx->gemm[g] = gemm_blocking(g, 1);
    cpu_feature_names(cpu_features(CAP_AVX512), ctx->cpu_flags, sizeof ctx->cpu_flags);
    size_t len = 0;
    for (int t = T_SCALAR; t <= T_AVX512; t++) {
        int built = 0;
        for (int i = 0; i < n_kernels; i++) built |= kernels[i].tier[t][0].fn.unary || kernels[i].tier[t][1].fn.unary;
        if (built) len += snprintf(ctx->tiers_built + len, sizeof ctx->tiers_built - len, "%s%s",
                                   len ? " " : "", tier_names[t]);
    }
    if (blas_available()) len += snprintf(ctx->tiers_built + len, sizeof ctx->tiers_built - len, " blas");
    if (onednn_available()) snprintf(ctx->tiers_built + len, sizeof ctx->tiers_built - len, " onednn");
    ctx->onednn_version = onednn_version();
    ctx->onednn_isa = onednn_isa();
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
    if ((ctx->blas_fallback = blas_core_fallback(ctx->blas_core, cpu_features(CAP_AVX512), &ctx->blas_lacks,
                                                 &ctx->blas_matching)))
        warnf("OpenBLAS runs its %s core, without the %s this CPU has: the blas tier, the library step and "
              "NumPy's matmul where it calls the same library measure a fallback; OPENBLAS_CORETYPE=%s (or "
              "--blas-core auto) runs the core that matches",
              ctx->blas_core, ctx->blas_lacks, ctx->blas_matching);
    // NumPy's BLAS: on Debian the blas tier's own library, elsewhere perhaps another
    if (numpy && (ctx->numpy_blas_core = blas_numpy_core(&ctx->numpy_blas_shared)) &&
        (ctx->numpy_blas_fallback = blas_core_fallback(ctx->numpy_blas_core, cpu_features(CAP_AVX512),
                                                       &ctx->numpy_blas_lacks, &ctx->numpy_blas_matching)) &&
        !ctx->numpy_blas_shared)
        warnf("NumPy's OpenBLAS runs its %s core, without the %s this CPU has: the numpy tier's matmul measures "
              "a fallback; OPENBLAS_CORETYPE=%s runs the core that matches",
              ctx->numpy_blas_core, ctx->numpy_blas_lacks, ctx->numpy_blas_matching);
    const char *threads = getenv("OPENBLAS_NUM_THREADS");
    snprintf(ctx->blas_threads, sizeof ctx->blas_threads, "%s", threads ? threads : "");
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    snprintf(ctx->blas_coretype, sizeof ctx->blas_coretype, "%s", coretype ? coretype : "");
    ctx->scripts_dir = scripts ? scripts : "";
    time_t now = time(NULL);
    strftime(ctx->date, sizeof ctx->date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    ctx->seed = o->seed;
    ctx->min_time = o->min_time;
    ctx->max_time = o->max_time;
    ctx->repetitions = o->repetitions;
    ctx->passes = cli_passes(o);
    ctx->threads = o->threads;
    if (numpy) embed_attr_string("numpy", "__version__", ctx->numpy_version, sizeof ctx->numpy_version);
    if (strcmp(ctx->build, "optimized") != 0)
        warnf("this is a %s build: its timings are not those of an optimized one", ctx->build);
    if (strcmp(ctx->governor, "performance") != 0 && strcmp(ctx->governor, "unknown") != 0)
        warnf("the CPU frequency governor is '%s', not 'performance': clocks may vary", ctx->governor);
}

