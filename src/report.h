// Writers of results: the terminal table and JSON. They know results only.
#ifndef BMML_REPORT_H
#define BMML_REPORT_H

#include <stdio.h>

#include "context.h"
#include "kernels.h"
#include "model.h"
#include "results.h"
#include "roofline.h"


// The pieces of the terminal table, for the other human-readable reports.
const char *fmt_time(double ns, char *buf, size_t size); // "423 ms", "1.27 us"
const char *fmt_sig(double v, char *buf, size_t size);   // three significant digits
// One tier's cells as the table shows them; only size is set when the tier is not ok.
struct tier_cells {
    char size[64], median[32], min[32], mad[32], cv[16], rate[48], roof[16], speedup[128], check[300];
};
void tier_cells(const struct case_result *cr, const struct tier_result *r, struct tier_cells *c);
// 1 when the case has a native tier that ran beside Python
int has_decomposition(const struct case_result *cr);
// "relu: python -> avx512 = 120x = interpreter 48x * ...", "" without one
const char *decomposition_str(const struct case_result *cr, char *buf, size_t size);
// "CPU, 8 cores; Python 3.11.2, NumPy 1.24.2, OpenBLAS core Haswell"
const char *context_str(const struct context *ctx, char *buf, size_t size);
// "roofline, one core: ...", "" when not measured
const char *roofline_str(const struct roofline *r, char *buf, size_t size);
// "controls, median of 3 passes (moved between passes): python 1.02 ms (1.3%), ...", "" without
struct controls;
const char *controls_str(const struct controls *c, char *buf, size_t size);

// JSON pieces for every writer: a string with its escapes, a number (null
// when not finite).
void json_str(FILE *f, const char *s);
void json_num(FILE *f, double v);
// An entry of "benchmarks", the kernels' and the model's alike: open writes
// its name, Google Benchmark's fields, then kernel, tier, isa, status and
// note on one line; the writer adds its own; close writes bmml's fields of
// any tier (spread, verified, speedup and its interval, samples) and the
// closing brace.
void json_entry_open(FILE *f, const char *name, const char *kernel, const struct tier_result *r);
void json_entry_close(FILE *f, const struct tier_result *r);

// The model's table, under the kernels' (report_model.c), and its pieces
// for the other human-readable reports: the title line ("model vit.bmml:
// (8, 8) -> 10 classes in 31 ops (...); ...") and one tier's cells.
void model_report_table(FILE *f, const struct model_result *r);
const char *model_title(const struct model_result *r, char *buf, size_t size);
struct model_cells {
    char batch[32], image[32], speedup[32], accuracy[16], agreement[16], logit_diff[16], check[300];
};
// 1 with every cell set; 0 when the tier has no figures, with only check set
// ("-: why" or "FAILED: why").
int model_cells(const struct model_tier *t, struct model_cells *c);
// The time per operation (model.h's categories) of one tier: each
// category's median as a share of the medians' sum, that sum, the median
// pass, and the gap (pass - sum) / pass. 1 with every cell set; 0 when the
// tier has none to show (model_has_op_times).
extern const char *const category_short[N_CATEGORIES]; // "attn mm", ...
struct model_op_cells {
    char share[N_CATEGORIES][16], steps[32], pass[32], gap[16];
};
int model_op_cells(const struct model_tier *t, struct model_op_cells *c);
// 1 when t has a time per operation to show: it ran and passed (ST_OK),
// as every writer's rows (text, Markdown, SVG, JSON) require.
int model_has_op_times(const struct model_tier *t);
// The footnote under the time per operation: what its figures are, and what
// the clock reads around the steps add to every pass of r, the headline
// times too (r's steps x 2 reads x the measured cost of one).
const char *model_op_note(const struct model_result *r, char *buf, size_t size);
// A model tier's "size" ("vit/fp32/batch360") and entry name ("model/avx2/vit/fp32/batch360").
void model_entry_names(const struct model_result *r, const struct model_tier *t, char *size, size_t size_len,
                       char *name, size_t name_len);
// The model's tiers as entries of a "benchmarks" array, kernel "model",
// separated by ",\n" with none before the first or after the last.
void model_report_json(FILE *f, const struct model_result *r);

void report_table(FILE *f, const struct context *ctx, const struct case_result *cases, int n);
// 0, or -1 when the file could not be written (errno set).
int report_json(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// results.csv: one row per entry of the JSON's "benchmarks" (the model's
// too), RFC 4180. 0, or -1 with errno.
int report_csv(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// results.md: the table in GitHub-flavoured Markdown. 0, or -1 with errno.
int report_md(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// The charts, SVG 1.1. 0, or -1 with errno.
int report_svg_speedup(const char *path, const struct context *ctx, const struct case_result *cases, int n);
int report_svg_decomposition(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// scaling.svg needs a kernel measured at two sizes or more, as after a sweep
int report_has_sweep(const struct case_result *cases, int n);
int report_svg_scaling(const char *path, const struct context *ctx, const struct case_result *cases, int n);
// operations.svg: each model's time per operation, a stacked bar per tier. 0, or -1 with errno.
int report_svg_operations(const char *path, const struct context *ctx, const struct case_result *cases, int n);

// Write results.json, results.csv, results.md, speedup.svg,
// decomposition.svg, after a sweep scaling.svg and, when a model ran,
// operations.svg into dir, making dir
// (not its parents) when it does not exist. Each file appears whole or not
// at all. 0, or -1 with the file and the reason in err.
int report_dir(const char *dir, const struct context *ctx, const struct case_result *cases, int n, char *err,
               size_t errlen);

#endif
