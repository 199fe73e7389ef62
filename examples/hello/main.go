// Command hello is the example app of `make example-image`: a static HTTP
// server that takes its listening socket from socket activation
// (LISTEN_FDS, as `launcher run --listen` or systemd pass it) or else
// listens on $PORT (default 8080).
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	ln, how, err := listener()
	if err != nil {
		log.Fatal(err)
	}
	hostname, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s (%s, container=%s)\n", hostname, how, os.Getenv("container"))
	})
	log.Printf("serving on %s (%s)", ln.Addr(), how)
	log.Fatal(http.Serve(ln, nil))
}

// listener is the first activation socket if we were given one, else a
// new TCP listener.
func listener() (net.Listener, string, error) {
	if os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) {
		if n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS")); n > 0 {
			f := os.NewFile(3, "activation")
			ln, err := net.FileListener(f)
			f.Close()
			return ln, "socket activation", err
		}
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	return ln, "port " + port, err
}
