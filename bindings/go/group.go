package squall

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"runtime/cgo"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// Several loops (Server.Loops): one squall_group, whose own threads run
// the loops.  Each loop has its own engine (bridge, dispatcher goroutine,
// worker pool), so a request, its response and its done callbacks stay
// with the loop that owns the connection, as with one loop.  The group's
// threads are C threads: with the net/http adapter (and RawOffLoop) they
// never run Go; an inline RawHandler runs on them through cgo callbacks.

// group is the Go side of a running squall_group.
type group struct {
	c       *C.sqgo_group
	engines []*engine // engines[i] serves loop i
	done    chan struct{}

	mu    sync.Mutex // guards alive: c takes a shutdown
	alive bool
}

// loopKey is the context key under which a net/http request's context
// holds the index of the loop serving it (see LoopIndex).
type loopKey struct{}

// LoopIndex is the index (0 .. n-1) of the loop serving the request whose
// context is ctx (an *http.Request's Context(), or one derived from it),
// or -1 if ctx is not a squall request's.  With one loop it is 0.
func LoopIndex(ctx context.Context) int {
	if i, ok := ctx.Value(loopKey{}).(int); ok {
		return i
	}
	return -1
}

// NumLoops is the number of loops serving s once started (with Loops: -1,
// one per CPU as the library counts them), or 0 before Start.
func (s *Server) NumLoops() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.eng == nil:
		return 0
	case s.eng.grp != nil:
		return len(s.eng.grp.engines)
	}
	return 1
}

// loops is the number of loops to make: 1 for the single-loop server,
// 0 for one per CPU (the group decides), else n.
func (s *Server) loops() int {
	switch {
	case s.Loops < 0:
		return 0
	case s.Loops == 0:
		return 1
	}
	return s.Loops
}

// startGroup starts a group of engines; proto holds the settings every
// engine copies.  The calls before squall_group_start are made on one
// locked thread (the group's rule: the thread that made it starts it).
func (s *Server) startGroup(spec listenSpec, proto *engine) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fdOwned := spec.fd >= 0
	defer func() {
		if err != nil {
			if fdOwned {
				syscall.Close(spec.fd)
			}
			if spec.ln != nil {
				spec.ln.Close()
			}
		}
	}()
	cfg, err := s.serverConfig(spec.tls)
	if err != nil {
		return err
	}
	g := &group{done: make(chan struct{})}
	r := C.sqgo_group_new(&g.c, C.int(s.loops()), cfg)
	C.squall_config_free(cfg)
	if err := resultErr("group_new", r); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			g.free()
		}
	}()
	n := int(C.sqgo_group_size(g.c))
	for i := 0; i < n; i++ {
		e := proto.clone(i)
		e.grp = g
		g.engines = append(g.engines, e)
		if err := e.attach(g, i); err != nil {
			return err
		}
	}
	e0 := g.engines[0]
	if spec.fd >= 0 {
		fdOwned = false
		if err := resultErr("add_socket", C.sqgo_group_add_socket(g.c, C.int(spec.fd))); err != nil {
			return err
		}
		e0.addr = spec.ln.Addr()
		if ta, ok := e0.addr.(*net.TCPAddr); ok {
			e0.port = ta.Port
		}
		e0.ln = spec.ln
		spec.ln = nil
	} else {
		var hp *C.char
		if spec.host != "" {
			hp = (*C.char)(unsafe.Pointer(unsafe.StringData(spec.host)))
		}
		if err := resultErr("listen", C.sqgo_group_listen(g.c, hp, C.size_t(len(spec.host)), C.int(spec.port))); err != nil {
			return fmt.Errorf("listen tcp %s: %w", net.JoinHostPort(spec.host, strconv.Itoa(spec.port)), err)
		}
		var p C.uint16_t
		if C.sqgo_group_port(g.c, &p) == 0 {
			e0.port = int(p)
		}
		e0.addr = &net.TCPAddr{IP: net.ParseIP(spec.host), Port: e0.port}
	}
	if err := resultErr("group_start", C.sqgo_group_start(g.c)); err != nil {
		return err
	}
	g.alive = true
	for _, e := range g.engines {
		e.work = make(chan *exchange)
		e.mu.Lock()
		e.alive = true
		e.mu.Unlock()
		go e.dispatch()
	}
	go g.reap()
	s.mu.Lock()
	s.eng = e0
	s.mu.Unlock()
	return nil
}

// clone makes the engine of loop i from the settings of e.
func (e *engine) clone(i int) *engine {
	return &engine{s: e.s, raw: e.raw, hh: e.hh, inline: e.inline, tls: e.tls, https: e.https,
		index: i, done: make(chan struct{}), closing: make(chan struct{})}
}

// attach makes e's bridge on loop i of g.
func (e *engine) attach(g *group, i int) error {
	e.loop = C.sqgo_group_loop(g.c, C.int(i))
	if err := e.newBridge(); err != nil {
		return err
	}
	if rc := C.sqgo_group_attach(g.c, C.int(i), e.b); rc != 0 {
		C.sqgo_bridge_free(e.b)
		e.b = nil
		return codeErr("group_attach", rc)
	}
	if e.s.ErrorLog != nil {
		if rc := C.sqgo_bridge_error_hook(e.b); rc != 0 {
			return codeErr("error_hook", rc)
		}
	}
	return nil
}

// free undoes a group whose start failed (no dispatcher runs).
func (g *group) free() {
	C.sqgo_group_end(g.c) // kills the attached bridges
	for _, e := range g.engines {
		if e.b != nil {
			C.sqgo_bridge_free(e.b)
		}
		if e.efd != nil {
			e.efd.Close()
		}
		releaseInlineRef(e.inlineID)
	}
}

// reap waits for every loop to stop (after a drain and once Go finished
// every request it was handed), then frees the group; the dispatchers then
// end and close their engines' done.
func (g *group) reap() {
	C.sqgo_group_join(g.c)
	g.mu.Lock()
	g.alive = false
	g.mu.Unlock()
	for _, e := range g.engines {
		e.mu.Lock()
		e.alive = false // no ReloadTLS from now on
		e.mu.Unlock()
	}
	C.sqgo_group_end(g.c)
	for _, e := range g.engines {
		<-e.done
	}
	if ln := g.engines[0].ln; ln != nil {
		ln.Close()
	}
	close(g.done)
}

// shutdown drains every loop (grace_ms < 0: no deadline); done, if not
// nil, runs when every server is drained.  False if a drain ran already
// or the group is gone (done is not called then).
func (g *group) shutdown(graceMS int64, done func(int)) bool {
	var h cgo.Handle
	if done != nil {
		h = cgo.NewHandle(oneShot(doneFunc(done)))
	}
	g.mu.Lock()
	ok := g.alive && C.sqgo_group_shutdown(g.c, C.int64_t(graceMS), C.uintptr_t(h)) == 0
	g.mu.Unlock()
	if !ok && h != 0 {
		h.Delete()
	}
	return ok
}

// beginClose makes ListenAndServe / Serve return on every engine.
func (g *group) beginClose() {
	for _, e := range g.engines {
		e.beginClose()
	}
}
