#include <math.h>

#include "plain.h"

// softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max)
// Subtracting the max keeps exp from overflowing; the sum is accumulated in
// double so its rounding does not grow with n.
void PLAIN(softmax_f32)(float *out, const float *x, size_t n) {
    if (n == 0) return;
    float max = x[0];
    for (size_t i = 1; i < n; i++) {
        max = x[i] > max ? x[i] : max;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float e = expf(x[i] - max);
        out[i] = e;
        sum += e;
    }
    float scale = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++) {
        out[i] *= scale;
    }
}
