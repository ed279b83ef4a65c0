package squall

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// start runs s on 127.0.0.1 with an ephemeral port and returns its base URL.
func start(t *testing.T, s *Server) string {
	t.Helper()
	s.Addr = "127.0.0.1:0"
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if s.Port() == 0 {
		t.Fatal("Port() is 0 after Start")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.Port())
}

func client() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableCompression: true}}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(b)
}

func TestServeMuxRouting(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("name"))
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s", r.PathValue("id"))
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	base := start(t, &Server{Handler: mux})
	c := client()

	if resp, body := get(t, c, base+"/hello?name=go"); resp.StatusCode != 200 || body != "hello go" {
		t.Errorf("/hello: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, c, base+"/items/42"); resp.StatusCode != 200 || body != "item 42" {
		t.Errorf("/items/42: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, base+"/nope"); resp.StatusCode != 404 {
		t.Errorf("/nope: %d, want 404", resp.StatusCode)
	}
	resp, err := c.Post(base+"/items", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("POST /items: %d, want 201", resp.StatusCode)
	}
	if resp, _ := get(t, c, base+"/items"); resp.StatusCode != 405 {
		t.Errorf("GET /items: %d, want 405", resp.StatusCode)
	}
	// Escaped paths go through url.ParseRequestURI.
	if resp, body := get(t, c, base+"/items/a%20b"); resp.StatusCode != 200 || body != "item a b" {
		t.Errorf("/items/a%%20b: %d %q", resp.StatusCode, body)
	}
}

func TestHeaders(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-Uri", r.RequestURI)
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-Foo-Count", fmt.Sprint(len(r.Header.Values("X-Foo"))))
		w.Header().Set("X-Foo-All", strings.Join(r.Header.Values("X-Foo"), "|"))
		w.Header().Set("X-Lower", r.Header.Get("x-lower-case-sent"))
		w.Header().Set("X-Has-Host", fmt.Sprint(r.Header.Get("Host") != ""))
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		w.Header().Set("X-Remote", ip)
		if err != nil {
			w.Header().Set("X-Remote", "bad:"+r.RemoteAddr)
		}
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("X-Newline", "line1\r\nline2")
		io.WriteString(w, "<html><body>hi</body></html>")
	})
	base := start(t, &Server{Handler: h})
	req, _ := http.NewRequest("GET", base+"/p/q?x=1&y=2", nil)
	req.Header.Add("X-Foo", "one")
	req.Header.Add("X-Foo", "two")
	req.Header["x-lower-case-sent"] = []string{"lc"}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := map[string]string{
		"X-Method":     "GET",
		"X-Proto":      "HTTP/1.1",
		"X-Host":       strings.TrimPrefix(base, "http://"),
		"X-Uri":        "/p/q?x=1&y=2",
		"X-Path":       "/p/q",
		"X-Query":      "x=1&y=2",
		"X-Foo-Count":  "2",
		"X-Foo-All":    "one|two",
		"X-Lower":      "lc",
		"X-Has-Host":   "false",
		"X-Remote":     "127.0.0.1",
		"X-Newline":    "line1  line2",
		"Content-Type": "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := resp.Header.Values("X-Multi"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("X-Multi = %q", got)
	}
	if resp.Header.Get("Date") == "" {
		t.Error("no Date header")
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("ContentLength %d, body %d", resp.ContentLength, len(body))
	}
}

func TestPostEcho1MiB(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Length", fmt.Sprint(r.ContentLength))
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, r.Body)
	})
	base := start(t, &Server{Handler: h})
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	c := client()
	for i := 0; i < 3; i++ {
		resp, err := c.Post(base+"/echo", "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !bytes.Equal(got, payload) {
			t.Fatalf("echo: status %d, %d bytes back, equal=%v", resp.StatusCode, len(got), bytes.Equal(got, payload))
		}
		if resp.Header.Get("X-Content-Length") != fmt.Sprint(len(payload)) {
			t.Errorf("ContentLength seen by handler: %s", resp.Header.Get("X-Content-Length"))
		}
	}
	// A chunked request body (length unknown to the client).
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 16; i++ {
			pw.Write(payload[i<<16 : (i+1)<<16])
		}
		pw.Close()
	}()
	resp, err := c.Post(base+"/echo", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, payload) {
		t.Fatalf("chunked echo: %d bytes back", len(got))
	}
}

func TestStreamingFlush(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second\n")
	})
	base := start(t, &Server{Handler: h})
	resp, err := client().Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
		t.Errorf("streamed response: ContentLength %d, TransferEncoding %v", resp.ContentLength, resp.TransferEncoding)
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk: %q %v", line, err)
	}
	close(release) // the handler is still running: the client saw the chunk first
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest: %q %v", rest, err)
	}
}

func TestLargeResponseBackpressure(t *testing.T) {
	const size = 8 << 20
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<10) // 16 KiB
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	base := start(t, &Server{Handler: h})
	resp, err := client().Get(base + "/big")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size {
		t.Fatalf("got %d bytes, %v", n, err)
	}
}

func TestDeclaredContentLength(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, err := io.WriteString(w, "hello world")
		if !errors.Is(err, http.ErrContentLength) {
			panic(fmt.Sprintf("want ErrContentLength, got %v", err))
		}
		io.WriteString(w, "hello")
	})
	base := start(t, &Server{Handler: h})
	resp, body := get(t, client(), base+"/")
	if resp.ContentLength != 5 || body != "hello" {
		t.Fatalf("ContentLength %d body %q", resp.ContentLength, body)
	}
}

func TestNoContentAndHead(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/204" {
			w.WriteHeader(204)
			if _, err := w.Write([]byte("x")); err != http.ErrBodyNotAllowed {
				panic("write after 204 allowed")
			}
			return
		}
		io.WriteString(w, "body for get")
	})
	base := start(t, &Server{Handler: h})
	c := client()
	if resp, body := get(t, c, base+"/204"); resp.StatusCode != 204 || body != "" {
		t.Errorf("/204: %d %q", resp.StatusCode, body)
	}
	resp, err := c.Head(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Errorf("HEAD: %d, %d body bytes", resp.StatusCode, len(b))
	}
	// The connection is still usable after HEAD.
	if resp, body := get(t, c, base+"/"); body != "body for get" {
		t.Errorf("GET after HEAD: %d %q", resp.StatusCode, body)
	}
}

func TestHandlerPanic(t *testing.T) {
	var logBuf syncBuffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			w.Header().Set("X-Before", "set")
			panic("boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "ok")
	})
	base := start(t, &Server{Handler: h, ErrorLog: log.New(&logBuf, "", 0)})
	c := client()
	for i := 0; i < 3; i++ {
		resp, _ := get(t, c, base+"/panic")
		if resp.StatusCode != 500 || resp.Header.Get("X-Before") != "" {
			t.Fatalf("panic: status %d, X-Before %q", resp.StatusCode, resp.Header.Get("X-Before"))
		}
		if resp, body := get(t, c, base+"/"); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("after panic: %d %q", resp.StatusCode, body)
		}
	}
	if s := logBuf.String(); !strings.Contains(s, "panic serving") || !strings.Contains(s, "boom") {
		t.Errorf("panic not logged: %q", s)
	}
	n := strings.Count(logBuf.String(), "panic serving")
	if resp, err := c.Get(base + "/abort"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 500 {
			t.Errorf("abort: %d", resp.StatusCode)
		}
	}
	if strings.Count(logBuf.String(), "panic serving") != n {
		t.Error("http.ErrAbortHandler was logged")
	}
	if resp, body := get(t, c, base+"/"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("after abort: %d %q", resp.StatusCode, body)
	}
}

func TestClientDisconnectCancelsContext(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		close(started)
		select {
		case <-ctx.Done():
			cancelled <- ctx.Err()
		case <-time.After(10 * time.Second):
			cancelled <- errors.New("context not cancelled")
		}
	})
	base := start(t, &Server{Handler: h})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	conn.Close()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler saw %v", err)
	}
}

func TestContextDerivedAndCancelledAtEnd(t *testing.T) {
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Hour)
		defer cancel()
		if ctx.Err() != nil {
			panic("derived context already done")
		}
		go func() {
			<-ctx.Done() // derived from the request: cancelled when ServeHTTP returns
			done <- ctx.Err()
		}()
		io.WriteString(w, "ok")
	})
	base := start(t, &Server{Handler: h})
	get(t, client(), base+"/")
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("derived ctx err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("derived context not cancelled after the handler returned")
	}
}

func TestShutdownGraceful(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done "+r.URL.Path)
	})
	s := &Server{Handler: h, Addr: "127.0.0.1:0"}
	served := make(chan error, 1)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { served <- s.wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", s.Port())
	c := client()
	get(t, c, base+"/fast") // an idle keep-alive connection exists now

	slow := make(chan string, 1)
	go func() {
		resp, err := client().Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	// No new connections are accepted.
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(conn)
		conn.Close()
		if len(b) > 0 {
			t.Errorf("a new connection was served during shutdown: %q", b)
		}
	}
	close(release)
	if got := <-slow; got != "done /slow" {
		t.Errorf("in-flight request: %q", got)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("ListenAndServe returned %v", err)
	}
	if err := s.Start(); err != http.ErrServerClosed {
		t.Fatalf("Start after Shutdown: %v", err)
	}
}

func TestShutdownContextDeadline(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // the cut connection cancels it
	})
	srv := &Server{Handler: h}
	base := start(t, srv)
	go func() {
		if resp, err := client().Get(base + "/hang"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s := time.Now()
	err := srv.Shutdown(ctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(s); d > 5*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
}

func TestCloseRefusesConnections(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	base := start(t, s)
	get(t, client(), base+"/")
	s.Close()
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Fatal("connect succeeded after Close")
	}
	s.Close() // twice is fine
}

func TestServeListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "via listener")
	})}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/"
	var body string
	for i := 0; i < 100; i++ { // Serve starts asynchronously
		resp, err := client().Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body != "via listener" {
		t.Fatalf("body %q", body)
	}
	s.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve returned %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &Server{Addr: ln.Addr().String()}
	err = s.Start()
	if err == nil {
		s.Close()
		t.Fatal("listening on a used port succeeded")
	}
	if !errors.Is(err, EADDRINUSE) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("error %v is not EADDRINUSE", err)
	}
	if err := (&Server{Addr: "nonsense"}).Start(); err == nil {
		t.Fatal("bad address accepted")
	}
}

func TestConcurrentKeepAlive(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.URL.Query().Get("i"))
	})
	base := start(t, &Server{Handler: h})
	c := client()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				want := fmt.Sprintf("%d-%d", g, i)
				resp, err := c.Get(base + "/?i=" + want)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != want {
					errs <- fmt.Errorf("got %q want %q", b, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer for ErrorLog.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCloseWithHungHandlerReturnsListenAndServe(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	s := &Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, err := io.WriteString(w, "too late")
		_ = err // the connection is gone; the write may fail
	})}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.wait() }()
	go func() {
		if resp, err := client().Get(fmt.Sprintf("http://127.0.0.1:%d/", s.Port())); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	s.Close()
	select {
	case err := <-served:
		if err != http.ErrServerClosed {
			t.Fatalf("ListenAndServe returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return after Close")
	}
	close(release) // the handler finishes afterwards without harm
	s.mu.Lock()
	e := s.eng
	s.mu.Unlock()
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		t.Fatal("loop did not exit after the last request finished")
	}
}

func newReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
