package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHostResolvConfDropsLoopback(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte(`# comment
nameserver 127.0.0.53
nameserver ::1
nameserver 192.0.2.1
nameserver fe80::1%eth0
nameserver bogus
search example.test
options edns0
`), 0o644)
	got := string(hostResolvConf(p, false))
	for _, want := range []string{"nameserver 192.0.2.1\n", "nameserver fe80::1%eth0\n", "search example.test\n", "options edns0\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"127.0.0.53", "::1\n", "bogus"} {
		if strings.Contains(got, gone) {
			t.Errorf("keeps %q:\n%s", gone, got)
		}
	}
	if got := string(hostResolvConf(filepath.Join(t.TempDir(), "missing"), false)); strings.Contains(got, "nameserver") {
		t.Errorf("no host file: %q", got)
	}
}

func TestContainerEnv(t *testing.T) {
	got := containerEnv([]string{"PATH=/bin", "A=1"}, "id", "uuid", "host")
	want := []string{"PATH=/bin", "A=1", "HOSTNAME=host", "container=stdcontainer", "container_uuid=uuid"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = containerEnv(nil, "id", "uuid", "h")
	if !slices.Contains(got, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") {
		t.Errorf("no default PATH: %q", got)
	}
}
