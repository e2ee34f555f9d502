// Just enough SVG 1.1 for bmml's charts: text, lines, rectangles, markers
// and logarithmic axes, written straight to a FILE.
#ifndef BMML_SVG_H
#define BMML_SVG_H

#include <stdio.h>

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

void svg_open(FILE *f, int width, int height);
void svg_close(FILE *f);
// The chart's title and, below it in grey, what was measured where.
void svg_title(FILE *f, const char *title, const char *subtitle);

// anchor: "start", "middle", "end"; attrs: extra attributes, e.g. "font-weight=\"bold\"", or "".
void svg_text(FILE *f, double x, double y, int size, const char *anchor, const char *fill, const char *attrs,
              const char *fmt, ...) __attribute__((format(printf, 8, 9)));
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke, double width,
              const char *dash);
void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill, const char *stroke);

enum marker { MK_CIRCLE, MK_SQUARE, MK_TRIANGLE, MK_DIAMOND, MK_TRIANGLE_DOWN, MK_OPEN_SQUARE, MK_CROSS };
void svg_marker(FILE *f, enum marker m, double x, double y, const char *colour);

// A logarithmic axis from lo to hi (powers of ten), mapped to pixels p0..p1.
struct log_axis {
    double lo, hi, p0, p1;
};
// The decades around [min, max], both > 0.
void log_axis_fit(struct log_axis *a, double min, double max, double p0, double p1);
double log_axis_map(const struct log_axis *a, double v);
// Tick values on a: every decade, and 2 and 5 between them when the axis spans
// fewer than three decades. Returns how many, at most max.
int log_axis_ticks(const struct log_axis *a, double *ticks, int max);
// "0.5", "20", "3k", "10M": short labels for ticks.
const char *fmt_tick(double v, char *buf, size_t size);

#endif
