#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "interrupt.h"

static volatile sig_atomic_t caught;
static void (*stop_hook)(void);
static pthread_t main_thread;

// A signal sent to the process may land on any thread that does not block
// it, OpenBLAS's workers included; only the main thread's sleep or Python
// code is interrupted by it, so a signal caught elsewhere is passed on.
static void on_signal(int sig) {
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig); // async-signal-safe
        return;
    }
    if (!caught) caught = sig;
    if (stop_hook) stop_hook();
}

void interrupt_install(void (*hook)(void)) {
    stop_hook = hook;
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    // an ignored SIGINT (a background job of a shell) stays ignored, as the
    // convention is; SIGTERM is always caught
    struct sigaction old;
    if (sigaction(SIGINT, NULL, &old) != 0 || old.sa_handler != SIG_IGN) sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    // a parent may have left them blocked; the host must hear them
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int interrupt_signal(void) { return caught; }
