package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sizeBudget is the stripped init's limit in bytes: images must stay tiny.
// The init is built without inlining (-gcflags=all=-l, as the Makefile
// does), which keeps VM mode within it.
const sizeBudget = 1_600_000

// TestSizeBudget builds the init exactly as the Makefile does and checks it
// is static and within budget.
func TestSizeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the init")
	}
	out := filepath.Join(t.TempDir(), "init")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-gcflags=all=-l", "-ldflags", "-s -w -buildid=", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > sizeBudget {
		t.Errorf("stripped init is %d bytes, over the %d-byte budget", st.Size(), sizeBudget)
	}
	t.Logf("stripped init: %d bytes (budget %d)", st.Size(), sizeBudget)
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("init is dynamically linked; it must be static")
		}
	}
}

// TestNoHeavyImports keeps the packages that blow the budget out of the init.
func TestNoHeavyImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	for _, banned := range []string{"fmt", "encoding/json", "os/exec", "reflect", "text/template", "net", "log", "flag"} {
		if deps[banned] {
			t.Errorf("init imports %s (directly or not); keep it out of the init", banned)
		}
	}
}
