#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "embed.h"
#include "harness.h"
#include "stats.h"
#include "util.h"

extern char **environ;

// the median of 15 timings of fn's work, each divided by per
#define MEDIAN_OF(result, per, work)                     \
    do {                                                 \
        double t_[15], s_[15];                           \
        for (int i_ = 0; i_ < 15; i_++) {                \
            double t0_ = now_ns();                       \
            work;                                        \
            t_[i_] = (now_ns() - t0_) / (per);           \
        }                                                \
        result = stats_median(t_, 15, s_);               \
    } while (0)

static int spawn_python(const char *exe) {
    char *argv[] = {(char *)exe, "-I", "-S", "-c", "pass", NULL};
    pid_t pid;
    int st;
    if (posix_spawn(&pid, exe, NULL, NULL, argv, environ) != 0) return -1;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return -1;
    return 0;
}

void harness_measure(struct harness *h) {
    memset(h, 0, sizeof *h);
    h->clock_res_ns = clock_res_ns();
    h->clock_read_ns = clock_read_ns(1000);

    // an empty call with the same arguments a unary kernel gets
    float out[16], x[16];
    char err[256];
    struct py_arg args[3] = {{ARG_VIEW, out, 16, 'f', 0}, {ARG_VIEW, x, 16, 'f', 0}, {ARG_INT, NULL, 0, 0, 16}};
    struct py_call *noop = embed_call_new("_bmml", "noop", args, 3, err, sizeof err);
    if (noop) {
        MEDIAN_OF(h->empty_call_ns, 1000, for (int j = 0; j < 1000; j++) embed_call(noop, err, sizeof err));
        embed_call_free(noop);
    }

    struct py_arg n_calls = {ARG_INT, NULL, 0, 0, 1000};
    struct py_call *ct = embed_call_new("_bmml", "ctypes_loop", &n_calls, 1, err, sizeof err);
    if (ct && embed_call(ct, err, sizeof err) == 0) {
        MEDIAN_OF(h->ctypes_call_ns, 1000, embed_call(ct, err, sizeof err));
    }
    embed_call_free(ct);

    // the interpreter this libpython belongs to
    char prefix[200], version[16];
    if (embed_attr_string("sys", "base_prefix", prefix, sizeof prefix)) {
        const char *v = embed_python_version();
        int major = 0, minor = 0;
        sscanf(v, "%d.%d", &major, &minor);
        snprintf(version, sizeof version, "%d.%d", major, minor);
        snprintf(h->python_exe, sizeof h->python_exe, "%s/bin/python%s", prefix, version);
        if (access(h->python_exe, X_OK) == 0 && spawn_python(h->python_exe) == 0) {
            double t[5], s[5];
            for (int i = 0; i < 5; i++) {
                double t0 = now_ns();
                spawn_python(h->python_exe);
                t[i] = (now_ns() - t0) / 1e6;
            }
            h->subprocess_ms = stats_median(t, 5, s);
        }
    }
}
