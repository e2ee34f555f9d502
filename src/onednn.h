// oneDNN, the library a user would call for a GEMM in a neural network: the
// onednn tier, beside OpenBLAS's blas tier. fp32 through dnnl_sgemm, int8
// through dnnl_gemm_s8s8s32, which is exact only where the CPU has VNNI.
#ifndef BMML_ONEDNN_H
#define BMML_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

// 1 when the build has oneDNN.
int onednn_available(void);
// Cap oneDNN at the instruction sets the run may use (cpu: CPU_* bits, cpu.h,
// as --max-isa leaves them). Before its first call, as oneDNN asks.
void onednn_limit_isa(unsigned cpu);
// How many threads oneDNN's GEMMs use (its OpenMP runtime's), as every other tier.
void onednn_set_threads(int n);
// c = a @ b, row-major. 0, or -1 with oneDNN's status in err.
int onednn_sgemm(float *c, const float *a, const float *b, int m, int n, int k, char *err, size_t errlen);
int onednn_gemm_s8(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k, char *err, size_t errlen);
// Whether the int8 GEMM is exact on a CPU with these CPU_* bits: oneDNN's
// int8 GEMM may saturate 16-bit sums without VNNI (its int8 guide). 1, or 0
// with the reason in why.
int onednn_int8_exact(unsigned cpu, char *why, size_t whylen);
// "oneDNN 2.6.3" and the widest instruction set its JIT kernels may use
// ("avx512-vnni", after oneDNN's dnnl_cpu_isa_avx512_core_vnni), or NULL.
const char *onednn_version(void);
const char *onednn_isa(void);

#endif
