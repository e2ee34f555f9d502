// Statistics of a sample of timings.
#ifndef BMML_STATS_H
#define BMML_STATS_H

#include <stddef.h>
#include <stdint.h>

// Median of x[0..n), leaving x unchanged; scratch holds n values. 0 for n == 0.
double stats_median(const double *x, size_t n, double *scratch);
// Median absolute deviation from the median; scratch holds n values.
double stats_mad(const double *x, size_t n, double *scratch);
double stats_min(const double *x, size_t n);
double stats_max(const double *x, size_t n);
// Coefficient of variation: standard deviation / mean (0 for fewer than 2 values).
double stats_cv(const double *x, size_t n);

// A 95% percentile-bootstrap interval for median(num) / median(den): both
// samples are resampled with replacement `rounds` times with a seeded
// generator, so the same samples give the same interval.
// scratch holds n_num + n_den values. NaN when either sample has fewer than 2 values.
void stats_ratio_interval(const double *num, size_t n_num, const double *den, size_t n_den,
                          int rounds, uint64_t seed, double *scratch, double *lo, double *hi);

// A lower bound on the probability that min(num)/max(den) .. max(num)/min(den)
// holds median(num)/median(den), for any distributions: each sample's extremes
// miss its median with probability 2^(1-n), so 1 - 2^(1-n_num) - 2^(1-n_den), or 0.
double stats_range_coverage(size_t n_num, size_t n_den);

#endif
