// The table: one row per kernel, its tolerance with the reason, its variants by tier.
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cpu.h"
#include "kernels.h"

#define AVX512 (CPU_AVX512F | CPU_AVX512BW | CPU_AVX512VL)
#define NONE {{NULL}, 0, NULL}

// A slot whose instruction set the build lacks stays NONE, so the binary
// links and reports the tier as not built.
#if HAVE_AVX2
#define IF_AVX2(...) __VA_ARGS__
#else
#define IF_AVX2(...) NONE
#endif
#if HAVE_AVX512
#define IF_AVX512(...) __VA_ARGS__
#else
#define IF_AVX512(...) NONE
#endif
#if HAVE_AVXVNNI
#define IF_AVXVNNI(...) __VA_ARGS__
#else
#define IF_AVXVNNI(...) NONE
#endif
#if HAVE_AVX512VNNI
#define IF_AVX512VNNI(...) __VA_ARGS__
#else
#define IF_AVX512VNNI(...) NONE
#endif

#define UNARY_TIERS(op)                                                                  \
    {                                                                                    \
        [T_SCALAR] = {{{.unary = op##_f32_scalar}, 0, "x86-64"}},                     \
        [T_AUTOVEC] = {IF_AVX2({{.unary = op##_f32_autovec}, AVX2_FMA, "avx2+fma"})}, \
        [T_AVX2] = {IF_AVX2({{.unary = op##_f32_avx2}, AVX2_FMA, "avx2+fma"})},       \
        [T_AVX512] = {IF_AVX512({{.unary = op##_f32_avx512}, AVX512, "avx512f"})},    \
    }

const struct kind_desc kinds[N_KINDS] = {
    [KIND_UNARY_F32] = {1, {"out", "x"}, 1, 1},
    [KIND_MATMUL_F32] = {2, {"c", "a", "b"}, 3, 0, 1u << T_BLAS | 1u << T_ONEDNN}, // sgemm, dnnl_sgemm
    [KIND_MATMUL_I8] = {2, {"c", "a", "b"}, 3, 0, 1u << T_ONEDNN},                // dnnl_gemm_u8s8s32
    [KIND_LAYERNORM] = {3, {"out", "x", "gamma", "beta"}, 2, 1},
    [KIND_ATTENTION] = {3, {"out", "q", "k", "v"}, 3, 0},
};

const struct kernel kernels[] = {
    {
        .name = "relu", .kind = KIND_UNARY_F32, .in_lo = -1, .in_hi = 1,
        // a comparison and a copy: every tier must be exact
        .rtol = 0, .atol = 0,
        .ref = relu_ref,
        .tier = UNARY_TIERS(relu),
    },
    {
        .name = "softmax", .kind = KIND_UNARY_F32, .in_lo = -10, .in_hi = 10,
        // x - max rounds in float by up to |x - max| * 2^-24 <= 20 * 2^-24 = 1.2e-6,
        // which exp turns into the same relative error; exp, the scale and the
        // product add a few ulp (2^-23 = 1.2e-7 each) on top
        .rtol = 4e-6, .atol = 0,
        .ref = softmax_ref,
        .tier = UNARY_TIERS(softmax),
    },
    {
        .name = "gelu", .kind = KIND_UNARY_F32, .in_lo = -5, .in_hi = 5,
        // for negative x, 1 + tanh(u) cancels: a few ulp of tanh near -1
        // (4 * 2^-24 = 2.4e-7) times 0.5 |x| <= 2.5 is 6e-7 absolute
        .rtol = 1e-6, .atol = 1e-6,
        .ref = gelu_ref,
        .tier = UNARY_TIERS(gelu),
    },
    {
        .name = "matmul", .kind = KIND_MATMUL_F32, .in_lo = -1, .in_hi = 1,
        // any order of summation, with or without FMA, stays within
        // gamma_k * sum_p |a_ip b_pj| (Higham, Accuracy and Stability, 3.5),
        // gamma_k = k u / (1 - k u), u = 2^-24; the runner adds that bound.
        // rtol covers the final rounding of c to float.
        .rtol = 0x1p-24, .atol = 0,
        .tier = {
            [T_SCALAR] = {{{.matmul_f32 = matmul_f32_scalar}, 0, "x86-64"}},
            [T_AUTOVEC] = {IF_AVX2({{.matmul_f32 = matmul_f32_autovec}, AVX2_FMA, "avx2+fma"})},
            [T_AVX2] = {IF_AVX2({{.matmul_f32 = matmul_f32_avx2}, AVX2_FMA, "avx2+fma"})},
            [T_AVX512] = {IF_AVX512({{.matmul_f32 = matmul_f32_avx512}, AVX512, "avx512f"})},
        },
    },
    {
        .name = "matmul_int8", .kind = KIND_MATMUL_I8, .in_lo = -1, .in_hi = 1,
        // integer arithmetic: exact. The int8 inputs are float matrices in
        // [in_lo, in_hi] quantized per row of a and per column of b (buffers.c).
        .rtol = 0, .atol = 0,
        .tier = {
            [T_SCALAR] = {{{.matmul_i8 = matmul_i8_scalar}, 0, "x86-64"}},
            [T_AUTOVEC] = {IF_AVX2({{.matmul_i8 = matmul_i8_autovec}, AVX2_FMA, "avx2"})},
            [T_AVX2] = {IF_AVXVNNI({{.matmul_i8 = matmul_i8_avxvnni}, AVX2_FMA | CPU_AVXVNNI, "avx-vnni"}),
                           IF_AVX2({{.matmul_i8 = matmul_i8_avx2}, AVX2_FMA, "avx2 (vpmaddwd)"})},
            [T_AVX512] = {IF_AVX512VNNI({{.matmul_i8 = matmul_i8_avx512vnni},
                                            AVX512 | CPU_AVX512VNNI, "avx512-vnni"})},
        },
    },
    {
        .name = "layernorm", .kind = KIND_LAYERNORM, .in_lo = -1, .in_hi = 1,
        // u = 2^-24. y = d rstd gamma + beta with d = x - mean. The statistics
        // may be summed in float (NumPy sums pairwise, at most about 32 deep for
        // any row bmml runs): the mean is then off by up to 32 u mean|x|, which
        // d carries and rstd |gamma| scales; the variance's relative error, about
        // as large, is halved by the square root; d, rstd and the two products
        // add 4 u of |d rstd gamma|. Both fit 64 u of the reference's bound,
        // |gamma| rstd (|d| + mean|x|) (ref.c); rtol is the rounding of y itself
        // and of beta's share, 2 u. The native tiers sum x in double and take d
        // against a mean split in two floats; avx2 and avx512 sum d^2 in float
        // over chunks, no lane more than 10 roundings deep, then in double (in
        // double throughout where a chunk's float sum would overflow): the sum of squares
        // is off by at most 10 u beyond what d's rounding makes, rstd by half
        // that: a few u of the bound.
        .rtol = 0x1p-23, .atol = 0, .btol = 0x1p-18,
        .tier = {
            [T_SCALAR] = {{{.layernorm = layernorm_f32_scalar}, 0, "x86-64"}},
            [T_AUTOVEC] = {IF_AVX2({{.layernorm = layernorm_f32_autovec}, AVX2_FMA, "avx2+fma"})},
            [T_AVX2] = {IF_AVX2({{.layernorm = layernorm_f32_avx2}, AVX2_FMA, "avx2+fma"})},
            [T_AVX512] = {IF_AVX512({{.layernorm = layernorm_f32_avx512}, AVX512, "avx512f"})},
        },
    },
    {
        .name = "attention", .kind = KIND_ATTENTION, .in_lo = -1, .in_hi = 1,
        // u = 2^-24. The reference's bound (ref.c) is the error a float kernel
        // may make in units of u, (2 (dim + 2) S + 3 seq + 16) sum_j p_j |v_jc|:
        // the scores' rounding, up to (dim + 2) u S each for a score and for
        // the max it is shifted by, is a relative error of every p_j; the
        // weighted sum and the sum of p, in float, add up to seq u of their
        // terms each, and the fused tiers one rounding per block of keys (16
        // in scalar C, 256 in avx512, 512 in avx2) that raises the max, when
        // they rescale both. NumPy's composed form (sgemm, softmax in
        // float32, sgemm) makes fewer roundings than that.
        // |out| <= sum_j p_j |v_jc|, so the output's own rounding is inside it.
        .rtol = 0, .atol = 0, .btol = 0x1p-24,
        .tier = {
            [T_SCALAR] = {{{.attention = attention_f32_scalar}, 0, "x86-64"}},
            [T_AUTOVEC] = {IF_AVX2({{.attention = attention_f32_autovec}, AVX2_FMA, "avx2+fma"})},
            [T_AVX2] = {IF_AVX2({{.attention = attention_f32_avx2}, AVX2_FMA, "avx2+fma"})},
            [T_AVX512] = {IF_AVX512({{.attention = attention_f32_avx512}, AVX512, "avx512f"})},
        },
    },
};

const int n_kernels = sizeof kernels / sizeof kernels[0];

const struct kernel *kernel_find(const char *name) {
    for (int i = 0; i < n_kernels; i++) {
        if (strcmp(kernels[i].name, name) == 0) return &kernels[i];
    }
    return NULL;
}

const struct variant *variant_pick(const struct kernel *kern, int tier, unsigned cpu, enum pick *reason, char *why,
                                   size_t whylen) {
    const struct variant *v = kern->tier[tier], *last = NULL;
    for (int i = 0; i < 2; i++) {
        if (!v[i].fn.unary) continue;
        last = &v[i]; // the least demanding variant comes last
        if ((v[i].needs & cpu) == v[i].needs) {
            if (reason) *reason = PICK_OK;
            return &v[i];
        }
    }
    char names[128];
    unsigned lacks = last ? last->needs & ~cpu_features(CAP_AVX512) : 0;
    enum pick r = !last ? PICK_NOT_BUILT : !lacks ? PICK_MAX_ISA : PICK_NO_CPU;
    if (reason) *reason = r;
    if (!why) return NULL;
    if (r == PICK_NOT_BUILT) snprintf(why, whylen, "not built: the compiler lacks the flags for it");
    else if (r == PICK_MAX_ISA) snprintf(why, whylen, "excluded by --max-isa");
    else snprintf(why, whylen, "not available on this CPU: it lacks %s", cpu_feature_names(lacks, names, sizeof names));
    return NULL;
}
