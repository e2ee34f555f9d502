// References: double precision for the float kernels, exact integers for int8.
// Every tier, the Python twins included, is checked against these.
#include <math.h>

#include "../kernels.h"

void relu_ref(double *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = x[i] < 0.0f ? 0.0 : (double)x[i];
}

void softmax_ref(double *out, const float *x, size_t n) {
    if (n == 0) return;
    double max = x[0];
    for (size_t i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        out[i] = exp((double)x[i] - max);
        sum += out[i];
    }
    for (size_t i = 0; i < n; i++) out[i] /= sum;
}

void gelu_ref(double *out, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        out[i] = 0.5 * v * (1.0 + tanh(0.7978845608 * (v + 0.044715 * v * v * v)));
    }
}

void matmul_f32_ref(double *c, double *bound, const float *a, const float *b, int m, int n, int k) {
    for (size_t i = 0; i < (size_t)m; i++) {
        double *ci = c + i * n, *bi = bound + i * n;
        for (int j = 0; j < n; j++) ci[j] = bi[j] = 0.0;
        for (size_t p = 0; p < (size_t)k; p++) {
            double aip = a[i * k + p];
            const float *bp = b + p * n;
            for (int j = 0; j < n; j++) {
                ci[j] += aip * bp[j];
                bi[j] += fabs(aip * bp[j]);
            }
        }
    }
}

void matmul_i8_ref(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k) {
    for (size_t i = 0; i < (size_t)m; i++) {
        for (size_t j = 0; j < (size_t)n; j++) {
            int64_t s = 0;
            for (size_t p = 0; p < (size_t)k; p++) s += (int64_t)a[i * k + p] * b[p * n + j];
            c[i * n + j] = (int32_t)s;
        }
    }
}

// Also each element's scale of rounding, bound = |gamma| / sqrt(var + eps) *
// (|x - mean| + mean |x|): a float kernel's deviation x - mean is off by up to
// its own rounding plus the error of a float mean, which scales mean |x|; the
// normalization multiplies both by |gamma| / sqrt(var + eps). kernels.c says
// how many units of 2^-24 the tolerance allows.
void layernorm_ref(double *out, double *bound, const float *x, const float *gamma, const float *beta, int rows,
                   int cols) {
    for (size_t i = 0; i < (size_t)rows && cols > 0; i++) {
        const float *xi = x + i * cols;
        double mean = 0.0, mabs = 0.0, ss = 0.0;
        for (int j = 0; j < cols; j++) mean += xi[j], mabs += fabs(xi[j]);
        mean /= cols, mabs /= cols;
        for (int j = 0; j < cols; j++) ss += (xi[j] - mean) * (xi[j] - mean);
        double rstd = 1.0 / sqrt(ss / cols + 1e-5);
        for (int j = 0; j < cols; j++) {
            double d = xi[j] - mean;
            out[i * cols + j] = d * rstd * gamma[j] + beta[j];
            bound[i * cols + j] = fabs(gamma[j]) * rstd * (fabs(d) + mabs);
        }
    }
}

// Also each element's bound on the rounding of a float kernel, in units of
// u = 2^-24 (kernels.c: btol = u): (2 (dim + 2) S + 3 seq + 16) sum_j p_j |v_jc|,
// p the row's softmax and S its largest sum_c |q_c k_jc| / sqrt(dim). A float
// score is off by up to (dim + 1) u S (dim products summed, then scaled), the
// max it is shifted by as much, and the shift rounds once more: the exponent
// of each p_j carries up to 2 (dim + 2) u S, a relative error of p_j. The
// weighted sum and the sum of p, each summed in float, add seq u of their
// terms (3 seq covers them with one rounding per rescaled block of keys); exp,
// the division and the stores a few u more.
void attention_ref(double *out, double *bound, const float *q, const float *k, const float *v, int heads, int seq,
                   int dim) {
    double scale = 1.0 / sqrt(dim);
    for (size_t h = 0; h < (size_t)heads && seq > 0 && dim > 0; h++) {
        size_t base = h * seq * dim;
        const float *qh = q + base, *kh = k + base, *vh = v + base;
        for (size_t i = 0; i < (size_t)seq; i++) {
            double *o = out + base + i * dim, *b = bound + base + i * dim;
            const float *qi = qh + i * dim;
            double max = -INFINITY, big = 0.0, sum = 0.0;
            // the max and S first; the scores are computed again for p, not stored
            for (size_t j = 0; j < (size_t)seq; j++) {
                double s = 0.0, a = 0.0;
                for (size_t c = 0; c < (size_t)dim; c++) {
                    s += (double)qi[c] * kh[j * dim + c];
                    a += fabs((double)qi[c] * kh[j * dim + c]);
                }
                s *= scale, a *= scale;
                if (s > max) max = s;
                if (a > big) big = a;
            }
            for (size_t c = 0; c < (size_t)dim; c++) o[c] = b[c] = 0.0;
            for (size_t j = 0; j < (size_t)seq; j++) {
                double s = 0.0;
                for (size_t c = 0; c < (size_t)dim; c++) s += (double)qi[c] * kh[j * dim + c];
                double p = exp(s * scale - max);
                sum += p;
                for (size_t c = 0; c < (size_t)dim; c++) {
                    o[c] += p * vh[j * dim + c];
                    b[c] += p * fabs(vh[j * dim + c]);
                }
            }
            double units = 2.0 * (dim + 2) * big + 3.0 * seq + 16.0;
            for (size_t c = 0; c < (size_t)dim; c++) o[c] /= sum, b[c] = units * b[c] / sum;
        }
    }
}
