package engine

import (
	"log/slog"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

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
//   - poststop: by `delete`, here when Run removes the container it ran
//     (OCI run without --keep), or once a failed prestart or createRuntime
//     hook has stopped the container; a failure only a warning.

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
	state := hookState(s, "creating", pending.Pid())
	err := hooks.Run("prestart", s.Hooks.Prestart, state)
	if err == nil {
		err = hooks.Run("createRuntime", s.Hooks.CreateRuntime, state)
	}
	if err = pending.Resume(err); err != nil {
		// The runtime spec: a failed prestart or createRuntime hook stops
		// the container and the lifecycle goes on to the poststop hooks.
		runWarning("poststop", s.Hooks.Poststop, hookState(s, "stopped", pending.Pid()))
	}
	return err
}

// hookState is the OCI state of s in status, its process pid.
func hookState(s *spec.Spec, status string, pid int) []byte {
	return hooks.State(hookID(s), status, pid, s.Bundle, s.Annotations)
}

// runWarning runs hooks whose failure changes nothing (poststart,
// poststop): it is a warning, as the runtime spec asks.
func runWarning(kind string, list []specs.Hook, state []byte) {
	if err := hooks.Run(kind, list, state); err != nil {
		slog.Warn(err.Error())
	}
}
