// Command matrix measures the Standard Container RFC's support matrix: it
// runs the minimal image, whose init prints the RFC probe, under every
// runtime it finds (our launcher, runc, crun, bwrap, systemd-nspawn, lxc,
// podman), once per network type the runtime offers and once with its user
// namespace, with an env file, a passed socket and resource limits where
// the runtime takes them; then judges one cell per RFC row and runtime and
// writes the matrix as Markdown and JSON, and into the README.
//
// scripts/matrix.sh (make matrix) runs it as root inside a throwaway
// network and mount namespace; it is not meant to be run on its own.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "activate" {
		activate(os.Args[2:])
	}
	var e Env
	var outDir, readme, only string
	flag.StringVar(&e.Rootfs, "rootfs", "out/rootfs", "the minimal image directory")
	flag.StringVar(&e.OCI, "oci", "", "the minimal image as an OCI archive tagged -tag (for podman)")
	flag.StringVar(&e.Tag, "tag", "localhost/stdc-matrix/probe:1", "the OCI archive's tag")
	flag.StringVar(&e.Launcher, "launcher", "out/bin/launcher", "our launcher")
	flag.StringVar(&e.Bridge, "bridge", "", "a bridge for lxc's NAT run (10.213.0.1/24 on it)")
	flag.StringVar(&outDir, "out", "out", "where matrix.md and matrix.json go")
	flag.StringVar(&readme, "readme", "", "a README whose matrix markers get the Markdown")
	flag.StringVar(&only, "only", "", "comma-separated runtimes to measure (default: all)")
	flag.Parse()
	if err := run(&e, outDir, readme, only); err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(1)
	}
}

func run(e *Env, outDir, readme, only string) error {
	for _, p := range []*string{&e.Rootfs, &e.OCI, &e.Launcher} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return err
			}
			*p = abs
		}
	}
	work, err := os.MkdirTemp("", "stdc-matrix.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// podman refuses a runroot longer than 50 bytes.
	if e.RunRoot, err = os.MkdirTemp("/tmp", "stdcmx"); err != nil {
		return err
	}
	defer os.RemoveAll(e.RunRoot)
	os.Chmod(work, 0o755)
	e.Work = work
	e.EnvFile = filepath.Join(work, "probe.env")
	if err := os.WriteFile(e.EnvFile, []byte("# read by the runtime's env-file option\nSTDC_PROBE_ENV=from-env-file\n"), 0o644); err != nil {
		return err
	}
	e.MajMin, e.BlockDev = rootDevice()
	_, err = os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	e.CgroupV1 = err == nil

	m := Matrix{Date: time.Now().UTC().Format("2006-01-02"), Command: "make matrix", Kernel: kernel()}
	m.Host.NetInode = nsInode("/proc/self/ns/net")
	m.Host.CapBnd = statusField("CapBnd")
	for _, rt := range Runtimes {
		if only != "" && !slices.Contains(strings.Split(only, ","), rt.Name) {
			continue
		}
		bin := rt.Binary
		if bin == "" {
			bin = e.Launcher
		}
		if _, err := exec.LookPath(bin); err != nil {
			m.Missing = append(m.Missing, rt.Name+": "+bin+" not found (apt-get install -y "+rt.Package+")")
			continue
		}
		col, err := measure(e, rt, bin)
		if err != nil {
			m.Missing = append(m.Missing, rt.Name+": "+err.Error())
			continue
		}
		m.Columns = append(m.Columns, *col)
	}
	Build(&m)
	md := m.Markdown()
	js, err := m.JSON()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"matrix.md": []byte(md), "matrix.json": js} {
		if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Print(md)
	if readme != "" {
		doc, err := os.ReadFile(readme)
		if err != nil {
			return err
		}
		s, err := Splice(string(doc), md)
		if err != nil {
			return fmt.Errorf("%s: %v", readme, err)
		}
		return os.WriteFile(readme, []byte(s), 0o644)
	}
	return nil
}

// runsOf lists a runtime's runs: one per network type, then the private
// one again with the user namespace.
func runsOf(rt *Runtime) []Run {
	var runs []Run
	for _, n := range rt.Networks {
		runs = append(runs, Run{Network: n})
	}
	return append(runs, Run{Network: NetPrivate, UserNS: true})
}

// measure runs rt's runs and records their probe rows.
func measure(e *Env, rt *Runtime, bin string) (*Column, error) {
	col := &Column{Runtime: rt.Name, Networks: rt.Networks, Lacks: rt.Lacks}
	if out, err := exec.Command(bin, rt.Version...).CombinedOutput(); err == nil {
		col.Version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	if rt.Cleanup != nil {
		defer rt.Cleanup(e)
	}
	if rt.Setup != nil {
		if err := rt.Setup(e); err != nil {
			return nil, err
		}
	}
	for i, run := range runsOf(rt) {
		id := fmt.Sprintf("stdc-matrix-%s-%d", strings.TrimPrefix(rt.Name, "systemd-"), i)
		dir := filepath.Join(e.Work, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		argv, err := rt.Command(e, &run, dir, id)
		if err == nil {
			run.Command = argv
			err = start(&run, rt.Activate, dir)
		}
		if err != nil {
			run.Error = err.Error()
		}
		fmt.Fprintf(os.Stderr, "matrix: %s %s: %s\n", rt.Name, run.Label(), orOK(run.Error))
		col.Runs = append(col.Runs, run)
	}
	return col, nil
}

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// start runs argv, socket-activated when activate is set, and parses its
// probe rows into run.
func start(run *Run, activate bool, dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := run.Command
	var ln *net.UnixListener
	if activate {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "probe.sock"), Net: "unix"})
		if err != nil {
			return err
		}
		ln = l
		defer ln.Close()
		self, err := os.Executable()
		if err != nil {
			return err
		}
		argv = append([]string{self, "activate", "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LISTEN_") })
	if ln != nil {
		f, err := ln.File()
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.ExtraFiles = []*os.File{f} // fd 3
		cmd.Env = append(cmd.Env, "LISTEN_FDS=1", "LISTEN_FDNAMES=probe")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	run.Output = stdout.String() + stderr.String()
	rows, perr := ParseProbe(stdout.String())
	if perr != nil {
		// Some runtimes print the container's output on stderr.
		rows, perr = ParseProbe(run.Output)
	}
	for _, k := range probeKeysOf(rows) {
		run.Rows = append(run.Rows, rows[k])
	}
	switch {
	case perr != nil && err != nil:
		return fmt.Errorf("%v: %s", err, firstError(stderr.String()))
	case perr != nil:
		return perr
	}
	return nil // the probe's exit status is not a verdict: its rows are
}

// firstError picks the line of a runtime's stderr that says what failed:
// the first one mentioning an error or a failure, else the last.
func firstError(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		if l := strings.ToLower(l); strings.Contains(l, "error") || strings.Contains(l, "fail") {
			return strings.TrimSpace(lines[i])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// activate is the socket activator: started with the socket at fd 3 and
// LISTEN_FDS set, it names its own pid in LISTEN_PID and becomes argv.
func activate(args []string) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	path, err := exec.LookPath(args[0])
	if err == nil {
		env := append(os.Environ(), fmt.Sprintf("LISTEN_PID=%d", os.Getpid()))
		err = syscall.Exec(path, args, env)
	}
	fmt.Fprintln(os.Stderr, "matrix activate:", err)
	os.Exit(127)
}

// rootDevice returns the block device of / as "MAJ:MIN" and its node, for
// IO limits; "" when / is not on a block device.
func rootDevice() (majMin, node string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	for s := bufio.NewScanner(f); s.Scan(); {
		// "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..."
		if fields := strings.Fields(s.Text()); len(fields) > 4 && fields[4] == "/" {
			majMin = fields[2]
		}
	}
	// DEVNAME=vda
	uevent, _ := os.ReadFile("/sys/dev/block/" + majMin + "/uevent")
	for line := range strings.Lines(string(uevent)) {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "DEVNAME="); ok {
			node = "/dev/" + name
		}
	}
	if _, err := os.Stat(node); majMin == "" || node == "" || err != nil {
		return "", ""
	}
	return majMin, node
}

func kernel() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return "?"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// nsInode is the inode a /proc/*/ns link names: "net:[4026531833]" → "4026531833".
func nsInode(link string) string {
	t, _ := os.Readlink(link)
	_, ino, _ := strings.Cut(t, "[")
	return strings.TrimSuffix(ino, "]")
}

// statusField reads one field of our /proc/self/status.
func statusField(name string) string {
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
