package squall

/*
#include <stdlib.h>
#include <string.h>
#include "shim.h"
*/
import "C"

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unsafe"
)

// HTTPS.  OpenSSL runs inside libsquall (squall.h, "TLS"); this file maps a
// crypto/tls-like configuration onto the library's TLS settings and the
// library's per-request TLS fields back onto *tls.ConnectionState.

// TLSConfig is the TLS part of a Server: the subset of *tls.Config that
// maps onto squall's OpenSSL settings, plus what crypto/tls has no field
// for (files, a key password, OpenSSL cipher strings, the handshake
// timeout).  Every setting is checked when the server starts (or on
// ReloadTLS): a missing file, a key that does not match its certificate,
// an unknown version or cipher give an error that wraps ETLS and names the
// file and OpenSSL's reason.
type TLSConfig struct {
	// Certificates are the server's certificate chains and keys.  The
	// first is the default; a client that names a server (SNI) matching
	// another certificate's names (subjectAltName, wildcards included)
	// gets that one, as with crypto/tls.  The files given to
	// ListenAndServeTLS are added after these.
	Certificates []Certificate

	// MinVersion is tls.VersionTLS12 (the default when 0) or
	// tls.VersionTLS13.  TLS 1.0 and 1.1 are refused.
	MinVersion uint16

	// CipherSuites lists the TLS 1.2 cipher suites by their crypto/tls
	// IDs (tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ...); nil keeps
	// OpenSSL's default.  TLS 1.3 IDs in the list select the TLS 1.3
	// suites instead.  Ciphers and CipherSuitesTLS13 give the same in
	// OpenSSL's syntax; use one form or the other.
	CipherSuites []uint16
	// Ciphers is the TLS 1.2 cipher list in OpenSSL's syntax
	// ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256").
	Ciphers string
	// CipherSuitesTLS13 is the TLS 1.3 suite list, colon separated
	// ("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256").
	CipherSuitesTLS13 string

	// ClientAuth asks for client certificates: tls.NoClientCert (the
	// default), tls.VerifyClientCertIfGiven (asked for; a client without
	// one is served, one with a bad one is refused) or
	// tls.RequireAndVerifyClientCert.  squall always verifies what it
	// asks for, so tls.RequestClientCert and tls.RequireAnyClientCert
	// are refused.
	ClientAuth tls.ClientAuthType
	// ClientCAFile is the PEM file of the CAs client certificates must
	// chain to (crypto/tls's ClientCAs, as a file).
	ClientCAFile string

	// SessionTicketsDisabled turns resumption by session tickets off
	// (every connection then does a full handshake).
	SessionTicketsDisabled bool

	// HandshakeTimeout bounds the TLS handshake [10 s]; negative: none.
	HandshakeTimeout time.Duration
}

// Certificate is one certificate chain (PEM: the leaf first, then the
// intermediates) and its private key (PEM, maybe encrypted), from files or
// from memory: set CertFile and KeyFile, or CertPEM and KeyPEM.
type Certificate struct {
	CertFile, KeyFile string
	CertPEM, KeyPEM   []byte
	// KeyPassword decrypts an encrypted private key ("" for none).
	KeyPassword string
}

// CertificateFromTLS converts a loaded tls.Certificate (from
// tls.LoadX509KeyPair, tls.X509KeyPair or a certificate manager) into PEM
// for squall.  The private key must be one x509.MarshalPKCS8PrivateKey
// supports (ECDSA, RSA, Ed25519).
func CertificateFromTLS(c tls.Certificate) (Certificate, error) {
	if len(c.Certificate) == 0 || c.PrivateKey == nil {
		return Certificate{}, &Error{Op: "CertificateFromTLS", Code: ETLS, Msg: "the certificate has no chain or no private key"}
	}
	var chain []byte
	for _, der := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return Certificate{}, &Error{Op: "CertificateFromTLS", Code: ETLS, Msg: err.Error()}
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return Certificate{CertPEM: chain, KeyPEM: key}, nil
}

// Clone returns a copy of c (its slices copied too).
func (c *TLSConfig) Clone() *TLSConfig {
	if c == nil {
		return nil
	}
	n := *c
	n.Certificates = append([]Certificate(nil), c.Certificates...)
	n.CipherSuites = append([]uint16(nil), c.CipherSuites...)
	return &n
}

// tlsSpec is what a server serves HTTPS with: the TLS config and the files
// given to ListenAndServeTLS (re-read on every reload).
type tlsSpec struct {
	cfg   *TLSConfig // a private copy; nil: defaults
	files []Certificate
}

func tlsErr(op, msg string) error { return &Error{Op: op, Code: ETLS, Msg: msg} }

// newTLSSpec checks the arguments of ListenAndServeTLS as net/http does:
// the files are needed unless the config has certificates.
func newTLSSpec(cfg *TLSConfig, certFile, keyFile string) (*tlsSpec, error) {
	sp := &tlsSpec{cfg: cfg.Clone()}
	if certFile != "" || keyFile != "" {
		sp.files = []Certificate{{CertFile: certFile, KeyFile: keyFile}}
	}
	if len(sp.files) == 0 && (sp.cfg == nil || len(sp.cfg.Certificates) == 0) {
		return nil, tlsErr("ListenAndServeTLS", "no certificate: give certFile and keyFile or TLSConfig.Certificates")
	}
	return sp, nil
}

// apply sets the spec's TLS settings on cfg.
func (sp *tlsSpec) apply(cfg *C.squall_config) error {
	c := sp.cfg
	if c == nil {
		c = &TLSConfig{}
	}
	for i, crt := range append(append([]Certificate(nil), c.Certificates...), sp.files...) {
		if err := addCert(cfg, crt); err != nil {
			if e, ok := err.(*Error); ok && i >= len(c.Certificates) {
				e.Op = "certFile/keyFile"
			}
			return err
		}
	}
	setStr := func(op string, key C.int, v string) error {
		var p *C.char
		if v != "" {
			p = (*C.char)(unsafe.Pointer(unsafe.StringData(v)))
		}
		return resultErr(op, C.sqgo_config_set_str(cfg, key, p, C.size_t(len(v))))
	}
	setInt := func(op string, key C.int, v int64) error {
		return resultErr(op, C.sqgo_config_set_int(cfg, key, C.int64_t(v)))
	}
	if c.MinVersion != 0 {
		v, ok := map[uint16]string{
			tls.VersionTLS10: "1.0", tls.VersionTLS11: "1.1", // the library refuses them
			tls.VersionTLS12: "1.2", tls.VersionTLS13: "1.3",
		}[c.MinVersion]
		if !ok {
			return tlsErr("TLSConfig.MinVersion", fmt.Sprintf("unknown TLS version 0x%04x", c.MinVersion))
		}
		if err := setStr("TLSConfig.MinVersion", C.SQUALL_OPT_TLS_MIN_VERSION, v); err != nil {
			return err
		}
	}
	ciphers, suites13 := c.Ciphers, c.CipherSuitesTLS13
	if len(c.CipherSuites) > 0 {
		var l12, l13 []string
		for _, id := range c.CipherSuites {
			name, ok := cipherNames[id]
			switch {
			case !ok:
				return tlsErr("TLSConfig.CipherSuites", fmt.Sprintf("cipher suite %s (0x%04x) is not one squall maps", tls.CipherSuiteName(id), id))
			case id>>8 == 0x13:
				l13 = append(l13, name)
			default:
				l12 = append(l12, name)
			}
		}
		if len(l12) > 0 && ciphers != "" || len(l13) > 0 && suites13 != "" {
			return tlsErr("TLSConfig.CipherSuites", "give CipherSuites or Ciphers / CipherSuitesTLS13, not both")
		}
		if len(l12) > 0 {
			ciphers = strings.Join(l12, ":")
		}
		if len(l13) > 0 {
			suites13 = strings.Join(l13, ":")
		}
	}
	if ciphers != "" {
		if err := setStr("TLSConfig.Ciphers", C.SQUALL_OPT_TLS_CIPHERS, ciphers); err != nil {
			return err
		}
	}
	if suites13 != "" {
		if err := setStr("TLSConfig.CipherSuitesTLS13", C.SQUALL_OPT_TLS_CIPHERSUITES, suites13); err != nil {
			return err
		}
	}
	var auth int64
	switch c.ClientAuth {
	case tls.NoClientCert:
		auth = C.SQUALL_TLS_CLIENT_NONE
	case tls.VerifyClientCertIfGiven:
		auth = C.SQUALL_TLS_CLIENT_REQUEST
	case tls.RequireAndVerifyClientCert:
		auth = C.SQUALL_TLS_CLIENT_REQUIRE
	default:
		return tlsErr("TLSConfig.ClientAuth", c.ClientAuth.String()+" is not supported: squall verifies every client certificate it asks for")
	}
	if c.ClientCAFile != "" {
		if err := setStr("TLSConfig.ClientCAFile", C.SQUALL_OPT_TLS_CLIENT_CA, c.ClientCAFile); err != nil {
			return err
		}
	}
	if auth != C.SQUALL_TLS_CLIENT_NONE {
		if err := setInt("TLSConfig.ClientAuth", C.SQUALL_OPT_TLS_CLIENT_AUTH, auth); err != nil {
			return err
		}
	}
	if c.SessionTicketsDisabled {
		if err := setInt("TLSConfig.SessionTicketsDisabled", C.SQUALL_OPT_TLS_SESSION_TICKETS, 0); err != nil {
			return err
		}
	}
	if d := c.HandshakeTimeout; d != 0 {
		ms := int64(0)
		if d > 0 {
			ms = max(int64((d+time.Millisecond-1)/time.Millisecond), 1)
		}
		if err := setInt("TLSConfig.HandshakeTimeout", C.SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS, ms); err != nil {
			return err
		}
	}
	return nil
}

// addCert adds one certificate, with its password (wiped from C memory
// after the call; the library keeps its own copy until the key is read).
func addCert(cfg *C.squall_config, crt Certificate) error {
	const op = "TLSConfig.Certificates"
	pw := C.CString(crt.KeyPassword)
	r := C.sqgo_config_set_tls_key_password(cfg, pw)
	C.memset(unsafe.Pointer(pw), 0, C.size_t(len(crt.KeyPassword)))
	C.free(unsafe.Pointer(pw))
	if err := resultErr(op, r); err != nil {
		return err
	}
	switch {
	case crt.CertFile != "" || crt.KeyFile != "":
		if len(crt.CertPEM) > 0 || len(crt.KeyPEM) > 0 {
			return tlsErr(op, "give CertFile and KeyFile or CertPEM and KeyPEM, not both")
		}
		cf, kf := C.CString(crt.CertFile), C.CString(crt.KeyFile)
		defer C.free(unsafe.Pointer(cf))
		defer C.free(unsafe.Pointer(kf))
		return resultErr(op, C.sqgo_config_add_tls_cert(cfg, cf, kf))
	case len(crt.CertPEM) > 0 && len(crt.KeyPEM) > 0:
		return resultErr(op, C.sqgo_config_add_tls_cert_pem(cfg,
			(*C.char)(unsafe.Pointer(&crt.CertPEM[0])), C.size_t(len(crt.CertPEM)),
			(*C.char)(unsafe.Pointer(&crt.KeyPEM[0])), C.size_t(len(crt.KeyPEM))))
	}
	return tlsErr(op, "a certificate needs CertFile and KeyFile, or CertPEM and KeyPEM")
}

// ListenAndServeTLS listens on addr and serves handler (a net/http Handler)
// over HTTPS with the certificate chain in certFile and its key in keyFile
// (PEM), as net/http's ListenAndServeTLS.  It always returns a non-nil
// error.
func ListenAndServeTLS(addr, certFile, keyFile string, handler http.Handler) error {
	return (&Server{Addr: addr, Handler: handler}).ListenAndServeTLS(certFile, keyFile)
}

// ListenAndServeTLS listens on s.Addr (":https" if empty) and serves HTTPS
// with s.TLSConfig and the certificate and key files given (which may be
// empty if s.TLSConfig has Certificates), until Shutdown or Close; then it
// returns http.ErrServerClosed (or the error that stopped it).
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	if err := s.StartTLS(certFile, keyFile); err != nil {
		return err
	}
	return s.wait()
}

// StartTLS is Start for HTTPS (see ListenAndServeTLS): it returns once the
// socket is listening, or with the error (a bad certificate among them).
func (s *Server) StartTLS(certFile, keyFile string) error {
	sp, err := newTLSSpec(s.TLSConfig, certFile, keyFile)
	if err != nil {
		return err
	}
	return s.listenAddr(":https", sp)
}

// ServeTLS serves HTTPS on the listening socket of ln (see Serve and
// ListenAndServeTLS).
func (s *Server) ServeTLS(ln net.Listener, certFile, keyFile string) error {
	sp, err := newTLSSpec(s.TLSConfig, certFile, keyFile)
	if err != nil {
		ln.Close()
		return err
	}
	fd, err := dupListener(ln)
	if err != nil {
		return err
	}
	if err := s.start(listenSpec{fd: fd, ln: ln, tls: sp}); err != nil {
		return err
	}
	return s.wait()
}

// ReloadTLS swaps the certificates and TLS settings of a running HTTPS
// server without a restart: handshakes that start afterwards use the new
// ones, open connections keep theirs.  With cfg nil, the server's current
// TLS settings are loaded again, every file read anew (certificates renewed
// on disk); otherwise cfg replaces them (the files given to
// ListenAndServeTLS are not used then).  On error (wrapping ETLS: a bad
// file, a key that does not match) the old settings keep serving.  It
// fails with ESTATE if the server does not serve HTTPS, ECLOSED if it is
// not running.  Safe to call from any goroutine.
func (s *Server) ReloadTLS(cfg *TLSConfig) error {
	s.mu.Lock()
	e := s.eng
	s.mu.Unlock()
	if e == nil {
		return &Error{Op: "ReloadTLS", Code: ECLOSED, Msg: "the server is not running"}
	}
	e.tlsMu.Lock()
	defer e.tlsMu.Unlock()
	if e.tls == nil {
		return &Error{Op: "ReloadTLS", Code: ESTATE, Msg: "the server does not serve HTTPS"}
	}
	sp := e.tls
	if cfg != nil {
		sp = &tlsSpec{cfg: cfg.Clone()}
	}
	var ccfg *C.squall_config
	if rc := C.squall_config_new(&ccfg); rc != 0 {
		return codeErr("ReloadTLS", rc)
	}
	defer C.squall_config_free(ccfg)
	if err := sp.apply(ccfg); err != nil {
		return err
	}
	engines := []*engine{e}
	if e.grp != nil {
		engines = e.grp.engines // every loop's server (each checks the files)
	}
	for _, le := range engines {
		if err := le.reloadTLS(ccfg); err != nil {
			return err
		}
	}
	e.tls = sp
	return nil
}

func (e *engine) reloadTLS(ccfg *C.squall_config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.alive {
		return &Error{Op: "ReloadTLS", Code: ECLOSED, Msg: "the server is closed"}
	}
	return resultErr("ReloadTLS", C.sqgo_bridge_reload_tls(e.b, ccfg))
}

// TLSInfo is what the TLS handshake of a request's connection settled
// (copies; see Request.TLS).
type TLSInfo struct {
	Version     string // "TLSv1.3", "TLSv1.2"
	Cipher      string // OpenSSL's name: "TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"
	ServerName  string // SNI sent by the client ("" if none)
	ALPN        string // "http/1.1" ("" if not negotiated)
	PeerSubject string // the verified client certificate's subject, RFC 2253 ("" if none)
	// PeerCertificate is that certificate in PEM (nil if none).
	PeerCertificate []byte
	Resumed         bool // the session was resumed (a ticket)
}

// tlsInfo reads the request's TLS fields; nil on a plain connection.
func tlsInfo(req *C.squall_request) *TLSInfo {
	if req == nil {
		return nil
	}
	var ti C.sqgo_tlsinfo
	if C.sqgo_request_tls(req, &ti) != 0 {
		return nil
	}
	t := &TLSInfo{
		Version:     internTLS(cstr(ti.version, ti.version_len)),
		Cipher:      internTLS(cstr(ti.cipher, ti.cipher_len)),
		ServerName:  C.GoStringN(ti.server_name, C.int(ti.server_name_len)),
		ALPN:        internTLS(cstr(ti.alpn, ti.alpn_len)),
		PeerSubject: C.GoStringN(ti.peer_subject, C.int(ti.peer_subject_len)),
		Resumed:     ti.resumed != 0,
	}
	if ti.peer_cert_len > 0 {
		t.PeerCertificate = C.GoBytes(unsafe.Pointer(ti.peer_cert), C.int(ti.peer_cert_len))
	}
	return t
}

// ConnectionState is t as crypto/tls reports it (what net/http puts in
// http.Request.TLS).  PeerCertificates holds the verified client
// certificate parsed with crypto/x509, and VerifiedChains that certificate
// alone (libsquall verified the chain; it reports the leaf only).
func (t *TLSInfo) ConnectionState() *tls.ConnectionState {
	cs := &tls.ConnectionState{
		Version:                    tlsVersions[t.Version],
		HandshakeComplete:          true,
		DidResume:                  t.Resumed,
		CipherSuite:                cipherIDs[t.Cipher],
		NegotiatedProtocol:         t.ALPN,
		NegotiatedProtocolIsMutual: true,
		ServerName:                 t.ServerName,
	}
	rest := t.PeerCertificate
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			cs.PeerCertificates = append(cs.PeerCertificates, c)
		}
	}
	if len(cs.PeerCertificates) > 0 {
		cs.VerifiedChains = [][]*x509.Certificate{cs.PeerCertificates}
	}
	return cs
}

// TLS is the request's TLS details, or nil on a plain HTTP connection.
func (r *Request) TLS() *TLSInfo { return tlsInfo(r.req) }

var tlsVersions = map[string]uint16{
	"TLSv1.2": tls.VersionTLS12,
	"TLSv1.3": tls.VersionTLS13,
}

// cipherNames maps crypto/tls's cipher suite IDs to OpenSSL's names (the
// names libsquall reports and takes).  TLS 1.3 names are the IANA ones.
var cipherNames = map[uint16]string{
	tls.TLS_AES_128_GCM_SHA256:                        "TLS_AES_128_GCM_SHA256",
	tls.TLS_AES_256_GCM_SHA384:                        "TLS_AES_256_GCM_SHA384",
	tls.TLS_CHACHA20_POLY1305_SHA256:                  "TLS_CHACHA20_POLY1305_SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       "ECDHE-ECDSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         "ECDHE-RSA-AES128-SHA256",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               "AES128-SHA256",
}

var cipherIDs = func() map[string]uint16 {
	m := make(map[string]uint16, len(cipherNames))
	for id, n := range cipherNames {
		m[n] = id
	}
	return m
}()

// internTLS returns the common values without an allocation and copies
// the others (s is borrowed from the request).
func internTLS(s string) string {
	switch s {
	case "TLSv1.2":
		return "TLSv1.2"
	case "TLSv1.3":
		return "TLSv1.3"
	case "http/1.1":
		return "http/1.1"
	}
	if id, ok := cipherIDs[s]; ok {
		return cipherNames[id]
	}
	return strings.Clone(s)
}
