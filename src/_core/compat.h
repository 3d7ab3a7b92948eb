/* SPDX-License-Identifier: MIT */
/*
 * compat.h -- the one place that knows which CPython version offers what.
 *
 * threadprof uses only the public and the cpython/ C API. Differences between
 * the supported versions (3.11 to 3.15, with or without the GIL) are wrapped
 * here behind small inline functions so that no other file needs a
 * PY_VERSION_HEX check.
 */
#ifndef THREADPROF_COMPAT_H
#define THREADPROF_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX < 0x030B0000
#error "threadprof needs CPython 3.11 or later"
#endif

/* The critical section of an object (3.13+): a per-object lock on a
 * free-threaded build, nothing with the GIL. */
#if PY_VERSION_HEX >= 0x030D0000
#define TPROF_BEGIN_CRITICAL(op) Py_BEGIN_CRITICAL_SECTION(op)
#define TPROF_END_CRITICAL() Py_END_CRITICAL_SECTION()
#else
#define TPROF_BEGIN_CRITICAL(op) {
#define TPROF_END_CRITICAL() }
#endif

/* Member-definition names that 3.12 made public without the structmember.h
 * prefix-less spelling. */
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_T_INT T_INT
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_READONLY READONLY
#endif

/* Code objects are watched (PyCode_AddWatcher, 3.12+) rather than kept
 * alive by the function table: codewatch.h. Not on a free-threaded build,
 * where a code object may die in one thread while another reads the tree
 * that keys by it. */
#if PY_VERSION_HEX >= 0x030C0000 && !defined(Py_GIL_DISABLED)
#define TPROF_WATCH_CODE 1
#else
#define TPROF_WATCH_CODE 0
#endif

/* True when PyEval_SetProfileAllThreads exists (3.12+). */
#if PY_VERSION_HEX >= 0x030C0000
#define TPROF_HAVE_SET_PROFILE_ALL 1
#else
#define TPROF_HAVE_SET_PROFILE_ALL 0
#endif

/* The code object a frame runs, as a borrowed pointer: the frame keeps it
 * alive for as long as the frame exists. */
static inline PyCodeObject *
tprof_frame_code(PyFrameObject *frame)
{
    PyCodeObject *code = PyFrame_GetCode(frame);
    Py_DECREF(code);
    return code;
}

/* The identity of the frame the calling thread runs (the interpreter frame,
 * which for generator-like code lives inside the generator), as a key only:
 * never dereferenced. From the cpython/ thread state. */
static inline const void *
tprof_current_frame_id(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked()->current_frame;
#else
    return _PyThreadState_UncheckedGet()->cframe->current_frame;
#endif
}

/* The dict of a type, as a new reference (3.12 moved static builtin types'
 * dicts out of tp_dict). */
static inline PyObject *
tprof_type_dict(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyType_GetDict(type);
#else
    return Py_XNewRef(type->tp_dict);
#endif
}

/* A saved "current exception", so slow paths of the recorder can call the
 * C API without disturbing an exception the interpreter has in flight. */
typedef struct tprof_saved_error {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc;
#else
    PyObject *type, *value, *tb;
#endif
} tprof_saved_error;

static inline void
tprof_error_save(tprof_saved_error *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    s->exc = PyErr_GetRaisedException();
#else
    PyErr_Fetch(&s->type, &s->value, &s->tb);
#endif
}

/* Drop any new exception and put the saved one back. */
static inline void
tprof_error_restore(tprof_saved_error *s)
{
    PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(s->exc);
#else
    PyErr_Restore(s->type, s->value, s->tb);
#endif
}

/* Take the current exception (normalised) and clear it; NULL if none. */
static inline PyObject *
tprof_error_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* The referent of a weak reference as a new reference, or NULL if dead. */
static inline PyObject *
tprof_weakref_get(PyObject *ref)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *obj = NULL;
    if (PyWeakref_GetRef(ref, &obj) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return obj;
#else
    PyObject *obj = PyWeakref_GetObject(ref);
    if (obj == NULL) {
        PyErr_Clear();
        return NULL;
    }
    return obj == Py_None ? NULL : Py_NewRef(obj);
#endif
}

#if defined(__GNUC__) || defined(__clang__)
#define TPROF_LIKELY(x) __builtin_expect(!!(x), 1)
#define TPROF_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* initial-exec: the tag is read on every event, and this model makes the read
 * a single %fs-relative load instead of a call to __tls_get_addr. It costs a
 * few bytes of the static TLS surplus that glibc reserves for dlopen()ed
 * libraries. */
#define TPROF_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define TPROF_LIKELY(x) (x)
#define TPROF_UNLIKELY(x) (x)
#define TPROF_TLS _Thread_local
#endif

/* The module `name` as sys.modules holds it, imported only if it is not
 * there: stopping must work after the program broke imports (replaced
 * __import__, emptied sys.meta_path). New reference, or NULL with an
 * exception set. */
static inline PyObject *
tprof_loaded_module(const char *name)
{
    PyObject *str = PyUnicode_FromString(name);
    if (str == NULL) {
        return NULL;
    }
    PyObject *mod = PyImport_GetModule(str);
    if (mod == Py_None) {
        Py_CLEAR(mod);
    }
    if (mod == NULL && !PyErr_Occurred()) {
        mod = PyImport_Import(str);
    }
    Py_DECREF(str);
    return mod;
}

#endif /* THREADPROF_COMPAT_H */
