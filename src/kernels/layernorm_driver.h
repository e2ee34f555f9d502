// The row loop layernorm_avx2.c and layernorm_avx512.c share, included into
// each so it is compiled with that file's flags only. The file defines first:
//   static double row_sum(const float *x, int n);        the sum of x, in double
//   static double row_squares(const float *x, int n, float hi, float lo);
//                                 the sum of ((x - hi) - lo)^2, in float over short chunks, then double
//   static void row_norm(float *y, const float *x, const float *gamma, const float *beta, int n,
//                        float hi, float lo, float rstd, int stream);
//                                 y = ((x - hi) - lo) * rstd * gamma + beta, with streaming stores
//                                 where stream is set
//
// layernorm as layernorm_scalar.c states it: two passes for the mean and the
// variance, then one for the output; the row is read from memory once and
// from L1 after. An output larger than the caches is written with streaming
// stores (stream_output): it would leave them before it is read, and such
// stores do not read each line in first, which would double the output's traffic.
#include <float.h>
#include <math.h>

#include "gemm_config.h"

// The sum of squares in double, one value at a time: for the rare row whose
// squares overflow the float sums of row_squares (|x - mean| past about
// 1e18), so it still gives what the double sums of the other tiers give.
static double row_squares_wide(const float *x, int n, float hi, float lo) {
    double s = 0;
    for (int j = 0; j < n; j++) {
        double d = (x[j] - hi) - lo;
        s += d * d;
    }
    return s;
}

static void layernorm(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols) {
    int stream = stream_output((size_t)rows * cols * sizeof *out);
    for (size_t i = 0; i < (size_t)rows && cols > 0; i++) {
        const float *xi = x + i * cols;
        double mean = row_sum(xi, cols) / cols;
        float hi = (float)mean, lo = (float)(mean - hi);
        double ss = row_squares(xi, cols, hi, lo);
        if (!(ss <= DBL_MAX)) ss = row_squares_wide(xi, cols, hi, lo); // inf or NaN: a NaN row stays NaN
        float rstd = (float)(1.0 / sqrt(ss / cols + 1e-5));
        row_norm(out + i * cols, xi, gamma, beta, cols, hi, lo, rstd, stream);
    }
    if (stream) _mm_sfence();
}
