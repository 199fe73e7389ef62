// Package seccomp builds the launcher's syscall filter: docker's default
// profile or a profile file, resolved for the container's capabilities,
// compiled to classic BPF for x86-64 (its i386 and x32 entry points
// included) and installed on the thread that execs the entry point. Pure
// Go: no libseccomp.
package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/stdcontainer/stdcontainer/launcher/internal/jsonerr"
)

// maxProfileSize bounds what Load reads; docker's own profile is 20 KB.
const maxProfileSize = 4 << 20

// dockerProfile is moby's profile format. The OCI runtime-spec
// LinuxSeccomp JSON is a subset of it, so one parser reads both.
type dockerProfile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet,omitempty"`
	Architectures    []specs.Arch             `json:"architectures,omitempty"`
	ArchMap          []archMapEntry           `json:"archMap,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
	Syscalls         []dockerSyscall          `json:"syscalls"`
}

// archMapEntry says which sub-architectures a filter for Arch also covers.
type archMapEntry struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

type dockerSyscall struct {
	Name     string                   `json:"name,omitempty"`
	Names    []string                 `json:"names,omitempty"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
	Args     []specs.LinuxSeccompArg  `json:"args,omitempty"`
	Comment  string                   `json:"comment,omitempty"`
	Includes *condition               `json:"includes,omitempty"`
	Excludes *condition               `json:"excludes,omitempty"`
}

// condition is moby's includes/excludes: a rule is kept when every
// include holds and no exclude does.
type condition struct {
	Caps      []string       `json:"caps,omitempty"`
	Arches    []string       `json:"arches,omitempty"`
	MinKernel *kernelVersion `json:"minKernel,omitempty"`
}

// Load reads a profile file in docker's or the OCI format and resolves it
// for caps, the container's effective capabilities.
func Load(path string, caps []string) (*specs.LinuxSeccomp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProfileSize+1))
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", path, unwrapPath(err))
	}
	if len(data) > maxProfileSize {
		return nil, fmt.Errorf("seccomp profile %s: larger than %d bytes", path, maxProfileSize)
	}
	return Parse(path, data, caps)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse is Load on bytes; name only labels the errors.
func Parse(name string, data []byte, caps []string) (*specs.LinuxSeccomp, error) {
	var p dockerProfile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %s", name, jsonerr.Describe(data, err))
	}
	out, err := resolve(&p, caps, runningKernelAtLeast)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
	}
	return out, nil
}

// resolve turns a docker profile into the runtime-spec one for this
// machine: archMap picked for the native architecture, rules whose
// includes/excludes do not hold for caps (or the kernel) dropped.
func resolve(p *dockerProfile, caps []string, kernelAtLeast func(kernelVersion) (bool, error)) (*specs.LinuxSeccomp, error) {
	if p.DefaultAction == "" {
		return nil, errors.New("no defaultAction")
	}
	if err := checkAction(p.DefaultAction, p.DefaultErrnoRet); err != nil {
		return nil, fmt.Errorf("%w in defaultAction", err)
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return nil, errors.New("both architectures and archMap are set; use one")
	}
	for _, f := range p.Flags {
		if !knownFlags[f] {
			return nil, fmt.Errorf("unknown flag %s", f)
		}
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:    p.DefaultAction,
		DefaultErrnoRet:  p.DefaultErrnoRet,
		Flags:            p.Flags,
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
	}
	for _, a := range p.Architectures {
		if !knownArches[a] {
			return nil, fmt.Errorf("unknown architecture %s", a)
		}
		out.Architectures = append(out.Architectures, a)
	}
	native := nativeArch()
	for _, m := range p.ArchMap {
		for _, a := range append([]specs.Arch{m.Arch}, m.SubArches...) {
			if !knownArches[a] {
				return nil, fmt.Errorf("unknown architecture %s in archMap", a)
			}
		}
		if m.Arch == seccompArchs[native] {
			out.Architectures = append(append(out.Architectures, m.Arch), m.SubArches...)
		}
	}

	have := map[string]bool{}
	for _, c := range caps {
		have[canonicalCap(c)] = true
	}
	for i, sc := range p.Syscalls {
		where := fmt.Sprintf("syscalls[%d]", i)
		names := sc.Names
		if sc.Name != "" {
			if len(sc.Names) > 0 {
				return nil, fmt.Errorf("both name and names are set in %s; use one", where)
			}
			names = []string{sc.Name}
		}
		if len(names) == 0 || slices.Contains(names, "") {
			return nil, fmt.Errorf("no syscall name in %s", where)
		}
		if err := checkAction(sc.Action, sc.ErrnoRet); err != nil {
			return nil, fmt.Errorf("%w in %s", err, where)
		}
		for j, a := range sc.Args {
			if err := checkArg(a); err != nil {
				return nil, fmt.Errorf("%w in %s.args[%d]", err, where, j)
			}
		}
		keep, err := applies(sc.Includes, sc.Excludes, have, native, kernelAtLeast)
		if err != nil {
			return nil, fmt.Errorf("%w in %s", err, where)
		}
		if keep {
			out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{
				Names:    append([]string(nil), names...),
				Action:   sc.Action,
				ErrnoRet: sc.ErrnoRet,
				Args:     append([]specs.LinuxSeccompArg(nil), sc.Args...),
			})
		}
	}
	// Checked last so that a typo anywhere is reported first.
	if err := checkSupported(out); err != nil {
		return nil, err
	}
	return out, nil
}

// applies is moby's rule: every included capability held, the native
// architecture among the included ones, the kernel new enough; and no
// excluded capability held, not an excluded architecture, the kernel older
// than an excluded minimum.
func applies(inc, exc *condition, have map[string]bool, native string, kernelAtLeast func(kernelVersion) (bool, error)) (bool, error) {
	if exc != nil {
		for _, c := range exc.Caps {
			if have[canonicalCap(c)] {
				return false, nil
			}
		}
		if slices.Contains(exc.Arches, native) {
			return false, nil
		}
		if exc.MinKernel != nil {
			newer, err := kernelAtLeast(*exc.MinKernel)
			if err != nil || newer {
				return false, err
			}
		}
	}
	if inc != nil {
		for _, c := range inc.Caps {
			if !have[canonicalCap(c)] {
				return false, nil
			}
		}
		if len(inc.Arches) > 0 && !slices.Contains(inc.Arches, native) {
			return false, nil
		}
		if inc.MinKernel != nil {
			newer, err := kernelAtLeast(*inc.MinKernel)
			if err != nil || !newer {
				return false, err
			}
		}
	}
	return true, nil
}

// canonicalCap accepts "sys_admin" for "CAP_SYS_ADMIN", as docker's flags do.
func canonicalCap(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

// nativeArch is the architecture name moby's includes/excludes use.
func nativeArch() string {
	switch runtime.GOARCH {
	case "386":
		return "x86"
	case "mips64le":
		return "mipsel64"
	case "mipsle":
		return "mipsel"
	}
	return runtime.GOARCH
}

// seccompArchs maps moby's architecture names to libseccomp's.
var seccompArchs = map[string]specs.Arch{
	"x86": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
	"mips": specs.ArchMIPS, "mips64": specs.ArchMIPS64, "mipsel": specs.ArchMIPSEL, "mipsel64": specs.ArchMIPSEL64,
	"ppc": specs.ArchPPC, "ppc64": specs.ArchPPC64, "ppc64le": specs.ArchPPC64LE,
	"s390": specs.ArchS390, "s390x": specs.ArchS390X, "riscv64": specs.ArchRISCV64, "loong64": specs.ArchLOONGARCH64,
}

var knownArches = map[specs.Arch]bool{
	specs.ArchX86: true, specs.ArchX86_64: true, specs.ArchX32: true, specs.ArchARM: true, specs.ArchAARCH64: true,
	specs.ArchMIPS: true, specs.ArchMIPS64: true, specs.ArchMIPS64N32: true, specs.ArchMIPSEL: true,
	specs.ArchMIPSEL64: true, specs.ArchMIPSEL64N32: true, specs.ArchPPC: true, specs.ArchPPC64: true,
	specs.ArchPPC64LE: true, specs.ArchS390: true, specs.ArchS390X: true, specs.ArchPARISC: true,
	specs.ArchPARISC64: true, specs.ArchRISCV64: true, specs.ArchLOONGARCH64: true, specs.ArchM68K: true,
	specs.ArchSH: true, specs.ArchSHEB: true,
}

var knownFlags = map[specs.LinuxSeccompFlag]bool{
	specs.LinuxSeccompFlagLog: true, specs.LinuxSeccompFlagSpecAllow: true,
	specs.LinuxSeccompFlagWaitKillableRecv: true, "SECCOMP_FILTER_FLAG_TSYNC": true,
}

// kernelVersion is moby's minKernel: "major.minor" in JSON.
type kernelVersion struct{ Major, Minor uint64 }

func (k *kernelVersion) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("minKernel: want a string like \"4.8\"")
	}
	v, ok := parseKernelVersion(s)
	if !ok {
		return fmt.Errorf("minKernel %q: want major.minor, like \"4.8\"", s)
	}
	*k = v
	return nil
}

// parseKernelVersion reads the "6.18" out of "6.18" or "6.18.44-fc-v669".
func parseKernelVersion(s string) (kernelVersion, bool) {
	major, rest, ok := strings.Cut(s, ".")
	if !ok {
		return kernelVersion{}, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	maj, err1 := strconv.ParseUint(major, 10, 32)
	min, err2 := strconv.ParseUint(rest[:end], 10, 32)
	if err1 != nil || err2 != nil {
		return kernelVersion{}, false
	}
	return kernelVersion{maj, min}, true
}

func (k kernelVersion) atLeast(min kernelVersion) bool {
	return k.Major > min.Major || k.Major == min.Major && k.Minor >= min.Minor
}
