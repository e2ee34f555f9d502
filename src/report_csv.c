// results.csv: one row per kernel x tier x size, the columns of the JSON
// entries, quoted as RFC 4180 says (CRLF line ends, "" inside quotes).
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

static void csv_row(FILE *f, const struct case_result *cr, const struct tier_result *r) {
    char size[64], name[128];
    shape_str(cr->kern, cr->shape, size, sizeof size);
    case_label(cr->kern, r->tier, cr->shape, name, sizeof name);
    int ok = r->status == ST_OK, matmul = cr->kern->kind != KIND_UNARY_F32;
    int sp = ok && r->speedup > 0;
    const char *cells[] = {name, cr->kern->name, tier_names[r->tier], r->isa, size};
    for (int i = 0; i < 5; i++) {
        csv_str(f, cells[i]);
        fputc(',', f);
    }
    csv_size(f, cr->shape.m, matmul), fputc(',', f);
    csv_size(f, cr->shape.n, 1), fputc(',', f);
    csv_size(f, cr->shape.k, matmul), fputc(',', f);
    fprintf(f, "%s,%d,", status_names[r->status], r->repetitions);
    const double nums[] = {r->median_ns, r->min_ns, r->mad_ns, r->cv, r->rate};
    for (int i = 0; i < 5; i++) {
        csv_num(f, nums[i], ok);
        fputc(',', f);
    }
    csv_str(f, cr->unit);
    fputc(',', f);
    csv_num(f, r->pct_of_roof, ok && r->pct_of_roof > 0), fputc(',', f);
    csv_num(f, r->speedup, sp), fputc(',', f);
    csv_num(f, r->speedup_lo, sp), fputc(',', f);
    csv_num(f, r->speedup_hi, sp), fputc(',', f);
    csv_num(f, r->max_abs_err, r->status != ST_UNAVAILABLE), fputc(',', f);
    fputs(r->verified ? "true," : "false,", f);
    csv_str(f, r->note);
    fputs("\r\n", f);
}

int report_csv(const char *path, const struct case_result *cases, int n) {
    struct atomic_file a;
    if (atomic_open(&a, path) < 0) return -1;
    fputs(csv_columns, a.f);
    for (int c = 0; c < n; c++) {
        for (int i = 0; i < cases[c].n_tiers; i++) csv_row(a.f, &cases[c], &cases[c].tiers[i]);
    }
    return atomic_commit(&a);
}
