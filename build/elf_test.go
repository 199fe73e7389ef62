package main

import (
	"debug/elf"
	"testing"
	"time"
)

func mtimeNow() time.Time { return time.Now() }

func readInterp(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			p.ReadAt(b, 0)
			return string(b[:len(b)-1])
		}
	}
	return ""
}

func isStatic(t *testing.T, path string) bool { return readInterp(t, path) == "" }
