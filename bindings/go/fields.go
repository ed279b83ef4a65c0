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
// is reused at once.  A fieldBuf is used by one goroutine at a time.
type fieldBuf struct {
	data unsafe.Pointer // C: names and values, back to back
	dcap int
	dlen int
	hs   unsafe.Pointer // C: the squall_header array (filled by array)
	hcap int
	lens []int // name and value lengths, in order
}

var fieldBufs = sync.Pool{New: func() any {
	f := &fieldBuf{lens: make([]int, 0, 16)}
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
	f.data, f.hs = nil, nil
	f.dcap, f.hcap, f.dlen = 0, 0, 0
	f.lens = f.lens[:0]
}

func (f *fieldBuf) reset() {
	f.dlen = 0
	f.lens = f.lens[:0]
}

func (f *fieldBuf) count() int { return len(f.lens) / 2 }

// reserve makes room for n more bytes; false if C memory ran out.
func (f *fieldBuf) reserve(n int) bool {
	if f.dlen+n <= f.dcap {
		return true
	}
	c := max(2*f.dcap, f.dlen+n, 256)
	p := C.realloc(f.data, C.size_t(c))
	if p == nil {
		return false
	}
	f.data, f.dcap = p, c
	return true
}

func (f *fieldBuf) put(s string) {
	copy(unsafe.Slice((*byte)(unsafe.Add(f.data, f.dlen)), len(s)), s)
	f.dlen += len(s)
}

// add appends a field the caller has validated (validToken, validValue).
func (f *fieldBuf) add(name, value string) {
	if !f.reserve(len(name) + len(value)) {
		return
	}
	f.put(name)
	f.put(value)
	f.lens = append(f.lens, len(name), len(value))
}

// addHTTP appends a field as net/http writes one: CR and LF in the value
// become spaces, and a field the library would refuse (a name that is not
// a token, a value with another control byte) is left out, as net/http
// leaves out invalid fields -- squall_response_send would refuse the whole
// call for one bad field.
func (f *fieldBuf) addHTTP(name, value string) {
	if !validToken(name) || !f.reserve(len(name)+len(value)) {
		return
	}
	start := f.dlen
	f.put(name)
	f.put(value)
	v := unsafe.Slice((*byte)(unsafe.Add(f.data, start+len(name))), len(value))
	for i, c := range v {
		if c == '\r' || c == '\n' {
			v[i] = ' '
		} else if !validValueByte(c) {
			f.dlen = start // left out
			return
		}
	}
	f.lens = append(f.lens, len(name), len(value))
}

// array fills the squall_header array (C memory) over the buffer; nil, 0
// when there is no field.
func (f *fieldBuf) array() (*C.squall_header, C.size_t) {
	if f == nil {
		return nil, 0
	}
	n := len(f.lens) / 2
	if n == 0 {
		return nil, 0
	}
	if n > f.hcap {
		c := max(2*f.hcap, n, 8)
		p := C.realloc(f.hs, C.size_t(c)*C.size_t(unsafe.Sizeof(C.squall_header{})))
		if p == nil {
			return nil, 0
		}
		f.hs, f.hcap = p, c
	}
	hs := unsafe.Slice((*C.squall_header)(f.hs), n)
	off := 0
	for i := range hs {
		nl, vl := f.lens[2*i], f.lens[2*i+1]
		hs[i].name = (*C.char)(unsafe.Add(f.data, off))
		hs[i].name_len = C.size_t(nl)
		off += nl
		hs[i].value = (*C.char)(unsafe.Add(f.data, off))
		hs[i].value_len = C.size_t(vl)
		off += vl
	}
	return &hs[0], C.size_t(n)
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
