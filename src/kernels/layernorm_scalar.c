#include <math.h>

#include "plain.h"

// layernorm: per row of x (rows, cols), y = (x - mean) / sqrt(var + 1e-5) * gamma + beta,
// var the biased (population) variance, as PyTorch's LayerNorm.
// Two passes over the row, the mean, then sum (x - mean)^2: the row is in L1
// for the second, and unlike E[x^2] - mean^2 the sum of squares of deviations
// cannot cancel; Welford's update would cost a division per element in one
// serial chain. Both sums are accumulated in double, so their rounding does
// not grow with cols. x - mean is (x - hi) - lo with the mean split into two
// floats hi + lo: the mean of a row far from 0 is not rounded to float's ulp
// at the row's magnitude before the deviations, which are small, are taken.
void PLAIN(layernorm_f32)(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols) {
    for (size_t i = 0; i < (size_t)rows && cols > 0; i++) {
        const float *xi = x + i * cols;
        float *yi = out + i * cols;
        double sum = 0.0;
        for (int j = 0; j < cols; j++) sum += xi[j];
        double mean = sum / cols;
        float hi = (float)mean, lo = (float)(mean - hi);
        double ss = 0.0;
        for (int j = 0; j < cols; j++) {
            double d = (xi[j] - hi) - lo;
            ss += d * d;
        }
        float rstd = (float)(1.0 / sqrt(ss / cols + 1e-5));
        for (int j = 0; j < cols; j++) yi[j] = ((xi[j] - hi) - lo) * rstd * gamma[j] + beta[j];
    }
}
