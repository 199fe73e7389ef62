package engine

import (
	"log/slog"
	"os"

	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/hooks"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// The OCI hooks (config.json's hooks) run where runc runs them:
//   - prestart and createRuntime: here, in the host's namespaces, while
//     stage 2 waits with the container's mounts made, before its pivot;
//   - createContainer: by stage 2, in the container's namespaces, then;
//   - startContainer: by stage 2, confined, just before the entry point's exec;
//   - poststart: here once the entry point runs, or by `start` for a
//     container nobody monitors; a failure is only a warning;
//   - poststop: by `delete` (or once a failed prestart or createRuntime
//     hook has stopped the container), a failure only a warning.

// hookID is the container's ID in the OCI state hooks read.
func hookID(s *spec.Spec) string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// send hands stage 2 its config and, when the spec has runtime hooks,
// runs them while stage 2 waits before its pivot.
func send(s *spec.Spec, cfg *container.Config, pending *container.Pending, files []*os.File) error {
	if h := s.Hooks; h != nil {
		cfg.Hooks = container.Hooks{
			PauseBeforePivot: len(h.Prestart) > 0 || len(h.CreateRuntime) > 0,
			CreateContainer:  h.CreateContainer,
			StartContainer:   h.StartContainer,
			ID:               hookID(s),
			Bundle:           s.Bundle,
			Annotations:      s.Annotations,
		}
	}
	if err := pending.Send(cfg, files...); err != nil || !cfg.Hooks.PauseBeforePivot {
		return err
	}
	if err := pending.PausedForHooks(); err != nil {
		return err
	}
	state := hooks.State(hookID(s), "creating", pending.Pid(), s.Bundle, s.Annotations)
	err := hooks.Run("prestart", s.Hooks.Prestart, state)
	if err == nil {
		err = hooks.Run("createRuntime", s.Hooks.CreateRuntime, state)
	}
	if err = pending.Resume(err); err != nil {
		// The runtime spec: a failed prestart or createRuntime hook stops
		// the container and the lifecycle goes on to the poststop hooks.
		poststop := hooks.State(hookID(s), "stopped", pending.Pid(), s.Bundle, s.Annotations)
		if perr := hooks.Run("poststop", s.Hooks.Poststop, poststop); perr != nil {
			slog.Warn(perr.Error())
		}
	}
	return err
}

// runPoststart runs the poststart hooks of a container whose entry point
// runs as pid.
func runPoststart(s *spec.Spec, pid int) {
	state := hooks.State(hookID(s), "running", pid, s.Bundle, s.Annotations)
	if err := hooks.Run("poststart", s.Hooks.Poststart, state); err != nil {
		slog.Warn(err.Error())
	}
}
