package squall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadLoops sends conns x reqs requests over conns keep-alive connections
// (one client each) to base+"/<conn>/<i>"; check gets each answer's body
// and the path it was for.  It returns how many requests each loop served,
// read from the body's first field.
func loadLoops(t *testing.T, base string, loops, conns, reqs int) []int {
	t.Helper()
	var mu sync.Mutex
	served := make([]int, loops)
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl := &http.Client{Timeout: 20 * time.Second,
				Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
			defer cl.CloseIdleConnections()
			local := make([]int, loops)
			for i := 0; i < reqs; i++ {
				path := fmt.Sprintf("/%d/%d", c, i)
				resp, err := cl.Get(base + path)
				if err != nil {
					errc <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					errc <- fmt.Errorf("%s: status %d, %v", path, resp.StatusCode, err)
					return
				}
				// "<loop> <path>": the answer is the one for this request.
				f := strings.Fields(string(b))
				if len(f) != 2 || f[1] != path {
					errc <- fmt.Errorf("%s: answered %q", path, b)
					return
				}
				n, err := strconv.Atoi(f[0])
				if err != nil || n < 0 || n >= loops {
					errc <- fmt.Errorf("%s: loop %q", path, f[0])
					return
				}
				local[n]++
			}
			mu.Lock()
			for i, n := range local {
				served[i] += n
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	return served
}

func checkShare(t *testing.T, served []int) {
	t.Helper()
	total := 0
	for _, n := range served {
		total += n
	}
	for i, n := range served {
		if share := float64(n) / float64(total); share < 0.4 || share > 0.6 {
			t.Errorf("loop %d served %d of %d requests (%.0f%%), want 40-60%%", i, n, total, share*100)
		}
	}
	t.Logf("requests per loop: %v", served)
}

// Two loops share one net/http Handler: 50 connections x 200 requests,
// each loop serves 40-60% of them.
func TestLoopsHTTPShare(t *testing.T) {
	s := &Server{Loops: 2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %s", LoopIndex(r.Context()), r.URL.Path)
	})}
	base := start(t, s)
	checkShare(t, loadLoops(t, base, 2, 50, 200))
}

// The raw API on two loops, every response finished from another
// goroutine than the one that was handed the request: each lands on its
// own connection (the body names the request's path).
func TestLoopsRawForeignGoroutine(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("RawOffLoop=%v", off), func(t *testing.T) {
			s := &Server{Loops: 2, RawOffLoop: off, RawHandler: HandlerFunc(func(r *Request) {
				go func() {
					r.RespondString(200, "text/plain", fmt.Sprintf("%d %s", r.LoopIndex(), r.Path()))
				}()
			})}
			base := start(t, s)
			checkShare(t, loadLoops(t, base, 2, 50, 200))
		})
	}
}

// Shutdown with requests in flight on both loops: every one gets its
// complete response, Shutdown returns nil once they are done, and
// ListenAndServe returns http.ErrServerClosed.
func TestLoopsShutdownInFlight(t *testing.T) {
	const n = 20
	release := make(chan struct{})
	var arrived atomic.Int32
	var perLoop [2]atomic.Int32
	allIn := make(chan struct{})
	s := &Server{Addr: "127.0.0.1:0", Loops: 2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		perLoop[LoopIndex(r.Context())].Add(1)
		if arrived.Add(1) == n {
			close(allIn)
		}
		<-release
		w.Write([]byte(strings.Repeat("x", 100000)))
	})}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServe() }() // already started: an error at once
	if err := <-served; err == nil {
		t.Fatal("ListenAndServe on a started server returned nil")
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", s.Port())
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			cl := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}
			resp, err := cl.Get(base + "/slow")
			if err != nil {
				results <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && (resp.StatusCode != 200 || len(b) != 100000) {
				err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, len(b))
			}
			results <- err
		}()
	}
	select {
	case <-allIn:
	case <-time.After(20 * time.Second):
		t.Fatalf("only %d of %d requests arrived", arrived.Load(), n)
	}
	if perLoop[0].Load() == 0 || perLoop[1].Load() == 0 {
		t.Fatalf("requests per loop %d/%d: both loops should hold some", perLoop[0].Load(), perLoop[1].Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	// The drain has begun when new connections are refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cl := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := cl.Get(base + "/new")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after Shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v before the requests in flight finished", err)
	default:
	}
	close(release)
	for i := 0; i < n; i++ {
		if err := <-results; err != nil {
			t.Errorf("request in flight: %v", err)
		}
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := s.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("ListenAndServe after Shutdown: %v", err)
	}
}

// Serve on a listener opened by net.Listen, with two loops: both serve,
// and Close makes Serve return http.ErrServerClosed and closes ln.
func TestLoopsServeListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Loops: 2, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %s", LoopIndex(r.Context()), r.URL.Path)
	})}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	for s.Port() == 0 { // Serve starts asynchronously
		select {
		case err := <-served:
			t.Fatalf("Serve: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	counts := loadLoops(t, "http://"+ln.Addr().String(), 2, 10, 20)
	if counts[0] == 0 || counts[1] == 0 {
		t.Fatalf("requests per loop: %v", counts)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	// ln is closed once the loops have stopped (soon after Close).
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Log(string(buf[:runtime.Stack(buf, true)]))
			t.Fatal("ln still accepting 10 s after Close")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Loops: -1 makes one loop per CPU; every request names one of them.
func TestLoopsPerCPU(t *testing.T) {
	s := &Server{Loops: -1, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %s", LoopIndex(r.Context()), r.URL.Path)
	})}
	base := start(t, s)
	n := s.NumLoops()
	if n < 1 {
		t.Fatalf("NumLoops %d", n)
	}
	t.Logf("%d loops (runtime.NumCPU %d)", n, runtime.NumCPU())
	served := loadLoops(t, base, n, 2*n, 10)
	for i, c := range served {
		if c == 0 {
			t.Errorf("loop %d of %d served nothing: %v", i, n, served)
		}
	}
	if one := (&Server{}); one.NumLoops() != 0 {
		t.Errorf("NumLoops before Start: %d", one.NumLoops())
	}
}
