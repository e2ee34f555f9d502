#include <math.h>
#include <stdlib.h>

#include "stats.h"
#include "util.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Median of x, sorting x (samples are tens to hundreds of values).
static double median_inplace(double *x, size_t n) {
    if (n == 0) return 0.0;
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

double stats_median(const double *x, size_t n, double *scratch) {
    for (size_t i = 0; i < n; i++) scratch[i] = x[i];
    return median_inplace(scratch, n);
}

double stats_mad(const double *x, size_t n, double *scratch) {
    if (n == 0) return 0.0;
    double med = stats_median(x, n, scratch);
    for (size_t i = 0; i < n; i++) scratch[i] = fabs(x[i] - med);
    return median_inplace(scratch, n);
}

double stats_min(const double *x, size_t n) {
    double m = n ? x[0] : 0.0;
    for (size_t i = 1; i < n; i++) m = x[i] < m ? x[i] : m;
    return m;
}

double stats_max(const double *x, size_t n) {
    double m = n ? x[0] : 0.0;
    for (size_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

double stats_cv(const double *x, size_t n) {
    if (n < 2) return 0.0;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    return mean > 0 ? sqrt(ss / (n - 1)) / mean : 0.0;
}

static double resampled_median(const double *x, size_t n, double *scratch, uint64_t *state) {
    for (size_t i = 0; i < n; i++) scratch[i] = x[splitmix64(state) % n];
    return median_inplace(scratch, n);
}

void stats_ratio_interval(const double *num, size_t n_num, const double *den, size_t n_den,
                          int rounds, uint64_t seed, double *scratch, double *lo, double *hi) {
    double *ratios = malloc(sizeof *ratios * rounds);
    if (!ratios || n_num < 2 || n_den < 2) { // one sample has no spread to resample
        free(ratios);
        *lo = *hi = NAN;
        return;
    }
    uint64_t state = seed;
    for (int r = 0; r < rounds; r++) {
        double a = resampled_median(num, n_num, scratch, &state);
        double b = resampled_median(den, n_den, scratch + n_num, &state);
        ratios[r] = a / b;
    }
    qsort(ratios, rounds, sizeof *ratios, cmp_double);
    *lo = ratios[(int)(0.025 * (rounds - 1))];
    *hi = ratios[(int)ceil(0.975 * (rounds - 1))];
    free(ratios);
}

double stats_range_coverage(size_t n_num, size_t n_den) {
    if (n_num == 0 || n_den == 0) return 0;
    double c = 1 - ldexp(1, 1 - (int)(n_num < 64 ? n_num : 64)) - ldexp(1, 1 - (int)(n_den < 64 ? n_den : 64));
    return c > 0 ? c : 0;
}
