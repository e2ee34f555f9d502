// Warnings about the measurement itself, as Google Benchmark and pyperf give
// them: kept for the end of the run (stderr) and for the JSON.

#include <stdio.h>
#ifndef BMML_WARN_H
#define BMML_WARN_H

void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_print(FILE *f);
int warn_count(void);
const char *warn_text(int i);

#endif
