// Hello-world server on the squall Go binding's low-level API: the handler
// runs on the loop thread and answers at once.
//
//	squall-raw PORT      (GOMAXPROCS from the environment)
package main

import (
	"fmt"
	"log"
	"os"
	"runtime"

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
	log.Fatal((&squall.Server{Addr: addr, RawHandler: h}).ListenAndServe())
}
