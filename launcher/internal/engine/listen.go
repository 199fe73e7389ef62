package engine

import (
	"errors"
	"net"
	"os"

	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// listeners are the sockets bound for --listen.
type listeners struct {
	files []*os.File
	names []string
	paths []string // unix socket files we created, removed at the end
}

// bindListeners binds every --listen socket; on any failure nothing stays
// bound and the error names the flag.
func bindListeners(specs []spec.Listen) (*listeners, error) {
	l := &listeners{}
	for _, ls := range specs {
		f, err := bind(ls)
		if err != nil {
			l.close()
			return nil, userErrorf("--listen %s:%s: %v", ls.Network, ls.Address, unwrapNet(err))
		}
		l.files = append(l.files, f)
		l.names = append(l.names, ls.Name)
		if ls.Network == "unix" {
			l.paths = append(l.paths, ls.Address)
		}
	}
	return l, nil
}

// bind returns the bound (and, for streams, listening) socket as a file;
// the net package's own copy is closed, so only the file remains.
func bind(ls spec.Listen) (*os.File, error) {
	switch ls.Network {
	case "udp":
		c, err := net.ListenPacket("udp", ls.Address)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.(*net.UDPConn).File()
	case "unix":
		ln, err := net.Listen("unix", ls.Address)
		if err != nil {
			return nil, err
		}
		ul := ln.(*net.UnixListener)
		ul.SetUnlinkOnClose(false) // the path must outlive this copy
		defer ul.Close()
		return ul.File()
	}
	ln, err := net.Listen("tcp", ls.Address)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	return ln.(*net.TCPListener).File()
}

// close closes our copies of the sockets and removes unix socket files.
func (l *listeners) close() {
	for _, f := range l.files {
		f.Close()
	}
	for _, p := range l.paths {
		os.Remove(p)
	}
	l.files, l.paths = nil, nil
}

func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
