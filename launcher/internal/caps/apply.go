package caps

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Sets are a process's five capability sets as bit masks (bit N is
// capability N). Stage 2 sends them over JSON, so they are plain numbers.
type Sets struct {
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
}

// Mask turns canonical names into a bit mask; unknown names are ignored
// (the CLI has rejected them already).
func Mask(names []string) uint64 {
	var m uint64
	for _, n := range names {
		if i := Number(n); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

// Names turns a mask back into names, in number order.
func Names(mask uint64) []string {
	var out []string
	for i, n := range names {
		if mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Uniform is the docker shape: the same set in bounding, effective,
// permitted and inheritable, ambient empty.
func Uniform(mask uint64) Sets {
	return Sets{Bounding: mask, Effective: mask, Permitted: mask, Inheritable: mask}
}

// DropBounding removes from the calling thread's bounding set every
// capability up to last (the kernel's cap_last_cap) that keep lacks. It
// needs CAP_SETPCAP, so it runs before the thread changes its uid.
func DropBounding(keep uint64, last int) error {
	for i := 0; i <= last; i++ {
		if i < 64 && keep&(1<<i) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("dropping capability %d from the bounding set: %v", i, err)
		}
	}
	return nil
}

// SetProcess sets the calling thread's effective, permitted and
// inheritable sets, then raises the ambient ones (which must be permitted
// and inheritable). When the thread is to change to a non-root uid first,
// the caller sets PR_SET_KEEPCAPS before that change.
func SetProcess(s Sets) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := range data {
		data[i] = unix.CapUserData{
			Effective:   uint32(s.Effective >> (32 * i)),
			Permitted:   uint32(s.Permitted >> (32 * i)),
			Inheritable: uint32(s.Inheritable >> (32 * i)),
		}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %v", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clearing ambient capabilities: %v", err)
	}
	for i := 0; i < 64; i++ {
		if s.Ambient&(1<<i) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0); err != nil {
			return fmt.Errorf("raising ambient capability %s: %v", Names(1<<i), err)
		}
	}
	return nil
}

// Bounding is the calling thread's bounding set: the most any process it
// starts can have (a launcher in a confined sandbox may lack some).
func Bounding() uint64 {
	var m uint64
	for i := range names {
		if on, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(i), 0, 0, 0); err == nil && on == 1 {
			m |= 1 << i
		}
	}
	return m
}
