package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install loads prog on the calling thread only (no TSYNC: the caller has
// locked its OS thread and execs right after, and the filter survives the
// exec). The kernel wants no_new_privs set beforehand, or CAP_SYS_ADMIN.
func Install(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > unix.BPF_MAXINSNS {
		return fmt.Errorf("a seccomp filter has 1 to %d instructions, not %d", unix.BPF_MAXINSNS, len(prog))
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	switch {
	case errno == 0:
		return nil
	case errors.Is(errno, unix.EACCES):
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w (set no_new_privs first, or hold CAP_SYS_ADMIN)", errno)
	}
	return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
}
