package network

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests here need neither root nor a network namespace.

const (
	idA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	idB = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	idC = "aaaaaaaaaaaa5555555555555555555555555555555555555555555555555555"
)

func TestMACFromID(t *testing.T) {
	mac, err := MACFromID(idA)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mac.String(), "02:01:23:45:67:89"; got != want {
		t.Errorf("MACFromID = %s, want %s", got, want)
	}
	if mac[0]&1 != 0 || mac[0]&2 == 0 {
		t.Errorf("%s is not a locally administered unicast address", mac)
	}
	if err := checkMAC(mac); err != nil {
		t.Error(err)
	}
	if _, err := MACFromID("0123"); err == nil {
		t.Error("MACFromID accepted a short id")
	}
	if _, err := MACFromID("0123x56789ab"); err == nil {
		t.Error("MACFromID accepted a non-hex id")
	}
	for _, bad := range []string{"01:00:5e:00:00:01", "00:00:00:00:00:00"} {
		m, _ := net.ParseMAC(bad)
		if checkMAC(m) == nil {
			t.Errorf("checkMAC(%s) accepted it", bad)
		}
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{idA, "0123456789ab"} {
		if err := checkID(ok); err != nil {
			t.Errorf("checkID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "0123456789a", "0123456789ABCDEF", "0123456789abcdeg", "../../etc/x12"} {
		if checkID(bad) == nil {
			t.Errorf("checkID(%q) accepted it", bad)
		}
	}
	if got := HostVeth(idA); got != "ve-0123456789ab" || len(got) > 15 {
		t.Errorf("HostVeth = %q", got)
	}
}

func TestResolveDefaults(t *testing.T) {
	c, err := Config{StateDir: "/x"}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.bridge != "stdc0" || c.subnet.String() != "10.89.0.0/16" || c.gateway.String() != "10.89.0.1" || c.dir != "/x/network" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = Config{StateDir: "/x", Subnet: netip.MustParsePrefix("192.168.7.9/24")}.resolve()
	if err != nil || c.subnet.String() != "192.168.7.0/24" || c.gateway.String() != "192.168.7.1" {
		t.Errorf("masked subnet: %+v, %v", c, err)
	}
	for _, bad := range []Config{
		{},
		{StateDir: "/x", Subnet: netip.MustParsePrefix("10.0.0.0/31")},
		{StateDir: "/x", Subnet: netip.MustParsePrefix("fd00::/64")},
		{StateDir: "/x", Bridge: "a-very-long-bridge-name"},
	} {
		if _, err := bad.resolve(); err == nil {
			t.Errorf("resolve(%+v) accepted it", bad)
		}
	}
}

func TestCheckPorts(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	ps, err := checkPorts([]PortMapping{
		{HostPort: 8080, ContainerPort: 80},
		{HostPort: 8080, ContainerPort: 80, Protocol: "udp"},
		{HostIP: lo, HostPort: 9090, ContainerPort: 90},
		{HostIP: netip.MustParseAddr("127.0.0.2"), HostPort: 9090, ContainerPort: 90},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].Protocol != "tcp" {
		t.Errorf("default protocol %q", ps[0].Protocol)
	}
	if got := ps[2].String(); got != "-p 127.0.0.1:9090:90" {
		t.Errorf("String = %q", got)
	}
	if got := ps[1].String(); got != "-p 8080:80/udp" {
		t.Errorf("String = %q", got)
	}
	for _, bad := range [][]PortMapping{
		{{HostPort: 8080, ContainerPort: 80}, {HostIP: lo, HostPort: 8080, ContainerPort: 81}},
		{{HostPort: 0, ContainerPort: 80}},
		{{HostPort: 1, ContainerPort: 80, Protocol: "sctp"}},
		{{HostIP: netip.MustParseAddr("::1"), HostPort: 1, ContainerPort: 80}},
	} {
		if _, err := checkPorts(bad); err == nil {
			t.Errorf("checkPorts(%v) accepted it", bad)
		}
	}
}

func TestDNATRoundTrip(t *testing.T) {
	ip := netip.MustParseAddr("10.89.0.7")
	for _, p := range []PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostIP: netip.MustParseAddr("192.0.2.1"), HostPort: 53, ContainerPort: 5353, Protocol: "udp"},
	} {
		got, ok := parseDNAT(dnatExprs(p, ip))
		if !ok || got != p {
			t.Errorf("parseDNAT(dnatExprs(%v)) = %v, %v", p, got, ok)
		}
	}
}

func TestBroadcast(t *testing.T) {
	for p, want := range map[string]string{
		"10.89.0.0/16":   "10.89.255.255",
		"192.168.1.0/24": "192.168.1.255",
		"10.0.0.4/30":    "10.0.0.7",
	} {
		if got := broadcast(netip.MustParsePrefix(p)).String(); got != want {
			t.Errorf("broadcast(%s) = %s, want %s", p, got, want)
		}
	}
}

// fixture lays out a lease directory holding the given leases.
func fixture(t *testing.T, leases map[string]string) string {
	dir := filepath.Join(t.TempDir(), "leases")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for ip, id := range leases {
		if err := os.WriteFile(filepath.Join(dir, ip), []byte(id+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Not leases: ignored.
	os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "10.89.0.9"), 0o700)
	return dir
}

func TestAllocate(t *testing.T) {
	subnet := DefaultSubnet
	dir := fixture(t, map[string]string{"10.89.0.2": idA, "10.89.0.4": idB})

	// Lowest free address after the gateway, with the id in the file.
	ip, err := allocate(dir, subnet, netip.Addr{}, idC, nil)
	if err != nil || ip.String() != "10.89.0.3" {
		t.Fatalf("allocate = %s, %v; want 10.89.0.3", ip, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "10.89.0.3"))
	if err != nil || strings.TrimSpace(string(b)) != idC {
		t.Errorf("lease file: %q, %v", b, err)
	}
	// One lease per id.
	if _, err := allocate(dir, subnet, netip.Addr{}, idC, nil); err == nil || !strings.Contains(err.Error(), "already holds 10.89.0.3") {
		t.Errorf("second lease for the same id: %v", err)
	}

	leases, err := readLeases(dir)
	if err != nil || len(leases) != 3 || leases[netip.MustParseAddr("10.89.0.4")] != idB {
		t.Errorf("readLeases = %v, %v", leases, err)
	}

	// Requested addresses.
	const idD = "dddddddddddd"
	for want, msg := range map[string]string{
		"10.90.0.5":     "not in the subnet",
		"10.89.0.0":     "network or broadcast",
		"10.89.255.255": "network or broadcast",
		"10.89.0.1":     "the gateway",
		"10.89.0.4":     "already in use by container fedcba987654",
	} {
		_, err := allocate(dir, subnet, netip.MustParseAddr(want), idD, nil)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("allocate(%s) = %v, want an error saying %q", want, err, msg)
		}
	}
	ip, err = allocate(dir, subnet, netip.MustParseAddr("10.89.3.3"), idD, nil)
	if err != nil || ip.String() != "10.89.3.3" {
		t.Errorf("allocate(10.89.3.3) = %s, %v", ip, err)
	}

	// A stale holder's address can be taken over.
	const idE = "eeeeeeeeeeee"
	ip, err = allocate(dir, subnet, netip.MustParseAddr("10.89.0.4"), idE, func(h string) bool { return h == idB })
	if err != nil || ip.String() != "10.89.0.4" {
		t.Errorf("taking over a stale lease: %s, %v", ip, err)
	}

	// Release removes exactly that id's lease; again is fine.
	for range 2 {
		if err := releaseLeases(dir, idC); err != nil {
			t.Fatal(err)
		}
	}
	leases, _ = readLeases(dir)
	if _, ok := leases[netip.MustParseAddr("10.89.0.3")]; ok || len(leases) != 3 {
		t.Errorf("after release: %v", leases)
	}
	// 10.89.0.9 is a directory, not a lease: skipped, not overwritten.
	for i := range 7 {
		id := strings.Repeat(string(rune('0'+i)), 12)
		ip, err := allocate(dir, subnet, netip.Addr{}, id, nil)
		if err != nil || ip.String() == "10.89.0.9" {
			t.Errorf("allocate = %s, %v", ip, err)
		}
	}
}

func TestAllocateFull(t *testing.T) {
	subnet := netip.MustParsePrefix("10.1.2.0/30") // .1 gateway, .2 the only container
	dir := fixture(t, nil)
	if ip, err := allocate(dir, subnet, netip.Addr{}, idA, nil); err != nil || ip.String() != "10.1.2.2" {
		t.Fatalf("allocate = %s, %v", ip, err)
	}
	if _, err := allocate(dir, subnet, netip.Addr{}, idB, nil); err == nil || !strings.Contains(err.Error(), "no free address") {
		t.Errorf("full subnet: %v", err)
	}
}

func TestLockAndLeased(t *testing.T) {
	state := t.TempDir()
	cfg := Config{StateDir: state}
	m, err := Leased(cfg)
	if err != nil || len(m) != 0 {
		t.Fatalf("Leased on an empty state dir = %v, %v", m, err)
	}
	fi, err := os.Stat(filepath.Join(state, "network"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir: %v, %v", fi.Mode(), err)
	}
	dir := filepath.Join(state, "network", "leases")
	if _, err := allocate(dir, DefaultSubnet, netip.Addr{}, idA, nil); err != nil {
		t.Fatal(err)
	}
	m, err = Leased(cfg)
	if err != nil || m[idA].String() != "10.89.0.2" || len(m) != 1 {
		t.Errorf("Leased = %v, %v", m, err)
	}
}
