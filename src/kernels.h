// The kernel table: every operation bmml measures, its Python twin, its
// double-precision reference and its native variants, one slot per tier.
#ifndef BMML_KERNELS_H
#define BMML_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "results.h"

// The shapes of operation; each kind has one signature for every tier.
enum kind {
    KIND_UNARY_F32,  // out[i] = f(x[0..n)), float32
    KIND_MATMUL_F32, // a (m,k) @ b (k,n) -> c (m,n), float32
    KIND_MATMUL_I8,  // a (m,k) @ b (k,n) -> c (m,n), int8 in, int32 out, exact
    KIND_LAYERNORM,  // x (m,n), gamma (n), beta (n) -> out (m,n), float32: m rows of n columns
    KIND_ATTENTION,  // q, k, v (m,n,k) -> out (m,n,k), float32: m heads of n tokens of k dims
    N_KINDS
};

// What the kernels of one kind share: their arguments and how they are rated.
struct kind_desc {
    int n_in;           // inputs, after the output
    const char *arg[4]; // the output's and the inputs' names, as in pyscripts/kernels.py
    int dims;           // the sizes after them: 1 (n), 2 (m, n) or 3 (m, n, k) of struct shape
    int streaming;      // 1: rated in GB/s against a copy of its bytes; 0: against a compute peak
    unsigned libraries; // bit t set: library tier t (T_BLAS, T_ONEDNN) has this kind
};
extern const struct kind_desc kinds[N_KINDS];

typedef void (*unary_f32_fn)(float *out, const float *x, size_t n);
typedef void (*matmul_f32_fn)(float *c, const float *a, const float *b, int m, int n, int k);
typedef void (*matmul_i8_fn)(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
typedef void (*layernorm_fn)(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols);
typedef void (*attention_fn)(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim);

// References in double precision (exact for int8), computed once per case.
typedef void (*unary_ref_fn)(double *out, const float *x, size_t n);

// One native implementation: its function, the CPU features it needs (cpu.h)
// and the name of the instruction set it uses, as reported.
struct variant {
    union {
        unary_f32_fn unary;
        matmul_f32_fn matmul_f32;
        matmul_i8_fn matmul_i8;
        layernorm_fn layernorm;
        attention_fn attention;
    } fn;            // all NULL: the build lacks this tier
    unsigned needs;  // CPU_* bits
    const char *isa; // "avx2+fma", "avx-vnni", ...
};

struct kernel {
    const char *name;   // as on the command line and in pyscripts/kernels.py
    enum kind kind;
    float in_lo, in_hi; // inputs are drawn uniformly from [in_lo, in_hi] (int8: then quantized)
    // A float output y passes against the reference r when |y - r| <= atol + rtol * |r|;
    // the fp32 matmul adds its error bound (buffers.c), int8 must be exact. Why each value: kernels.c.
    double rtol, atol;
    // layernorm and attention: their reference also gives each element's scale
    // of rounding, bound[i] (ref.c); btol * bound[i] joins the tolerance
    double btol;
    unary_ref_fn ref;   // KIND_UNARY_F32 only; the matmuls have their own references
    // per native tier (enum tier, T_SCALAR to T_AVX512; the other slots stay
    // empty): the first variant this CPU can run is used, so a second one is a
    // fallback. A slot is empty where the build lacks the ISA.
    struct variant tier[N_TIERS][2];
};

extern const struct kernel kernels[];
extern const int n_kernels;

const struct kernel *kernel_find(const char *name);

// Why variant_pick found nothing.
enum pick { PICK_OK, PICK_NOT_BUILT, PICK_MAX_ISA, PICK_NO_CPU };
// The variant of native tier `tier` that a CPU with the CPU_* bits `cpu`
// runs, or NULL with the reason in *reason and, in words, in why (each may
// be NULL). The one place that picks: the runner, the model and --list ask it.
const struct variant *variant_pick(const struct kernel *kern, int tier, unsigned cpu, enum pick *reason, char *why,
                                   size_t whylen);

// ---------------------------------------------------------------------------
// The variants, side by side: src/kernels/<op>_<isa>.c
// The matmul_*_avx* variants are not reentrant: one GEMM call at a time per process (static packing buffers).

// references: src/kernels/ref.c
void relu_ref(double *out, const float *x, size_t n);
void softmax_ref(double *out, const float *x, size_t n);
void gelu_ref(double *out, const float *x, size_t n);
// c = a @ b in double; bound[i] = sum_k |a_ik * b_kj|, the scale of the rounding error
void matmul_f32_ref(double *c, double *bound, const float *a, const float *b, int m, int n, int k);
void matmul_i8_ref(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
// out per row; bound[i] = |gamma_j| / sqrt(var + eps) * (|x_ij - mean| + mean_j |x_ij|)
void layernorm_ref(double *out, double *bound, const float *x, const float *gamma, const float *beta, int rows,
                   int cols);
// out per head and row; bound[i] = (2 (dim + 2) S + 3 seq + 16) sum_j p_j |v_jc|,
// S the row's largest sum_c |q_c k_jc| / sqrt(dim), p its softmax
void attention_ref(double *out, double *bound, const float *q, const float *k, const float *v, int heads, int seq,
                   int dim);

// plain C, compiled twice: as *_scalar and as *_autovec (see src/kernels/plain.h)
void relu_f32_scalar(float *out, const float *x, size_t n);
void softmax_f32_scalar(float *out, const float *x, size_t n);
void gelu_f32_scalar(float *out, const float *x, size_t n);
void matmul_f32_scalar(float *c, const float *a, const float *b, int m, int n, int k);
void matmul_i8_scalar(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
void relu_f32_autovec(float *out, const float *x, size_t n);
void softmax_f32_autovec(float *out, const float *x, size_t n);
void gelu_f32_autovec(float *out, const float *x, size_t n);
void matmul_f32_autovec(float *c, const float *a, const float *b, int m, int n, int k);
void matmul_i8_autovec(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
void layernorm_f32_scalar(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols);
void layernorm_f32_autovec(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols);
void attention_f32_scalar(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim);
void attention_f32_autovec(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim);

// AVX2 + FMA (int8: AVX-VNNI, or AVX2's vpmaddwd on a CPU without it)
void relu_f32_avx2(float *out, const float *x, size_t n);
void softmax_f32_avx2(float *out, const float *x, size_t n);
void gelu_f32_avx2(float *out, const float *x, size_t n);
void matmul_f32_avx2(float *c, const float *a, const float *b, int m, int n, int k);
void matmul_i8_avxvnni(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
void matmul_i8_avx2(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
void layernorm_f32_avx2(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols);
void attention_f32_avx2(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim);
// softmax_driver.h alone, without softmax_f32_avx2's way for rows of 16 or
// fewer: for the tests, which hold the two to the same bits
void softmax_f32_avx2_blocked(float *out, const float *x, size_t n);

// AVX-512 F/BW/VL (int8: AVX512-VNNI)
void relu_f32_avx512(float *out, const float *x, size_t n);
void softmax_f32_avx512(float *out, const float *x, size_t n);
void softmax_f32_avx512_blocked(float *out, const float *x, size_t n); // as softmax_f32_avx2_blocked
void gelu_f32_avx512(float *out, const float *x, size_t n);
void matmul_f32_avx512(float *c, const float *a, const float *b, int m, int n, int k);
void matmul_i8_avx512vnni(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k);
void layernorm_f32_avx512(float *out, const float *x, const float *gamma, const float *beta, int rows, int cols);
void attention_f32_avx512(float *out, const float *q, const float *k, const float *v, int heads, int seq, int dim);

// vector math, for the accuracy tests: the exp and tanh the kernels inline
// (vmath_avx2.h, vmath_avx512.h), over arrays; out = f(x) element by element
void exp_f32_avx2(float *out, const float *x, size_t n);
void tanh_f32_avx2(float *out, const float *x, size_t n);
void exp_f32_avx512(float *out, const float *x, size_t n);
void tanh_f32_avx512(float *out, const float *x, size_t n);

// Peak loops for the roofline (roofline.c): each returns a value so that its
// work is not optimized away.
float peak_fma_avx2(long iters);     // 192 flops per iteration
float peak_fma_avx512(long iters);   // 512 flops per iteration
int peak_vnni_avx512(long iters);    // 2048 int8 operations per iteration
int peak_vnni_avxvnni(long iters);   // 768 int8 operations per iteration
void copy_stream_avx2(float *out, const float *x, size_t n); // a copy with streaming stores

#endif
