// Hello-world server: a standard net/http Handler (the same one the net/http
// peer runs) served by the squall Go binding's adapter.
//
//	squall-http PORT [CERT KEY [TICKETS]]   (GOMAXPROCS from the environment;
//	SQUALL_GO_LOOPS=n serves from n loops, Server.Loops)
//
// With CERT and KEY it serves HTTPS (TICKETS 0: no session tickets, for the
// full-handshake benchmark).
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"

	"squall.dev/go/squall"
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
	fmt.Fprintf(os.Stderr, "squall net/http adapter on %s GOMAXPROCS=%d\n", addr, runtime.GOMAXPROCS(0))
	loops, _ := strconv.Atoi(os.Getenv("SQUALL_GO_LOOPS"))
	srv := &squall.Server{Addr: addr, Handler: h, Loops: loops}
	if len(os.Args) >= 4 {
		srv.TLSConfig = &squall.TLSConfig{SessionTicketsDisabled: len(os.Args) > 4 && os.Args[4] == "0"}
		log.Fatal(srv.ListenAndServeTLS(os.Args[2], os.Args[3]))
	}
	log.Fatal(srv.ListenAndServe())
}
