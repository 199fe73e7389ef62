// Command tcpbench is make bench's TCP throughput probe: a sink that
// discards what each connection sends and then acknowledges the byte
// count, and a sender that pushes a fixed number of bytes and times the
// transfer up to that acknowledgement. It is built static so it can run
// inside a container image as well as on the host.
//
//	tcpbench sink -l ADDR
//	tcpbench send -addr HOST:PORT [-bytes N] [-repeat K]
//
// send prints one line per repetition: "bytes<TAB>seconds".
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "sink":
		fs := flag.NewFlagSet("sink", flag.ExitOnError)
		addr := fs.String("l", ":5000", "address to listen on")
		fs.Parse(os.Args[2:])
		err = sink(*addr)
	case "send":
		fs := flag.NewFlagSet("send", flag.ExitOnError)
		addr := fs.String("addr", "", "the sink's HOST:PORT")
		n := fs.Int64("bytes", 1<<30, "bytes per repetition")
		k := fs.Int("repeat", 3, "repetitions")
		fs.Parse(os.Args[2:])
		err = sendAll(os.Stdout, *addr, *n, *k)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tcpbench sink -l ADDR | tcpbench send -addr HOST:PORT [-bytes N] [-repeat K]")
	os.Exit(2)
}

// sink serves connections one after the other until it is killed.
func sink(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		drain(c)
	}
}

// drain reads c to EOF and answers with the byte count (8 bytes, big endian).
func drain(c net.Conn) {
	defer c.Close()
	n, _ := io.Copy(io.Discard, c)
	binary.Write(c, binary.BigEndian, n)
}

// sendAll runs k transfers of n bytes to addr and prints each one's time.
func sendAll(w io.Writer, addr string, n int64, k int) error {
	for range k {
		d, err := send(addr, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%d\t%.6f\n", n, d.Seconds())
	}
	return nil
}

// send pushes n bytes to addr, waiting up to 5 s for the sink to listen,
// and returns the time from connect to the sink's acknowledgement.
func send(addr string, n int64) (time.Duration, error) {
	var c net.Conn
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err = net.Dial("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	buf := make([]byte, 256<<10)
	for left := n; left > 0; {
		m := min(left, int64(len(buf)))
		if _, err := c.Write(buf[:m]); err != nil {
			return 0, err
		}
		left -= m
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return 0, err
	}
	var got int64
	if err := binary.Read(c, binary.BigEndian, &got); err != nil {
		return 0, fmt.Errorf("%s: no acknowledgement: %w", addr, err)
	}
	d := time.Since(start)
	if got != n {
		return 0, fmt.Errorf("%s: the sink got %d bytes of %d", addr, got, n)
	}
	return d, nil
}
