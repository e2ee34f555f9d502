// The plain C kernels are compiled twice from the same source (Makefile.am):
// PLAIN_TIER=scalar with -O2 -fno-tree-vectorize, one element at a time, and
// PLAIN_TIER=autovec with -O3 -mavx2 -mfma, whatever the compiler vectorizes.
// PLAIN(relu_f32) names relu_f32_scalar or relu_f32_autovec.
#ifndef BMML_PLAIN_H
#define BMML_PLAIN_H

#include "../kernels.h"

#define PLAIN_CAT2(f, tier) f##_##tier
#define PLAIN_CAT(f, tier) PLAIN_CAT2(f, tier)
#define PLAIN(f) PLAIN_CAT(f, PLAIN_TIER)

#endif
