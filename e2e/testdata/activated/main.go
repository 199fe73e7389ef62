// Command activated is a socket-activated test service: it checks the
// sd_listen_fds(3) contract, answers one connection on fd 3 with what it
// was given, and exits.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	pid := strconv.Itoa(os.Getpid())
	if os.Getenv("LISTEN_PID") != pid {
		fmt.Fprintf(os.Stderr, "activated: LISTEN_PID=%q, want %s\n", os.Getenv("LISTEN_PID"), pid)
		os.Exit(2)
	}
	ln, err := net.FileListener(os.NewFile(3, "listen"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "activated: fd 3:", err)
		os.Exit(2)
	}
	conn, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, "activated: accept:", err)
		os.Exit(2)
	}
	fmt.Fprintf(conn, "pid=%s fds=%s names=%s\n", pid, os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES"))
	conn.Close()
}
