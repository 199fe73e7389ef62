package ocispec

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
)

func readFeatures(t *testing.T) (features.Features, map[string]any) {
	t.Helper()
	data, err := Features()
	if err != nil {
		t.Fatal(err)
	}
	var f features.Features
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return f, raw
}

func TestFeaturesDocument(t *testing.T) {
	f, raw := readFeatures(t)
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != "1.3.0" || specs.Version != "1.3.0" {
		t.Errorf("versions %q to %q (specs-go %s)", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	if got := fmt.Sprint(raw["hooks"]); got != "[prestart createRuntime createContainer startContainer poststart poststop]" {
		t.Errorf("hooks: %s, want all six kinds", got)
	}
	// Nothing supported is [], not absent ("unknown").
	seccomp := raw["linux"].(map[string]any)["seccomp"].(map[string]any)
	if flags, ok := seccomp["supportedFlags"].([]any); !ok || len(flags) != 0 {
		t.Errorf("seccomp.supportedFlags: %#v, want []", seccomp["supportedFlags"])
	}
	l := f.Linux
	if l == nil || l.Cgroup == nil || !*l.Cgroup.V1 || !*l.Cgroup.V2 || *l.Cgroup.Systemd || *l.Cgroup.Rdma {
		t.Fatalf("linux.cgroup %+v", l)
	}
	if !*l.Apparmor.Enabled || !*l.Selinux.Enabled || *l.IntelRdt.Enabled || *l.MountExtensions.IDMap.Enabled || *l.NetDevices.Enabled || !*l.Seccomp.Enabled {
		t.Errorf("linux %+v", l)
	}
	if !slices.Equal(l.Capabilities, caps.All()) {
		t.Errorf("capabilities %v", l.Capabilities)
	}
	if slices.Contains(l.Namespaces, "time") || slices.Contains(l.Seccomp.Actions, string(specs.ActNotify)) {
		t.Errorf("lists what Parse refuses: namespaces %v, actions %v", l.Namespaces, l.Seccomp.Actions)
	}
	if f.Annotations["org.stdcontainer.launcher.version"] == "" {
		t.Errorf("annotations %v", f.Annotations)
	}
}

// TestFeaturesAccepted checks the document against Parse: what it lists
// is accepted, what it leaves out is refused.
func TestFeaturesAccepted(t *testing.T) {
	f, _ := readFeatures(t)
	bundle := newBundle(t)
	accepts := func(what string, change func(*specs.Spec)) {
		t.Helper()
		c := Default(false)
		change(&c)
		if _, err := parseSpec(t, bundle, c); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	refuses := func(what string, change func(*specs.Spec)) {
		t.Helper()
		c := Default(false)
		change(&c)
		if _, err := parseSpec(t, bundle, c); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}

	for _, v := range []string{f.OCIVersionMin, f.OCIVersionMax} {
		accepts("ociVersion "+v, func(c *specs.Spec) { c.Version = v })
	}
	for _, ns := range f.Linux.Namespaces {
		accepts("namespace "+ns, func(c *specs.Spec) {
			c.Linux.Namespaces = slices.DeleteFunc(c.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return string(n.Type) == ns })
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(ns)})
			if ns == "user" {
				c.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}}
				c.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 100000, Size: 65536}}
			}
		})
	}
	refuses("namespace time", addNamespace(specs.TimeNamespace))
	all := f.Linux.Capabilities
	accepts("every capability", func(c *specs.Spec) {
		c.Process.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all, Inheritable: all, Ambient: all}
	})
	for _, o := range f.MountOptions {
		ok := false
		for _, m := range []specs.Mount{
			{Destination: "/x", Type: "bind", Source: bundle, Options: []string{o}},
			{Destination: "/x", Type: "tmpfs", Options: []string{o}},
		} {
			c := Default(false)
			c.Mounts = append(c.Mounts, m)
			if _, err := parseSpec(t, bundle, c); err == nil {
				ok = true
			}
		}
		if !ok {
			t.Errorf("mount option %s: refused in both bind and tmpfs mounts", o)
		}
	}
	for _, o := range []string{"shared", "rshared", "idmap", "strictatime"} {
		if slices.Contains(f.MountOptions, o) {
			t.Errorf("mount option %s listed", o)
		}
		refuses("mount option "+o, func(c *specs.Spec) {
			c.Mounts = append(c.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: bundle, Options: []string{o}})
		})
	}
	for _, a := range f.Linux.Seccomp.Actions {
		accepts("seccomp action "+a, func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(a),
				Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.LinuxSeccompAction(a)}}}
		})
	}
	for _, op := range f.Linux.Seccomp.Operators {
		accepts("seccomp operator "+op, func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"ioctl"}, Action: specs.ActErrno,
					Args: []specs.LinuxSeccompArg{{Index: 1, Value: 1, ValueTwo: 1, Op: specs.LinuxSeccompOperator(op)}}}}}
		})
	}
	accepts("seccomp archs", func(c *specs.Spec) {
		var arches []specs.Arch
		for _, a := range f.Linux.Seccomp.Archs {
			arches = append(arches, specs.Arch(a))
		}
		c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: arches,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
	})
	for _, flag := range f.Linux.Seccomp.KnownFlags {
		if slices.Contains(f.Linux.Seccomp.SupportedFlags, flag) {
			continue
		}
		refuses("seccomp flag "+flag, func(c *specs.Spec) {
			c.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(flag)}}
		})
	}
	for _, kind := range f.Hooks {
		accepts("a "+kind+" hook", func(c *specs.Spec) {
			data, _ := json.Marshal(map[string]any{kind: []specs.Hook{{Path: "/bin/true"}}})
			c.Hooks = &specs.Hooks{}
			if err := json.Unmarshal(data, c.Hooks); err != nil {
				t.Fatal(err)
			}
		})
	}
	refuses("intelRdt", func(c *specs.Spec) { c.Linux.IntelRdt = &specs.LinuxIntelRdt{} })
	refuses("netDevices", func(c *specs.Spec) { c.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}} })
	refuses("an id-mapped mount", func(c *specs.Spec) {
		c.Mounts = append(c.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: bundle, GIDMappings: []specs.LinuxIDMapping{{Size: 1}}})
	})
}
