// Every report into one directory: JSON, CSV, Markdown and the charts.
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"

typedef int (*writer_fn)(const char *path, const struct context *ctx, const struct case_result *cases, int n);

// dir itself may be made; its parent must exist, so a typo fails rather than builds a tree
static int ensure_dir(const char *dir, char *err, size_t errlen) {
    struct stat st;
    if (mkdir(dir, 0777) == 0 || (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))) return 0;
    snprintf(err, errlen, "cannot make the report directory %s: %s", dir,
             errno == EEXIST ? "it exists and is not a directory" : strerror(errno));
    return -1;
}

int report_dir(const char *dir, const struct context *ctx, const struct case_result *cases, int n, char *err,
               size_t errlen) {
    static const struct {
        const char *name;
        writer_fn write;
        int needs; // 1: a sweep ran; 2: a model ran
    } files[] = {
        {"results.json", report_json, 0},
        {"results.csv", report_csv, 0},
        {"results.md", report_md, 0},
        {"speedup.svg", report_svg_speedup, 0},
        {"decomposition.svg", report_svg_decomposition, 0},
        {"scaling.svg", report_svg_scaling, 1},
        {"operations.svg", report_svg_operations, 2},
    };
    if (ensure_dir(dir, err, errlen) < 0) return -1;
    int sweep = report_has_sweep(cases, n);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        if (files[i].needs == 1 && !sweep) continue;
        if (files[i].needs == 2 && !ctx->n_models) continue; // the models' chart
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i].name) >= (int)sizeof path) {
            snprintf(err, errlen, "the report directory's name is too long: %s", dir);
            return -1;
        }
        if (files[i].write(path, ctx, cases, n) < 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}
