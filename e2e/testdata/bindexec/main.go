// Command bindexec plays systemd's socket activation for a test: it binds
// a TCP listener on ADDR as fd 3, sets LISTEN_FDS=1, LISTEN_FDNAMES and
// LISTEN_PID to its own pid, and execs the rest of its arguments, which
// thus inherit the socket (usage: bindexec ADDR PROG ARGS...).
package main

import (
	"net"
	"os"
	"strconv"
	"syscall"
)

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		os.Stderr.WriteString("bindexec: " + err.Error() + "\n")
		os.Exit(2)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		os.Exit(2)
	}
	if err := syscall.Dup3(int(f.Fd()), 3, 0); err != nil {
		os.Exit(2)
	}
	env := append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES=inherited", "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	err = syscall.Exec(os.Args[2], os.Args[2:], env)
	os.Stderr.WriteString("bindexec: " + err.Error() + "\n")
	os.Exit(2)
}
