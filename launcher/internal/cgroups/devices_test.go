package cgroups

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// devRule builds a runtime-spec rule from "allow c 1:3 rwm" (type "" for
// "-", numbers "*" for nil).
func devRule(s string) specs.LinuxDeviceCgroup {
	var verb, kind, nums, access string
	if _, err := fmt.Sscan(s, &verb, &kind, &nums, &access); err != nil {
		panic(s)
	}
	d := specs.LinuxDeviceCgroup{Allow: verb == "allow", Type: strings.Trim(kind, "-"), Access: access}
	major, minor, _ := strings.Cut(nums, ":")
	for _, n := range []struct {
		s string
		p **int64
	}{{major, &d.Major}, {minor, &d.Minor}} {
		if n.s != "*" {
			v, err := strconv.ParseInt(n.s, 10, 64)
			if err != nil {
				panic(s)
			}
			*n.p = &v
		}
	}
	return d
}

func devRules(ss ...string) []specs.LinuxDeviceCgroup {
	var ds []specs.LinuxDeviceCgroup
	for _, s := range ss {
		ds = append(ds, devRule(s))
	}
	return ds
}

// request is one check the kernel makes: an open asks for read and/or
// write, mknod for mknod.
type request struct {
	kind         byte
	major, minor int64
	access       uint8
}

func (q request) String() string {
	return fmt.Sprintf("%c %d:%d %s", q.kind, q.major, q.minor, accessString(q.access))
}

// allows is the rules' meaning (devices.go), written plainly: each access
// asked for is decided by the last rule that matches the device and
// names it, else by the default.
func (l *deviceList) allows(q request) bool {
	for bit := uint8(1); bit <= accAll; bit <<= 1 {
		if q.access&bit == 0 {
			continue
		}
		allowed := l.defaultAllow
		for _, r := range l.rules {
			if r.access&bit != 0 && r.overlaps(deviceRule{kind: q.kind, major: q.major, minor: q.minor}) {
				allowed = r.allow
			}
		}
		if !allowed {
			return false
		}
	}
	return true
}

// runProgram interprets what deviceProgram emits, as the kernel would run it.
func runProgram(t testing.TB, prog []bpfInsn, q request) bool {
	t.Helper()
	var reg [11]uint64
	devType := uint64(unix.BPF_DEVCG_DEV_CHAR)
	if q.kind == 'b' {
		devType = unix.BPF_DEVCG_DEV_BLOCK
	}
	ctx := [3]uint64{uint64(q.access)<<16 | devType, uint64(q.major), uint64(q.minor)}
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		dst, src := in.regs&0xf, in.regs>>4
		if !littleEndian {
			dst, src = in.regs>>4, in.regs&0xf
		}
		imm := uint64(int64(in.imm)) // sign-extended, as the kernel does
		jump := func(cond bool) {
			if cond {
				pc += int(in.off)
			}
		}
		switch in.code {
		case unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W:
			if src != rCtx || in.off%4 != 0 || in.off < 0 || in.off > 8 {
				t.Fatalf("pc %d: bad load %+v", pc, in)
			}
			reg[dst] = ctx[in.off/4]
		case unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X:
			reg[dst] = uint64(uint32(reg[src]))
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(in.imm))
		case unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K:
			reg[dst] = uint64(uint32(reg[dst]) >> in.imm)
		case unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K:
			reg[dst] = imm
		case unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K:
			jump(reg[dst] != imm)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			jump(reg[dst] == imm)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			jump(reg[dst]&imm != 0)
		case unix.BPF_JMP | unix.BPF_JA:
			jump(true)
		case unix.BPF_JMP | unix.BPF_EXIT:
			return reg[rRet] == 1
		default:
			t.Fatalf("pc %d: unexpected opcode %#x", pc, in.code)
		}
		if in.code&7 == unix.BPF_JMP && in.off < 0 {
			t.Fatalf("pc %d: backward jump", pc)
		}
	}
	t.Fatal("ran off the end of the program")
	return false
}

// v1Kernel is how the v1 devices controller (security/device_cgroup.c)
// takes writes to devices.allow and devices.deny and checks access, for
// a cgroup whose parent allows everything.
type v1Kernel struct {
	defaultDeny bool
	exceptions  []deviceRule // only kind, numbers and access used
}

func (k *v1Kernel) write(file, line string) {
	if line == "a" {
		k.defaultDeny, k.exceptions = file == "devices.deny", nil
		return
	}
	d := devRule("x " + line)
	r := deviceRule{kind: d.Type[0], major: -1, minor: -1}
	if d.Major != nil {
		r.major = *d.Major
	}
	if d.Minor != nil {
		r.minor = *d.Minor
	}
	for _, c := range d.Access {
		r.access |= map[rune]uint8{'r': accRead, 'w': accWrite, 'm': accMknod}[c]
	}
	// An allow adds an exception to deny-by-default and takes one
	// (exactly the same devices) back from allow-by-default; a deny
	// the other way round.
	if (file == "devices.allow") == k.defaultDeny {
		for i := range k.exceptions {
			if k.exceptions[i].sameDevices(r) {
				k.exceptions[i].access |= r.access
				return
			}
		}
		k.exceptions = append(k.exceptions, r)
		return
	}
	for i := range k.exceptions {
		if k.exceptions[i].sameDevices(r) {
			k.exceptions[i].access &^= r.access
		}
	}
	k.exceptions = slices.DeleteFunc(k.exceptions, func(e deviceRule) bool { return e.access == 0 })
}

func (k *v1Kernel) allows(q request) bool {
	dev := deviceRule{kind: q.kind, major: q.major, minor: q.minor}
	for _, e := range k.exceptions {
		if !e.overlaps(dev) {
			continue
		}
		// match_exception: one exception grants all asked for;
		// match_exception_partial: one denies any of it.
		if k.defaultDeny && q.access&^e.access == 0 {
			return true
		}
		if !k.defaultDeny && q.access&e.access != 0 {
			return false
		}
	}
	return !k.defaultDeny
}

// recordFS hands v1 writes to v1Kernel; nothing else is called.
type recordFS struct {
	fsys
	k *v1Kernel
}

func (r recordFS) write(file, data string) error {
	r.k.write(file[strings.LastIndex(file, "/")+1:], data)
	return nil
}

func TestDefaultDevicesV1(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	if _, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: DefaultDevices()}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"devices.deny=a",
		"devices.allow=c *:* m",
		"devices.allow=b *:* m",
		"devices.allow=c 1:3 rwm",
		"devices.allow=c 1:5 rwm",
		"devices.allow=c 1:7 rwm",
		"devices.allow=c 1:8 rwm",
		"devices.allow=c 1:9 rwm",
		"devices.allow=c 5:0 rwm",
		"devices.allow=c 5:1 rwm",
		"devices.allow=c 5:2 rwm",
		"devices.allow=c 136:* rwm",
		"devices.allow=c 10:200 rwm",
	}
	if got := devicesWrites(f); !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(f.programs) != 0 {
		t.Errorf("a BPF program on a host with the v1 devices controller: %v", f.programs)
	}
}

// devicesWrites lists the writes to the container's v1 devices cgroup,
// as FILE=DATA.
func devicesWrites(f *fakeFS) []string {
	var ws []string
	for _, w := range f.writes {
		if rest, ok := strings.CutPrefix(w, "devices/"+ctr+"/"); ok {
			ws = append(ws, rest)
		}
	}
	return ws
}

// How each list reaches v1's files.
func TestDevicesV1Writes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []string
		want  []string // FILE=LINE in the container's devices cgroup
	}{
		{"deny all", []string{"deny - *:* rwm"}, []string{"devices.deny=a"}},
		// A new cgroup already allows what its parent does.
		{"allow all", []string{"allow a *:* rwm"}, nil},
		{"type a with numbers: c and b", []string{"deny a *:* rwm", "allow a 7:* rw"},
			[]string{"devices.deny=a", "devices.allow=c 7:* rw", "devices.allow=b 7:* rw"}},
		{"all devices, some access", []string{"deny a *:* rwm", "allow a *:* m"},
			[]string{"devices.deny=a", "devices.allow=c *:* m", "devices.allow=b *:* m"}},
		{"access in rwm order", []string{"deny a *:* rwm", "allow c 1:3 mwr"},
			[]string{"devices.deny=a", "devices.allow=c 1:3 rwm"}},
		{"take back exactly", []string{"deny a *:* rwm", "allow c 1:3 rwm", "deny c 1:3 w"},
			[]string{"devices.deny=a", "devices.allow=c 1:3 rwm", "devices.deny=c 1:3 w"}},
		{"no reset: from the parent's", []string{"deny b 8:* rw", "allow c 1:3 r"},
			[]string{"devices.deny=b 8:* rw", "devices.allow=c 1:3 r"}},
		{"the last reset wins", []string{"deny a *:* rwm", "allow c 1:3 rwm", "allow a *:* rwm", "deny c 1:5 rwm"},
			[]string{"devices.deny=c 1:5 rwm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, f := newFixture(t, "hybrid", fixtureOpts{})
			if _, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: devRules(tc.rules...)}); err != nil {
				t.Fatal(err)
			}
			if got := devicesWrites(f); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes %q, want %q", got, tc.want)
			}
		})
	}
}

// A refused write names the rule and the file, and leaves nothing behind.
func TestDevicesV1WriteError(t *testing.T) {
	l, f := newFixture(t, "hybrid", fixtureOpts{})
	f.failWrite = map[string]error{"devices.allow": unix.EPERM}
	before := f.tree()
	_, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: DefaultDevices()})
	want := `cgroups: devices[1] "c *:* m": ` + f.root + "/devices/" + ctr + "/devices.allow: operation not permitted"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if after := f.tree(); !reflect.DeepEqual(before, after) {
		t.Errorf("left behind: %v", slices.DeleteFunc(after, func(d string) bool { return slices.Contains(before, d) }))
	}
}

// What no kernel takes, and what v1 would not do as written: refused
// before anything is made, on every host.
func TestDevicesRefused(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		devs []specs.LinuxDeviceCgroup
		want string
	}{
		{[]specs.LinuxDeviceCgroup{{Type: "p", Access: "rwm"}}, `cgroups: devices[0]: invalid type "p" (want a, c or b)`},
		{[]specs.LinuxDeviceCgroup{{Access: "rwx"}}, `cgroups: devices[0]: invalid access "rwx" (want letters of rwm)`},
		{[]specs.LinuxDeviceCgroup{{Access: "rwm"}, {Allow: true, Type: "c"}}, `cgroups: devices[1]: empty access (want letters of rwm)`},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Major: i(-1), Access: "r"}}, "cgroups: devices[0]: invalid major -1"},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Major: i(1), Minor: i(1 << 31), Access: "r"}}, "cgroups: devices[0]: invalid minor 2147483648"},
		{devRules("deny a *:* rwm", "allow c 1:* rwm", "deny c 1:3 w"),
			`cgroups: devices[2]: deny "c 1:3 w" takes back part of devices[1] allow "c 1:* rwm", which cgroup v1 cannot do`},
		{devRules("deny a *:* rwm", "allow c 1:3 rwm", "deny c *:* r"),
			`cgroups: devices[2]: deny "c *:* r" takes back part of devices[1] allow "c 1:3 rwm"`},
		{devRules("deny b 8:* rw", "allow b 8:1 r"),
			`cgroups: devices[1]: allow "b 8:1 r" takes back part of devices[0] deny "b 8:* rw"`},
		{devRules("deny - *:* rwm", "allow a 1:* r", "deny b 1:2 r"),
			`cgroups: devices[2]: deny "b 1:2 r" takes back part of devices[1] allow "b 1:* r"`},
	} {
		l, f := newFixture(t, "hybrid", fixtureOpts{})
		before := f.tree()
		_, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: tc.devs})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v:\nerr = %v\nwant %s", tc.devs, err, tc.want)
		}
		if !reflect.DeepEqual(before, f.tree()) || len(f.writes) != 0 {
			t.Errorf("%+v: made or wrote something: %v", tc.devs, f.writes)
		}
	}
	// Harmless: nothing earlier to take back from, or exactly the same
	// devices, or other access.
	for _, rules := range [][]string{
		{"deny a *:* rwm", "deny c 1:3 rwm"},
		{"deny a *:* rwm", "allow c 1:* rwm", "deny c 1:* w", "deny c 1:3 w"},
		{"deny a *:* rwm", "allow c 1:* r", "deny c 1:3 w"},
		{"deny a *:* rwm", "allow c 1:* r", "deny b 1:3 r"},
		{"deny a *:* rwm", "allow c 1:* r", "allow a *:* rwm", "deny c 1:3 r"},
	} {
		if _, err := parseDevices(devRules(rules...)); err != nil {
			t.Errorf("%q: %v", rules, err)
		}
	}
	many := []specs.LinuxDeviceCgroup{{Access: "rwm"}}
	for n := range maxDeviceRules/2 + 1 {
		many = append(many, specs.LinuxDeviceCgroup{Allow: true, Major: i(int64(n)), Access: "r"})
	}
	if _, err := parseDevices(many); err == nil || err.Error() != "cgroups: devices: 802 rules, at most 800" {
		t.Errorf("too many: %v", err)
	}
}

// What the rules mean, on hand-picked cases.
func TestDevicesSemantics(t *testing.T) {
	defaults := DefaultDevices()
	for _, tc := range []struct {
		devs    []specs.LinuxDeviceCgroup
		q       request
		allowed bool
	}{
		{defaults, request{'c', 1, 3, accRead | accWrite}, true}, // /dev/null
		{defaults, request{'c', 1, 9, accRead}, true},            // /dev/urandom
		{defaults, request{'c', 136, 7, accRead | accWrite}, true},
		{defaults, request{'c', 10, 200, accRead | accWrite}, true},
		{defaults, request{'b', 254, 0, accRead}, false}, // a disk
		{defaults, request{'b', 254, 0, accMknod}, true}, // making its node is fine
		{defaults, request{'c', 1, 11, accRead}, false},  // /dev/kmsg
		{defaults, request{'c', 1, 11, accMknod}, true},
		{defaults, request{'c', 10, 229, accRead | accWrite}, false}, // /dev/fuse
		// Last match wins, access by access.
		{devRules("deny a *:* rwm", "allow c 1:3 rwm", "deny c 1:3 w"), request{'c', 1, 3, accRead}, true},
		{devRules("deny a *:* rwm", "allow c 1:3 rwm", "deny c 1:3 w"), request{'c', 1, 3, accRead | accWrite}, false},
		{devRules("deny a *:* rwm", "allow c 1:3 r", "allow c 1:3 w"), request{'c', 1, 3, accRead | accWrite}, true},
		{devRules("deny a *:* rwm", "allow c 1:3 r"), request{'c', 1, 3, accRead | accWrite}, false},
		{devRules("deny a *:* rwm", "allow a 1:3 r"), request{'b', 1, 3, accRead}, true},
		{devRules("deny a *:* rwm", "allow c 1:* rwm"), request{'b', 1, 3, accRead}, false},
		// Starting from allow-all: a denylist.
		{devRules("allow a *:* rwm", "deny b *:* w"), request{'b', 8, 0, accRead}, true},
		{devRules("allow a *:* rwm", "deny b *:* w"), request{'b', 8, 0, accRead | accWrite}, false},
		{devRules("deny b 8:* rw"), request{'c', 8, 0, accRead}, true},
		// A later reset wipes out what came before.
		{devRules("deny a *:* rwm", "allow c 1:3 rwm", "deny a *:* rwm"), request{'c', 1, 3, accRead}, false},
		{devRules("deny a *:* rwm", "allow c 1:3 rwm", "allow a *:* rwm"), request{'b', 8, 0, accWrite}, true},
	} {
		l, err := parseDevices(tc.devs)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.allows(tc.q); got != tc.allowed {
			t.Errorf("%v: %s allowed = %v", tc.devs, tc.q, got)
		}
		if got := runProgram(t, deviceProgram(l), tc.q); got != tc.allowed {
			t.Errorf("%v: %s program returns %v", tc.devs, tc.q, got)
		}
	}
}

// The v2 driver: the program on the container's cgroup2 directory.
func TestDevicesV2Program(t *testing.T) {
	l, f := newFixture(t, "v2", fixtureOpts{})
	if _, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: DefaultDevices()}); err != nil {
		t.Fatal(err)
	}
	dir := "user.slice/user-1000.slice/session-2.scope/" + ctr
	prog := f.programs[dir]
	// 6 to read the context, 3 or 4 per rule, 4 for the two exits.
	if len(prog) != 55 {
		t.Errorf("%d instructions for DefaultDevices, want 55", len(prog))
	}
	if !runProgram(t, prog, request{'c', 1, 3, accRead}) || runProgram(t, prog, request{'b', 254, 0, accRead}) {
		t.Error("program does not do DefaultDevices")
	}
	if want := []string{dir + "=<device program>"}; !reflect.DeepEqual(f.writes, want) {
		t.Errorf("writes %v", f.writes)
	}

	// Allowing everything needs no program.
	l, f = newFixture(t, "v2", fixtureOpts{})
	if _, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: devRules("allow a *:* rwm")}); err != nil || len(f.writes) != 0 {
		t.Errorf("allow all: %v, writes %v", err, f.writes)
	}

	// Hybrid without a v1 devices controller: the program on the unified tree.
	l, f = newFixture(t, "hybrid", fixtureOpts{})
	delete(l.V1, "devices")
	if _, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: DefaultDevices()}); err != nil {
		t.Fatal(err)
	}
	if f.programs["unified/"+ctr] == nil {
		t.Errorf("no program on unified/%s: %v", ctr, f.writes)
	}

	// A failed attach: the error says so, the cgroup goes.
	l, f = newFixture(t, "v2", fixtureOpts{})
	f.failWrite = map[string]error{"<device program>": unix.EPERM}
	before := f.tree()
	_, err := Create(l, testParents(l), "/p", ctr, &specs.LinuxResources{Devices: DefaultDevices()})
	if want := "cgroups: devices: attaching the BPF device program to " + f.root + "/p/" + ctr + ": operation not permitted"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if !reflect.DeepEqual(before, f.tree()) {
		t.Errorf("left behind: %v", f.tree())
	}

	// Neither devices controller nor cgroup2.
	l, _ = newFixture(t, "hybrid", fixtureOpts{})
	delete(l.V1, "devices")
	l.V2 = ""
	if _, err := Create(l, testParents(l), "", ctr, &specs.LinuxResources{Devices: DefaultDevices()}); err == nil ||
		!strings.HasPrefix(err.Error(), "cgroups: devices: the devices controller is not mounted") {
		t.Errorf("err = %v", err)
	}
}

// FuzzDeviceRules checks, on small device lists, that the program does
// what the rules mean (allows) and that v1, given the same list, never
// allows more: the same for each access on its own, and for deny-all
// lists stricter only when one open asks for access two rules grant.
func FuzzDeviceRules(f *testing.F) {
	rnd := rand.New(rand.NewSource(1))
	for range 300 {
		b := make([]byte, 2*(1+rnd.Intn(8)))
		rnd.Read(b)
		if rnd.Intn(2) == 0 {
			b[0], b[1] = 0b10, 6 // start from deny all
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var devs []specs.LinuxDeviceCgroup
		for i := 0; i+1 < len(b) && i < 40; i += 2 {
			nums := []*int64{nil, i64(1), i64(2), nil}
			d := specs.LinuxDeviceCgroup{
				Allow:  b[i]&1 != 0,
				Type:   []string{"", "a", "c", "b"}[b[i]>>1&3],
				Major:  nums[b[i]>>3&3],
				Minor:  nums[b[i]>>5&3],
				Access: accessString(b[i+1]%7 + 1),
			}
			devs = append(devs, d)
		}
		l, err := parseDevices(devs)
		if err != nil || l == nil {
			return
		}
		prog := deviceProgram(l)
		k := &v1Kernel{}
		if err := (v1Driver{}).setDevices(setter{fs: recordFS{k: k}, dir: "/x"}, l); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []byte{'c', 'b'} {
			for major := int64(1); major <= 3; major++ {
				for minor := int64(1); minor <= 3; minor++ {
					for access := uint8(1); access <= accAll; access++ {
						q := request{kind, major, minor, access}
						want := l.allows(q)
						if got := runProgram(t, prog, q); got != want {
							t.Fatalf("%+v: %s: program %v, rules %v", devs, q, got, want)
						}
						v1 := k.allows(q)
						single := access&(access-1) == 0
						if v1 != want && (single || !k.defaultDeny || v1) {
							t.Fatalf("%+v: %s: v1 %v, rules %v (v1 exceptions %v)", devs, q, v1, want, k.exceptions)
						}
					}
				}
			}
		}
	})
}
