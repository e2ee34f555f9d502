// Runtime dispatch needs both halves: cpuid says the CPU has an instruction
// set, xgetbv says the OS saves its registers on a context switch.
#define _GNU_SOURCE // sched_setaffinity
#include <cpuid.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu.h"

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

unsigned cpu_features(enum isa_cap cap) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    if (!osxsave) return 0;
    uint64_t xcr0 = xgetbv0();
    int os_avx = (xcr0 & 0x6) == 0x6;        // XMM and YMM state
    int os_avx512 = (xcr0 & 0xe6) == 0xe6;   // and opmask, ZMM_Hi256, Hi16_ZMM
    if (!os_avx || __get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned b7 = b, c7 = c;
    __cpuid_count(7, 1, a, b, c, d);
    unsigned a71 = a;
    if ((b7 >> 5) & 1) f |= CPU_AVX2;
    if (fma) f |= CPU_FMA;
    if ((a71 >> 4) & 1) f |= CPU_AVXVNNI;
    if (os_avx512) {
        if ((b7 >> 16) & 1) f |= CPU_AVX512F;
        if ((b7 >> 30) & 1) f |= CPU_AVX512BW;
        if ((b7 >> 31) & 1) f |= CPU_AVX512VL;
        if ((c7 >> 11) & 1) f |= CPU_AVX512VNNI;
    }
    if (cap == CAP_SCALAR) return 0;
    if (cap == CAP_AVX2) f &= CPU_AVX2 | CPU_FMA | CPU_AVXVNNI;
    return f;
}

const char *cpu_feature_names(unsigned f, char *buf, int size) {
    static const char *const names[] = {"avx2", "fma", "avx-vnni", "avx512f",
                                        "avx512bw", "avx512vl", "avx512-vnni"};
    int len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(f & (1u << i))) continue;
        int w = snprintf(buf + len, size - len, "%s%s", len ? " " : "", names[i]);
        if (w < 0 || w >= size - len) break;
        len += w;
    }
    return buf;
}

const char *cpu_model(char *buf, int size) {
    unsigned regs[12], a, b, c, d;
    if (__get_cpuid_max(0x80000000, NULL) < 0x80000004) {
        snprintf(buf, size, "unknown");
        return buf;
    }
    for (unsigned i = 0; i < 3; i++) {
        __cpuid(0x80000002 + i, a, b, c, d);
        regs[4 * i] = a, regs[4 * i + 1] = b, regs[4 * i + 2] = c, regs[4 * i + 3] = d;
    }
    char s[49];
    memcpy(s, regs, 48);
    s[48] = '\0';
    char *p = s;
    while (*p == ' ') p++;
    size_t len = strlen(p);
    while (len && p[len - 1] == ' ') p[--len] = '\0';
    snprintf(buf, size, "%s", p);
    return buf;
}

int cpu_allowed(int c) {
    cpu_set_t allowed;
    return c >= 0 && c < CPU_SETSIZE && sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_ISSET(c, &allowed);
}

int cpu_pin(int c) {
    cpu_set_t allowed, one;
    if (c < 0 && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (int i = 0; i < CPU_SETSIZE && c < 0; i++) c = CPU_ISSET(i, &allowed) ? i : -1;
    if (c < 0) {
        errno = EINVAL;
        return -1;
    }
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? c : -1;
}
