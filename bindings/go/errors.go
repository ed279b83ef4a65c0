package squall

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// Errno is a libsquall status code (the negative SQUALL_E* values).
// Errors returned by this package wrap an Errno, so callers can test them
// with errors.Is(err, squall.ECLOSED).
type Errno int

// The SQUALL_E* codes of squall.h.
const (
	ERROR      Errno = C.SQUALL_ERROR
	ENOMEM     Errno = C.SQUALL_ENOMEM
	EINVAL     Errno = C.SQUALL_EINVAL
	ESTATE     Errno = C.SQUALL_ESTATE
	ETHREAD    Errno = C.SQUALL_ETHREAD
	ECLOSED    Errno = C.SQUALL_ECLOSED
	ENOTFOUND  Errno = C.SQUALL_ENOTFOUND
	ENOTSUP    Errno = C.SQUALL_ENOTSUP
	EADDRINUSE Errno = C.SQUALL_EADDRINUSE
	ETLS       Errno = C.SQUALL_ETLS // a bad certificate, key, version or cipher
	ETIMEDOUT  Errno = C.SQUALL_ETIMEDOUT
	ETOOBIG    Errno = C.SQUALL_ETOOBIG
	EIO        Errno = C.SQUALL_EIO
	EBUSY      Errno = C.SQUALL_EBUSY
	EPERM      Errno = C.SQUALL_EPERM
)

// Error returns the library's static text for the code.
func (e Errno) Error() string {
	return C.GoString(C.squall_strerror(C.int(e)))
}

// Is lets errors.Is match the closest standard errors as well:
// EADDRINUSE matches syscall.EADDRINUSE, EPERM matches os.ErrPermission,
// ETIMEDOUT matches os.ErrDeadlineExceeded, ENOTFOUND matches
// os.ErrNotExist.
func (e Errno) Is(target error) bool {
	switch e {
	case EADDRINUSE:
		return target == syscall.EADDRINUSE
	case EPERM:
		return target == os.ErrPermission
	case ETIMEDOUT:
		return target == os.ErrDeadlineExceeded
	case ENOTFOUND:
		return target == os.ErrNotExist
	}
	return false
}

// Error is a failed libsquall call: the operation, the code and, when the
// library gave one, its detailed message (squall_last_error, read on the
// OS thread that made the call).
type Error struct {
	Op   string
	Code Errno
	Msg  string
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return "squall: " + e.Op + ": " + e.Msg
	}
	return "squall: " + e.Op + ": " + e.Code.Error()
}

// Unwrap returns the Errno.
func (e *Error) Unwrap() error { return e.Code }

// ErrFinished is returned by response calls on a request whose response
// was already finished.
var ErrFinished = errors.New("squall: response already finished")

func codeErr(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return &Error{Op: op, Code: Errno(rc)}
}

func resultErr(op string, r C.sqgo_result) error {
	if r.rc == 0 {
		return nil
	}
	e := &Error{Op: op, Code: Errno(r.rc)}
	if r.msg != nil {
		e.Msg = C.GoString(r.msg)
		C.free(unsafe.Pointer(r.msg))
	}
	return e
}
