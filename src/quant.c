#include <math.h>

#include "quant.h"

void quantize_i8(int8_t *q, float *scale, const float *x, size_t lines, size_t len,
                 size_t line_stride, size_t value_stride) {
    for (size_t l = 0; l < lines; l++) {
        const float *xl = x + l * line_stride;
        int8_t *ql = q + l * line_stride;
        float amax = 0;
        for (size_t v = 0; v < len; v++) amax = fmaxf(amax, fabsf(xl[v * value_stride]));
        float s = amax > 0 ? amax / 127 : 1;
        for (size_t v = 0; v < len; v++) ql[v * value_stride] = (int8_t)lrintf(xl[v * value_stride] / s);
        scale[l] = s;
    }
}
