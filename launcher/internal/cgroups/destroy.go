package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// rmdirPatience bounds how long removal waits for killed processes to
// leave: a dying process stays in its cgroup until it has exited.
// The kernel can take well over a second to release a cgroup after an OOM
// kill (the victim's memory is reclaimed first); giving up early would
// leave the directories behind.
var rmdirPatience = 10 * time.Second

// DestroyPaths kills every process left in the cgroup directories paths
// (as from Paths, saved in a state file: for gc after a crash) and below
// them, then removes the directories deepest first. Killing: v2 writes 1
// to cgroup.kill where present; v1 freezes the freezer cgroup, SIGKILLs
// every pid in cgroup.procs of every hierarchy, then thaws so the frozen
// can die. rmdir is retried on EBUSY for up to rmdirPatience. Paths already
// gone are fine; paths that are not cgroups, are a hierarchy's root, or
// are not a container's own cgroup (named containerPrefix…, as the
// launcher names them) are refused before anything gets killed: a state
// file naming a shared --cgroup-parent must not take every container
// below it along. Then the ancestors listed in parents (the parent
// cgroups a launcher made for them) go where no other container uses
// them; a nil parents removes none.
func DestroyPaths(paths []string, parents *Parents) error {
	return destroyStatePaths(realFS{}, paths, parents)
}

// containerPrefix starts the name of every container cgroup the launcher
// makes; DestroyPaths removes no other.
const containerPrefix = "stdcontainer-"

func destroyStatePaths(fsy fsys, paths []string, parents *Parents) error {
	var errs []error
	var ok []string
	for _, p := range paths {
		if base := filepath.Base(filepath.Clean(p)); !strings.HasPrefix(base, containerPrefix) || base == containerPrefix {
			errs = append(errs, fmt.Errorf("cgroups: not destroying %s: not a container's cgroup (the name does not start with %s)", p, containerPrefix))
			continue
		}
		ok = append(ok, p)
	}
	errs = append(errs, destroyPaths(fsy, ok), parents.prune(fsy, ok))
	return joinErrors(errs)
}

func destroyPaths(fsy fsys, paths []string) error {
	var errs []error
	var live []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			errs = append(errs, fmt.Errorf("cgroups: %q is not an absolute path", p))
			continue
		}
		p = filepath.Clean(p)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := fsy.check(p); err != nil {
			errs = append(errs, fmt.Errorf("cgroups: not destroying %s: %w", p, err))
			continue
		}
		live = append(live, p)
	}
	// Every cgroup in the trees, deepest first: the container may have
	// made its own below ours (systemd in a container does).
	var dirs []string
	for _, p := range live {
		filepath.WalkDir(p, func(d string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				dirs = append(dirs, d)
			}
			return nil
		})
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/")
	})

	// The usual case: PID 1 exited and took its PID namespace along, so
	// the cgroups are already empty and freezing and killing can be
	// skipped (each costs a write per hierarchy and a wait).
	if anyProcs(dirs) {
		killAll(fsy, live, dirs, &errs)
	}

	deadline := time.Now().Add(rmdirPatience)
	for _, d := range dirs {
		if err := rmdirPatiently(fsy, d, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrors(errs)
}

// anyProcs reports whether any of the cgroups still holds a process.
func anyProcs(dirs []string) bool {
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return true
		}
	}
	return false
}

// killAll stops every process in the cgroups: frozen first so none can
// fork while the rest are killed, then thawed so the killed can die.
func killAll(fsy fsys, live, dirs []string, errs *[]error) {
	freeze(fsy, live, true)
	for _, p := range live {
		if k := filepath.Join(p, "cgroup.kill"); exists(k) {
			fsy.write(k, "1") // the whole subtree, forks included
		}
	}
	for _, d := range dirs {
		if err := killProcs(d); err != nil {
			*errs = append(*errs, err)
		}
	}
	freeze(fsy, live, false)
}

// freeze stops (or restarts) every process of the v1 freezer cgroup, or
// of a v2 cgroup without cgroup.kill, so none can fork while we kill.
func freeze(fsy fsys, live []string, on bool) {
	for _, p := range live {
		if f := filepath.Join(p, "freezer.state"); exists(f) {
			state := "THAWED"
			if on {
				state = "FROZEN"
			}
			if fsy.write(f, state) == nil && on {
				// FREEZING until every task stopped; don't wait on a task
				// stuck in the kernel: the kill and rmdir retries cope.
				for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); time.Sleep(time.Millisecond) {
					if s, _ := readString(f); s == "FROZEN" {
						break
					}
				}
			}
		} else if f := filepath.Join(p, "cgroup.freeze"); exists(f) && !exists(filepath.Join(p, "cgroup.kill")) {
			v := "0"
			if on {
				v = "1"
			}
			fsy.write(f, v)
		}
	}
}

// killProcs sends SIGKILL to every process in dir's cgroup.procs.
func killProcs(dir string) error {
	b, rerr := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if rerr != nil {
		return nil // gone, or not a cgroup of ours any more
	}
	var err error
	for _, f := range strings.Fields(string(b)) {
		pid, perr := strconv.Atoi(f)
		if perr != nil || pid <= 0 {
			continue
		}
		if pid == os.Getpid() {
			err = fmt.Errorf("cgroups: not killing this process (%d), which is in %s", pid, dir)
			continue
		}
		unix.Kill(pid, unix.SIGKILL) // ESRCH: already gone
	}
	return err
}

// rmdirPatiently removes cgroup dir, retrying while it is busy (killed
// processes not yet gone) until deadline.
func rmdirPatiently(fsy fsys, dir string, deadline time.Time) error {
	wait := time.Millisecond
	for {
		err := fsy.rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			procs, _ := readString(filepath.Join(dir, "cgroup.procs"))
			if procs != "" {
				return fmt.Errorf("cgroups: rmdir %s: %w (processes left: %s)", dir, unwrapErrno(err), strings.Join(strings.Fields(procs), " "))
			}
			return fmt.Errorf("cgroups: rmdir %s: %w", dir, unwrapErrno(err))
		}
		killProcs(dir) // a fork that raced the first round
		time.Sleep(wait)
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// Freeze stops (on) or restarts every process in the cgroups at paths (a
// container's, from its state), through the v1 freezer or v2's
// cgroup.freeze, and waits until the kernel says they are frozen.
func Freeze(paths []string, on bool) error {
	for _, p := range paths {
		file, want := filepath.Join(p, "freezer.state"), "THAWED"
		if on {
			want = "FROZEN"
		}
		if !exists(file) {
			file, want = filepath.Join(p, "cgroup.freeze"), "0"
			if on {
				want = "1"
			}
			if !exists(file) {
				continue
			}
		}
		if err := os.WriteFile(file, []byte(want), 0); err != nil {
			return fmt.Errorf("cgroups: %s: %w", file, unwrapErrno(err))
		}
		if strings.HasSuffix(file, "cgroup.freeze") {
			file, want = filepath.Join(p, "cgroup.events"), "frozen "+want
		}
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			if s, _ := os.ReadFile(file); strings.Contains(string(s), want) {
				return nil
			}
			if time.Now().After(end) {
				return fmt.Errorf("cgroups: %s did not become %q within 5s", file, want)
			}
		}
	}
	return errors.New("cgroups: no freezer for this container (no v1 freezer hierarchy, no cgroup.freeze)")
}
