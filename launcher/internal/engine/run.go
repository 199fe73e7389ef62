package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/network"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// forwarded are the signals a foreground launcher passes to the
// container's PID 1, as docker's sig-proxy does.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT, syscall.Signal(37)}

// Run runs s to completion and returns the launcher's exit status: the
// container's, or 125/126/127 with an error when it could not run.
// started, when not nil, is called once the entry point runs.
func Run(store *state.Store, s *spec.Spec, stdio container.Stdio, started func(id string)) (int, error) {
	if err := checkImage(s.Image); err != nil {
		return container.CodeLauncher, err
	}
	if os.Geteuid() != 0 && s.Network == "nat" {
		return container.CodeLauncher, userErrorf("--network nat and --publish need root; a rootless container has private or host networking (and --listen)")
	}
	if s.ID == "" {
		id, err := state.NewID()
		if err != nil {
			return container.CodeLauncher, err
		}
		s.ID = id
	}
	if s.Hostname == "" && !joins(s, specs.UTSNamespace) {
		s.Hostname = s.ID[:12] // a joined UTS namespace keeps its name
	}
	uuid := state.UUID(s.ID)
	cfg, err := config(s, uuid)
	if err != nil {
		return container.CodeLauncher, err
	}
	filter := compileSeccomp(s)
	// undo holds what has been created so far, for failures half-way.
	var undo []func()
	failed := func(code int, err error) (int, error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return code, err
	}

	// Activation sockets are bound here, by whoever runs the container (a
	// foreground launcher or a detached one's monitor); our copies close,
	// and unix socket files go, when the container is gone.
	sockets, err := bindListeners(s.Listen)
	if err != nil {
		return container.CodeLauncher, err
	}
	defer sockets.close()
	stdio.Sockets = append(stdio.Sockets, sockets.files...)
	if n := len(stdio.Sockets); n > 0 {
		names := append(append([]string(nil), s.InheritedSockets...), sockets.names...)
		cfg.Env = append(cfg.Env, "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_PID=1", "LISTEN_FDNAMES="+strings.Join(names, ":"))
	}
	preserved := make([]*os.File, s.PreserveFDs)
	for i := range preserved {
		preserved[i] = os.NewFile(uintptr(3+i), "preserved fd "+strconv.Itoa(3+i))
	}
	stdio.Sockets = append(preserved, stdio.Sockets...)
	cfg.ListenFDs = len(stdio.Sockets)

	// The cgroup exists, with its limits, before stage 2 does: stage 2 is
	// born into it (v2) or moved into it (v1) before it gets its config, so
	// the payload never runs outside its limits.
	layout, err := cgroups.Detect()
	if err != nil {
		return container.CodeLauncher, err
	}
	var resources *specs.LinuxResources
	if s.Linux != nil {
		resources = s.Linux.Resources
	}
	cg, err := containerCgroup(layout, cgroups.NewParents(store.Root), s, resources)
	if err != nil {
		return container.CodeLauncher, err
	}
	var cgroupDir *os.File
	if cg != nil {
		undo = append(undo, func() { cg.Destroy() })
		cfg.Cgroupfs = cgroupMounts(layout, cg.Paths())
		if layout.Mode == "v2" {
			if cgroupDir, err = cg.Dir(); err != nil {
				return failed(container.CodeLauncher, err)
			}
			defer cgroupDir.Close()
		}
	}

	join, err := openJoinedNamespaces(s)
	if err != nil {
		return failed(container.CodeLauncher, err)
	}
	defer closeJoined(join)

	// The state entry is written while stage 2 starts up (a Go process,
	// new namespaces) and joins the cgroup; stage 2 gets its config only
	// once the entry exists, so a name already in use stops it in time.
	record := newRecord(s, cfg)
	if cg != nil {
		record.CgroupPaths = cg.Paths()
	}
	created := make(chan error, 1)
	go func() { created <- store.Create(record) }()
	spawn := container.SpawnOptions{CgroupDir: cgroupDir, HostNetwork: cfg.HostNetwork, Orphan: s.Orphan, Join: join}
	var createErr error
	if s.UserNamespace() {
		// --userns=auto leases its ids under the state entry, which must
		// exist first (gc frees leases whose container has no state).
		if createErr = <-created; createErr != nil {
			return failed(container.CodeLauncher, &UserError{createErr.Error()})
		}
		undo = append(undo, func() { store.Remove(s.ID) })
		if err := userNamespace(store, s, cfg, &spawn); err != nil {
			return failed(container.CodeLauncher, err)
		}
		if s.UsernsAuto {
			undo = append(undo, func() { releaseUserns(store, s.ID) })
		}
		created <- nil // the entry exists: the common path below reads that
	}
	pending, err := container.Spawn(stdio, spawn)
	if err == nil && spawn.UserNS != nil && spawn.UserNS.External {
		if err = writeMappings(pending.Pid(), s.Linux.UIDMappings, s.Linux.GIDMappings); err != nil {
			pending.Abort()
		}
	}
	if err == nil && cg != nil && cgroupDir == nil {
		if err = cg.Join(pending.Pid()); err != nil {
			pending.Abort()
			err = fmt.Errorf("joining the container's cgroup: %v", err)
		}
	}
	if createErr = <-created; createErr == nil {
		if !s.UserNamespace() {
			undo = append(undo, func() { store.Remove(s.ID) })
		}
	} else if err == nil {
		err = &UserError{createErr.Error()}
		pending.Abort()
	}
	if err != nil {
		return failed(container.CodeLauncher, err)
	}
	undo = append(undo, pending.Abort)
	// NAT: stage 2's network namespace is wired to the bridge before it
	// gets its config, so the entry point starts with its network up.
	var natCfg network.Config
	if s.Network == "nat" {
		natCfg = network.Config{Bridge: s.NAT.Bridge, Subnet: s.NAT.Subnet, StateDir: store.Root}
		att, err := network.Setup(natCfg, s.ID, pending.Pid(), natRequest(s.NAT))
		if err != nil {
			return failed(container.CodeLauncher, &UserError{err.Error()})
		}
		undo = append(undo, func() { network.Teardown(natCfg, s.ID) })
		store.Update(s.ID, func(c *state.Container) error {
			c.NetworkSettings = networkSettings(att)
			return nil
		})
	}
	// Subscribing costs the Go runtime ~30 µs per signal: done while the
	// container starts rather than before.
	sigs := make(chan os.Signal, 16)
	subscribed := make(chan struct{})
	go func() { signal.Notify(sigs, forwarded...); close(subscribed) }()
	defer func() { <-subscribed; signal.Stop(sigs) }()

	c := <-filter
	if c.err != nil {
		return failed(container.CodeLauncher, c.err)
	}
	cfg.Seccomp = c.prog
	var withConfig []*os.File
	if cfg.UserNS && os.Geteuid() == 0 {
		if tree, err := idmappedImage(s.Image, pending.Pid()); err == nil {
			defer tree.Close()
			cfg.IDMappedImage, withConfig = true, []*os.File{tree}
		} else {
			slog.Warn(err.Error() + "; files of ids outside the mapping appear as nobody's")
		}
	}
	if cfg.Console = consoleFor(stdio, s.Process.ConsoleSize); cfg.Console.Enabled {
		withConfig = append(withConfig, stdio.ConsoleSocket)
	}
	var proc *container.Process
	if s.WaitForStart && s.Orphan {
		// OCI create under an engine: created, and left to it.
		if err := create(store, s, cfg, pending, withConfig); err != nil {
			var se *container.StartError
			if errors.As(err, &se) {
				return failed(se.Code, err)
			}
			return failed(container.CodeLauncher, err)
		}
		if err := writeExecDefaults(store, s.ID, cfg); err != nil {
			slog.Warn("exec will not work for this container: " + err.Error())
		}
		return 0, nil
	}
	if s.WaitForStart {
		// OCI create: the container waits, fully built, for `start`.
		proc, err = createThenStart(store, s, cfg, pending, withConfig, started)
		started = nil // told at "created" already
	} else if err = send(s, cfg, pending, withConfig); err == nil {
		proc, err = pending.Running()
	}
	if err != nil {
		var se *container.StartError
		if errors.As(err, &se) {
			return failed(se.Code, err)
		}
		return failed(container.CodeLauncher, err)
	}
	// Recording "running" and, at the end, removing the cgroups and the
	// state are independent of each other and of the container: they run
	// alongside it instead of adding to every container's start-to-exit.
	running := make(chan struct{})
	go func() {
		// Before "running": exec reads it once the state says so.
		if err := writeExecDefaults(store, s.ID, cfg); err != nil {
			slog.Warn("exec will not work for this container: " + err.Error())
		}
		startTime, _ := state.StartTime(proc.Pid)
		store.Update(s.ID, func(c *state.Container) error {
			c.State = state.State{Status: "running", Running: true, Pid: proc.Pid, StartedAt: now()}
			c.PidStartTime = startTime
			c.MonitorPid = os.Getpid()
			return nil
		})
		close(running)
	}()
	if started != nil {
		<-running // whoever is told it started may look at the state at once
		started(s.ID)
	}
	if s.Hooks != nil && len(s.Hooks.Poststart) > 0 {
		<-running
		runWarning("poststart", s.Hooks.Poststart, hookState(s, "running", proc.Pid))
	}

	code := waitForwarding(proc, sigs, stdio.Resize)
	// PID 1 is gone, so the kernel is killing the rest of its PID
	// namespace; Destroy makes sure, then removes the cgroup directories.
	destroyed := make(chan struct{})
	go func() {
		if cg != nil {
			cg.Destroy()
		}
		if s.UsernsAuto {
			releaseUserns(store, s.ID)
		}
		if s.Network == "nat" {
			network.Teardown(natCfg, s.ID) // rules, veth (gone with the namespace) and lease
		}
		close(destroyed)
	}()
	<-running
	if s.Remove {
		store.Remove(s.ID)
	} else {
		store.Update(s.ID, func(c *state.Container) error {
			c.State.Status, c.State.Running, c.State.ExitCode, c.State.FinishedAt = "exited", false, code, now()
			return nil
		})
	}
	<-destroyed
	if s.Remove && s.Hooks != nil {
		// Deleted with its resources: the OCI lifecycle's last step.
		runWarning("poststop", s.Hooks.Poststop, hookState(s, "stopped", proc.Pid))
	}
	return code, nil
}

// createThenStart hands stage 2 its config with the start FIFO, records
// the container "created" once stage 2 waits before its exec, tells
// created (so `create` can return), and waits until `start` writes to the
// FIFO and the entry point runs.
func createThenStart(store *state.Store, s *spec.Spec, cfg *container.Config, pending *container.Pending,
	files []*os.File, created func(id string)) (*container.Process, error) {
	if err := create(store, s, cfg, pending, files); err != nil {
		return nil, err
	}
	defer os.Remove(filepath.Join(store.Dir(s.ID), StartFIFO))
	if created != nil {
		created(s.ID)
	}
	return pending.Running()
}

// create hands stage 2 its config with the start FIFO and records the
// container "created" once stage 2 waits before its exec.
func create(store *state.Store, s *spec.Spec, cfg *container.Config, pending *container.Pending, files []*os.File) error {
	fifoPath := filepath.Join(store.Dir(s.ID), StartFIFO)
	if err := unix.Mkfifo(fifoPath, 0o600); err != nil {
		pending.Abort()
		return fmt.Errorf("creating the start FIFO: %v", err)
	}
	// Read-write: stage 2's read then blocks for data instead of seeing
	// EOF while no `start` has the FIFO open.
	fifo, err := os.OpenFile(fifoPath, os.O_RDWR, 0)
	if err != nil {
		os.Remove(fifoPath)
		pending.Abort()
		return fmt.Errorf("opening the start FIFO: %v", err)
	}
	defer fifo.Close()
	cfg.WaitStart = true
	if err := send(s, cfg, pending, append(files, fifo)); err != nil {
		os.Remove(fifoPath)
		return err
	}
	if err := pending.Created(); err != nil {
		os.Remove(fifoPath)
		return err
	}
	pid := pending.Pid()
	startTime, _ := state.StartTime(pid)
	return store.Update(s.ID, func(c *state.Container) error {
		c.State = state.State{Status: state.StatusCreated, Pid: pid}
		c.PidStartTime = startTime
		c.MonitorPid = os.Getpid()
		if s.Orphan {
			c.MonitorPid = 0 // nobody watches it: delete cleans up
		}
		return nil
	})
}

// StartFIFO is the FIFO in a created container's state directory that
// `start` writes one byte to.
const StartFIFO = "start.fifo"

// waitForwarding waits for proc, passing it the signals that arrive on
// sigs meanwhile (SIGWINCH goes to resize instead, when set), and
// returns its exit status.
func waitForwarding(proc *container.Process, sigs <-chan os.Signal, resize func()) int {
	done := make(chan int, 1)
	go func() { done <- proc.Wait() }()
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGWINCH && resize != nil {
				resize()
				continue
			}
			proc.Signal(sig)
		case code := <-done:
			return code
		}
	}
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// newRecord is the container's state entry, shaped like docker inspect.
func newRecord(s *spec.Spec, cfg *container.Config) *state.Container {
	c := &state.Container{
		Id:      s.ID,
		Created: now(),
		Path:    cfg.Args[0],
		Args:    cfg.Args[1:],
		Name:    s.Name,
		State:   state.State{Status: "created"},
		// Owned from the start: gc and rm must leave a starting container be.
		MonitorPid: os.Getpid(),
		Config: state.Config{
			Hostname:   cfg.Hostname,
			Env:        cfg.Env,
			Cmd:        s.Process.Args,
			Image:      s.Image,
			WorkingDir: cfg.Cwd,
			User:       s.Process.User.Username,
			OSRelease:  imageRelease(s.Image),
			Tty:        cfg.Terminal,
			OpenStdin:  s.Interactive,
			StopSignal: s.StopSignal,
		},
		HostConfig: state.HostConfig{
			ReadonlyRootfs: cfg.ReadOnly,
			AutoRemove:     s.Remove,
			Init:           s.Init,
			NetworkMode:    networkMode(s),
			Tmpfs:          map[string]string{},
			Privileged:     s.Privileged,
			CapAdd:         s.CapAdd,
			CapDrop:        s.CapDrop,
			SecurityOpt:    s.SecurityOpt,
		},
		NetworkSettings: state.NetworkSettings{Mode: networkMode(s)},
		Bundle:          s.Bundle,
		Annotations:     s.Annotations,
		Hooks:           s.Hooks,
	}
	applyResources(&c.HostConfig, s)
	if pc := s.Process.Capabilities; pc != nil {
		c.HostConfig.Capabilities = pc.Effective
	}
	if s.Linux != nil {
		c.HostConfig.MaskedPaths, c.HostConfig.ReadonlyPaths = s.Linux.MaskedPaths, s.Linux.ReadonlyPaths
	}
	for _, m := range cfg.Mounts {
		switch m.Type {
		case "bind":
			bind := m.Source + ":" + m.Target
			if m.ReadOnly {
				bind += ":ro"
			}
			c.HostConfig.Binds = append(c.HostConfig.Binds, bind)
		case "tmpfs":
			c.HostConfig.Tmpfs[m.Target] = sizeOption(m.Size)
		}
	}
	return c
}

func sizeOption(size int64) string {
	if size == 0 {
		return ""
	}
	return "size=" + strconv.FormatInt(size, 10)
}

// applyResources records the limits in HostConfig as docker inspect shows them.
func applyResources(h *state.HostConfig, s *spec.Spec) {
	h.CgroupParent = s.CgroupParent
	h.Cgroup = "stdcontainer-" + s.ID[:12]
	if s.Linux == nil || s.Linux.Resources == nil {
		return
	}
	r := s.Linux.Resources
	if m := r.Memory; m != nil {
		h.Memory, h.MemorySwap, h.MemoryReservation = deref(m.Limit), deref(m.Swap), deref(m.Reservation)
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil && c.Period != nil && *c.Period > 0 {
			h.NanoCpus = *c.Quota * 1e9 / int64(*c.Period)
		}
		h.CpuShares, h.CpusetCpus, h.CpusetMems = int64(deref(c.Shares)), c.Cpus, c.Mems
	}
	if r.Pids != nil {
		h.PidsLimit = deref(r.Pids.Limit)
	}
	if b := r.BlockIO; b != nil {
		h.BlkioWeight = deref(b.Weight)
		devices := func(in []specs.LinuxThrottleDevice) (out []state.ThrottleDevice) {
			for _, d := range in {
				out = append(out, state.ThrottleDevice{Path: fmt.Sprintf("%d:%d", d.Major, d.Minor), Rate: d.Rate})
			}
			return out
		}
		h.BlkioDeviceReadBps, h.BlkioDeviceWriteBps = devices(b.ThrottleReadBpsDevice), devices(b.ThrottleWriteBpsDevice)
		h.BlkioDeviceReadIOps, h.BlkioDeviceWriteIOps = devices(b.ThrottleReadIOPSDevice), devices(b.ThrottleWriteIOPSDevice)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func networkMode(s *spec.Spec) string {
	if s.Network == "" {
		return "private"
	}
	return s.Network
}

// natRequest is what the spec asks of the NAT network.
func natRequest(n spec.NAT) network.Request {
	req := network.Request{IP: n.IP}
	if n.MAC != "" {
		req.MAC, _ = net.ParseMAC(n.MAC) // validated by the CLI
	}
	for _, p := range n.Ports {
		req.Ports = append(req.Ports, network.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	return req
}

// networkSettings is the attachment as docker inspect shows it.
func networkSettings(a *network.Attachment) state.NetworkSettings {
	ns := state.NetworkSettings{Mode: "nat", IPAddress: a.IP.String(), IPPrefixLen: a.PrefixLen,
		Gateway: a.Gateway.String(), MacAddress: a.MAC.String(), Bridge: a.Bridge, HostVeth: a.HostVeth}
	for _, p := range a.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		key := strconv.Itoa(int(p.ContainerPort)) + "/" + proto
		if ns.Ports == nil {
			ns.Ports = map[string][]state.PortBinding{}
		}
		hostIP := "0.0.0.0"
		if p.HostIP.IsValid() {
			hostIP = p.HostIP.String()
		}
		ns.Ports[key] = append(ns.Ports[key], state.PortBinding{HostIp: hostIP, HostPort: strconv.Itoa(int(p.HostPort))})
	}
	return ns
}
