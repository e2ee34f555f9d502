#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"

static volatile sig_atomic_t caught;
static void (*stop_hook)(void);
static int (*force_hook)(void);
static pthread_t main_thread;
static sem_t wake; // posted at each signal, for the watchdog

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
    sem_post(&wake); // async-signal-safe
}

// until the next signal or INTERRUPT_GRACE_S seconds, whichever comes first
static void wait_signal_or_grace(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += INTERRUPT_GRACE_S;
    while (sem_timedwait(&wake, &t) != 0 && errno == EINTR) continue;
}

// After the first signal, Python code that swallows KeyboardInterrupt (an
// `except BaseException: pass` in a loop) would run on: a second signal or
// the grace makes force_hook stop it harder, and if even that fails, the
// process ends here, saying so.
static void *watchdog(void *unused) {
    (void)unused;
    while (sem_wait(&wake) != 0) continue;
    wait_signal_or_grace();
    if (!force_hook()) return NULL; // no Python call runs: the main thread is on its way out
    wait_signal_or_grace();
    if (!force_hook()) return NULL;
    static const char msg[] = "bmml-host: the Python code does not stop; exiting without the reports\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(128 + caught);
}

void interrupt_install(void (*hook)(void), int (*force)(void)) {
    stop_hook = hook;
    force_hook = force;
    main_thread = pthread_self();
    sem_init(&wake, 0, 0);
    pthread_t t;
    if (force && pthread_create(&t, NULL, watchdog, NULL) == 0) pthread_detach(t);
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
