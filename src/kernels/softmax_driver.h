// The softmax driver softmax_avx2.c and softmax_avx512.c share, included into
// each so it is compiled with that file's flags only. The file defines first:
//   static float max_f32(const float *x, size_t n);   the largest x (a NaN may win or not)
//   static double exp_pass(float *out, const float *x, size_t n, float shift);
//                                                      out = exp(x - shift); their sum in double
//   static void scale_pass(float *out, size_t n, float f);   out *= f
//
// softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max), as softmax_scalar.c
// computes it, but x is taken in blocks that fit in L1: a block's max, then
// exp against the largest x so far, reading the block again from L1. So x
// comes from memory once, not once for the max and again for exp. The blocks'
// exps then stand against different shifts; the last pass puts each block on
// the common one with a factor exp(shift - max) / sum, computed in double and
// rounded once, as the single scale 1 / sum was. (Where that factor is
// subnormal, its rounding is at most half a unit of 2^-149, and the output,
// at most the factor, carries no more than that of it.)
//
// NaN anywhere makes the sum, and so every output, NaN. A block whose shift is
// still -inf holds only -inf (and NaN): its exps are 0 (and NaN), not the NaN
// of -inf - -inf, so a later finite x still gives the right result.
#include <math.h>

#define SOFTMAX_BLOCK 4096      // floats: 16 KiB of x, with 16 KiB of out, in a 48 KiB L1
#define SOFTMAX_MAX_BLOCKS 1024 // past 4M elements the blocks grow instead

static void softmax(float *out, const float *x, size_t n) {
    if (n == 0) return;
    size_t block = SOFTMAX_BLOCK;
    if (n > (size_t)SOFTMAX_BLOCK * SOFTMAX_MAX_BLOCKS) // whole vectors per block, at most the limit of blocks
        block = (n / SOFTMAX_MAX_BLOCKS + 64) / 64 * 64;
    float shift[SOFTMAX_MAX_BLOCKS];
    double sum[SOFTMAX_MAX_BLOCKS];
    float run = -INFINITY; // the largest x so far
    int nb = 0;
    for (size_t i = 0; i < n; i += block, nb++) {
        size_t len = n - i < block ? n - i : block;
        float m = max_f32(x + i, len);
        if (!(m <= run)) run = m;
        shift[nb] = run;
        if (run == -INFINITY) {
            double s = 0;
            for (size_t j = i; j < i + len; j++) s += out[j] = x[j] == -INFINITY ? 0.0f : x[j];
            sum[nb] = s;
        } else {
            sum[nb] = exp_pass(out + i, x + i, len, run);
        }
    }
    if (nb == 1) { // one block: its shift is the max, its factor exp(0) / sum, as below, without the exps
        scale_pass(out, n, (float)(1.0 / sum[0]));
        return;
    }
    double total = 0;
    for (int b = 0; b < nb; b++) total += sum[b] * exp((double)shift[b] - run);
    for (int b = 0; b < nb; b++) {
        size_t len = n - (size_t)b * block < block ? n - (size_t)b * block : block;
        scale_pass(out + (size_t)b * block, len, (float)(exp((double)shift[b] - run) / total));
    }
}
