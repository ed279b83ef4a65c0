package squall

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRawAPI(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("RawOffLoop=%v", off), func(t *testing.T) { testRawAPI(t, off) })
	}
}

func testRawAPI(t *testing.T, offLoop bool) {
	h := HandlerFunc(func(r *Request) {
		switch string(r.PathBytes()) {
		case "/echo":
			var names []string
			r.VisitHeaders(func(n, v []byte) bool {
				names = append(names, string(n))
				return true
			})
			r.AddHeader("X-Method", r.Method())
			r.AddHeader("X-Query", r.Query())
			r.AddHeader("X-Uri", r.URI())
			r.AddHeader("X-Agent", r.Header("user-agent"))
			r.AddHeader("X-Multi", strings.Join(r.HeaderValues("X-Multi"), ","))
			r.AddHeader("X-Arg", func() string { v, _ := r.Arg("a"); return v }())
			r.AddHeader("X-Proto", r.Proto())
			r.AddHeader("X-Remote", r.RemoteIP())
			r.AddHeader("X-Names", fmt.Sprint(len(names) == r.HeaderCount()))
			r.Respond(200, "application/octet-stream", r.Body())
		case "/async":
			go func() {
				time.Sleep(10 * time.Millisecond)
				r.RespondString(202, "text/plain", "later")
			}()
		case "/stream":
			go func() {
				r.SetStatus(200)
				r.AddHeader("Content-Type", "text/plain")
				for i := 0; i < 3; i++ {
					fmt.Fprintf(r, "part %d\n", i)
					if err := r.Flush(); err != nil {
						break
					}
				}
				r.Finish()
			}()
		case "/panic":
			panic("raw boom")
		default:
			r.RespondString(404, "text/plain", "not found")
		}
	})
	base := start(t, &Server{RawHandler: h, RawOffLoop: offLoop, ErrorLog: discardLogger()})
	c := client()

	req, _ := http.NewRequest("POST", base+"/echo?a=1&b=2", strings.NewReader("payload"))
	req.Header.Set("User-Agent", "rawtest")
	req.Header.Add("X-Multi", "x")
	req.Header.Add("X-Multi", "y")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "payload" {
		t.Errorf("body %q", body)
	}
	for k, v := range map[string]string{"X-Method": "POST", "X-Query": "a=1&b=2", "X-Uri": "/echo?a=1&b=2",
		"X-Agent": "rawtest", "X-Multi": "x,y", "X-Arg": "1", "X-Proto": "HTTP/1.1",
		"X-Remote": "127.0.0.1", "X-Names": "true", "Content-Type": "application/octet-stream"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	if resp, body := get(t, c, base+"/async"); resp.StatusCode != 202 || body != "later" {
		t.Errorf("async: %d %q", resp.StatusCode, body)
	}

	resp, err = c.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	var lines []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			break
		}
		lines = append(lines, l)
	}
	resp.Body.Close()
	if strings.Join(lines, "") != "part 0\npart 1\npart 2\n" {
		t.Errorf("stream: %q", lines)
	}

	if resp, _ := get(t, c, base+"/panic"); resp.StatusCode != 500 {
		t.Errorf("panic: %d", resp.StatusCode)
	}
	if resp, body := get(t, c, base+"/other"); resp.StatusCode != 404 || body != "not found" {
		t.Errorf("after panic: %d %q", resp.StatusCode, body)
	}
}

func TestRawContextCancel(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("RawOffLoop=%v", off), func(t *testing.T) { testRawContextCancel(t, off) })
	}
}

func testRawContextCancel(t *testing.T, offLoop bool) {
	got := make(chan error, 1)
	h := HandlerFunc(func(r *Request) {
		ctx := r.Context()
		go func() {
			<-ctx.Done()
			got <- ctx.Err()
			r.Finish()
		}()
	})
	base := start(t, &Server{RawHandler: h, RawOffLoop: offLoop})
	c := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := c.Get(base + "/"); err == nil {
		resp.Body.Close()
		t.Fatal("request unexpectedly answered")
	}
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("nil ctx error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("context not cancelled after the client gave up")
	}
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
