package seccomp

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParse feeds Parse arbitrary files: it must not panic, its errors
// must be one line naming the file, and what it accepts must compile to a
// program the kernel would load, or to an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(dockerJSON), uint8(0))
	f.Add([]byte(dockerJSON), uint8(0xff))
	if def, err := json.Marshal(defaultProfile()); err == nil {
		f.Add(def, uint8(1))
	}
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[{"index":1,"value":4294967296,"valueTwo":7,"op":"SCMP_CMP_MASKED_EQ"}]}]}`), uint8(2))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_NOTIFY"}`), uint8(0))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["x"]}]}`), uint8(0))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}]}`), uint8(0))
	f.Add([]byte("{\n\"defaultAction\": 1,\n}"), uint8(0))

	capsBits := []string{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_TIME", "sys_chroot"}
	f.Fuzz(func(t *testing.T, data []byte, capMask uint8) {
		var caps []string
		for i, c := range capsBits {
			if capMask&(1<<i) != 0 {
				caps = append(caps, c)
			}
		}
		p, err := Parse("fuzz.json", data, caps)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "seccomp profile fuzz.json: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
			return
		}
		prog, err := Compile(p)
		if err != nil {
			return
		}
		if err := verify(prog); err != nil {
			t.Fatalf("the kernel would refuse the program: %v", err)
		}
		for _, c := range []call{x8664(unix.SYS_READ, 1), x8664(unix.SYS_IOCTL, 0, 1<<32), i386(54), x32(0), newCall(0, 0, nil)} {
			got, err := run(prog, c)
			if err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			if want := reference(p, c); got != want {
				t.Fatalf("%v: got %#x, want %#x", c, got, want)
			}
		}
	})
}
