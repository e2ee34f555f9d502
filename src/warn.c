#include <stdarg.h>
#include <stdio.h>

#include "warn.h"

#define MAX_WARNINGS 64

static char texts[MAX_WARNINGS][256];
static int count;

void warnf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (count < MAX_WARNINGS) snprintf(texts[count++], sizeof texts[0], "%s", buf);
}

void warn_print(FILE *f) {
    for (int i = 0; i < count; i++) fprintf(f, "bmml-host: warning: %s\n", texts[i]);
}

int warn_count(void) { return count; }
const char *warn_text(int i) { return i >= 0 && i < count ? texts[i] : NULL; }
