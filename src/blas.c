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

// The loaded objects a BLAS may be reached through: every file whose name
// says blas (libblas.so.3, libcblas.so.3, an OpenBLAS), paths only: dlopen
// waits for the loader's lock, which dl_iterate_phdr holds while it calls back.
#define MAX_BLAS_OBJECTS 16
struct paths {
    char path[MAX_BLAS_OBJECTS][512];
    int n;
};

static int visit(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct paths *p = arg;
    const char *path = info->dlpi_name, *base = path ? strrchr(path, '/') : NULL;
    if (base && strstr(base, "blas") && p->n < MAX_BLAS_OBJECTS) snprintf(p->path[p->n++], sizeof p->path[0], "%s", path);
    return 0;
}

typedef const char *(*corename_fn)(void);

// the OpenBLAS core function an object reaches, itself or through what it
// links (dlsym searches a handle's dependencies too), under the names
// OpenBLAS builds use: plain, 64-bit integers, and NumPy's wheels' scipy_
static corename_fn reached(void *h) {
    static const char *const names[] = {"openblas_get_corename", "openblas_get_corename64_",
                                        "scipy_openblas_get_corename", "scipy_openblas_get_corename64_"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        corename_fn f = (corename_fn)dlsym(h, names[i]);
        if (f) return f;
    }
    return NULL;
}

const char *blas_numpy_core(int *shared) {
    struct paths p = {.n = 0};
    const char *ours = NULL;
    Dl_info info;
#if HAVE_OPENBLAS
    if (dladdr((void *)openblas_get_corename, &info)) ours = info.dli_fname;
#endif
    dl_iterate_phdr(visit, &p);
    // evidence, from an object other than the blas tier's own library: the
    // OpenBLAS it reaches; ours only when a BLAS NumPy loaded links it
    corename_fn found = NULL;
    for (int i = 0; i < p.n && !found; i++) {
        if (ours && strcmp(p.path[i], ours) == 0) continue;
        void *h = dlopen(p.path[i], RTLD_LAZY | RTLD_NOLOAD);
        if (!h) continue;
        found = reached(h);
        dlclose(h);
    }
    *shared = found && ours && dladdr((void *)found, &info) && strcmp(info.dli_fname, ours) == 0;
    return found ? found() : NULL;
}
