package cgroups

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeFS mimics cgroupfs over a t.TempDir() tree: mkdir makes the
// interface files the kernel would, rmdir refuses busy cgroups, and the
// writes with kernel side effects (subtree_control, cgroup.procs, v1
// memory limits, v1 cpuset) get them.
type fakeFS struct {
	t      *testing.T
	opts   fixtureOpts
	layout *Layout
	writes []string // "FILE=DATA", FILE relative to the fixture root
	// failWrite makes writes to files of these names fail, as the kernel
	// refuses some values (a partition in io.max: ENODEV).
	failWrite map[string]error
	root      string
	// programs holds the BPF device programs attached, by directory
	// relative to the root.
	programs map[string][]bpfInsn
	// parents is the record of parent cgroups made, in its own temporary
	// state directory.
	parents *Parents
	// mu makes mkdir, rmdir and write one step each, as the kernel's are,
	// for tests that run Create and Destroy concurrently.
	mu sync.Mutex
	// beforeMkdir, when set, runs before each mkdir (to remove a parent
	// as a concurrent launcher would).
	beforeMkdir func(dir string)
}

type fixtureOpts struct {
	noSwap      bool // no memory.memsw.limit_in_bytes / memory.swap.max
	blkioWeight bool // v1 blkio.weight (CFQ, kernels before 5.0)
	noBFQ       bool // v1 without blkio.bfq.weight (this host has it below the root)
	bfq         bool // v2 io.bfq.weight
}

// newFixture builds a fake host from a mountinfo and /proc/self/cgroup
// in testdata, with "/sys/fs/cgroup" moved into a temporary directory,
// and makes the caller's own cgroups (holding a fake process 4242).
func newFixture(t *testing.T, name string, opts fixtureOpts) (*Layout, *fakeFS) {
	t.Helper()
	root := t.TempDir()
	mi := strings.ReplaceAll(string(readTestdata(t, name+".mountinfo")), "/sys/fs/cgroup", root)
	pc := readTestdata(t, name+".cgroup")
	ctrls := "hugetlb"
	if b, err := os.ReadFile(filepath.Join("testdata", name+".controllers")); err == nil {
		ctrls = string(b)
	}
	l, err := DetectFrom([]byte(mi), pc, func(string) ([]byte, error) { return []byte(ctrls), nil })
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFS{t: t, opts: opts, layout: l, root: root, parents: NewParents(t.TempDir())}
	l.fs = f
	for _, m := range l.mounts() {
		if err := os.MkdirAll(m, 0o755); err != nil {
			t.Fatal(err)
		}
		f.populate(m)
		if m == l.V2 {
			os.WriteFile(filepath.Join(m, "cgroup.controllers"), []byte(ctrls), 0o644)
		}
	}
	// The caller's cgroups, as systemd would have made them: v2 with
	// cpu, memory and pids handed down to them.
	for m, own := range l.Own {
		cur := m
		for _, comp := range strings.Split(strings.Trim(own, "/"), "/") {
			if comp == "" {
				continue
			}
			if m == l.V2 {
				for _, c := range []string{"cpu", "memory", "pids"} {
					f.must(f.write(filepath.Join(cur, "cgroup.subtree_control"), "+"+c))
				}
			}
			cur = filepath.Join(cur, comp)
			f.must(f.mkdir(cur))
		}
		if cur != m {
			os.WriteFile(filepath.Join(cur, "cgroup.procs"), []byte("4242\n"), 0o644)
		}
	}
	f.writes = nil
	return l, f
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fakeFS) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// mountOf returns the mount point holding dir.
func (f *fakeFS) mountOf(dir string) string {
	best := ""
	for _, m := range f.layout.mounts() {
		if (dir == m || strings.HasPrefix(dir, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	if best == "" {
		f.t.Fatalf("fake cgroupfs: %s is in no hierarchy", dir)
	}
	return best
}

// testParents is the fixture's record of parents made (nil on the real
// cgroupfs).
func testParents(l *Layout) *Parents {
	if f, ok := l.fs.(*fakeFS); ok {
		return f.parents
	}
	return nil
}

func (f *fakeFS) mkdir(dir string) error {
	if f.beforeMkdir != nil {
		f.beforeMkdir(dir)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	f.populate(dir)
	return nil
}

// populate writes the interface files of a new cgroup (or of a
// hierarchy's root), with the names and defaults of a real kernel.
func (f *fakeFS) populate(dir string) {
	m := f.mountOf(dir)
	isRoot := dir == m
	files := map[string]string{"cgroup.procs": ""}
	parent := filepath.Dir(dir)
	if m == f.layout.V2 {
		files["cgroup.subtree_control"] = ""
		files["cpu.stat"] = "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"
		enabled := f.layout.V2Controllers
		if !isRoot {
			files["cgroup.controllers"] = f.read(filepath.Join(parent, "cgroup.subtree_control"))
			files["cgroup.kill"], files["cgroup.freeze"] = "", "0"
			files["cgroup.events"] = "populated 0\nfrozen 0\n"
			enabled = strings.Fields(files["cgroup.controllers"])
		}
		for _, c := range enabled {
			if isRoot {
				break // the root has no limit files
			}
			maps.Copy(files, f.v2Files(parent, c))
		}
		if isRoot {
			files["cpuset.cpus.effective"], files["cpuset.mems.effective"] = "0-1", "0"
		}
	} else {
		files["tasks"], files["cgroup.clone_children"], files["notify_on_release"] = "", "0", "0"
		for _, c := range f.layout.v1Of(m) {
			switch c {
			case "memory":
				files["memory.limit_in_bytes"] = "9223372036854771712"
				files["memory.soft_limit_in_bytes"] = "9223372036854771712"
				files["memory.usage_in_bytes"], files["memory.use_hierarchy"] = "0", "1"
				if !f.opts.noSwap {
					files["memory.memsw.limit_in_bytes"] = "9223372036854771712"
				}
			case "cpu":
				files["cpu.shares"], files["cpu.cfs_period_us"], files["cpu.cfs_quota_us"] = "1024", "100000", "-1"
				files["cpu.stat"] = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"
			case "cpuacct":
				files["cpuacct.usage"] = "0"
			case "cpuset":
				v, e := "", ""
				if isRoot {
					v, e = "0-1", "0"
				}
				files["cpuset.cpus"], files["cpuset.effective_cpus"] = v, v
				files["cpuset.mems"], files["cpuset.effective_mems"] = e, e
			case "pids":
				if !isRoot {
					files["pids.max"], files["pids.current"] = "max", "0"
				}
			case "blkio":
				for _, n := range []string{"read_bps", "write_bps", "read_iops", "write_iops"} {
					files["blkio.throttle."+n+"_device"] = ""
				}
				files["blkio.throttle.io_service_bytes"] = "Total 0\n"
				files["blkio.throttle.io_service_bytes_recursive"] = "Total 0\n"
				if f.opts.blkioWeight {
					files["blkio.weight"] = "500"
				}
				if !isRoot && !f.opts.noBFQ {
					files["blkio.bfq.weight"] = "100"
					files["blkio.bfq.io_service_bytes_recursive"] = "Total 0\n"
				}
			case "freezer":
				if !isRoot {
					files["freezer.state"] = "THAWED"
				}
			case "devices":
				files["devices.allow"], files["devices.deny"], files["devices.list"] = "", "", "a *:* rwm"
			}
		}
		if isRoot {
			files["cgroup.sane_behavior"] = "0"
		}
	}
	for name, v := range files {
		if v != "" && !strings.HasSuffix(v, "\n") {
			v += "\n"
		}
		f.must(os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644))
	}
}

// v2Files are the interface files controller c gives a child of parent.
func (f *fakeFS) v2Files(parent, c string) map[string]string {
	files := map[string]string{}
	switch c {
	case "memory":
		files["memory.max"], files["memory.low"], files["memory.current"] = "max", "0", "0"
		if !f.opts.noSwap {
			files["memory.swap.max"] = "max"
		}
	case "cpu":
		files["cpu.max"], files["cpu.weight"] = "max 100000", "100"
	case "cpuset":
		files["cpuset.cpus"], files["cpuset.mems"] = "", ""
		files["cpuset.cpus.effective"] = f.read(filepath.Join(parent, "cpuset.cpus.effective"))
		files["cpuset.mems.effective"] = f.read(filepath.Join(parent, "cpuset.mems.effective"))
	case "pids":
		files["pids.max"], files["pids.current"] = "max", "0"
	case "io":
		files["io.max"], files["io.weight"], files["io.stat"] = "", "default 100", ""
		if f.opts.bfq {
			files["io.bfq.weight"] = "default 100"
		}
	}
	return files
}

// delegate does, for each child cgroup of dir, what the kernel does when
// dir's cgroup.subtree_control changes to ctrls: the child's
// cgroup.controllers follows, and a newly enabled controller's files appear.
func (f *fakeFS) delegate(dir, ctrls string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		child := filepath.Join(dir, e.Name())
		for _, c := range strings.Fields(ctrls) {
			for name, v := range f.v2Files(dir, c) {
				if p := filepath.Join(child, name); !exists(p) {
					if v != "" {
						v += "\n"
					}
					f.must(os.WriteFile(p, []byte(v), 0o644))
				}
			}
		}
		f.must(os.WriteFile(filepath.Join(child, "cgroup.controllers"), []byte(ctrls+"\n"), 0o644))
	}
}

func (f *fakeFS) read(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

// rmdir refuses, like the kernel, a cgroup with child cgroups or with
// live processes.
func (f *fakeFS) rmdir(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			return &os.PathError{Op: "rmdir", Path: dir, Err: unix.EBUSY}
		}
	}
	for _, p := range strings.Fields(f.read(filepath.Join(dir, "cgroup.procs"))) {
		if pid, _ := strconv.Atoi(p); pid > 0 && pid != 4242 && unix.Kill(pid, 0) == nil {
			return &os.PathError{Op: "rmdir", Path: dir, Err: unix.EBUSY}
		}
	}
	return os.RemoveAll(dir)
}

func (f *fakeFS) write(file, data string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rel, _ := filepath.Rel(f.root, file)
	fd, err := os.OpenFile(file, os.O_WRONLY, 0) // never creates, as cgroupfs
	if err != nil {
		return err
	}
	fd.Close()
	f.writes = append(f.writes, rel+"="+data)
	dir, name := filepath.Dir(file), filepath.Base(file)
	if err := f.failWrite[name]; err != nil {
		return &os.PathError{Op: "write", Path: file, Err: err}
	}
	cur := f.read(file)
	einval := &os.PathError{Op: "write", Path: file, Err: unix.EINVAL}
	switch name {
	case "cgroup.subtree_control":
		if dir != f.mountOf(dir) && f.read(filepath.Join(dir, "cgroup.procs")) != "" {
			return &os.PathError{Op: "write", Path: file, Err: unix.EBUSY}
		}
		words := strings.Fields(cur)
		for _, w := range strings.Fields(data) {
			c := w[1:]
			if !slices.Contains(strings.Fields(f.read(filepath.Join(dir, "cgroup.controllers"))), c) {
				return &os.PathError{Op: "write", Path: file, Err: unix.ENOENT}
			}
			if w[0] == '+' && !slices.Contains(words, c) {
				words = append(words, c)
			}
		}
		data = strings.Join(words, " ")
		f.delegate(dir, data)
	case "cgroup.procs":
		// v1 cpuset: no task can join a cgroup without CPUs or nodes.
		if exists(filepath.Join(dir, "cpuset.effective_cpus")) &&
			(f.read(filepath.Join(dir, "cpuset.cpus")) == "" || f.read(filepath.Join(dir, "cpuset.mems")) == "") {
			return &os.PathError{Op: "write", Path: file, Err: unix.ENOSPC}
		}
		data = cur + "\n" + data
	case "memory.limit_in_bytes":
		if v1Bytes(data) > v1Bytes(f.read(filepath.Join(dir, "memory.memsw.limit_in_bytes"))) {
			return einval
		}
	case "memory.memsw.limit_in_bytes":
		if v1Bytes(data) < v1Bytes(f.read(filepath.Join(dir, "memory.limit_in_bytes"))) {
			return einval
		}
	case "cpuset.cpus", "cpuset.mems":
		if _, err := os.Stat(filepath.Join(dir, "cpuset.effective_cpus")); err == nil {
			f.must(os.WriteFile(filepath.Join(dir, strings.Replace(name, "cpuset.", "cpuset.effective_", 1)), []byte(data), 0o644))
		}
	}
	return os.WriteFile(file, []byte(strings.TrimPrefix(data, "\n")+"\n"), 0o644)
}

// v1Bytes reads a v1 memory limit; -1 and missing files are no limit.
func v1Bytes(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 1<<63 - 1
	}
	return n
}

func (f *fakeFS) check(dir string) error {
	if !strings.HasPrefix(dir, f.root+"/") {
		return fmt.Errorf("%s: not on a cgroup filesystem", dir)
	}
	if dir == f.mountOf(dir) {
		return fmt.Errorf("%s: refusing the root of a cgroup hierarchy", dir)
	}
	return nil
}

// attachDeviceProgram keeps prog for the tests to run (devices_test.go)
// and logs it as a write of "<device program>"; failWrite["<device
// program>"] makes it fail.
func (f *fakeFS) attachDeviceProgram(dir string, prog []bpfInsn) error {
	if !exists(filepath.Join(dir, "cgroup.procs")) || f.mountOf(dir) != f.layout.V2 {
		return fmt.Errorf("attaching the BPF device program to %s: %w", dir, unix.EBADF)
	}
	rel, _ := filepath.Rel(f.root, dir)
	f.writes = append(f.writes, fmt.Sprintf("%s=<device program>", rel))
	if err := f.failWrite["<device program>"]; err != nil {
		return fmt.Errorf("attaching the BPF device program to %s: %w", dir, err)
	}
	if f.programs == nil {
		f.programs = map[string][]bpfInsn{}
	}
	f.programs[rel] = prog
	return nil
}

// wrote reports whether FILE=DATA was written (FILE relative to the root).
func (f *fakeFS) wrote(file, data string) bool {
	return slices.Contains(f.writes, file+"="+data)
}

// tree lists every directory under the fixture root.
func (f *fakeFS) tree() []string {
	var dirs []string
	filepath.WalkDir(f.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	return dirs
}

// file reads FILE (relative to the root), trimmed.
func (f *fakeFS) file(rel string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func readFileT(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}
