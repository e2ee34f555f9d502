// Warnings about the measurement itself, as Google Benchmark and pyperf give
// them: printed on stderr as they arise and kept for the JSON.
#ifndef BMML_WARN_H
#define BMML_WARN_H

void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int warn_count(void);
const char *warn_text(int i);

#endif
