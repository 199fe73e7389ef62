package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestSecurityFlags(t *testing.T) {
	inv, err := Parse([]string{"run", "--cap-add", "net_admin,sys_time", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=unconfined",
		"--security-opt", "systempaths=unconfined", "--security-opt", "apparmor=p", "--security-opt", "label=type:t",
		"--device", "/dev/fuse", "--device", "/dev/sda:/dev/xvda:r", "--device", "/dev/kvm:rw", "./r"})
	if err != nil {
		t.Fatal(err)
	}
	want := Security{
		CapAdd: []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}, CapDrop: []string{"ALL"},
		NewPrivileges: true, Seccomp: "unconfined", Unmasked: true, AppArmor: "p", Label: []string{"type:t"},
		Devices: []Device{{"/dev/fuse", "/dev/fuse", "rwm"}, {"/dev/sda", "/dev/xvda", "r"}, {"/dev/kvm", "/dev/kvm", "rw"}},
		Opts:    []string{"no-new-privileges=false", "seccomp=unconfined", "systempaths=unconfined", "apparmor=p", "label=type:t"},
	}
	if !reflect.DeepEqual(inv.Run.Security, want) {
		t.Errorf("got %+v\nwant %+v", inv.Run.Security, want)
	}
}

func TestUsernsFlag(t *testing.T) {
	for in, want := range map[string]Userns{
		"host":                          {},
		"auto":                          {Mode: "auto"},
		"0:100000:65536,65536:300000:1": {Mode: "map", Map: []IDMap{{0, 100000, 65536}, {65536, 300000, 1}}},
	} {
		inv, err := Parse([]string{"run", "--userns", in, "./r"})
		if err != nil || !reflect.DeepEqual(inv.Run.Userns, want) {
			t.Errorf("--userns %s: %+v, %v; want %+v", in, inv.Run.Userns, err, want)
		}
	}
}

func TestSecurityFlagErrors(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"--cap-add sys_admn", `--cap-add sys_admn: unknown capability "sys_admn"`},
		{"--security-opt nope", "--security-opt nope: want no-new-privileges"},
		{"--security-opt no-new-privileges=maybe", "want no-new-privileges=true or false"},
		{"--security-opt seccomp=", "want seccomp=unconfined or seccomp=PROFILE.json"},
		{"--security-opt label=kind:x", "want label=user:U"},
		{"--device dev/fuse", "want an absolute HOSTPATH"},
		{"--device /dev/a:/dev/b:rwx", "want PERMISSIONS made of r, w and m"},
		{"--device /dev/a:/etc/b", "want a CTRPATH under /dev/"},
		{"--userns 0:1:0", "want a SIZE above 0"},
		{"--userns 0:1:10,5:100:10", "ranges overlap"},
		{"--userns 0:1", "want host, auto or CTRID:HOSTID:SIZE"},
	} {
		_, err := Parse(append(append([]string{"run"}, strings.Fields(c.args)...), "./r"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := Parse([]string{"exec", "web"}); err == nil || !strings.Contains(err.Error(), "needs a CMD") {
		t.Errorf("exec without CMD: %v", err)
	}
}
