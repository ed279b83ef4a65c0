package squall

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"sync"
	"time"
)

// reqCtx is a request's context.Context.  It is cancelled when the client
// goes away (squall_request_on_done reports SQUALL_ECLOSED) or when the
// response is finished.  The on_done registration is made lazily, the first
// time someone asks (Done, Err or a derived context), so requests whose
// handlers never look cost nothing.
type reqCtx struct {
	e   *engine
	req *C.squall_request // nil once finished

	mu         sync.Mutex
	done       chan struct{}
	err        error
	registered bool
	afters     map[*afterFn]struct{}
}

type afterFn struct{ f func() }

func (c *reqCtx) init(e *engine, req *C.squall_request) {
	c.e = e
	c.req = req
}

func (c *reqCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *reqCtx) Value(key any) any {
	if _, ok := key.(loopKey); ok {
		return c.e.index
	}
	return nil
}

func (c *reqCtx) String() string { return "squall.requestContext" }

func (c *reqCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else {
			c.registerLocked()
		}
	}
	return c.done
}

func (c *reqCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.registerLocked()
	}
	return c.err
}

// AfterFunc lets context.WithCancel and friends watch this context without
// a goroutine per derived context (the context package looks for it).
func (c *reqCtx) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	c.registerLocked()
	a := &afterFn{f: f}
	if c.afters == nil {
		c.afters = make(map[*afterFn]struct{})
	}
	c.afters[a] = struct{}{}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.afters[a]; ok {
			delete(c.afters, a)
			return true
		}
		return false
	}
}

func (c *reqCtx) registerLocked() {
	if c.registered || c.req == nil {
		return
	}
	c.registered = true
	h := cgo.NewHandle(oneShot(c))
	if rc := C.sqgo_on_done(c.e.b, c.req, C.uintptr_t(h)); rc != 0 {
		h.Delete()
		if Errno(rc) == ECLOSED {
			c.cancelLocked()
		}
	}
}

// fire is the on_done event.
func (c *reqCtx) fire(status int) {
	if status == 0 {
		return
	}
	c.mu.Lock()
	c.cancelLocked()
	c.mu.Unlock()
}

// finish marks the request finished (before squall_response_finish) and
// cancels the context, as net/http does when ServeHTTP returns.  It tells
// whether an on_done registration was made.
func (c *reqCtx) finish() bool {
	c.mu.Lock()
	c.req = nil
	c.cancelLocked()
	r := c.registered
	c.mu.Unlock()
	return r
}

func (c *reqCtx) cancelLocked() {
	if c.err != nil {
		return
	}
	c.err = context.Canceled
	if c.done != nil {
		close(c.done)
	}
	for a := range c.afters {
		go a.f()
	}
	c.afters = nil
}
