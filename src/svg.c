#include <math.h>
#include <stdarg.h>

#include "svg.h"

static void escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            // XML 1.0 forbids most control characters even as references
            fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
        }
    }
}

void svg_open(FILE *f, int width, int height) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"%s\">\n",
            width, height, width, height, SVG_FONT);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
}

void svg_close(FILE *f) { fputs("</svg>\n", f); }

void svg_title(FILE *f, const char *title, const char *subtitle) {
    svg_text(f, 24, 32, 18, "start", "#111111", "font-weight=\"bold\"", "%s", title);
    svg_text(f, 24, 52, 12, "start", "#555555", "", "%s", subtitle);
}

void svg_text(FILE *f, double x, double y, int size, const char *anchor, const char *fill, const char *attrs,
              const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" fill=\"%s\" %s>", x, y, size, anchor,
            fill, attrs);
    escaped(f, buf);
    fputs("</text>\n", f);
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke, double width,
              const char *dash) {
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.2g\"", x1, y1, x2,
            y2, stroke, width);
    if (dash && *dash) fprintf(f, " stroke-dasharray=\"%s\"", dash);
    fputs("/>\n", f);
}

void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill, const char *stroke) {
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y, w, h, fill);
    if (stroke) fprintf(f, " stroke=\"%s\" stroke-width=\"1\"", stroke);
    fputs("/>\n", f);
}

void svg_marker(FILE *f, enum marker m, double x, double y, const char *c) {
    const double r = 3.8;
    switch (m) {
    case MK_CIRCLE: fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", x, y, r, c); break;
    case MK_SQUARE: svg_rect(f, x - r, y - r, 2 * r, 2 * r, c, NULL); break;
    case MK_OPEN_SQUARE: svg_rect(f, x - r, y - r, 2 * r, 2 * r, "#ffffff", c); break;
    case MK_TRIANGLE:
    case MK_TRIANGLE_DOWN: {
        double s = m == MK_TRIANGLE ? 1 : -1;
        fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x, y - s * 1.2 * r,
                x - 1.1 * r, y + s * 0.8 * r, x + 1.1 * r, y + s * 0.8 * r, c);
        break;
    }
    case MK_DIAMOND:
        fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x, y - 1.3 * r,
                x + 1.3 * r, y, x, y + 1.3 * r, x - 1.3 * r, y, c);
        break;
    case MK_CROSS:
        svg_line(f, x - r, y - r, x + r, y + r, c, 2, NULL);
        svg_line(f, x - r, y + r, x + r, y - r, c, 2, NULL);
        break;
    }
}

void log_axis_fit(struct log_axis *a, double min, double max, double p0, double p1) {
    a->lo = pow(10, floor(log10(min) + 1e-9));
    a->hi = pow(10, ceil(log10(max) - 1e-9));
    if (a->hi <= a->lo) a->hi = a->lo * 10;
    a->p0 = p0;
    a->p1 = p1;
}

double log_axis_map(const struct log_axis *a, double v) {
    return a->p0 + (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) * (a->p1 - a->p0);
}

int log_axis_ticks(const struct log_axis *a, double *ticks, int max) {
    int n = 0, fine = a->hi / a->lo < 1e3 + 1;
    for (double d = a->lo; d <= a->hi * 1.0001 && n < max; d *= 10) {
        ticks[n++] = d;
        if (fine && d * 2 < a->hi && n + 1 < max) ticks[n++] = 2 * d, ticks[n++] = 5 * d;
    }
    return n;
}

const char *fmt_tick(double v, char *buf, size_t size) {
    static const char *const suffix[] = {"", "k", "M", "G", "T"};
    int s = 0;
    while (s < 4 && v >= 999.5) v /= 1000, s++;
    snprintf(buf, size, "%.3g%s", v, suffix[s]);
    return buf;
}
