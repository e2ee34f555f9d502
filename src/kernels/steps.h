// The steps between a model's kernels (steps_scalar.c), built twice as the
// plain kernels are: model_steps_scalar and model_steps_autovec.
#ifndef BMML_STEPS_H
#define BMML_STEPS_H

#include <stdint.h>

struct model_steps {
    void (*add)(float *y, const float *a, const float *b, long n);
    void (*add_each)(float *y, const float *x, const float *p, long images, long n);
    void (*scale)(float *x, float s, long n);
    void (*patches)(float *y, const float *x, long images, int h, int w, int p);
    void (*attn_split)(float *q, float *kt, float *v, const float *qkv, long images, int t, int heads, int dim);
    void (*attn_merge)(float *y, const float *o, long images, int t, int heads, int dim);
    void (*mean_rows)(float *y, const float *x, long images, int rows, int cols);
    void (*quantize_rows)(int8_t *q, float *scale, const float *x, long rows, int n);
    void (*dequant)(float *y, const int32_t *acc, const float *xscale, const float *wscale, const float *b, long rows,
                    int n);
};

extern const struct model_steps model_steps_scalar, model_steps_autovec;

#endif
