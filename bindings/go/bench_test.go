package squall

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// Benchmarks of the binding over loopback with a minimal keep-alive client
// (pre-built requests, responses parsed in place), so allocs/op are the
// server's.  -cpu 1 gives GOMAXPROCS=1.

var helloBody = []byte("Hello, world!\n")

func benchServer(b *testing.B, s *Server, depth int) {
	s.Addr = "127.0.0.1:0"
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	batch := bytes.Repeat(req, depth)
	br := bufio.NewReaderSize(conn, 64<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		if _, err := conn.Write(batch); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < depth; j++ {
			if err := readResponse(br); err != nil {
				b.Fatal(err)
			}
		}
	}
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
		if len(line) > 16 && (line[0] == 'C' || line[0] == 'c') && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(line[15:])))
		}
	}
	if n < 0 {
		return fmt.Errorf("no Content-Length")
	}
	_, err := br.Discard(n)
	return err
}

func rawHello() *Server {
	return &Server{RawHandler: HandlerFunc(func(r *Request) { r.Respond(200, "text/plain", helloBody) })}
}

func httpHello() *Server {
	return &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{"14"}
		w.WriteHeader(200)
		w.Write(helloBody)
	})}
}

func BenchmarkRawHello(b *testing.B)           { benchServer(b, rawHello(), 1) }
func BenchmarkRawHelloPipelined(b *testing.B)  { benchServer(b, rawHello(), 16) }
func BenchmarkHTTPHello(b *testing.B)          { benchServer(b, httpHello(), 1) }
func BenchmarkHTTPHelloPipelined(b *testing.B) { benchServer(b, httpHello(), 16) }
