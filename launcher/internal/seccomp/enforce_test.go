package seccomp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The kernel tests run the filter for real: the test binary re-executes
// itself (TestSeccompChild), sets no_new_privs, installs a filter on its
// locked thread and makes the syscalls; the parent reads what came back.
// No root needed.

const childEnv = "SECCOMP_TEST_CHILD"

// marker is the errno the "marked" filters return instead of EPERM: no
// syscall here returns it on its own, so a marker proves the filter
// refused the call, whatever the test's own privileges.
const marker = unix.EHWPOISON

const nowhere = "/nonexistent-seccomp-test"

// probe is one syscall, harmless whether or not the filter lets it through.
type probe struct {
	name    string
	call    func() unix.Errno
	blocked bool // by Default(dockerCaps)
	admin   bool // CAP_SYS_ADMIN lets it through
}

func sys(nr uintptr, args ...uintptr) func() unix.Errno {
	return func() unix.Errno {
		var a [6]uintptr
		copy(a[:], args)
		r, _, errno := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
		if errno == 0 && nr == unix.SYS_SOCKET {
			unix.Close(int(r))
		}
		return errno
	}
}

// pinned keeps str's strings reachable: a uintptr does not, and Go's
// heap does not move, so the addresses stay good.
var pinned []*byte

func str(s string) uintptr {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		panic(err)
	}
	pinned = append(pinned, p)
	return uintptr(unsafe.Pointer(p))
}

var kernelProbes = []probe{
	{name: "getpid", call: sys(unix.SYS_GETPID)},
	{name: "personality-query", call: sys(unix.SYS_PERSONALITY, 0xffffffff)},
	{name: "personality-no-aslr", call: sys(unix.SYS_PERSONALITY, 0x0040000), blocked: true},
	{name: "socket-inet", call: sys(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC)},
	// The kernel reads the family as an int: the filter must look at all 64 bits.
	{name: "socket-inet-high-bits", call: sys(unix.SYS_SOCKET, 1<<32|unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC), blocked: true},
	{name: "socket-vsock", call: sys(unix.SYS_SOCKET, unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC), blocked: true},
	{name: "socket-alg", call: sys(unix.SYS_SOCKET, unix.AF_ALG, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC), blocked: true},
	// CLONE_THREAD without CLONE_SIGHAND, and CLONE_NEWUSER with CLONE_FS,
	// are EINVAL: nothing is ever created.
	{name: "clone-plain", call: sys(unix.SYS_CLONE, unix.CLONE_THREAD)},
	{name: "clone-newuser", call: sys(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_FS), blocked: true, admin: true},
	{name: "clone3", call: sys(unix.SYS_CLONE3, 0, 0), blocked: true, admin: true},
	{name: "mount", call: sys(unix.SYS_MOUNT, str("none"), str(nowhere), str("tmpfs"), 0, 0), blocked: true, admin: true},
	{name: "umount2", call: sys(unix.SYS_UMOUNT2, str(nowhere), 0), blocked: true, admin: true},
	{name: "setns", call: sys(unix.SYS_SETNS, ^uintptr(0), 0), blocked: true, admin: true},
	{name: "bpf", call: sys(unix.SYS_BPF, 9999, 0, 0), blocked: true, admin: true},
	{name: "perf_event_open", call: sys(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0), blocked: true, admin: true},
	{name: "sethostname", call: sys(unix.SYS_SETHOSTNAME, 0, 1000), blocked: true, admin: true},
	{name: "keyctl", call: sys(unix.SYS_KEYCTL, 9999), blocked: true},
	{name: "add_key", call: sys(unix.SYS_ADD_KEY, 0, 0, 0, 0, 0), blocked: true},
	{name: "request_key", call: sys(unix.SYS_REQUEST_KEY, 0, 0, 0, 0), blocked: true},
	{name: "reboot", call: sys(unix.SYS_REBOOT, 0, 0, 0, 0), blocked: true}, // bad magic: EINVAL at worst
	{name: "init_module", call: sys(unix.SYS_INIT_MODULE, 0, 0, str("")), blocked: true},
	{name: "finit_module", call: sys(unix.SYS_FINIT_MODULE, ^uintptr(0), str(""), 0), blocked: true},
	{name: "delete_module", call: sys(unix.SYS_DELETE_MODULE, str("seccomp_test_no_such_module"), unix.O_NONBLOCK), blocked: true},
	{name: "kexec_load", call: sys(unix.SYS_KEXEC_LOAD, 0, 1000, 0, 0), blocked: true}, // > KEXEC_SEGMENT_MAX segments
	{name: "kexec_file_load", call: sys(unix.SYS_KEXEC_FILE_LOAD, ^uintptr(0), ^uintptr(0), 0, 0, 0xffffffff), blocked: true},
	{name: "swapon", call: sys(unix.SYS_SWAPON, str(nowhere), 0), blocked: true},
	{name: "swapoff", call: sys(unix.SYS_SWAPOFF, str(nowhere)), blocked: true},
	{name: "open_by_handle_at", call: sys(unix.SYS_OPEN_BY_HANDLE_AT, ^uintptr(0), 0, 0), blocked: true},
	{name: "userfaultfd", call: sys(unix.SYS_USERFAULTFD, 0xffffffff), blocked: true},
	{name: "io_uring_setup", call: sys(unix.SYS_IO_URING_SETUP, 0, 0), blocked: true},
	{name: "ptrace", call: sys(unix.SYS_PTRACE, 0xdead, ^uintptr(0), 0, 0)}, // allowed, as docker does
	{name: "kcmp", call: sys(unix.SYS_KCMP, 0x7fffffff, 0x7fffffff, 9999, 0, 0), blocked: true},
	{name: "settimeofday", call: sys(unix.SYS_SETTIMEOFDAY, 0, 0), blocked: true}, // NULL, NULL: a no-op
	{name: "clock_settime", call: sys(unix.SYS_CLOCK_SETTIME, 9999, 0), blocked: true},
	{name: "acct", call: sys(unix.SYS_ACCT, str(nowhere)), blocked: true},
	{name: "chroot", call: sys(unix.SYS_CHROOT, str(nowhere))}, // CAP_SYS_CHROOT is a default cap
	// x32 calls come in as AUDIT_ARCH_X86_64 with the x32 bit set; the
	// kernel may not run them (ENOSYS), but the filter decides first.
	{name: "x32-getpid", call: sys(x32SyscallBit | 39)},
	{name: "x32-keyctl", call: sys(x32SyscallBit|250, 9999), blocked: true},
	{name: "x32-execve-64-number", call: sys(x32SyscallBit | 59), blocked: true},
	// Last: with CAP_SYS_ADMIN it moves the thread into a new user namespace.
	{name: "unshare-newuser", call: sys(unix.SYS_UNSHARE, unix.CLONE_NEWUSER), blocked: true, admin: true},
}

// childProfile is the filter a child installs for its mode.
func childProfile(mode string) *specs.LinuxSeccomp {
	caps := dockerCaps
	if strings.HasPrefix(mode, "admin") {
		caps = append(caps[:len(caps):len(caps)], "CAP_SYS_ADMIN")
	}
	p := Default(caps)
	if strings.HasSuffix(mode, "marked") {
		m := uint(marker)
		p.DefaultErrnoRet = &m
	}
	return p
}

// TestSeccompChild is the child's side; it skips unless started by the parent.
func TestSeccompChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("the child of TestFilterOnKernel")
	}
	runtime.LockOSThread() // never unlocked: the filtered thread ends with the test
	var elf32 string       // "PATH:exec32=MODE": exec PATH under MODE's filter
	if path, m, ok := strings.Cut(mode, ":exec32="); ok {
		elf32, mode = path, m
	}
	prog, err := Compile(childProfile(mode))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := Install(prog); err != nil {
		t.Fatal(err)
	}
	if elf32 != "" {
		err := unix.Exec(elf32, []string{elf32}, nil)
		fmt.Printf("exec32 %d\n", err.(unix.Errno))
		return
	}
	for _, p := range kernelProbes {
		fmt.Printf("probe %s %d\n", p.name, p.call())
	}
}

// runChild runs TestSeccompChild in mode and returns its output.
func runChild(t *testing.T, mode string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSeccompChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func requireSeccomp(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil || !strings.Contains(string(status), "\nSeccomp:") {
		t.Skip("no seccomp in this kernel")
	}
}

func TestFilterOnKernel(t *testing.T) {
	requireSeccomp(t)
	for _, mode := range []string{"default", "marked", "admin-marked"} {
		t.Run(mode, func(t *testing.T) {
			out, err := runChild(t, mode)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			got := map[string]unix.Errno{}
			s := bufio.NewScanner(strings.NewReader(out))
			for s.Scan() {
				var name string
				var errno int
				if n, _ := fmt.Sscanf(s.Text(), "probe %s %d", &name, &errno); n == 2 {
					got[name] = unix.Errno(errno)
				}
			}
			if len(got) != len(kernelProbes) {
				t.Fatalf("child reported %d of %d kernelProbes:\n%s", len(got), len(kernelProbes), out)
			}
			refused := unix.EPERM
			if strings.HasSuffix(mode, "marked") {
				refused = marker
			}
			for _, p := range kernelProbes {
				errno := got[p.name]
				blocked := p.blocked && !(p.admin && strings.HasPrefix(mode, "admin"))
				switch {
				case p.name == "clone3" && blocked:
					if errno != unix.ENOSYS {
						t.Errorf("%s: %v (%d), want ENOSYS so libc falls back to clone", p.name, errno, errno)
					}
				case blocked && errno != refused:
					t.Errorf("%s: %v (%d), want the filter's %v (%d)", p.name, errno, errno, refused, refused)
				case !blocked && errno == marker:
					t.Errorf("%s: refused by the filter, want it let through", p.name)
				}
			}
			for _, name := range []string{"getpid", "personality-query", "socket-inet"} {
				if got[name] != 0 {
					t.Errorf("%s: %v, want success", name, got[name])
				}
			}
		})
	}
}

// TestFilterOnKernelI386 makes real int $0x80 calls: a tiny static i386
// program, exec'd under the filter, exits with the errno of one syscall.
func TestFilterOnKernelI386(t *testing.T) {
	requireSeccomp(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		nr, arg uint32
		want    unix.Errno
	}{
		{"getpid", 20, 0, 0},
		{"keyctl", 288, 9999, marker},
		{"mount", 21, 0, marker},
		{"clone3", 435, 0, unix.ENOSYS},
		{"clone-newuser", 120, unix.CLONE_NEWUSER | unix.CLONE_FS, marker},
		{"clone-plain", 120, unix.CLONE_THREAD, unix.EINVAL},
		{"personality-no-aslr", 136, 0x0040000, marker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, elf32Syscall(tc.nr, tc.arg), 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := runChild(t, path+":exec32=marked")
			if strings.Contains(out, fmt.Sprintf("exec32 %d", unix.ENOEXEC)) {
				t.Skip("this kernel runs no i386 programs (no IA32 emulation)")
			}
			if strings.Contains(out, "exec32 ") {
				t.Fatalf("exec: %s", out)
			}
			var exit *exec.ExitError
			code := 0
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if unix.Errno(code) != tc.want {
				t.Errorf("i386 %s: errno %d, want %d (%v)", tc.name, code, tc.want, tc.want)
			}
		})
	}
}

// elf32Syscall is a static i386 executable that makes syscall nr(arg, 0,
// 0) through int $0x80 and exits with its errno (0 on success).
func elf32Syscall(nr, arg uint32) []byte {
	const base = 0x08048000
	const headers = 52 + 32
	code := []byte{0xb8, 0, 0, 0, 0} // mov eax, nr
	binary.LittleEndian.PutUint32(code[1:], nr)
	code = append(code, 0xbb, 0, 0, 0, 0) // mov ebx, arg
	binary.LittleEndian.PutUint32(code[len(code)-4:], arg)
	code = append(code,
		0x31, 0xc9, // xor ecx, ecx
		0x31, 0xd2, // xor edx, edx
		0xcd, 0x80, // int $0x80
		0x31, 0xdb, // xor ebx, ebx
		0x85, 0xc0, // test eax, eax
		0x79, 0x04, // jns exit
		0x89, 0xc3, // mov ebx, eax
		0xf7, 0xdb, // neg ebx
		0xb8, 1, 0, 0, 0, // exit: mov eax, 1 (exit)
		0xcd, 0x80, // int $0x80
	)
	size := uint32(headers + len(code))
	le := binary.LittleEndian
	var h []byte
	h = append(h, 0x7f, 'E', 'L', 'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0) // 32-bit, little-endian
	h = le.AppendUint16(h, 2)                                              // ET_EXEC
	h = le.AppendUint16(h, 3)                                              // EM_386
	h = le.AppendUint32(h, 1)                                              // EV_CURRENT
	h = le.AppendUint32(h, base+headers)                                   // entry
	h = le.AppendUint32(h, 52)                                             // program headers
	h = le.AppendUint32(h, 0)                                              // no section headers
	h = le.AppendUint32(h, 0)                                              // flags
	h = le.AppendUint16(h, 52)                                             // ELF header size
	h = le.AppendUint16(h, 32)                                             // program header size
	h = le.AppendUint16(h, 1)                                              // one of them
	h = le.AppendUint16(h, 40)                                             // section header size
	h = le.AppendUint16(h, 0)                                              // no sections
	h = le.AppendUint16(h, 0)                                              // no string table
	for _, v := range []uint32{1, 0, base, base, size, size, 5, 0x1000} {  // PT_LOAD, R+X
		h = le.AppendUint32(h, v)
	}
	return append(h, code...)
}

func TestInstallErrors(t *testing.T) {
	if err := Install(nil); err == nil {
		t.Error("Install(nil) succeeded")
	}
	if err := Install(make([]unix.SockFilter, unix.BPF_MAXINSNS+1)); err == nil || !strings.Contains(err.Error(), strconv.Itoa(unix.BPF_MAXINSNS)) {
		t.Errorf("Install(too long) = %v", err)
	}
}
