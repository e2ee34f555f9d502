// The statistics behind every figure: median, MAD, CV, the speedup's
// interval, and the decomposition of a speedup into steps.
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "report.h"
#include "runner.h"
#include "stats.h"
#include "warn.h"

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
    // The bound, tried: for 7 exponential samples (skewed, as timings are), the
    // smallest and largest enclose the median (ln 2 times the scale) with
    // probability exactly 1 - 2^-6; over 2 x 20000 seeded samples the observed
    // share lies within 0.002 of it (three standard deviations). The ratio's
    // range, which holds whenever both samples' ranges do, holds at least as
    // often as the bound says (more often in fact: that is sufficient, not needed).
    uint64_t st = 12345;
    int enclosed = 0, held = 0, trials = 20000;
    for (int t = 0; t < trials; t++) {
        double num[7], den[7];
        for (int i = 0; i < 14; i++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = ((st >> 11) + 0.5) / 9007199254740992.0;
            if (i < 7) num[i] = -3 * log(u);
            else den[i - 7] = -log(u);
        }
        enclosed += stats_min(num, 7) <= 3 * M_LN2 && 3 * M_LN2 <= stats_max(num, 7);
        enclosed += stats_min(den, 7) <= M_LN2 && M_LN2 <= stats_max(den, 7);
        double lo = stats_min(num, 7) / stats_max(den, 7), hi = stats_max(num, 7) / stats_min(den, 7);
        held += lo <= 3 && 3 <= hi;
    }
    double share = (double)enclosed / (2 * trials);
    cr_expect(fabs(share - (1 - 1.0 / 64)) < 0.002, "a sample's range held its median %.4f of the time", share);
    cr_expect_geq((double)held / trials, stats_range_coverage(7, 7), "held %d of %d", held, trials);
}

Test(stats, pass_shares_differ_by_at_most_one_and_add_up) {
    for (int passes = 1; passes <= MIN_REPETITIONS; passes++) {
        for (int count = passes; count <= 20; count++) {
            int sum = 0, lo = count, hi = 0;
            for (int p = 0; p < passes; p++) {
                int sh = pass_share(count, p, passes);
                sum += sh, lo = sh < lo ? sh : lo, hi = sh > hi ? sh : hi;
            }
            cr_expect_eq(sum, count, "%d in %d passes: shares add to %d", count, passes, sum);
            cr_expect(lo >= 1 && hi - lo <= 1, "%d in %d passes: shares %d..%d", count, passes, lo, hi);
        }
    }
    cr_expect_eq(pass_share(7, 0, 3) + pass_share(7, 1, 3), 4);
}

Test(roof, only_a_compute_peak_cannot_be_beaten) {
    struct case_result cr = {.kern = kernel_find("matmul_int8"), .roof = 800};
    struct tier_result r = {.tier = T_AVX512, .status = ST_OK, .rate = 880};
    cr_expect(above_compute_roof(&cr, &r), "880 GOP/s against a measured peak of 800");
    r.rate = 760;
    cr_expect_not(above_compute_roof(&cr, &r), "760 GOP/s is under the peak");
    r.rate = 880, r.status = ST_FAILED;
    cr_expect_not(above_compute_roof(&cr, &r), "a failed tier has no rate to compare");
    r.status = ST_OK, cr.roof = 0;
    cr_expect_not(above_compute_roof(&cr, &r), "no roof was measured");
    cr.kern = kernel_find("matmul"), cr.roof = 200;
    cr_expect(above_compute_roof(&cr, &r), "fp32 against the FMA peak");
    r.tier = T_BLAS;
    cr_expect_not(above_compute_roof(&cr, &r), "OpenBLAS may use an ISA past the roof's (--max-isa)");
    r.tier = T_NUMPY;
    cr_expect_not(above_compute_roof(&cr, &r), "so may NumPy");
    r.tier = T_AVX512, cr.kern = kernel_find("relu"), cr.roof = 40, r.rate = 48;
    cr_expect_not(above_compute_roof(&cr, &r), "a unary kernel on cached data may beat a copy");
}

Test(roof, a_tier_must_beat_its_roof_by_the_margin_to_count) {
    struct case_result cr = {.kern = kernel_find("matmul"), .roof = 200};
    struct tier_result r = {.tier = T_AVX2, .status = ST_OK, .rate = 200 * ROOF_MARGIN * 0.99};
    cr_expect_not(above_roof(&cr, &r), "within the margin: the spread of the peaks");
    r.rate = 200 * ROOF_MARGIN * 1.01;
    cr_expect(above_roof(&cr, &r));
    cr.kern = kernel_find("relu");
    cr_expect(above_roof(&cr, &r), "a copy roof is measured again too");
}

// Each roof is the best of every pass's measure, whichever pass had it; a
// peak a pass could not measure (0) never lowers one.
Test(roof, the_best_of_every_pass_is_kept) {
    struct roofline best = {0};
    struct roofline pass[3] = {
        {.measured = 1, .fma_avx2_gflops = 90, .fma_avx512_gflops = 150, .vnni_avx512_gops = 400,
         .vnni_avxvnni_gops = 0, .copy_gbps = 20, .seconds = 1, .cores_measured = 2},
        {.measured = 1, .fma_avx2_gflops = 110, .fma_avx512_gflops = 170, .vnni_avx512_gops = 600,
         .vnni_avxvnni_gops = 300, .copy_gbps = 25, .seconds = 0.5, .cores_measured = 1},
        {.measured = 1, .fma_avx2_gflops = 100, .fma_avx512_gflops = 160, .vnni_avx512_gops = 0,
         .vnni_avxvnni_gops = 200, .copy_gbps = 15, .seconds = 0.5, .cores_measured = 1},
    };
    for (int p = 0; p < 3; p++) roofline_keep_best(&best, &pass[p]);
    cr_expect(best.measured);
    cr_expect_eq(best.fma_avx2_gflops, 110);
    cr_expect_eq(best.fma_avx512_gflops, 170);
    cr_expect_eq(best.vnni_avx512_gops, 600);
    cr_expect_eq(best.vnni_avxvnni_gops, 300);
    cr_expect_eq(best.copy_gbps, 25);
    cr_expect_eq(best.seconds, 2);
    cr_expect_eq(best.cores_measured, 2, "the peaks are still the best of 2 cores");
    struct roofline none = {0};
    roofline_keep_best(&best, &none);
    cr_expect_eq(best.fma_avx512_gflops, 170, "a pass that measured nothing changes nothing");
}

// The int8 MatMul's roof is the faster VNNI: AVX512-VNNI's where both were
// measured and it is the faster, AVX-VNNI's on a CPU with only that (or where
// it is the faster), none without either.
Test(roof, int8s_is_the_faster_vnni_peak) {
    const char *name = NULL;
    struct roofline both = {.measured = 1, .vnni_avx512_gops = 600, .vnni_avxvnni_gops = 300};
    cr_expect_eq(roofline_int8(&both, &name), 600);
    cr_expect_str_eq(name, "AVX512-VNNI peak");
    struct roofline ymm = {.measured = 1, .vnni_avx512_gops = 0, .vnni_avxvnni_gops = 300};
    cr_expect_eq(roofline_int8(&ymm, &name), 300);
    cr_expect_str_eq(name, "AVX-VNNI peak");
    struct roofline ymm_faster = {.measured = 1, .vnni_avx512_gops = 250, .vnni_avxvnni_gops = 300};
    cr_expect_eq(roofline_int8(&ymm_faster, &name), 300);
    cr_expect_str_eq(name, "AVX-VNNI peak");
    struct roofline neither = {.measured = 1};
    cr_expect_eq(roofline_int8(&neither, &name), 0);
    cr_expect_null(name, "no peak, no name: %s", name);
}

// The roofline line names every peak, "-" for one not measured.
Test(roof, its_line_names_every_peak) {
    char buf[512];
    struct roofline r = {.measured = 1, .fma_avx2_gflops = 100, .vnni_avx512_gops = 0, .vnni_avxvnni_gops = 300,
                         .copy_gbps = 20, .cores_measured = 2};
    roofline_str(&r, buf, sizeof buf);
    cr_expect(strstr(buf, "AVX-VNNI 300 GOP/s") != NULL, "%s", buf);
    cr_expect(strstr(buf, "AVX512-VNNI - GOP/s") != NULL, "%s", buf);
    cr_expect(strstr(buf, "AVX-512 FMA - GFLOP/s") != NULL, "%s", buf);
}

// A fake measure for roofs_recheck: the roof each case measures again, by
// its index, and how often it was asked.
struct fake_roofs {
    const struct case_result *first;
    double again[4];
    int calls[4];
};

static double fake_measure(const struct case_result *cr, void *arg, const char **name) {
    struct fake_roofs *f = arg;
    f->calls[cr - f->first]++;
    *name = "the roof measured again";
    return f->again[cr - f->first];
}

static void one_tier(struct case_result *cr, const char *kernel, double roof, int t, double rate) {
    memset(cr, 0, sizeof *cr);
    cr->kern = kernel_find(kernel), cr->roof = roof, cr->roof_name = "a roof", cr->work = rate * 1000;
    cr->n_tiers = 1;
    cr->tiers[0] = (struct tier_result){.tier = t, .status = ST_OK, .median_ns = 1000};
    roof_shares(cr);
}

// Only a tier of ours beyond the margin has its roof measured again; the
// better roof is kept and the shares follow it; a compute peak still beaten
// after that is warned about, a copy roof is not.
Test(roof, a_roof_beaten_by_more_than_the_margin_is_measured_again) {
    struct case_result cr[4];
    one_tier(&cr[0], "relu", 40, T_AVX512, 48);           // 120%: measured again, 50 holds it
    one_tier(&cr[1], "matmul_int8", 800, T_AVX512, 880);  // 110%: measured again, 820 still beaten
    one_tier(&cr[2], "matmul", 200, T_AVX2, 205);         // 102.5%: within the margin
    one_tier(&cr[3], "matmul", 200, T_NUMPY, 300);        // NumPy picks its own instructions
    struct fake_roofs f = {cr, {50, 820, 400, 400}, {0}};
    int warned = warn_count();
    cr_expect_eq(roofs_recheck(cr, 4, fake_measure, &f), 2);
    cr_expect(f.calls[0] == 1 && f.calls[1] == 1 && f.calls[2] == 0 && f.calls[3] == 0);
    cr_expect_eq(cr[0].roof, 50);
    cr_expect_str_eq(cr[0].roof_name, "the roof measured again", "a raised roof takes its name with it");
    cr_expect(fabs(cr[0].tiers[0].pct_of_roof - 96) < 1e-9, "%g", cr[0].tiers[0].pct_of_roof);
    cr_expect_eq(cr[1].roof, 820);
    cr_expect_eq(cr[2].roof, 200);
    cr_expect_eq(warn_count(), warned + 1, "one warning: the int8 peak still beaten");
    cr_expect(strstr(warn_text(warned), "matmul_int8/avx512") != NULL, "%s", warn_text(warned));

    // a measure lower than the first keeps the first
    one_tier(&cr[0], "matmul_int8", 800, T_AVX512, 880);
    f = (struct fake_roofs){cr, {700}, {0}};
    roofs_recheck(cr, 1, fake_measure, &f);
    cr_expect_eq(cr[0].roof, 800);
    cr_expect_str_eq(cr[0].roof_name, "a roof", "and keeps its name");
}

static void tier(struct case_result *cr, int t, double median) {
    struct tier_result *r = &cr->tiers[cr->n_tiers++];
    r->tier = t;
    r->status = ST_OK;
    r->median_ns = median;
}

// The library step goes to the faster library, and keeps its name.
Test(decomposition, library_step_takes_the_faster_library) {
    struct case_result cr = {0};
    tier(&cr, T_PYTHON, 1e9);
    tier(&cr, T_AVX512, 6e5);
    tier(&cr, T_BLAS, 8e5);
    tier(&cr, T_ONEDNN, 5e5);
    decompose(&cr);
    cr_expect_eq(cr.decomp.to[F_LIBRARY], T_ONEDNN);
    cr_expect(fabs(cr.decomp.factor[F_LIBRARY] - 1.2) < 1e-12, "%g", cr.decomp.factor[F_LIBRARY]);
    char label[32];
    cr_expect_str_eq(factor_label(&cr.decomp, F_LIBRARY, label, sizeof label), "library");
    cr.tiers[3].median_ns = 9e5; // now blas is the faster
    decompose(&cr);
    cr_expect_eq(cr.decomp.to[F_LIBRARY], T_BLAS);
    cr_expect_eq(cr.decomp.last_tier, T_BLAS);
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
    // a later pass in which blas failed: its step is gone, not left from before
    cr.tiers[5].status = ST_FAILED;
    decompose(&cr);
    cr_expect_eq(cr.decomp.factor[F_LIBRARY], 0, "no library step once blas failed");
    cr_expect_eq(cr.decomp.last_tier, T_AVX512);
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
