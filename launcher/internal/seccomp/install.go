package seccomp

import (
	"encoding/binary"
	"encoding/json"
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

// Program is a compiled filter that travels as JSON compactly: the
// kernel's own 8-byte instructions, base64 encoded (a 500-instruction
// filter is 5 KB instead of 20 KB of objects to encode and decode on
// every container start).
type Program []unix.SockFilter

// MarshalJSON encodes p as the base64 of its instructions' bytes.
func (p Program) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil // no filter, as opposed to an empty one
	}
	raw := make([]byte, 0, 8*len(p))
	for _, in := range p {
		raw = binary.LittleEndian.AppendUint16(raw, in.Code)
		raw = append(raw, in.Jt, in.Jf)
		raw = binary.LittleEndian.AppendUint32(raw, in.K)
	}
	return json.Marshal(raw)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (p *Program) UnmarshalJSON(data []byte) error {
	var raw []byte
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*p = nil
		return nil
	}
	if len(raw)%8 != 0 {
		return fmt.Errorf("a seccomp program of %d bytes is not whole instructions", len(raw))
	}
	prog := make(Program, 0, len(raw)/8)
	for i := 0; i < len(raw); i += 8 {
		prog = append(prog, unix.SockFilter{Code: binary.LittleEndian.Uint16(raw[i:]), Jt: raw[i+2], Jf: raw[i+3], K: binary.LittleEndian.Uint32(raw[i+4:])})
	}
	*p = prog
	return nil
}
