// Package squall serves HTTP/1.1 with squall, a Tornado-style C++ server on
// libevent, through its C ABI (cgo, `#cgo pkg-config: squall`).
//
// Two APIs share one Server:
//
//   - the net/http adapter: Server.Handler is a standard http.Handler
//     (http.ServeMux, middleware, routers), served on goroutines with a
//     standard *http.Request and an http.ResponseWriter that is also an
//     http.Flusher; squall.ListenAndServe(addr, handler) is the one-liner.
//   - the low-level API: Server.RawHandler is a RequestHandler called on the
//     loop thread with a *Request whose accessors can return the request's
//     bytes without copying; Request.Respond answers in one C call.
//
// Each Server runs one squall loop on its own goroutine, locked to an OS
// thread (runtime.LockOSThread): libsquall calls back into Go only on that
// thread.  Callbacks reach Go through //export trampolines with
// runtime/cgo.Handle values passed as integers; the C library's release
// callbacks delete the handles.  Responses may be written from any
// goroutine: the C library queues them to the loop.
//
// Shutdown stops gracefully (squall_server_shutdown), Close at once; both
// make ListenAndServe and Serve return http.ErrServerClosed.
package squall
