// OpenBLAS's health: whether the core it chose is a fallback on this CPU.
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "blas.h"
#include "config.h"
#include "cpu.h"
#include "embed.h"

#define AVX512 (CPU_AVX2 | CPU_FMA | CPU_AVX512F | CPU_AVX512BW | CPU_AVX512VL)
#define AVX2 (CPU_AVX2 | CPU_FMA)

struct row {
    const char *core;
    unsigned cpu;
    int fallback;
    const char *lacks, *matching; // when a fallback
};

// One test over the table: Criterion's parameters cross a process, and the
// rows hold pointers.
static const struct row rows[] = {
    // an AVX-512 CPU: every core without AVX-512 is a fallback
    {"Prescott", AVX512, 1, "AVX-512", "SkylakeX"},
    {"Core2", AVX512, 1, "AVX-512", "SkylakeX"},
    {"Nehalem", AVX512, 1, "AVX-512", "SkylakeX"},
    {"Sandybridge", AVX512, 1, "AVX-512", "SkylakeX"},
    {"Haswell", AVX512, 1, "AVX-512", "SkylakeX"},
    {"Zen", AVX512, 1, "AVX-512", "SkylakeX"},
    {"SkylakeX", AVX512, 0, NULL, NULL},
    {"Cooperlake", AVX512, 0, NULL, NULL},
    {"SapphireRapids", AVX512, 0, NULL, NULL},
    {"cooperlake", AVX512, 0, NULL, NULL}, // the case varies between versions
    {"prescott", AVX512, 1, "AVX-512", "SkylakeX"},
    // an AVX2 CPU: older than Haswell is a fallback, Haswell and Zen are not
    {"Prescott", AVX2, 1, "AVX2", "Haswell"},
    {"Sandybridge", AVX2, 1, "AVX2", "Haswell"},
    {"Piledriver", AVX2, 1, "AVX2", "Haswell"},
    {"Haswell", AVX2, 0, NULL, NULL},
    {"Zen", AVX2, 0, NULL, NULL},
    {"Excavator", AVX2, 0, NULL, NULL},
    // AVX-512F alone (no BW, VL) is not what SkylakeX needs: held to AVX2
    {"Haswell", CPU_AVX2 | CPU_FMA | CPU_AVX512F, 0, NULL, NULL},
    // a CPU without AVX2: nothing to fall back from
    {"Prescott", 0, 0, NULL, NULL},
    {"Sandybridge", 0, 0, NULL, NULL},
    // a core it does not know, or none: it cannot tell
    {"Zen7", AVX512, 0, NULL, NULL},
    {NULL, AVX512, 0, NULL, NULL},
};

Test(blas, a_core_without_the_cpus_vector_extension_is_a_fallback) {
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        const char *lacks = NULL, *matching = NULL;
        int got = blas_core_fallback(r->core, r->cpu, &lacks, &matching);
        cr_expect_eq(got, r->fallback, "%s on cpu bits %#x: %d", r->core ? r->core : "(null)", r->cpu, got);
        if (!r->fallback || !got) continue;
        cr_expect(strcmp(lacks, r->lacks) == 0, "%s: lacks %s, not %s", r->core, lacks, r->lacks);
        cr_expect(strcmp(matching, r->matching) == 0, "%s: matches %s, not %s", r->core, matching, r->matching);
    }
}

// NumPy's BLAS, asked in this process once numpy is imported: found only
// through an object other than the blas tier's own library (on Debian NumPy's
// libblas.so.3, which links the same libopenblas.so.0: the same core, shared).
Test(blas, numpy_s_openblas_is_found_in_the_process) {
    char err[256];
    cr_assert_eq(embed_start(BMML_SRCDIR "/pyscripts", err, sizeof err), 0, "%s", err);
    if (embed_import("numpy", err, sizeof err) < 0) {
        embed_stop();
        cr_skip_test("NumPy is not installed: %s", err);
    }
    int shared = -1;
    const char *core = blas_numpy_core(&shared);
    cr_expect(core != NULL, "no loaded OpenBLAS answered");
    if (core && shared) cr_expect_str_eq(core, blas_corename(), "shared, so the blas tier's own core");
#if !HAVE_OPENBLAS
    cr_expect_eq(shared, 0, "no blas tier to share");
#endif
    embed_stop();
}
