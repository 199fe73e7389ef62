package engine

import (
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/caps"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// execFile is where a container's exec defaults live in its state
// directory: what `launcher exec` applies to every command it runs there.
const execFile = "exec.json"

// execDefaults are a running container's process settings.
type execDefaults struct {
	Env      []string
	Cwd      string
	UID, GID uint32
	Groups   []uint32
	container.Confinement
}

func writeExecDefaults(store *state.Store, id string, cfg *container.Config) error {
	data, err := json.Marshal(execDefaults{Env: cfg.Env, Cwd: cfg.Cwd, UID: cfg.UID, GID: cfg.GID, Groups: cfg.Groups, Confinement: cfg.Confinement})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(store.Dir(id), execFile), data, 0o600)
}

// ExecOptions is one `launcher exec`: what differs from the container's
// own process.
type ExecOptions struct {
	Args     []string
	Env      []string    // KEY=VALUE, after the container's (later wins)
	User     *specs.User // nil: the container's user
	Cwd      string      // "": the container's working directory
	Terminal bool        // stdio is a pty's terminal side
	// ConsoleSize sizes a terminal made for stdio.ConsoleSocket.
	ConsoleSize *specs.Box
	// Detach leaves the command to the caller's subreaper (OCI exec
	// --detach): Exec returns once it runs, after telling Started its
	// pid (the helper's, which exits with the command's status).
	Detach  bool
	Started func(pid int)
}

// namespacesToEnter are the container's namespaces an exec joins.
const namespacesToEnter = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// Exec runs a command in a running container and returns its exit status
// (or 125/126/127 with an error), forwarding signals to it meanwhile.
func Exec(store *state.Store, ref string, o ExecOptions, stdio container.Stdio) (int, error) {
	c, err := store.Get(ref)
	if err != nil {
		return container.CodeLauncher, &UserError{err.Error()}
	}
	if !c.State.Running {
		return container.CodeLauncher, userErrorf("container %s is not running", c.Id[:12])
	}
	data, err := os.ReadFile(filepath.Join(store.Dir(c.Id), execFile))
	var d execDefaults
	if err == nil {
		err = json.Unmarshal(data, &d)
	}
	if err != nil {
		return container.CodeLauncher, userErrorf("container %s: its exec settings: %v", c.Id[:12], err)
	}
	// A pidfd pins the process: once its start time matches the record,
	// it is the container's PID 1 for as long as we hold it.
	fd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return container.CodeLauncher, userErrorf("container %s is not running (pid %d: %v)", c.Id[:12], c.State.Pid, err)
	}
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	defer pidfd.Close()
	if start, err := state.StartTime(c.State.Pid); err != nil || start != c.PidStartTime {
		return container.CodeLauncher, userErrorf("container %s is not running (its PID 1 is gone)", c.Id[:12])
	}

	cfg := &container.ExecConfig{
		Args: o.Args, Env: mergeEnv(d.Env, o.Env), Cwd: d.Cwd, UID: d.UID, GID: d.GID, Groups: d.Groups,
		Terminal: o.Terminal, Namespaces: namespacesToEnter, Confinement: d.Confinement,
	}
	if o.User != nil {
		cfg.UID, cfg.GID, cfg.Groups = o.User.UID, o.User.GID, o.User.AdditionalGids
	}
	if o.Cwd != "" {
		cfg.Cwd = o.Cwd
	}
	if c.HostConfig.UsernsMode != "" {
		// A Go process cannot join a user namespace (setns refuses a
		// multi-threaded caller), so the command enters every other
		// namespace as the host's view of its user, with no capabilities:
		// they would be the host's, not the container's.
		if os.Geteuid() != 0 {
			return container.CodeLauncher, userErrorf("exec into a rootless container is not supported: entering its namespaces needs its user namespace, which a Go process cannot join")
		}
		uid, okU := hostID(c.HostConfig.UIDMaps, cfg.UID)
		gid, okG := hostID(c.HostConfig.GIDMaps, cfg.GID)
		if !okU || !okG {
			return container.CodeLauncher, userErrorf("exec: user %d:%d is not mapped in container %s", cfg.UID, cfg.GID, c.Id[:12])
		}
		var groups []uint32
		for _, g := range cfg.Groups {
			if h, ok := hostID(c.HostConfig.GIDMaps, g); ok {
				groups = append(groups, h)
			}
		}
		cfg.UID, cfg.GID, cfg.Groups = uid, gid, groups
		// Just enough to become that user, which clears them all.
		become := caps.Mask([]string{"CAP_SETUID", "CAP_SETGID"})
		cfg.Caps = &caps.Sets{Bounding: become, Effective: become, Permitted: become}
		cfg.Namespaces &^= unix.CLONE_NEWUSER
	}
	pending, err := container.Spawn(stdio, container.SpawnOptions{ExecInto: pidfd, Orphan: o.Detach})
	if err != nil {
		return container.CodeLauncher, err
	}
	// The helper joins the container's cgroups before it forks the
	// command, which so starts inside the container's limits.
	for _, dir := range c.CgroupPaths {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pending.Pid())), 0); err != nil {
			pending.Abort()
			if errors.Is(err, os.ErrNotExist) {
				return container.CodeLauncher, userErrorf("container %s is not running", c.Id[:12])
			}
			return container.CodeLauncher, err
		}
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	var files []*os.File
	if cfg.Console = consoleFor(stdio, o.ConsoleSize); cfg.Console.Enabled {
		files = []*os.File{stdio.ConsoleSocket}
	}
	proc, err := pending.Start(cfg, files...)
	if err != nil {
		var se *container.StartError
		if errors.As(err, &se) {
			return se.Code, err
		}
		return container.CodeLauncher, err
	}
	if o.Started != nil {
		o.Started(proc.Pid)
	}
	if o.Detach {
		return 0, nil
	}
	return waitForwarding(proc, sigs, stdio.Resize), nil
}

// mergeEnv is base with the KEY=VALUE entries of extra applied in order.
func mergeEnv(base, extra []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range extra {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if k, _, _ := strings.Cut(old, "="); k == key {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
