#include "plain.h"

// a (m,k) @ b (k,n) -> c (m,n), row-major, float accumulator.
// The i-k-j order walks b and c along rows, as the Python twin does.
void PLAIN(matmul_f32)(float *c, const float *a, const float *b, int m, int n, int k) {
    for (int i = 0; i < m; i++) {
        float *ci = c + (size_t)i * n;
        for (int j = 0; j < n; j++) ci[j] = 0.0f;
        for (int p = 0; p < k; p++) {
            float aip = a[(size_t)i * k + p];
            const float *bp = b + (size_t)p * n;
            for (int j = 0; j < n; j++) ci[j] += aip * bp[j];
        }
    }
}
