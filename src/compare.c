// Entries are matched by (kernel, tier, size); a change counts when the
// Mann-Whitney U test on the two runs' per-call samples rejects "same
// distribution" at MW_ALPHA: a rank test, so one slow outlier sample cannot
// make a change, nor hide one.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "json_read.h"
#include "report.h"

struct ranked {
    double v;
    int from_x;
};

static int cmp_ranked(const void *a, const void *b) {
    double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
    return (x > y) - (x < y);
}

// Sum of the ranks of x in the pooled sample, tied values sharing their mean
// rank; ties gets sum(t^3 - t) over the groups of ties.
static double rank_sum_x(struct ranked *all, size_t n, double *ties) {
    qsort(all, n, sizeof *all, cmp_ranked);
    double sum = 0;
    *ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && all[j].v == all[i].v) j++;
        double t = (double)(j - i), rank = 0.5 * (double)(i + 1 + j); // mean of ranks i+1..j
        for (size_t q = i; q < j; q++) sum += all[q].from_x ? rank : 0;
        *ties += t * t * t - t;
        i = j;
    }
    return sum;
}

int mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct mann_whitney *out) {
    memset(out, 0, sizeof *out);
    out->p = 1;
    out->too_few = nx < MW_MIN_SAMPLES || ny < MW_MIN_SAMPLES;
    if (!nx || !ny) return 0;
    size_t n = nx + ny;
    struct ranked *all = malloc(n * sizeof *all);
    if (!all) return -1;
    for (size_t i = 0; i < nx; i++) all[i] = (struct ranked){x[i], 1};
    for (size_t i = 0; i < ny; i++) all[nx + i] = (struct ranked){y[i], 0};
    double ties, r = rank_sum_x(all, n, &ties);
    free(all);
    double n1 = (double)nx, n2 = (double)ny, N = (double)n;
    out->u = r - n1 * (n1 + 1) / 2;
    double mean = n1 * n2 / 2;
    double var = n1 * n2 / 12 * ((N + 1) - ties / (N * (N - 1)));
    if (var <= 0) return 0; // every value equal: no evidence of any difference
    double d = fabs(out->u - mean) - 0.5; // continuity correction
    out->z = (d > 0 ? d : 0) / sqrt(var) * (out->u < mean ? -1 : 1);
    out->p = erfc(fabs(out->z) / sqrt(2.0));
    return 0;
}

// ---------------------------------------------------------------------------
// the two files

struct entry {
    const char *kernel, *tier, *size, *status;
    double median_ns;     // NaN when the tier did not run
    double *samples;
    size_t n_samples;
    int matched;
};

struct run {
    struct json *doc;
    const char *cpu, *date;
    struct entry *e;
    size_t n;
};

static void run_free(struct run *r) {
    for (size_t i = 0; i < r->n; i++) free(r->e[i].samples);
    free(r->e);
    json_free(r->doc);
    memset(r, 0, sizeof *r);
}

static int bad_entry(const char *path, size_t i, const char *why, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: benchmarks[%zu]: %s", path, i, why);
    return -1;
}

static int read_entry(const char *path, size_t i, const struct json *b, struct entry *e, char *err, size_t errlen) {
    e->kernel = json_string(json_get(b, "kernel"));
    e->tier = json_string(json_get(b, "tier"));
    e->size = json_string(json_get(b, "size"));
    e->status = json_string(json_get(b, "status"));
    if (!e->kernel || !e->tier || !e->size || !e->status)
        return bad_entry(path, i, "\"kernel\", \"tier\", \"size\" and \"status\" must be strings", err, errlen);
    e->median_ns = json_number(json_get(b, "median_ns"), NAN);
    const struct json *s = json_get(b, "samples_ns");
    if (!s || s->type != JSON_ARRAY) return bad_entry(path, i, "\"samples_ns\" must be an array", err, errlen);
    e->samples = malloc((s->n ? s->n : 1) * sizeof *e->samples);
    if (!e->samples) return bad_entry(path, i, "out of memory", err, errlen);
    for (size_t k = 0; k < s->n; k++) {
        if (s->items[k].type != JSON_NUMBER) return bad_entry(path, i, "\"samples_ns\" must hold numbers", err, errlen);
        e->samples[e->n_samples++] = s->items[k].num;
    }
    return 0;
}

static int run_read(const char *path, struct run *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    if (!(r->doc = json_parse_file(path, err, errlen))) return -1;
    const struct json *b = json_get(r->doc, "benchmarks");
    if (!b || b->type != JSON_ARRAY) {
        snprintf(err, errlen, "%s: not bmml-host results: no \"benchmarks\" array", path);
        return -1;
    }
    const struct json *ctx = json_get(r->doc, "context");
    r->cpu = json_string(json_get(ctx, "cpu_model"));
    r->date = json_string(json_get(ctx, "date"));
    if (b->n && !(r->e = calloc(b->n, sizeof *r->e))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++, r->n++) {
        if (read_entry(path, i, &b->items[i], &r->e[i], err, errlen) < 0) return r->n++, -1;
    }
    return 0;
}

static struct entry *find(struct run *r, const struct entry *key) {
    for (size_t i = 0; i < r->n; i++) {
        struct entry *e = &r->e[i];
        if (!e->matched && strcmp(e->kernel, key->kernel) == 0 && strcmp(e->tier, key->tier) == 0 &&
            strcmp(e->size, key->size) == 0)
            return e;
    }
    return NULL;
}

// ---------------------------------------------------------------------------
// the comparison

enum verdict { V_FASTER, V_SLOWER, V_SAME, V_TOO_FEW, V_NOT_COMPARED, N_VERDICTS };

static int ran(const struct entry *e) { return e && strcmp(e->status, "ok") == 0 && e->median_ns > 0; }

static enum verdict compare_pair(const struct entry *o, const struct entry *n, char *why, size_t size) {
    struct mann_whitney mw;
    if (!o || !n) {
        snprintf(why, size, "only in %s", o ? "OLD" : "NEW");
        return V_NOT_COMPARED;
    }
    if (!ran(o) || !ran(n)) {
        snprintf(why, size, "not compared: %s in OLD, %s in NEW", o->status, n->status);
        return V_NOT_COMPARED;
    }
    if (mann_whitney(o->samples, o->n_samples, n->samples, n->n_samples, &mw) < 0) {
        snprintf(why, size, "not compared: out of memory");
        return V_NOT_COMPARED;
    }
    if (mw.too_few) {
        snprintf(why, size, "too few samples (%zu and %zu; the test needs %d): it has little power",
                 o->n_samples, n->n_samples, MW_MIN_SAMPLES);
        return V_TOO_FEW;
    }
    int sig = mw.p < MW_ALPHA;
    enum verdict v = !sig ? V_SAME : n->median_ns < o->median_ns ? V_FASTER : V_SLOWER;
    double times = v == V_SLOWER ? n->median_ns / o->median_ns : o->median_ns / n->median_ns;
    if (sig) snprintf(why, size, "%.2fx %s (p = %.2g)", times, v == V_FASTER ? "faster" : "slower", mw.p);
    else snprintf(why, size, "not significant (p = %.2g)", mw.p);
    return v;
}

static void print_pair(FILE *out, const struct entry *o, const struct entry *n, int *counts) {
    const struct entry *k = n ? n : o;
    char why[160], a[32] = "-", b[32] = "-", ratio[32] = "-";
    enum verdict v = compare_pair(o, n, why, sizeof why);
    counts[v]++;
    if (ran(o)) fmt_time(o->median_ns, a, sizeof a);
    if (ran(n)) fmt_time(n->median_ns, b, sizeof b);
    if (ran(o) && ran(n)) snprintf(ratio, sizeof ratio, "%.3f", n->median_ns / o->median_ns);
    fprintf(out, "%-11s %-7s %-13s %10s %10s %8s  %s\n", k->kernel, k->tier, k->size, a, b, ratio, why);
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
    fprintf(out, "\n%-11s %-7s %-13s %10s %10s %8s  %s\n", "kernel", "tier", "size", "old median", "new median",
            "new/old", "change (Mann-Whitney U, two-sided, alpha 0.05)");
    int counts[N_VERDICTS] = {0};
    for (size_t i = 0; i < n.n; i++) {
        struct entry *match = find(&o, &n.e[i]);
        if (match) match->matched = 1;
        print_pair(out, match, &n.e[i], counts);
    }
    for (size_t i = 0; i < o.n; i++) {
        if (!o.e[i].matched) print_pair(out, &o.e[i], NULL, counts);
    }
    fprintf(out, "\n%d faster, %d slower, %d not significant, %d with too few samples, %d not compared\n",
            counts[V_FASTER], counts[V_SLOWER], counts[V_SAME], counts[V_TOO_FEW], counts[V_NOT_COMPARED]);
    run_free(&o), run_free(&n);
    return 0;
}
