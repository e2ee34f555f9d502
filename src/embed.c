// The embedded interpreter, as the CPython embedding docs describe it:
// an isolated configuration, started once, every reference accounted for.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "embed.h"
#include "util.h"

struct py_call {
    PyObject *fn;            // new reference
    PyObject *args;          // new reference: the argument tuple
    PyObject *views[8];      // borrowed from args: released when the call is freed
    PyObject *exporters[8];  // new references: the memory behind each view
    int view_arg[8];         // the position of each view among the arguments
    int nviews;
};

// ---------------------------------------------------------------------------
// Views over C memory that the host can take back.
//
// A memoryview made with PyMemoryView_FromBuffer can be released, and then
// raises ValueError on use; but release() does not reach a slice made from it
// (view[0:4]) nor a NumPy array over it: they share its managed buffer, which
// stays open, and they go on reading and writing the memory after the host
// has freed it. So each view is made over an exporter of our own that counts
// the buffers it has handed out: the view's, its slices' (one, shared) and any
// a script takes from view.obj. When a call is freed the host releases its
// views, revokes the exporters (no new buffers from them) and counts what is
// still exported. Nothing: the memory is the host's again. Something: a
// script still reaches it, and embed_call_free says which; the caller must
// then never free that memory. A leak, never a use after free.

struct exporter {
    PyObject_HEAD
    void *p;
    Py_ssize_t len, itemsize, shape; // bytes, bytes per element, elements
    const char *format;              // static: "f", "b" or "i"
    int exports;                     // buffers handed out and not yet released
    int revoked;                     // the call is over: no new buffers
};

static PyObject *exporter_type; // new reference, made by embed_start

#ifndef Py_TPFLAGS_DISALLOW_INSTANTIATION // Python < 3.10: an instance made from Python exports 0 bytes
#define Py_TPFLAGS_DISALLOW_INSTANTIATION 0
#endif

static int exporter_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    struct exporter *e = (struct exporter *)self;
    if (e->revoked) {
        view->obj = NULL;
        PyErr_SetString(PyExc_BufferError, "bmml-host has taken this memory back: its call is over");
        return -1;
    }
    Py_INCREF(self); // view->obj: released by exporter_releasebuffer's caller
    *view = (Py_buffer){
        .buf = e->p, .obj = self, .len = e->len, .itemsize = e->itemsize, .readonly = 0, .ndim = 1,
        .format = flags & PyBUF_FORMAT ? (char *)e->format : NULL,
        .shape = flags & PyBUF_ND ? &e->shape : NULL,
        .strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &e->itemsize : NULL, // contiguous
    };
    e->exports++;
    return 0;
}

static void exporter_releasebuffer(PyObject *self, Py_buffer *view) {
    (void)view;
    ((struct exporter *)self)->exports--;
}

static void exporter_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_Free(self);
    Py_DECREF(type); // a heap type: each instance holds a reference to it
}

static PyType_Slot exporter_slots[] = {
    {Py_bf_getbuffer, exporter_getbuffer},
    {Py_bf_releasebuffer, exporter_releasebuffer},
    {Py_tp_dealloc, exporter_dealloc},
    {0, NULL},
};

static PyType_Spec exporter_spec = {
    .name = "_bmml.memory", // what type(view.obj) says
    .basicsize = sizeof(struct exporter),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = exporter_slots,
};

static void errf(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    if (err && errlen) snprintf(err, errlen, fmt, a, b);
}

// Print the pending exception's traceback to stderr and put its text into err.
// PyErr_Print would end the process on SystemExit; PyErr_Display does not.
static void report_exception(char *err, size_t errlen) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value) PyException_SetTraceback(value, tb);
    if (type) PyErr_Display(type, value, tb);
    const char *tname = type ? ((PyTypeObject *)type)->tp_name : "error";
    PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!text) PyErr_Clear();
    if (err && errlen) {
        if (text && *text) snprintf(err, errlen, "%s: %s", tname, text);
        else snprintf(err, errlen, "%s", tname);
    }
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

int embed_start(const char *dir, char *err, size_t errlen) {
    PyStatus status;
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
#ifdef BMML_SANITIZED
    pre.allocator = PYMEM_ALLOCATOR_MALLOC; // so AddressSanitizer sees every allocation
#endif
    // The isolated configuration ignores PYTHONMALLOC: BMML_PYTHON_MALLOC=malloc
    // is its stand-in, for valgrind, which cannot see into pymalloc's arenas
    const char *alloc = getenv("BMML_PYTHON_MALLOC");
    if (alloc && strcmp(alloc, "malloc") == 0) pre.allocator = PYMEM_ALLOCATOR_MALLOC;
    status = Py_PreInitialize(&pre);
    if (PyStatus_Exception(status)) goto fail;

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    // Python's own SIGINT handler makes PyErr_SetInterruptEx work; the host
    // then puts its handler in front (interrupt.c) and forwards to Python
    config.install_signal_handlers = 1;
    config.write_bytecode = 0;          // leave the scripts directory as it was
    // Python installs its SIGINT handler only over the default one, and
    // PyErr_SetInterruptEx (embed_interrupt) needs it; a shell starts
    // background jobs with SIGINT ignored, so ignore it again afterwards
    struct sigaction old;
    int ignored = sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
    if (ignored) signal(SIGINT, SIG_DFL);
    status = Py_InitializeFromConfig(&config);
    if (ignored) signal(SIGINT, SIG_IGN);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) goto fail;

    PyObject *path = PySys_GetObject("path"); /* borrowed */
    PyObject *d = PyUnicode_DecodeFSDefault(dir); /* new reference */
    if (!path || !d || PyList_Insert(path, 0, d) < 0) {
        Py_XDECREF(d);
        report_exception(err, errlen);
        return -1;
    }
    Py_DECREF(d);
    // the host's own helpers, for measuring the harness: module _bmml
    static const char helpers[] =
        "def noop(*args):\n"
        "    pass\n"
        "def ctypes_loop(n):\n"
        "    import ctypes\n"
        "    labs = ctypes.CDLL(None).labs\n"
        "    for _ in range(n):\n"
        "        labs(-1)\n"
        "def join_threads(seconds):\n" // the names of the threads a script left that outlive the wait
        "    import threading, time\n"
        "    end = time.monotonic() + seconds\n"
        "    left = lambda: [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]\n"
        "    for t in left():\n"
        "        t.join(max(0.0, end - time.monotonic()))\n"
        "    return ', '.join(t.name for t in left() if t.is_alive())\n";
    PyObject *mod = PyImport_AddModule("_bmml"); /* borrowed */
    PyObject *r = mod ? PyRun_String(helpers, Py_file_input, PyModule_GetDict(mod), PyModule_GetDict(mod)) : NULL;
    if (!r) {
        report_exception(err, errlen);
        return -1;
    }
    Py_DECREF(r);
    if (!(exporter_type = PyType_FromSpec(&exporter_spec))) { /* new reference */
        report_exception(err, errlen);
        return -1;
    }
    return 0;
fail:
    errf(err, errlen, "Python could not start: %s%s", status.err_msg ? status.err_msg : "unknown error", "");
    return -1;
}

int embed_stop(void) {
    if (!Py_IsInitialized()) return 0;
    // Py_FinalizeEx waits for every non-daemon thread, for ever: wait a while, then leave them
    PyObject *mod = PyImport_AddModule("_bmml"); /* borrowed */
    PyObject *left = mod ? PyObject_CallMethod(mod, "join_threads", "d", (double)EMBED_THREAD_WAIT_S) : NULL; /* new */
    const char *names = left ? PyUnicode_AsUTF8(left) : NULL;
    if (names && *names) {
        fprintf(stderr, "bmml-host: a script's thread (%s) still runs %d s after the end: exiting without it\n", names,
                EMBED_THREAD_WAIT_S);
        Py_DECREF(left);
        return -1;
    }
    Py_XDECREF(left);
    PyErr_Clear();
    Py_CLEAR(exporter_type); // exporters still alive hold their own references to it
    Py_FinalizeEx();
    return 0;
}

void embed_libpython(char *buf, size_t size) {
    Dl_info info;
    if (dladdr((void *)Py_GetVersion, &info) && info.dli_fname) snprintf(buf, size, "%s", info.dli_fname);
    else if (size) buf[0] = '\0';
}

void embed_interrupt(void) {
    if (Py_IsInitialized()) PyErr_SetInterruptEx(SIGINT); // async-signal-safe
}

int embed_running(void) { return Py_IsInitialized(); }

const char *embed_python_version(void) {
    static char v[32];
    const char *s = Py_GetVersion(); // "3.11.2 (main, ...) [GCC ...]"
    size_t n = strcspn(s, " ");
    if (n >= sizeof v) n = sizeof v - 1;
    memcpy(v, s, n);
    v[n] = '\0';
    return v;
}

int embed_import(const char *module, char *err, size_t errlen) {
    PyObject *m = PyImport_ImportModule(module); /* new reference */
    if (!m) {
        if (PyErr_ExceptionMatches(PyExc_ModuleNotFoundError)) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
            const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
            errf(err, errlen, "%s%s", text ? text : "module not found", "");
            if (!text) PyErr_Clear();
            Py_XDECREF(s);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
        } else {
            report_exception(err, errlen);
        }
        return -1;
    }
    Py_DECREF(m);
    return 0;
}

const char *embed_attr_string(const char *module, const char *attr, char *buf, size_t size) {
    const char *out = NULL;
    PyObject *m = PyImport_ImportModule(module); /* new reference */
    PyObject *v = m ? PyObject_GetAttrString(m, attr) : NULL; /* new reference */
    PyObject *s = v ? PyObject_Str(v) : NULL; /* new reference */
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    if (text) {
        snprintf(buf, size, "%s", text);
        out = buf;
    }
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(v);
    Py_XDECREF(m);
    return out;
}

// A writable, one-dimensional memoryview of count elements over p, made over
// a new exporter (into *exporter, a new reference).
static PyObject *view_new(void *p, size_t count, char format, PyObject **exporter) {
    struct exporter *e = PyObject_New(struct exporter, (PyTypeObject *)exporter_type); /* new reference */
    *exporter = (PyObject *)e;
    if (!e) return NULL;
    e->p = p;
    e->format = format == 'f' ? "f" : format == 'b' ? "b" : "i";
    e->itemsize = format == 'b' ? 1 : 4;
    e->shape = (Py_ssize_t)count;
    e->len = e->shape * e->itemsize;
    e->exports = 0;
    e->revoked = 0;
    return PyMemoryView_FromObject((PyObject *)e); /* new reference; holds one buffer of e */
}

struct py_call *embed_call_new(const char *module, const char *name,
                               const struct py_arg *args, int nargs, char *err, size_t errlen) {
    struct py_call *call = calloc(1, sizeof *call);
    if (!call || nargs > 8) {
        free(call);
        errf(err, errlen, "%s%s", "out of memory", "");
        return NULL;
    }
    PyObject *m = PyImport_ImportModule(module); /* new reference */
    if (!m) {
        report_exception(err, errlen);
        free(call);
        return NULL;
    }
    call->fn = PyObject_GetAttrString(m, name); /* new reference */
    Py_DECREF(m);
    if (!call->fn || !PyCallable_Check(call->fn)) {
        PyErr_Clear();
        errf(err, errlen, "%s.py defines no function %s", module, name);
        Py_XDECREF(call->fn);
        free(call);
        return NULL;
    }
    call->args = PyTuple_New(nargs); /* new reference */
    for (int i = 0; call->args && i < nargs; i++) {
        PyObject *o;
        if (args[i].type == ARG_VIEW) {
            int v = call->nviews++;
            o = view_new(args[i].p, args[i].count, args[i].format, &call->exporters[v]);
            call->views[v] = o;
            call->view_arg[v] = i;
        } else {
            o = PyLong_FromLong(args[i].value);
        }
        if (!o) {
            report_exception(err, errlen);
            embed_call_free(call);
            return NULL;
        }
        PyTuple_SET_ITEM(call->args, i, o); /* steals o */
    }
    if (!call->args) {
        report_exception(err, errlen);
        embed_call_free(call);
        return NULL;
    }
    return call;
}

static volatile sig_atomic_t in_call; // embed_call runs Python code

// The trace embed_force_stop installs: inside a call, each new line raises
// KeyboardInterrupt, so an `except BaseException` that swallows one raises
// again at its first line, outside the try it ended.
static int raise_on_each_line(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    (void)obj, (void)frame, (void)arg;
    if (!in_call || what != PyTrace_LINE) return 0;
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    return -1;
}

static int install_stopper(void *unused) {
    (void)unused;
    PyEval_SetTrace(raise_on_each_line, NULL);
    return 0;
}

int embed_force_stop(void) {
    if (!in_call) return 0;
    Py_AddPendingCall(install_stopper, NULL); // runs in the interpreter's thread, between two bytecodes
    return 1;
}

int embed_call(struct py_call *call, char *err, size_t errlen) {
    in_call = 1;
    PyObject *r = PyObject_Call(call->fn, call->args, NULL); /* new reference */
    in_call = 0;
    if (!r) {
        report_exception(err, errlen);
        return -1;
    }
    // a result returned is a result lost: the host reads only what was written
    int returned = r != Py_None;
    if (returned)
        errf(err, errlen, "returned a value (%s%s) instead of None: a kernel writes its result into its first "
             "argument (out) and returns nothing", Py_TYPE(r)->tp_name, "");
    Py_DECREF(r);
    return returned ? -1 : 0;
}

// bit i set: the memory of argument i is still exported
static unsigned still_exported(const struct py_call *call) {
    unsigned held = 0;
    for (int i = 0; i < call->nviews; i++) {
        const struct exporter *e = (const struct exporter *)call->exporters[i];
        if (e && e->exports > 0) held |= 1u << call->view_arg[i];
    }
    return held;
}

unsigned embed_call_free(struct py_call *call) {
    if (!call) return 0;
    for (int i = 0; i < call->nviews; i++) {
        if (!call->views[i]) continue;
        // BufferError when a script holds a buffer of the view itself (NumPy's frombuffer)
        PyObject *r = PyObject_CallMethod(call->views[i], "release", NULL); /* new reference */
        if (!r) PyErr_Clear();
        Py_XDECREF(r);
    }
    Py_XDECREF(call->args); // the views go with it, unless a script keeps them
    Py_XDECREF(call->fn);
    unsigned held = still_exported(call);
    if (held) {
        PyGC_Collect(); // a cycle (an exception's traceback and its frame) may be all that holds them
        held = still_exported(call);
    }
    for (int i = 0; i < call->nviews; i++) {
        if (!call->exporters[i]) continue;
        ((struct exporter *)call->exporters[i])->revoked = 1;
        Py_DECREF(call->exporters[i]); // a buffer still exported keeps it alive
    }
    free(call);
    return held;
}

static int is_file(const char *dir, const char *name) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
    return access(path, R_OK) == 0;
}

const char *embed_find_scripts(const char *opt, char *looked, size_t size) {
    static char buf[PATH_MAX];
    looked[0] = '\0';
    if (opt) {
        snprintf(looked, size, "%s (--scripts-dir)", opt);
        return is_file(opt, "kernels.py") ? opt : NULL;
    }
    const char *env = getenv("BMML_SCRIPTS_DIR");
    if (env && *env) {
        snprintf(looked, size, "%s ($BMML_SCRIPTS_DIR)", env);
        return is_file(env, "kernels.py") ? env : NULL;
    }
    if (in_build_tree()) {
        snprintf(buf, sizeof buf, "%s/pyscripts", BMML_SRCDIR);
        snprintf(looked, size, "%s (build tree)", buf);
        if (is_file(buf, "kernels.py")) return buf;
    }
    size_t used = strlen(looked);
    snprintf(looked + used, size - used, "%s%s/pyscripts (installed)", used ? ", " : "", BMML_PKGDATADIR);
    snprintf(buf, sizeof buf, "%s/pyscripts", BMML_PKGDATADIR);
    return is_file(buf, "kernels.py") ? buf : NULL;
}
