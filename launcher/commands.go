package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/stdcontainer/stdcontainer/launcher/internal/cgroups"
	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/console"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/network"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// monitorArg0 marks the launcher re-executed as a detached container's
// monitor: it runs the container like a foreground launcher would, with
// no terminal, and records its exit in the state.
const monitorArg0 = "stdcontainer-monitor"

// detach starts the monitor, waits until the container runs (or fails to),
// prints its id and returns.
func detach(store *state.Store, s *spec.Spec) int {
	id, code, err := startMonitor(store, s, false)
	if err != nil {
		return fail(code, err)
	}
	fmt.Println(id)
	return 0
}

// monitor is the detached side of `run -d`.
func monitor(root string) int {
	store, err := state.Open(root)
	if err != nil {
		return exitLauncher
	}
	ready := os.NewFile(4, "ready")
	var s spec.Spec
	if err := json.NewDecoder(os.NewFile(3, "spec")).Decode(&s); err != nil {
		fmt.Fprintf(ready, "failed %d reading the spec: %v", exitLauncher, err)
		return exitLauncher
	}
	// Our stdio is the container's: /dev/null for `run -d`, an engine's
	// fifos for the OCI front.
	stdio := container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if s.Process != nil && s.Process.Terminal {
		// run -dt: the terminal is made in the container, as with -t; its
		// controlling side stays here, read and dropped (there is no
		// attach), so a shell of `run -dit` waits for input as under
		// docker instead of exiting at once on /dev/null.
		ours, theirs, err := socketPair()
		if err != nil {
			fmt.Fprintf(ready, "failed %d -t: %v", exitLauncher, err)
			return exitLauncher
		}
		defer ours.Close()
		defer theirs.Close()
		stdio.ConsoleSocket = theirs
		go func() {
			if control, err := console.Receive(ours); err == nil {
				io.Copy(io.Discard, control) // until the container's last holder exits
				control.Close()
			}
		}()
	}
	code, err := engine.Run(store, &s, stdio, func(id string) {
		fmt.Fprintf(ready, "started %s", id)
		ready.Close()
	})
	if err != nil {
		fmt.Fprintf(ready, "failed %d %v", code, err)
	}
	return code
}

// ps lists containers: running ones, or all with -a.
func ps(store *state.Store, inv *cli.Invocation) int {
	all, err := store.List()
	if err != nil {
		return fail(exitLauncher, err)
	}
	var shown []*state.Container
	for _, c := range all {
		if inv.All || state.Alive(c) {
			shown = append(shown, c)
		}
	}
	switch {
	case inv.Quiet:
		for _, c := range shown {
			fmt.Println(c.Id[:12])
		}
	case inv.Format == "json":
		out, _ := json.MarshalIndent(nonNil(shown), "", "  ")
		fmt.Println(string(out))
	default:
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
		fmt.Fprintln(w, "CONTAINER ID\tNAME\tCOMMAND\tCREATED\tSTATUS\tIMAGE")
		for _, c := range shown {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Id[:12], c.Name, command(c), c.Created, status(c), c.Config.Image)
		}
		w.Flush()
	}
	return 0
}

func nonNil(cs []*state.Container) []*state.Container {
	if cs == nil {
		return []*state.Container{}
	}
	return cs
}

func command(c *state.Container) string {
	cmd := strings.Join(append([]string{c.Path}, c.Args...), " ")
	if len(cmd) > 30 {
		cmd = cmd[:29] + "…"
	}
	return strconv.Quote(cmd)
}

// status says what a user needs: running, exited with a code, or lost
// (its launcher died without recording an exit; `gc` removes it).
func status(c *state.Container) string {
	switch {
	case state.Alive(c):
		return "running"
	case c.State.Status == "exited":
		return "exited (" + strconv.Itoa(c.State.ExitCode) + ")"
	case !state.Owned(c):
		return "lost"
	}
	return c.State.Status
}

// inspect prints the state of each container as a JSON array, docker-style.
func inspect(store *state.Store, refs []string) int {
	var found []*state.Container
	code := 0
	for _, ref := range refs {
		c, err := store.Get(ref)
		if err != nil {
			fail(1, err)
			code = 1
			continue
		}
		found = append(found, c)
	}
	out, _ := json.MarshalIndent(nonNil(found), "", "  ")
	fmt.Println(string(out))
	return code
}

// forEach runs do for each container named in refs, docker-style: a
// failure is reported and the others are still done; the status is 1 if
// any failed.
func forEach(store *state.Store, refs []string, do func(ref string, c *state.Container) error) int {
	code := 0
	for _, ref := range refs {
		c, err := store.Get(ref)
		if err == nil {
			err = do(ref, c)
		}
		if err != nil {
			code = fail(1, err)
		}
	}
	return code
}

// stop sends the stop signal, waits up to secs, then SIGKILLs.
func stop(store *state.Store, refs []string, secs int) int {
	return forEach(store, refs, func(ref string, c *state.Container) error {
		if state.Alive(c) {
			syscall.Kill(c.State.Pid, stopSignal(c))
			if !waitDead(c, time.Duration(secs)*time.Second) {
				syscall.Kill(c.State.Pid, syscall.SIGKILL)
				waitDead(c, 10*time.Second)
			}
		}
		fmt.Println(ref)
		return nil
	})
}

// stopSignal: --stop-signal, else SIGRTMIN+3 for systemd (its clean
// shutdown request), else SIGTERM.
func stopSignal(c *state.Container) syscall.Signal {
	if c.Config.StopSignal != "" {
		if sig, err := cli.ParseSignal(c.Config.StopSignal); err == nil {
			return sig
		}
	}
	if isSystemd(c) {
		return syscall.Signal(37)
	}
	return syscall.SIGTERM
}

// isSystemd reports whether the container's PID 1 runs systemd.
func isSystemd(c *state.Container) bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(c.State.Pid) + "/exe")
	return err == nil && strings.HasSuffix(exe, "/systemd")
}

// waitDead polls until the container's PID 1 is gone or d passes.
func waitDead(c *state.Container, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !state.Alive(c) {
			return true
		}
	}
	return !state.Alive(c)
}

// kill sends a signal (default SIGKILL) to each container's PID 1.
func kill(store *state.Store, refs []string, signal string) int {
	sig := syscall.SIGKILL
	if signal != "" {
		var err error
		if sig, err = cli.ParseSignal(signal); err != nil {
			return fail(exitLauncher, fmt.Errorf("--signal %s: %v", signal, err))
		}
	}
	return forEach(store, refs, func(ref string, c *state.Container) error {
		if !state.Alive(c) {
			return fmt.Errorf("container %s is not running", ref)
		}
		if err := syscall.Kill(c.State.Pid, sig); err != nil {
			return fmt.Errorf("%s: %v", ref, err)
		}
		fmt.Println(ref)
		return nil
	})
}

// remove deletes stopped containers' state; -f kills running ones first.
func remove(store *state.Store, refs []string, force bool) int {
	return forEach(store, refs, func(ref string, c *state.Container) error {
		if state.Alive(c) {
			if !force {
				return fmt.Errorf("container %s is running: stop it first, or use rm -f", ref)
			}
			syscall.Kill(c.State.Pid, syscall.SIGKILL)
			waitDead(c, 10*time.Second)
		}
		// The launcher or monitor that owned it may still be recording the
		// exit; give it a moment so it does not recreate what we remove.
		for i := 0; i < 100 && state.Owned(c); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if !state.Owned(c) {
			cgroups.DestroyPaths(c.CgroupPaths, cgroups.NewParents(store.Root)) // what a crashed launcher left
		}
		if err := store.Remove(c.Id); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// gc removes the state of containers whose launcher died without cleaning
// up (a crash, SIGKILL), and the parent cgroups launchers made that no
// container uses any more. Their mounts died with their mount namespace.
func gc(store *state.Store) int {
	all, err := store.List()
	if err != nil {
		return fail(exitLauncher, err)
	}
	for _, c := range all {
		if state.Alive(c) || state.Owned(c) {
			continue
		}
		// Its processes died with its PID namespace; its cgroups did not
		// if its launcher died before removing them (a no-op otherwise).
		if err := cgroups.DestroyPaths(c.CgroupPaths, cgroups.NewParents(store.Root)); err != nil {
			fail(1, fmt.Errorf("%s: %v", c.Id[:12], err))
			continue
		}
		if c.NetworkSettings.Mode == "nat" {
			if err := network.Teardown(network.Config{Bridge: c.NetworkSettings.Bridge, StateDir: store.Root}, c.Id); err != nil {
				fail(1, fmt.Errorf("%s: %v", c.Id[:12], err))
			}
		}
		if c.State.Status == "exited" {
			continue // a stopped container the user keeps until rm
		}
		if err := store.Remove(c.Id); err != nil {
			fail(1, err)
			continue
		}
		fmt.Println("removed lost container " + c.Id[:12])
	}
	// Parent cgroups launchers made (--cgroup-parent) and left empty: their
	// last container's launcher died before removing them, or the loop
	// above removed that container's cgroups.
	removed, err := cgroups.NewParents(store.Root).Sweep()
	for _, dir := range removed {
		fmt.Println("removed the empty parent cgroup " + dir)
	}
	if err != nil {
		fail(1, err)
	}
	// --userns=auto id blocks and network leases whose container has no
	// state left at all (it crashed before recording them, or its state
	// was removed by hand, or just above).
	for _, id := range engine.ReleaseLostUserns(store) {
		fmt.Println("released the user namespace ids of " + id[:min(12, len(id))])
	}
	leases, _ := network.Leased(network.Config{StateDir: store.Root})
	for id := range leases {
		if _, err := store.Get(id); errors.Is(err, state.ErrNotFound) {
			if err := network.Teardown(network.Config{StateDir: store.Root}, id); err == nil {
				fmt.Println("released the network lease of " + id[:12])
			}
		}
	}
	return 0
}
