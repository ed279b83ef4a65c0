/* sqpy.h -- the C half of squall's Python binding that is not generated:
 * callable references for squall.i's trampolines, the error class, and
 * the one-call request type (squall._squall.Request) with the WSGI
 * environ / ASGI scope builders.  Compiled into the SWIG extension. */
#ifndef SQUALL_SQPY_H
#define SQUALL_SQPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "squall/squall.h"

/* Callable references (squall.i's SQSW_CB_TAKE / SQSW_CB_DROP). */
void* sqpy_ref_take(PyObject* callable);
void sqpy_ref_drop(void* ref);

/* Calls into Python from the loop thread.  sqpy_call takes the GIL and
 * builds the arguments with Py_BuildValue (fmt NULL: no arguments);
 * sqpy_call_obj / sqpy_call_args need the GIL held and steal their
 * argument.  A Python exception is reported (sys.unraisablehook) and
 * cleared: it never crosses into the library. */
void sqpy_call(void* ref, const char* fmt, ...);
void sqpy_call_obj(void* ref, PyObject* arg);
void sqpy_call_args(void* ref, PyObject* args);
int sqpy_call_body(void* ref, const char* data, size_t len);

/* Strings in (str as UTF-8, bytes, None as NULL) and out (UTF-8 with
 * surrogateescape, so any byte survives). */
int sqpy_str_in(PyObject* o, const char** p, size_t* n);
PyObject* sqpy_str(const char* p, size_t n);

/* Raise squall.Error(code, squall_last_error()). */
void sqpy_raise(int code);

/* The fast server: handler(request) (mode 0), handler(request, environ)
 * (mode 1, environ a copy of template filled for PEP 3333), or
 * handler(request, scope) (mode 2, ASGI 3 http scope, template holding
 * the constant keys).  request_type is squall._squall.Request or a
 * subclass.  NULL with a Python error on failure. */
enum { SQPY_MODE_NATIVE = 0, SQPY_MODE_WSGI = 1, SQPY_MODE_ASGI = 2 };
squall_server* sqpy_server_new(squall_loop* loop, const squall_config* cfg, PyObject* handler,
                               int mode, PyObject* request_type, PyObject* tmpl);

/* Module init: the Request type and the helpers.  -1 on failure. */
int sqpy_init(PyObject* module);

#endif
