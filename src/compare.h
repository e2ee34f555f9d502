// --compare OLD.json NEW.json: the change of every median between two runs
// of bmml-host, and whether it is beyond the noise, as pyperf's compare_to.
#ifndef BMML_COMPARE_H
#define BMML_COMPARE_H

#include <stddef.h>
#include <stdio.h>

// Below this many samples on either side the normal approximation is poor
// and the test has little power: a change is reported as "too few samples".
#define MW_MIN_SAMPLES 8
#define MW_ALPHA 0.05

struct mann_whitney {
    double u;    // U of x: pairs (x_i, y_j) with x_i > y_j, a tie counting one half
    double z;    // (U - mean) / sd, with continuity and tie corrections
    double p;    // two-sided, from the normal approximation; 1 when every value is equal
    int too_few; // either sample is smaller than MW_MIN_SAMPLES
};

// The Mann-Whitney U test of x against y. 0, or -1 when memory could not be had.
int mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct mann_whitney *out);

// Read both files, print one line per (kernel, tier, size) to out. 0, or 2
// with the reason in err when a file cannot be read or is not bmml-host's JSON.
int compare_main(const char *old_path, const char *new_path, FILE *out, char *err, size_t errlen);

#endif
