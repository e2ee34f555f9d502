#include "config.h"
#include "blas.h"

#if HAVE_OPENBLAS
#include <cblas.h>

int blas_available(void) { return 1; }
void blas_set_threads(int n) { openblas_set_num_threads(n); }

void blas_sgemm(float *c, const float *a, const float *b, int m, int n, int k) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

const char *blas_config(void) { return openblas_get_config(); }
const char *blas_corename(void) { return openblas_get_corename(); }
#else
int blas_available(void) { return 0; }
void blas_set_threads(int n) { (void)n; }
void blas_sgemm(float *c, const float *a, const float *b, int m, int n, int k) {
    (void)c, (void)a, (void)b, (void)m, (void)n, (void)k;
}
const char *blas_config(void) { return 0; }
const char *blas_corename(void) { return 0; }
#endif
