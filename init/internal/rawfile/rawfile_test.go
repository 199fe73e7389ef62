package rawfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789"), 2000) // spans several reads
	for name, content := range map[string][]byte{"empty": nil, "small": []byte("x\n"), "big": big} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o644)
		got, err := Read(p)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("Read(%s) = %d bytes, %v; want %d bytes", name, len(got), err, len(content))
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); err != syscall.ENOENT {
		t.Errorf("missing file: err %v, want ENOENT", err)
	}
	// /proc files report size 0; they must still be read whole.
	if got, err := Read("/proc/self/status"); err != nil || !bytes.Contains(got, []byte("\nPid:")) {
		t.Errorf("Read(/proc/self/status) = %q, %v", got, err)
	}
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	want := []string{"a", "b", "c"}
	for _, n := range want {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	got, err := Names(dir)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Names = %v, %v; want %v", got, err, want)
	}
}
