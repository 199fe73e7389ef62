package main

import (
	"github.com/stdcontainer/stdcontainer/launcher/internal/cli"
	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/engine"
	"github.com/stdcontainer/stdcontainer/launcher/internal/state"
)

// execCommand is `launcher exec`: one command in a running container.
func execCommand(store *state.Store, ref string, r *cli.Run) int {
	env, err := flagEnv(nil, r)
	if err != nil {
		return fail(exitLauncher, err)
	}
	o := engine.ExecOptions{Args: r.Cmd, Env: env, Cwd: r.Workdir, Terminal: r.TTY}
	if r.User != "" {
		c, err := store.Get(ref)
		if err != nil {
			return fail(exitLauncher, err)
		}
		user, err := resolveUser(c.Config.Image, r.User)
		if err != nil {
			return fail(exitLauncher, err)
		}
		o.User = &user
	}
	if !r.TTY {
		stdio, done, err := ourStdio(r.Interactive)
		if err != nil {
			return fail(exitLauncher, err)
		}
		defer done()
		code, err := engine.Exec(store, ref, o, stdio)
		if err != nil {
			return fail(code, err)
		}
		return code
	}
	return withTerminal(r.Interactive, func(stdio container.Stdio) (int, error) {
		return engine.Exec(store, ref, o, stdio)
	})
}
