// results.md: the terminal table as a GitHub-flavoured Markdown table, under
// a short header naming the machine and the software measured.
#include <string.h>

#include "atomic_file.h"
#include "config.h"
#include "report.h"
#include "warn.h"

// Text as literal Markdown inside a table cell: punctuation that Markdown or
// the table would read is backslash-escaped, line breaks become spaces.
static void md_text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '\n' || *s == '\r') fputc(' ', f);
        else if (strchr("\\|*_`[]<>#~", *s)) fprintf(f, "\\%c", *s);
        else fputc(*s, f);
    }
}

static void md_header(FILE *f, const struct context *ctx) {
    char line[512];
    fputs("# bmml-host results\n\n", f);
    fputs("- **Machine:** ", f);
    md_text(f, ctx->cpu_model);
    fprintf(f, ", %d cores, %s, governor %s\n", ctx->cores, ctx->kernel, ctx->governor);
    fputs("- **Software:** Python ", f);
    md_text(f, ctx->python_version);
    if (ctx->numpy_version[0]) fprintf(f, ", NumPy %s", ctx->numpy_version);
    if (ctx->blas_config) {
        fputs(", ", f);
        md_text(f, ctx->blas_config);
    }
    fputs(", ", f);
    md_text(f, ctx->compiler);
    fprintf(f, ", %s build, bmml %s\n", ctx->build, PACKAGE_VERSION);
    fprintf(f, "- **Date:** %s, seed %llu\n", ctx->date, ctx->seed);
    if (ctx->interrupted) fprintf(f, "- **Partial:** the run was stopped by signal %d; what finished is below\n", ctx->interrupted);
    if (roofline_str(ctx->roof, line, sizeof line)[0]) {
        fputs("- **Roofline:** ", f);
        md_text(f, line + strlen("roofline, "));
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void md_row(FILE *f, const struct case_result *cr, const struct tier_result *r) {
    struct tier_cells c;
    tier_cells(cr, r, &c);
    fprintf(f, "| %s | %s | ", cr->kern->name, tier_names[r->tier]);
    md_text(f, r->isa ? r->isa : "-");
    fprintf(f, " | %s | ", c.size);
    if (r->status != ST_OK) {
        fputs("- | - | - | - | - | - | - | ", f);
        fputs(r->status == ST_FAILED ? "**FAILED**: " : r->status == ST_INTERRUPTED ? "**STOPPED**: " : "unavailable: ", f);
        md_text(f, r->note);
        fputs(" |\n", f);
        return;
    }
    const char *cells[] = {c.median, c.min, c.mad, c.cv, c.rate, c.roof, c.speedup, c.check};
    for (int i = 0; i < 8; i++) {
        md_text(f, cells[i]);
        fputs(" | ", f);
    }
    fputs("\n", f);
}

static void md_decomposition(FILE *f, const struct case_result *cases, int n) {
    char line[512];
    int any = 0;
    for (int ci = 0; ci < n; ci++) any |= has_decomposition(&cases[ci]);
    if (!any) return;
    fputs("\n## Where the speedup comes from\n\nRatios of medians; they multiply to the total.\n\n", f);
    for (int ci = 0; ci < n; ci++) {
        if (!has_decomposition(&cases[ci])) continue;
        fputs("- ", f);
        md_text(f, decomposition_str(&cases[ci], line, sizeof line));
        fputc('\n', f);
    }
}

static void md_model(FILE *f, const struct model_result *m) {
    char title[512];
    fputs("\n## The model ", f);
    md_text(f, m->name); // the file's name: any character
    fputs("\n\n", f);
    md_text(f, model_title(m, title, sizeof title));
    fputs("\n\n| tier | path | isa | per batch | per image | speedup | accuracy | agreement | max \\|dlogit\\| | check |\n", f);
    fputs("|---|---|---|--:|--:|--:|--:|--:|--:|---|\n", f);
    for (int i = 0; i < m->n_tiers; i++) {
        const struct model_tier *t = &m->tiers[i];
        struct model_cells c;
        fprintf(f, "| %s | %s | ", tier_names[t->r.tier], t->int8 ? "int8" : "fp32");
        md_text(f, t->r.isa ? t->r.isa : "-");
        fputs(" | ", f);
        if (!model_cells(t, &c)) {
            fputs("- | - | - | - | - | - | ", f);
            md_text(f, c.check);
            fputs(" |\n", f);
            continue;
        }
        const char *cells[] = {c.batch, c.image, c.speedup, c.accuracy, c.agreement, c.logit_diff, c.check};
        for (int k = 0; k < 7; k++) {
            md_text(f, cells[k]);
            fputs(" | ", f);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nfp32 tiers must give the reference's class for every image and logits within %g of it.\n",
            m->logit_tol);
    fputs("\n### Time per operation, ", f);
    md_text(f, m->name);
    fputs("\n\n| tier | path |", f);
    for (int k = 0; k < N_CATEGORIES; k++) fprintf(f, " %s |", category_short[k]);
    fputs(" steps | pass | gap |\n|---|---|", f);
    for (int k = 0; k < N_CATEGORIES + 3; k++) fputs("--:|", f);
    fputc('\n', f);
    for (int i = 0; i < m->n_tiers; i++) {
        const struct model_tier *t = &m->tiers[i];
        struct model_op_cells c;
        if (!model_op_cells(t, &c)) continue;
        fprintf(f, "| %s | %s |", tier_names[t->r.tier], t->int8 ? "int8" : "fp32");
        for (int k = 0; k < N_CATEGORIES; k++) fprintf(f, " %s |", c.share[k]);
        fprintf(f, " %s | %s | %s |\n", c.steps, c.pass, c.gap);
    }
    char note[600];
    fputc('\n', f);
    md_text(f, model_op_note(m, note, sizeof note));
    fputc('\n', f);
}

static void md_warnings(FILE *f) {
    if (!warn_count()) return;
    fputs("\n## Warnings\n\n", f);
    for (int i = 0; i < warn_count(); i++) {
        fputs("- ", f);
        md_text(f, warn_text(i));
        fputc('\n', f);
    }
}

int report_md(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    struct atomic_file a;
    if (atomic_open(&a, path) < 0) return -1;
    FILE *f = a.f;
    md_header(f, ctx);
    fputs("| kernel | tier | isa | size | median | min | MAD | CV | throughput | roof | speedup [interval] | check |\n", f);
    fputs("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n", f);
    for (int c = 0; c < n; c++) {
        for (int i = 0; i < cases[c].n_tiers; i++) md_row(f, &cases[c], &cases[c].tiers[i]);
    }
    md_decomposition(f, cases, n);
    for (int m = 0; m < ctx->n_models; m++)
        if (ctx->models[m].n_tiers) md_model(f, &ctx->models[m]);
    md_warnings(f);
    return atomic_commit(&a);
}
