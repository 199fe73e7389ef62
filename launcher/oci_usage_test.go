package main

import (
	"strings"
	"testing"
)

// Every OCI command has its lines in the usage text, which --help prints.
func TestCommandUsage(t *testing.T) {
	for _, cmd := range []string{"spec", "create", "start", "run", "state", "kill", "delete", "list", "ps", "exec", "pause", "update", "features"} {
		got := commandUsage(cmd)
		if got == ociUsage || !strings.Contains(got, "\n  "+cmd) {
			t.Errorf("%s --help: %q", cmd, got)
		}
	}
	if got := commandUsage("create"); !strings.Contains(got, "--preserve-fds") || !strings.Contains(got, "--no-pivot") || strings.Contains(got, "  start ID") {
		t.Errorf("create --help: %q, want its two lines and options only", got)
	}
	if commandUsage("nonsense") != ociUsage {
		t.Error("an unknown command's help is not the whole usage")
	}
}
