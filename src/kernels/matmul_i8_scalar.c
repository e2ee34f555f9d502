#include "plain.h"

// a (m,k) @ b (k,n) -> c (m,n): int8 inputs, int32 accumulator, exact
// (|sum| <= k * 128 * 128 fits int32 for k < 131072).
// Plain C widens every int8 to int32 one product at a time: quantized data
// with none of the speed that quantization is for.
void PLAIN(matmul_i8)(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) {
    for (int i = 0; i < m; i++) {
        int32_t *ci = c + (size_t)i * n;
        for (int j = 0; j < n; j++) ci[j] = 0;
        for (int p = 0; p < k; p++) {
            int32_t aip = a[(size_t)i * k + p];
            const int8_t *bp = b + (size_t)p * n;
            for (int j = 0; j < n; j++) ci[j] += aip * bp[j];
        }
    }
}
