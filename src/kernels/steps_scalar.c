#include <math.h>

#include "plain.h"
#include "steps.h"

// The steps of a model's forward pass between its kernels (src/model.c):
// bias and residual adds, positions, the scaling of attention scores, moving
// heads in and out of their own buffers, patches, the mean over tokens, and int8's
// quantization of activations and dequantization of sums.
// Plain C, compiled twice as the plain kernels are (plain.h): the scalar tier
// runs the scalar build, every vector tier the compiler-vectorized one, so
// the time between kernels is what the compiler makes of it in both worlds,
// and no tier's figure carries the other's. Pure data movement and one
// rounding per add or product: both builds give the same bits, but for dequant.

// y = a + b, n values; y may be a or b
static void add_f32(float *y, const float *a, const float *b, long n) {
    for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}

// y[i] = x[i] + p, image by image (or row by row: a bias): p holds n values,
// each image n of x; y may be x
static void add_each_f32(float *y, const float *x, const float *p, long images, long n) {
    for (long i = 0; i < images; i++)
        for (long j = 0; j < n; j++) y[i * n + j] = x[i * n + j] + p[j];
}

// x *= s, n values
static void scale_f32(float *x, float s, long n) {
    for (long i = 0; i < n; i++) x[i] *= s;
}

// (images, h, w) -> (images, h/p * w/p, p*p): patches row-major, pixels row-major in each
static void patches_f32(float *y, const float *x, long images, int h, int w, int p) {
    for (long i = 0; i < images; i++, x += (size_t)h * w)
        for (int pr = 0; pr < h / p; pr++)
            for (int pc = 0; pc < w / p; pc++)
                for (int r = 0; r < p; r++)
                    for (int c = 0; c < p; c++) *y++ = x[(size_t)(pr * p + r) * w + pc * p + c];
}

// qkv (images*t, 3*heads*dim) -> q (images*heads, t, dim), kt (images*heads, dim, t), v as q
static void attn_split_f32(float *q, float *kt, float *v, const float *qkv, long images, int t, int heads, int dim) {
    int d = heads * dim;
    for (long i = 0; i < images; i++)
        for (int h = 0; h < heads; h++) {
            size_t g = (size_t)(i * heads + h) * t * dim;
            for (int tok = 0; tok < t; tok++) {
                const float *row = qkv + (size_t)(i * t + tok) * 3 * d + h * dim;
                for (int c = 0; c < dim; c++) {
                    q[g + (size_t)tok * dim + c] = row[c];
                    v[g + (size_t)tok * dim + c] = row[2 * d + c];
                }
                for (int c = 0; c < dim; c++) kt[g + (size_t)c * t + tok] = row[d + c];
            }
        }
}

// o (images*heads, t, dim) -> y (images*t, heads*dim)
static void attn_merge_f32(float *y, const float *o, long images, int t, int heads, int dim) {
    for (long i = 0; i < images; i++)
        for (int h = 0; h < heads; h++)
            for (int tok = 0; tok < t; tok++) {
                float *yr = y + (size_t)(i * t + tok) * heads * dim + h * dim;
                const float *orow = o + ((size_t)(i * heads + h) * t + tok) * dim;
                for (int c = 0; c < dim; c++) yr[c] = orow[c];
            }
}

// y[i] = the mean of image i's rows, (images, rows, cols) -> (images, cols)
static void mean_rows_f32(float *y, const float *x, long images, int rows, int cols) {
    for (long i = 0; i < images; i++, x += (size_t)rows * cols, y += cols) {
        for (int c = 0; c < cols; c++) y[c] = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) y[c] += x[(size_t)r * cols + c];
        for (int c = 0; c < cols; c++) y[c] /= rows;
    }
}

// y[i][j] = acc[i][j] * (xscale[i] * wscale[j]) + b[j]: a DENSE's int32 sums
// back to float (the autovec build may fuse the multiply and the add, one
// rounding fewer: the int8 path's figures are compared with fp32's, not bit for bit)
static void dequant_f32(float *y, const int32_t *acc, const float *xscale, const float *wscale, const float *b,
                        long rows, int n) {
    for (long i = 0; i < rows; i++)
        for (int j = 0; j < n; j++) y[i * n + j] = (float)acc[i * n + j] * (xscale[i] * wscale[j]) + b[j];
}

// quantize_i8 (quant.c) over rows of n: scale[i] = max |x_ij| / 127 (1 for a
// row of zeros), q_ij = x_ij / scale[i] rounded to nearest even, which
// nearbyintf does as lrintf does, in [-127, 127]; the compare keeps fmaxf's
// way with NaN (ignored) without its call. The autovec build vectorizes the
// rounding loop, not the max (a float max reduction needs -ffinite-math-only).
// The clamp only matters for a NaN or inf in the row, whose int8 values mean
// nothing either way: it keeps the conversion to int defined (NaN: -127).
static void quantize_rows_i8(int8_t *q, float *scale, const float *x, long rows, int n) {
    for (long i = 0; i < rows; i++) {
        const float *xi = x + i * n;
        float amax = 0;
        for (int j = 0; j < n; j++) {
            float a = fabsf(xi[j]);
            amax = a > amax ? a : amax;
        }
        float s = amax > 0 ? amax / 127 : 1;
        for (int j = 0; j < n; j++) {
            float v = nearbyintf(xi[j] / s);
            q[i * n + j] = (int8_t)(int)(v >= -127 ? (v <= 127 ? v : 127) : -127);
        }
        scale[i] = s;
    }
}

const struct model_steps PLAIN(model_steps) = {
    add_f32, add_each_f32, scale_f32, patches_f32, attn_split_f32, attn_merge_f32, mean_rows_f32,
    quantize_rows_i8, dequant_f32,
};
