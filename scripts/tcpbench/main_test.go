package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A transfer over loopback is acknowledged with the full count; the test
// checks the bytes and the output's shape, never a speed. It runs in a
// network namespace of its own, so nothing reaches this host's network.
func TestSendToSink(t *testing.T) {
	result := make(chan error, 1)
	go func() {
		// The namespace is this thread's only: it stays locked, so the Go
		// runtime ends it with this goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			result <- errSkip{err}
			return
		}
		result <- errors.Join(loopbackUp(), sendToSink())
	}()
	err := <-result
	var skip errSkip
	if errors.As(err, &skip) {
		t.Skipf("a network namespace of its own: %v (needs root)", skip.err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

type errSkip struct{ err error }

func (e errSkip) Error() string { return e.err.Error() }

// loopbackUp brings lo up (SIOCSIFFLAGS), as `ip link set lo up`.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

func sendToSink() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			drain(c)
		}
	}()
	var out strings.Builder
	if err := sendAll(&out, l.Addr().String(), 3<<20+7, 2); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "3145735\t") {
		return fmt.Errorf("output %q, want two lines of 3145735 bytes", out.String())
	}
	return nil
}
