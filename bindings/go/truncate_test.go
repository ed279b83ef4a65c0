package squall

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A response that fails after part of it was sent must read as truncated
// (an error), never as a complete body.

// readTruncated GETs url and expects a 200 whose body starts with prefix
// and then breaks off with an error.
func readTruncated(t *testing.T, c *http.Client, url, prefix string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("GET %s: body %q read as complete", url, b)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("GET %s: body error %v, want io.ErrUnexpectedEOF", url, err)
	}
	if !strings.HasPrefix(string(b), prefix) {
		t.Fatalf("GET %s: body %q, want it to start with %q", url, b, prefix)
	}
}

// waitLog waits until the log holds every one of subs.
func waitLog(t *testing.T, lb *syncBuffer, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := lb.String()
		missing := ""
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				missing = sub
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q: %q", missing, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPanicAfterFlushTruncates(t *testing.T) {
	var logBuf syncBuffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flushed":
			io.WriteString(w, "first part\n")
			w.(http.Flusher).Flush()
			panic("boom after flush")
		case "/spilled": // past the 64 KiB buffer: streamed without a Flush
			io.WriteString(w, strings.Repeat("x", 100<<10))
			panic("boom after spill")
		case "/length": // declared length, part of it sent
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, "0123456789")
			w.(http.Flusher).Flush()
			panic("boom with a length")
		case "/abort":
			io.WriteString(w, "first part\n")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case "/early":
			panic("boom before anything")
		}
		io.WriteString(w, "ok")
	})
	base := start(t, &Server{Handler: h, ErrorLog: log.New(&logBuf, "", 0)})
	c := client()
	for i := 0; i < 2; i++ {
		readTruncated(t, c, base+"/flushed", "first part\n")
		readTruncated(t, c, base+"/spilled", "xxxx")
		readTruncated(t, c, base+"/length", "0123456789")
		readTruncated(t, c, base+"/abort", "first part\n")
		// A panic before anything was sent is still a 500.
		if resp, body := get(t, c, base+"/early"); resp.StatusCode != 500 || body != "Internal Server Error\n" {
			t.Fatalf("early panic: %d %q", resp.StatusCode, body)
		}
		if resp, body := get(t, c, base+"/"); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("after: %d %q", resp.StatusCode, body)
		}
	}
	// The error log is told: the panic, that the response was cut, and the
	// library's own report of the abort (error hook).
	waitLog(t, &logBuf, "boom after flush", "boom after spill", "aborted",
		"response aborted by the application")
	if strings.Contains(logBuf.String(), "ErrAbortHandler") || strings.Contains(logBuf.String(), "abort Handler") {
		t.Errorf("http.ErrAbortHandler was logged as a panic: %q", logBuf.String())
	}
}

func TestRawAbortTruncates(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("RawOffLoop=%v", off), func(t *testing.T) { testRawAbortTruncates(t, off) })
	}
}

func testRawAbortTruncates(t *testing.T, offLoop bool) {
	var logBuf syncBuffer
	h := HandlerFunc(func(r *Request) {
		switch string(r.PathBytes()) {
		case "/panic": // inside the handler call, after a flush
			r.AddHeader("Content-Type", "text/plain")
			r.WriteString("first part\n")
			r.Flush()
			panic("raw boom after flush")
		case "/abort": // a goroutine gives up on a streamed response
			go func() {
				r.WriteString("first part\n")
				if err := r.Flush(); err != nil {
					r.Finish()
					return
				}
				r.Abort()
			}()
		case "/early":
			r.AddHeader("X-Before", "set")
			r.WriteString("dropped")
			panic("raw boom before anything")
		default:
			r.RespondString(200, "text/plain", "ok")
		}
	})
	base := start(t, &Server{RawHandler: h, RawOffLoop: offLoop, ErrorLog: log.New(&logBuf, "", 0)})
	c := client()
	for i := 0; i < 2; i++ {
		readTruncated(t, c, base+"/panic", "first part\n")
		readTruncated(t, c, base+"/abort", "first part\n")
		resp, body := get(t, c, base+"/early")
		if resp.StatusCode != 500 || body != "Internal Server Error\n" || resp.Header.Get("X-Before") != "" {
			t.Fatalf("early panic: %d %q %q", resp.StatusCode, body, resp.Header.Get("X-Before"))
		}
		if resp, body := get(t, c, base+"/"); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("after: %d %q", resp.StatusCode, body)
		}
	}
	waitLog(t, &logBuf, "raw boom after flush", "aborted", "response aborted by the application")
}
