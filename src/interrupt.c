#include <signal.h>
#include <string.h>

#include "interrupt.h"

static volatile sig_atomic_t caught;
static void (*stop_hook)(void);

static void on_signal(int sig) {
    if (!caught) caught = sig;
    if (stop_hook) stop_hook();
}

void interrupt_install(void (*hook)(void)) {
    stop_hook = hook;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    // a parent may have left them blocked; the host must hear them
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int interrupt_signal(void) { return caught; }
