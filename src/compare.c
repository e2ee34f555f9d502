// Entries are matched by (kernel, tier, size). Samples within one run are
// not independent (a slow spell of a shared machine touches a whole pass, or
// a whole run), so the unit is a pass: each side's pass medians. A change is
// called only when
//   - every pass median of one run lies beyond every pass median of the
//     other, by CMP_FLOOR at least (for 3 passes a side, 2 orders in 20 are
//     apart when nothing changed; the margin leaves out those that merely
//     touch), and
//   - the change of the medians exceeds the change of the control of the
//     row's kind of work between the two runs (the machine's state), plus a
//     noise floor: the most that control moved between the passes of either
//     run, CMP_FLOOR at least.
// A row that passes the first test and not the second moved no more than
// the machine did: it is said so, not called a change.
//
// A Python row that records its CPU time (cpu_samples_ns) is judged on that
// instead. The interpreter's speed moves with what the other core of the
// same physical core runs, by much more than a fixed loop of C does, in
// spells shorter than a pass, and time sliced to other programs falls into
// its long repetitions: so its pass medians move more than a 1.5x change of
// the work. Neither can make a repetition faster. So the unit is the row's
// fastest repetition in CPU time, over samples spread over two passes or
// more, and a change is called when the ratio of the two runs' fastest
// exceeds the change of the fastest Python control timed beside the row's
// samples (control_cpu_ns), plus CMP_PYTHON_FLOOR.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "controls.h"
#include "json_read.h"
#include "report.h"
#include "runner.h"
#include "stats.h"

// ---------------------------------------------------------------------------
// the two files

struct entry {
    const char *kernel, *tier, *size, *status;
    double median_ns;     // NaN when the tier did not run
    double *samples;
    size_t n_samples;
    double fastest_cpu;     // python: the least of cpu_samples_ns; 0 when not recorded
    double fastest_control; // the least of control_cpu_ns; 0 when not recorded
    int per_pass[MAX_PASSES]; // samples of each pass, in order
    int passes;
    int passes_recorded;  // samples_per_pass was in the file; else equal shares of the context's passes
    char unusable[128];   // why --compare cannot use the entry, "" when it can
    int matched;
};

struct run {
    struct json *doc;
    const char *path, *cpu, *date;
    struct entry *e;
    size_t n;
    int passes;           // the context's, 1 when absent
    int has_controls;
    int present[N_CONTROLS];
    double control[N_CONTROLS]; // the median over the run's passes
    double drift[N_CONTROLS];   // max / min - 1 over the passes
    double l2_bytes;      // 0 when unknown
    int estimated;        // entries whose passes were estimated
};

static void run_free(struct run *r) {
    for (size_t i = 0; i < r->n; i++) free(r->e[i].samples);
    free(r->e);
    json_free(r->doc);
    memset(r, 0, sizeof *r);
}

static int unusable(struct entry *e, const char *why) {
    snprintf(e->unusable, sizeof e->unusable, "%s", why);
    return 0;
}

// The least of a per-sample array (one number for each of n samples, each a
// positive time) into *least, 0 when the array is absent or empty; NULL, or
// what is wrong with it.
static const char *fastest_of(const struct json *a, size_t n, double *least) {
    *least = 0;
    if (!a) return NULL;
    if (a->type != JSON_ARRAY) return "cpu_samples_ns or control_cpu_ns is not an array";
    if (!a->n) return NULL;
    if (a->n != n) return "cpu_samples_ns or control_cpu_ns does not have one figure per sample";
    for (size_t k = 0; k < a->n; k++) {
        double v = json_number(&a->items[k], NAN);
        if (!(v > 0) || !isfinite(v)) return "cpu_samples_ns or control_cpu_ns holds a figure that is not a positive time";
        if (!*least || v < *least) *least = v;
    }
    return NULL;
}

// The entry's numbers; what makes them unusable goes into e->unusable. -1
// only when the entry cannot even be named, or memory could not be had.
static int read_entry(const struct run *r, size_t i, const struct json *b, struct entry *e, char *err, size_t errlen) {
    e->kernel = json_string(json_get(b, "kernel"));
    e->tier = json_string(json_get(b, "tier"));
    e->size = json_string(json_get(b, "size"));
    e->status = json_string(json_get(b, "status"));
    if (!e->kernel || !e->tier || !e->size || !e->status) {
        snprintf(err, errlen, "%s: benchmarks[%zu]: \"kernel\", \"tier\", \"size\" and \"status\" must be strings",
                 r->path, i);
        return -1;
    }
    const struct json *m = json_get(b, "median_ns");
    e->median_ns = json_number(m, NAN);
    if (strcmp(e->status, "ok") != 0) return 0; // not compared, for its status
    const struct json *s = json_get(b, "samples_ns");
    if (!s || s->type != JSON_ARRAY) return unusable(e, "no samples_ns array");
    if (!s->n) return unusable(e, "an empty samples_ns");
    if (!(e->samples = malloc(s->n * sizeof *e->samples))) {
        snprintf(err, errlen, "%s: out of memory", r->path);
        return -1;
    }
    for (size_t k = 0; k < s->n; k++) {
        if (s->items[k].type != JSON_NUMBER) return unusable(e, "a sample that is not a number");
        if (!(s->items[k].num > 0) || !isfinite(s->items[k].num)) {
            snprintf(e->unusable, sizeof e->unusable, "samples_ns[%zu] = %g is not a positive time", k, s->items[k].num);
            return 0;
        }
        e->samples[e->n_samples++] = s->items[k].num;
    }
    if (!m || m->type != JSON_NUMBER || !(e->median_ns > 0) || !isfinite(e->median_ns))
        return unusable(e, "median_ns is not a positive number");
    const char *bad = fastest_of(json_get(b, "cpu_samples_ns"), e->n_samples, &e->fastest_cpu);
    if (!bad) bad = fastest_of(json_get(b, "control_cpu_ns"), e->n_samples, &e->fastest_control);
    if (bad) return unusable(e, bad);
    const struct json *pp = json_get(b, "samples_per_pass");
    if (pp && pp->type == JSON_ARRAY && pp->n <= MAX_PASSES) {
        size_t sum = 0;
        for (size_t p = 0; p < pp->n; p++) {
            double v = json_number(&pp->items[p], -1);
            if (v < 0 || v != floor(v)) return unusable(e, "samples_per_pass holds a count that is not a whole number");
            e->per_pass[e->passes++] = (int)v;
            sum += (size_t)v;
        }
        if (sum != e->n_samples) return unusable(e, "samples_per_pass does not add up to the samples");
        e->passes_recorded = 1;
    } else if (pp) {
        return unusable(e, "samples_per_pass is not an array of at most 7 counts");
    } else { // a file from before bmml recorded the passes: equal shares, as --repetitions takes them
        e->passes = r->passes;
        for (int p = 0; p < r->passes; p++) e->per_pass[p] = pass_share((int)e->n_samples, p, r->passes);
    }
    return 0;
}

static int same_key(const struct entry *a, const struct entry *b) {
    return strcmp(a->kernel, b->kernel) == 0 && strcmp(a->tier, b->tier) == 0 && strcmp(a->size, b->size) == 0;
}

static void read_controls(struct run *r, const struct json *ctx) {
    const struct json *c = json_get(ctx, "controls");
    if (!c || c->type != JSON_OBJECT) return;
    for (int k = 0; k < N_CONTROLS; k++) {
        const struct json *s = json_get(json_get(c, control_names[k]), "samples_ns");
        if (!s || s->type != JSON_ARRAY || !s->n || s->n > MAX_PASSES) continue;
        double x[MAX_PASSES], scratch[MAX_PASSES];
        size_t n = 0;
        for (size_t p = 0; p < s->n; p++) {
            double v = json_number(&s->items[p], NAN);
            if (v > 0 && isfinite(v)) x[n++] = v;
        }
        if (n != s->n) continue; // a control with a bad figure is left out, as if absent
        r->present[k] = 1;
        r->has_controls = 1;
        r->control[k] = stats_median(x, n, scratch);
        r->drift[k] = stats_max(x, n) / stats_min(x, n) - 1;
    }
}

static int run_read(const char *path, struct run *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->path = path;
    if (!(r->doc = json_parse_file(path, err, errlen))) return -1;
    const struct json *b = json_get(r->doc, "benchmarks");
    if (!b || b->type != JSON_ARRAY) {
        snprintf(err, errlen, "%s: not bmml-host results: no \"benchmarks\" array", path);
        return -1;
    }
    const struct json *ctx = json_get(r->doc, "context");
    r->cpu = json_string(json_get(ctx, "cpu_model"));
    r->date = json_string(json_get(ctx, "date"));
    double passes = json_number(json_get(ctx, "passes"), 1);
    r->passes = passes >= 1 && passes <= MAX_PASSES ? (int)passes : 1;
    r->l2_bytes = json_number(json_get(ctx, "l2_bytes"), 0);
    read_controls(r, ctx);
    if (b->n && !(r->e = calloc(b->n, sizeof *r->e))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++, r->n++) {
        struct entry *e = &r->e[i];
        if (read_entry(r, i, &b->items[i], e, err, errlen) < 0) return r->n++, -1;
        r->estimated += e->n_samples && !e->passes_recorded && !e->unusable[0];
        for (size_t j = 0; j < i; j++) {
            if (!same_key(&r->e[j], e)) continue;
            snprintf(e->unusable, sizeof e->unusable, "benchmarks[%zu] and [%zu] name the same kernel, tier and size", j, i);
            snprintf(r->e[j].unusable, sizeof r->e[j].unusable, "%s", e->unusable);
            break;
        }
    }
    return 0;
}

static struct entry *find(struct run *r, const struct entry *key) {
    for (size_t i = 0; i < r->n; i++) {
        if (!r->e[i].matched && same_key(&r->e[i], key)) return &r->e[i];
    }
    return NULL;
}

// ---------------------------------------------------------------------------
// the comparison

int compare_control_of(const char *kernel, const char *tier, const char *size, double l2_bytes) {
    (void)kernel;
    if (strcmp(tier, "python") == 0 || strcmp(tier, "numpy") == 0) return C_PYTHON;
    // an element-wise kernel (its size one number) whose bytes pass the L2 moves memory above all
    char *end;
    double n = strtod(size, &end);
    int memory = *size && *end == '\0' && l2_bytes > 0 && 8 * n > l2_bytes;
    if (memory) return C_MEMORY;
    if (strcmp(tier, "scalar") == 0) return C_SCALAR;
    return C_SIMD;
}

// The medians of the entry's passes that have samples, into units; how many.
static int pass_medians(const struct entry *e, double *units) {
    double scratch[MAX_SAMPLES];
    size_t at = 0;
    int n = 0;
    for (int p = 0; p < e->passes; p++) {
        size_t k = (size_t)e->per_pass[p];
        if (k && at + k <= e->n_samples && k <= MAX_SAMPLES) units[n++] = stats_median(e->samples + at, k, scratch);
        at += k;
    }
    return n;
}

enum verdict { V_FASTER, V_SLOWER, V_SAME, V_MACHINE, V_TOO_FEW, V_NOT_COMPARED, V_UNUSABLE, N_VERDICTS };

static int ran(const struct entry *e) { return e && strcmp(e->status, "ok") == 0 && !e->unusable[0]; }

// A Python row on its fastest repetition in CPU time (the comment at the top).
static enum verdict compare_fastest(const struct entry *o, const struct entry *n, char *why, size_t size) {
    double ratio = n->fastest_cpu / o->fastest_cpu;
    int both = o->fastest_control && n->fastest_control;
    double machine = both ? n->fastest_control / o->fastest_control : 1;
    double times = ratio >= 1 ? ratio : 1 / ratio;
    const char *dir = ratio >= 1 ? "slower" : "faster";
    if (fabs(log(ratio)) <= log(1 + CMP_PYTHON_FLOOR)) {
        snprintf(why, size, "same: the fastest CPU time %.2fx %s, within %.0f%%", times, dir, 100 * CMP_PYTHON_FLOOR);
        return V_SAME;
    }
    if (fabs(log(ratio)) <= fabs(log(machine)) + log(1 + CMP_PYTHON_FLOOR)) {
        snprintf(why, size, "machine: the fastest CPU time %.2fx %s, no more than the python control beside it "
                 "moved (%.2fx) plus %.0f%%", times, dir, machine, 100 * CMP_PYTHON_FLOOR);
        return V_MACHINE;
    }
    if (both)
        snprintf(why, size, "%.2fx %s in the fastest CPU time (python control beside it %.2fx, floor %.0f%%)", times,
                 dir, machine, 100 * CMP_PYTHON_FLOOR);
    else
        snprintf(why, size, "%.2fx %s in the fastest CPU time (no python control beside it to allow for; floor %.0f%%)",
                 times, dir, 100 * CMP_PYTHON_FLOOR);
    return ratio >= 1 ? V_SLOWER : V_FASTER;
}

static enum verdict compare_pair(const struct run *ro, const struct run *rn, const struct entry *o,
                                 const struct entry *n, char *why, size_t size) {
    const char *uo_why = o ? o->unusable : "", *un_why = n ? n->unusable : "";
    if (*uo_why || *un_why) { // named even when the other run lacks the entry
        snprintf(why, size, "unusable: %s%s%s%s%s", *uo_why ? "in OLD, " : "", uo_why, *uo_why && *un_why ? "; " : "",
                 *un_why ? "in NEW, " : "", un_why);
        return V_UNUSABLE;
    }
    if (!o || !n) {
        snprintf(why, size, "only in %s", o ? "OLD" : "NEW");
        return V_NOT_COMPARED;
    }
    if (!ran(o) || !ran(n)) {
        snprintf(why, size, "not compared: %s in OLD, %s in NEW", o->status, n->status);
        return V_NOT_COMPARED;
    }
    double uo[MAX_PASSES], un[MAX_PASSES];
    int po = pass_medians(o, uo), pn = pass_medians(n, un);
    if (po < CMP_MIN_PASSES || pn < CMP_MIN_PASSES) {
        snprintf(why, size, "too few passes (%d and %d; --compare needs %d a side, see --passes)", po, pn,
                 CMP_MIN_PASSES);
        return V_TOO_FEW;
    }
    if (o->fastest_cpu && n->fastest_cpu) return compare_fastest(o, n, why, size);
    double ratio = n->median_ns / o->median_ns;
    // every pass of one run beyond every pass of the other, by CMP_FLOOR at least
    int slower = stats_min(un, pn) > (1 + CMP_FLOOR) * stats_max(uo, po);
    int faster = stats_max(un, pn) * (1 + CMP_FLOOR) < stats_min(uo, po);
    double times = ratio >= 1 ? ratio : 1 / ratio;
    const char *dir = ratio >= 1 ? "slower" : "faster";
    if (!slower && !faster) {
        snprintf(why, size, "same: the passes' medians overlap, or lie within %.0f%% of each other", 100 * CMP_FLOOR);
        return V_SAME;
    }
    int k = compare_control_of(n->kernel, n->tier, n->size, rn->l2_bytes ? rn->l2_bytes : ro->l2_bytes);
    int both = ro->present[k] && rn->present[k];
    double machine = both ? rn->control[k] / ro->control[k] : 1;
    // the floor: what its control moved between the passes of either run, CMP_FLOOR at least
    double floor = CMP_FLOOR;
    if (both && ro->drift[k] > floor) floor = ro->drift[k];
    if (both && rn->drift[k] > floor) floor = rn->drift[k];
    double allowed = fabs(log(machine)) + log(1 + floor);
    if (fabs(log(ratio)) <= log(1 + floor)) {
        snprintf(why, size, "same: %.2fx %s, within the noise floor (%.0f%%)", times, dir, 100 * floor);
        return V_SAME;
    }
    if (fabs(log(ratio)) <= allowed) {
        snprintf(why, size, "machine: %.2fx %s, no more than the %s control moved (%.2fx) plus %.0f%%", times, dir,
                 control_names[k], machine, 100 * floor);
        return V_MACHINE;
    }
    if (both)
        snprintf(why, size, "%.2fx %s (%s control %.2fx, floor %.0f%%)", times, dir, control_names[k], machine,
                 100 * floor);
    else
        snprintf(why, size, "%.2fx %s (no %s control to allow for; floor %.0f%%)", times, dir, control_names[k],
                 100 * floor);
    return ratio >= 1 ? V_SLOWER : V_FASTER;
}

static void print_pair(FILE *out, const struct run *ro, const struct run *rn, const struct entry *o,
                       const struct entry *n, int *counts) {
    const struct entry *k = n ? n : o;
    char why[320], a[32] = "-", b[32] = "-", ratio[32] = "-";
    enum verdict v = compare_pair(ro, rn, o, n, why, sizeof why);
    counts[v]++;
    if (ran(o)) fmt_time(o->median_ns, a, sizeof a);
    if (ran(n)) fmt_time(n->median_ns, b, sizeof b);
    if (ran(o) && ran(n)) snprintf(ratio, sizeof ratio, "%.3f", n->median_ns / o->median_ns);
    fprintf(out, "%-11s %-7s %-13s %10s %10s %8s  %s\n", k->kernel, k->tier, k->size, a, b, ratio, why);
}

// What the controls say of the two runs: how each moved between them and
// within each, or that a run has none.
static void print_controls(FILE *out, const struct run *o, const struct run *n) {
    for (int side = 0; side < 2; side++) {
        const struct run *r = side ? n : o;
        if (!r->has_controls)
            fprintf(out, "%s has no controls (a file from before bmml recorded them): no allowance is made for a "
                         "change of the machine's state; a change is judged on the passes and the %.0f%% floor alone\n",
                    side ? "NEW" : "OLD", 100 * CMP_FLOOR);
        if (r->estimated)
            fprintf(out, "%s does not record which pass took which sample: its passes are taken as equal shares of "
                         "the samples\n", side ? "NEW" : "OLD");
    }
    if (!o->has_controls || !n->has_controls) return;
    fprintf(out, "controls, NEW/OLD (moved within OLD, within NEW):");
    const char *sep = " ";
    for (int k = 0; k < N_CONTROLS; k++) {
        if (!o->present[k] || !n->present[k]) continue;
        fprintf(out, "%s%s %.3f (%.0f%%, %.0f%%)", sep, control_names[k], n->control[k] / o->control[k],
                100 * o->drift[k], 100 * n->drift[k]);
        sep = ", ";
    }
    fprintf(out, "\n");
    for (int k = 0; k < N_CONTROLS; k++) {
        if (!o->present[k] || !n->present[k]) continue;
        double moved = n->control[k] / o->control[k];
        if (fabs(log(moved)) > log(1 + CONTROL_STEADY))
            fprintf(out, "the machine's state changed between the runs: the %s control is %.2fx %s in NEW\n",
                    control_names[k], moved >= 1 ? moved : 1 / moved, moved >= 1 ? "slower" : "faster");
    }
}

int compare_main(const char *old_path, const char *new_path, FILE *out, char *err, size_t errlen) {
    struct run o, n;
    if (run_read(old_path, &o, err, errlen) < 0) {
        run_free(&o);
        return 2;
    }
    if (run_read(new_path, &n, err, errlen) < 0) {
        run_free(&o), run_free(&n);
        return 2;
    }
    fprintf(out, "OLD %s: %s, %s\nNEW %s: %s, %s\n", old_path, o.cpu ? o.cpu : "?", o.date ? o.date : "?", new_path,
            n.cpu ? n.cpu : "?", n.date ? n.date : "?");
    if (o.cpu && n.cpu && strcmp(o.cpu, n.cpu) != 0)
        fprintf(out, "the two runs are from different CPUs: the changes are the machines' as much as the code's\n");
    print_controls(out, &o, &n);
    fprintf(out, "\n%-11s %-7s %-13s %10s %10s %8s  %s\n", "kernel", "tier", "size", "old median", "new median",
            "new/old", "change (beyond the control of its kind plus a floor: native tiers by their passes' medians, "
            "python by its fastest CPU time)");
    int counts[N_VERDICTS] = {0};
    for (size_t i = 0; i < n.n; i++) {
        struct entry *match = find(&o, &n.e[i]);
        if (match) match->matched = 1;
        print_pair(out, &o, &n, match, &n.e[i], counts);
    }
    for (size_t i = 0; i < o.n; i++) {
        if (!o.e[i].matched) print_pair(out, &o, &n, &o.e[i], NULL, counts);
    }
    fprintf(out, "\n%d faster, %d slower, %d same, %d moved no more than the machine did, %d with too few passes, "
                 "%d not compared, %d unusable\n",
            counts[V_FASTER], counts[V_SLOWER], counts[V_SAME], counts[V_MACHINE], counts[V_TOO_FEW],
            counts[V_NOT_COMPARED], counts[V_UNUSABLE]);
    if (counts[V_MACHINE] && !counts[V_FASTER] && !counts[V_SLOWER])
        fprintf(out, "OLD and NEW cannot be told apart from a change of the machine's state: every row that moved "
                     "moved no more than the control of its kind\n");
    run_free(&o), run_free(&n);
    return 0;
}
