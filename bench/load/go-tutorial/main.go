// The "Go tutorial" peer of the load benchmark: the program the httpserver
// README's users would otherwise write by hand. net/http with a logrus
// logging middleware in front of a handler that answers "package main #14".
//
// Build offline with Debian's packages (golang-go, golang-github-sirupsen-logrus-dev):
//   GOPATH=/usr/share/gocode GO111MODULE=off go build -o go-tutorial main.go
// Run: PORT=8080 ./go-tutorial   (or -addr 127.0.0.1:8080); logs go to stderr.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/sirupsen/logrus"
)

func logging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logrus.Infof("uri: %s", r.RequestURI)
		next.ServeHTTP(w, r)
	})
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "package main #14")
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	addr := flag.String("addr", "127.0.0.1:"+port, "listen address")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/", hello)
	logrus.Infof("listening on %s", *addr)
	if err := http.ListenAndServe(*addr, logging(mux)); err != nil {
		logrus.Fatal(err)
	}
}
