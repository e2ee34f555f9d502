// Ctrl-C and SIGTERM: the run stops within a second, reports what finished,
// and exits 130 or 143.
#ifndef BMML_INTERRUPT_H
#define BMML_INTERRUPT_H

#define INTERRUPT_GRACE_S 2 // after a signal, before stopping harder

// Catch SIGINT and SIGTERM. hook, when not NULL, is called from the handler
// to stop whatever runs (it must be async-signal-safe). force, when not NULL,
// is called from a watchdog thread at a second signal or INTERRUPT_GRACE_S
// after the first: it stops harder what still runs and returns 1, or returns
// 0 when nothing needs stopping. When it still returns 1 at the next signal
// or grace, the process ends at once with 128 + the signal, without reports.
void interrupt_install(void (*hook)(void), int (*force)(void));
// The signal that arrived, or 0.
int interrupt_signal(void);

#endif
