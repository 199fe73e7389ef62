package network

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// stateLock is the flock(2) on <StateDir>/network/.lock that serializes
// every launcher's Setup, Teardown and Leased.
type stateLock struct{ f *os.File }

func lock(dir string) (*stateLock, error) {
	if err := os.MkdirAll(leaseDir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("nat: state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("nat: lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("nat: lock %s: %w", f.Name(), err)
	}
	return &stateLock{f}, nil
}

// unlock releases the lock (closing the file drops the flock).
func (l *stateLock) unlock() { l.f.Close() }

func leaseDir(dir string) string { return filepath.Join(dir, "leases") }

// readLeases returns address -> id for every lease file in dir. Files whose
// name is not an IPv4 address (editor droppings, temp files) are ignored.
func readLeases(dir string) (map[netip.Addr]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[netip.Addr]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[netip.Addr]string, len(ents))
	for _, e := range ents {
		ip, err := netip.ParseAddr(e.Name())
		if err != nil || !ip.Is4() || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[ip] = strings.TrimSpace(string(b))
	}
	return out, nil
}

// broadcast is the last address of the (IPv4) prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// allocate leases an address of subnet to id by creating dir/<ip> holding
// the id: want if it is valid, else the lowest free address after the
// gateway. stale, if not nil, says whether a lease holder is gone, so its
// lease may be taken over. The caller holds the lock.
func allocate(dir string, subnet netip.Prefix, want netip.Addr, id string, stale func(id string) bool) (netip.Addr, error) {
	leases, err := readLeases(dir)
	if err != nil {
		return netip.Addr{}, err
	}
	return allocateFrom(dir, leases, subnet, want, id, stale)
}

// allocateFrom is allocate with dir already read into leases (by
// readLeases, under the same lock), which it keeps up to date.
func allocateFrom(dir string, leases map[netip.Addr]string, subnet netip.Prefix, want netip.Addr, id string, stale func(id string) bool) (netip.Addr, error) {
	for ip, holder := range leases {
		if holder == id {
			return netip.Addr{}, fmt.Errorf("container %s already holds %s", short(id), ip)
		}
	}
	network := subnet.Masked().Addr()
	gateway := network.Next()
	bcast := broadcast(subnet)

	if want.IsValid() {
		want = want.Unmap()
		switch {
		case !want.Is4() || !subnet.Contains(want):
			return netip.Addr{}, fmt.Errorf("address %s is not in the subnet %s", want, subnet)
		case want == network, want == bcast:
			return netip.Addr{}, fmt.Errorf("address %s is the subnet's network or broadcast address", want)
		case want == gateway:
			return netip.Addr{}, fmt.Errorf("address %s is the gateway", want)
		}
		if holder, ok := leases[want]; ok {
			if stale == nil || !stale(holder) {
				return netip.Addr{}, fmt.Errorf("address %s is already in use by container %s", want, short(holder))
			}
			if err := os.Remove(filepath.Join(dir, want.String())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return netip.Addr{}, err
			}
			delete(leases, want)
		}
		if err := writeLease(dir, want, id); err != nil {
			return netip.Addr{}, err
		}
		leases[want] = id
		return want, nil
	}

	for ip := gateway.Next(); ip.Less(bcast); ip = ip.Next() {
		if _, ok := leases[ip]; ok {
			continue
		}
		err := writeLease(dir, ip, id)
		if errors.Is(err, fs.ErrExist) {
			continue // a file readLeases skipped (not regular): leave it alone
		}
		if err != nil {
			return ip, err
		}
		leases[ip] = id
		return ip, nil
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s", subnet)
}

func writeLease(dir string, ip netip.Addr, id string) error {
	f, err := os.OpenFile(filepath.Join(dir, ip.String()), os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(id + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// releaseLeases removes every lease of id; none is fine.
func releaseLeases(dir string, id string) error {
	leases, err := readLeases(dir)
	if err != nil {
		return err
	}
	return releaseFrom(dir, leases, id)
}

// releaseFrom is releaseLeases with dir already read into leases, which it
// keeps up to date.
func releaseFrom(dir string, leases map[netip.Addr]string, id string) error {
	for ip, holder := range leases {
		if holder != id {
			continue
		}
		if err := os.Remove(filepath.Join(dir, ip.String())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		delete(leases, ip)
	}
	return nil
}

// short is the 12-digit id docker shows.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
