// OpenBLAS, the library a user would call for a matmul: the blas tier.
#ifndef BMML_BLAS_H
#define BMML_BLAS_H

// 1 when the build has OpenBLAS.
int blas_available(void);
// How many threads OpenBLAS uses: 1 unless --threads says more, as for every other tier.
void blas_set_threads(int n);
// c = a @ b through cblas_sgemm, row-major, on one thread.
void blas_sgemm(float *c, const float *a, const float *b, int m, int n, int k);
// "OpenBLAS 0.3.21 ..." and the core it chose (OPENBLAS_CORETYPE may force one), or NULL.
const char *blas_config(void);
const char *blas_corename(void);

// Whether OpenBLAS's core `core` (openblas_get_corename) lacks an instruction
// set the CPU has (cpu: CPU_* bits, cpu.h): Haswell and older on an AVX-512
// CPU, Sandybridge and older on an AVX2 one. Then 1, with the vector
// extension it lacks ("AVX-512", "AVX2") and the OPENBLAS_CORETYPE that
// matches the CPU; else 0, also for a core name it does not know.
int blas_core_fallback(const char *core, unsigned cpu, const char **lacks, const char **matching);

// The core of the OpenBLAS that NumPy's BLAS calls reach in this process
// (after numpy is imported): another OpenBLAS loaded beside the blas tier's,
// or, where NumPy's BLAS is the blas tier's own library (Debian's libblas.so.3
// links libopenblas.so.0), that one, with *shared set. NULL when no loaded
// OpenBLAS answers.
const char *blas_numpy_core(int *shared);

#endif
