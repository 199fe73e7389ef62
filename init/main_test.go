package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args  []string
		grace time.Duration
		probe bool
		argv  []string
		err   string
	}{
		{args: nil, grace: 5 * time.Second},
		{args: []string{"sh", "-c", "x"}, grace: 5 * time.Second, argv: []string{"sh", "-c", "x"}},
		{args: []string{"--", "--grace"}, grace: 5 * time.Second, argv: []string{"--grace"}},
		{args: []string{"--grace", "0.25", "true"}, grace: 250 * time.Millisecond, argv: []string{"true"}},
		{args: []string{"--grace=12", "--", "true"}, grace: 12 * time.Second, argv: []string{"true"}},
		{args: []string{"--probe"}, grace: 5 * time.Second, probe: true},
		{args: []string{"--grace"}, err: "--grace needs a value in seconds"},
		{args: []string{"--grace", "-1"}, err: "--grace -1: not a number of seconds (use e.g. 5 or 0.5)"},
		{args: []string{"--bogus"}, err: "unknown flag --bogus"},
	}
	for _, tt := range tests {
		opts, err := parseArgs(tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseArgs(%q) error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || opts.grace != tt.grace || opts.probe != tt.probe || !slices.Equal(opts.argv, tt.argv) {
			t.Errorf("parseArgs(%q) = %+v, %v", tt.args, opts, err)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	good := map[string]time.Duration{"0": 0, "5": 5 * time.Second, "0.5": 500 * time.Millisecond,
		".25": 250 * time.Millisecond, "1.000000001": time.Second + 1, "86400": 24 * time.Hour}
	for in, want := range good {
		if got, ok := parseSeconds(in); !ok || got != want {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ".", "-1", "1e3", "5s", "1.2.3", "86401", "1.0000000001", "99999999"} {
		if got, ok := parseSeconds(in); ok {
			t.Errorf("parseSeconds(%q) = %v, want refusal", in, got)
		}
	}
}

func TestReadCmdConfig(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string][]string{
		"/bin/app\n--flag\nwith space\n": {"/bin/app", "--flag", "with space"},
		"/bin/app\n\nlast":               {"/bin/app", "", "last"},
		"":                               nil,
	} {
		p := filepath.Join(dir, "cmd")
		os.WriteFile(p, []byte(content), 0o644)
		got, err := readCmdConfig(p)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("readCmdConfig(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
	if got, err := readCmdConfig(filepath.Join(dir, "missing")); got != nil || err != nil {
		t.Errorf("missing config: %q, %v; want no payload and no error", got, err)
	}
	os.WriteFile(filepath.Join(dir, "bad"), []byte("\nx\n"), 0o644)
	if _, err := readCmdConfig(filepath.Join(dir, "bad")); err == nil {
		t.Error("empty program name accepted")
	}
}

func TestPayloadEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "env")
	os.WriteFile(file, []byte("# image defaults\nA=image\nB='kept as is'\n"), 0o644)
	got, err := payloadEnv(file, []string{"A=runtime", "LISTEN_PID=1", "LISTEN_FDS=2", "C=3"})
	want := []string{"A=runtime", "B=kept as is", "C=3", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("payloadEnv = %q, %v; want %q", got, err, want)
	}
	os.WriteFile(file, []byte("A=1\nexport B=2\n"), 0o644)
	if _, err := payloadEnv(file, nil); err == nil || err.Error() != file+":2: invalid variable name \"export B\"" {
		t.Errorf("bad env file: error %v", err)
	}
	if got, err := payloadEnv(filepath.Join(dir, "missing"), []string{"PATH=/bin"}); err != nil || !slices.Equal(got, []string{"PATH=/bin"}) {
		t.Errorf("no env file: %q, %v", got, err)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "data"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if got, err := lookPath("tool", "/nonexistent:"+dir); err != nil || got != exe {
		t.Errorf("lookPath(tool) = %q, %v", got, err)
	}
	for name, code := range map[string]int{"missing": exitNotFound, "data": exitNotExecutable,
		filepath.Join(dir, "data"): exitNotExecutable, filepath.Join(dir, "sub"): exitNotExecutable,
		filepath.Join(dir, "nope"): exitNotFound, "": exitNotFound} {
		if _, err := lookPath(name, dir); err == nil || err.code != code {
			t.Errorf("lookPath(%q) = %v, want exit code %d", name, err, code)
		}
	}
}

func TestExitCode(t *testing.T) {
	// WaitStatus encoding: exit code in bits 8-15, signal in bits 0-6.
	if got := exitCode(syscall.WaitStatus(7 << 8)); got != 7 {
		t.Errorf("exit 7 -> %d", got)
	}
	if got := exitCode(syscall.WaitStatus(syscall.SIGTERM)); got != 143 {
		t.Errorf("SIGTERM -> %d, want 143", got)
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "3": 3, "123456789": 123456789} {
		if got, ok := atoi(in); !ok || got != want {
			t.Errorf("atoi(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-1", "1x", "1234567890"} {
		if _, ok := atoi(in); ok {
			t.Errorf("atoi(%q) accepted", in)
		}
	}
}

func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{"5", "0.5", ".25", "86400", "1e3", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseSeconds(s)
		if ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("parseSeconds(%q) = %v: out of range but accepted", s, d)
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	f.Add("--grace\x000.5\x00--\x00sh")
	f.Add("--probe")
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		for _, a := range splitNUL(joined) {
			if a == "-h" || a == "--help" {
				return // prints help and exits
			}
			args = append(args, a)
		}
		opts, err := parseArgs(args)
		if err == nil && len(opts.argv) > len(args) {
			t.Fatalf("payload longer than the arguments: %q -> %q", args, opts.argv)
		}
	})
}

func splitNUL(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// The socket-activation protocol's variables are LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES: those never reach the payload unless the init passes
// sockets, wherever they come from; an application's own LISTEN_ADDR does.
func TestPayloadEnvStripsOnlyActivationVars(t *testing.T) {
	file := filepath.Join(t.TempDir(), "env")
	os.WriteFile(file, []byte("LISTEN_FDS=9\nLISTEN_PID=1\nLISTEN_FDNAMES=stale\nLISTEN_PORT=80\n"), 0o644)
	got, err := payloadEnv(file, []string{"LISTEN_ADDR=:8080", "LISTEN_FDS=2", "PATH=/bin"})
	want := []string{"LISTEN_PORT=80", "LISTEN_ADDR=:8080", "PATH=/bin"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("payloadEnv = %q, %v; want %q", got, err, want)
	}
}

// An empty PATH gets the default once, not a second PATH entry after it
// (getenv and the init's own lookup would both see the empty one).
func TestPayloadEnvEmptyPath(t *testing.T) {
	got, err := payloadEnv(filepath.Join(t.TempDir(), "missing"), []string{"PATH=", "A=1"})
	want := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("payloadEnv = %q, %v; want %q", got, err, want)
	}
}

// TestKillAllTakesDescendants: when the grace period ends, a non-PID-1 init
// kills the payload's whole tree, not only the payload: its children would
// otherwise be re-parented to the init and outlive the stop.
func TestKillAllTakesDescendants(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skip("no sh: ", err)
	}
	defer cmd.Wait()
	line, err := bufio.NewReader(out).ReadString('\n')
	grandchild, ok := atoi(strings.TrimSpace(line))
	if err != nil || !ok {
		cmd.Process.Kill()
		t.Fatalf("no grandchild pid: %q %v", line, err)
	}
	defer syscall.Kill(grandchild, syscall.SIGKILL)
	killAll(cmd.Process.Pid, false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(grandchild) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return // gone, or dead and waiting for its new parent to reap it
		}
		if time.Now().After(deadline) {
			t.Fatalf("the payload's child %d survived the grace kill: %s", grandchild, stat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
