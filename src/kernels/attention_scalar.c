#include <math.h>

#include "plain.h"

// attention: per head, out = softmax(q k^T / sqrt(dim)) v; q, k, v and out
// are (heads, seq, dim) row-major. Fused, as the SIMD tiers are: per query
// row, the keys in blocks of 16: their scores, the block's max against the
// running max m, and where m grows, the running sum l and the out row rescaled
// by exp(m_old - m_new); then the block's p_j = exp(s_j - m) summed into l and
// p_j v_j into the out row, and at the end out /= l. Every exp is of a number
// <= 0, so large scores cannot overflow it, and no (seq, seq) score matrix is
// needed: a kernel allocates nothing.
#define BLOCK 16

void PLAIN(attention_f32)(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim) {
    if (seq <= 0 || dim <= 0) return;
    float scale = 1.0f / sqrtf((float)dim);
    for (size_t h = 0; h < (size_t)heads; h++) {
        size_t base = h * seq * dim;
        const float *kh = k + base, *vh = v + base;
        for (size_t i = 0; i < (size_t)seq; i++) {
            const float *qi = q + base + i * dim;
            float *o = out + base + i * dim;
            float m = -INFINITY, l = 0.0f, s[BLOCK];
            for (int c = 0; c < dim; c++) o[c] = 0.0f;
            for (int j0 = 0; j0 < seq; j0 += BLOCK) {
                int nb = seq - j0 < BLOCK ? seq - j0 : BLOCK;
                float bm = -INFINITY;
                for (int j = 0; j < nb; j++) {
                    const float *kj = kh + (size_t)(j0 + j) * dim;
                    float dot = 0.0f;
                    for (int c = 0; c < dim; c++) dot += qi[c] * kj[c];
                    s[j] = dot * scale;
                    bm = s[j] > bm ? s[j] : bm;
                }
                if (bm > m) {
                    float alpha = expf(m - bm); // 0 on the first block, where o and l are 0
                    l *= alpha;
                    for (int c = 0; c < dim; c++) o[c] *= alpha;
                    m = bm;
                }
                for (int j = 0; j < nb; j++) {
                    float p = expf(s[j] - m);
                    const float *vj = vh + (size_t)(j0 + j) * dim;
                    l += p;
                    for (int c = 0; c < dim; c++) o[c] += p * vj[c];
                }
            }
            float inv = 1.0f / l;
            for (int c = 0; c < dim; c++) o[c] *= inv;
        }
    }
}
