// What this CPU and its OS can run, from cpuid and xgetbv.
#ifndef BMML_CPU_H
#define BMML_CPU_H

enum {
    CPU_AVX2 = 1u << 0,
    CPU_FMA = 1u << 1,
    CPU_AVXVNNI = 1u << 2,
    CPU_AVX512F = 1u << 3,
    CPU_AVX512BW = 1u << 4,
    CPU_AVX512VL = 1u << 5,
    CPU_AVX512VNNI = 1u << 6,
};
// what the AVX2 kernels and the compiler-vectorized (autovec) builds need
#define AVX2_FMA (CPU_AVX2 | CPU_FMA)

// Caps for --max-isa.
enum isa_cap { CAP_SCALAR, CAP_AVX2, CAP_AVX512 };

// The CPU_* bits this CPU and OS support, less what the cap excludes.
unsigned cpu_features(enum isa_cap cap);

// Space-separated names of the bits in f ("avx2 fma ..."), into buf.
const char *cpu_feature_names(unsigned f, char *buf, int size);

// The CPU's brand string, into buf.
const char *cpu_model(char *buf, int size);

// 1 when this process may run on CPU number c (its affinity allows it).
int cpu_allowed(int c);
// Keep this process on CPU c, or on the first it may use when c < 0.
// The CPU it now runs on, or -1 when none could be set (errno set).
int cpu_pin(int c);

#endif
