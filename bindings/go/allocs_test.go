package squall

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Allocations on the server's side per request, with a real server and a
// real client on loopback in this process.  The client (pre-built
// requests, responses parsed in place by readResponse) allocates nothing
// in the steady state, so the process' mallocs are the server's.

// allocClient is a keep-alive connection sending bursts of depth requests.
type allocClient struct {
	t     testing.TB
	conn  net.Conn
	br    *bufio.Reader
	burst []byte
	depth int
}

func newAllocClient(t testing.TB, s *Server, depth int) *allocClient {
	s.Addr = "127.0.0.1:0"
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	req := "POST /hello?x=1 HTTP/1.1\r\nHost: allocs\r\nUser-Agent: allocs\r\nAccept: */*\r\n" +
		"Content-Length: 5\r\n\r\nhello"
	return &allocClient{t: t, conn: conn, br: bufio.NewReaderSize(conn, 64<<10),
		burst: bytes.Repeat([]byte(req), depth), depth: depth}
}

// round sends one burst and reads its responses.
func (c *allocClient) round() {
	if _, err := c.conn.Write(c.burst); err != nil {
		c.t.Fatal(err)
	}
	for j := 0; j < c.depth; j++ {
		if err := readResponse(c.br); err != nil {
			c.t.Fatal(err)
		}
	}
}

// mallocsPerRequest: the process' heap allocations over rounds bursts,
// divided by the requests served (after a warm-up).
func (c *allocClient) mallocsPerRequest(rounds int) float64 {
	for i := 0; i < 200; i++ {
		c.round()
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < rounds; i++ {
		c.round()
	}
	runtime.ReadMemStats(&m1)
	return float64(m1.Mallocs-m0.Mallocs) / float64(rounds*c.depth)
}

// rawInPlace reads the request in place (method, path, query, a header,
// every header, the body) and answers at once: nothing is copied to Go.
func rawInPlace(t testing.TB) *Server {
	return &Server{RawHandler: HandlerFunc(func(r *Request) {
		ok := r.Method() == "POST" && string(r.PathBytes()) == "/hello" &&
			string(r.QueryBytes()) == "x=1" && string(r.HeaderBytes("user-agent")) == "allocs" &&
			string(r.Body()) == "hello" && r.Proto() == "HTTP/1.1"
		n := 0
		r.VisitHeaders(func(name, value []byte) bool {
			n++
			return true
		})
		if !ok || n != 5 {
			r.Respond(500, "text/plain", nil)
			return
		}
		r.Respond(200, "text/plain", helloBody)
	})}
}

// The raw API allocates nothing per request once warm: keep-alive (one
// request per round trip) and pipelined (16 per write).
func TestRawNoAllocsPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, depth := range []int{1, 16} {
		c := newAllocClient(t, rawInPlace(t), depth)
		// testing.AllocsPerRun (GOMAXPROCS=1 during the runs): the average
		// per burst, rounded down; 0 means below one allocation per burst.
		if a := testing.AllocsPerRun(500, c.round); a != 0 {
			t.Errorf("depth %d: %v allocations per burst of %d requests, want 0", depth, a, depth)
		}
		// And the exact figure over more requests.
		if per := c.mallocsPerRequest(2000 / depth * 2); per >= 0.01 {
			t.Errorf("depth %d: %.4f allocations per request, want 0", depth, per)
		} else {
			t.Logf("depth %d: %.4f allocations per request", depth, per)
		}
	}
}

// The net/http adapter reuses its *http.Request, Header maps and
// ResponseWriter: what is left per request is the request's context and
// what the handler itself allocates (here none).
func TestHTTPAllocsPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "allocs" || r.URL.Path != "/hello" {
			w.WriteHeader(500)
			return
		}
		w.Write(helloBody)
	})
	for _, reuse := range []bool{true, false} {
		c := newAllocClient(t, &Server{Handler: h, DisableRequestReuse: !reuse}, 16)
		per := c.mallocsPerRequest(200)
		t.Logf("request reuse %v: %.2f allocations per request", reuse, per)
		if reuse && per > 1.5 {
			t.Errorf("%.2f allocations per request with reuse, want 1 (the context)", per)
		}
		if !reuse && per < 2 {
			t.Errorf("%.2f allocations per request without reuse: the test does not see them", per)
		}
	}
}

// With reuse, the strings a handler keeps stay as they were: only the
// maps and structs are reused, never the bytes behind the strings, nor the
// context.
func TestHTTPReuseKeepsStrings(t *testing.T) {
	type kept struct {
		path, agent, uri string
		ctxErr           func() error
	}
	var mu sync.Mutex
	var got []kept
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, kept{r.URL.Path, r.Header.Get("User-Agent"), r.RequestURI, r.Context().Err})
		mu.Unlock()
		w.Write(helloBody)
	})
	base := start(t, &Server{Handler: h})
	c := client()
	const n = 50
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", base+"/p"+strconv.Itoa(i), nil)
		req.Header.Set("User-Agent", "agent-"+strconv.Itoa(i))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("%d requests seen, want %d", len(got), n)
	}
	for i, k := range got {
		s := strconv.Itoa(i)
		if k.path != "/p"+s || k.agent != "agent-"+s || k.uri != "/p"+s {
			t.Errorf("request %d: kept %q %q %q", i, k.path, k.agent, k.uri)
		}
		if k.ctxErr() == nil {
			t.Errorf("request %d: its context is not cancelled after the handler returned", i)
		}
	}
}
