package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Env is what the runtimes' command lines are built from.
type Env struct {
	Work     string // scratch directory (mode 755: mapped users traverse it)
	Rootfs   string // the minimal image directory
	OCI      string // the same image as an OCI archive, for podman
	Tag      string // its tag in podman's store
	Launcher string
	EnvFile  string // sets STDC_PROBE_ENV
	BlockDev string // "/dev/vda" for IO limits; "" for none
	MajMin   string // its "254:0"
	Bridge   string // a bridge in the throwaway namespace for lxc's NAT run
	CgroupV1 bool   // memory is a v1 hierarchy (v1 or hybrid host)
	// RunRoot is podman's --runroot: short (podman refuses long ones).
	RunRoot string
}

// Limits every runtime with resource limits is given.
const (
	memLimit  = 64 << 20
	memSwap   = 128 << 20 // memory + swap
	cpuQuota  = 50000     // per 100000 µs: half a CPU
	pidsLimit = 64
	writeBps  = 1 << 20
	idBase    = 1000000 // the user namespace maps 0-65535 here
	idSize    = 65536
)

// Runtime describes how one runtime is run. Knowledge of a runtime lives
// here only: what it offers (Networks, Lacks) and its command lines.
type Runtime struct {
	Name     string
	Binary   string // looked up in PATH (the launcher: Env.Launcher)
	Package  string // the Debian package that installs it
	Version  []string
	Networks []string
	Lacks    map[string]string
	Activate bool // start it socket-activated (else its Command passes a socket)
	// Command returns the argv of one run; dir is a fresh directory of the run's.
	Command func(e *Env, run *Run, dir, id string) ([]string, error)
	Setup   func(e *Env) error // once before the runs
	Cleanup func(e *Env)       // once after them, also after a failure
}

const needsCommand = "cannot run an image without a command (it was given /sbin/init)"
const noEnvFile = "no environment-file option"
const noLimits = "no resource-limit options"

// Runtimes lists every runtime measured, in column order.
var Runtimes = []*Runtime{
	{
		Name: "launcher", Version: []string{"version"},
		Networks: []string{NetHost, NetPrivate, NetNAT},
		Command: func(e *Env, run *Run, dir, id string) ([]string, error) {
			argv := []string{e.Launcher, "--root", filepath.Join(e.Work, "launcher-state"), "run", "--rm",
				"--network", run.Network, "--env-file", e.EnvFile, "--listen", "unix:" + filepath.Join(dir, "probe.sock"),
				"-m", size(memLimit), "--memory-swap", size(memSwap), "--cpus", "0.5", "--pids-limit", strconv.Itoa(pidsLimit)}
			if e.BlockDev != "" {
				argv = append(argv, "--device-write-bps", e.BlockDev+":"+size(writeBps))
			}
			if run.UserNS {
				argv = append(argv, "--userns=auto")
			}
			return append(argv, e.Rootfs), nil
		},
	},
	ociRuntime("runc", nil),
	// crun refuses hybrid hosts: its own mount namespace without the
	// cgroup2 mount (anchors.md). exec keeps the pid, so the activator's
	// LISTEN_PID still names crun.
	ociRuntime("crun", []string{"unshare", "-m", "sh", "-c", `umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"`}),
	{
		Name: "bwrap", Binary: "bwrap", Package: "bubblewrap", Version: []string{"--version"},
		Networks: []string{NetHost, NetPrivate}, Activate: true,
		Lacks: map[string]string{"default-init": needsCommand, "env-file": noEnvFile + " (--setenv only)", "cgroup-limits": noLimits},
		Command: func(e *Env, run *Run, dir, id string) ([]string, error) {
			argv := []string{"bwrap", "--unshare-all", "--die-with-parent", "--as-pid-1"}
			if run.Network == NetHost {
				argv = append(argv, "--share-net")
			}
			if run.UserNS {
				argv = append(argv, "--unshare-user")
			}
			return append(argv, "--bind", rootfsCopy(e, "bwrap", false), "/", "--proc", "/proc", "--dev", "/dev", "/sbin/init"), nil
		},
	},
	{
		Name: "systemd-nspawn", Binary: "systemd-nspawn", Package: "systemd-container", Version: []string{"--version"},
		Networks: []string{NetHost, NetPrivate, NetNAT}, Activate: true,
		Lacks: map[string]string{"env-file": noEnvFile + " (--setenv only)",
			"cgroup-limits": "limits are systemd unit properties (--property), which nspawn ignores without machine registration: " +
				"\"--slice= and --property= settings will have no effect\" (no systemd here: --register=no --keep-unit)"},
		Command: func(e *Env, run *Run, dir, id string) ([]string, error) {
			// --boot: nspawn's way to run the image's init as PID 1, with no arguments.
			argv := []string{"systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--boot",
				"--machine", id, "-D", rootfsCopy(e, "nspawn", run.UserNS)}
			switch run.Network {
			case NetPrivate:
				argv = append(argv, "--private-network")
			case NetNAT:
				argv = append(argv, "--network-veth")
			}
			if run.UserNS {
				argv = append(argv, fmt.Sprintf("--private-users=%d:%d", idBase, idSize), "--private-users-ownership=off")
			}
			return argv, nil
		},
	},
	{
		Name: "lxc", Binary: "lxc-start", Package: "lxc", Version: []string{"--version"},
		Networks: []string{NetHost, NetPrivate, NetNAT}, Activate: true,
		Lacks: map[string]string{"env-file": noEnvFile + " (lxc.environment only)"},
		Command: func(e *Env, run *Run, dir, id string) ([]string, error) {
			conf := filepath.Join(dir, "lxc.conf")
			if err := os.WriteFile(conf, []byte(lxcConfig(e, run)), 0o644); err != nil {
				return nil, err
			}
			// lxc-start runs lxc.init.cmd, /sbin/init by default, as PID 1
			// (lxc-execute would put lxc's own init there).
			argv := []string{"/usr/bin/lxc-start", "-P", filepath.Join(e.Work, "lxc"), "-n", id, "-f", conf, "-F"}
			switch {
			case run.Network == NetNAT:
				// lxc looks its bridge up in /sys/class/net, which shows the
				// namespace that mounted sysfs, not ours: a mount namespace
				// of the run's with this namespace's net part of a fresh
				// sysfs over it (only there: an overmounted /sys keeps user
				// namespaces from mounting sysfs).
				argv = append([]string{"unshare", "-m", "sh", "-c", `mount -t sysfs matrix "$0" && ` +
					`mount --bind "$0/class/net" /sys/class/net && mount --bind "$0/devices/virtual/net" /sys/devices/virtual/net && ` +
					`umount -l "$0" && exec "$@"`, mkdir(filepath.Join(dir, "sys"))}, argv...)
			case run.UserNS:
				// With newuidmap on PATH lxc maps ids through it, which wants
				// root's ids in /etc/subuid (this host has none); without,
				// root writes the maps itself.
				argv = append([]string{"env", "PATH=/usr/sbin:/sbin"}, argv...)
			}
			return argv, nil
		},
		Setup: func(e *Env) error { return os.MkdirAll(filepath.Join(e.Work, "lxc"), 0o755) },
	},
	{
		Name: "podman", Binary: "podman", Package: "podman", Version: []string{"--version"},
		Networks: []string{NetHost, NetPrivate, NetNAT}, Activate: true,
		Command: func(e *Env, run *Run, dir, id string) ([]string, error) {
			net := map[string]string{NetHost: "host", NetPrivate: "none", NetNAT: "bridge"}[run.Network]
			argv := append(podman(e), "run", "--rm", "--name", id, "--network", net, "--env-file", e.EnvFile,
				"--memory", size(memLimit), "--memory-swap", size(memSwap), "--cpus", "0.5", "--pids-limit", strconv.Itoa(pidsLimit))
			if e.BlockDev != "" {
				argv = append(argv, "--device-write-bps", e.BlockDev+":"+size(writeBps))
			}
			if run.UserNS {
				m := fmt.Sprintf("0:%d:%d", idBase, idSize)
				argv = append(argv, "--uidmap", m, "--gidmap", m)
			}
			// No command: the image's entry point (mkrootfs writes /sbin/init).
			return append(argv, e.Tag), nil
		},
		Setup: func(e *Env) error {
			// Ulimits podman would raise beyond this host's hard limits are
			// pinned here (anchors.md).
			conf := filepath.Join(e.Work, "containers.conf")
			if err := os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"), 0o644); err != nil {
				return err
			}
			out, err := exec.Command(podman(e)[0], append(podman(e)[1:], "load", "-i", e.OCI)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("podman load: %v: %s", err, out)
			}
			return nil
		},
		Cleanup: func(e *Env) {
			exec.Command(podman(e)[0], append(podman(e)[1:], "system", "reset", "--force")...).Run()
		},
	},
}

// ociRuntime describes runc or crun (same CLI, same bundle), started
// behind the prefix argv.
func ociRuntime(name string, prefix []string) *Runtime {
	return &Runtime{
		Name: name, Binary: name, Package: name, Version: []string{"--version"},
		Networks: []string{NetHost, NetPrivate}, Activate: true,
		Lacks: map[string]string{"default-init": needsCommand, "env-file": noEnvFile + " (config.json's process.env only)"},
		Command: func(e *Env, run *Run, dir, id string) ([]string, error) {
			if err := ociBundle(e, name, run, dir); err != nil {
				return nil, err
			}
			return append(slices.Clone(prefix), name, "--root", filepath.Join(e.Work, name+"-state"), "run", "--bundle", dir, id), nil
		},
	}
}

// podman is podman's argv prefix: its state in the scratch directory and
// anchors.md's flags for this host.
func podman(e *Env) []string {
	return []string{"env", "CONTAINERS_CONF=" + filepath.Join(e.Work, "containers.conf"), "podman",
		"--root", filepath.Join(e.Work, "podman"), "--runroot", e.RunRoot, "--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"}
}

// size prints bytes the way the launcher and podman read them.
func size(n int) string { return strconv.Itoa(n>>20) + "m" }

// rootfsCopy returns the runtime's own copy of the image (so no runtime
// can change the image the others run), made on first use; the userns
// copy is owned by the mapped ids.
func rootfsCopy(e *Env, runtime string, userns bool) string {
	name := runtime + "-rootfs"
	if userns {
		name += "-userns"
	}
	dir := filepath.Join(e.Work, name)
	if _, err := os.Stat(dir); err == nil {
		return dir
	}
	if out, err := exec.Command("cp", "-a", e.Rootfs, dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "matrix: cp %s: %v %s\n", dir, err, out)
	}
	if userns {
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				os.Lchown(p, idBase, idBase)
			}
			return nil
		})
	}
	return dir
}

// ociBundle writes dir/config.json for runc or crun: the runtime's own
// default spec with our image, /sbin/init, the run's network and user
// namespace, and the limits.
func ociBundle(e *Env, runtime string, run *Run, dir string) error {
	if out, err := exec.Command(runtime, "spec", "--bundle", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("%s spec: %v: %s", runtime, err, out)
	}
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		return err
	}
	if err := editSpec(e, cfg, run, rootfsCopy(e, runtime, run.UserNS)); err != nil {
		return err
	}
	data, err = json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// editSpec changes a default runtime-spec config in place.
func editSpec(e *Env, cfg map[string]any, run *Run, rootfs string) error {
	proc, ok1 := cfg["process"].(map[string]any)
	linux, ok2 := cfg["linux"].(map[string]any)
	nss, ok3 := linux["namespaces"].([]any)
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("default spec lacks process, linux or linux.namespaces")
	}
	proc["terminal"] = false
	proc["args"] = []string{"/sbin/init"}
	cfg["root"] = map[string]any{"path": rootfs, "readonly": false}
	cfg["hostname"] = "probe"
	nss = slices.DeleteFunc(nss, func(n any) bool {
		t, _ := n.(map[string]any)["type"].(string)
		return t == "network" && run.Network == NetHost || t == "user"
	})
	if run.UserNS {
		nss = append(nss, map[string]any{"type": "user"})
		m := []map[string]any{{"containerID": 0, "hostID": idBase, "size": idSize}}
		linux["uidMappings"], linux["gidMappings"] = m, m
	}
	linux["namespaces"] = nss
	res := map[string]any{
		"memory": map[string]any{"limit": memLimit, "swap": memSwap},
		"cpu":    map[string]any{"quota": cpuQuota, "period": 100000},
		"pids":   map[string]any{"limit": pidsLimit},
	}
	if maj, min, ok := strings.Cut(e.MajMin, ":"); ok {
		a, _ := strconv.Atoi(maj)
		b, _ := strconv.Atoi(min)
		res["blockIO"] = map[string]any{"throttleWriteBpsDevice": []map[string]any{{"major": a, "minor": b, "rate": writeBps}}}
	}
	linux["resources"] = res
	return nil
}

// lxcConfig is one run's container configuration: the distribution's
// common.conf (as lxc-create's templates include it), our image, the run's
// network and user namespace, and the limits.
func lxcConfig(e *Env, run *Run) string {
	var b strings.Builder
	line := func(k, v string) { b.WriteString(k + " = " + v + "\n") }
	line("lxc.include", "/usr/share/lxc/config/common.conf")
	line("lxc.rootfs.path", "dir:"+rootfsCopy(e, "lxc", run.UserNS))
	line("lxc.uts.name", "probe")
	line("lxc.console.path", "none")
	// The image has no /dev: a tmpfs one, and no ttys (common.conf's need /dev/lxc).
	line("lxc.autodev", "1")
	line("lxc.tty.max", "0")
	// Without force, cgroup:mixed mounts nothing on this hybrid host.
	line("lxc.mount.auto", "cgroup:mixed:force")
	switch run.Network {
	case NetHost:
		line("lxc.net.0.type", "none")
	case NetPrivate:
		line("lxc.net.0.type", "empty")
	case NetNAT:
		// What lxc-net's lxcbr0 gives a container, with a static address
		// instead of its dnsmasq.
		line("lxc.net.0.type", "veth")
		line("lxc.net.0.link", e.Bridge)
		line("lxc.net.0.flags", "up")
		line("lxc.net.0.name", "eth0")
		line("lxc.net.0.ipv4.address", "10.213.0.2/24")
		line("lxc.net.0.ipv4.gateway", "10.213.0.1")
	}
	if run.UserNS {
		line("lxc.idmap", fmt.Sprintf("u 0 %d %d", idBase, idSize))
		line("lxc.idmap", fmt.Sprintf("g 0 %d %d", idBase, idSize))
	}
	if e.CgroupV1 {
		line("lxc.cgroup.memory.limit_in_bytes", strconv.Itoa(memLimit))
		line("lxc.cgroup.memory.memsw.limit_in_bytes", strconv.Itoa(memSwap))
		line("lxc.cgroup.cpu.cfs_quota_us", strconv.Itoa(cpuQuota))
		line("lxc.cgroup.pids.max", strconv.Itoa(pidsLimit))
		if e.MajMin != "" {
			line("lxc.cgroup.blkio.throttle.write_bps_device", e.MajMin+" "+strconv.Itoa(writeBps))
		}
	} else {
		line("lxc.cgroup2.memory.max", strconv.Itoa(memLimit))
		line("lxc.cgroup2.memory.swap.max", strconv.Itoa(memSwap-memLimit))
		line("lxc.cgroup2.cpu.max", strconv.Itoa(cpuQuota)+" 100000")
		line("lxc.cgroup2.pids.max", strconv.Itoa(pidsLimit))
		if e.MajMin != "" {
			line("lxc.cgroup2.io.max", e.MajMin+" wbps="+strconv.Itoa(writeBps))
		}
	}
	return b.String()
}

// mkdir makes dir and returns it.
func mkdir(dir string) string {
	os.MkdirAll(dir, 0o755)
	return dir
}
