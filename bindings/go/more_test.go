package squall

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestServeUnixListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "squall.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "over unix")
	})}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	var body string
	for i := 0; i < 100; i++ {
		resp, err := c.Get("http://unix/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body != "over unix" {
		t.Fatalf("body %q", body)
	}
	s.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
}

func TestErrorLogGetsParseErrors(t *testing.T) {
	var logs syncBuffer
	base := start(t, &Server{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		ErrorLog: log.New(&logs, "", 0),
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nBad Header : y\r\n\r\n")
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(conn)
	conn.Close()
	if !strings.HasPrefix(string(b), "HTTP/1.1 400") {
		t.Fatalf("response %q", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "parse") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "parse") {
		t.Fatalf("no parse error logged: %q", logs.String())
	}
}

// The Server field on a handler's 200 and on the library's own 431.
func TestServerHeaderOption(t *testing.T) {
	for _, c := range []struct {
		name, value string
		off         bool
		want        []string
	}{
		{"default", "", false, []string{"squall"}},
		{"ServerHeader", "app/3", false, []string{"app/3"}},
		{"DisableServerHeader", "", true, nil},
	} {
		s := &Server{ServerHeader: c.value, DisableServerHeader: c.off}
		s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		s.MaxHeaderBytes = 1024
		base := start(t, s)
		for _, big := range []bool{false, true} {
			req, _ := http.NewRequest("GET", base+"/", nil)
			if big {
				req.Header.Set("X-Big", strings.Repeat("x", 4096))
			}
			resp, err := client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[bool]int{false: 200, true: 431}[big]; resp.StatusCode != want {
				t.Fatalf("status %d, want %d", resp.StatusCode, want)
			}
			if got := resp.Header.Values("Server"); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s, status %d: Server %q, want %q", c.name, resp.StatusCode, got, c.want)
			}
		}
	}
}

func TestTwoServers(t *testing.T) {
	mk := func(name string) *Server {
		return &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name)
		})}
	}
	a, b := mk("a"), mk("b")
	ua, ub := start(t, a), start(t, b)
	c := client()
	for i := 0; i < 20; i++ {
		if _, body := get(t, c, ua+"/"); body != "a" {
			t.Fatalf("a: %q", body)
		}
		if _, body := get(t, c, ub+"/"); body != "b" {
			t.Fatalf("b: %q", body)
		}
	}
	a.Close()
	if _, body := get(t, c, ub+"/"); body != "b" {
		t.Fatalf("b after closing a: %q", body)
	}
}

func TestPipelinedRequestsInOrder(t *testing.T) {
	base := start(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	})})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	for i := 0; i < 32; i++ {
		fmt.Fprintf(&req, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
	}
	io.WriteString(conn, req.String())
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := newReader(conn)
	for i := 0; i < 32; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != fmt.Sprintf("/%d", i) {
			t.Fatalf("response %d: %q", i, b)
		}
	}
}
