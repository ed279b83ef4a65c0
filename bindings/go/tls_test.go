package squall

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Throwaway TLS material, made once per test binary with the repository's
// tests/util/make_certs.sh (the openssl command line): no key is committed.
var (
	certsOnce sync.Once
	certsDir  string
	certsErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if certsDir != "" {
		os.RemoveAll(certsDir)
	}
	os.Exit(code)
}

// cert returns the path of a file made by make_certs.sh ("server.pem").
func cert(t *testing.T, name string) string {
	t.Helper()
	certsOnce.Do(func() {
		src := os.Getenv("SQUALL_SOURCE_DIR")
		if src == "" {
			src = "../.."
		}
		certsDir, certsErr = os.MkdirTemp("", "squall-go-tls-")
		if certsErr != nil {
			return
		}
		out, err := tool("bash", filepath.Join(src, "tests/util/make_certs.sh"), certsDir).CombinedOutput()
		if err != nil {
			certsErr = fmt.Errorf("make_certs.sh: %v: %s", err, out)
		}
	})
	if certsErr != nil {
		t.Fatal(certsErr)
	}
	return filepath.Join(certsDir, name)
}

// tool runs a program without the ASan runtime that ctest.sh preloads for
// a sanitized libsquall (some programs deadlock under it).
func tool(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LD_PRELOAD=") {
			c.Env = append(c.Env, kv)
		}
	}
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startTLS runs s over HTTPS on 127.0.0.1 with an ephemeral port and
// returns its base URL.
func startTLS(t *testing.T, s *Server, certFile, keyFile string) string {
	t.Helper()
	s.Addr = "127.0.0.1:0"
	if err := s.StartTLS(certFile, keyFile); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return fmt.Sprintf("https://127.0.0.1:%d", s.Port())
}

// tlsClient trusts the test CA; conf adjusts its crypto/tls settings.
func tlsClient(t *testing.T, conf func(*tls.Config)) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readFile(t, cert(t, "ca.pem"))) {
		t.Fatal("ca.pem: no certificate")
	}
	tc := &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}} // as net/http's client
	if conf != nil {
		conf(tc)
	}
	tr := &http.Transport{TLSClientConfig: tc, DisableCompression: true, ForceAttemptHTTP2: false}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}

// tlsEcho answers with what the handler saw of the connection.
func tlsEcho(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.TLS == nil {
		fmt.Fprintf(w, "no TLS\n")
		return
	}
	peer := ""
	if len(r.TLS.PeerCertificates) > 0 {
		peer = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	fmt.Fprintf(w, "version=%s cipher=%s sni=%s alpn=%s resumed=%v peer=%q chains=%d scheme=%q host=%s len=%d body=%s",
		tls.VersionName(r.TLS.Version), tls.CipherSuiteName(r.TLS.CipherSuite), r.TLS.ServerName,
		r.TLS.NegotiatedProtocol, r.TLS.DidResume, peer, len(r.TLS.VerifiedChains), r.URL.Scheme, r.Host,
		len(body), body)
}

func mustGet(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, body := get(t, c, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return resp, body
}

func wantContains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("%q lacks %q", s, sub)
		}
	}
}

func TestTLSGetPostKeepAlive(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(tlsEcho)}
	base := startTLS(t, s, cert(t, "server.pem"), cert(t, "server.key"))
	c := tlsClient(t, nil)

	resp, body := mustGet(t, c, base+"/get")
	wantContains(t, body, "version=TLS 1.3", "cipher=TLS_", "alpn=http/1.1", "resumed=false", `peer=""`,
		`scheme=""`, "host=127.0.0.1:", "len=0")
	if resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "localhost" {
		t.Fatalf("client side TLS state: %+v", resp.TLS)
	}

	// POST with a body, on the same connection.
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	payload := strings.Repeat("squall", 50000)
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
		"POST", base+"/post", strings.NewReader(payload))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantContains(t, string(b), fmt.Sprintf("len=%d body=squallsquall", len(payload)))
	if !strings.HasSuffix(string(b), "squall") || !reused {
		t.Fatalf("POST: reused=%v, body tail %q", reused, string(b)[max(0, len(b)-20):])
	}

	// TLS 1.2 with a cipher suite chosen by its crypto/tls ID.
	c12 := tlsClient(t, func(tc *tls.Config) { tc.MaxVersion = tls.VersionTLS12 })
	_, body = mustGet(t, c12, base+"/")
	wantContains(t, body, "version=TLS 1.2", "cipher=TLS_ECDHE_ECDSA_WITH_")
}

func TestTLSConfigOptions(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256},
		HandshakeTimeout: 5 * time.Second,
	}}
	base := startTLS(t, s, cert(t, "server.pem"), cert(t, "server.key"))
	c12 := tlsClient(t, func(tc *tls.Config) { tc.MaxVersion = tls.VersionTLS12 })
	resp, body := mustGet(t, c12, base+"/")
	wantContains(t, body, "version=TLS 1.2", "cipher=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
	if resp.TLS.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("client negotiated %s", tls.CipherSuiteName(resp.TLS.CipherSuite))
	}
	_, body = mustGet(t, tlsClient(t, nil), base+"/")
	wantContains(t, body, "version=TLS 1.3", "cipher=TLS_CHACHA20_POLY1305_SHA256")

	// MinVersion 1.3 refuses a TLS 1.2 client.
	s13 := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{MinVersion: tls.VersionTLS13}}
	base13 := startTLS(t, s13, cert(t, "server.pem"), cert(t, "server.key"))
	if _, err := c12.Get(base13 + "/"); err == nil {
		t.Fatal("a TLS 1.2 client was served with MinVersion 1.3")
	}
	_, body = mustGet(t, tlsClient(t, nil), base13+"/")
	wantContains(t, body, "version=TLS 1.3")
}

func TestTLSSNI(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{Certificates: []Certificate{
		{CertFile: cert(t, "server.pem"), KeyFile: cert(t, "server.key")},
		{CertPEM: readFile(t, cert(t, "other.pem")), KeyPEM: readFile(t, cert(t, "other.key"))},
	}}}
	base := startTLS(t, s, "", "")
	for _, tc := range []struct{ name, cn string }{
		{"www.other.test", "other.test"},
		{"other.test", "other.test"},
		{"localhost", "localhost"},
	} {
		c := tlsClient(t, func(c *tls.Config) { c.ServerName = tc.name })
		resp, body := mustGet(t, c, base+"/")
		if got := resp.TLS.PeerCertificates[0].Subject.CommonName; got != tc.cn {
			t.Errorf("SNI %s: certificate %s, want %s", tc.name, got, tc.cn)
		}
		wantContains(t, body, "sni="+tc.name+" ")
	}
	// No SNI (an IP address): the default certificate, ServerName "".
	resp, body := mustGet(t, tlsClient(t, nil), base+"/")
	if resp.TLS.PeerCertificates[0].Subject.CommonName != "localhost" {
		t.Fatal("no SNI: not the default certificate")
	}
	wantContains(t, body, "sni= ")
}

func TestTLSClientCertificate(t *testing.T) {
	clientCert, err := tls.LoadX509KeyPair(cert(t, "client.pem"), cert(t, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	withCert := func(c *tls.Config) { c.Certificates = []tls.Certificate{clientCert} }

	req := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAFile: cert(t, "ca.pem")}}
	base := startTLS(t, req, cert(t, "server.pem"), cert(t, "server.key"))
	if _, err := tlsClient(t, nil).Get(base + "/"); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	_, body := mustGet(t, tlsClient(t, withCert), base+"/")
	wantContains(t, body, `peer="squall test client"`, "chains=1")

	// A certificate from another CA is refused.
	selfSigned := strangerCert(t)
	if _, err := tlsClient(t, func(c *tls.Config) { c.Certificates = []tls.Certificate{selfSigned} }).Get(base + "/"); err == nil {
		t.Fatal("a client certificate the CA did not sign was accepted")
	}

	// Optional: served without one, verified when given.
	opt := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAFile: cert(t, "ca.pem")}}
	obase := startTLS(t, opt, cert(t, "server.pem"), cert(t, "server.key"))
	_, body = mustGet(t, tlsClient(t, nil), obase+"/")
	wantContains(t, body, `peer=""`, "chains=0")
	_, body = mustGet(t, tlsClient(t, withCert), obase+"/")
	wantContains(t, body, `peer="squall test client"`)

	// The raw API gives the subject and the PEM.
	raw := &Server{RawHandler: HandlerFunc(func(r *Request) {
		ti := r.TLS()
		if ti == nil {
			r.RespondString(500, "text/plain", "no TLS")
			return
		}
		cs := ti.ConnectionState()
		r.RespondString(200, "text/plain", fmt.Sprintf("subject=%s pem=%v parsed=%s version=%s cipher=%s alpn=%s scheme=%s",
			ti.PeerSubject, strings.HasPrefix(string(ti.PeerCertificate), "-----BEGIN CERTIFICATE-----"),
			cs.PeerCertificates[0].Subject.CommonName, ti.Version, ti.Cipher, ti.ALPN, r.Scheme()))
	}), TLSConfig: req.TLSConfig}
	rbase := startTLS(t, raw, cert(t, "server.pem"), cert(t, "server.key"))
	_, body = mustGet(t, tlsClient(t, withCert), rbase+"/")
	wantContains(t, body, "subject=O=squall,CN=squall test client", "pem=true", "parsed=squall test client",
		"version=TLSv1.3", "cipher=TLS_", "alpn=http/1.1", "scheme=https")
}

func TestTLSResumption(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(tlsEcho)}
	base := startTLS(t, s, cert(t, "server.pem"), cert(t, "server.key"))
	cache := tls.NewLRUClientSessionCache(8)
	newClient := func() *http.Client {
		c := tlsClient(t, func(c *tls.Config) { c.ClientSessionCache = cache })
		c.Transport.(*http.Transport).DisableKeepAlives = true
		return c
	}
	_, body := mustGet(t, newClient(), base+"/")
	wantContains(t, body, "resumed=false")
	resp, body := mustGet(t, newClient(), base+"/")
	wantContains(t, body, "resumed=true")
	if !resp.TLS.DidResume {
		t.Fatal("the client did not resume")
	}

	// Tickets off: every handshake is full.
	s2 := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{SessionTicketsDisabled: true}}
	base2 := startTLS(t, s2, cert(t, "server.pem"), cert(t, "server.key"))
	cache = tls.NewLRUClientSessionCache(8)
	mustGet(t, newClient(), base2+"/")
	_, body = mustGet(t, newClient(), base2+"/")
	wantContains(t, body, "resumed=false")
}

func TestTLSReload(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("Loops=%d", loops), func(t *testing.T) { testTLSReload(t, loops) })
	}
}

func testTLSReload(t *testing.T, loops int) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	install := func(name string) {
		os.WriteFile(certFile, readFile(t, cert(t, name+".pem")), 0o600)
		os.WriteFile(keyFile, readFile(t, cert(t, name+".key")), 0o600)
	}
	install("server")
	s := &Server{Loops: loops, Handler: http.HandlerFunc(tlsEcho)}
	base := startTLS(t, s, certFile, keyFile)
	org := func(r *http.Response) string {
		return strings.Join(r.TLS.PeerCertificates[0].Subject.Organization, ",")
	}
	// New connections (each kept open: with two loops they alternate)
	// all get the certificate named want.
	checkNew := func(when, want string) {
		t.Helper()
		for i := 0; i < 2*loops; i++ {
			if resp, _ := mustGet(t, tlsClient(t, nil), base+"/"); org(resp) != want {
				t.Fatalf("%s: O=%q", when, org(resp))
			}
		}
	}

	old := tlsClient(t, nil) // keeps its connection open across the reloads
	if resp, _ := mustGet(t, old, base+"/"); org(resp) != "" {
		t.Fatalf("first certificate: O=%s", org(resp))
	}

	// Renewed on disk, loaded again.
	install("server2")
	if err := s.ReloadTLS(nil); err != nil {
		t.Fatalf("ReloadTLS: %v", err)
	}
	checkNew("after reload", "reloaded")
	if resp, _ := mustGet(t, old, base+"/"); org(resp) != "" {
		t.Fatalf("the open connection changed certificate: O=%q", org(resp))
	}

	// A bad certificate: an error, and the current one keeps serving.
	err := s.ReloadTLS(&TLSConfig{Certificates: []Certificate{{CertFile: cert(t, "server.pem"), KeyFile: cert(t, "other.key")}}})
	if !errors.Is(err, ETLS) {
		t.Fatalf("mismatched key: %v", err)
	}
	checkNew("after a failed reload", "reloaded")

	// A new config replaces everything, from another goroutine.
	done := make(chan error)
	go func() {
		done <- s.ReloadTLS(&TLSConfig{Certificates: []Certificate{{CertFile: cert(t, "rsa.pem"), KeyFile: cert(t, "rsa.key")}}})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkNew("after reload with a config", "rsa")

	plain := &Server{Handler: http.HandlerFunc(tlsEcho)}
	start(t, plain)
	if err := plain.ReloadTLS(nil); !errors.Is(err, ESTATE) {
		t.Fatalf("ReloadTLS on plain HTTP: %v", err)
	}
	s.Close()
	if err := s.ReloadTLS(nil); !errors.Is(err, ECLOSED) {
		t.Fatalf("ReloadTLS after Close: %v", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	srv, key := cert(t, "server.pem"), cert(t, "server.key")
	for _, tc := range []struct {
		name      string
		conf      *TLSConfig
		cert, key string
		want      []string
	}{
		{"missing cert file", nil, "/nonexistent/cert.pem", key, []string{"/nonexistent/cert.pem"}},
		{"missing key file", nil, srv, "/nonexistent/key.pem", []string{"/nonexistent/key.pem"}},
		{"mismatched key", nil, srv, cert(t, "other.key"), nil},
		{"no certificate", &TLSConfig{}, "", "", []string{"no certificate"}},
		{"TLS 1.1", &TLSConfig{MinVersion: tls.VersionTLS11}, srv, key, nil},
		{"bad cipher list", &TLSConfig{Ciphers: "NOT-A-CIPHER"}, srv, key, nil},
		{"both cipher forms", &TLSConfig{Ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256",
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, srv, key, []string{"not both"}},
		{"unverified client certs", &TLSConfig{ClientAuth: tls.RequireAnyClientCert}, srv, key, []string{"RequireAnyClientCert"}},
		{"missing client CA", &TLSConfig{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAFile: "/nonexistent/ca.pem"},
			srv, key, []string{"/nonexistent/ca.pem"}},
		{"wrong key password", &TLSConfig{Certificates: []Certificate{{CertFile: srv, KeyFile: cert(t, "enc.key"), KeyPassword: "wrong"}}},
			"", "", nil},
		{"encrypted key without password", &TLSConfig{Certificates: []Certificate{{CertFile: srv, KeyFile: cert(t, "enc.key")}}},
			"", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{Addr: "127.0.0.1:0", TLSConfig: tc.conf, ErrorLog: discardLogger()}
			err := s.StartTLS(tc.cert, tc.key)
			if err == nil {
				s.Close()
				t.Fatal("started")
			}
			if !errors.Is(err, ETLS) {
				t.Fatalf("not ETLS: %v", err)
			}
			var se *Error
			if !errors.As(err, &se) || se.Msg == "" {
				t.Fatalf("no message from the library: %#v", err)
			}
			t.Log(err)
			wantContains(t, err.Error(), tc.want...)
		})
	}
	// The package-level function reports the same.
	err := ListenAndServeTLS("127.0.0.1:0", "/nonexistent/cert.pem", key, nil)
	if !errors.Is(err, ETLS) || !strings.Contains(err.Error(), "/nonexistent/cert.pem") {
		t.Fatalf("ListenAndServeTLS: %v", err)
	}
}

func TestTLSKeyPasswordAndPEM(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{Certificates: []Certificate{
		{CertPEM: readFile(t, cert(t, "server.pem")), KeyPEM: readFile(t, cert(t, "enc.key")), KeyPassword: "hunter2"},
	}}}
	mustGet(t, tlsClient(t, nil), startTLS(t, s, "", ""))

	// A tls.Certificate loaded by crypto/tls, converted.
	kp, err := tls.LoadX509KeyPair(cert(t, "rsa.pem"), cert(t, "rsa.key"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := CertificateFromTLS(kp)
	if err != nil {
		t.Fatal(err)
	}
	s2 := &Server{Handler: http.HandlerFunc(tlsEcho), TLSConfig: &TLSConfig{Certificates: []Certificate{c}}}
	resp, _ := mustGet(t, tlsClient(t, nil), startTLS(t, s2, "", ""))
	if o := resp.TLS.PeerCertificates[0].Subject.Organization; len(o) != 1 || o[0] != "rsa" {
		t.Fatalf("converted certificate: O=%v", o)
	}
}

func TestTLSServeListenerAndPlainRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var lb syncBuffer
	s := &Server{Handler: http.HandlerFunc(tlsEcho), ErrorLog: log.New(&lb, "", 0)}
	served := make(chan error, 1)
	go func() { served <- s.ServeTLS(ln, cert(t, "server.pem"), cert(t, "server.key")) }()
	t.Cleanup(func() { s.Close() })
	addr := ln.Addr().String()
	c := tlsClient(t, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get("https://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // ServeTLS is starting in its goroutine
	}

	// Plain HTTP on the TLS port: closed (or a 400), reported as a TLS error.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if line != "" && !strings.Contains(line, " 400 ") {
		t.Fatalf("plain HTTP on the TLS port: %q", line)
	}
	waitLog(t, &lb, "tls error")
	s.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("ServeTLS returned %v", err)
	}
}

// strangerCert is a self-signed client certificate the test CA knows
// nothing of.
func strangerCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stranger"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// The cipher table agrees with OpenSSL's own standard names.
func TestCipherNamesMatchOpenSSL(t *testing.T) {
	out, err := tool("openssl", "ciphers", "-stdname", "ALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Fatalf("openssl ciphers: %v", err)
	}
	std := map[string]string{} // OpenSSL name -> IANA name
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "-" {
			std[f[2]] = f[0]
		}
	}
	for id, name := range cipherNames {
		if got, want := std[name], tls.CipherSuiteName(id); got != want {
			t.Errorf("%s: OpenSSL's standard name %q, crypto/tls's %q", name, got, want)
		}
	}
}

// A client that stalls before its ClientHello is cut at the handshake
// timeout; other clients are served meanwhile.
func TestTLSHandshakeTimeout(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(tlsEcho), ErrorLog: discardLogger(),
		TLSConfig: &TLSConfig{HandshakeTimeout: 300 * time.Millisecond}}
	base := startTLS(t, s, cert(t, "server.pem"), cert(t, "server.key"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	mustGet(t, tlsClient(t, nil), base+"/")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(make([]byte, 1))
	waited := time.Since(began)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the stalled connection was not closed (read %d, %v)", n, err)
	}
	if waited < 250*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("closed after %v, want about 300ms", waited)
	}
}
