// The embedded interpreter, as the CPython embedding docs describe it:
// an isolated configuration, started once, every reference accounted for.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "embed.h"

struct py_call {
    PyObject *fn;          // new reference
    PyObject *args;        // new reference: the argument tuple
    PyObject *views[8];    // borrowed from args: released when the call is freed
    Py_ssize_t shapes[8];  // a memoryview copies shape, but keep it alive anyway
    int nviews;
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
    status = Py_PreInitialize(&pre);
    if (PyStatus_Exception(status)) goto fail;

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    // Python's own SIGINT handler makes PyErr_SetInterruptEx work; the host
    // then puts its handler in front (interrupt.c) and forwards to Python
    config.install_signal_handlers = 1;
    config.write_bytecode = 0;          // leave the scripts directory as it was
    status = Py_InitializeFromConfig(&config);
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
        "        labs(-1)\n";
    PyObject *mod = PyImport_AddModule("_bmml"); /* borrowed */
    PyObject *r = mod ? PyRun_String(helpers, Py_file_input, PyModule_GetDict(mod), PyModule_GetDict(mod)) : NULL;
    if (!r) {
        report_exception(err, errlen);
        return -1;
    }
    Py_DECREF(r);
    return 0;
fail:
    errf(err, errlen, "Python could not start: %s%s", status.err_msg ? status.err_msg : "unknown error", "");
    return -1;
}

void embed_stop(void) {
    if (Py_IsInitialized()) Py_FinalizeEx();
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

// A writable, one-dimensional memoryview of count elements over p. With no
// exporting object, releasing the view marks it released: any later use from
// Python raises ValueError instead of touching freed memory.
static PyObject *view_new(void *p, size_t count, char format, Py_ssize_t *shape) {
    const char *fmt = format == 'f' ? "f" : format == 'b' ? "b" : "i"; // static: the view keeps it
    Py_ssize_t itemsize = format == 'f' ? 4 : format == 'b' ? 1 : 4;
    *shape = (Py_ssize_t)count;
    Py_buffer info = {
        .buf = p, .obj = NULL, .len = (Py_ssize_t)count * itemsize, .itemsize = itemsize,
        .readonly = 0, .ndim = 1, .format = (char *)fmt, .shape = shape, .strides = NULL, // C-contiguous
    };
    return PyMemoryView_FromBuffer(&info); /* new reference */
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
            o = view_new(args[i].p, args[i].count, args[i].format, &call->shapes[call->nviews]);
            if (o) call->views[call->nviews++] = o;
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

int embed_call(struct py_call *call, char *err, size_t errlen) {
    PyObject *r = PyObject_Call(call->fn, call->args, NULL); /* new reference */
    if (!r) {
        report_exception(err, errlen);
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

void embed_call_free(struct py_call *call) {
    if (!call) return;
    for (int i = 0; i < call->nviews; i++) {
        PyObject *r = PyObject_CallMethod(call->views[i], "release", NULL); /* new reference */
        if (!r) PyErr_Clear();
        Py_XDECREF(r);
    }
    Py_XDECREF(call->args);
    Py_XDECREF(call->fn);
    free(call);
}
