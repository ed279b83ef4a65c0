/* sqpy.c -- see sqpy.h.  Everything here runs with the GIL held unless a
 * function says it takes it. */
#include "sqpy.h"

#include <stdarg.h>
#include <string.h>

static PyObject* error_class; /* squall.Error once registered */

/* ------------------------------------------------------------------ */
/* Errors, strings                                                     */
/* ------------------------------------------------------------------ */

void sqpy_raise(int code) {
  const char* msg = squall_last_error();
  if (msg == NULL || msg[0] == '\0') msg = squall_strerror(code);
  PyObject* cls = error_class ? error_class : PyExc_RuntimeError;
  PyObject* exc = PyObject_CallFunction(cls, "is", code, msg);
  if (exc != NULL) {
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
  }
}

int sqpy_str_in(PyObject* o, const char** p, size_t* n) {
  Py_ssize_t len = 0;
  if (o == Py_None) {
    *p = NULL;
    *n = 0;
    return 0;
  }
  if (PyUnicode_Check(o)) {
    *p = PyUnicode_AsUTF8AndSize(o, &len);
    if (*p == NULL) return -1;
  } else if (PyBytes_Check(o)) {
    *p = PyBytes_AS_STRING(o);
    len = PyBytes_GET_SIZE(o);
  } else {
    PyErr_Format(PyExc_TypeError, "squall: expected str or bytes, not %.80s", Py_TYPE(o)->tp_name);
    return -1;
  }
  *n = (size_t)len;
  return 0;
}

PyObject* sqpy_str(const char* p, size_t n) {
  if (p == NULL) n = 0;
  return PyUnicode_DecodeUTF8(p ? p : "", (Py_ssize_t)n, "surrogateescape");
}

/* Latin-1 text (what WSGI and HTTP header values are). */
static PyObject* latin1(const char* p, size_t n) {
  return PyUnicode_DecodeLatin1(p ? p : "", (Py_ssize_t)n, NULL);
}

/* ------------------------------------------------------------------ */
/* Callable references                                                 */
/* ------------------------------------------------------------------ */

void* sqpy_ref_take(PyObject* callable) {
  if (!PyCallable_Check(callable)) {
    PyErr_Format(PyExc_TypeError, "squall: expected a callable, not %.80s",
                 Py_TYPE(callable)->tp_name);
    return NULL;
  }
  Py_INCREF(callable);
  return callable;
}

void sqpy_ref_drop(void* ref) {
  if (ref == NULL) return;
  PyGILState_STATE st = PyGILState_Ensure();
  Py_DECREF((PyObject*)ref);
  PyGILState_Release(st);
}

static void report(PyObject* where) {
  if (PyErr_Occurred()) PyErr_WriteUnraisable(where);
}

void sqpy_call_args(void* ref, PyObject* args) {
  PyObject* fn = (PyObject*)ref;
  if (args == NULL) {
    report(fn);
    return;
  }
  PyObject* r = PyObject_Call(fn, args, NULL);
  Py_DECREF(args);
  if (r == NULL)
    report(fn);
  else
    Py_DECREF(r);
}

void sqpy_call_obj(void* ref, PyObject* arg) {
  PyObject* fn = (PyObject*)ref;
  if (arg == NULL) {
    report(fn);
    return;
  }
  PyObject* r = PyObject_CallOneArg(fn, arg);
  Py_DECREF(arg);
  if (r == NULL)
    report(fn);
  else
    Py_DECREF(r);
}

void sqpy_call(void* ref, const char* fmt, ...) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyObject* fn = (PyObject*)ref;
  if (fmt == NULL) {
    PyObject* r = PyObject_CallNoArgs(fn);
    if (r == NULL)
      report(fn);
    else
      Py_DECREF(r);
  } else {
    va_list ap;
    va_start(ap, fmt);
    PyObject* args = Py_VaBuildValue(fmt, ap);
    va_end(ap);
    sqpy_call_args(ref, args);
  }
  PyGILState_Release(st);
}

int sqpy_call_body(void* ref, const char* data, size_t len) {
  int rc = 0;
  PyGILState_STATE st = PyGILState_Ensure();
  PyObject* fn = (PyObject*)ref;
  PyObject* b = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
  PyObject* r = b ? PyObject_CallOneArg(fn, b) : NULL;
  Py_XDECREF(b);
  if (r == NULL) {
    report(fn);
    rc = -1;
  } else {
    if (PyLong_Check(r) && PyLong_AsLong(r) < 0) rc = -1;
    Py_DECREF(r);
  }
  PyGILState_Release(st);
  return rc;
}

/* ------------------------------------------------------------------ */
/* The request type                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD squall_request* req; /* NULL once ended */
} SqReq;

static PyTypeObject SqReqType;

static int alive(SqReq* self) {
  if (self->req != NULL) return 1;
  PyErr_SetString(error_class ? error_class : PyExc_RuntimeError,
                  "squall: the request is already finished");
  return 0;
}

/* End a request the application dropped without answering: 500 if
 * nothing was sent yet, else cut the connection (never a hang). */
static void end_dropped(squall_request* req) {
  int rc = squall_response_send(req, 500, NULL, 0, NULL, 0, SQUALL_SEND_FINISH);
  if (rc == SQUALL_ESTATE || rc == SQUALL_EINVAL) squall_response_abort(req);
}

static void req_dealloc(SqReq* self) {
  if (self->req != NULL) {
    squall_request* req = self->req;
    self->req = NULL;
    end_dropped(req);
  }
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* get_field(SqReq* self, void* closure) {
  const char* p = NULL;
  size_t n = 0;
  if (!alive(self)) return NULL;
  int rc = squall_request_get(self->req, (int)(intptr_t)closure, &p, &n);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  return sqpy_str(p, n);
}

static PyObject* get_body(SqReq* self, void* closure) {
  const void* p = NULL;
  size_t n = 0;
  if (!alive(self)) return NULL;
  int rc = squall_request_body(self->req, &p, &n);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  return PyBytes_FromStringAndSize((const char*)p, (Py_ssize_t)n);
}

static PyObject* get_finished(SqReq* self, void* closure) {
  return PyBool_FromLong(self->req == NULL);
}

static PyObject* pair(PyObject* a, PyObject* b) {
  if (a == NULL || b == NULL) {
    Py_XDECREF(a);
    Py_XDECREF(b);
    return NULL;
  }
  PyObject* t = PyTuple_New(2);
  if (t == NULL) {
    Py_DECREF(a);
    Py_DECREF(b);
    return NULL;
  }
  PyTuple_SET_ITEM(t, 0, a);
  PyTuple_SET_ITEM(t, 1, b);
  return t;
}

/* header_items() -> [(name, value), ...] in arrival order (str, latin-1). */
static PyObject* req_header_items(SqReq* self, PyObject* unused) {
  size_t count = 0;
  if (!alive(self)) return NULL;
  int rc = squall_request_header_count(self->req, &count);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  PyObject* list = PyList_New((Py_ssize_t)count);
  if (list == NULL) return NULL;
  for (size_t i = 0; i < count; i++) {
    const char *n, *v;
    size_t nl, vl;
    rc = squall_request_header_at(self->req, i, &n, &nl, &v, &vl);
    if (rc != 0) {
      Py_DECREF(list);
      sqpy_raise(rc);
      return NULL;
    }
    PyObject* t = pair(latin1(n, nl), latin1(v, vl));
    if (t == NULL) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  return list;
}

/* arguments(source) -> [(name, value), ...] decoded. */
static PyObject* req_arguments(SqReq* self, PyObject* arg) {
  int source = (int)PyLong_AsLong(arg);
  size_t count = 0;
  if (source == -1 && PyErr_Occurred()) return NULL;
  if (!alive(self)) return NULL;
  int rc = squall_request_argument_count(self->req, source, &count);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  PyObject* list = PyList_New((Py_ssize_t)count);
  if (list == NULL) return NULL;
  for (size_t i = 0; i < count; i++) {
    const char *n, *v;
    size_t nl, vl;
    rc = squall_request_argument_at(self->req, source, i, &n, &nl, &v, &vl);
    PyObject* t = rc == 0 ? pair(sqpy_str(n, nl), sqpy_str(v, vl)) : NULL;
    if (t == NULL) {
      Py_DECREF(list);
      if (rc != 0) sqpy_raise(rc);
      return NULL;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  return list;
}

/* cookies() -> [(name, value), ...]. */
static PyObject* req_cookies(SqReq* self, PyObject* unused) {
  size_t count = 0;
  if (!alive(self)) return NULL;
  int rc = squall_request_cookie_count(self->req, &count);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  PyObject* list = PyList_New((Py_ssize_t)count);
  if (list == NULL) return NULL;
  for (size_t i = 0; i < count; i++) {
    const char *n, *v;
    size_t nl, vl;
    rc = squall_request_cookie_at(self->req, i, &n, &nl, &v, &vl);
    PyObject* t = rc == 0 ? pair(sqpy_str(n, nl), sqpy_str(v, vl)) : NULL;
    if (t == NULL) {
      Py_DECREF(list);
      if (rc != 0) sqpy_raise(rc);
      return NULL;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  return list;
}

/* files() -> [(field, filename, content_type, bytes), ...]. */
static PyObject* req_files(SqReq* self, PyObject* unused) {
  size_t count = 0;
  if (!alive(self)) return NULL;
  int rc = squall_request_file_count(self->req, &count);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  PyObject* list = PyList_New((Py_ssize_t)count);
  if (list == NULL) return NULL;
  for (size_t i = 0; i < count; i++) {
    const char *f, *fn, *ct;
    const void* d;
    size_t fl, fnl, ctl, dl;
    rc = squall_request_file_at(self->req, i, &f, &fl, &fn, &fnl, &ct, &ctl, &d, &dl);
    if (rc != 0) {
      Py_DECREF(list);
      sqpy_raise(rc);
      return NULL;
    }
    PyObject* t = Py_BuildValue("(NNNy#)", sqpy_str(f, fl), sqpy_str(fn, fnl), sqpy_str(ct, ctl),
                                (const char*)d, (Py_ssize_t)dl);
    if (t == NULL) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, t);
  }
  return list;
}

/* time() -> (start_unix_us, elapsed_us). */
static PyObject* req_time(SqReq* self, PyObject* unused) {
  int64_t start = 0, elapsed = 0;
  if (!alive(self)) return NULL;
  int rc = squall_request_time(self->req, &start, &elapsed);
  if (rc != 0) {
    sqpy_raise(rc);
    return NULL;
  }
  return Py_BuildValue("(LL)", (long long)start, (long long)elapsed);
}

/* Bytes of a str (ASCII/UTF-8 as is, else Latin-1), bytes or buffer.
 * Owners to release go into keep (a list) or buf. */
typedef struct {
  const char* p;
  size_t n;
} span;

static int text_span(PyObject* o, span* s, PyObject* keep) {
  if (PyUnicode_Check(o)) {
    if (PyUnicode_IS_ASCII(o)) {
      Py_ssize_t n;
      s->p = PyUnicode_AsUTF8AndSize(o, &n);
      s->n = (size_t)n;
      return s->p ? 0 : -1;
    }
    PyObject* b = PyUnicode_AsLatin1String(o);
    if (b == NULL) return -1;
    int rc = PyList_Append(keep, b);
    Py_DECREF(b);
    if (rc != 0) return -1;
    s->p = PyBytes_AS_STRING(b);
    s->n = (size_t)PyBytes_GET_SIZE(b);
    return 0;
  }
  if (PyBytes_Check(o)) {
    s->p = PyBytes_AS_STRING(o);
    s->n = (size_t)PyBytes_GET_SIZE(o);
    return 0;
  }
  PyErr_Format(PyExc_TypeError, "squall: header names and values are str or bytes, not %.80s",
               Py_TYPE(o)->tp_name);
  return -1;
}

#define SQPY_INLINE_HEADERS 16

/* The result of an answering call: True sent, False the client is gone. */
static PyObject* answer(SqReq* self, int rc, unsigned flags) {
  if ((flags & (SQUALL_SEND_FINISH | SQUALL_SEND_ABORT)) && (rc == 0 || rc == SQUALL_ECLOSED))
    self->req = NULL;
  if (rc == 0) Py_RETURN_TRUE;
  if (rc == SQUALL_ECLOSED) Py_RETURN_FALSE;
  sqpy_raise(rc);
  return NULL;
}

/*
 * send(status, headers, body, flags) -> bool: the whole response call in
 * one crossing (squall_response_send).  status 0 keeps the current one;
 * headers None or a sequence of (name, value) pairs; body None, bytes,
 * str (UTF-8) or any buffer.  True: done; False: the client is gone (the
 * request still must be finished, which FINISH/ABORT did).  Any thread.
 */
static PyObject* req_send(SqReq* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "send(status, headers, body, flags)");
    return NULL;
  }
  if (!alive(self)) return NULL;
  int status = (int)PyLong_AsLong(args[0]);
  unsigned flags = (unsigned)PyLong_AsUnsignedLong(args[3]);
  if (PyErr_Occurred()) return NULL;

  squall_header inline_h[SQPY_INLINE_HEADERS];
  squall_header* h = inline_h;
  Py_ssize_t nh = 0;
  PyObject *keep = NULL, *seq = NULL, *result = NULL;
  Py_buffer view = {0};
  const char* body = NULL;
  size_t body_len = 0;

  if (args[1] != Py_None) {
    seq = PySequence_Fast(args[1], "squall: headers must be a sequence");
    if (seq == NULL) return NULL;
    nh = PySequence_Fast_GET_SIZE(seq);
    keep = PyList_New(0);
    if (keep == NULL) goto out;
    if (nh > SQPY_INLINE_HEADERS) {
      h = PyMem_Malloc(sizeof(*h) * (size_t)nh);
      if (h == NULL) {
        PyErr_NoMemory();
        goto out;
      }
    }
    PyObject** items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < nh; i++) {
      PyObject* it = items[i];
      span n, v;
      if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) != 2) {
        if (PyList_Check(it) && PyList_GET_SIZE(it) == 2) {
          if (text_span(PyList_GET_ITEM(it, 0), &n, keep) < 0 ||
              text_span(PyList_GET_ITEM(it, 1), &v, keep) < 0)
            goto out;
        } else {
          PyErr_SetString(PyExc_TypeError, "squall: each header is a (name, value) pair");
          goto out;
        }
      } else if (text_span(PyTuple_GET_ITEM(it, 0), &n, keep) < 0 ||
                 text_span(PyTuple_GET_ITEM(it, 1), &v, keep) < 0) {
        goto out;
      }
      h[i].name = n.p;
      h[i].name_len = n.n;
      h[i].value = v.p;
      h[i].value_len = v.n;
    }
  }

  PyObject* b = args[2];
  if (b == Py_None) {
  } else if (PyBytes_Check(b)) {
    body = PyBytes_AS_STRING(b);
    body_len = (size_t)PyBytes_GET_SIZE(b);
  } else if (PyUnicode_Check(b)) {
    Py_ssize_t n;
    body = PyUnicode_AsUTF8AndSize(b, &n);
    if (body == NULL) goto out;
    body_len = (size_t)n;
  } else {
    if (PyObject_GetBuffer(b, &view, PyBUF_SIMPLE) < 0) goto out;
    body = view.buf;
    body_len = (size_t)view.len;
  }

  int rc =
      squall_response_send(self->req, status, nh ? h : NULL, (size_t)nh, body, body_len, flags);
  result = answer(self, rc, flags);
out:
  if (view.obj) PyBuffer_Release(&view);
  if (h != inline_h) PyMem_Free(h);
  Py_XDECREF(keep);
  Py_XDECREF(seq);
  return result;
}

/* set_status(code, reason) -- a status with a reason phrase of its own. */
static PyObject* req_set_status(SqReq* self, PyObject* const* args, Py_ssize_t nargs) {
  const char* r = NULL;
  size_t rn = 0;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "set_status(code, reason)");
    return NULL;
  }
  if (!alive(self)) return NULL;
  int code = (int)PyLong_AsLong(args[0]);
  if (code == -1 && PyErr_Occurred()) return NULL;
  if (sqpy_str_in(args[1], &r, &rn) < 0) return NULL;
  return answer(self, squall_response_status(self->req, code, r, rn), 0);
}

/* One-shot done callbacks: drop the reference after the call. */
static void done_once(int status, void* ref) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyObject* arg = PyLong_FromLong(status);
  sqpy_call_obj(ref, arg);
  Py_DECREF((PyObject*)ref);
  PyGILState_Release(st);
}

static void void_once(void* ref) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyObject* r = PyObject_CallNoArgs((PyObject*)ref);
  if (r == NULL)
    report((PyObject*)ref);
  else
    Py_DECREF(r);
  Py_DECREF((PyObject*)ref);
  PyGILState_Release(st);
}

/* flush(done=None) -> bool; done(status) runs on the loop thread once the
 * bytes reached the kernel (0) or the connection closed (< 0). */
static PyObject* req_flush(SqReq* self, PyObject* const* args, Py_ssize_t nargs) {
  if (!alive(self)) return NULL;
  PyObject* cb = nargs > 0 ? args[0] : Py_None;
  void* ref = NULL;
  if (cb != Py_None && (ref = sqpy_ref_take(cb)) == NULL) return NULL;
  int rc = squall_response_flush(self->req, ref ? done_once : NULL, ref);
  if (rc != 0 && ref) Py_DECREF(cb);
  return answer(self, rc, 0);
}

/* on_done(fn): fn(status) once when the response is out or the
 * connection closed first. */
static PyObject* req_on_done(SqReq* self, PyObject* cb) {
  if (!alive(self)) return NULL;
  void* ref = sqpy_ref_take(cb);
  if (ref == NULL) return NULL;
  int rc = squall_request_on_done(self->req, done_once, ref);
  if (rc != 0) Py_DECREF(cb);
  return answer(self, rc, 0);
}

/* call_soon(fn): fn() once on the request's loop thread. */
static PyObject* req_call_soon(SqReq* self, PyObject* cb) {
  if (!alive(self)) return NULL;
  void* ref = sqpy_ref_take(cb);
  if (ref == NULL) return NULL;
  int rc = squall_request_call_soon(self->req, void_once, ref);
  if (rc != 0) Py_DECREF(cb);
  return answer(self, rc, 0);
}

static PyObject* req_abort(SqReq* self, PyObject* unused) {
  if (self->req == NULL) Py_RETURN_FALSE;
  return answer(self, squall_response_abort(self->req), SQUALL_SEND_ABORT);
}

static PyMethodDef req_methods[] = {
    {"send", (PyCFunction)(void (*)(void))req_send, METH_FASTCALL,
     "send(status, headers, body, flags) -> bool"},
    {"set_status", (PyCFunction)(void (*)(void))req_set_status, METH_FASTCALL,
     "set_status(code, reason)"},
    {"flush", (PyCFunction)(void (*)(void))req_flush, METH_FASTCALL, "flush(done=None) -> bool"},
    {"on_done", (PyCFunction)req_on_done, METH_O, "on_done(fn)"},
    {"call_soon", (PyCFunction)req_call_soon, METH_O, "call_soon(fn)"},
    {"abort", (PyCFunction)req_abort, METH_NOARGS, "abort() -> bool"},
    {"header_items", (PyCFunction)req_header_items, METH_NOARGS,
     "[(name, value), ...] in arrival order"},
    {"argument_items", (PyCFunction)req_arguments, METH_O,
     "argument_items(source) -> [(name, value), ...]"},
    {"cookie_items", (PyCFunction)req_cookies, METH_NOARGS, "[(name, value), ...]"},
    {"file_items", (PyCFunction)req_files, METH_NOARGS,
     "[(field, filename, content_type, data), ...]"},
    {"time", (PyCFunction)req_time, METH_NOARGS, "(start_unix_us, elapsed_us)"},
    {NULL, NULL, 0, NULL}};

#define FIELD(name, f) \
  { name, (getter)get_field, NULL, NULL, (void*)(intptr_t)(f) }
static PyGetSetDef req_getset[] = {
    FIELD("method", SQUALL_REQ_METHOD),
    FIELD("uri", SQUALL_REQ_URI),
    FIELD("path", SQUALL_REQ_PATH),
    FIELD("query", SQUALL_REQ_QUERY),
    FIELD("version", SQUALL_REQ_VERSION),
    FIELD("host", SQUALL_REQ_HOST),
    FIELD("host_name", SQUALL_REQ_HOST_NAME),
    FIELD("remote_ip", SQUALL_REQ_REMOTE_IP),
    FIELD("protocol", SQUALL_REQ_PROTOCOL),
    FIELD("full_url", SQUALL_REQ_FULL_URL),
    {"body", (getter)get_body, NULL, "the request body (bytes)", NULL},
    {"finished", (getter)get_finished, NULL, "True once ended", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject SqReqType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "squall._squall.Request",
    .tp_basicsize = sizeof(SqReq),
    .tp_dealloc = (destructor)req_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "One HTTP request, valid until its response is finished.",
    .tp_methods = req_methods,
    .tp_getset = req_getset,
};

/* ------------------------------------------------------------------ */
/* WSGI environ and ASGI scope, built in one pass over the request      */
/* ------------------------------------------------------------------ */

static PyObject *k_method, *k_path_info, *k_query, *k_protocol, *k_remote, *k_scheme, *k_input,
    *k_ctype, *k_clen, *bytes_io, *empty_bytes, *k_type, *k_http_version, *k_path, *k_raw_path,
    *k_query_string, *k_headers, *k_client, *k_http, *k_asgi_scheme;

static int set_steal(PyObject* d, PyObject* k, PyObject* v) {
  if (v == NULL) return -1;
  int rc = PyDict_SetItem(d, k, v);
  Py_DECREF(v);
  return rc;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decoded copy of p (as urllib.parse.unquote_to_bytes). */
static PyObject* unquote(const char* p, size_t n, int as_latin1) {
  if (memchr(p, '%', n) == NULL) return as_latin1 ? latin1(p, n) : sqpy_str(p, n);
  char stackbuf[512];
  char* buf = n <= sizeof stackbuf ? stackbuf : PyMem_Malloc(n);
  if (buf == NULL) return PyErr_NoMemory();
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 && (lo = hexval(p[i + 2])) >= 0) {
      buf[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      buf[o++] = p[i];
    }
  }
  PyObject* s = as_latin1 ? latin1(buf, o) : sqpy_str(buf, o);
  if (buf != stackbuf) PyMem_Free(buf);
  return s;
}

static int body_of(squall_request* req, PyObject** out) {
  const void* p = NULL;
  size_t n = 0;
  int rc = squall_request_body(req, &p, &n);
  if (rc != 0) {
    sqpy_raise(rc);
    return -1;
  }
  if (n == 0) {
    Py_INCREF(empty_bytes);
    *out = empty_bytes;
  } else {
    *out = PyBytes_FromStringAndSize((const char*)p, (Py_ssize_t)n);
  }
  return *out ? 0 : -1;
}

static void field(squall_request* req, int f, const char** p, size_t* n) {
  if (squall_request_get(req, f, p, n) != 0) {
    *p = "";
    *n = 0;
  }
}

/* "HTTP_" + name upper-cased, '-' as '_'; NULL for a name holding '_'
 * (dropped, as gunicorn and uvicorn do: it could pose as another). */
static PyObject* cgi_key(const char* n, size_t nl) {
  char buf[256];
  if (nl + 5 > sizeof buf) return NULL;
  memcpy(buf, "HTTP_", 5);
  for (size_t i = 0; i < nl; i++) {
    char c = n[i];
    if (c == '_') return NULL;
    if (c == '-')
      c = '_';
    else if (c >= 'a' && c <= 'z')
      c = (char)(c - 32);
    buf[5 + i] = c;
  }
  return PyUnicode_DecodeLatin1(buf, (Py_ssize_t)(nl + 5), NULL);
}

static int ieq(const char* a, size_t an, const char* b) {
  size_t bn = strlen(b);
  if (an != bn) return 0;
  for (size_t i = 0; i < an; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != b[i]) return 0;
  }
  return 1;
}

static PyObject* wsgi_environ(squall_request* req, PyObject* tmpl) {
  const char* p;
  size_t n;
  PyObject* env = PyDict_Copy(tmpl);
  if (env == NULL) return NULL;
  field(req, SQUALL_REQ_METHOD, &p, &n);
  if (set_steal(env, k_method, latin1(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_PATH, &p, &n);
  if (set_steal(env, k_path_info, unquote(p, n, 1)) < 0) goto fail;
  field(req, SQUALL_REQ_QUERY, &p, &n);
  if (set_steal(env, k_query, latin1(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_VERSION, &p, &n);
  if (set_steal(env, k_protocol, latin1(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_REMOTE_IP, &p, &n);
  if (set_steal(env, k_remote, latin1(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_PROTOCOL, &p, &n);
  if (!(n == 4 && memcmp(p, "http", 4) == 0) && set_steal(env, k_scheme, latin1(p, n)) < 0)
    goto fail;

  size_t count = 0;
  squall_request_header_count(req, &count);
  for (size_t i = 0; i < count; i++) {
    const char *hn, *hv;
    size_t hnl, hvl;
    if (squall_request_header_at(req, i, &hn, &hnl, &hv, &hvl) != 0) break;
    PyObject* key;
    if (ieq(hn, hnl, "content-type")) {
      key = k_ctype;
      Py_INCREF(key);
    } else if (ieq(hn, hnl, "content-length")) {
      key = k_clen;
      Py_INCREF(key);
    } else {
      key = cgi_key(hn, hnl);
      if (key == NULL) {
        if (PyErr_Occurred()) goto fail;
        continue;
      }
    }
    PyObject* val = latin1(hv, hvl);
    if (val == NULL) {
      Py_DECREF(key);
      goto fail;
    }
    PyObject* old = PyDict_GetItemWithError(env, key);
    if (old != NULL) { /* repeated field: joined with "," (RFC 9110 5.3) */
      PyObject* joined = PyUnicode_FromFormat("%U,%U", old, val);
      Py_DECREF(val);
      val = joined;
    }
    int rc = val ? PyDict_SetItem(env, key, val) : -1;
    Py_DECREF(key);
    Py_XDECREF(val);
    if (rc < 0) goto fail;
  }

  PyObject* body;
  if (body_of(req, &body) < 0) goto fail;
  PyObject* in = PyObject_CallOneArg(bytes_io, body);
  Py_DECREF(body);
  if (set_steal(env, k_input, in) < 0) goto fail;
  return env;
fail:
  Py_DECREF(env);
  return NULL;
}

static PyObject* lower_bytes(const char* p, size_t n) {
  PyObject* b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
  if (b == NULL) return NULL;
  char* o = PyBytes_AS_STRING(b);
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    o[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
  }
  return b;
}

static PyObject* asgi_scope(squall_request* req, PyObject* tmpl) {
  const char* p;
  size_t n;
  PyObject* scope = PyDict_Copy(tmpl);
  if (scope == NULL) return NULL;
  field(req, SQUALL_REQ_METHOD, &p, &n);
  if (set_steal(scope, k_method, latin1(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_PATH, &p, &n);
  if (set_steal(scope, k_path, unquote(p, n, 0)) < 0) goto fail;
  if (set_steal(scope, k_raw_path, PyBytes_FromStringAndSize(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_QUERY, &p, &n);
  if (set_steal(scope, k_query_string, PyBytes_FromStringAndSize(p, n)) < 0) goto fail;
  field(req, SQUALL_REQ_VERSION, &p, &n);
  if (n > 5 && !(n == 8 && memcmp(p, "HTTP/1.1", 8) == 0) &&
      set_steal(scope, k_http_version, latin1(p + 5, n - 5)) < 0)
    goto fail;
  field(req, SQUALL_REQ_PROTOCOL, &p, &n);
  if (!(n == 4 && memcmp(p, "http", 4) == 0) && set_steal(scope, k_asgi_scheme, latin1(p, n)) < 0)
    goto fail;
  field(req, SQUALL_REQ_REMOTE_IP, &p, &n);
  if (set_steal(scope, k_client, Py_BuildValue("(Ni)", latin1(p, n), 0)) < 0) goto fail;

  size_t count = 0;
  squall_request_header_count(req, &count);
  PyObject* hl = PyList_New((Py_ssize_t)count);
  if (set_steal(scope, k_headers, hl) < 0) goto fail;
  for (size_t i = 0; i < count; i++) {
    const char *hn = "", *hv = "";
    size_t hnl = 0, hvl = 0;
    squall_request_header_at(req, i, &hn, &hnl, &hv, &hvl);
    PyObject* t = pair(lower_bytes(hn, hnl), PyBytes_FromStringAndSize(hv, hvl));
    if (t == NULL) goto fail;
    PyList_SET_ITEM(hl, (Py_ssize_t)i, t);
  }
  return scope;
fail:
  Py_DECREF(scope);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* The fast server                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
  PyObject* handler;
  PyTypeObject* reqtype;
  PyObject* tmpl;
  int mode;
} sqpy_server;

static void server_release(void* ud) {
  sqpy_server* s = ud;
  PyGILState_STATE st = PyGILState_Ensure();
  Py_DECREF(s->handler);
  Py_DECREF(s->reqtype);
  Py_XDECREF(s->tmpl);
  PyMem_Free(s);
  PyGILState_Release(st);
}

/* The one crossing per request: take the GIL, make the request object
 * (and environ or scope), call the handler. */
static void on_request(squall_request* req, void* ud) {
  sqpy_server* s = ud;
  PyGILState_STATE st = PyGILState_Ensure();
  SqReq* r = (SqReq*)s->reqtype->tp_alloc(s->reqtype, 0);
  PyObject* res = NULL;
  if (r == NULL) {
    end_dropped(req);
    goto out;
  }
  r->req = req;
  if (s->mode == SQPY_MODE_NATIVE) {
    res = PyObject_CallOneArg(s->handler, (PyObject*)r);
  } else {
    PyObject* extra =
        s->mode == SQPY_MODE_WSGI ? wsgi_environ(req, s->tmpl) : asgi_scope(req, s->tmpl);
    if (extra != NULL) {
      PyObject* args[2] = {(PyObject*)r, extra};
      res = PyObject_Vectorcall(s->handler, args, 2, NULL);
      Py_DECREF(extra);
    }
  }
  if (res == NULL)
    report(s->handler); /* the Python layer answers 500 itself; this is
                           the last resort (dealloc ends the request) */
  else
    Py_DECREF(res);
  Py_DECREF(r);
out:
  PyGILState_Release(st);
}

squall_server* sqpy_server_new(squall_loop* loop, const squall_config* cfg, PyObject* handler,
                               int mode, PyObject* request_type, PyObject* tmpl) {
  if (!PyCallable_Check(handler)) {
    PyErr_SetString(PyExc_TypeError, "squall: the handler must be callable");
    return NULL;
  }
  if (request_type == Py_None) request_type = (PyObject*)&SqReqType;
  if (!PyType_Check(request_type) || !PyType_IsSubtype((PyTypeObject*)request_type, &SqReqType)) {
    PyErr_SetString(PyExc_TypeError, "squall: request_type must subclass squall._squall.Request");
    return NULL;
  }
  if (mode != SQPY_MODE_NATIVE && !PyDict_Check(tmpl)) {
    PyErr_SetString(PyExc_TypeError, "squall: a template dict is required");
    return NULL;
  }
  if (mode < SQPY_MODE_NATIVE || mode > SQPY_MODE_ASGI) {
    PyErr_SetString(PyExc_ValueError, "squall: unknown server mode");
    return NULL;
  }
  sqpy_server* s = PyMem_Calloc(1, sizeof *s);
  if (s == NULL) {
    PyErr_NoMemory();
    return NULL;
  }
  Py_INCREF(handler);
  Py_INCREF(request_type);
  s->handler = handler;
  s->reqtype = (PyTypeObject*)request_type;
  s->mode = mode;
  if (mode != SQPY_MODE_NATIVE) {
    Py_INCREF(tmpl);
    s->tmpl = tmpl;
  }
  squall_server* srv = NULL;
  int rc = squall_server_new(&srv, loop, cfg, on_request, s, server_release);
  if (rc != 0) {
    Py_DECREF(handler);
    Py_DECREF(request_type);
    Py_XDECREF(s->tmpl);
    PyMem_Free(s);
    sqpy_raise(rc);
    return NULL;
  }
  return srv;
}

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static PyObject* set_error_class(PyObject* self, PyObject* cls) {
  Py_INCREF(cls);
  Py_XSETREF(error_class, cls);
  Py_RETURN_NONE;
}

static PyMethodDef module_fns[] = {
    {"_set_error_class", set_error_class, METH_O, "the class raised for negative SQUALL_E* codes"},
    {NULL, NULL, 0, NULL}};

static int intern(PyObject** k, const char* s) {
  *k = PyUnicode_InternFromString(s);
  return *k ? 0 : -1;
}

int sqpy_init(PyObject* m) {
  if (PyType_Ready(&SqReqType) < 0) return -1;
  Py_INCREF(&SqReqType);
  if (PyModule_AddObject(m, "Request", (PyObject*)&SqReqType) < 0) return -1;
  if (PyModule_AddFunctions(m, module_fns) < 0) return -1;
  if (intern(&k_method, "REQUEST_METHOD") || intern(&k_path_info, "PATH_INFO") ||
      intern(&k_query, "QUERY_STRING") || intern(&k_protocol, "SERVER_PROTOCOL") ||
      intern(&k_remote, "REMOTE_ADDR") || intern(&k_scheme, "wsgi.url_scheme") ||
      intern(&k_input, "wsgi.input") || intern(&k_ctype, "CONTENT_TYPE") ||
      intern(&k_clen, "CONTENT_LENGTH") || intern(&k_type, "type") ||
      intern(&k_http_version, "http_version") || intern(&k_path, "path") ||
      intern(&k_raw_path, "raw_path") || intern(&k_query_string, "query_string") ||
      intern(&k_headers, "headers") || intern(&k_client, "client") || intern(&k_http, "http") ||
      intern(&k_asgi_scheme, "scheme"))
    return -1;
  /* ASGI's scheme key is "scheme", set in the template; WSGI's default
   * "http" too: only a different protocol overwrites it. */
  empty_bytes = PyBytes_FromStringAndSize("", 0);
  PyObject* io = PyImport_ImportModule("io");
  if (io == NULL || empty_bytes == NULL) return -1;
  bytes_io = PyObject_GetAttrString(io, "BytesIO");
  Py_DECREF(io);
  return bytes_io ? 0 : -1;
}
