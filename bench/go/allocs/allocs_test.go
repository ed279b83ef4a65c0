// Package allocs measures heap allocations per request on the server side
// of the four Go hello-world servers of bench/go (the same handlers as the
// servers' main.go), in one process, over loopback: a keep-alive client
// (one request per round trip) and a pipelining one (16 per write) whose
// requests are built once and whose responses are parsed in place, so that
// the process' allocations (runtime.MemStats.Mallocs) are the server's.
//
//	cd bench/go && go test -bench . -benchtime 20000x ./allocs
//
// (with SQUALL_BUILD_DIR's squall.pc: see bench/go/run.sh).  The figure is
// the allocs/req metric; allocs/op is the same, rounded down.
package allocs

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"
	"squall.dev/go/squall"
)

var body = []byte("Hello, world!\n")

// netHTTPHandler is the handler of peers/nethttp and adapter.
var netHTTPHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Content-Type"] = []string{"text/plain"}
	hdr["Content-Length"] = []string{"14"}
	w.WriteHeader(200)
	w.Write(body)
})

// servers start one server each on ln (closed by the returned stop).
var servers = []struct {
	name  string
	start func(b *testing.B, ln net.Listener) (stop func())
}{
	{"squall-raw", func(b *testing.B, ln net.Listener) func() {
		s := &squall.Server{RawHandler: squall.HandlerFunc(func(r *squall.Request) {
			r.Respond(200, "text/plain", body)
		})}
		return serveSquall(b, s, ln)
	}},
	{"squall-http", func(b *testing.B, ln net.Listener) func() {
		return serveSquall(b, &squall.Server{Handler: netHTTPHandler}, ln)
	}},
	{"fasthttp", func(b *testing.B, ln net.Listener) func() {
		s := &fasthttp.Server{Name: "fasthttp", Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain")
			ctx.SetBody(body)
		}}
		go s.Serve(ln)
		return func() { s.Shutdown() }
	}},
	{"nethttp", func(b *testing.B, ln net.Listener) func() {
		s := &http.Server{Handler: netHTTPHandler}
		go s.Serve(ln)
		return func() { s.Close() }
	}},
}

func serveSquall(b *testing.B, s *squall.Server, ln net.Listener) func() {
	go s.Serve(ln)
	return func() { s.Close() }
}

func BenchmarkAllocs(b *testing.B) {
	for _, depth := range []int{1, 16} {
		for _, sv := range servers {
			b.Run(fmt.Sprintf("%s/depth=%d", sv.name, depth), func(b *testing.B) { measure(b, sv.start, depth) })
		}
	}
}

func measure(b *testing.B, start func(*testing.B, net.Listener) func(), depth int) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer start(b, ln)()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	burst := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"), depth)
	br := bufio.NewReaderSize(conn, 64<<10)
	round := func() {
		if _, err := conn.Write(burst); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < depth; j++ {
			if err := readResponse(br); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := 0; i < 2000/depth; i++ { // warm up: pools, worker stacks
		round()
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for ; n < b.N; n += depth {
		round()
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(n), "allocs/req")
}

// readResponse consumes one Content-Length framed response.
func readResponse(br *bufio.Reader) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(line[15:])))
		}
	}
	if n < 0 {
		return fmt.Errorf("no Content-Length")
	}
	_, err := br.Discard(n)
	return err
}
