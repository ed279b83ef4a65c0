// Package squall serves HTTP/1.1 with squall, a Tornado-style C++ server on
// libevent, through its C ABI (cgo, `#cgo pkg-config: squall`).
//
// Two APIs share one Server:
//
//   - the net/http adapter: Server.Handler is a standard http.Handler
//     (http.ServeMux, middleware, routers), served on goroutines with a
//     standard *http.Request and an http.ResponseWriter that is also an
//     http.Flusher; squall.ListenAndServe(addr, handler) is the one-liner.
//   - the low-level API: Server.RawHandler is a RequestHandler called on
//     the loop thread (or, with Server.RawOffLoop, on a dispatcher
//     goroutine) with a *Request whose accessors can return the request's
//     bytes without copying; Request.Respond answers in one call.
//
// HTTPS: ListenAndServeTLS, Server.ListenAndServeTLS / StartTLS / ServeTLS
// and Server.TLSConfig (a crypto/tls-like subset: certificates from files
// or PEM, MinVersion, cipher suites, client certificates, tickets, the
// handshake timeout) serve TLS with OpenSSL inside libsquall;
// Server.ReloadTLS swaps certificates without a restart.  Handlers get
// r.TLS (a *tls.ConnectionState) or, in the low-level API, Request.TLS.
//
// Each Server runs one squall loop on its own goroutine, locked to an OS
// thread (runtime.LockOSThread).  For the net/http adapter (and
// RawOffLoop) that thread runs only C from then on: a Go callback on the
// loop thread would make it hold a Go P while it waits in epoll, stalling
// the rest of the program (at GOMAXPROCS=1) until the runtime's sysmon
// takes the P back.  Instead a small C bridge (shim.c)
// queues the loop's events (new requests, done callbacks) and signals an
// eventfd that Go's netpoller watches; a dispatcher goroutine takes them in
// batches.  Each response goes back in one squall_response_send call, which
// the library accepts from any thread (it queues one command to the loop
// and wakes it once per batch).  A RawHandler without RawOffLoop is instead
// called directly on the loop thread through an //export trampoline, and
// answers there with direct C calls.  Go values the C side must name travel
// as integers (runtime/cgo.Handle values, deleted when their one-shot event
// fires), never as Go pointers kept by C.
//
// With Server.Loops > 1 the loops are a squall group (squall_group_*) run
// by the group's own threads (C threads: Go runs there only through the
// inline RawHandler's callbacks); each loop has its own bridge, dispatcher
// goroutine and workers, chosen per request by its loop
// (squall_group_loop_index), so a response goes back through the loop
// that owns the connection.  Shutdown is squall_group_shutdown.
//
// A response that fails after part of it was sent (a handler panics after
// a Flush) is aborted, never finished: the client sees a truncated body.
//
// Shutdown stops gracefully (squall_server_shutdown), Close at once; both
// make ListenAndServe and Serve return http.ErrServerClosed.
package squall
