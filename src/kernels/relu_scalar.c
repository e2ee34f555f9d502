#include "plain.h"

// relu(x) = x < 0 ? 0 : x, so NaN and -0 pass through unchanged
void PLAIN(relu_f32)(float *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[i] = x[i] < 0.0f ? 0.0f : x[i];
    }
}
