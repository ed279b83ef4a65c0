// Go net/http hello-world for bench/scale/run.sh: like the shared harness'
// go_hello but it leaves GOMAXPROCS to the environment (that one forces 1),
// so the scale-out run can compare it at GOMAXPROCS=2.
//
//	GOMAXPROCS=2 go_hello PORT
package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
)

var hello = []byte("Hello, world!\n")

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PORT\n", os.Args[0])
		os.Exit(2)
	}
	srv := &http.Server{
		Addr: "127.0.0.1:" + os.Args[1],
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{"text/plain"}
			h["Content-Length"] = []string{"14"}
			w.WriteHeader(http.StatusOK)
			w.Write(hello)
		}),
	}
	fmt.Fprintf(os.Stderr, "go_hello %s on %s, GOMAXPROCS=%d\n", runtime.Version(), srv.Addr, runtime.GOMAXPROCS(0))
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
