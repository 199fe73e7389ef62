package ocispec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzParse feeds Parse arbitrary config.json files: it must not panic,
// its errors must be one line naming config.json, and what it accepts
// must be what the engine reads, and parse again.
func FuzzParse(f *testing.F) {
	bundle := f.TempDir()
	for _, dir := range []string{"rootfs", "data"} {
		if err := os.Mkdir(filepath.Join(bundle, dir), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"runc-spec.json", "runc-spec-rootless.json"} {
		if data, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(data)
		}
	}
	for _, rootless := range []bool{false, true} {
		d := Default(rootless)
		data, _ := json.Marshal(d)
		f.Add(data)
		d.Mounts = append(d.Mounts,
			specs.Mount{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/tmp", Type: "tmpfs", Options: []string{"size=1m", "nosuid"}},
			specs.Mount{Destination: "/etc/f", Source: "file", Options: []string{"bind"}})
		d.Linux.CgroupsPath = "a-b.slice:x:y"
		d.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}}}}}
		d.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}}
		data, _ = json.Marshal(d)
		f.Add(data)
	}
	f.Add([]byte(`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},{"type":"cgroup"},{"type":"network","path":"/x"}]}}`))
	f.Add([]byte("{\n\"ociVersion\": \"1.0.0\",\n}"))
	f.Add([]byte(`{"ociVersion":"2.0.0"}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(bundle, data)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "config.json: ") || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error %q is not one line naming config.json", msg)
			}
			return
		}
		if !filepath.IsAbs(s.Image) || s.Root == nil || s.Root.Path != s.Image {
			t.Fatalf("image %q, root %+v", s.Image, s.Root)
		}
		if s.Process == nil || len(s.Process.Args) == 0 || !strings.HasPrefix(s.Process.Cwd, "/") {
			t.Fatalf("process %+v", s.Process)
		}
		if s.Network != "private" && s.Network != "host" {
			t.Fatalf("network %q", s.Network)
		}
		for _, m := range s.Mounts {
			if !strings.HasPrefix(m.Destination, "/") || m.Type != "bind" && m.Type != "tmpfs" || m.Type == "bind" && !filepath.IsAbs(m.Source) {
				t.Fatalf("mount %+v is not one the engine reads", m)
			}
		}
		if s.Linux == nil || s.Hooks != nil && (len(s.Hooks.Prestart)+len(s.Hooks.CreateRuntime)+len(s.Hooks.Poststop)) > 0 || len(s.Linux.Sysctl) > 0 {
			t.Fatalf("linux %+v, hooks %+v", s.Linux, s.Hooks)
		}
		// What Parse returns is a config it accepts.
		again, err := json.Marshal(s.Spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(bundle, again); err != nil {
			t.Fatalf("Parse does not accept its own result: %v\n%s", err, again)
		}
	})
}
