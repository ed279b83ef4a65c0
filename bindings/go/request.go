package squall

/*
// The accessors pass pointers to Go variables for C to fill in: they must
// not move to the heap (an allocation per call).  These calls keep no
// pointer and call no Go code.
#cgo noescape squall_request_header
#cgo nocallback squall_request_header
#cgo noescape squall_request_argument
#cgo nocallback squall_request_argument
#cgo noescape squall_request_cookie
#cgo nocallback squall_request_cookie
#cgo noescape sqgo_request_info
#cgo nocallback sqgo_request_info
#include "shim.h"
*/
import "C"

import (
	"context"
	"net/http"
	"runtime/cgo"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Request is one request/response exchange of the low-level API.
//
// Accessors ending in Bytes, and Body, return memory owned by the library
// without copying: it is valid until the response is finished (Respond or
// Finish) and must not be modified or kept beyond that.  The other
// accessors return copies.  A Request is not safe for concurrent use; it
// may be handed to another goroutine to respond later.
//
// A Request must not be used once it is finished: a Request finished
// before its ServeSquall call returns (the common case: r.Respond inside
// the call) is reused for a later request, as fasthttp reuses its
// RequestCtx, so that serving a request allocates nothing.  Copy what you
// need (r.Path(), r.Header(...)) before the response is finished.
//
// The response calls buffer in Go; Respond, Flush, Finish and Abort hand
// the response to the library in one call each (squall_response_send).
type Request struct {
	req      *C.squall_request // nil once finished
	e        *engine
	info     C.sqgo_reqinfo // read at the first accessor call (haveInfo)
	haveInfo bool
	inCall   atomic.Bool // inside the RawHandler call
	ended    atomic.Bool // finished (set before the finishing command)
	released atomic.Bool // the finishing call is over (r may be reused)
	ctx      *reqCtx

	status     int      // 0: not set (200)
	sentHeader bool     // status and fields handed to the library
	hdrs       []string // fields not sent yet: name, value, ...
	body       []byte   // body bytes not sent yet
	flush      chan int
}

// serveRaw calls the RawHandler; true if the request was left unfinished
// (handed to a goroutine).
func (e *engine) serveRaw(req *C.squall_request) (pending bool) {
	r := e.newRequest()
	r.req, r.e = req, e
	r.inCall.Store(true)
	e.inDispatch.Store(true)
	defer func() {
		e.inDispatch.Store(false)
		r.inCall.Store(false)
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				e.logPanic(addrOf(r), p)
			}
			if r.req != nil {
				if r.sentHeader {
					// Part of the response is out: cut it (the client must
					// not read a truncated body as complete).
					if p != http.ErrAbortHandler {
						e.logf("squall: response to %s aborted: the handler panicked after part of it was sent", addrOf(r))
					}
					r.Abort()
				} else {
					r.hdrs, r.body, r.status = nil, r.body[:0], 0
					r.Respond(500, "text/plain; charset=utf-8", []byte("Internal Server Error\n"))
				}
			}
		}
	}()
	e.raw.ServeSquall(r)
	if !r.ended.Load() {
		return true
	}
	// Finished; reused only once the finishing call is over (a goroutine
	// the handler handed r to may still be inside it).
	if r.released.Load() {
		e.recycle(r)
	}
	return false
}

// recycle keeps r, finished inside its handler call, for a later request
// (only the loop thread, or the dispatcher, serves requests, so e.free
// needs no lock).  A Request whose Context was asked for is not reused:
// goroutines may still watch that context.
func (e *engine) recycle(r *Request) {
	if r.ctx != nil || len(e.free) >= 1024 {
		return
	}
	hdrs, body, flush := r.hdrs[:0], r.body[:0], r.flush
	if cap(body) > 64<<10 {
		body = nil
	}
	*r = Request{hdrs: hdrs, body: body, flush: flush}
	e.free = append(e.free, r)
}

func addrOf(r *Request) string {
	if r.req == nil {
		return "?"
	}
	return r.RemoteIP()
}

// newRequest takes a Request from a slab: one allocation per 64 requests
// (only the loop thread, or the dispatcher, calls it).  A Request kept
// after it is finished keeps its slab alive, nothing worse.
func (e *engine) newRequest() *Request {
	if n := len(e.free); n > 0 {
		r := e.free[n-1]
		e.free = e.free[:n-1]
		return r
	}
	if len(e.slab) == 0 {
		e.slab = make([]Request, 64)
	}
	r := &e.slab[0]
	e.slab = e.slab[1:]
	return r
}

// fields reads every field in one cgo call, the first time one is needed.
func (r *Request) fields() *C.sqgo_reqinfo {
	if !r.haveInfo {
		r.haveInfo = true
		if r.req != nil {
			C.sqgo_request_info(r.req, &r.info)
		}
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

// LoopIndex is the index of the loop serving r (0 .. Server.Loops-1; 0
// with one loop).
func (r *Request) LoopIndex() int { return r.e.index }

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
	var one [16]C.squall_header
	var hs []C.squall_header
	if int(r.fields().header_count) <= len(one) {
		hs = one[:]
	} else {
		hs = make([]C.squall_header, r.fields().header_count)
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
// Content-Type (omitted if empty), body (framed with Content-Length), plus
// any fields added with AddHeader, in one library call
// (squall_response_send; squall_respond when Content-Type is the only
// field).  Date and Server are added by the library.
// After a Flush only the body is sent (the head is out already).
func (r *Request) Respond(code int, contentType string, body []byte) error {
	if r.req == nil {
		return ErrFinished
	}
	if code < 100 || code > 999 || !validValue(contentType) {
		return &Error{Op: "respond", Code: EINVAL}
	}
	if r.sentHeader || len(r.hdrs) > 0 || len(r.body) > 0 {
		if !r.sentHeader {
			r.status = code
		}
		return codeErr("respond", r.send(contentType, body, C.SQUALL_SEND_FINISH, 0))
	}
	req := r.req
	r.end()
	rc := C.sqgo_respond_ct(cptr(unsafe.Pointer(r.e.b)), cptr(unsafe.Pointer(req)), C.int(code),
		(*C.char)(unsafe.Pointer(unsafe.StringData(contentType))), C.size_t(len(contentType)),
		(*C.char)(unsafe.Pointer(unsafe.SliceData(body))), C.size_t(len(body)))
	r.released.Store(true)
	return codeErr("respond", rc)
}

// RespondString is Respond with a string body.
func (r *Request) RespondString(code int, contentType, body string) error {
	return r.Respond(code, contentType, unsafe.Slice(unsafe.StringData(body), len(body)))
}

// SetStatus sets the status code (default 200), before the first Flush.
func (r *Request) SetStatus(code int) error {
	if r.req == nil {
		return ErrFinished
	}
	if r.sentHeader {
		return &Error{Op: "response_status", Code: ESTATE}
	}
	if code < 100 || code > 999 {
		return &Error{Op: "response_status", Code: EINVAL}
	}
	r.status = code
	return nil
}

// AddHeader adds a response header field, before the first Flush.  Name
// must be a token; value must not hold a control byte other than HTAB
// (CR, LF, NUL...) (EINVAL).  Content-Length set here is trusted as the
// framing; Transfer-Encoding may not be set.
func (r *Request) AddHeader(name, value string) error {
	if r.req == nil {
		return ErrFinished
	}
	if r.sentHeader {
		return &Error{Op: "response_header", Code: ESTATE}
	}
	if !validToken(name) || !validValue(value) || strings.EqualFold(name, "Transfer-Encoding") {
		return &Error{Op: "response_header", Code: EINVAL}
	}
	r.hdrs = append(r.hdrs, name, value)
	return nil
}

// Write appends body bytes (buffered until Flush or Finish).
func (r *Request) Write(p []byte) (int, error) {
	if r.req == nil {
		return 0, ErrFinished
	}
	r.body = append(r.body, p...)
	return len(p), nil
}

// WriteString is Write for a string.
func (r *Request) WriteString(s string) (int, error) {
	if r.req == nil {
		return 0, ErrFinished
	}
	r.body = append(r.body, s...)
	return len(s), nil
}

// Flush sends what was written so far (the response is then streamed,
// chunked for HTTP/1.1).  Outside the RawHandler call it waits until those
// bytes reached the kernel (backpressure) and reports ECLOSED if the client
// went away; inside the call it does not wait.
func (r *Request) Flush() error {
	if r.req == nil {
		return ErrFinished
	}
	if r.inCall.Load() {
		return codeErr("response_flush", r.send("", nil, C.SQUALL_SEND_FLUSH, 0))
	}
	if r.flush == nil {
		r.flush = make(chan int, 1)
	}
	ch := r.flush
	h := cgo.NewHandle(oneShot(doneFunc(func(status int) { ch <- status })))
	if rc := r.send("", nil, 0, h); rc != 0 {
		h.Delete()
		return codeErr("response_flush", rc)
	}
	return codeErr("response_flush", C.int(<-ch))
}

// Finish ends the response (and the request).
func (r *Request) Finish() error {
	if r.req == nil {
		return ErrFinished
	}
	return codeErr("response_finish", r.send("", nil, C.SQUALL_SEND_FINISH, 0))
}

// Abort ends the request without completing the response: the connection
// is closed, so a client reading a streamed (chunked or close-delimited)
// body sees it cut short instead of complete.  Use it when a response
// fails after Flush.  What was buffered and not flushed is dropped.
func (r *Request) Abort() error {
	if r.req == nil {
		return ErrFinished
	}
	r.hdrs, r.body = nil, r.body[:0]
	return codeErr("response_abort", r.send("", nil, C.SQUALL_SEND_ABORT, 0))
}

// send hands the buffered status, fields and body (plus ct as a
// Content-Type field and body, if given) to the library in one call; done
// != 0 asks for a done event after a flush.
func (r *Request) send(ct string, body []byte, flags C.uint, done cgo.Handle) C.int {
	status := 0
	var fb *fieldBuf
	if !r.sentHeader && flags != C.SQUALL_SEND_ABORT {
		status = r.status
		if len(r.hdrs) > 0 || ct != "" {
			fb = getFieldBuf()
			for i := 0; i+1 < len(r.hdrs); i += 2 {
				fb.add(r.hdrs[i], r.hdrs[i+1])
			}
			if ct != "" {
				fb.add("Content-Type", ct)
			}
		}
		r.sentHeader = true
	}
	if len(r.body) > 0 {
		r.body = append(r.body, body...)
		body = r.body
	}
	req := r.req
	if flags&(C.SQUALL_SEND_FINISH|C.SQUALL_SEND_ABORT) != 0 {
		r.end()
	}
	hp, n := fb.array()
	// body is pointer-free Go memory, hp C memory.
	rc := C.sqgo_response_send(cptr(unsafe.Pointer(r.e.b)), cptr(unsafe.Pointer(req)), C.int(status), hp, n,
		(*C.char)(unsafe.Pointer(unsafe.SliceData(body))), C.size_t(len(body)), flags, C.uintptr_t(done))
	putFieldBuf(fb)
	r.hdrs = r.hdrs[:0]
	r.body = r.body[:0]
	if flags&(C.SQUALL_SEND_FINISH|C.SQUALL_SEND_ABORT) != 0 {
		r.released.Store(true)
	}
	return rc
}

// end marks the request finished on the Go side (before the finishing
// call): the context stops registering and is cancelled.
func (r *Request) end() {
	if r.ctx != nil {
		r.ctx.finish()
	}
	r.req = nil
	r.ended.Store(true)
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
