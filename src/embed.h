// The embedded interpreter: started once, it imports the twins and calls them
// on memoryviews over C buffers. It knows nothing of timing; for the harness
// (harness.c), which times calls, it also holds a module _bmml of empty
// functions: noop(*args) and ctypes_loop(n).
#ifndef BMML_EMBED_H
#define BMML_EMBED_H

#include <stddef.h>

// The directory that holds kernels.py: opt (--scripts-dir), then
// $BMML_SCRIPTS_DIR, then the source tree's pyscripts/ when this binary is
// the one in the build tree, then the installed copy. NULL when none has it,
// with the places tried in looked.
const char *embed_find_scripts(const char *opt, char *looked, size_t size);

// Start the interpreter with dir first on sys.path. 0 on success; otherwise
// -1 with the reason in err (and any traceback already on stderr).
int embed_start(const char *dir, char *err, size_t errlen);
// Stop the interpreter: 0; or -1, saying so on stderr, when a thread a
// script started (not a daemon) still runs EMBED_THREAD_WAIT_S after the
// call, the interpreter left running: then end the process with _exit.
#define EMBED_THREAD_WAIT_S 2
int embed_stop(void);
int embed_running(void);
// From a signal handler: make the running Python code raise KeyboardInterrupt.
void embed_interrupt(void);
// From any thread but the interpreter's: when a call (embed_call) runs, make
// every line of Python it runs from now on raise KeyboardInterrupt, which
// ends a call that swallows one, and return 1; else 0.
int embed_force_stop(void);

// The interpreter's version, "3.11.2", for the report.
const char *embed_python_version(void);
// The path of the libpython this binary runs, into buf ("" when unknown).
void embed_libpython(char *buf, size_t size);

// Import module (0), ok; the module is absent or its import raised (-1),
// with the reason in err. A module that raises prints its traceback.
int embed_import(const char *module, char *err, size_t errlen);

// The value of module.attr as a string into buf, or NULL.
const char *embed_attr_string(const char *module, const char *attr, char *buf, size_t size);

// A prepared call of module.name(views..., ints...): views over C memory,
// made once, taken back by embed_call_free.
struct py_call;

enum { ARG_VIEW, ARG_INT };
struct py_arg {
    int type;
    void *p;       // ARG_VIEW: the memory
    size_t count;  // ARG_VIEW: number of elements
    char format;   // ARG_VIEW: 'f' float32, 'b' int8, 'i' int32
    long value;    // ARG_INT
};

// NULL when module has no callable of that name (reason in err).
struct py_call *embed_call_new(const char *module, const char *name,
                               const struct py_arg *args, int nargs, char *err, size_t errlen);
// Run the call once. 0 on success; -1 when it raised, with the traceback on
// stderr and the exception's one-line text in err, or returned anything but
// None (a kernel writes its result into out), saying so in err. SystemExit raised by the
// script is caught like any other exception: it does not end the host.
int embed_call(struct py_call *call, char *err, size_t errlen);
// Release the views and free the call. 0, or the arguments whose memory a
// script still reaches (bit i: args[i]; a slice or a NumPy array over a view,
// kept past the call): the caller must never free that memory.
unsigned embed_call_free(struct py_call *call);

#endif
