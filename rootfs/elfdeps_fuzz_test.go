package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadELF feeds hostile executables to the ELF reader: images come from
// anywhere, and checking one must never crash or hang the checker.
func FuzzReadELF(f *testing.F) {
	for _, p := range []string{"/bin/true", "/bin/busybox"} {
		if data, err := os.ReadFile(p); err == nil && len(data) > 0 {
			f.Add(data[:min(len(data), 8192)])
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("#!/bin/sh\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "exe")
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		obj, err := readELF(p)
		if err == nil && obj == nil {
			t.Fatal("readELF returned neither an object nor an error")
		}
		// The whole resolution must also survive it, inside a tiny root.
		ELFDeps(dir, "/exe")
	})
}
