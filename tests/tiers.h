// One test per native tier: each tier this build or this CPU lacks shows as
// skipped, saying why, never as a pass that compared fewer tiers.
#ifndef BMML_TESTS_TIERS_H
#define BMML_TESTS_TIERS_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "cpu.h"
#include "kernels.h"

// OVER_TIERS(suite, name) { ... *t ... }: a test of each native tier, t an enum tier
#define OVER_TIERS(suite, name)                                                                        \
    ParameterizedTestParameters(suite, name) {                                                        \
        static int tier[] = {T_SCALAR, T_AUTOVEC, T_AVX2, T_AVX512};                                   \
        return cr_make_param_array(int, tier, sizeof tier / sizeof *tier);                             \
    }                                                                                                  \
    ParameterizedTest(int *t, suite, name)

// The variant of tier t that this CPU runs, or a skip saying why there is none.
static inline const struct variant *tier_pick(const struct kernel *kern, int t) {
    char why[200];
    const struct variant *v = variant_pick(kern, t, cpu_features(CAP_AVX512), NULL, why, sizeof why);
    if (!v) cr_skip_test("%s %s: %s", kern->name, tier_names[t], why);
    return v;
}

#endif
