#define _GNU_SOURCE // dl_iterate_phdr, dladdr, RTLD_NOLOAD
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "blas.h"
#include "cpu.h"

// OpenBLAS's x86-64 cores by the widest vectors their kernels use: 3
// AVX-512, 2 AVX2 + FMA, 1 anything older (SSE, AVX, AMD's FMA4).
static const struct {
    const char *name;
    int level;
} cores[] = {
    {"SapphireRapids", 3}, {"Cooperlake", 3}, {"SkylakeX", 3},
    {"Haswell", 2}, {"Zen", 2}, {"Excavator", 2},
    {"Sandybridge", 1}, {"Steamroller", 1}, {"Piledriver", 1}, {"Bulldozer", 1}, {"Nehalem", 1},
    {"Dunnington", 1}, {"Penryn", 1}, {"Core2", 1}, {"Atom", 1}, {"Prescott", 1}, {"Barcelona", 1},
    {"Opteron(SSE3)", 1}, {"Opteron", 1}, {"Bobcat", 1}, {"Nano", 1}, {"Northwood", 1}, {"Banias", 1},
    {"Coppermine", 1}, {"Katmai", 1},
};

int blas_core_fallback(const char *core, unsigned cpu, const char **lacks, const char **matching) {
    int level = 0, want = 1;
    for (size_t i = 0; core && i < sizeof cores / sizeof cores[0]; i++) {
        if (strcasecmp(core, cores[i].name) == 0) level = cores[i].level;
    }
    // SkylakeX runs on every AVX-512 CPU (Cooperlake adds BF16, SapphireRapids AMX)
    unsigned avx512 = CPU_AVX512F | CPU_AVX512BW | CPU_AVX512VL, avx2 = CPU_AVX2 | CPU_FMA;
    if ((cpu & avx512) == avx512) want = 3;
    else if ((cpu & avx2) == avx2) want = 2;
    if (!level || level >= want) return 0;
    if (lacks) *lacks = want == 3 ? "AVX-512" : "AVX2";
    if (matching) *matching = want == 3 ? "SkylakeX" : "Haswell";
    return 1;
}

#if HAVE_OPENBLAS
#include <cblas.h>

int blas_available(void) { return 1; }
void blas_set_threads(int n) { openblas_set_num_threads(n); }

void blas_sgemm(float *c, const float *a, const float *b, int m, int n, int k) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

const char *blas_config(void) { return openblas_get_config(); }
const char *blas_corename(void) { return openblas_get_corename(); }
#else
int blas_available(void) { return 0; }
void blas_set_threads(int n) { (void)n; }
void blas_sgemm(float *c, const float *a, const float *b, int m, int n, int k) {
    (void)c, (void)a, (void)b, (void)m, (void)n, (void)k;
}
const char *blas_config(void) { return 0; }
const char *blas_corename(void) { return 0; }
#endif

// every loaded object whose file name says OpenBLAS, and the core it runs
struct found {
    const char *ours; // the blas tier's library, or NULL
    const char *other_core, *our_core;
};

static int visit(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct found *f = arg;
    const char *path = info->dlpi_name, *base = path ? strrchr(path, '/') : NULL;
    if (!base || !strstr(base, "openblas")) return 0;
    void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (!h) return 0;
    const char *(*corename)(void) = (const char *(*)(void))dlsym(h, "openblas_get_corename");
    if (corename) {
        if (f->ours && strcmp(path, f->ours) == 0) f->our_core = corename();
        else if (!f->other_core) f->other_core = corename();
    }
    dlclose(h);
    return 0;
}

const char *blas_numpy_core(int *shared) {
    struct found f = {NULL, NULL, NULL};
#if HAVE_OPENBLAS
    Dl_info info;
    if (dladdr((void *)openblas_get_corename, &info)) f.ours = info.dli_fname;
#endif
    dl_iterate_phdr(visit, &f);
    *shared = !f.other_core && f.our_core;
    return f.other_core ? f.other_core : f.our_core;
}
