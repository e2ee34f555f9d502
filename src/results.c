// The shared vocabulary's names, and what follows from results alone: the
// decomposition of the speedup and the check against the compute roof.
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "results.h"

const char *const tier_names[N_TIERS] = {"python", "numpy", "scalar", "autovec", "avx2", "avx512", "blas", "onednn"};
const char *const factor_names[N_FACTORS] = {"interpreter", "compiler", "hand SIMD", "wider vectors", "library"};
const char *const status_names[4] = {"ok", "unavailable", "failed", "interrupted"};

int tier_find(const char *name) {
    for (int t = 0; t < N_TIERS; t++) {
        if (strcmp(tier_names[t], name) == 0) return t;
    }
    return -1;
}

const char *shape_str(const struct kernel *kern, struct shape s, char *buf, size_t size) {
    switch (kinds[kern->kind].dims) {
    case 1: snprintf(buf, size, "%zu", s.n); break;
    case 2: snprintf(buf, size, "%zux%zu", s.m, s.n); break;
    default: snprintf(buf, size, "%zux%zux%zu", s.m, s.n, s.k);
    }
    return buf;
}

const char *case_label(const struct kernel *kern, int tier, struct shape s, char *buf, size_t size) {
    char sz[64];
    snprintf(buf, size, "%s/%s/%s", kern->name, tier_names[tier], shape_str(kern, s, sz, sizeof sz));
    return buf;
}

const struct tier_result *case_tier_ok(const struct case_result *cr, int tier) {
    for (int i = 0; i < cr->n_tiers; i++) {
        if (cr->tiers[i].tier == tier && cr->tiers[i].status == ST_OK) return &cr->tiers[i];
    }
    return NULL;
}

const char *factor_label(const struct decomposition *d, int f, char *buf, size_t size) {
    static const int usual[N_FACTORS][2] = {{T_PYTHON, T_SCALAR}, {T_SCALAR, T_AUTOVEC}, {T_AUTOVEC, T_AVX2},
                                            {T_AVX2, T_AVX512}, {T_AVX512, T_BLAS}};
    int usual_to = d->to[f] == usual[f][1] || (f == F_LIBRARY && tier_is_library(d->to[f]));
    if (d->from[f] == usual[f][0] && usual_to) snprintf(buf, size, "%s", factor_names[f]);
    else snprintf(buf, size, "%s->%s", tier_names[d->from[f]], tier_names[d->to[f]]);
    return buf;
}

void decompose(struct case_result *cr) {
    static const int chain[] = {T_PYTHON, T_SCALAR, T_AUTOVEC, T_AVX2, T_AVX512};
    struct decomposition *d = &cr->decomp;
    memset(d, 0, sizeof *d); // nothing of an earlier pass's, when a tier has failed since
    const struct tier_result *prev = case_tier_ok(cr, T_PYTHON);
    d->last_tier = prev ? T_PYTHON : -1;
    for (int f = 0; prev && f < 4; f++) {
        const struct tier_result *next = case_tier_ok(cr, chain[f + 1]);
        if (!next) continue; // a missing step folds into the next factor
        d->factor[f] = prev->median_ns / next->median_ns;
        d->from[f] = prev->tier, d->to[f] = next->tier; // not chain[f] when a step folded in
        prev = next;
        d->last_tier = next->tier;
    }
    // the faster library that ran
    const struct tier_result *lib = case_tier_ok(cr, T_BLAS), *onednn = case_tier_ok(cr, T_ONEDNN);
    if (!lib || (onednn && onednn->median_ns < lib->median_ns)) lib = onednn;
    if (prev && lib) {
        d->factor[F_LIBRARY] = prev->median_ns / lib->median_ns;
        d->library_fallback = lib->fallback;
        d->from[F_LIBRARY] = prev->tier, d->to[F_LIBRARY] = lib->tier;
        prev = lib;
        d->last_tier = lib->tier;
    }
    const struct tier_result *py = case_tier_ok(cr, T_PYTHON);
    d->total = py && prev ? py->median_ns / prev->median_ns : 0;
}

void roof_shares(struct case_result *cr) {
    for (int i = 0; i < cr->n_tiers; i++) {
        struct tier_result *r = &cr->tiers[i];
        if (r->status != ST_OK) continue;
        r->rate = cr->work / r->median_ns; // per ns = giga per s
        r->pct_of_roof = cr->roof > 0 ? 100 * r->rate / cr->roof : 0;
    }
}

int above_roof(const struct case_result *cr, const struct tier_result *r) {
    // NumPy and OpenBLAS pick their own instructions and threads, which may be
    // beyond the roof's (under --max-isa avx2 the fp32 roof is the AVX2 peak)
    return tier_is_native(r->tier) && cr->roof > 0 && r->status == ST_OK && r->rate > ROOF_MARGIN * cr->roof;
}

int above_compute_roof(const struct case_result *cr, const struct tier_result *r) {
    return !kinds[cr->kern->kind].streaming && above_roof(cr, r);
}
