// The charts, as SVG 1.1 written by hand: speedup over Python per tier, the
// speedup's decomposition into factors, and time or rate against size after
// a sweep. Every bar and line carries its own label, so no legend is needed;
// tiers differ in lightness, dash and marker as well as hue, so a greyscale
// print still tells them apart.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "config.h"
#include "report.h"
#include "svg.h"

#define WIDTH 880

struct tier_style {
    const char *colour, *dash;
    enum marker marker;
};

static const struct tier_style tier_styles[N_TIERS] = {
    [T_PYTHON] = {"#111111", "", MK_CIRCLE},
    [T_NUMPY] = {"#8c510a", "8 3", MK_SQUARE},
    [T_SCALAR] = {"#6a3d9a", "2 3", MK_TRIANGLE},
    [T_AUTOVEC] = {"#e08214", "9 3 2 3", MK_DIAMOND},
    [T_AVX2] = {"#2166ac", "", MK_OPEN_SQUARE},
    [T_AVX512] = {"#1b7837", "5 2", MK_TRIANGLE_DOWN},
    [T_BLAS] = {"#8a8a8a", "12 4", MK_CROSS},
    [T_ONEDNN] = {"#c51b7d", "3 2 8 2", MK_CROSS},
};

// the steps, darkest first, so a greyscale print still orders them
static const char *const factor_colours[N_FACTORS] = {"#253494", "#2c7fb8", "#41b6c4", "#a1dab4", "#d9d9a0"};
static const char *const factor_text[N_FACTORS] = {"#ffffff", "#ffffff", "#111111", "#111111", "#111111"};

static const char *subtitle(const struct context *ctx, const char *what, char *buf, size_t size) {
    snprintf(buf, size, "%s%s%s, %s, bmml %s%s", what, what[0] ? " on " : "", ctx->cpu_model, ctx->date,
             PACKAGE_VERSION, ctx->interrupted ? "; PARTIAL: the run was stopped" : "");
    return buf;
}

// Lines at the ticks of a across the plot from `from` to `to`, labelled
// below the plot (vertical lines) or left of it (horizontal ones).
static void grid(FILE *f, const struct log_axis *a, int vertical, double from, double to, const char *suffix) {
    double ticks[40];
    char b[32];
    int n = log_axis_ticks(a, ticks, 40);
    for (int i = 0; i < n; i++) {
        double p = log_axis_map(a, ticks[i]);
        int decade = fabs(log10(ticks[i]) - round(log10(ticks[i]))) < 1e-9;
        const char *colour = decade ? "#d0d0d0" : "#ececec";
        fmt_tick(ticks[i], b, sizeof b);
        if (vertical) {
            svg_line(f, p, from, p, to, colour, 1, NULL);
            svg_text(f, p, to + 14, 11, "middle", "#444444", "", "%s%s", b, suffix);
        } else {
            svg_line(f, from, p, to, p, colour, 1, NULL);
            svg_text(f, from - 5, p + 4, 11, "end", "#444444", "", "%s%s", b, suffix);
        }
    }
}

// "relu, 1,000,000 elements" or "matmul, 500×500×500"
static void group_head(FILE *f, const struct case_result *cr, double y) {
    char size[64];
    if (cr->kern->kind == KIND_UNARY_F32) {
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%zu", cr->shape.n), o = 0;
        for (int i = 0; i < len; i++) {
            if (i && (len - i) % 3 == 0) size[o++] = ',';
            size[o++] = digits[i];
        }
        snprintf(size + o, sizeof size - o, " elements");
    } else if (kinds[cr->kern->kind].dims == 2) {
        snprintf(size, sizeof size, "%zu\xc3\x97%zu", cr->shape.m, cr->shape.n);
    } else {
        snprintf(size, sizeof size, "%zu\xc3\x97%zu\xc3\x97%zu", cr->shape.m, cr->shape.n, cr->shape.k);
    }
    svg_text(f, 24, y + 14, 13, "start", "#111111", "font-weight=\"bold\"", "%s, %s", cr->kern->name, size);
}

// ---------------------------------------------------------------------------
// speedup.svg

// The case to chart for each kernel: after a sweep, the largest size at which
// Python ran (a speedup needs it), else the largest size.
static int chart_cases(const struct case_result *cases, int n, int *pick) {
    int k = 0;
    for (int c = 0; c < n; c++) {
        int j = 0;
        while (j < k && cases[pick[j]].kern != cases[c].kern) j++;
        if (j == k) {
            pick[k++] = c;
            continue;
        }
        int has = cases[c].decomp.total > 0, had = cases[pick[j]].decomp.total > 0;
        if (has > had || (has == had && cases[c].work > cases[pick[j]].work)) pick[j] = c;
    }
    return k;
}

static int swept(const struct case_result *cases, int n) {
    int pick[64];
    return chart_cases(cases, n < 64 ? n : 64, pick) < n;
}

static void speedup_range(const struct case_result *cases, const int *pick, int k, double *lo, double *hi) {
    *lo = *hi = 1;
    for (int i = 0; i < k; i++) {
        const struct case_result *cr = &cases[pick[i]];
        for (int t = 0; t < cr->n_tiers; t++) {
            const struct tier_result *r = &cr->tiers[t];
            if (r->status != ST_OK || r->speedup <= 0 || r->tier == T_PYTHON) continue;
            double a = isfinite(r->speedup_lo) && r->speedup_lo > 0 ? r->speedup_lo : r->speedup;
            double b = isfinite(r->speedup_hi) && r->speedup_hi > 0 ? r->speedup_hi : r->speedup;
            *lo = fmin(*lo, fmin(a, r->speedup));
            *hi = fmax(*hi, fmax(b, r->speedup));
        }
    }
}

enum { BAR_H = 16, BAR_GAP = 5, GROUP_HEAD = 26, PLOT_TOP = 96, LABEL_W = 150 };

static int speedup_rows(const struct case_result *cr) {
    int rows = 0;
    for (int t = 0; t < cr->n_tiers; t++) rows += cr->tiers[t].tier != T_PYTHON;
    return rows;
}

static void speedup_bar(FILE *f, const struct log_axis *a, const struct tier_result *r, double y) {
    const struct tier_style *s = &tier_styles[r->tier];
    double x1 = log_axis_map(a, 1), cy = y + BAR_H / 2.0;
    char v[32];
    svg_text(f, LABEL_W + 10, cy + 4, 12, "end", "#222222", "", "%s", tier_names[r->tier]);
    if (r->status != ST_OK || r->speedup <= 0) {
        const char *why = r->status == ST_FAILED        ? "FAILED"
                          : r->status == ST_UNAVAILABLE ? "not available"
                          : r->status == ST_INTERRUPTED ? "stopped"
                                                        : "no Python time";
        svg_text(f, x1 + 6, cy + 4, 11, "start", "#777777", "font-style=\"italic\"", "%s: %.70s", why, r->note);
        return;
    }
    double x = log_axis_map(a, r->speedup), end = x;
    svg_rect(f, fmin(x1, x), y, fabs(x - x1), BAR_H, s->colour, NULL);
    if (isfinite(r->speedup_lo) && isfinite(r->speedup_hi) && r->speedup_lo > 0) {
        double l = log_axis_map(a, r->speedup_lo), h = log_axis_map(a, r->speedup_hi);
        svg_line(f, l, cy, h, cy, "#000000", 1.2, NULL);
        svg_line(f, l, cy - 4, l, cy + 4, "#000000", 1.2, NULL);
        svg_line(f, h, cy - 4, h, cy + 4, "#000000", 1.2, NULL);
        end = fmax(end, h);
    }
    svg_text(f, fmax(end, x1) + 5, cy + 4, 11, "start", "#111111", "font-weight=\"bold\"", "%s\xc3\x97",
             fmt_sig(r->speedup, v, sizeof v));
}

static void speedup_svg(FILE *f, const struct context *ctx, const struct case_result *cases, int n) {
    int pick[64], k = chart_cases(cases, n < 64 ? n : 64, pick), rows = 0;
    for (int i = 0; i < k; i++) rows += speedup_rows(&cases[pick[i]]);
    int height = PLOT_TOP + k * GROUP_HEAD + rows * (BAR_H + BAR_GAP) + 70;
    double lo, hi;
    speedup_range(cases, pick, k, &lo, &hi);
    struct log_axis a;
    log_axis_fit(&a, lo, hi, LABEL_W + 20, WIDTH - 80);
    char sub[300];
    svg_open(f, WIDTH, height);
    svg_title(f, "Speedup over pure Python, per tier", subtitle(ctx, swept(cases, n) ? "largest size of each kernel that Python ran" : "", sub, sizeof sub));
    double bottom = height - 52;
    grid(f, &a, 1, PLOT_TOP - 10, bottom, "\xc3\x97");
    double x1 = log_axis_map(&a, 1);
    svg_line(f, x1, PLOT_TOP - 18, x1, bottom, "#111111", 1.5, NULL);
    svg_text(f, x1, PLOT_TOP - 22, 11, "middle", "#111111", "", "Python = 1\xc3\x97");
    double y = PLOT_TOP;
    for (int i = 0; i < k; i++) {
        const struct case_result *cr = &cases[pick[i]];
        group_head(f, cr, y);
        y += GROUP_HEAD;
        for (int t = 0; t < cr->n_tiers; t++) {
            if (cr->tiers[t].tier == T_PYTHON) continue;
            speedup_bar(f, &a, &cr->tiers[t], y);
            y += BAR_H + BAR_GAP;
        }
    }
    svg_text(f, (a.p0 + a.p1) / 2, height - 18, 12, "middle", "#222222", "",
             "speedup: Python's median time / the tier's (log scale); whiskers: 95%% bootstrap interval, or the whole range of the repetitions (95%% or more from 7 a side)");
    svg_close(f);
}

// ---------------------------------------------------------------------------
// decomposition.svg

struct step {
    int factor, from, to;
    double start, end; // cumulative speedup before and after
};

// The steps decompose() stored, each from one cumulative speedup to the next.
static int decomposition_steps(const struct case_result *cr, struct step *s) {
    const struct decomposition *d = &cr->decomp;
    int n = 0;
    double cum = 1;
    for (int f = 0; f < N_FACTORS; f++) {
        if (d->factor[f] <= 0) continue;
        s[n++] = (struct step){f, d->from[f], d->to[f], cum, cum * d->factor[f]};
        cum *= d->factor[f];
    }
    return n;
}

enum { STEP_H = 18, STEP_GAP = 4, STEP_ROW = STEP_H + STEP_GAP + 6 };

static int decomposition_height(int steps) { return GROUP_HEAD + steps * STEP_ROW + STEP_H + 14; }

static void hatch_pattern(FILE *f) {
    fputs("<defs><pattern id=\"down\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b2182b\" stroke-width=\"3\"/></pattern></defs>\n", f);
}

static void step_row(FILE *f, const struct log_axis *a, const struct step *s, double y) {
    double x0 = log_axis_map(a, s->start), x1 = log_axis_map(a, s->end), w = fabs(x1 - x0);
    double cy = y + STEP_H / 2.0 + 4;
    int down = s->end < s->start;
    char v[32];
    svg_text(f, LABEL_W + 10, cy, 12, "end", "#222222", "", "%s", factor_names[s->factor]);
    svg_text(f, LABEL_W + 10, cy + 11, 9, "end", "#777777", "", "%s \xe2\x86\x92 %s", tier_names[s->from],
             tier_names[s->to]);
    svg_rect(f, fmin(x0, x1), y, w, STEP_H, down ? "url(#down)" : factor_colours[s->factor],
             down ? "#b2182b" : NULL);
    fmt_sig(s->end / s->start, v, sizeof v);
    if (!down && w > 46)
        svg_text(f, x0 + w / 2, cy, 11, "middle", factor_text[s->factor], "font-weight=\"bold\"", "%s\xc3\x97", v);
    else if (down) // beside the segment, on the side it came from
        svg_text(f, x0 + 5, cy, 11, "start", "#b2182b", "font-weight=\"bold\"", "%s\xc3\x97 (slower)", v);
    else svg_text(f, x1 + 5, cy, 11, "start", "#111111", "font-weight=\"bold\"", "%s\xc3\x97", v);
}

static double decomposition_group(FILE *f, const struct log_axis *a, const struct case_result *cr, double y) {
    struct step s[N_FACTORS];
    int n = decomposition_steps(cr, s);
    char v[32];
    group_head(f, cr, y);
    y += GROUP_HEAD;
    for (int i = 0; i < n; i++) {
        step_row(f, a, &s[i], y);
        // where this step ends the next begins
        if (i + 1 < n) svg_line(f, log_axis_map(a, s[i].end), y, log_axis_map(a, s[i].end), y + 2 * STEP_H + STEP_GAP,
                                "#555555", 1, "2 2");
        y += STEP_ROW;
    }
    double x0 = log_axis_map(a, 1), x1 = log_axis_map(a, cr->decomp.total);
    svg_text(f, LABEL_W + 10, y + STEP_H / 2.0 + 4, 12, "end", "#111111", "font-weight=\"bold\"", "total");
    svg_rect(f, fmin(x0, x1), y + 3, fabs(x1 - x0), STEP_H - 6, "#333333", NULL);
    svg_text(f, fmax(x0, x1) + 5, y + STEP_H / 2.0 + 4, 11, "start", "#111111", "font-weight=\"bold\"",
             "= %s\xc3\x97  python \xe2\x86\x92 %s", fmt_sig(cr->decomp.total, v, sizeof v),
             tier_names[cr->decomp.last_tier]);
    return y + STEP_H + 14;
}

static void decomposition_svg(FILE *f, const struct context *ctx, const struct case_result *cases, int n) {
    int pick[64], k = chart_cases(cases, n < 64 ? n : 64, pick), groups = 0, any_down = 0;
    int height = PLOT_TOP + 20;
    double lo = 1, hi = 10;
    for (int i = 0; i < k; i++) {
        struct step s[N_FACTORS];
        if (!has_decomposition(&cases[pick[i]])) continue;
        int m = decomposition_steps(&cases[pick[i]], s);
        height += decomposition_height(m);
        groups++;
        for (int j = 0; j < m; j++) {
            lo = fmin(lo, s[j].end), hi = fmax(hi, s[j].end);
            any_down |= s[j].end < s[j].start;
        }
    }
    double bottom = height; // the plot ends here; the axis labels and the notes go below
    height += any_down ? 88 : 72;
    struct log_axis a;
    log_axis_fit(&a, lo, hi, LABEL_W + 20, WIDTH - 170);
    char sub[300];
    svg_open(f, WIDTH, height);
    hatch_pattern(f);
    svg_title(f, "Where the speedup over Python comes from",
              subtitle(ctx, swept(cases, n) ? "largest size of each kernel that Python ran" : "", sub, sizeof sub));
    grid(f, &a, 1, PLOT_TOP - 10, bottom, "\xc3\x97");
    double y = PLOT_TOP;
    for (int i = 0; i < k; i++) {
        if (has_decomposition(&cases[pick[i]])) y = decomposition_group(f, &a, &cases[pick[i]], y);
    }
    if (!groups)
        svg_text(f, WIDTH / 2.0, PLOT_TOP + 20, 13, "middle", "#777777", "", "no kernel ran in Python and a native tier");
    svg_text(f, 24, bottom + 40, 12, "start", "#222222", "",
             "Each step is the ratio of two tiers' median times. On the log axis their lengths add, so the steps");
    svg_text(f, 24, bottom + 55, 12, "start", "#222222", "",
             "end where the total does: the total is their product.");
    if (any_down)
        svg_text(f, 24, bottom + 72, 12, "start", "#b2182b", "",
                 "A hatched step pointing left is a factor below 1: that step made the kernel slower.");
    svg_close(f);
}

// ---------------------------------------------------------------------------
// scaling.svg

enum { PANEL_W = 440, PANEL_H = 300, PANEL_TOP = 80 };

// the elements a streaming kernel writes (element-wise: n; layernorm: m rows of n)
static double elements(const struct case_result *cr) {
    return kinds[cr->kern->kind].dims == 1 ? (double)cr->shape.n : (double)cr->shape.m * cr->shape.n;
}

// the x of a case: elements, or the side of a cube with the matmul's volume
static double case_x(const struct case_result *cr) {
    if (kinds[cr->kern->kind].streaming) return elements(cr);
    return cbrt((double)cr->shape.m * cr->shape.n * cr->shape.k);
}

// ns per element for the streaming kernels (lower is better), the rate for the others
static double tier_y(const struct case_result *cr, const struct tier_result *r) {
    if (r->status != ST_OK || r->median_ns <= 0) return NAN;
    return kinds[cr->kern->kind].streaming ? r->median_ns / elements(cr) : r->rate;
}

// the roof in the same terms: the least ns per element a copy of the bytes allows, or the peak
static double roof_y(const struct case_result *cr) {
    if (cr->roof <= 0) return NAN;
    return kinds[cr->kern->kind].streaming ? (cr->work / elements(cr)) / cr->roof : cr->roof;
}

static int by_x(const void *a, const void *b) {
    double x = case_x(*(const struct case_result *const *)a), y = case_x(*(const struct case_result *const *)b);
    return (x > y) - (x < y);
}

struct end_label {
    double y;
    const char *text, *colour;
};

static int by_y(const void *a, const void *b) {
    double x = ((const struct end_label *)a)->y, y = ((const struct end_label *)b)->y;
    return (x > y) - (x < y);
}

// Labels at the lines' right ends, pushed apart so none overlaps the next.
static void end_labels(FILE *f, struct end_label *l, int n, double x, double top, double bottom) {
    qsort(l, n, sizeof *l, by_y);
    for (int i = 1; i < n; i++) l[i].y = fmax(l[i].y, l[i - 1].y + 12);
    if (n && l[n - 1].y > bottom) l[n - 1].y = bottom;
    for (int i = n - 2; i >= 0; i--) l[i].y = fmin(l[i].y, l[i + 1].y - 12);
    for (int i = 0; i < n; i++)
        svg_text(f, x, fmax(l[i].y, top) + 4, 11, "start", l[i].colour, "font-weight=\"bold\"", "%s", l[i].text);
}

static void polyline(FILE *f, const double *px, const double *py, int n, const char *colour, const char *dash,
                     double width) {
    fputs("<polyline fill=\"none\" points=\"", f);
    for (int i = 0; i < n; i++) fprintf(f, "%s%.1f,%.1f", i ? " " : "", px[i], py[i]);
    fprintf(f, "\" stroke=\"%s\" stroke-width=\"%.2g\" stroke-linejoin=\"round\"", colour, width);
    if (dash && *dash) fprintf(f, " stroke-dasharray=\"%s\"", dash);
    fputs("/>\n", f);
}

#define MAX_SWEEP 32

static void scaling_panel(FILE *f, const struct case_result **cs, int m, double ox, double oy) {
    const struct case_result *first = cs[0];
    int unary = kinds[first->kern->kind].streaming;
    double left = ox + 62, right = ox + PANEL_W - 94, top = oy + 30, bottom = oy + PANEL_H - 46;
    double ylo = INFINITY, yhi = 0;
    for (int c = 0; c < m; c++) {
        for (int t = 0; t < cs[c]->n_tiers; t++) {
            double v = tier_y(cs[c], &cs[c]->tiers[t]);
            if (v > 0) ylo = fmin(ylo, v), yhi = fmax(yhi, v);
        }
        double r = roof_y(cs[c]);
        if (r > 0) ylo = fmin(ylo, r), yhi = fmax(yhi, r);
    }
    if (!(yhi > 0)) ylo = 1, yhi = 10;
    struct log_axis ax, ay;
    log_axis_fit(&ax, case_x(cs[0]), case_x(cs[m - 1]), left, right);
    log_axis_fit(&ay, ylo, yhi, bottom, top);
    svg_text(f, ox + 14, oy + 16, 13, "start", "#111111", "font-weight=\"bold\"", "%s: %s", first->kern->name,
             unary ? "time per element (lower is better)" : "throughput (higher is better)");
    grid(f, &ax, 1, top, bottom, "");
    grid(f, &ay, 0, left, right, "");
    svg_rect(f, left, top, right - left, bottom - top, "none", "#999999");
    int square = 1;
    for (int c = 0; c < m; c++) square &= cs[c]->shape.m == cs[c]->shape.n && cs[c]->shape.n == cs[c]->shape.k;
    svg_text(f, (left + right) / 2, bottom + 30, 11, "middle", "#222222", "", "%s",
             unary ? "elements (float32)" : square ? "matrix size n (n\xc3\x97n\xc3\x97n)" : "cube root of m\xc2\xb7n\xc2\xb7k");
    char rot[96];
    snprintf(rot, sizeof rot, "transform=\"rotate(-90 %.1f %.1f)\"", ox + 16, (top + bottom) / 2);
    svg_text(f, ox + 16, (top + bottom) / 2, 11, "middle", "#222222", rot, "%s", unary ? "ns per element" : first->unit);

    struct end_label labels[N_TIERS + 1];
    int nl = 0;
    double px[MAX_SWEEP], py[MAX_SWEEP];
    int k = 0;
    for (int c = 0; c < m; c++) {
        double r = roof_y(cs[c]);
        if (r > 0) px[k] = log_axis_map(&ax, case_x(cs[c])), py[k++] = log_axis_map(&ay, r);
    }
    if (k) {
        polyline(f, px, py, k, "#b2182b", "3 3", 1.6);
        labels[nl++] = (struct end_label){py[k - 1], unary ? "roof: copy" : "roof: peak", "#b2182b"};
    }
    for (int tier = 0; tier < N_TIERS; tier++) {
        const struct tier_style *s = &tier_styles[tier];
        k = 0;
        for (int c = 0; c < m; c++) {
            for (int t = 0; t < cs[c]->n_tiers; t++) {
                double v = cs[c]->tiers[t].tier == tier ? tier_y(cs[c], &cs[c]->tiers[t]) : NAN;
                if (v > 0) px[k] = log_axis_map(&ax, case_x(cs[c])), py[k++] = log_axis_map(&ay, v);
            }
        }
        if (!k) continue;
        polyline(f, px, py, k, s->colour, s->dash, 2);
        for (int i = 0; i < k; i++) svg_marker(f, s->marker, px[i], py[i], s->colour);
        labels[nl++] = (struct end_label){py[k - 1], tier_names[tier], s->colour};
    }
    end_labels(f, labels, nl, right + 8, top, bottom);
}

// The kernels measured at two sizes or more, each with its cases by size.
static int sweep_groups(const struct case_result *cases, int n, const struct case_result *g[][MAX_SWEEP], int *gn) {
    int k = 0;
    for (int c = 0; c < n; c++) {
        int j = 0;
        while (j < k && g[j][0]->kern != cases[c].kern) j++;
        if (j == k) {
            if (k == 8) continue;
            gn[k++] = 0;
        }
        if (gn[j] < MAX_SWEEP) g[j][gn[j]++] = &cases[c];
    }
    int kept = 0;
    for (int j = 0; j < k; j++) {
        if (gn[j] < 2) continue;
        qsort(g[j], gn[j], sizeof g[j][0], by_x);
        memmove(g[kept], g[j], sizeof g[j]);
        gn[kept++] = gn[j];
    }
    return kept;
}

static void scaling_svg(FILE *f, const struct context *ctx, const struct case_result *cases, int n) {
    const struct case_result *g[8][MAX_SWEEP];
    int gn[8], k = sweep_groups(cases, n, g, gn);
    int rows = (k + 1) / 2, height = PANEL_TOP + rows * PANEL_H + 30;
    char sub[300];
    svg_open(f, WIDTH, height);
    svg_title(f, "How each tier scales with size", subtitle(ctx, "log-log", sub, sizeof sub));
    for (int i = 0; i < k; i++)
        scaling_panel(f, g[i], gn[i], (i % 2) * PANEL_W, PANEL_TOP + (i / 2) * PANEL_H);
    svg_text(f, 24, height - 12, 11, "start", "#555555", "",
             "Medians; the roof is the fastest copy of the case's own buffers (element-wise) or the measured peak of the widest FMA/VNNI loop.");
    svg_close(f);
}

// ---------------------------------------------------------------------------
// operations.svg: where each tier's forward pass spends its time

// the categories in table order, dark and light alternating so that
// neighbours stay apart in a greyscale print
static const char *const category_colours[N_CATEGORIES] = {"#8c510a", "#dfc27d", "#2166ac", "#92c5de",
                                                           "#1b7837", "#a6dba0", "#762a83", "#c2a5cf"};
static const char *const category_text[N_CATEGORIES] = {"#ffffff", "#111111", "#ffffff", "#111111",
                                                        "#ffffff", "#111111", "#ffffff", "#111111"};

enum { OPS_BAR_X = LABEL_W + 20, OPS_BAR_W = WIDTH - OPS_BAR_X - 110 };

static int ops_rows(const struct model_result *m) {
    int rows = 0;
    for (int i = 0; i < m->n_tiers; i++) rows += model_has_op_times(&m->tiers[i]);
    return rows;
}

// One tier's pass as a bar of 100%: each category's share of the steps' time
static void ops_bar(FILE *f, const struct model_tier *t, double y) {
    double sum = 0, x = OPS_BAR_X, cy = y + BAR_H / 2.0 + 4;
    for (int k = 0; k < N_CATEGORIES; k++) sum += t->cat_ns[k];
    svg_text(f, LABEL_W + 10, cy, 12, "end", "#222222", "", "%s %s", tier_names[t->r.tier], t->int8 ? "int8" : "fp32");
    for (int k = 0; k < N_CATEGORIES && sum > 0; k++) {
        double w = OPS_BAR_W * t->cat_ns[k] / sum;
        if (w <= 0) continue;
        svg_rect(f, x, y, w, BAR_H, category_colours[k], NULL);
        if (w > 30) svg_text(f, x + w / 2, cy, 10, "middle", category_text[k], "", "%.0f%%", 100 * t->cat_ns[k] / sum);
        x += w;
    }
    char pass[32];
    fmt_time(t->pass_ns, pass, sizeof pass);
    svg_text(f, OPS_BAR_X + OPS_BAR_W + 6, cy, 11, "start", "#111111", "", "pass %s", pass);
}

static void operations_svg(FILE *f, const struct context *ctx, const struct case_result *cases, int n) {
    (void)cases, (void)n;
    int rows = 0;
    for (int m = 0; m < ctx->n_models; m++) rows += ops_rows(&ctx->models[m]);
    int height = PLOT_TOP + 30 + ctx->n_models * GROUP_HEAD + rows * (BAR_H + BAR_GAP) + 50;
    char sub[300];
    svg_open(f, WIDTH, height);
    svg_title(f, "Where the forward pass spends its time, per tier", subtitle(ctx, "", sub, sizeof sub));
    // the legend: one swatch per category, in the bars' order
    double lx = 24;
    for (int k = 0; k < N_CATEGORIES; k++) {
        svg_rect(f, lx, PLOT_TOP - 24, 12, 12, category_colours[k], NULL);
        svg_text(f, lx + 16, PLOT_TOP - 14, 11, "start", "#222222", "", "%s", category_short[k]);
        lx += 16 + 7.5 * strlen(category_short[k]) + 16;
    }
    double y = PLOT_TOP + 10;
    for (int m = 0; m < ctx->n_models; m++) {
        const struct model_result *r = &ctx->models[m];
        char title[512];
        svg_text(f, 24, y + 14, 13, "start", "#111111", "font-weight=\"bold\"", "%.110s", model_title(r, title, sizeof title));
        y += GROUP_HEAD;
        for (int i = 0; i < r->n_tiers; i++) {
            if (!model_has_op_times(&r->tiers[i])) continue;
            ops_bar(f, &r->tiers[i], y);
            y += BAR_H + BAR_GAP;
        }
    }
    if (!rows) svg_text(f, WIDTH / 2.0, PLOT_TOP + 30, 13, "middle", "#777777", "", "no model ran");
    svg_text(f, 24, height - 30, 11, "start", "#555555", "",
             "Each bar: every category's median time over the timed passes (warm-ups left out), as a share of the medians'");
    svg_text(f, 24, height - 16, 11, "start", "#555555", "",
             "sum; the host's clock read around each step of the interpreter. The pass: the median pass.");
    svg_close(f);
}

// ---------------------------------------------------------------------------

typedef void (*chart_fn)(FILE *, const struct context *, const struct case_result *, int);

static int write_chart(const char *path, chart_fn chart, const struct context *ctx, const struct case_result *cases,
                       int n) {
    struct atomic_file a;
    if (atomic_open(&a, path) < 0) return -1;
    chart(a.f, ctx, cases, n);
    return atomic_commit(&a);
}

int report_svg_speedup(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    return write_chart(path, speedup_svg, ctx, cases, n);
}

int report_svg_decomposition(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    return write_chart(path, decomposition_svg, ctx, cases, n);
}

int report_svg_operations(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    return write_chart(path, operations_svg, ctx, cases, n);
}

int report_has_sweep(const struct case_result *cases, int n) {
    const struct case_result *g[8][MAX_SWEEP];
    int gn[8];
    return sweep_groups(cases, n, g, gn) > 0;
}

int report_svg_scaling(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    return write_chart(path, scaling_svg, ctx, cases, n);
}
