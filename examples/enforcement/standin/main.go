// Command standin is the example project's stand-in for its host services
// where the real ones are not installed: it is NOT Phoenix or Vite. It
// serves a one-line page on 127.0.0.1:$PORT saying what it stands in for
// ($STANDIN_FOR), so `devenv up` brings the whole example stack up on any
// machine with Go. It is its own module so that it runs with `go run .`
// wherever the example is copied.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		log.Fatal("standin: PORT is not set")
	}
	what := os.Getenv("STANDIN_FOR")
	log.Printf("standin: serving 127.0.0.1:%s as a stand-in for %q (not the real thing)", port, what)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "devenv example stand-in for %s\n", what)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
