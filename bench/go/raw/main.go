// Hello-world server on the squall Go binding's low-level API: the handler
// runs on the loop thread and answers at once.
//
//	squall-raw PORT [CERT KEY [TICKETS]]    (GOMAXPROCS from the environment;
//	SQUALL_GO_LOOPS=n serves from n loops, Server.Loops)
//
// With CERT and KEY it serves HTTPS (TICKETS 0: no session tickets).
package main

import (
	"fmt"
	"log"
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
	h := squall.HandlerFunc(func(r *squall.Request) {
		r.Respond(200, "text/plain", body)
	})
	addr := "127.0.0.1:" + os.Args[1]
	fmt.Fprintf(os.Stderr, "squall raw Go API on %s GOMAXPROCS=%d\n", addr, runtime.GOMAXPROCS(0))
	loops, _ := strconv.Atoi(os.Getenv("SQUALL_GO_LOOPS"))
	srv := &squall.Server{Addr: addr, RawHandler: h, Loops: loops}
	if len(os.Args) >= 4 {
		srv.TLSConfig = &squall.TLSConfig{SessionTicketsDisabled: len(os.Args) > 4 && os.Args[4] == "0"}
		log.Fatal(srv.ListenAndServeTLS(os.Args[2], os.Args[3]))
	}
	log.Fatal(srv.ListenAndServe())
}
