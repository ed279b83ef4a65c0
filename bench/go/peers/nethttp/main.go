// Hello-world server on Go's net/http (the peer of the adapter).
//
//	nethttp-hello PORT [CERT KEY [TICKETS]]  (GOMAXPROCS from the environment)
//
// With CERT and KEY it serves HTTPS with crypto/tls, HTTP/1.1 only (TICKETS
// 0: no session tickets).
package main

import (
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
)

var body = []byte("Hello, world!\n")

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PORT\n", os.Args[0])
		os.Exit(2)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Content-Length"] = []string{"14"}
		w.WriteHeader(200)
		w.Write(body)
	})
	addr := "127.0.0.1:" + os.Args[1]
	fmt.Fprintf(os.Stderr, "net/http on %s GOMAXPROCS=%d\n", addr, runtime.GOMAXPROCS(0))
	// Go sets TCP_NODELAY on accepted connections by default.
	srv := &http.Server{Addr: addr, Handler: h}
	if len(os.Args) >= 4 {
		srv.TLSConfig = &tls.Config{SessionTicketsDisabled: len(os.Args) > 4 && os.Args[4] == "0"}
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // no HTTP/2
		log.Fatal(srv.ListenAndServeTLS(os.Args[2], os.Args[3]))
	}
	log.Fatal(srv.ListenAndServe())
}
