package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestStateDocument(t *testing.T) {
	var got specs.State
	if err := json.Unmarshal(State("ctr", "creating", 42, "/b", map[string]string{"a": "b"}), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != specs.Version || got.ID != "ctr" || got.Status != "creating" || got.Pid != 42 || got.Bundle != "/b" || got.Annotations["a"] != "b" {
		t.Errorf("state %+v", got)
	}
}

func TestRunGivesStateArgsAndEnv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	hook := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "$0 $X $(cat)" > ` + out, "argv0"}, Env: []string{"X=y"}}
	if err := Run("prestart", []specs.Hook{hook}, []byte(`{"id":"c"}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "argv0 y {\"id\":\"c\"}\n" {
		t.Errorf("the hook wrote %q", got)
	}
}

func TestRunStopsAtTheFirstFailure(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	list := []specs.Hook{
		{Path: "/bin/true"},
		{Path: "/bin/sh", Args: []string{"sh", "-c", "echo 'out of\n  luck' >&2; exit 2"}},
		{Path: "/bin/touch", Args: []string{"touch", marker}},
	}
	err := Run("createRuntime", list, nil)
	if err == nil || err.Error() != "createRuntime hook 1 (/bin/sh): exit status 2: out of luck" {
		t.Errorf("error %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the hook after the failed one ran")
	}
}

func TestRunTimesOut(t *testing.T) {
	one := 1
	err := Run("poststop", []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "20"}, Timeout: &one}}, nil)
	if err == nil || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Errorf("error %v", err)
	}
}

func TestRunMissingProgram(t *testing.T) {
	if err := Run("poststart", []specs.Hook{{Path: "/nonexistent/hook"}}, nil); err == nil || !strings.Contains(err.Error(), "poststart hook 0 (/nonexistent/hook)") {
		t.Errorf("error %v", err)
	}
}

// A hook that exits 0 but leaves a child holding its output succeeds at
// once; it did not time out.
func TestRunDoesNotWaitForAHooksChildren(t *testing.T) {
	five := 5
	start := time.Now()
	err := Run("prestart", []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 20 & exit 0"}, Timeout: &five}}, nil)
	if err != nil {
		t.Errorf("error %v after %v", err, time.Since(start).Round(time.Millisecond))
	}
}
