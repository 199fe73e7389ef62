package main

import (
	"os"
	"strconv"
	"syscall"
)

// shimName is argv[0] of the init re-executed as the payload's last step
// before exec: it sets LISTEN_PID to its own pid, which becomes the
// payload's pid when it execs.
const shimName = "stdcontainer-init-shim"

// runShim is called with [path, argv...]; it never returns.
func runShim(args []string) {
	if len(args) < 2 {
		fail(exitConfig, "shim: missing command")
	}
	env := append(os.Environ(), "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	err := syscall.Exec(args[0], args[1:], env)
	fail(exitNotExecutable, args[0]+": "+errnoMessage(err))
}
