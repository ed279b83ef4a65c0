package squall

/*
#cgo pkg-config: squall
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Server serves HTTP/1.1 on a squall event loop.  The zero value plus Addr
// and Handler (or RawHandler) is a working server; the other fields map to
// squall's options (zero keeps squall's default, shown in brackets).
//
// The loop runs on its own goroutine locked to an OS thread (with Loops >
// 1, each loop runs on a thread of a squall group; see Loops).  Handler
// (a standard net/http Handler) is called on a worker goroutine per
// request; RawHandler, if set, is called by the dispatcher goroutine itself
// (see RequestHandler).
type Server struct {
	// Addr is "host:port" to listen on (":http" if empty).  An empty host
	// listens on every address of every family.
	Addr string

	// Handler serves requests through net/http's interface
	// (http.DefaultServeMux if nil).
	Handler http.Handler

	// RawHandler, if not nil, is used instead of Handler: the zero-copy
	// API, called on the loop thread (see RequestHandler).
	RawHandler RequestHandler

	// RawOffLoop calls RawHandler on a dispatcher goroutine instead of the
	// loop thread, so that the loop thread never runs Go: choose it when
	// the handler hands requests to goroutines that block (see
	// RequestHandler).
	RawOffLoop bool

	// Loops is the number of event loops serving the server, each on its
	// own thread [0 or 1: one loop].  With n > 1 (or -1: one per CPU) the
	// loops form a squall group: loop 0 accepts and hands each connection
	// to the loop with the fewest open connections (with ReusePort, each
	// loop listens on its own SO_REUSEPORT socket and the kernel spreads
	// connections).  A request is handled, answered and finished through
	// the loop that owns its connection; handlers may finish it from any
	// goroutine, as with one loop.  LoopIndex and Request.LoopIndex tell
	// which loop serves a request.
	Loops int

	// MaxHeaderBytes bounds the request head [64 KiB]; larger heads get 431.
	MaxHeaderBytes int
	// MaxHeaderCount bounds the number of header fields [100]; 431.
	MaxHeaderCount int
	// MaxBodyBytes bounds the request body [100 MiB]; larger bodies get 413.
	MaxBodyBytes int64
	// ReadHeaderTimeout is the time allowed to read a request head [60 s];
	// ReadTimeout is used if it is zero.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is the longest pause allowed between two reads of a
	// request body [60 s].
	ReadTimeout time.Duration
	// IdleTimeout is the keep-alive idle limit [75 s]; ReadTimeout is
	// used if it is zero.
	IdleTimeout time.Duration
	// DisableKeepAlives closes every connection after one response.
	DisableKeepAlives bool
	// XHeaders trusts X-Real-IP / X-Forwarded-For and X-Scheme /
	// X-Forwarded-Proto from the peer (behind a reverse proxy).
	XHeaders bool
	// TrustedProxies are proxy addresses skipped in X-Forwarded-For.
	TrustedProxies []string
	// ServerHeader is the Server value squall adds to every response it
	// writes, its own 4xx/5xx included [squall]; a handler's own Server
	// header wins.  DisableServerHeader leaves the field out, as net/http
	// does.
	ServerHeader        string
	DisableServerHeader bool
	// DecompressRequest gunzips request bodies sent with
	// Content-Encoding: gzip.
	DecompressRequest bool
	// MaxConnections pauses accepting past this many connections [0: no
	// limit].
	MaxConnections int
	// ReusePort sets SO_REUSEPORT, so several servers (one per loop) can
	// share a port.
	ReusePort bool
	// Backlog is the listen backlog [128].
	Backlog int
	// TLSConfig holds the HTTPS settings used by ListenAndServeTLS,
	// StartTLS and ServeTLS (ListenAndServe, Start and Serve ignore it, as
	// net/http's do).  It is read when the server starts.
	TLSConfig *TLSConfig
	// DisableRequestReuse makes the net/http adapter give every request a
	// fresh *http.Request, Header maps and ResponseWriter.  By default they
	// are reused once ServeHTTP has returned (as fasthttp reuses its
	// RequestCtx), so a handler must not keep the *http.Request, its Header
	// or the ResponseWriter after it returns (copy what is needed); the
	// request's Context stays valid (it is never reused).  Set it for
	// handlers that keep requests beyond ServeHTTP.
	DisableRequestReuse bool
	// ErrorLog receives panics of handlers and the library's error hook
	// reports (malformed requests, limits, timeouts); the standard logger
	// if nil.
	ErrorLog *log.Logger

	mu     sync.Mutex
	eng    *engine
	closed bool
}

// RequestHandler is the low-level, zero-copy handler interface.
//
// ServeSquall is called on the loop thread itself (the fastest path: with
// one loop the loop goroutine drives the loop through squall_loop_poll and
// calls the handler for each request it returns, so that no call goes
// from C into Go; an answer given during the call leaves before the loop
// next waits, the answers to a pipelined burst in one write), or with
// Server.RawOffLoop on a dispatcher goroutine.  Either way requests come one after another, so it
// must not block.  It either responds at once (r.Respond) or hands r to a
// goroutine that responds later; every request must be finished exactly
// once (Respond or Finish).  A Request finished during the call is
// reused for a later request: do not keep it (see Request).
//
// On the loop thread, Go code holds a Go P while the loop waits for I/O
// between calls.  With GOMAXPROCS=1 the loop therefore yields once per pass
// when a handler left a request to a goroutine, but other goroutines (the
// ones it starts that then wait on timers or the network, the rest of the
// program) can wait for the runtime to take the P back (tens of
// microseconds, up to milliseconds).  RawOffLoop avoids that.
type RequestHandler interface {
	ServeSquall(r *Request)
}

// HandlerFunc adapts a function to RequestHandler.
type HandlerFunc func(r *Request)

// ServeSquall calls f(r).
func (f HandlerFunc) ServeSquall(r *Request) { f(r) }

// ListenAndServe listens on addr and serves handler (a net/http Handler)
// on a squall loop.  It always returns a non-nil error.
func ListenAndServe(addr string, handler http.Handler) error {
	return (&Server{Addr: addr, Handler: handler}).ListenAndServe()
}

// ListenAndServeRaw listens on addr and serves the low-level handler h.
func ListenAndServeRaw(addr string, h RequestHandler) error {
	return (&Server{Addr: addr, RawHandler: h}).ListenAndServe()
}

// ListenAndServe listens on s.Addr and serves until Shutdown or Close, then
// returns http.ErrServerClosed (or the error that stopped it).
func (s *Server) ListenAndServe() error {
	if err := s.Start(); err != nil {
		return err
	}
	return s.wait()
}

// Serve serves on the listening socket of ln (a *net.TCPListener or
// *net.UnixListener, or anything with a SyscallConn): squall takes a
// duplicate of its file descriptor.  ln is closed when the server stops.
// It returns http.ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	fd, err := dupListener(ln)
	if err != nil {
		return err
	}
	if err := s.start(listenSpec{fd: fd, ln: ln}); err != nil {
		return err
	}
	return s.wait()
}

// Start listens on s.Addr and starts serving in the background; it returns
// once the socket is listening (so Port is known) or with the error.  Use
// Shutdown or Close to stop.
func (s *Server) Start() error { return s.listenAddr(":http", nil) }

// listenAddr starts serving on s.Addr (def if empty).
func (s *Server) listenAddr(def string, sp *tlsSpec) error {
	addr := s.Addr
	if addr == "" {
		addr = def
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return err
	}
	return s.start(listenSpec{host: host, port: port, fd: -1, tls: sp})
}

// Port is the TCP port the server listens on (useful with port 0), or 0.
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return 0
	}
	return s.eng.port
}

// ListenAddr is the address the server listens on, or nil before Start.
// (The method cannot be called Addr: that is the field.)
func (s *Server) ListenAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return nil
	}
	return s.eng.addr
}

// Close stops the server at once: listening sockets and connections are
// closed.  Handlers still running finish normally (their writes fail).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	e := s.eng
	s.mu.Unlock()
	if e == nil {
		return nil
	}
	if g := e.grp; g != nil { // a drain without grace: cut at once
		defer g.beginClose()
		freed := make(chan int, 1)
		if g.shutdown(0, func(int) { freed <- 0 }) && !e.inDispatch.Load() {
			<-freed
		}
		return nil
	}
	defer e.beginClose()
	freed := make(chan int, 1)
	h := cgo.NewHandle(oneShot(doneFunc(func(int) { freed <- 0 })))
	if !e.command(func() C.int { return C.sqgo_close(e.b, C.uintptr_t(h)) }) {
		h.Delete()
		return nil
	}
	if !e.inDispatch.Load() { // else the dispatcher would wait for itself
		<-freed
	}
	return nil
}

// Shutdown stops the server gracefully: it stops accepting, closes idle
// connections, lets requests in flight finish, and returns when they have
// (nil) or when ctx is done (ctx.Err(); if ctx has a deadline the
// connections still open are cut at that deadline).  ListenAndServe and
// Serve return http.ErrServerClosed at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	e := s.eng
	s.mu.Unlock()
	if e == nil {
		return nil
	}
	e.beginClose()
	e.beginClose()
	grace := int64(-1)
	if dl, ok := ctx.Deadline(); ok {
		grace = int64(time.Until(dl) / time.Millisecond)
		if grace < 0 {
			grace = 0
		}
	}
	if g := e.grp; g != nil {
		g.beginClose()
		g.shutdown(grace, nil)
		select {
		case <-g.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.command(func() C.int { return C.sqgo_shutdown(e.b, C.int64_t(grace)) })
	if e.inDispatch.Load() {
		return errors.New("squall: Shutdown called from a RawHandler would wait for itself")
	}
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type listenSpec struct {
	host string
	port int
	fd   int          // >= 0: serve this listening socket (Serve)
	ln   net.Listener // closed when the engine ends
	tls  *tlsSpec     // HTTPS if not nil
}

func (s *Server) start(spec listenSpec) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if spec.fd >= 0 {
			syscall.Close(spec.fd)
		}
		return http.ErrServerClosed
	}
	if s.eng != nil {
		s.mu.Unlock()
		if spec.fd >= 0 {
			syscall.Close(spec.fd)
		}
		return errors.New("squall: server already started")
	}
	e := &engine{s: s, done: make(chan struct{}), closing: make(chan struct{})}
	e.raw = s.RawHandler
	e.inline = e.raw != nil && !s.RawOffLoop
	e.poll = s.loops() == 1 && (e.inline && pollMode() || e.raw == nil && adapterPollMode())
	e.hh = s.Handler
	e.tls = spec.tls
	e.https = spec.tls != nil
	if e.raw == nil && e.hh == nil {
		e.hh = http.DefaultServeMux
	}
	s.eng = e
	s.mu.Unlock()
	if s.loops() != 1 {
		// e holds the place (Start again fails) while the group starts;
		// startGroup puts loop 0's engine there.
		err := s.startGroup(spec, e)
		if err != nil {
			s.mu.Lock()
			s.eng = nil
			s.mu.Unlock()
		}
		e.beginClose()
		close(e.done)
		return err
	}

	ready := make(chan error, 1)
	go e.run(spec, ready)
	if err := <-ready; err != nil {
		s.mu.Lock()
		s.eng = nil
		s.mu.Unlock()
		return err
	}
	return nil
}

func (s *Server) wait() error {
	s.mu.Lock()
	e := s.eng
	s.mu.Unlock()
	done := e.done
	if e.grp != nil {
		done = e.grp.done
	}
	select {
	case <-done:
	case <-e.closing:
	}
	return http.ErrServerClosed
}

// engine is one running server: a loop on its own thread, the C server,
// the bridge between them and Go, and the goroutine that dispatches the
// bridge's events.
type engine struct {
	s    *Server
	raw  RequestHandler
	hh   http.Handler
	port int
	addr net.Addr
	ln   net.Listener

	grp   *group // with Server.Loops: the group of loops e is one of
	index int    // the index of e's loop in grp (0 with one loop)

	loop *C.squall_loop
	b    *C.sqgo_bridge
	efd  *os.File // the bridge's eventfd, watched by Go's netpoller

	inDispatch atomic.Bool         // the dispatcher (or loop thread) is running a RawHandler
	yieldOn    bool                // GOMAXPROCS=1: yield after handing out a batch
	inline     bool                // RawHandler runs on the loop thread
	poll       bool                // inline on one loop: Go drives it (squall_loop_poll)
	free       []*Request          // Requests finished in their handler call, for reuse
	slab       []Request           // fresh Requests (newRequest)
	batch      []*C.squall_request // inline mode: requests taken per call
	inlineID   uintptr             // names e to the inline calls (inlineRef)

	// HTTPS: what the server serves with (ReloadTLS replaces it).
	https bool       // set at start
	tlsMu sync.Mutex // guards tls
	tls   *tlsSpec

	// net/http adapter: idle workers wait on work; finished exchanges wait
	// in xpool for reuse.
	work        chan *exchange
	xpool       sync.Pool
	idleWorkers atomic.Int32

	mu    sync.Mutex // guards alive: the bridge takes commands
	alive bool

	done      chan struct{} // closed when everything has ended
	closing   chan struct{} // closed when Shutdown or Close begins
	closeOnce sync.Once
}

// beginClose makes ListenAndServe / Serve return (as net/http's do when
// Shutdown or Close is called); the loop itself runs on until every request
// it handed out has been finished.
func (e *engine) beginClose() {
	e.closeOnce.Do(func() { close(e.closing) })
}

func (e *engine) logf(format string, args ...any) {
	if l := e.s.ErrorLog; l != nil {
		l.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// run is the loop goroutine.  It keeps its OS thread: the loop is created,
// set up and run there, and the thread runs only C from then on.  It exits
// with the goroutine (no UnlockOSThread).
func (e *engine) run(spec listenSpec, ready chan<- error) {
	runtime.LockOSThread()
	if err := e.setup(spec); err != nil {
		if e.b != nil {
			C.sqgo_bridge_stop(e.b)
		}
		if e.loop != nil {
			C.squall_loop_free(e.loop)
		}
		if e.b != nil {
			C.sqgo_bridge_free(e.b)
		}
		if e.efd != nil {
			e.efd.Close()
		}
		releaseInlineRef(e.inlineID)
		if spec.ln != nil {
			spec.ln.Close()
		}
		close(e.done)
		ready <- err
		return
	}
	e.ln = spec.ln
	e.work = make(chan *exchange)
	e.mu.Lock()
	e.alive = true
	e.mu.Unlock()
	go e.dispatch()
	ready <- nil

	C.sqgo_bridge_enter(e.b)
	if e.poll {
		e.drive()
	} else {
		C.squall_loop_run(e.loop)
	}

	e.mu.Lock()
	e.alive = false
	e.mu.Unlock()
	C.sqgo_bridge_stop(e.b)
	C.squall_loop_free(e.loop) // runs pending one-shot callbacks
	e.loop = nil
	C.sqgo_bridge_kill(e.b) // the dispatcher drains the last events and ends
	if e.ln != nil {
		e.ln.Close()
	}
}

func (e *engine) setup(spec listenSpec) (err error) {
	defer func() {
		if err != nil && spec.fd >= 0 {
			syscall.Close(spec.fd) // not handed over
		}
	}()
	if err := resultErr("loop_new", C.sqgo_loop_new(&e.loop)); err != nil {
		return err
	}
	if err := e.newBridge(); err != nil {
		return err
	}
	cfg, err := e.s.serverConfig(spec.tls)
	if err != nil {
		return err
	}
	var r C.sqgo_result
	if e.poll {
		r = C.sqgo_bridge_server_new_polled(e.b, cfg)
	} else {
		r = C.sqgo_bridge_server_new(e.b, cfg)
	}
	C.squall_config_free(cfg)
	if err := resultErr("server_new", r); err != nil {
		return err
	}
	srv := C.sqgo_bridge_server(e.b)
	if e.s.ErrorLog != nil {
		C.sqgo_bridge_error_hook(e.b)
	}
	if spec.fd >= 0 {
		if err := resultErr("add_socket", C.sqgo_server_add_socket(srv, C.int(spec.fd))); err != nil {
			return err
		}
		spec.fd = -1 // the server owns it now
		e.addr = spec.ln.Addr()
		if ta, ok := e.addr.(*net.TCPAddr); ok {
			e.port = ta.Port
		}
		return nil
	}
	var hp *C.char
	if spec.host != "" {
		hp = (*C.char)(unsafe.Pointer(unsafe.StringData(spec.host)))
	}
	if err := resultErr("listen", C.sqgo_server_listen(srv, hp, C.size_t(len(spec.host)), C.int(spec.port))); err != nil {
		return fmt.Errorf("listen tcp %s: %w", net.JoinHostPort(spec.host, strconv.Itoa(spec.port)), err)
	}
	var p C.uint16_t
	if C.squall_server_port(srv, &p) == 0 {
		e.port = int(p)
	}
	e.addr = &net.TCPAddr{IP: net.ParseIP(spec.host), Port: e.port}
	return nil
}

// newBridge makes e's bridge on e.loop (and its inline reference).
func (e *engine) newBridge() error {
	fill := C.int(1)
	if e.raw != nil {
		fill = 0 // the low-level API reads fields lazily
	}
	e.yieldOn = yieldMode()
	yield := C.int(0)
	if e.yieldOn && !e.poll { // poll mode: drive yields itself
		yield = 1
	}
	if e.inline {
		e.inlineID = inlineRef(e)
	}
	var efd C.int
	if err := resultErr("bridge", C.sqgo_bridge_new(&e.b, e.loop, fill, C.uintptr_t(e.inlineID), yield, &efd)); err != nil {
		return err
	}
	e.efd = os.NewFile(uintptr(efd), "squall-bridge") // non-blocking: uses the netpoller
	return nil
}

// pollBatch is the most requests one sqgo_poll call returns.
const pollBatch = 256

// drive runs the loop in poll mode, on the loop goroutine (locked to the
// loop's thread): each sqgo_poll call runs loop passes until requests are
// ready and returns them, and the RawHandler serves them right here.  The
// hot path makes only calls into C (sqgo_poll, then the response call);
// answers given here go out before the loop next waits, those of a
// pipelined burst in one write.  It returns once the loop was stopped
// (the server is gone and every request handed out has been finished).
func (e *engine) drive() {
	arr := C.malloc(C.size_t(pollBatch) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(arr)
	reqs := unsafe.Slice((**C.squall_request)(arr), pollBatch)
	for {
		r := C.sqgo_poll(cptr(unsafe.Pointer(e.b)), -1, cptr(arr), pollBatch)
		if r < 0 {
			// Cannot happen while the loop lives (the arguments are valid
			// and this is its thread): report it and end the loop.
			e.logf("squall: squall_loop_poll: %v", codeErr("loop_poll", C.int(r)))
			return
		}
		n := int(r &^ (C.SQGO_POLL_STOPPED | C.SQGO_POLL_DONE))
		pending := r&C.SQGO_POLL_DONE != 0 // a goroutine may wait for it
		if e.raw == nil {                  // the adapter: to the workers
			for _, req := range reqs[:n] {
				x := e.newExchange()
				x.req = req
				C.sqgo_request_info(req, &x.info)
				e.handOut(x)
			}
			pending = pending || n > 0
		} else {
			for _, req := range reqs[:n] {
				if e.serveRaw(req) {
					pending = true
				}
			}
		}
		if r&C.SQGO_POLL_STOPPED != 0 && n == 0 {
			return
		}
		if pending && e.yieldOn {
			// One P: let the goroutines the handlers started (or the done
			// callbacks woke) run now (the next poll blocks in C holding
			// it).
			runtime.Gosched()
		}
	}
}

// dispatch takes the bridge's events in batches: new requests, and done
// callbacks (flush, on_done, close).
func (e *engine) dispatch() {
	evs := make([]C.sqgo_event, 128)
	var buf [8]byte
	for {
		n := int(C.sqgo_bridge_poll(e.b, (*C.char)(unsafe.Pointer(&evs[0])), C.size_t(len(evs))))
		if n < 0 {
			break // the loop is gone and every event has been handled
		}
		workers := false
		for i := 0; i < n; i++ {
			workers = e.event(&evs[i]) || workers
		}
		if n == len(evs) {
			continue
		}
		if workers && e.yieldOn {
			// One P: let the workers just handed requests run now, so
			// their responses reach the loop in one batch.
			runtime.Gosched()
		}
		if _, err := e.efd.Read(buf[:]); err != nil {
			e.logf("squall: reading the bridge eventfd: %v", err)
			time.Sleep(time.Millisecond)
		}
	}
	close(e.work) // idle workers exit
	e.efd.Close()
	C.sqgo_bridge_free(e.b)
	releaseInlineRef(e.inlineID)
	close(e.done)
}

// event handles one bridge event; true if it woke a worker.
func (e *engine) event(ev *C.sqgo_event) bool {
	switch ev.kind {
	case C.SQGO_EV_REQUEST:
		if e.raw != nil {
			e.serveRaw(ev.req)
			return false
		}
		e.dispatchHTTP(ev.req, &ev.info)
		return true
	case C.SQGO_EV_ERROR:
		msg := C.GoStringN(ev.text, C.int(ev.text_len))
		peer := C.GoStringN((*C.char)(unsafe.Add(unsafe.Pointer(ev.text), ev.text_len)), C.int(ev.peer_len))
		C.free(unsafe.Pointer(ev.text))
		e.logf("squall: %s error (status %d) from %s: %s", errorKind(int(ev.handle)), int(ev.status), peer, msg)
	case C.SQGO_EV_DONE:
		h := cgo.Handle(ev.handle)
		v := h.Value().(oneShot)
		h.Delete()
		v.fire(int(ev.status))
		return true
	}
	return false
}

// command pushes a lifecycle command if the loop still takes them.
func (e *engine) command(push func() C.int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.alive && push() == 0
}

// serverConfig is s.config plus the HTTPS settings of sp (if not nil).
func (s *Server) serverConfig(sp *tlsSpec) (*C.squall_config, error) {
	cfg, err := s.config()
	if err != nil || sp == nil {
		return cfg, err
	}
	if err := sp.apply(cfg); err != nil {
		C.squall_config_free(cfg)
		return nil, err
	}
	return cfg, nil
}

func (s *Server) config() (*C.squall_config, error) {
	var cfg *C.squall_config
	if rc := C.squall_config_new(&cfg); rc != 0 {
		return nil, codeErr("config_new", rc)
	}
	var err error
	set := func(name string, key C.int, v int64) {
		if err == nil {
			err = resultErr("config "+name, C.sqgo_config_set_int(cfg, key, C.int64_t(v)))
		}
	}
	ms := func(d time.Duration) int64 { return int64((d + time.Millisecond - 1) / time.Millisecond) }
	if s.MaxHeaderBytes > 0 {
		set("MaxHeaderBytes", C.SQUALL_OPT_MAX_HEADER_SIZE, int64(s.MaxHeaderBytes))
	}
	if s.MaxHeaderCount > 0 {
		set("MaxHeaderCount", C.SQUALL_OPT_MAX_HEADER_COUNT, int64(s.MaxHeaderCount))
	}
	if s.MaxBodyBytes > 0 {
		set("MaxBodyBytes", C.SQUALL_OPT_MAX_BODY_SIZE, s.MaxBodyBytes)
	}
	if d := s.ReadHeaderTimeout; d > 0 {
		set("ReadHeaderTimeout", C.SQUALL_OPT_HEADER_TIMEOUT_MS, ms(d))
	} else if d := s.ReadTimeout; d > 0 {
		set("ReadTimeout", C.SQUALL_OPT_HEADER_TIMEOUT_MS, ms(d))
	}
	if d := s.ReadTimeout; d > 0 {
		set("ReadTimeout", C.SQUALL_OPT_BODY_TIMEOUT_MS, ms(d))
	}
	if d := s.IdleTimeout; d > 0 {
		set("IdleTimeout", C.SQUALL_OPT_IDLE_TIMEOUT_MS, ms(d))
	} else if d := s.ReadTimeout; d > 0 {
		set("ReadTimeout", C.SQUALL_OPT_IDLE_TIMEOUT_MS, ms(d))
	}
	if s.DisableKeepAlives {
		set("DisableKeepAlives", C.SQUALL_OPT_NO_KEEP_ALIVE, 1)
	}
	if s.XHeaders {
		set("XHeaders", C.SQUALL_OPT_XHEADERS, 1)
	}
	if s.DecompressRequest {
		set("DecompressRequest", C.SQUALL_OPT_DECOMPRESS_REQUEST, 1)
	}
	if s.MaxConnections > 0 {
		set("MaxConnections", C.SQUALL_OPT_MAX_CONNECTIONS, int64(s.MaxConnections))
	}
	if s.ReusePort {
		set("ReusePort", C.SQUALL_OPT_REUSE_PORT, 1)
	}
	if s.Backlog > 0 {
		set("Backlog", C.SQUALL_OPT_BACKLOG, int64(s.Backlog))
	}
	setStr := func(name string, key C.int, v string) {
		if err == nil {
			err = resultErr("config "+name, C.sqgo_config_set_str(cfg, key,
				(*C.char)(unsafe.Pointer(unsafe.StringData(v))), C.size_t(len(v))))
		}
	}
	if len(s.TrustedProxies) > 0 {
		setStr("TrustedProxies", C.SQUALL_OPT_TRUSTED_DOWNSTREAM, strings.Join(s.TrustedProxies, ","))
	}
	if s.DisableServerHeader {
		setStr("DisableServerHeader", C.SQUALL_OPT_SERVER_HEADER, "")
	} else if s.ServerHeader != "" {
		setStr("ServerHeader", C.SQUALL_OPT_SERVER_HEADER, s.ServerHeader)
	}
	if err != nil {
		C.squall_config_free(cfg)
		return nil, err
	}
	return cfg, nil
}

// dupListener returns a close-on-exec duplicate of ln's socket.
func dupListener(ln net.Listener) (int, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1, errors.New("squall: Serve needs a listener with a file descriptor (syscall.Conn)")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	err = rc.Control(func(s uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			derr = os.NewSyscallError("fcntl", errno)
			return
		}
		fd = int(r)
	})
	if err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	return fd, nil
}

// pollMode: an inline RawHandler on one loop is served through
// squall_loop_poll unless SQUALL_GO_POLL=0 (the callback path, kept for
// measurements and as a fallback).
func pollMode() bool { return os.Getenv("SQUALL_GO_POLL") != "0" }

// adapterPollMode: SQUALL_GO_POLL=adapter serves the net/http adapter
// through squall_loop_poll too (the loop goroutine hands requests to the
// workers and yields).  Off by default: measured slower than the bridge at
// GOMAXPROCS=1 (see bench/go/RESULTS.md).
func adapterPollMode() bool { return os.Getenv("SQUALL_GO_POLL") == "adapter" }

// yieldMode: with one P, the workers the dispatcher hands a batch to run
// only when it lets them; it yields once per batch so that their responses
// reach the loop together.  SQUALL_GO_YIELD=0/1 overrides (measurements).
func yieldMode() bool {
	switch os.Getenv("SQUALL_GO_YIELD") {
	case "0":
		return false
	case "1":
		return true
	}
	return runtime.GOMAXPROCS(0) == 1
}

// The inline calls (one per request) name their engine with an integer:
// an index into this table when a slot is free (a load), else a
// cgo.Handle (a sync.Map lookup).  Odd values are indexes, even ones
// handles shifted left.
var (
	inlineMu    sync.Mutex
	inlineTable [256]atomic.Pointer[engine]
)

func inlineRef(e *engine) uintptr {
	inlineMu.Lock()
	defer inlineMu.Unlock()
	for i := range inlineTable {
		if inlineTable[i].Load() == nil {
			inlineTable[i].Store(e)
			return uintptr(i)<<1 | 1
		}
	}
	return uintptr(cgo.NewHandle(e)) << 1
}

func inlineEngine(id uintptr) *engine {
	if id&1 != 0 {
		return inlineTable[id>>1].Load()
	}
	return cgo.Handle(id >> 1).Value().(*engine)
}

func releaseInlineRef(id uintptr) {
	switch {
	case id == 0:
	case id&1 != 0:
		inlineTable[id>>1].Store(nil)
	default:
		cgo.Handle(id >> 1).Delete()
	}
}
