// Command udpecho answers every UDP datagram on the given port with
// "echo:" and the datagram, for the published-UDP-port test (busybox's nc
// has no UDP). "udpecho send HOST:PORT MSG" is the client: it prints the
// reply, waiting at most a second.
package main

import (
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "send" {
		conn, err := net.Dial("udp", os.Args[2])
		if err != nil {
			os.Exit(2)
		}
		conn.Write([]byte(os.Args[3]))
		conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 1500)
		n, err := conn.Read(buf)
		if err != nil {
			os.Exit(1)
		}
		os.Stdout.Write(buf[:n])
		return
	}
	conn, err := net.ListenPacket("udp", ":"+os.Args[1])
	if err != nil {
		os.Stderr.WriteString("udpecho: " + err.Error() + "\n")
		os.Exit(2)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			os.Exit(1)
		}
		conn.WriteTo(append([]byte("echo:"), buf[:n]...), from)
	}
}
