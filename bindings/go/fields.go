package squall

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// fieldBuf builds the squall_header array that squall_response_send takes.
// Names and values are copied into one C buffer, so the array handed to C
// holds only C pointers: no Go pointer crosses, nothing needs pinning, and
// the library copies what it keeps before the call returns, so the buffer
// is reused at once.  A fieldBuf is used by one goroutine at a time; its
// zero value is ready (the C memory is allocated at the first field).
type fieldBuf struct {
	data unsafe.Pointer // C: names and values, back to back
	dcap int
	dlen int
	hs   unsafe.Pointer // C: the squall_header array over data
	hcap int
	n    int
}

var fieldBufs = sync.Pool{New: func() any {
	f := new(fieldBuf)
	runtime.SetFinalizer(f, (*fieldBuf).free)
	return f
}}

func getFieldBuf() *fieldBuf { return fieldBufs.Get().(*fieldBuf) }

func putFieldBuf(f *fieldBuf) {
	if f == nil {
		return
	}
	f.reset()
	if f.dcap > 64<<10 { // an outsized one is not worth keeping
		f.free()
	}
	fieldBufs.Put(f)
}

func (f *fieldBuf) free() {
	C.free(f.data)
	C.free(f.hs)
	*f = fieldBuf{}
}

func (f *fieldBuf) reset() { f.dlen, f.n = 0, 0 }

func (f *fieldBuf) count() int { return f.n }

func (f *fieldBuf) entries() []C.squall_header {
	return unsafe.Slice((*C.squall_header)(f.hs), f.hcap)
}

// grow makes room for one more field of size bytes; false if C memory ran
// out.  The fields already there are moved along with the buffer.
func (f *fieldBuf) grow(size int) bool {
	if f.n == f.hcap {
		c := max(2*f.hcap, 8)
		p := C.realloc(f.hs, C.size_t(c)*C.size_t(unsafe.Sizeof(C.squall_header{})))
		if p == nil {
			return false
		}
		f.hs, f.hcap = p, c
	}
	if f.dlen+size > f.dcap {
		c := max(2*f.dcap, f.dlen+size, 1024)
		old := uintptr(f.data)
		p := C.realloc(f.data, C.size_t(c))
		if p == nil {
			return false
		}
		f.data, f.dcap = p, c
		for i, h := range f.entries()[:f.n] { // rebase (old is a number only)
			e := &f.entries()[i]
			e.name = (*C.char)(unsafe.Add(p, uintptr(unsafe.Pointer(h.name))-old))
			e.value = (*C.char)(unsafe.Add(p, uintptr(unsafe.Pointer(h.value))-old))
		}
	}
	return true
}

// put appends a field; it returns the value's bytes in the buffer.
func (f *fieldBuf) put(name, value string) []byte {
	if !f.grow(len(name) + len(value)) {
		return nil
	}
	np := unsafe.Add(f.data, f.dlen)
	copy(unsafe.Slice((*byte)(np), len(name)), name)
	vp := unsafe.Add(np, len(name))
	v := unsafe.Slice((*byte)(vp), len(value))
	copy(v, value)
	f.dlen += len(name) + len(value)
	e := &f.entries()[f.n]
	e.name, e.name_len = (*C.char)(np), C.size_t(len(name))
	e.value, e.value_len = (*C.char)(vp), C.size_t(len(value))
	f.n++
	return v
}

// add appends a field the caller has validated (validToken, validValue).
func (f *fieldBuf) add(name, value string) { f.put(name, value) }

// addHTTP appends a field as net/http writes one: CR and LF in the value
// become spaces, and a field the library would refuse (a name that is not
// a token, a value with another control byte) is left out, as net/http
// leaves out invalid fields -- squall_response_send would refuse the whole
// call for one bad field.
func (f *fieldBuf) addHTTP(name, value string) {
	if !validToken(name) {
		return
	}
	newline := false
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 || c == 0x7f {
			switch c {
			case '\t':
			case '\r', '\n':
				newline = true
			default:
				return // left out
			}
		}
	}
	v := f.put(name, value)
	if newline {
		for i, c := range v {
			if c == '\r' || c == '\n' {
				v[i] = ' '
			}
		}
	}
}

// array is the squall_header array (C memory) as an integer, and its
// length: 0, 0 when there is no field.
func (f *fieldBuf) array() (C.uintptr_t, C.size_t) {
	if f == nil || f.n == 0 {
		return 0, 0
	}
	return cptr(f.hs), C.size_t(f.n)
}

// validToken: an RFC 9110 token (a header name the library accepts).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

var tokenByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return
}()

// validValueByte: a byte the library accepts in a field value (field-vchar,
// SP, HTAB, obs-text): no control byte but HTAB, no DEL.
func validValueByte(c byte) bool { return c >= 0x20 && c != 0x7f || c == '\t' }

// validValue: a field value the library accepts.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if !validValueByte(s[i]) {
			return false
		}
	}
	return true
}
