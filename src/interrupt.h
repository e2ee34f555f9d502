// Ctrl-C and SIGTERM: the run stops within a second, reports what finished,
// and exits 130 or 143.
#ifndef BMML_INTERRUPT_H
#define BMML_INTERRUPT_H

// Catch SIGINT and SIGTERM. hook, when not NULL, is called from the handler
// to stop whatever runs (it must be async-signal-safe).
void interrupt_install(void (*hook)(void));
// The signal that arrived, or 0.
int interrupt_signal(void);

#endif
