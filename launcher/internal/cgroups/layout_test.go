package cgroups

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func detectTestdata(t *testing.T, name, controllers string) *Layout {
	t.Helper()
	l, err := DetectFrom(readTestdata(t, name+".mountinfo"), readTestdata(t, name+".cgroup"),
		func(p string) ([]byte, error) {
			if !strings.HasSuffix(p, "/cgroup.controllers") {
				t.Errorf("readFile(%s)", p)
			}
			return []byte(controllers + "\n"), nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// This host, copied from /proc/self/{mountinfo,cgroup}: v1 controllers
// each on its own mount, cgroup2 at unified/ with only hugetlb.
func TestDetectFromThisHost(t *testing.T) {
	l := detectTestdata(t, "hybrid", "hugetlb")
	if l.Mode != "hybrid" {
		t.Errorf("Mode = %q", l.Mode)
	}
	want := map[string]string{}
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"} {
		want[c] = "/sys/fs/cgroup/" + c
	}
	want["name=systemd"] = "/sys/fs/cgroup/systemd"
	if !reflect.DeepEqual(l.V1, want) {
		t.Errorf("V1 = %v", l.V1)
	}
	if l.V2 != "/sys/fs/cgroup/unified" || !reflect.DeepEqual(l.V2Controllers, []string{"hugetlb"}) {
		t.Errorf("V2 = %q %v", l.V2, l.V2Controllers)
	}
	if got := l.Own["/sys/fs/cgroup/memory"]; got != "/process_api/db85e9e805e72043da5287c976202544" {
		t.Errorf("Own[memory] = %q", got)
	}
	for _, m := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"} {
		if l.Own[m] != "/" {
			t.Errorf("Own[%s] = %q", m, l.Own[m])
		}
	}
	if len(l.Own) != 10 || len(l.mounts()) != 10 {
		t.Errorf("Own = %v, mounts %v", l.Own, l.mounts())
	}
}

func TestDetectFromV2(t *testing.T) {
	l := detectTestdata(t, "v2", "cpuset cpu io memory hugetlb pids rdma misc")
	if l.Mode != "v2" || l.V2 != "/sys/fs/cgroup" || len(l.V1) != 0 {
		t.Errorf("got %+v", l)
	}
	if len(l.V2Controllers) != 8 || l.V2Controllers[2] != "io" {
		t.Errorf("V2Controllers = %v", l.V2Controllers)
	}
	if !reflect.DeepEqual(l.Own, map[string]string{"/sys/fs/cgroup": "/user.slice/user-1000.slice/session-2.scope"}) {
		t.Errorf("Own = %v", l.Own)
	}
}

func TestDetectFromV1(t *testing.T) {
	l := detectTestdata(t, "v1", "")
	if l.Mode != "v1" || l.V2 != "" || l.V2Controllers != nil {
		t.Errorf("got %+v", l)
	}
	// Co-mounted controllers share one mount point.
	if l.V1["cpu"] != "/sys/fs/cgroup/cpu,cpuacct" || l.V1["cpuacct"] != l.V1["cpu"] ||
		l.V1["net_prio"] != "/sys/fs/cgroup/net_cls,net_prio" || l.V1["name=systemd"] != "/sys/fs/cgroup/systemd" {
		t.Errorf("V1 = %v", l.V1)
	}
	// xattr and release_agent=… are options, not controllers.
	for c := range l.V1 {
		if c == "xattr" || strings.HasPrefix(c, "release_agent") || c == "rw" {
			t.Errorf("V1 has %q", c)
		}
	}
	if l.Own["/sys/fs/cgroup/cpu,cpuacct"] != "/user.slice" ||
		l.Own["/sys/fs/cgroup/memory"] != "/user.slice/user-1000.slice/session-1.scope" ||
		l.Own["/sys/fs/cgroup/hugetlb"] != "/" {
		t.Errorf("Own = %v", l.Own)
	}
	if got := l.v1Of("/sys/fs/cgroup/cpu,cpuacct"); !reflect.DeepEqual(got, []string{"cpu", "cpuacct"}) {
		t.Errorf("v1Of = %v", got)
	}
}

// A mount showing a subtree (a container without a cgroup namespace) and
// a mount point with an escaped space.
func TestDetectFromSubtreeAndEscapes(t *testing.T) {
	mi := "40 31 0:32 /docker/abc /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n" +
		"41 31 0:33 / /sys/fs/cgroup/pids rw shared:4 master:1 - cgroup cgroup rw,pids\n" +
		"junk\n42 31 0:34 / /x - cgroup\n"
	pc := "4:memory:/docker/abc/sub\n3:pids:/docker/abc\nbad line\n"
	l, err := DetectFrom([]byte(mi), []byte(pc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.V1["memory"] != "/sys/fs/cgroup/my memory" || l.Own["/sys/fs/cgroup/my memory"] != "/sub" {
		t.Errorf("got V1 %v Own %v", l.V1, l.Own)
	}
	if l.Own["/sys/fs/cgroup/pids"] != "/docker/abc" || l.Mode != "v1" {
		t.Errorf("got %+v", l)
	}
}

func TestDetectFromNothing(t *testing.T) {
	if _, err := DetectFrom([]byte("27 1 254:0 / / rw - ext4 /dev/vda rw\n"), nil, nil); err == nil {
		t.Error("no cgroup mounts: no error")
	}
	_, err := DetectFrom(readTestdata(t, "v2.mountinfo"), nil, func(string) ([]byte, error) { return nil, errors.New("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v", err)
	}
}

func FuzzDetectFrom(f *testing.F) {
	for _, n := range []string{"hybrid", "v1", "v2"} {
		mi, _ := readFileT(n + ".mountinfo")
		pc, _ := readFileT(n + ".cgroup")
		f.Add(mi, pc, "cpu memory")
	}
	f.Add([]byte("1 2 3:4 /\\0 /a\\ - cgroup x rw,name=\n"), []byte("::\n0::\n1:name=:/\n"), "")
	f.Fuzz(func(t *testing.T, mi, pc []byte, ctrls string) {
		l, err := DetectFrom(mi, pc, func(string) ([]byte, error) { return []byte(ctrls), nil })
		if err != nil {
			return
		}
		if l.Mode != "v1" && l.Mode != "v2" && l.Mode != "hybrid" {
			t.Fatalf("Mode %q", l.Mode)
		}
		for _, m := range l.mounts() {
			if !strings.HasPrefix(m, "/") {
				t.Fatalf("mount %q", m)
			}
			l.v1Of(m)
			l.base(m, "")
			l.base(m, "x/../../y")
		}
	})
}
