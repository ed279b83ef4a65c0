package squall

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// The functions the C side calls directly, on the loop thread, in inline
// mode only (RawHandler): the handler, done callbacks and the yield.
// Everything else reaches Go as bridge events (see shim.h).  None may let a
// panic escape: a Go panic unwinding through C frames kills the process.

// oneShot is the value behind a handle given with a one-shot command (flush,
// on_done, close); the dispatcher deletes the handle before firing.
type oneShot interface {
	fire(status int)
}

// doneFunc adapts a plain function to oneShot.
type doneFunc func(status int)

func (f doneFunc) fire(status int) { f(status) }

// Inline mode (RawHandler on the loop thread): the bridge calls these on
// the loop thread: sqgoGoBatch once per loop pass for the requests queued
// in it, sqgoGoHandler for one request inside the read pass of its
// connection (while clients pipeline: an answer given during the call
// joins the responses the library gathers into one write for the burst).
// sqgoGoHandler returns 1 if the handler left the request unfinished
// (handed to a goroutine).

//export sqgoGoHandler
func sqgoGoHandler(req *C.squall_request, h C.uintptr_t) C.int {
	if inlineEngine(uintptr(h)).serveRaw(req) {
		return 1
	}
	return 0
}

//export sqgoGoBatch
func sqgoGoBatch(h C.uintptr_t) C.int {
	e := inlineEngine(uintptr(h))
	if e.batch == nil {
		e.batch = make([]*C.squall_request, 64)
	}
	pending := false
	for {
		n := int(C.sqgo_inline_take(cptr(unsafe.Pointer(e.b)), (*C.char)(unsafe.Pointer(&e.batch[0])), C.size_t(len(e.batch))))
		if n == 0 {
			break
		}
		for _, req := range e.batch[:n] {
			if e.serveRaw(req) {
				pending = true
			}
		}
	}
	if pending && e.yieldOn {
		return 1 // a handler went asynchronous: let its goroutine run
	}
	return 0
}

//export sqgoGoDone
func sqgoGoDone(status C.int, h C.uintptr_t) {
	hd := cgo.Handle(h)
	v := hd.Value().(oneShot)
	hd.Delete()
	v.fire(int(status))
}

//export sqgoGoYield
func sqgoGoYield(h C.uintptr_t) {
	runtime.Gosched()
}

func errorKind(k int) string {
	switch k {
	case C.SQUALL_ERRKIND_PARSE:
		return "parse"
	case C.SQUALL_ERRKIND_LIMIT:
		return "limit"
	case C.SQUALL_ERRKIND_TIMEOUT:
		return "timeout"
	case C.SQUALL_ERRKIND_TLS:
		return "tls"
	case C.SQUALL_ERRKIND_IO:
		return "io"
	case C.SQUALL_ERRKIND_APPLICATION:
		return "application"
	}
	return "unknown"
}

// cptr passes a C pointer as an integer (see shim.h).
func cptr(p unsafe.Pointer) C.uintptr_t { return C.uintptr_t(uintptr(p)) }

// cstr returns a borrowed Go string over C memory (no copy).
func cstr(p *C.char, n C.size_t) string {
	if n == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(p)), int(n))
}

// cbytes returns a borrowed byte slice over C memory (no copy).
func cbytes(p unsafe.Pointer, n C.size_t) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}
