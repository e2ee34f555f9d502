// The loop nest attention_avx2.c and attention_avx512.c share, included into
// each so it is compiled with that file's flags only. The file defines first
// W, the floats of a vector, the type vec and:
//   vzero, vset1, vload, vstore, vadd, vmul, vmax, vfma(a, b, c) = a b + c, vexp;
//   vload_part(p, n), vstore_part(p, x, n): lanes [0, n) only, the others 0 on load;
//   transpose_tile(t, x, rows, ld, cols): t[c W + r] = x[r ld + c] for r < W
//       and c < cols, rows [rows, W) as 0.
//
// Fused attention, FlashAttention's order on one core: per head, the queries
// in blocks of W rows, transposed once into a stack tile qt (dim by W), so
// that one FMA of a row of qt by key j's element c, broadcast, adds to the
// scores of key j for all W queries at once, with no horizontal sum. The keys
// come in blocks of W: W score vectors, lane r for query r. The online
// softmax then runs down the lanes: the block's max, the running max m, the
// factor exp(m_old - m_new) for what is summed so far, p_j = exp(s_j - m),
// every exp of a number <= 0, and the running sum l. The out rows, in L1,
// take p_j v_j for the block's keys, each row rescaled first; at the end
// out /= l. Nothing of size seq is stored: q, k and v are read as they are.
#include <math.h>

#define DCHUNK 256 // dims of q per tile: W * 256 floats, 16 KiB at W = 16

// s[j] += sum_c qt[c][:] k_j[c] over a tile of dc dims
static inline void scores(vec s[W], const float *qt, const float *const kp[W], int dc) {
    for (int c = 0; c < dc; c++) {
        vec qc = vload(qt + (size_t)c * W);
#pragma GCC unroll 16
        for (int j = 0; j < W; j++) s[j] = vfma(qc, vset1(kp[j][c]), s[j]);
    }
}

// Two out rows: o = o alpha + sum_j p[j W] v_j over nk rows of v, ldv apart,
// for o, alpha, p and o + ldv, alpha2, p + 1; each load of v feeds two FMAs.
// 4 W dims at a time, then 2 W; returns where it stopped.
static inline int accumulate2(float *o, float alpha, float alpha2, const float *p, const float *v, int ldv, int nk,
                              int dim) {
    vec a = vset1(alpha), a2 = vset1(alpha2);
    float *o2 = o + ldv;
    int c = 0;
    for (; c + 4 * W <= dim; c += 4 * W) {
        vec x0 = vmul(vload(o + c), a), x1 = vmul(vload(o + c + W), a);
        vec x2 = vmul(vload(o + c + 2 * W), a), x3 = vmul(vload(o + c + 3 * W), a);
        vec y0 = vmul(vload(o2 + c), a2), y1 = vmul(vload(o2 + c + W), a2);
        vec y2 = vmul(vload(o2 + c + 2 * W), a2), y3 = vmul(vload(o2 + c + 3 * W), a2);
        for (int j = 0; j < nk; j++) {
            const float *vj = v + (size_t)j * ldv + c;
            vec pj = vset1(p[j * W]), pj2 = vset1(p[j * W + 1]);
            vec v0 = vload(vj), v1 = vload(vj + W), v2 = vload(vj + 2 * W), v3 = vload(vj + 3 * W);
            x0 = vfma(pj, v0, x0), x1 = vfma(pj, v1, x1), x2 = vfma(pj, v2, x2), x3 = vfma(pj, v3, x3);
            y0 = vfma(pj2, v0, y0), y1 = vfma(pj2, v1, y1), y2 = vfma(pj2, v2, y2), y3 = vfma(pj2, v3, y3);
        }
        vstore(o + c, x0), vstore(o + c + W, x1), vstore(o + c + 2 * W, x2), vstore(o + c + 3 * W, x3);
        vstore(o2 + c, y0), vstore(o2 + c + W, y1), vstore(o2 + c + 2 * W, y2), vstore(o2 + c + 3 * W, y3);
    }
    for (; c + 2 * W <= dim; c += 2 * W) {
        vec x0 = vmul(vload(o + c), a), x1 = vmul(vload(o + c + W), a);
        vec y0 = vmul(vload(o2 + c), a2), y1 = vmul(vload(o2 + c + W), a2);
        for (int j = 0; j < nk; j++) {
            const float *vj = v + (size_t)j * ldv + c;
            vec pj = vset1(p[j * W]), pj2 = vset1(p[j * W + 1]), v0 = vload(vj), v1 = vload(vj + W);
            x0 = vfma(pj, v0, x0), x1 = vfma(pj, v1, x1);
            y0 = vfma(pj2, v0, y0), y1 = vfma(pj2, v1, y1);
        }
        vstore(o + c, x0), vstore(o + c + W, x1), vstore(o2 + c, y0), vstore(o2 + c + W, y1);
    }
    return c;
}

// o = o alpha + sum_j p[j W] v_j over nk rows of v, ldv apart, dims [c, dim)
static inline void accumulate(float *o, float alpha, const float *p, const float *v, int ldv, int nk, int c,
                              int dim) {
    vec a = vset1(alpha);
    for (; c + 4 * W <= dim; c += 4 * W) {
        vec o0 = vmul(vload(o + c), a), o1 = vmul(vload(o + c + W), a);
        vec o2 = vmul(vload(o + c + 2 * W), a), o3 = vmul(vload(o + c + 3 * W), a);
        for (int j = 0; j < nk; j++) {
            const float *vj = v + (size_t)j * ldv + c;
            vec pj = vset1(p[j * W]);
            o0 = vfma(pj, vload(vj), o0);
            o1 = vfma(pj, vload(vj + W), o1);
            o2 = vfma(pj, vload(vj + 2 * W), o2);
            o3 = vfma(pj, vload(vj + 3 * W), o3);
        }
        vstore(o + c, o0), vstore(o + c + W, o1), vstore(o + c + 2 * W, o2), vstore(o + c + 3 * W, o3);
    }
    for (; c < dim; c += W) {
        int nc = dim - c < W ? dim - c : W;
        vec acc = vmul(vload_part(o + c, nc), a);
        for (int j = 0; j < nk; j++) acc = vfma(vset1(p[j * W]), vload_part(v + (size_t)j * ldv + c, nc), acc);
        vstore_part(o + c, acc, nc);
    }
}

static void attention(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim) {
    if (seq <= 0 || dim <= 0) return;
    _Alignas(64) float qt[DCHUNK * W];
    _Alignas(64) float pt[W * W]; // pt[j W + r]: key j's weight for query r
    _Alignas(64) float alpha[W], sum[W];
    vec scale = vset1(1.0f / sqrtf((float)dim));
    for (size_t h = 0; h < (size_t)heads; h++) {
        size_t base = h * seq * dim;
        const float *qh = q + base, *kh = k + base, *vh = v + base;
        for (int i0 = 0; i0 < seq; i0 += W) {
            int nq = seq - i0 < W ? seq - i0 : W;
            float *oh = out + base + (size_t)i0 * dim;
            for (size_t c = 0; c < (size_t)nq * dim; c++) oh[c] = 0.0f;
            vec m = vset1(-INFINITY), l = vzero();
            for (int j0 = 0; j0 < seq; j0 += W) {
                int nk = seq - j0 < W ? seq - j0 : W;
                const float *kp[W];
                for (int j = 0; j < W; j++) kp[j] = kh + (size_t)(j0 + (j < nk ? j : 0)) * dim; // past nk: masked below
                vec s[W];
                for (int j = 0; j < W; j++) s[j] = vzero();
                for (int d0 = 0; d0 < dim; d0 += DCHUNK) {
                    int dc = dim - d0 < DCHUNK ? dim - d0 : DCHUNK;
                    if (j0 == 0 || dim > DCHUNK) transpose_tile(qt, qh + (size_t)i0 * dim + d0, nq, dim, dc);
                    const float *kc[W];
                    for (int j = 0; j < W; j++) kc[j] = kp[j] + d0;
                    scores(s, qt, kc, dc);
                }
                // subtract the running max for numerical stability: every exp is of a number <= 0
                vec bm = vset1(-INFINITY);
                for (int j = 0; j < W; j++) {
                    s[j] = j < nk ? vmul(s[j], scale) : vset1(-INFINITY);
                    bm = vmax(bm, s[j]);
                }
                vec mn = vmax(m, bm), a = vexp(vsub(m, mn)); // a = 0 on the first block
                m = mn;
                l = vmul(l, a);
                for (int j = 0; j < W; j++) {
                    vec p = vexp(vsub(s[j], m));
                    l = vadd(l, p);
                    vstore(pt + j * W, p);
                }
                vstore(alpha, a);
                const float *vb = vh + (size_t)j0 * dim;
                int r = 0;
                for (; r + 2 <= nq; r += 2) {
                    float *o = oh + (size_t)r * dim;
                    int c = accumulate2(o, alpha[r], alpha[r + 1], pt + r, vb, dim, nk, dim);
                    accumulate(o, alpha[r], pt + r, vb, dim, nk, c, dim);
                    accumulate(o + dim, alpha[r + 1], pt + r + 1, vb, dim, nk, c, dim);
                }
                if (r < nq) accumulate(oh + (size_t)r * dim, alpha[r], pt + r, vb, dim, nk, 0, dim);
            }
            vstore(sum, l);
            for (int r = 0; r < nq; r++) {
                float inv = 1.0f / sum[r];
                for (int c = 0; c < dim; c++) oh[(size_t)r * dim + c] *= inv;
            }
        }
    }
}
