package engine

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
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
	if s.ID == "" {
		id, err := state.NewID()
		if err != nil {
			return container.CodeLauncher, err
		}
		s.ID = id
	}
	if s.Hostname == "" {
		s.Hostname = s.ID[:12]
	}
	uuid := state.UUID(s.ID)
	scratch := filepath.Join(store.Dir(s.ID), "scratch")
	cfg, err := config(s, uuid, scratch)
	if err != nil {
		return container.CodeLauncher, err
	}
	// Stage 2 starts up (a Go process, new namespaces) while the state
	// entry is written; it gets its config only once the entry exists.
	pending, err := container.Spawn(stdio)
	if err != nil {
		return container.CodeLauncher, err
	}
	if err := store.Create(newRecord(s, cfg)); err != nil {
		pending.Abort()
		return container.CodeLauncher, &UserError{err.Error()}
	}
	// From here on every exit path removes what was created, unless the
	// user wants the stopped container kept (no --rm).
	if err := os.Mkdir(scratch, 0o700); err != nil {
		pending.Abort()
		store.Remove(s.ID)
		return container.CodeLauncher, err
	}
	// Subscribing costs the Go runtime ~30 µs per signal: done while the
	// container starts rather than before.
	sigs := make(chan os.Signal, 16)
	subscribed := make(chan struct{})
	go func() { signal.Notify(sigs, forwarded...); close(subscribed) }()
	defer func() { <-subscribed; signal.Stop(sigs) }()

	proc, err := pending.Start(cfg)
	if err != nil {
		store.Remove(s.ID)
		var se *container.StartError
		if errors.As(err, &se) {
			return se.Code, err
		}
		return container.CodeLauncher, err
	}
	startTime, _ := state.StartTime(proc.Pid)
	store.Update(s.ID, func(c *state.Container) error {
		c.State = state.State{Status: "running", Running: true, Pid: proc.Pid, StartedAt: now()}
		c.PidStartTime = startTime
		c.MonitorPid = os.Getpid()
		return nil
	})
	if started != nil {
		started(s.ID)
	}

	done := make(chan int, 1)
	go func() { done <- proc.Wait() }()
	var code int
	for waiting := true; waiting; {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGWINCH && stdio.Resize != nil {
				stdio.Resize()
				continue
			}
			proc.Signal(sig)
		case code = <-done:
			waiting = false
		}
	}
	os.Remove(scratch)
	if s.Remove {
		store.Remove(s.ID)
	} else {
		store.Update(s.ID, func(c *state.Container) error {
			c.State.Status, c.State.Running, c.State.ExitCode, c.State.FinishedAt = "exited", false, code, now()
			return nil
		})
	}
	return code, nil
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
			NetworkMode:    "private",
			Tmpfs:          map[string]string{},
		},
		NetworkSettings: state.NetworkSettings{Mode: "private"},
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
