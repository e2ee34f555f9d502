// Symmetric int8 quantization, as an inference engine does it: one scale
// per row (or per column), the largest magnitude mapped to 127, so -128
// never occurs and x ~ q * scale.
#ifndef BMML_QUANT_H
#define BMML_QUANT_H

#include <stddef.h>
#include <stdint.h>

// Quantize `lines` lines of `len` values each: value v of line l is
// x[l * line_stride + v * value_stride], and goes to q at the same offset;
// scale[l] receives the line's scale (1 for a line of zeros).
void quantize_i8(int8_t *q, float *scale, const float *x, size_t lines, size_t len,
                 size_t line_stride, size_t value_stride);

#endif
