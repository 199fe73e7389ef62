// Package hooks runs OCI lifecycle hooks (runtime-spec config.md#posix-platform-hooks):
// each hook's program gets the container's state as JSON on its stdin and
// must exit 0 within its timeout. The fronts and stage 2 decide when and
// in which namespaces a kind of hook runs; this package only runs them.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxOutput bounds how much of a failed hook's output an error quotes.
const maxOutput = 4096

// outputGrace is how long a hook's output is read after it exited.
const outputGrace = 500 * time.Millisecond

// State is the OCI state document hooks read on stdin.
func State(id, status string, pid int, bundle string, annotations map[string]string) []byte {
	data, _ := json.Marshal(specs.State{Version: specs.Version, ID: id, Status: specs.ContainerState(status),
		Pid: pid, Bundle: bundle, Annotations: annotations})
	return data
}

// Run runs hooks of one kind (e.g. "createRuntime") in order, each with
// state on stdin, and stops at the first that fails: its error names the
// kind, the hook and what it wrote to stderr.
func Run(kind string, hooks []specs.Hook, state []byte) error {
	for i, h := range hooks {
		if err := runOne(h, state); err != nil {
			return fmt.Errorf("%s hook %d (%s): %v", kind, i, h.Path, err)
		}
	}
	return nil
}

func runOne(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args // Args[0] is the hook's argv[0], as with execv
	}
	cmd.Env = h.Env // nil: the runtime's own environment, as runc gives
	cmd.Stdin = bytes.NewReader(state)
	var output limitedBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	// A hook that exits but leaves a child holding its output is done:
	// its output is not waited for past outputGrace.
	cmd.WaitDelay = outputGrace
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	if ctx.Err() == context.DeadlineExceeded && (cmd.ProcessState == nil || !cmd.ProcessState.Exited()) {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if msg := strings.TrimSpace(output.String()); msg != "" && errors.As(err, &exitErr) {
			return fmt.Errorf("%v: %s", err, strings.Join(strings.Fields(msg), " "))
		}
		return err
	}
	return nil
}

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
