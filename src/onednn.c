// The onednn tier (onednn.h).
#include <stdio.h>

#include "config.h"
#include "cpu.h"
#include "onednn.h"

int onednn_int8_exact(unsigned cpu, char *why, size_t whylen) {
    if (cpu & (CPU_AVX512VNNI | CPU_AVXVNNI)) return 1;
    snprintf(why, whylen, "oneDNN's int8 GEMM may saturate its 16-bit sums on a CPU without VNNI: not exact here");
    return 0;
}

#if HAVE_ONEDNN
#include <dnnl.h>
#include <omp.h>

int onednn_available(void) { return 1; }

void onednn_limit_isa(unsigned cpu) {
    dnnl_cpu_isa_t isa = (cpu & CPU_AVX512F) ? dnnl_cpu_isa_all
                         : (cpu & CPU_AVX2)  ? ((cpu & CPU_AVXVNNI) ? dnnl_cpu_isa_avx2_vnni : dnnl_cpu_isa_avx2)
                                             : dnnl_cpu_isa_sse41;
    dnnl_set_max_cpu_isa(isa); // fails, harmlessly, once a kernel was made: the first call stands
}

void onednn_set_threads(int n) { omp_set_num_threads(n); }

static int status(dnnl_status_t s, char *err, size_t errlen) {
    if (s == dnnl_success) return 0;
    snprintf(err, errlen, "oneDNN returned status %d", (int)s);
    return -1;
}

int onednn_sgemm(float *c, const float *a, const float *b, int m, int n, int k, char *err, size_t errlen) {
    return status(dnnl_sgemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n), err, errlen);
}

int onednn_gemm_s8(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k, char *err, size_t errlen) {
    const int32_t no_offset = 0;
    return status(dnnl_gemm_s8s8s32('N', 'N', 'F', m, n, k, 1.0f, a, k, 0, b, n, 0, 0.0f, c, n, &no_offset), err,
                  errlen);
}

const char *onednn_version(void) {
    static char v[64];
    const dnnl_version_t *d = dnnl_version();
    snprintf(v, sizeof v, "oneDNN %d.%d.%d", d->major, d->minor, d->patch);
    return v;
}

const char *onednn_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2-vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512-vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512-bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512-amx";
    default: return "oneDNN";
    }
}
#else
int onednn_available(void) { return 0; }
void onednn_limit_isa(unsigned cpu) { (void)cpu; }
void onednn_set_threads(int n) { (void)n; }
int onednn_sgemm(float *c, const float *a, const float *b, int m, int n, int k, char *err, size_t errlen) {
    (void)c, (void)a, (void)b, (void)m, (void)n, (void)k;
    snprintf(err, errlen, "not built");
    return -1;
}
int onednn_gemm_s8(int32_t *c, const int8_t *a, const int8_t *b, int m, int n, int k, char *err, size_t errlen) {
    (void)c, (void)a, (void)b, (void)m, (void)n, (void)k;
    snprintf(err, errlen, "not built");
    return -1;
}
const char *onednn_version(void) { return NULL; }
const char *onednn_isa(void) { return NULL; }
#endif
