// The plain C kernels are compiled twice from the same source (Makefile.am):
// PLAIN_TIER=scalar with -O2 -fno-tree-vectorize, one element at a time, and
// PLAIN_TIER=autovec with -ftree-vectorize -fvect-cost-model=dynamic -mavx2
// -mfma, whatever the compiler vectorizes. The optimization level is CFLAGS'
// (-O2 by default) for both: automake puts CFLAGS last, so an -O3 here would
// be overridden and the flags reported would say what did not happen.
// PLAIN(relu_f32) names relu_f32_scalar or relu_f32_autovec.
#ifndef BMML_PLAIN_H
#define BMML_PLAIN_H

#include "../kernels.h"

#define PLAIN_CAT2(f, tier) f##_##tier
#define PLAIN_CAT(f, tier) PLAIN_CAT2(f, tier)
#define PLAIN(f) PLAIN_CAT(f, PLAIN_TIER)

#endif
