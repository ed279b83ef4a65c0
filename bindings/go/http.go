package squall

/*
#cgo noescape sqgo_request_headers
#cgo nocallback sqgo_request_headers
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// The net/http adapter: each request is served on its own goroutine with a
// standard *http.Request and an http.ResponseWriter that finishes the
// response through the C library's thread-safe response calls.

const (
	inlineHeaders = 24       // header fields fetched without an allocation
	bufLimit      = 64 << 10 // response bytes buffered before streaming
)

var errWriteAfterFinish = errors.New("squall: write after the handler returned")

// exchange is everything one request needs, in one allocation, reused
// for later requests once its handler has returned (the engine's pool, as
// net/http's server and fasthttp reuse their per-request state): the
// *http.Request, its Header map, the ResponseWriter and its Header map.
// Two things are never reused, so each request allocates them (one
// allocation for both when the request is small, reqMem): the context
// (goroutines started by the handler may watch it after ServeHTTP
// returned) and the bytes of the request's strings (Go strings are
// immutable; a handler may keep r.URL.Path or a header value).
type exchange struct {
	e    *engine
	req  *C.squall_request // nil once finished
	info C.sqgo_reqinfo
	url  url.URL
	ctx  *reqCtx
	body bodyReader
	w    responseWriter
	hreq http.Request
	hdr  http.Header // hreq.Header, cleared for reuse
	mem  *reqMem     // this request's own (never reused)

	valsArr [8]string // the header values of small requests
}

// reqMem is what a request allocates: its context and, if they fit, the
// bytes of its strings.
type reqMem struct {
	ctx reqCtx
	str [192]byte
}

// worker is a goroutine that serves requests one after another (its stack
// has grown already; a fresh goroutine per request would grow its stack
// every time).
type worker struct {
	hdrs [inlineHeaders]C.squall_header
	fb   fieldBuf // response header fields of the exchange it serves
}

const maxIdleWorkers = 1024

// dispatchHTTP hands a request to an idle worker or a new one.
func (e *engine) dispatchHTTP(req *C.squall_request, ri *C.sqgo_reqinfo) {
	x := e.newExchange()
	x.req, x.info = req, *ri
	e.handOut(x)
}

// handOut gives x to an idle worker or a new one.
func (e *engine) handOut(x *exchange) {
	select {
	case e.work <- x:
	default:
		go e.worker(x)
	}
}

func (e *engine) worker(x *exchange) {
	wk := new(worker)
	defer wk.fb.free()
	for {
		x.serve(wk)
		e.putExchange(x)
		if e.idleWorkers.Add(1) > maxIdleWorkers {
			e.idleWorkers.Add(-1)
			return
		}
		x = <-e.work
		e.idleWorkers.Add(-1)
		if x == nil {
			return // engine gone
		}
	}
}

// newExchange takes an exchange from the engine's pool, or a new one.
func (e *engine) newExchange() *exchange {
	if x, ok := e.xpool.Get().(*exchange); ok {
		return x
	}
	return &exchange{e: e}
}

// putExchange readies x, whose handler has returned and whose response is
// finished, for a later request (unless Server.DisableRequestReuse).
func (e *engine) putExchange(x *exchange) {
	// A flush still outstanding (a panic or an error cut the response)
	// will fire on x.w: x is not reused.
	if e.s.DisableRequestReuse || x.req != nil || x.w.flushing {
		return
	}
	hdr, wh := x.hdr, x.w.header
	if len(hdr) > 64 || len(wh) > 64 { // outsized: let it go
		return
	}
	clear(hdr)
	clear(wh)
	flushCh := x.w.flushCh
	*x = exchange{e: e, hdr: hdr}
	x.w.header, x.w.flushCh = wh, flushCh
	e.xpool.Put(x)
}

func (x *exchange) serve(wk *worker) {
	x.mem = &reqMem{}
	x.ctx = &x.mem.ctx
	x.ctx.init(x.e, x.req)
	x.w.init(x, &wk.fb)
	hr, err := x.request(wk)
	if err != nil {
		x.w.status = http.StatusBadRequest
		x.w.wroteHeader = true
		x.w.fields().add("Content-Type", "text/plain; charset=utf-8")
		x.w.buf = append(x.w.buf, "400 Bad Request\n"...)
		x.finish()
		return
	}
	defer x.end(hr)
	x.e.hh.ServeHTTP(&x.w, hr)
}

// end runs deferred: a panic becomes a 500 if nothing has been sent yet;
// if part of the response is out already, the response is aborted (the
// connection closes without completing the framing, so the client sees a
// truncated body, never a complete one).  Otherwise the response is
// finished.
func (x *exchange) end(hr *http.Request) {
	if p := recover(); p != nil {
		if p != http.ErrAbortHandler {
			x.e.logPanic(hr.RemoteAddr, p)
		}
		if x.w.sentHeader {
			if p != http.ErrAbortHandler {
				x.e.logf("squall: response to %s aborted: the handler panicked after part of it was sent", hr.RemoteAddr)
			}
			x.abort()
			return
		}
		x.w.failed(p == http.ErrAbortHandler)
	}
	x.finish()
}

// finish ends the exchange: the rest of the response and the finish go to
// the library in one call.
func (x *exchange) finish() {
	if x.req == nil {
		return
	}
	x.body.close()
	x.ctx.finish()
	w := &x.w
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.waitFlush()
	w.send(w.buf, C.SQUALL_SEND_FINISH)
	w.release()
	x.req = nil
}

// abort ends the exchange by aborting the response (squall_response_abort
// semantics: the connection is closed, the framing left incomplete).
func (x *exchange) abort() {
	if x.req == nil {
		return
	}
	x.body.close()
	x.ctx.finish()
	x.w.send(nil, C.SQUALL_SEND_ABORT)
	x.w.release()
	x.req = nil
}

func (e *engine) logPanic(addr string, p any) {
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	e.logf("http: panic serving %s: %v\n%s", addr, p, buf)
}

// strbuf copies C strings into one Go allocation.
type strbuf struct{ b []byte }

func (s *strbuf) add(p unsafe.Pointer, n C.size_t) string {
	if n == 0 {
		return ""
	}
	start := len(s.b)
	s.b = append(s.b, unsafe.Slice((*byte)(p), int(n))...)
	return unsafe.String(&s.b[start], int(n))
}

// request builds the *http.Request (copies of everything it keeps).
func (x *exchange) request(wk *worker) (*http.Request, error) {
	ri := &x.info
	hs := wk.hdrs[:]
	n := int(ri.header_count)
	if n > len(hs) {
		hs = make([]C.squall_header, n)
	}
	if n > 0 {
		var cnt C.size_t
		if rc := C.sqgo_request_headers(x.req, (*C.char)(unsafe.Pointer(&hs[0])), C.size_t(len(hs)), &cnt); rc != 0 {
			return nil, codeErr("request_headers", rc)
		}
		n = min(int(cnt), len(hs))
	}
	hs = hs[:n]

	size := int(ri.uri_len+ri.host_len+ri.remote_ip_len) + 4
	for i := range hs {
		size += int(hs[i].name_len + hs[i].value_len)
	}
	var sb strbuf
	if size <= len(x.mem.str) {
		sb.b = x.mem.str[:0:len(x.mem.str)]
	} else {
		sb.b = make([]byte, 0, size)
	}

	header := x.hdr
	if header == nil {
		header = make(http.Header, n)
		x.hdr = header
	}
	var vals []string
	if n <= len(x.valsArr) {
		vals = x.valsArr[:n]
	} else {
		vals = make([]string, n)
	}
	var te, connClose, keepAlive bool
	for i := range hs {
		nb := cbytes(unsafe.Pointer(hs[i].name), hs[i].name_len)
		key, ok := commonHeaders[string(nb)]
		if !ok {
			key = http.CanonicalHeaderKey(sb.add(unsafe.Pointer(hs[i].name), hs[i].name_len))
		}
		v := sb.add(unsafe.Pointer(hs[i].value), hs[i].value_len)
		switch key {
		case "Host":
			continue // in r.Host, as net/http does
		case "Transfer-Encoding":
			te = true
			continue
		case "Connection":
			connClose = connClose || hasToken(v, "close")
			keepAlive = keepAlive || hasToken(v, "keep-alive")
		}
		if old, ok := header[key]; ok {
			header[key] = append(old, v)
		} else {
			vals[i] = v
			header[key] = vals[i : i+1 : i+1]
		}
	}

	uri := sb.add(unsafe.Pointer(ri.uri), ri.uri_len)
	u, err := x.parseURL(uri)
	if err != nil {
		return nil, err
	}
	proto := internProto(cstr(ri.version, ri.version_len))
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		major, minor = 1, 1
	}
	// As net/http: a chunked body is never http.NoBody (even when empty)
	// and its length is unknown to the handler (-1).
	var body io.ReadCloser = http.NoBody
	if ri.body_len > 0 || te {
		x.body.p = ri.body
		x.body.n = int(ri.body_len)
		body = &x.body
	}
	hr := http.Request{
		Method:        internMethod(cstr(ri.method, ri.method_len)),
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Body:          body,
		ContentLength: int64(ri.body_len),
		Host:          sb.add(unsafe.Pointer(ri.host), ri.host_len),
		RemoteAddr:    x.peer(&sb),
		RequestURI:    uri,
		Close:         connClose || (major == 1 && minor == 0 && !keepAlive) || major < 1,
	}
	if te {
		hr.TransferEncoding = []string{"chunked"}
		hr.ContentLength = -1
	}
	if x.e.https { // as net/http's TLS server: r.TLS set, r.URL as sent
		if t := tlsInfo(x.req); t != nil {
			hr.TLS = t.ConnectionState()
		}
	}
	// WithContext is the only way to set the context; its copy stays on
	// the stack and the request lives in the exchange (one allocation).
	x.hreq = *hr.WithContext(x.ctx)
	return &x.hreq, nil
}

// peer is RemoteAddr: "ip:port".  The C API gives the peer IP only, so the
// port is reported as 0.
func (x *exchange) peer(sb *strbuf) string {
	ip := cbytes(unsafe.Pointer(x.info.remote_ip), x.info.remote_ip_len)
	start := len(sb.b)
	v6 := bytes.IndexByte(ip, ':') >= 0
	if v6 {
		sb.b = append(sb.b, '[')
	}
	sb.b = append(sb.b, ip...)
	if v6 {
		sb.b = append(sb.b, ']')
	}
	sb.b = append(sb.b, ":0"...)
	return unsafe.String(&sb.b[start], len(sb.b)-start)
}

// parseURL: the common origin-form target without escapes is split
// directly (the result equals url.ParseRequestURI's); everything else goes
// through url.ParseRequestURI.
func (x *exchange) parseURL(uri string) (*url.URL, error) {
	ri := &x.info
	pl, ql := int(ri.path_len), int(ri.query_len)
	if pl > 0 && pl <= len(uri) && uri[0] == '/' && plainPath(uri[:pl]) &&
		uri[:pl] == cstr(ri.path, ri.path_len) {
		switch {
		case pl == len(uri):
			x.url.Path = uri
			return &x.url, nil
		case ql > 0 && pl+1+ql == len(uri) && uri[pl] == '?':
			x.url.Path = uri[:pl]
			x.url.RawQuery = uri[pl+1:]
			return &x.url, nil
		}
	}
	return url.ParseRequestURI(uri)
}

// plainPath: bytes that url.URL keeps as they are (no RawPath needed).
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		switch c {
		case '-', '_', '.', '~', '$', '&', '+', ',', '/', ':', ';', '=', '@':
			continue
		}
		return false
	}
	return true
}

func hasToken(v, tok string) bool {
	for v != "" {
		var part string
		part, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(strings.TrimSpace(part), tok) {
			return true
		}
	}
	return false
}

// commonHeaders maps common field names, as sent in canonical or lower
// case, to their canonical string, so they are not copied.
var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Authorization", "Cache-Control", "Cdn-Loop", "Connection", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Cookie",
		"Date", "Dnt", "Etag", "Expect", "Forwarded", "From", "Host", "If-Match",
		"If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Keep-Alive",
		"Origin", "Pragma", "Priority", "Range", "Referer", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile",
		"Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site",
		"Sec-Fetch-User", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Upgrade-Insecure-Requests", "User-Agent", "Via", "X-Forwarded-For",
		"X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
		"X-Requested-With",
	} {
		m[k] = k
		m[strings.ToLower(k)] = k
	}
	return m
}()

// bodyReader reads the request body in place (C memory, valid until the
// request is finished; reads after that fail instead of touching it).
type bodyReader struct {
	mu     sync.Mutex
	p      unsafe.Pointer
	n, off int
	closed bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.off >= b.n {
		return 0, io.EOF
	}
	k := copy(p, unsafe.Slice((*byte)(b.p), b.n)[b.off:])
	b.off += k
	return k, nil
}

func (b *bodyReader) Close() error {
	b.close()
	return nil
}

func (b *bodyReader) close() {
	b.mu.Lock()
	b.closed = true
	b.p = nil
	b.mu.Unlock()
}

// responseWriter is the http.ResponseWriter (and http.Flusher).  The
// status line and header fields are taken when WriteHeader runs (later
// changes to Header() have no effect, as in net/http) and handed to the
// library with the first body bytes, in one call (squall_response_send).
type responseWriter struct {
	x           *exchange
	header      http.Header
	status      int
	wroteHeader bool // status decided
	sentHeader  bool // status and fields handed to the library
	finished    bool
	sniff       bool  // Content-Type to detect from the first bytes
	cl          int64 // declared Content-Length, or -1
	written     int64
	buf         []byte
	fb          *fieldBuf // header fields (the worker's buffer) until sent
	flushCh     chan int
	flushing    bool // a flush's done callback is outstanding
	err         error
	ob          *outbuf
}

// outbuf holds a response's buffered body until the library has copied it.
type outbuf struct{ body []byte }

var outbufs = sync.Pool{New: func() any {
	return &outbuf{body: make([]byte, 0, 1024)}
}}

func (w *responseWriter) init(x *exchange, fb *fieldBuf) {
	w.x = x
	w.cl = -1
	w.ob = outbufs.Get().(*outbuf)
	w.buf = w.ob.body[:0]
	fb.reset()
	w.fb = fb
}

// fields is the field buffer of the head not sent yet.
func (w *responseWriter) fields() *fieldBuf { return w.fb }

// release returns the buffers once the library has copied them.
func (w *responseWriter) release() {
	w.finished = true
	if ob := w.ob; ob != nil {
		if cap(w.buf) <= 2*bufLimit {
			ob.body = w.buf[:0]
		}
		w.ob = nil
		outbufs.Put(ob)
	}
	w.buf = nil
	w.fb = nil
}

// Header returns the response header map.
func (w *responseWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

// WriteHeader sets the status code.  1xx codes other than 101 are ignored
// (the C API has no interim responses).
func (w *responseWriter) WriteHeader(code int) {
	if w.finished {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader {
		w.x.e.logf("http: superfluous response.WriteHeader call")
		return
	}
	if code < 200 && code != 101 {
		return
	}
	w.wroteHeader = true
	w.status = code
	hasCT := false
	fb := w.fields()
	for k, vv := range w.header {
		switch k {
		case "Transfer-Encoding", "Trailer":
			continue // the library frames the body
		case "Content-Length":
			if len(vv) == 0 {
				continue
			}
			v, err := strconv.ParseInt(strings.TrimSpace(vv[0]), 10, 64)
			if err != nil || v < 0 {
				w.x.e.logf("http: invalid Content-Length of %q", vv[0])
				continue
			}
			w.cl = v
			fb.add(k, strings.TrimSpace(vv[0]))
			continue
		case "Content-Type":
			hasCT = true
		}
		for _, v := range vv {
			fb.addHTTP(k, v)
		}
	}
	w.sniff = !hasCT && bodyAllowed(code) && len(w.header["Content-Encoding"]) == 0
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}

// Write buffers p (up to 64 KiB) and streams beyond that, waiting for the
// previous chunk to reach the kernel (backpressure).
func (w *responseWriter) Write(p []byte) (int, error) {
	if err := w.prepareWrite(len(p)); err != nil {
		return 0, err
	}
	if len(w.buf)+len(p) <= bufLimit {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if err := w.spill(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write without a conversion.
func (w *responseWriter) WriteString(s string) (int, error) {
	if err := w.prepareWrite(len(s)); err != nil {
		return 0, err
	}
	if len(w.buf)+len(s) <= bufLimit {
		w.buf = append(w.buf, s...)
		return len(s), nil
	}
	if err := w.spill(unsafe.Slice(unsafe.StringData(s), len(s))); err != nil {
		return 0, err
	}
	return len(s), nil
}

func (w *responseWriter) prepareWrite(n int) error {
	if w.finished {
		return errWriteAfterFinish
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return w.err
	}
	if w.cl >= 0 && w.written+int64(n) > w.cl {
		return http.ErrContentLength
	}
	w.written += int64(n)
	return nil
}

// spill hands the buffer and p to the library and flushes, keeping at most
// one flush in flight.
func (w *responseWriter) spill(p []byte) error {
	if err := w.waitFlush(); err != nil {
		return err
	}
	if len(w.buf) > 0 {
		if err := w.send(w.buf, 0); err != nil {
			return err
		}
		w.buf = w.buf[:0]
	}
	return w.send(p, C.SQUALL_SEND_FLUSH)
}

// Flush sends what was written and waits until it reached the kernel.
func (w *responseWriter) Flush() { w.FlushError() }

// FlushError is Flush with its error (used by http.ResponseController).
func (w *responseWriter) FlushError() error {
	if w.finished {
		return errWriteAfterFinish
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.waitFlush(); err != nil {
		return err
	}
	if err := w.send(w.buf, C.SQUALL_SEND_FLUSH); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return w.waitFlush()
}

func (w *responseWriter) waitFlush() error {
	if !w.flushing {
		return nil
	}
	st := <-w.flushCh
	w.flushing = false
	if st != 0 && w.err == nil {
		w.err = codeErr("response_flush", C.int(st))
	}
	return w.err
}

// fire is the flush done event.
func (w *responseWriter) fire(status int) {
	w.flushCh <- status
}

// send hands body to the library, with the status line and header fields
// the first time, in one squall_response_send call.  flags: 0 (write),
// SQUALL_SEND_FLUSH (flush and get a done event), FINISH or ABORT.
func (w *responseWriter) send(body []byte, flags C.uint) error {
	status := 0
	var hp C.uintptr_t
	var n C.size_t
	if !w.sentHeader && flags != C.SQUALL_SEND_ABORT {
		status = w.status
		if w.sniff && len(body) > 0 {
			w.fields().add("Content-Type", http.DetectContentType(body[:min(len(body), 512)]))
		}
		w.sniff = false
		hp, n = w.fb.array()
		w.sentHeader = true
	}
	var h cgo.Handle
	if flags == C.SQUALL_SEND_FLUSH {
		if w.flushCh == nil {
			w.flushCh = make(chan int, 1)
		}
		h = cgo.NewHandle(oneShot(w))
		flags = 0 // the wrapper flushes, with a done event for h
	}
	// body may point into a pooled buffer: passed as *C.char (pointer-free
	// bytes); hp is C memory (an integer).
	rc := C.sqgo_response_send(cptr(unsafe.Pointer(w.x.e.b)), cptr(unsafe.Pointer(w.x.req)), C.int(status), hp, n,
		(*C.char)(unsafe.Pointer(unsafe.SliceData(body))), C.size_t(len(body)), flags, C.uintptr_t(h))

	if h != 0 {
		if rc == 0 {
			w.flushing = true
		} else {
			h.Delete()
		}
	}
	if rc != 0 {
		if w.err == nil {
			w.err = codeErr("response", rc)
		}
		return w.err
	}
	return nil
}

// failed turns a panicking handler's response into a 500 (nothing has been
// sent yet).
func (w *responseWriter) failed(abort bool) {
	w.status = http.StatusInternalServerError
	w.wroteHeader = true
	w.sniff = false
	fb := w.fields()
	fb.reset()
	fb.add("Content-Type", "text/plain; charset=utf-8")
	fb.add("X-Content-Type-Options", "nosniff")
	if abort {
		fb.add("Connection", "close")
	}
	w.buf = append(w.buf[:0], "Internal Server Error\n"...)
}

var _ http.Flusher = (*responseWriter)(nil)
var _ io.StringWriter = (*responseWriter)(nil)
var _ net.Addr = (*net.TCPAddr)(nil)
