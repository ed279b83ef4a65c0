package squall_test

import (
	"fmt"
	"log"
	"net/http"

	"squall.dev/go/squall"
)

func ExampleListenAndServe() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s!\n", r.PathValue("name"))
	})
	log.Fatal(squall.ListenAndServe("127.0.0.1:8080", mux))
}

func ExampleHandlerFunc() {
	hello := []byte("Hello, world!\n")
	h := squall.HandlerFunc(func(r *squall.Request) {
		switch string(r.PathBytes()) { // no copy
		case "/":
			r.Respond(200, "text/plain", hello)
		default:
			r.RespondString(404, "text/plain", "not found\n")
		}
	})
	log.Fatal(squall.ListenAndServeRaw("127.0.0.1:8080", h))
}
