package ocispec

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
	"github.com/stdcontainer/stdcontainer/rootfs"
)

// Seccomp as the launcher's compiler (internal/seccomp) supports it: every
// action but SCMP_ACT_NOTIFY (no agent), every operator, and the filter
// is built for x86-64 with its i386 and x32 entry points. Other
// architectures may be listed in a profile (the filter cannot apply to
// them on this machine), and no flag is supported: the filter is loaded
// without any.
var (
	seccompActions = []specs.LinuxSeccompAction{
		specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog,
	}
	seccompOperators = []specs.LinuxSeccompOperator{
		specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
	}
	seccompArches     = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	seccompKnownFlags = []specs.LinuxSeccompFlag{
		"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog,
		specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv,
	}
)

// namespaceTypes are those Parse accepts (time is refused).
var namespaceTypes = []specs.LinuxNamespaceType{
	specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
	specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace,
}

// mountOptions are the options Parse accepts in some mount: bindOptions
// and tmpfsOptions without the filesystem data (size=, mode=), which the
// features document leaves out.
var mountOptions = []string{"bind", "rbind", "ro", "rw", "private", "rprivate", "slave", "rslave",
	"nosuid", "nodev", "noexec", "suid", "dev", "exec", "tmpcopyup"}

// Features is `launcher features`: the runtime-spec features document
// (features.md), stating what Parse accepts. Lists that are empty because
// nothing is supported (seccomp's supportedFlags, memoryPolicy's
// modes and flags) are written as [], which the format distinguishes from
// an absent list ("unknown").
func Features() ([]byte, error) {
	yes, no := true, false
	f := features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		MountOptions:  mountOptions,
		Linux: &features.Linux{
			Capabilities: caps.All(),
			Cgroup:       &features.Cgroup{V1: &yes, V2: &yes, Systemd: &no, SystemdUser: &no, Rdma: &no},
			Seccomp: &features.Seccomp{
				Enabled:    &yes,
				KnownFlags: strs(seccompKnownFlags),
				Actions:    strs(seccompActions),
				Operators:  strs(seccompOperators),
				Archs:      strs(seccompArches),
			},
			Apparmor:        &features.Apparmor{Enabled: &yes},
			Selinux:         &features.Selinux{Enabled: &yes},
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &no}},
			NetDevices:      &features.NetDevices{Enabled: &no},
		},
		Annotations: map[string]string{
			"org.stdcontainer.launcher.version": rootfs.Version,
		},
	}
	for _, t := range namespaceTypes {
		f.Linux.Namespaces = append(f.Linux.Namespaces, string(t))
	}
	data, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	doc["hooks"] = HookKinds
	linux := doc["linux"].(map[string]any)
	linux["seccomp"].(map[string]any)["supportedFlags"] = []string{}
	linux["memoryPolicy"] = map[string]any{"modes": []string{}, "flags": []string{}}
	out, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}
