// The loop nest attention_avx2.c and attention_avx512.c share, included into
// each so it is compiled with that file's flags only. The file defines first
// W, the floats of a vector, PV_R by PV_V, the P V tile (out rows by vectors
// of dims) that fits the registers, the type vec and:
//   vzero, vset1, vload, vstore, vadd, vmul, vmax, vfma(a, b, c) = a b + c, vexp;
//   vload_part(p, n), vstore_part(p, x, n): lanes [0, n) only, the others 0 on load;
//   transpose_tile(t, x, rows, ld, cols): t[c W + r] = x[r ld + c] for r < W
//       and c < cols, rows [rows, W) as 0.
//
// Fused attention, FlashAttention's order on one core: per head, the queries
// in blocks of W rows, transposed once into a stack tile qt (dim by W), so
// that one FMA of a row of qt by key j's element c, broadcast, adds to the
// scores of key j for all W queries at once, with no horizontal sum: lane r
// is query r. The keys come in chunks of up to KB, their scores stored in a
// stack tile st (KB by W), so the softmax of a chunk is two plain passes
// down the lanes: the chunk's max against the running max m, then
// p_j = exp(s_j - m) in place of s_j, summed into l; every exp is of a number
// <= 0. P V then runs as a small GEMM: a tile of out rows by vectors of dims
// sums over all the chunk's keys in registers, and is read and written once
// per chunk, rescaled by exp(m_old - m_new) as it is read and, on the last
// chunk, divided by l as it is written. Up to KB tokens take one chunk: an
// exact softmax, no rescaling. Nothing grows with seq: st holds at most
// KB keys, and q, k and v are read as they are.
#include <math.h>

#define DCHUNK 256 // dims of q per tile: W * 256 floats, 16 KiB at W = 16

// s[j] += sum_c qt[c][:] k_j[c] over a tile of dc dims, 8 keys at a time, so
// that their 8 pointers stay in registers
static inline void scores(vec s[W], const float *qt, const float *const kp[W], int dc) {
    for (int j0 = 0; j0 < W; j0 += 8) {
        const float *k0 = kp[j0], *k1 = kp[j0 + 1], *k2 = kp[j0 + 2], *k3 = kp[j0 + 3];
        const float *k4 = kp[j0 + 4], *k5 = kp[j0 + 5], *k6 = kp[j0 + 6], *k7 = kp[j0 + 7];
        vec s0 = s[j0], s1 = s[j0 + 1], s2 = s[j0 + 2], s3 = s[j0 + 3];
        vec s4 = s[j0 + 4], s5 = s[j0 + 5], s6 = s[j0 + 6], s7 = s[j0 + 7];
        for (int c = 0; c < dc; c++) {
            vec qc = vload(qt + (size_t)c * W);
            s0 = vfma(qc, vset1(k0[c]), s0), s1 = vfma(qc, vset1(k1[c]), s1);
            s2 = vfma(qc, vset1(k2[c]), s2), s3 = vfma(qc, vset1(k3[c]), s3);
            s4 = vfma(qc, vset1(k4[c]), s4), s5 = vfma(qc, vset1(k5[c]), s5);
            s6 = vfma(qc, vset1(k6[c]), s6), s7 = vfma(qc, vset1(k7[c]), s7);
        }
        s[j0] = s0, s[j0 + 1] = s1, s[j0 + 2] = s2, s[j0 + 3] = s3;
        s[j0 + 4] = s4, s[j0 + 5] = s5, s[j0 + 6] = s6, s[j0 + 7] = s7;
    }
}

#define KB (4096 / W) // keys per chunk: W by KB scores in st, 16 KiB (with qt's up to 16 KiB, an L1d of 32 KiB)

// R rows of out, ldo apart, by V vectors of dims, the last nlast floats wide:
// out = (out alpha_r + sum_j p[j W + r] v_j) f_r over nk rows of v, ldv apart;
// on the first chunk out is not read. The R V sums stay in registers over all
// nk keys, and each load of v feeds R FMAs.
static inline __attribute__((always_inline)) void pv_tile(float *o, int ldo, const float *p, const float *v,
                                                          int ldv, int nk, const float *alpha, const float *f,
                                                          int first, int R, int V, int nlast) {
    vec acc[PV_R][PV_V];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
        for (int x = 0; x < V; x++) {
            const float *orow = o + (size_t)r * ldo + x * W;
            vec ox = first ? vzero() : x == V - 1 && nlast < W ? vload_part(orow, nlast) : vload(orow);
            acc[r][x] = vmul(ox, vset1(alpha[r]));
        }
    }
    for (int j = 0; j < nk; j++) {
        const float *vj = v + (size_t)j * ldv;
        vec vx[PV_V];
#pragma GCC unroll 4
        for (int x = 0; x < V; x++) vx[x] = x == V - 1 && nlast < W ? vload_part(vj + x * W, nlast) : vload(vj + x * W);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            vec pr = vset1(p[j * W + r]);
#pragma GCC unroll 4
            for (int x = 0; x < V; x++) acc[r][x] = vfma(pr, vx[x], acc[r][x]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
        for (int x = 0; x < V; x++) {
            float *orow = o + (size_t)r * ldo + x * W;
            vec y = vmul(acc[r][x], vset1(f[r]));
            if (x == V - 1 && nlast < W) vstore_part(orow, y, nlast);
            else vstore(orow, y);
        }
    }
}

// R rows of out over every dim: PV_V vectors at a time, then one
static inline __attribute__((always_inline)) void pv_rows(float *o, const float *p, const float *v, int nk, int dim,
                                                          const float *alpha, const float *f, int first, int R) {
    int c = 0;
    for (; c + PV_V * W <= dim; c += PV_V * W) pv_tile(o + c, dim, p, v + c, dim, nk, alpha, f, first, R, PV_V, W);
    for (; c < dim; c += W)
        pv_tile(o + c, dim, p, v + c, dim, nk, alpha, f, first, R, 1, dim - c < W ? dim - c : W);
}

static void attention(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim) {
    if (seq <= 0 || dim <= 0) return;
    _Alignas(64) float qt[DCHUNK * W];
    _Alignas(64) float st[KB * W]; // st[j W + r]: key j's score for query r, then its weight
    _Alignas(64) float alpha[W], f[W], sum[W];
    vec scale = vset1(1.0f / sqrtf((float)dim));
    for (size_t h = 0; h < (size_t)heads; h++) {
        size_t base = h * seq * dim;
        const float *qh = q + base, *kh = k + base, *vh = v + base;
        for (int i0 = 0; i0 < seq; i0 += W) {
            int nq = seq - i0 < W ? seq - i0 : W;
            float *oh = out + base + (size_t)i0 * dim;
            vec m = vset1(-INFINITY), l = vzero();
            for (int j0 = 0; j0 < seq; j0 += KB) {
                int nc = seq - j0 < KB ? seq - j0 : KB;
                vec bm = vset1(-INFINITY);
                for (int jb = 0; jb < nc; jb += W) {
                    int nk = nc - jb < W ? nc - jb : W;
                    const float *kp[W];
                    for (int j = 0; j < W; j++) // keys past nk: read but not stored
                        kp[j] = kh + (size_t)(j0 + jb + (j < nk ? j : 0)) * dim;
                    vec s[W];
                    for (int j = 0; j < W; j++) s[j] = vzero();
                    for (int d0 = 0; d0 < dim; d0 += DCHUNK) {
                        int dc = dim - d0 < DCHUNK ? dim - d0 : DCHUNK;
                        if (j0 + jb == 0 || dim > DCHUNK) transpose_tile(qt, qh + (size_t)i0 * dim + d0, nq, dim, dc);
                        const float *kc[W];
                        for (int j = 0; j < W; j++) kc[j] = kp[j] + d0;
                        scores(s, qt, kc, dc);
                    }
                    for (int j = 0; j < nk; j++) {
                        s[j] = vmul(s[j], scale);
                        bm = vmax(bm, s[j]);
                        vstore(st + (size_t)(jb + j) * W, s[j]);
                    }
                }
                // subtract the running max for numerical stability: every exp is of a number <= 0
                vec mn = vmax(m, bm), a = vexp(vsub(m, mn)); // a = 0 on the first chunk
                m = mn;
                l = vmul(l, a);
                for (int j = 0; j < nc; j++) {
                    vec p = vexp(vsub(vload(st + (size_t)j * W), m));
                    l = vadd(l, p);
                    vstore(st + (size_t)j * W, p);
                }
                // out is rescaled by alpha, and on the last chunk divided by l
                int first = j0 == 0, last = j0 + nc == seq;
                vstore(alpha, a), vstore(sum, l);
                for (int r = 0; r < W; r++) f[r] = last ? 1.0f / sum[r] : 1.0f;
                const float *vb = vh + (size_t)j0 * dim;
                int r = 0;
                for (; r + PV_R <= nq; r += PV_R)
                    pv_rows(oh + (size_t)r * dim, st + r, vb, nc, dim, alpha + r, f + r, first, PV_R);
                for (; r < nq; r++) pv_rows(oh + (size_t)r * dim, st + r, vb, nc, dim, alpha + r, f + r, first, 1);
            }
        }
    }
}
