package squall

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"net/http"
	"runtime/cgo"
	"sync/atomic"
	"unsafe"
)

// Request is one request/response exchange of the low-level API.
//
// Accessors ending in Bytes, and Body, return memory owned by the library
// without copying: it is valid until the response is finished (Respond or
// Finish) and must not be modified or kept beyond that.  The other
// accessors return copies.  A Request is not safe for concurrent use,
// except Context; it may be handed to another goroutine (the response
// calls are thread-safe in the C library), e.g. to respond later.
type Request struct {
	req    *C.squall_request // nil once finished
	e      *engine
	info   C.sqgo_reqinfo
	loaded bool
	onLoop atomic.Bool // inside the RawHandler call on the loop thread
	ctx    *reqCtx
	flush  chan int
}

func (e *engine) serveRaw(req *C.squall_request) {
	r := &Request{req: req, e: e}
	r.onLoop.Store(true)
	defer func() {
		r.onLoop.Store(false)
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				addr := "?"
				if r.req != nil {
					addr = r.RemoteIP()
				}
				e.logPanic(addr, p)
			}
			if r.req != nil {
				r.Respond(500, "text/plain; charset=utf-8", []byte("Internal Server Error\n"))
			}
		}
	}()
	e.raw.ServeSquall(r)
}

// fields reads every field in one cgo call, the first time one is needed.
func (r *Request) fields() *C.sqgo_reqinfo {
	if !r.loaded && r.req != nil {
		C.sqgo_request_info(r.req, &r.info)
		r.loaded = true
	}
	return &r.info
}

// Method is the request method ("GET").
func (r *Request) Method() string {
	return internMethod(cstr(r.fields().method, r.fields().method_len))
}

// URI is the request target as sent ("/a%20b?x=1").
func (r *Request) URI() string { return string(r.URIBytes()) }

// URIBytes is URI without a copy.
func (r *Request) URIBytes() []byte {
	return cbytes(unsafe.Pointer(r.fields().uri), r.fields().uri_len)
}

// Path is the path part of the target, not decoded ("/a%20b").
func (r *Request) Path() string { return string(r.PathBytes()) }

// PathBytes is Path without a copy.
func (r *Request) PathBytes() []byte {
	return cbytes(unsafe.Pointer(r.fields().path), r.fields().path_len)
}

// Query is the part after '?', without it ("" if none).
func (r *Request) Query() string { return string(r.QueryBytes()) }

// QueryBytes is Query without a copy.
func (r *Request) QueryBytes() []byte {
	return cbytes(unsafe.Pointer(r.fields().query), r.fields().query_len)
}

// Proto is the protocol version ("HTTP/1.1").
func (r *Request) Proto() string {
	return internProto(cstr(r.fields().version, r.fields().version_len))
}

// Host is the Host header (or the authority of an absolute-form target).
func (r *Request) Host() string { return string(r.HostBytes()) }

// HostBytes is Host without a copy.
func (r *Request) HostBytes() []byte {
	return cbytes(unsafe.Pointer(r.fields().host), r.fields().host_len)
}

// RemoteIP is the peer's IP address (X-Real-IP / X-Forwarded-For with
// Server.XHeaders).
func (r *Request) RemoteIP() string {
	return string(cbytes(unsafe.Pointer(r.fields().remote_ip), r.fields().remote_ip_len))
}

// Scheme is "http" or "https" (X-Scheme / X-Forwarded-Proto with
// Server.XHeaders).
func (r *Request) Scheme() string {
	s := cstr(r.fields().protocol, r.fields().protocol_len)
	switch s {
	case "http":
		return "http"
	case "https":
		return "https"
	}
	return string([]byte(s))
}

// Body is the request body (decoded from chunked or gzip), without a copy.
func (r *Request) Body() []byte { return cbytes(r.fields().body, r.fields().body_len) }

// HeaderBytes is the first value of header name (case-insensitive), without
// a copy; nil if absent.
func (r *Request) HeaderBytes(name string) []byte {
	v, ok := r.headerNth(name, 0)
	if !ok {
		return nil
	}
	return v
}

// Header is the first value of header name (case-insensitive), "" if
// absent.
func (r *Request) Header(name string) string {
	v, _ := r.headerNth(name, 0)
	return string(v)
}

// HeaderValues are all values of header name in arrival order.
func (r *Request) HeaderValues(name string) []string {
	var out []string
	for i := 0; ; i++ {
		v, ok := r.headerNth(name, i)
		if !ok {
			return out
		}
		out = append(out, string(v))
	}
}

func (r *Request) headerNth(name string, nth int) ([]byte, bool) {
	if r.req == nil || len(name) == 0 {
		return nil, false
	}
	var p *C.char
	var n C.size_t
	rc := C.squall_request_header(r.req, (*C.char)(unsafe.Pointer(unsafe.StringData(name))), C.size_t(len(name)),
		C.size_t(nth), &p, &n)
	if rc != 0 {
		return nil, false
	}
	return cbytes(unsafe.Pointer(p), n), true
}

// HeaderCount is the number of header fields.
func (r *Request) HeaderCount() int { return int(r.fields().header_count) }

// VisitHeaders calls fn for each header field in arrival order, without
// copies, until fn returns false.
func (r *Request) VisitHeaders(fn func(name, value []byte) bool) {
	if r.req == nil {
		return
	}
	var one [16]C.sqgo_header
	var hs []C.sqgo_header
	if int(r.fields().header_count) <= len(one) {
		hs = one[:]
	} else {
		hs = make([]C.sqgo_header, r.fields().header_count)
	}
	var n C.size_t
	if C.sqgo_request_headers(r.req, (*C.char)(unsafe.Pointer(&hs[0])), C.size_t(len(hs)), &n) != 0 {
		return
	}
	if int(n) < len(hs) {
		hs = hs[:n]
	}
	for i := range hs {
		if !fn(cbytes(unsafe.Pointer(hs[i].name), hs[i].name_len), cbytes(unsafe.Pointer(hs[i].value), hs[i].value_len)) {
			return
		}
	}
}

// Arg is the first value of argument name from the query string or the
// urlencoded / multipart body (decoded).
func (r *Request) Arg(name string) (string, bool) {
	if r.req == nil {
		return "", false
	}
	var p *C.char
	var n C.size_t
	rc := C.squall_request_argument(r.req, C.SQUALL_ARGS_ALL, (*C.char)(unsafe.Pointer(unsafe.StringData(name))),
		C.size_t(len(name)), 0, &p, &n)
	if rc != 0 {
		return "", false
	}
	return string(cbytes(unsafe.Pointer(p), n)), true
}

// Cookie is the value of cookie name.
func (r *Request) Cookie(name string) (string, bool) {
	if r.req == nil {
		return "", false
	}
	var p *C.char
	var n C.size_t
	rc := C.squall_request_cookie(r.req, (*C.char)(unsafe.Pointer(unsafe.StringData(name))), C.size_t(len(name)), &p, &n)
	if rc != 0 {
		return "", false
	}
	return string(cbytes(unsafe.Pointer(p), n)), true
}

// Context is cancelled when the client goes away or the response is
// finished.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		r.ctx = &reqCtx{}
		r.ctx.init(r.e, r.req)
		if r.req == nil {
			r.ctx.finish()
		}
	}
	return r.ctx
}

// Respond sends a whole response and finishes the request: status code,
// Content-Type (omitted if empty), body (framed with Content-Length).
// Date and Server are added by the library.
func (r *Request) Respond(code int, contentType string, body []byte) error {
	req := r.begin()
	if req == nil {
		return ErrFinished
	}
	rc := C.squall_respond(req, C.int(code), (*C.char)(unsafe.Pointer(unsafe.StringData(contentType))),
		C.size_t(len(contentType)), unsafe.Pointer(unsafe.SliceData(body)), C.size_t(len(body)))
	return r.end(rc, "respond")
}

// RespondString is Respond with a string body.
func (r *Request) RespondString(code int, contentType, body string) error {
	req := r.begin()
	if req == nil {
		return ErrFinished
	}
	rc := C.squall_respond(req, C.int(code), (*C.char)(unsafe.Pointer(unsafe.StringData(contentType))),
		C.size_t(len(contentType)), unsafe.Pointer(unsafe.StringData(body)), C.size_t(len(body)))
	return r.end(rc, "respond")
}

// SetStatus sets the status code (default 200).
func (r *Request) SetStatus(code int) error {
	if r.req == nil {
		return ErrFinished
	}
	return codeErr("response_status", C.squall_response_status(r.req, C.int(code), nil, 0))
}

// AddHeader adds a response header field (before the first Write that
// flushes, i.e. before Flush).  Name must be a token, value must not hold
// CR, LF or NUL.
func (r *Request) AddHeader(name, value string) error {
	if r.req == nil {
		return ErrFinished
	}
	return codeErr("response_header", C.squall_response_header(r.req,
		(*C.char)(unsafe.Pointer(unsafe.StringData(name))), C.size_t(len(name)),
		(*C.char)(unsafe.Pointer(unsafe.StringData(value))), C.size_t(len(value))))
}

// Write appends body bytes (copied by the library; buffered until Flush or
// Finish).
func (r *Request) Write(p []byte) (int, error) {
	if r.req == nil {
		return 0, ErrFinished
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := codeErr("response_write", C.squall_response_write(r.req, unsafe.Pointer(unsafe.SliceData(p)), C.size_t(len(p)))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write for a string.
func (r *Request) WriteString(s string) (int, error) {
	if r.req == nil {
		return 0, ErrFinished
	}
	if len(s) == 0 {
		return 0, nil
	}
	if err := codeErr("response_write", C.squall_response_write(r.req, unsafe.Pointer(unsafe.StringData(s)), C.size_t(len(s)))); err != nil {
		return 0, err
	}
	return len(s), nil
}

// Flush sends what was written so far (the response is then streamed,
// chunked for HTTP/1.1).  Off the loop thread it waits until those bytes
// reached the kernel (backpressure) and reports ECLOSED if the client went
// away; inside the RawHandler call it does not wait.
func (r *Request) Flush() error {
	if r.req == nil {
		return ErrFinished
	}
	if r.onLoop.Load() {
		return codeErr("response_flush", C.squall_response_flush(r.req, nil, nil))
	}
	if r.flush == nil {
		r.flush = make(chan int, 1)
	}
	ch := r.flush
	e := r.e
	h := cgo.NewHandle(oneShot(doneFunc(func(status int) {
		ch <- status
		e.scheduleYield()
	})))
	var reg C.int
	rc := C.sqgo_response_send(r.req, 0, nil, 0, nil, 0, C.SQGO_SEND_FLUSH, C.uintptr_t(h), &reg)
	if reg == 0 {
		h.Delete()
		return codeErr("response_flush", rc)
	}
	return codeErr("response_flush", C.int(<-ch))
}

// Finish ends the response (and the request).
func (r *Request) Finish() error {
	req := r.begin()
	if req == nil {
		return ErrFinished
	}
	return r.end(C.squall_response_finish(req), "response_finish")
}

// begin marks the request as ending: the context stops registering and is
// cancelled.  It returns the handle to pass to the finishing call.
func (r *Request) begin() *C.squall_request {
	req := r.req
	if req == nil {
		return nil
	}
	if r.ctx != nil {
		r.ctx.finish()
	}
	return req
}

func (r *Request) end(rc C.int, op string) error {
	if Errno(rc) == ESTATE || Errno(rc) == EINVAL {
		// Not finished: the call was refused.
		return codeErr(op, rc)
	}
	r.req = nil
	r.e.requestDone()
	return codeErr(op, rc) // nil, or ECLOSED: finished, but the client had gone
}

func internMethod(s string) string {
	switch s {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	case "CONNECT":
		return "CONNECT"
	case "TRACE":
		return "TRACE"
	}
	return string([]byte(s))
}

func internProto(s string) string {
	switch s {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	}
	return string([]byte(s))
}
