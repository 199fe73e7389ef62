package ocispec

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// newBundle is a bundle directory with an empty rootfs/.
func newBundle(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseSpec marshals c and parses it in bundle.
func parseSpec(t testing.TB, bundle string, c specs.Spec) (*spec.Spec, error) {
	t.Helper()
	return Parse(bundle, marshal(t, c))
}

// checkOneLine fails unless err is one line naming config.json.
func checkOneLine(t testing.TB, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "config.json: ") || strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q is not one line naming config.json", msg)
	}
}

// runcSpecs are `runc spec` and `runc spec --rootless` outputs: the
// installed runc's when there is one, and always the copies in testdata
// (runc 1.1.5).
func runcSpecs(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"runc-spec.json", "runc-spec-rootless.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		out["testdata/"+name] = data
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Log("runc is not installed: testdata only")
		return out
	}
	for _, args := range [][]string{{"spec"}, {"spec", "--rootless"}} {
		dir := t.TempDir()
		cmd := exec.Command("runc", args...)
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("runc %s: %v: %s", strings.Join(args, " "), err, msg)
		}
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		out["runc "+strings.Join(args, " ")] = data
	}
	return out
}

func TestRuncSpec(t *testing.T) {
	for name, data := range runcSpecs(t) {
		t.Run(name, func(t *testing.T) {
			bundle := newBundle(t)
			var raw specs.Spec
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			rootless := slices.ContainsFunc(raw.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UserNamespace })
			s, err := Parse(bundle, data)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(bundle, "rootfs"); s.Image != want || s.Root.Path != want || !s.Root.Readonly {
				t.Errorf("image %q, root %+v; want %q read-only", s.Image, s.Root, want)
			}
			if len(s.Mounts) != 0 {
				t.Errorf("the standard mounts were not all dropped: %+v", s.Mounts)
			}
			wantNet := "private"
			if rootless {
				wantNet = "host"
			}
			if s.Network != wantNet || s.CgroupParent != "" || s.Name != "" || s.ID != "" {
				t.Errorf("network %q, cgroup parent %q, name %q, id %q", s.Network, s.CgroupParent, s.Name, s.ID)
			}
			p := s.Process
			if !slices.Equal(p.Args, []string{"sh"}) || !p.Terminal || p.Cwd != "/" || !p.NoNewPrivileges {
				t.Errorf("process %+v", p)
			}
			wantCaps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
			if c := p.Capabilities; !slices.Equal(c.Bounding, wantCaps) || !slices.Equal(c.Effective, wantCaps) || !slices.Equal(c.Permitted, wantCaps) {
				t.Errorf("capabilities %+v", c)
			}
			if len(p.Capabilities.Ambient) != 0 {
				t.Errorf("ambient %v kept without inheritable", p.Capabilities.Ambient)
			}
			if !slices.Equal(p.Rlimits, raw.Process.Rlimits) {
				t.Errorf("rlimits %+v, want %+v", p.Rlimits, raw.Process.Rlimits)
			}
			if !slices.Equal(s.Linux.MaskedPaths, raw.Linux.MaskedPaths) || !slices.Equal(s.Linux.ReadonlyPaths, raw.Linux.ReadonlyPaths) {
				t.Errorf("masked %v, read-only %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
			}
			if rootless {
				if s.Linux.Resources != nil || len(s.Linux.UIDMappings) != 1 || !s.UserNamespace() {
					t.Errorf("rootless: resources %+v, uid mappings %+v", s.Linux.Resources, s.Linux.UIDMappings)
				}
			} else {
				devs := s.Linux.Resources.Devices
				if len(devs) != 1+len(runcAllowedDevices) || devs[0].Allow || devs[0].Access != "rwm" {
					t.Errorf("device rules %+v: want runc's deny-all and its allowed devices", devs)
				}
			}
		})
	}
}

func TestDefaultRoundTrip(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		bundle := newBundle(t)
		d := Default(rootless)
		s, err := parseSpec(t, bundle, d)
		if err != nil {
			t.Fatalf("Default(%v): %v", rootless, err)
		}
		if len(s.Mounts) != 0 {
			t.Errorf("Default(%v): mounts kept: %+v", rootless, s.Mounts)
		}
		if rootless {
			if s.Network != "host" || !s.UserNamespace() {
				t.Errorf("Default(true): network %q, user namespace %v", s.Network, s.UserNamespace())
			}
			if m := s.Linux.UIDMappings; len(m) != 1 || m[0].HostID != uint32(os.Geteuid()) || m[0].ContainerID != 0 {
				t.Errorf("Default(true): uid mappings %+v", m)
			}
			if m := s.Linux.GIDMappings; len(m) != 1 || m[0].HostID != uint32(os.Getegid()) || m[0].ContainerID != 0 {
				t.Errorf("Default(true): gid mappings %+v", m)
			}
			for _, m := range d.Mounts {
				for _, o := range m.Options {
					if strings.HasPrefix(o, "gid=") || strings.HasPrefix(o, "uid=") {
						t.Errorf("Default(true): %s has %s", m.Destination, o)
					}
				}
			}
		} else if s.Network != "private" || s.UserNamespace() {
			t.Errorf("Default(false): network %q, user namespace %v", s.Network, s.UserNamespace())
		}
		// Default's slices are its own: changing one set leaves the others.
		d.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
		if d.Process.Capabilities.Effective[0] == "CAP_SYS_ADMIN" {
			t.Error("Default's capability sets share their backing array")
		}
	}
}

func TestLoad(t *testing.T) {
	bundle := newBundle(t)
	if _, err := Load(bundle); err == nil || !strings.Contains(err.Error(), filepath.Join(bundle, "config.json")+": no such file") {
		t.Errorf("no config.json: %v", err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), marshal(t, Default(false)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if s.Image != filepath.Join(bundle, "rootfs") {
		t.Errorf("image %q", s.Image)
	}
}

func TestOCIVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"1.0.0", true}, {"1.0.1", true}, {"1.0.2", true}, {"1.0.2-dev", true}, {"1.1.0", true},
		{"1.1.0-rc.1", true}, {"1.2.0", true}, {"1.2.1", true}, {"1.2.1-dev", true}, {"1.3.0", true},
		{"1.3.0+build.5", true}, {"1.10.0", true}, {specs.Version, true},
		{"", false}, {"0.5.0", false}, {"2.0.0", false}, {"1", false}, {"1.0", false}, {"1.0.0.0", false},
		{"v1.0.0", false}, {"1.0.x", false}, {"01.0.0", false}, {"1.0.0-", false}, {" 1.0.0", false},
	} {
		c := Default(false)
		c.Version = tc.version
		_, err := parseSpec(t, newBundle(t), c)
		if (err == nil) != tc.ok {
			t.Errorf("ociVersion %q: err %v, want ok=%v", tc.version, err, tc.ok)
		}
		if err != nil {
			checkOneLine(t, err)
			if !strings.Contains(err.Error(), "ociVersion") {
				t.Errorf("ociVersion %q: error %q does not name the field", tc.version, err)
			}
		}
	}
}

func TestRelativePaths(t *testing.T) {
	bundle := newBundle(t)
	for _, dir := range []string{"other-root", "volumes/data"} {
		if err := os.MkdirAll(filepath.Join(bundle, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := Default(false)
	c.Root.Path = "./other-root/"
	c.Mounts = append(c.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: "volumes/data", Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/etc/file", Type: "none", Source: "file", Options: []string{"bind", "rprivate"}},
		specs.Mount{Destination: "/abs", Source: filepath.Join(bundle, "volumes"), Options: []string{"rbind", "ro", "rw"}},
	)
	s, err := parseSpec(t, bundle, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(bundle, "other-root"); s.Image != want || s.Root.Path != want {
		t.Errorf("image %q, root.path %q; want %q", s.Image, s.Root.Path, want)
	}
	want := []specs.Mount{
		{Destination: "/data", Type: "bind", Source: filepath.Join(bundle, "volumes/data"), Options: []string{"rbind", "ro"}},
		{Destination: "/etc/file", Type: "bind", Source: filepath.Join(bundle, "file"), Options: []string{"rbind", "rw"}},
		{Destination: "/abs", Type: "bind", Source: filepath.Join(bundle, "volumes"), Options: []string{"rbind", "rw"}},
	}
	if got := marshal(t, s.Mounts); string(got) != string(marshal(t, want)) {
		t.Errorf("mounts\n got %s\nwant %s", got, marshal(t, want))
	}

	// A relative bundle resolves against the working directory.
	t.Chdir(filepath.Dir(bundle))
	s, err = parseSpec(t, filepath.Base(bundle), Default(false))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(bundle, "rootfs"); s.Image != want {
		t.Errorf("relative bundle: image %q, want %q", s.Image, want)
	}
}

func TestTmpfsAndStandardMounts(t *testing.T) {
	bundle := newBundle(t)
	c := Default(false)
	c.Mounts = append(c.Mounts,
		specs.Mount{Destination: "/tmp/", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777", "size=65536k"}},
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Options: []string{"rw", "size=1g", "rprivate"}},
		specs.Mount{Destination: "/plain", Type: "tmpfs"},
		specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"size=64m"}},
		specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup2", Source: "cgroup2"},
		specs.Mount{Destination: "/dev/shm", Type: "bind", Source: bundle}, // podman's: the engine has its own
		specs.Mount{Destination: "/data", Type: "bind", Source: bundle, Options: []string{"rbind", "nosuid", "noexec", "exec", "ro"}},
		specs.Mount{Destination: "/scratch2", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "mode=755", "tmpcopyup"}},
	)
	s, err := parseSpec(t, bundle, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []specs.Mount{
		{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1073741824"}},
		{Destination: "/plain", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/data", Type: "bind", Source: bundle, Options: []string{"rbind", "ro", "nosuid"}},
		{Destination: "/scratch2", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec", "mode=755"}},
	}
	if got := marshal(t, s.Mounts); string(got) != string(marshal(t, want)) {
		t.Errorf("mounts\n got %s\nwant %s", got, marshal(t, want))
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1", 1}, {"4096", 4096}, {"64k", 64 << 10}, {"65536K", 64 << 20}, {"64m", 64 << 20}, {"2G", 2 << 30}, {"1t", 1 << 40},
		{"", -1}, {"0", -1}, {"k", -1}, {"-1", -1}, {"+5", -1}, {"50%", -1}, {"1.5g", -1}, {"9223372036854775807k", -1}, {"1x", -1},
	} {
		got, err := parseSize(tc.in)
		if tc.want < 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", tc.in, got)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestCgroupsPath(t *testing.T) {
	for _, tc := range []struct{ path, parent, err string }{
		{"", "", ""},
		{"/a/b/c", "/a/b", ""},
		{"/a/b/c/", "/a/b", ""},
		{"/c", "/", ""},
		{"a/b/c", "a/b", ""},
		{"c", "", ""},
		{"/a/../b/c", "/b", ""},
		{"system.slice:docker:0123", "/system.slice", ""},
		{"machine.slice:libpod:abc", "/machine.slice", ""},
		{"a-b.slice:crio:x", "/a.slice/a-b.slice", ""},
		{"kubepods-besteffort-pod12_34.slice:cri-containerd:x", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_34.slice", ""},
		{"-.slice:p:n", "/", ""},
		{":p:n", "/system.slice", ""},
		{"/", "", "names no cgroup"},
		{".", "", "names no cgroup"},
		{"system:p:n", "", "not a systemd slice name"},
		{"a--b.slice:p:n", "", "not a systemd slice name"},
		{"-a.slice:p:n", "", "not a systemd slice name"},
		{"a/b.slice:p:n", "", "not a systemd slice name"},
		{".slice:p:n", "", "not a systemd slice name"},
	} {
		got, err := cgroupParent(tc.path)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("cgroupParent(%q) = %q, %v; want error %q", tc.path, got, err, tc.err)
			}
		case err != nil || got != tc.parent:
			t.Errorf("cgroupParent(%q) = %q, %v; want %q", tc.path, got, err, tc.parent)
		}
	}
	// Through Parse, errors name the field.
	c := Default(false)
	c.Linux.CgroupsPath = "bad.name:p:n"
	_, err := parseSpec(t, newBundle(t), c)
	if err == nil || !strings.HasPrefix(err.Error(), "config.json: linux.cgroupsPath: ") {
		t.Errorf("bad cgroupsPath: %v", err)
	}
	c.Linux.CgroupsPath = "system.slice:docker:abc"
	s, err := parseSpec(t, newBundle(t), c)
	if err != nil || s.CgroupParent != "/system.slice" || s.Linux.CgroupsPath != "system.slice:docker:abc" {
		t.Errorf("systemd cgroupsPath: %v, parent %q", err, s.CgroupParent)
	}
}

func TestKept(t *testing.T) {
	bundle := newBundle(t)
	c := Default(false)
	adj := -500
	major, minor := int64(10), int64(229)
	c.Process.User = specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 20}, Username: "ignored"}
	c.Process.Env = []string{"A=1", "EMPTY=", "B=x=y"}
	c.Process.Capabilities.Inheritable = []string{"CAP_KILL"}
	c.Process.Capabilities.Ambient = []string{"CAP_KILL", "CAP_AUDIT_WRITE"}
	c.Process.OOMScoreAdj = &adj
	c.Process.ApparmorProfile = "docker-default"
	c.Process.SelinuxLabel = "system_u:system_r:container_t:s0"
	c.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}, {Type: "RLIMIT_CORE"}}
	c.Annotations = map[string]string{"org.example": "yes"}
	c.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: major, Minor: minor}}
	c.Linux.Resources.Devices = append(c.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rwm"})
	limit := int64(1 << 30)
	c.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	c.Linux.RootfsPropagation = "rslave"
	c.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchAARCH64},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}},
	}
	c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	c.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	c.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s, err := parseSpec(t, bundle, c)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Process
	if p.User.UID != 1000 || p.User.GID != 100 || !slices.Equal(p.User.AdditionalGids, []uint32{10, 20}) {
		t.Errorf("user %+v", p.User)
	}
	if !slices.Equal(p.Env, c.Process.Env) || *p.OOMScoreAdj != adj || p.ApparmorProfile != "docker-default" || p.SelinuxLabel != c.Process.SelinuxLabel {
		t.Errorf("process %+v", p)
	}
	if !slices.Equal(p.Capabilities.Ambient, []string{"CAP_KILL"}) || !slices.Equal(p.Capabilities.Inheritable, []string{"CAP_KILL"}) {
		t.Errorf("capabilities %+v: want ambient CAP_KILL only (AUDIT_WRITE is not inheritable)", p.Capabilities)
	}
	if !slices.Equal(p.Rlimits, c.Process.Rlimits) {
		t.Errorf("rlimits %+v", p.Rlimits)
	}
	if s.Annotations["org.example"] != "yes" || s.Linux.RootfsPropagation != "rslave" || s.Hostname != spec.Manager {
		t.Errorf("annotations %v, propagation %q, hostname %q", s.Annotations, s.Linux.RootfsPropagation, s.Hostname)
	}
	if len(s.Linux.Devices) != 1 || *s.Linux.Resources.Memory.Limit != limit || s.Linux.Seccomp == nil || len(s.Linux.UIDMappings) != 1 {
		t.Errorf("linux %+v", s.Linux)
	}
	devs := s.Linux.Resources.Devices
	if len(devs) != 2+len(runcAllowedDevices) || !devs[1].Allow || *devs[1].Minor != 229 {
		t.Errorf("device rules %+v: want the config's, then runc's", devs)
	}

	// No device rules: nothing restricted, nothing added.
	c = Default(false)
	c.Linux.Resources.Devices = nil
	if s, err = parseSpec(t, bundle, c); err != nil || len(s.Linux.Resources.Devices) != 0 {
		t.Errorf("no device rules: %v, %+v", err, s.Linux.Resources)
	}
	// An empty seccomp object is no filter, as in runc.
	c.Linux.Seccomp = &specs.LinuxSeccomp{}
	if s, err = parseSpec(t, bundle, c); err != nil || s.Linux.Seccomp != nil {
		t.Errorf("empty seccomp: %v, %+v", err, s.Linux.Seccomp)
	}
	// No linux section at all: the namespaces are missing.
	c.Linux = nil
	if _, err = parseSpec(t, bundle, c); err == nil || !strings.Contains(err.Error(), "linux.namespaces: no pid namespace") {
		t.Errorf("no linux section: %v", err)
	}
}

func TestUserNamespaceWithoutMappings(t *testing.T) {
	c := Default(true)
	c.Linux.UIDMappings, c.Linux.GIDMappings = nil, nil
	_, err := parseSpec(t, newBundle(t), c)
	if os.Geteuid() == 0 {
		if err == nil || !strings.Contains(err.Error(), "config.json: linux.uidMappings: missing") {
			t.Errorf("as root: %v", err)
		}
	} else if err != nil {
		t.Errorf("rootless, the engine maps the caller's ids: %v", err)
	}
}

// TestRefusals gives each refused config its error.
func TestRefusals(t *testing.T) {
	bundle := newBundle(t)
	if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ptr := func(n int) *int { return &n }
	mount := func(m specs.Mount) func(*specs.Spec) {
		return func(c *specs.Spec) { c.Mounts = append(c.Mounts, m) }
	}
	for _, tc := range []struct {
		name   string
		change func(*specs.Spec)
		want   string
	}{
		{"root missing", func(c *specs.Spec) { c.Root = nil }, "config.json: root: missing"},
		{"root path empty", func(c *specs.Spec) { c.Root.Path = "" }, "config.json: root.path: missing"},
		{"root absent", func(c *specs.Spec) { c.Root.Path = "nope" }, "config.json: root.path: " + filepath.Join(bundle, "nope") + ": no such file or directory"},
		{"root a file", func(c *specs.Spec) { c.Root.Path = "file" }, "config.json: root.path: " + filepath.Join(bundle, "file") + ": not a directory"},
		{"windows", func(c *specs.Spec) { c.Windows = &specs.Windows{} }, "config.json: windows: not a Linux"},
		{"vm", func(c *specs.Spec) { c.VM = &specs.VM{} }, "config.json: vm: not a Linux"},
		{"process missing", func(c *specs.Spec) { c.Process = nil }, "config.json: process: missing"},
		{"args missing", func(c *specs.Spec) { c.Process.Args = nil }, "config.json: process.args: missing"},
		{"args empty command", func(c *specs.Spec) { c.Process.Args = []string{""} }, "config.json: process.args[0]: empty"},
		{"args NUL", func(c *specs.Spec) { c.Process.Args = []string{"sh", "a\x00b"} }, `config.json: process.args[1]: "a\x00b": contains a NUL byte`},
		{"env", func(c *specs.Spec) { c.Process.Env = []string{"A=1", "NOVALUE"} }, "config.json: process.env[1]: NOVALUE: want NAME=VALUE"},
		{"env no name", func(c *specs.Spec) { c.Process.Env = []string{"=x"} }, "config.json: process.env[0]: =x: want NAME=VALUE"},
		{"cwd relative", func(c *specs.Spec) { c.Process.Cwd = "home" }, "config.json: process.cwd: home: want an absolute path"},
		{"cwd empty", func(c *specs.Spec) { c.Process.Cwd = "" }, `config.json: process.cwd: "": want an absolute path`},
		{"umask", func(c *specs.Spec) { u := uint32(0o77); c.Process.User.Umask = &u }, "config.json: process.user.umask: 077: only 022 is supported yet"},
		{"unknown capability", func(c *specs.Spec) { c.Process.Capabilities.Permitted = []string{"CAP_KILL", "CAP_FLY"} }, "config.json: process.capabilities.permitted[1]: unknown capability CAP_FLY"},
		{"lower-case capability", func(c *specs.Spec) { c.Process.Capabilities.Ambient = []string{"kill"} }, "config.json: process.capabilities.ambient[0]: unknown capability kill"},
		{"rlimit type", func(c *specs.Spec) { c.Process.Rlimits = []specs.POSIXRlimit{{Type: "NOFILE"}} }, "config.json: process.rlimits[0]: unknown type NOFILE"},
		{"rlimit twice", func(c *specs.Spec) {
			c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_NOFILE"}}
		}, "config.json: process.rlimits[1]: RLIMIT_NOFILE is set twice"},
		{"rlimit soft above hard", func(c *specs.Spec) {
			c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}}
		}, "config.json: process.rlimits[0]: RLIMIT_NOFILE: soft limit 2 above hard limit 1"},
		{"oomScoreAdj", func(c *specs.Spec) { c.Process.OOMScoreAdj = ptr(1001) }, "config.json: process.oomScoreAdj: 1001: out of range"},
		{"scheduler", func(c *specs.Spec) { c.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther} }, "config.json: process.scheduler: not supported yet"},
		{"ioPriority", func(c *specs.Spec) { c.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE} }, "config.json: process.ioPriority: not supported yet"},
		{"execCPUAffinity", func(c *specs.Spec) { c.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0"} }, "config.json: process.execCPUAffinity: not supported yet"},
		{"commandLine", func(c *specs.Spec) { c.Process.CommandLine = "cmd.exe" }, "config.json: process.commandLine: Windows only"},
		{"hostname", func(c *specs.Spec) { c.Hostname = strings.Repeat("h", 65) }, "config.json: hostname: "},
		{"domainname", func(c *specs.Spec) { c.Domainname = "example.org" }, "config.json: domainname: not supported yet"},
		{"relative hook", func(c *specs.Spec) { c.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "true"}}} }, "config.json: hooks.poststop[0].path: true: want an absolute path"},
		{"hook timeout 0", func(c *specs.Spec) {
			zero := 0
			c.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/true", Timeout: &zero}}}
		}, "config.json: hooks.prestart[1].timeout: 0: want a number of seconds above 0"},
		{"hook env", func(c *specs.Spec) {
			c.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/x", Env: []string{"A"}}}}
		}, "config.json: hooks.startContainer[0].env: A: want NAME=VALUE"},
		{"overlay mount", mount(specs.Mount{Destination: "/merged", Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/a"}}), `config.json: mounts[7] (/merged): type overlay is not supported`},
		{"nfs mount", mount(specs.Mount{Destination: "/nfs", Type: "nfs", Source: "server:/x"}), `config.json: mounts[7] (/nfs): type nfs is not supported`},
		{"untyped mount", mount(specs.Mount{Destination: "/x", Source: "/x"}), `config.json: mounts[7] (/x): no type`},
		{"relative destination", mount(specs.Mount{Destination: "data", Type: "tmpfs"}), "config.json: mounts[7].destination: data: want an absolute path"},
		{"mount over root", mount(specs.Mount{Destination: "/", Type: "bind", Source: "/"}), "config.json: mounts[7] (/): a mount over the root is not supported"},
		{"idmapped mount", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "/", UIDMappings: []specs.LinuxIDMapping{{Size: 1}}}), "config.json: mounts[7] (/x): id-mapped mounts"},
		{"bind shared", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "/", Options: []string{"rbind", "rshared"}}), `config.json: mounts[7] (/x): option rshared is not supported for bind mounts`},
		{"bind idmap", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "/", Options: []string{"rbind", "idmap"}}), `option idmap is not supported`},
		{"bind without source", mount(specs.Mount{Destination: "/x", Type: "bind"}), "config.json: mounts[7].source: missing"},
		{"bind source absent", mount(specs.Mount{Destination: "/x", Type: "bind", Source: "gone"}), "config.json: mounts[7].source: " + filepath.Join(bundle, "gone") + ": no such file or directory"},
		{"tmpfs ro", mount(specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"ro"}}), `option ro is not supported for tmpfs`},
		{"tmpfs percent", mount(specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"size=50%"}}), `config.json: mounts[7] (/t): size=50%: a percentage`},
		{"tmpfs size 0", mount(specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"size=0"}}), `size=0: size 0 (no limit) is not supported`},
		{"shm size", mount(specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Options: []string{"size=1g"}}), `config.json: mounts[7] (/dev/shm): size=1g: this runtime's /dev/shm is always 64 MiB`},
		{"no pid namespace", func(c *specs.Spec) { c.Linux.Namespaces = c.Linux.Namespaces[1:] }, `config.json: linux.namespaces: no pid namespace`},
		{"no mount namespace", dropNamespace(specs.MountNamespace), `config.json: linux.namespaces: no mount namespace`},
		{"no ipc namespace", dropNamespace(specs.IPCNamespace), `config.json: linux.namespaces: no ipc namespace`},
		{"no uts namespace", dropNamespace(specs.UTSNamespace), `config.json: linux.namespaces: no uts namespace`},
		{"no ipc namespace", dropNamespace(specs.IPCNamespace), `config.json: linux.namespaces: no ipc namespace`},
		{"mount namespace path", func(c *specs.Spec) { c.Linux.Namespaces[4].Path = "/proc/1/ns/mnt" }, "config.json: linux.namespaces[4].path: joining a mount namespace is not supported (only network, ipc, uts and pid)"},
		{"cgroup namespace path", func(c *specs.Spec) { c.Linux.Namespaces[5].Path = "/proc/1/ns/cgroup" }, "config.json: linux.namespaces[5].path: joining a cgroup namespace is not supported"},
		{"relative namespace path", func(c *specs.Spec) { c.Linux.Namespaces[1].Path = "netns/x" }, "config.json: linux.namespaces[1].path: netns/x: not an absolute path"},
		{"time namespace", addNamespace(specs.TimeNamespace), "config.json: linux.namespaces[6]: time namespaces are not supported yet"},
		{"unknown namespace", addNamespace("net"), "config.json: linux.namespaces[6]: unknown namespace type net"},
		{"namespace twice", addNamespace(specs.PIDNamespace), "config.json: linux.namespaces[6]: pid namespace is listed twice"},
		{"mappings without userns", func(c *specs.Spec) {
			c.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, "config.json: linux.uidMappings: set without a user namespace"},
		{"gid mappings missing", func(c *specs.Spec) {
			addNamespace(specs.UserNamespace)(c)
			c.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, "config.json: linux.gidMappings: missing"},
		{"no container root", func(c *specs.Spec) {
			addNamespace(specs.UserNamespace)(c)
			c.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 1, HostID: 1000, Size: 10}}
			c.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}}
		}, "config.json: linux.uidMappings: no mapping for container uid 0"},
		{"mapping size 0", func(c *specs.Spec) {
			addNamespace(specs.UserNamespace)(c)
			c.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			c.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}, {ContainerID: 5}}
		}, "config.json: linux.gidMappings[1]: size 0"},
		{"host sysctl", func(c *specs.Spec) { c.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }, `config.json: linux.sysctl: vm.swappiness: not a namespaced sysctl`},
		{"rootfsPropagation shared", func(c *specs.Spec) { c.Linux.RootfsPropagation = "shared" }, "config.json: linux.rootfsPropagation: shared: not supported"},
		{"rootfsPropagation rshared", func(c *specs.Spec) { c.Linux.RootfsPropagation = "rshared" }, "config.json: linux.rootfsPropagation: rshared: not supported"},
		{"rootfsPropagation unbindable", func(c *specs.Spec) { c.Linux.RootfsPropagation = "unbindable" }, "config.json: linux.rootfsPropagation: unbindable: not supported"},
		{"mountLabel", func(c *specs.Spec) { c.Linux.MountLabel = "system_u:object_r:container_file_t:s0" }, "config.json: linux.mountLabel: not supported yet"},
		{"intelRdt", func(c *specs.Spec) { c.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} }, "config.json: linux.intelRdt: not supported yet"},
		{"memoryPolicy", func(c *specs.Spec) { c.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_BIND"} }, "config.json: linux.memoryPolicy: not supported yet"},
		{"personality", func(c *specs.Spec) { c.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32} }, "config.json: linux.personality: not supported yet"},
		{"timeOffsets", func(c *specs.Spec) { c.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}} }, "config.json: linux.timeOffsets: not supported yet"},
		{"netDevices", func(c *specs.Spec) { c.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}} }, "config.json: linux.netDevices: not supported yet"},
		{"masked path relative", func(c *specs.Spec) { c.Linux.MaskedPaths = []string{"proc/kcore"} }, "config.json: linux.maskedPaths[0]: proc/kcore: want an absolute path"},
		{"readonly path relative", func(c *specs.Spec) { c.Linux.ReadonlyPaths = []string{""} }, `config.json: linux.readonlyPaths[0]: "": want an absolute path`},
		{"fifo device", func(c *specs.Spec) { c.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fifo", Type: "p"}} }, "config.json: linux.devices[0]: /dev/fifo: FIFOs are not supported"},
		{"device type", func(c *specs.Spec) { c.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "a"}} }, "config.json: linux.devices[0]: /dev/x: type a: want c, u or b"},
		{"device path", func(c *specs.Spec) { c.Linux.Devices = []specs.LinuxDevice{{Path: "dev/x", Type: "c"}} }, "config.json: linux.devices[0]: path dev/x: want an absolute path"},
		{"seccomp notify", func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActNotify}
		}, "config.json: linux.seccomp: action SCMP_ACT_NOTIFY is not supported"},
		{"seccomp unknown action", func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_FOO"}}}
		}, "config.json: linux.seccomp: unknown action SCMP_ACT_FOO in syscalls[0]"},
		{"seccomp unknown arch", func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_Z80"}}
		}, "config.json: linux.seccomp: unknown architecture SCMP_ARCH_Z80"},
		{"seccomp operator", func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_XOR"}}}}}
		}, "config.json: linux.seccomp: unknown operator SCMP_CMP_XOR"},
		{"seccomp flags", func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}}
		}, "config.json: linux.seccomp.flags: not supported yet"},
		{"seccomp listener", func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock"}
		}, "config.json: linux.seccomp.listenerPath: seccomp agents"},
		{"control characters", func(c *specs.Spec) { c.Process.Capabilities.Bounding = []string{"CAP_\nX"} }, `config.json: process.capabilities.bounding[0]: unknown capability "CAP_\nX"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default(false)
			tc.change(&c)
			s, err := parseSpec(t, bundle, c)
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			checkOneLine(t, err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n  does not contain %q", err, tc.want)
			}
		})
	}
}

func dropNamespace(t specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(c *specs.Spec) {
		c.Linux.Namespaces = slices.DeleteFunc(c.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == t })
	}
}

func addNamespace(t specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(c *specs.Spec) {
		c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: t})
	}
}

func TestJSONErrors(t *testing.T) {
	bundle := newBundle(t)
	for _, tc := range []struct{ data, want string }{
		{"", "config.json: unexpected end of JSON input"},
		{"[]", "config.json: want a JSON object, not array"},
		{"null", "config.json: ociVersion: missing"},
		{"{\n\"ociVersion\": \"1.0.0\",\n}", "config.json: line 3: invalid character '}'"},
		{`{"ociVersion": "1.0.0", "process": {"args": "sh"}}`, "config.json: process.args: want a list, not string"},
		{`{"ociVersion": "1.0.0", "process": {"user": {"uid": -1}}}`, "config.json: process.user.uid: -1 is out of range"},
		{`{"ociVersion": 1}`, "config.json: ociVersion: want a string, not number"},
	} {
		_, err := Parse(bundle, []byte(tc.data))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v, want %q", tc.data, err, tc.want)
			continue
		}
		checkOneLine(t, err)
	}
}
