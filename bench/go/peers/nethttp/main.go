// Hello-world server on Go's net/http (the peer of the adapter).
//
//	nethttp-hello PORT   (GOMAXPROCS from the environment)
package main

import (
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
	log.Fatal((&http.Server{Addr: addr, Handler: h}).ListenAndServe())
}
