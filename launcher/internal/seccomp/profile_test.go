package seccomp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// dockerJSON is a profile in moby's format exercising includes/excludes.
const dockerJSON = `{
	"defaultAction": "SCMP_ACT_ERRNO",
	"defaultErrnoRet": 1,
	"archMap": [
		{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
		{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
		{"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
	],
	"syscalls": [
		{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
		{"name": "getpid", "action": "SCMP_ACT_ALLOW", "comment": "name, not names"},
		{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["kexec_load"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT", "CAP_SYS_ADMIN"]}},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
		 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
		 "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
		{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
		{"names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
		{"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
		{"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "999.0"}},
		{"names": ["pidfd_getfd"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "4.8"}}
	]
}`

func names(p *specs.LinuxSeccomp) []string {
	var out []string
	for _, sc := range p.Syscalls {
		out = append(out, strings.Join(sc.Names, "+"))
	}
	return out
}

func TestParseDockerFormat(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the profile's arches are written for amd64")
	}
	p, err := Parse("docker.json", []byte(dockerJSON), []string{"CAP_CHOWN"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}; !reflect.DeepEqual(p.Architectures, want) {
		t.Errorf("architectures %v, want %v", p.Architectures, want)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Errorf("default %s %v", p.DefaultAction, p.DefaultErrnoRet)
	}
	// On this kernel (>= 4.8): ptrace kept, kcmp (needs 999.0) and
	// pidfd_getfd (excluded from 4.8 on) dropped.
	want := []string{"read+write", "getpid", "clone", "clone3", "arch_prctl", "ptrace"}
	if got := names(p); !reflect.DeepEqual(got, want) {
		t.Errorf("without CAP_SYS_ADMIN: %v, want %v", got, want)
	}
	clone := p.Syscalls[2]
	if len(clone.Args) != 1 || clone.Args[0] != (specs.LinuxSeccompArg{Index: 0, Value: 0x7e020000, Op: specs.OpMaskedEqual}) {
		t.Errorf("clone args %+v", clone.Args)
	}
	if e := p.Syscalls[3].ErrnoRet; e == nil || *e != 38 {
		t.Errorf("clone3 errnoRet %v", e)
	}

	p, err = Parse("docker.json", []byte(dockerJSON), []string{"sys_admin"}) // docker's spelling
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"read+write", "getpid", "mount", "arch_prctl", "ptrace"}
	if got := names(p); !reflect.DeepEqual(got, want) {
		t.Errorf("with CAP_SYS_ADMIN: %v, want %v", got, want)
	}
	p, err = Parse("docker.json", []byte(dockerJSON), []string{"CAP_SYS_ADMIN", "CAP_SYS_BOOT"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names(p), "kexec_load") {
		t.Errorf("includes with two caps held: %v", names(p))
	}
}

func TestParseOCIFormat(t *testing.T) {
	oci := `{
		"defaultAction": "SCMP_ACT_KILL_PROCESS",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
		"flags": ["SECCOMP_FILTER_FLAG_LOG"],
		"syscalls": [
			{"names": ["read"], "action": "SCMP_ACT_ALLOW",
			 "args": [{"index": 0, "value": 1, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
			{"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
		]
	}`
	p, err := Parse("oci.json", []byte(oci), nil)
	if err != nil {
		t.Fatal(err)
	}
	var want specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(oci), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("got %+v\nwant %+v", *p, want)
	}
	if _, err := Compile(p); err != nil {
		t.Error(err)
	}
}

// Default is a docker-format profile: written out as JSON and read back
// it must give the same result, so files derived from it load the same.
func TestDefaultRoundTrip(t *testing.T) {
	data, err := json.Marshal(defaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	for _, caps := range [][]string{dockerCaps, {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}, nil} {
		p, err := Parse("default.json", data, caps)
		if err != nil {
			t.Fatal(err)
		}
		if d := Default(caps); !reflect.DeepEqual(p, d) {
			t.Errorf("caps %v: parsed %+v\nDefault %+v", caps, p, d)
		}
	}
	if got := Default(dockerCaps).Architectures; runtime.GOARCH == "amd64" && len(got) != 3 {
		t.Errorf("architectures %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{``, "unexpected end of JSON input"},
		{`{"defaultAction": "SCMP_ACT_ERRNO",` + "\n\n" + `"syscalls": [,]}`, "line 3: invalid character ','"},
		{`{}`, "no defaultAction"},
		{`{"defaultAction": "SCMP_ACT_FOO"}`, "unknown action SCMP_ACT_FOO in defaultAction"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_FOO"}]}`, "unknown action SCMP_ACT_FOO in syscalls[0]"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}`, "no action in syscalls[0]"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]}`, "unknown operator SCMP_CMP_XX in syscalls[0].args[0]"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "argument index 9 out of range"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": "0"}]}]}`, "syscalls.args.index: want a number, not string"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1}]}]}`, "syscalls.args.value: -1 is out of range"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}`, "both name and names"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}`, "no syscall name in syscalls[0]"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`, "both architectures and archMap"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]}`, "unknown architecture SCMP_ARCH_Z80"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_FOO"]}`, "unknown flag SECCOMP_FILTER_FLAG_FOO"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}`, "errnoRet 5000 out of range"},
		{`{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"}`, "SCMP_ACT_NOTIFY is not supported"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]}`, `minKernel "four"`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": 4}}]}`, "minKernel: want a string"},
		{`[1, 2]`, "want a JSON object, not array"},
	} {
		_, err := Parse("/x.json", []byte(tc.json), dockerCaps)
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.json, tc.want)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "seccomp profile /x.json: ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s:\n got %q\nwant one line naming /x.json with %q", tc.json, msg, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "profile.json")
	if err := os.WriteFile(good, []byte(dockerJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(good, nil)
	if err != nil || len(p.Syscalls) == 0 {
		t.Fatalf("Load = %v, %v", p, err)
	}

	missing := filepath.Join(dir, "missing.json")
	_, err = Load(missing, nil)
	if want := "seccomp profile " + missing + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("Load(missing) = %v, want %q", err, want)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"defaultAction": "SCMP_ACT_FOO"}`), 0o644)
	_, err = Load(bad, nil)
	if want := "seccomp profile " + bad + ": unknown action SCMP_ACT_FOO in defaultAction"; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v, want %q", err, want)
	}

	_, err = Load(dir, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "seccomp profile "+dir+": ") {
		t.Errorf("Load(dir) = %v", err)
	}
}

func TestParseKernelVersion(t *testing.T) {
	for in, want := range map[string]kernelVersion{
		"4.8": {4, 8}, "6.18.44-fc-v669": {6, 18}, "5.15.0-91-generic": {5, 15}, "6.1": {6, 1}, "3.10.0": {3, 10},
	} {
		if got, ok := parseKernelVersion(in); !ok || got != want {
			t.Errorf("parseKernelVersion(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "6", "x.1", "6.x", ".1"} {
		if _, ok := parseKernelVersion(in); ok {
			t.Errorf("parseKernelVersion(%q) succeeded", in)
		}
	}
	if !(kernelVersion{6, 18}).atLeast(kernelVersion{4, 8}) || (kernelVersion{4, 7}).atLeast(kernelVersion{4, 8}) || !(kernelVersion{4, 8}).atLeast(kernelVersion{4, 8}) {
		t.Error("atLeast")
	}
}
