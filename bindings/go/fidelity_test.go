package squall

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// reqView is what a handler can see of an *http.Request, as plain data.
type reqView struct {
	Method           string
	URL              string
	URLScheme        string
	URLHost          string
	URLPath          string
	URLRawPath       string
	URLRawQuery      string
	Proto            string
	ProtoMajor       int
	ProtoMinor       int
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Close            bool
	Host             string
	RequestURI       string
	RemoteIP         string // the port differs by design: squall reports 0
	Body             string
	BodyIsNoBody     bool
	Trailer          http.Header
	FormParsed       bool
	TLS              bool
}

func viewOf(r *http.Request) reqView {
	b, _ := io.ReadAll(r.Body)
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return reqView{
		Method: r.Method, URL: r.URL.String(), URLScheme: r.URL.Scheme, URLHost: r.URL.Host,
		URLPath: r.URL.Path, URLRawPath: r.URL.RawPath, URLRawQuery: r.URL.RawQuery,
		Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header: r.Header.Clone(), ContentLength: r.ContentLength,
		TransferEncoding: r.TransferEncoding, Close: r.Close, Host: r.Host,
		RequestURI: r.RequestURI, RemoteIP: ip, Body: string(b),
		BodyIsNoBody: r.Body == http.NoBody, Trailer: r.Trailer,
		FormParsed: r.Form != nil || r.PostForm != nil, TLS: r.TLS != nil,
	}
}

// recorder answers every request with 200 "ok" and hands its view over.
type recorder chan reqView

func (c recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := viewOf(r)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok")
	c <- v
}

// rawExchange sends raw on a new connection, reads one response and returns
// the view the server's handler recorded.
func rawExchange(t *testing.T, addr, raw string, rec recorder) reqView {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s: reading the response: %v", addr, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d", addr, resp.StatusCode)
	}
	select {
	case v := <-rec:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: handler not called", addr)
		return reqView{}
	}
}

// The same raw requests to net/http's own server and to the adapter: every
// field a handler sees must be the same.
func TestRequestFidelityWithNetHTTP(t *testing.T) {
	std := make(recorder, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: std, ReadHeaderTimeout: 20 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	ours := make(recorder, 1)
	base := start(t, &Server{Handler: ours})
	sq := strings.TrimPrefix(base, "http://")

	const H = "Host: example.com\r\n"
	cases := []struct{ name, raw string }{
		{"GET origin-form, escapes and query",
			"GET /a%20b/c%2Fd?x=1&y=%2F&x=2 HTTP/1.1\r\n" + H +
				"User-Agent: fidelity\r\nAccept: */*\r\nx-lower-case: v\r\nX-Twice: 1\r\nX-Twice: 2\r\n\r\n"},
		{"POST Content-Length",
			"POST /cl HTTP/1.1\r\n" + H + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"},
		{"POST Content-Length 0",
			"POST /cl0 HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\n"},
		{"POST chunked",
			"POST /chunked HTTP/1.1\r\n" + H + "Content-Type: text/plain\r\n" +
				"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
		{"PUT chunked, chunk extension",
			"PUT /ext HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n0\r\n\r\n"},
		{"POST chunked, empty body",
			"POST /empty HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"HEAD",
			"HEAD /head?q HTTP/1.1\r\n" + H + "\r\n"},
		{"absolute-form",
			"GET http://other.example:8080/abs/p?q=1 HTTP/1.1\r\n" + H + "\r\n"},
		{"HTTP/1.0 without Host",
			"GET /old HTTP/1.0\r\n\r\n"},
		{"HTTP/1.0 keep-alive",
			"GET /ka HTTP/1.0\r\n" + H + "Connection: keep-alive\r\n\r\n"},
		{"HTTP/1.0 POST Content-Length",
			"POST /old-post HTTP/1.0\r\n" + H + "Content-Length: 3\r\n\r\nabc"},
		{"HTTP/1.1 Connection: close",
			"GET /close HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := rawExchange(t, ln.Addr().String(), c.raw, std)
			got := rawExchange(t, sq, c.raw, ours)
			wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
			for i := 0; i < wv.NumField(); i++ {
				if !reflect.DeepEqual(wv.Field(i).Interface(), gv.Field(i).Interface()) {
					t.Errorf("%s: net/http %#v, squall %#v", wv.Type().Field(i).Name,
						wv.Field(i).Interface(), gv.Field(i).Interface())
				}
			}
		})
	}
}
