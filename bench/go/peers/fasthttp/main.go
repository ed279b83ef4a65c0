// Hello-world server on github.com/valyala/fasthttp (the peer of the raw
// API).
//
//	fasthttp-hello PORT  (GOMAXPROCS from the environment)
package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"runtime"

	"github.com/valyala/fasthttp"
)

var body = []byte("Hello, world!\n")

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PORT\n", os.Args[0])
		os.Exit(2)
	}
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain")
			ctx.SetBody(body)
		},
		Name: "fasthttp",
	}
	addr := "127.0.0.1:" + os.Args[1]
	// Go sets TCP_NODELAY on accepted connections by default.
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "fasthttp on %s GOMAXPROCS=%d\n", addr, runtime.GOMAXPROCS(0))
	log.Fatal(s.Serve(ln))
}
