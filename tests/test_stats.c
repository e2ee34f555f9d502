// The statistics behind every figure: median, MAD, CV, the speedup's
// interval, and the decomposition of a speedup into steps.
#include <criterion/criterion.h>
#include <math.h>

#include "runner.h"
#include "stats.h"

Test(stats, median_mad_min_max_on_known_samples) {
    double odd[] = {5, 1, 4, 2, 3}, even[] = {10, 40, 20, 30}, scratch[8];
    cr_expect_eq(stats_median(odd, 5, scratch), 3);
    cr_expect_eq(stats_median(even, 4, scratch), 25);
    cr_expect_eq(odd[0], 5, "the sample is left as it was");
    // deviations from 3: 2 2 1 1 0 -> median 1
    cr_expect_eq(stats_mad(odd, 5, scratch), 1);
    // deviations from 25: 15 15 5 5 -> median 10
    cr_expect_eq(stats_mad(even, 4, scratch), 10);
    cr_expect_eq(stats_min(odd, 5), 1);
    cr_expect_eq(stats_max(odd, 5), 5);
    cr_expect_eq(stats_median(odd, 0, scratch), 0);
}

Test(stats, cv_is_sample_standard_deviation_over_mean) {
    double x[] = {2, 4, 4, 4, 5, 5, 7, 9}; // mean 5, sample variance 32/7
    cr_expect(fabs(stats_cv(x, 8) - sqrt(32.0 / 7) / 5) < 1e-12);
    double one[] = {3};
    cr_expect_eq(stats_cv(one, 1), 0);
}

Test(stats, ratio_interval_holds_the_ratio_and_is_reproducible) {
    double num[40], den[40], scratch[80], lo, hi, lo2, hi2;
    for (int i = 0; i < 40; i++) num[i] = 100 + i % 7, den[i] = 10 + i % 5 * 0.1;
    stats_ratio_interval(num, 40, den, 40, 2000, 7, scratch, &lo, &hi);
    double point = stats_median(num, 40, scratch) / stats_median(den, 40, scratch);
    cr_expect(lo <= point && point <= hi, "%g not in [%g, %g]", point, lo, hi);
    cr_expect(lo >= 100.0 / 10.4 && hi <= 106.0 / 10.0, "inside the range the samples allow: [%g, %g]", lo, hi);
    stats_ratio_interval(num, 40, den, 40, 2000, 7, scratch, &lo2, &hi2);
    cr_expect(lo == lo2 && hi == hi2, "the same seed gives the same interval");
    stats_ratio_interval(num, 1, den, 40, 2000, 7, scratch, &lo, &hi);
    cr_expect(isnan(lo) && isnan(hi), "one sample has no spread to resample");
}

Test(stats, range_coverage_is_a_true_lower_bound) {
    cr_expect_float_eq(stats_range_coverage(7, 7), 1 - 2.0 / 64, 1e-12);
    cr_expect_float_eq(stats_range_coverage(3, 3), 0.5, 1e-12);
    cr_expect_float_eq(stats_range_coverage(7, 1000), 1 - 1.0 / 64, 1e-12);
    cr_expect(stats_range_coverage(2, 2) == 0 && stats_range_coverage(0, 9) == 0, "no coverage to claim");
    // the claim, tried: exponential samples (skewed, as timings are), 7 a side,
    // medians 3 ln 2 and ln 2; the range must hold their ratio, 3, as often as
    // promised. Exactly (1 - 2^-6)^2 = 0.969 here: 20000 trials put the observed
    // share within 0.004 of it (three standard deviations).
    uint64_t st = 12345;
    int held = 0, trials = 20000;
    for (int t = 0; t < trials; t++) {
        double num[7], den[7];
        for (int i = 0; i < 14; i++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = ((st >> 11) + 0.5) / 9007199254740992.0;
            if (i < 7) num[i] = -3 * log(u);
            else den[i - 7] = -log(u);
        }
        double lo = stats_min(num, 7) / stats_max(den, 7), hi = stats_max(num, 7) / stats_min(den, 7);
        held += lo <= 3 && 3 <= hi;
    }
    cr_expect_geq((double)held / trials, stats_range_coverage(7, 7) - 0.004, "held %d of %d", held, trials);
}

static void tier(struct case_result *cr, int t, double median) {
    struct tier_result *r = &cr->tiers[cr->n_tiers++];
    r->tier = t;
    r->status = ST_OK;
    r->median_ns = median;
}

Test(decomposition, factors_multiply_to_the_total) {
    struct case_result cr = {0};
    tier(&cr, T_PYTHON, 1e9);
    tier(&cr, T_SCALAR, 1e7);
    tier(&cr, T_AUTOVEC, 2.5e6);
    tier(&cr, T_AVX2, 1e6);
    tier(&cr, T_AVX512, 6e5);
    tier(&cr, T_BLAS, 8e5); // slower than avx512: a factor below 1
    decompose(&cr);
    double product = 1;
    for (int f = 0; f < N_FACTORS; f++) product *= cr.decomp.factor[f];
    cr_expect(fabs(product / cr.decomp.total - 1) < 1e-12, "product %g, total %g", product, cr.decomp.total);
    cr_expect(fabs(cr.decomp.total - 1e9 / 8e5) < 1e-6);
    cr_expect(fabs(cr.decomp.factor[F_INTERPRETER] - 100) < 1e-12);
    cr_expect(cr.decomp.factor[F_LIBRARY] < 1);
    cr_expect_eq(cr.decomp.last_tier, T_BLAS);
    char label[32];
    cr_expect_str_eq(factor_label(&cr.decomp, F_COMPILER, label, sizeof label), "compiler");
}

Test(decomposition, a_missing_tier_folds_into_the_next_step_and_says_so) {
    struct case_result cr = {0};
    tier(&cr, T_PYTHON, 1e9);
    tier(&cr, T_AVX512, 1e6);
    decompose(&cr);
    cr_expect(fabs(cr.decomp.total - 1000) < 1e-9);
    cr_expect_eq(cr.decomp.factor[F_INTERPRETER], 0);
    cr_expect(fabs(cr.decomp.factor[F_WIDER] - 1000) < 1e-9);
    char label[32];
    cr_expect_str_eq(factor_label(&cr.decomp, F_WIDER, label, sizeof label), "python->avx512");
}
