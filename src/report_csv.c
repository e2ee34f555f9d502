// results.csv: one row per entry of the JSON's "benchmarks" (kernel x tier x
// size, then the model's tiers), the columns of those entries, quoted as RFC
// 4180 says (CRLF line ends, "" inside quotes).
#include <math.h>
#include <string.h>

#include "atomic_file.h"
#include "report.h"

static void csv_str(FILE *f, const char *s) {
    if (!s) s = "";
    size_t len = strlen(s);
    int quote = strpbrk(s, ",\"\r\n") || (len && (s[0] == ' ' || s[len - 1] == ' '));
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

// empty where there is no value, so a spreadsheet sees a gap and not a zero
static void csv_num(FILE *f, double v, int have) {
    if (have && isfinite(v)) fprintf(f, "%.17g", v);
}

static void csv_size(FILE *f, size_t v, int have) {
    if (have) fprintf(f, "%zu", v);
}

static const char *const csv_columns =
    "name,kernel,tier,isa,size,m,n,k,status,repetitions,median_ns,min_ns,mad_ns,cv,rate,rate_unit,"
    "pct_of_roof,speedup,speedup_lo,speedup_hi,max_abs_err,verified,note\r\n";

// What names a row, before the tier's own cells: shape NULL leaves m, n, k
// empty (the model's rows), and m, k are empty for an element-wise kernel.
struct csv_id {
    const char *name, *kernel, *size, *unit;
    const struct shape *shape;
    int matmul;
    double rate, max_abs_err; // NaN: none
};

static void csv_row(FILE *f, const struct csv_id *id, const struct tier_result *r) {
    int ok = r->status == ST_OK;
    int sp = ok && r->speedup > 0;
    const char *cells[] = {id->name, id->kernel, tier_names[r->tier], r->isa, id->size};
    for (int i = 0; i < 5; i++) {
        csv_str(f, cells[i]);
        fputc(',', f);
    }
    const struct shape *s = id->shape;
    csv_size(f, s ? s->m : 0, s && id->matmul), fputc(',', f);
    csv_size(f, s ? s->n : 0, s != NULL), fputc(',', f);
    csv_size(f, s ? s->k : 0, s && id->matmul), fputc(',', f);
    fprintf(f, "%s,%d,", status_names[r->status], r->repetitions);
    const double nums[] = {r->median_ns, r->min_ns, r->mad_ns, r->cv, id->rate};
    for (int i = 0; i < 5; i++) {
        csv_num(f, nums[i], ok);
        fputc(',', f);
    }
    csv_str(f, id->unit);
    fputc(',', f);
    csv_num(f, r->pct_of_roof, ok && r->pct_of_roof > 0), fputc(',', f);
    csv_num(f, r->speedup, sp), fputc(',', f);
    csv_num(f, r->speedup_lo, sp && r->interval), fputc(',', f);
    csv_num(f, r->speedup_hi, sp && r->interval), fputc(',', f);
    csv_num(f, id->max_abs_err, r->status != ST_UNAVAILABLE), fputc(',', f);
    fputs(r->verified ? "true," : "false,", f);
    csv_str(f, r->note);
    fputs("\r\n", f);
}

static void csv_case(FILE *f, const struct case_result *cr, const struct tier_result *r) {
    char size[64], name[128];
    shape_str(cr->kern, cr->shape, size, sizeof size);
    case_label(cr->kern, r->tier, cr->shape, name, sizeof name);
    struct csv_id id = {name, cr->kern->name, size, cr->unit, &cr->shape, cr->kern->kind != KIND_UNARY_F32,
                        r->rate, r->max_abs_err};
    csv_row(f, &id, r);
}

// the model's tiers, named as in the JSON; no rate, no shape
static void csv_model(FILE *f, const struct model_result *m, const struct model_tier *t) {
    char size[128], name[160];
    model_entry_names(m, t, size, sizeof size, name, sizeof name);
    struct csv_id id = {name, "model", size, NULL, NULL, 0, NAN, NAN};
    csv_row(f, &id, &t->r);
}

int report_csv(const char *path, const struct context *ctx, const struct case_result *cases, int n) {
    struct atomic_file a;
    if (atomic_open(&a, path) < 0) return -1;
    fputs(csv_columns, a.f);
    for (int c = 0; c < n; c++) {
        for (int i = 0; i < cases[c].n_tiers; i++) csv_case(a.f, &cases[c], &cases[c].tiers[i]);
    }
    for (int m = 0; m < ctx->n_models; m++)
        for (int i = 0; i < ctx->models[m].n_tiers; i++) csv_model(a.f, &ctx->models[m], &ctx->models[m].tiers[i]);
    return atomic_commit(&a);
}
