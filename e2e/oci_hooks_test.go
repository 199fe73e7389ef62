package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hookRecord is one line a test hook logs: its kind, the namespaces it
// ran in and the OCI state it read on stdin.
type hookRecord struct {
	Kind, NetNS string
	State       struct {
		OCIVersion  string `json:"ociVersion"`
		ID          string
		Status      string
		Pid         int
		Bundle      string
		Annotations map[string]string
	}
}

// TestOCIHooks: each kind of hook runs once, in order, at its point of
// the lifecycle, in the namespaces runc runs it in, with the state on
// stdin; a failing hook fails create and leaves nothing behind.
func TestOCIHooks(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	logDir := t.TempDir()
	log := filepath.Join(logDir, "hooks.log")
	// A host hook logs "KIND NETNS STATE" (runtime namespace hooks, and
	// createContainer, whose path is the host's).
	hostHook := func(kind string) map[string]any {
		return map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c",
			`printf '%s %s %s\n' ` + kind + ` "$(readlink /proc/self/ns/net)" "$(cat)" >> ` + log},
			"env": []string{"PATH=/usr/bin:/bin"}, "timeout": 10}
	}
	bundle := ociBundle(t, runtime, "sh", "-c", "cat /run/start-state > /hookout/start-state; exec sleep 1000")
	editOCIConfig(t, bundle, func(cfg map[string]any) {
		cfg["annotations"] = map[string]any{"org.example.hook-test": "yes"}
		cfg["mounts"] = append(cfg["mounts"].([]any), map[string]any{"destination": "/hookout", "type": "bind", "source": logDir, "options": []string{"rbind", "rw"}})
		cfg["hooks"] = map[string]any{
			"prestart":        []any{hostHook("prestart")},
			"createRuntime":   []any{hostHook("createRuntime")},
			"createContainer": []any{hostHook("createContainer")},
			// Resolved in the container, as the entry point would be.
			"startContainer": []any{map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "cat > /run/start-state"}}},
			"poststart":      []any{hostHook("poststart")},
			"poststop":       []any{hostHook("poststop")},
		}
	})
	readLog := func() []hookRecord {
		data, _ := os.ReadFile(log)
		var records []hookRecord
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			f := strings.SplitN(line, " ", 3)
			r := hookRecord{Kind: f[0], NetNS: f[1]}
			if len(f) != 3 || json.Unmarshal([]byte(f[2]), &r.State) != nil {
				t.Fatalf("hook log line %q", line)
			}
			records = append(records, r)
		}
		return records
	}
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	// check compares what a hook saw with what it should; the hooks run in
	// the container's namespaces see its PID 1 as 1, as under runc.
	check := func(r hookRecord, kind, status string, pid int, inContainer bool) {
		t.Helper()
		s := r.State
		wantPid := pid
		if inContainer {
			wantPid = 1
		}
		if r.Kind != kind || s.Status != status || s.ID != "hooked" || s.Pid != wantPid || s.Bundle != bundle ||
			s.Annotations["org.example.hook-test"] != "yes" || !strings.HasPrefix(s.OCIVersion, "1.") {
			t.Errorf("%s hook got %+v; want %s, status %s, id hooked, pid %d, bundle %s and the annotation", kind, r, kind, status, wantPid, bundle)
		}
		containerNet, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if inContainer && r.NetNS != containerNet || !inContainer && r.NetNS != hostNet {
			t.Errorf("%s hook ran in network namespace %s; the host's is %s, the container's %s", kind, r.NetNS, hostNet, containerNet)
		}
	}

	if _, stderr, code := ociRun(t, runtime, root, "create", "--bundle", bundle, "hooked"); code != 0 {
		t.Fatalf("create: exit %d %s", code, stderr)
	}
	_, pid := ociStatus(t, runtime, root, "hooked")
	records := readLog()
	if len(records) != 3 {
		t.Fatalf("after create: hooks %+v, want prestart, createRuntime, createContainer", records)
	}
	check(records[0], "prestart", "creating", pid, false)
	check(records[1], "createRuntime", "creating", pid, false)
	check(records[2], "createContainer", "creating", pid, true)

	if _, stderr, code := ociRun(t, runtime, root, "start", "hooked"); code != 0 {
		t.Fatalf("start: exit %d %s", code, stderr)
	}
	if records = readLog(); len(records) != 4 {
		t.Fatalf("after start: hooks %+v, want poststart too", records)
	}
	check(records[3], "poststart", "running", pid, false)
	var startState hookRecord
	for i := 0; i < 100; i++ {
		if data, err := os.ReadFile(filepath.Join(logDir, "start-state")); err == nil && len(data) > 0 {
			json.Unmarshal(data, &startState.State)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	startState.Kind = "startContainer"
	startState.NetNS, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	check(startState, "startContainer", "created", pid, true)

	ociRun(t, runtime, root, "kill", "hooked", "KILL")
	if _, stderr, code := ociRun(t, runtime, root, "delete", "--force", "hooked"); code != 0 {
		t.Fatalf("delete: exit %d %s", code, stderr)
	}
	if records = readLog(); len(records) != 5 {
		t.Fatalf("after delete: hooks %+v, want poststop too", records)
	}
	check(records[4], "poststop", "stopped", pid, false)

	// A failing or hanging hook fails create, naming the hook and what it
	// said, and leaves no container, state or cgroup.
	for _, c := range []struct {
		kind string
		hook map[string]any
		want string
	}{
		{"createRuntime", map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "echo no GPU here >&2; exit 3"}}, "createRuntime hook 0 (/bin/sh): exit status 3: no GPU here"},
		{"prestart", map[string]any{"path": "/bin/sleep", "args": []string{"sleep", "30"}, "timeout": 1}, "prestart hook 0 (/bin/sleep): timed out after 1s"},
		{"createContainer", map[string]any{"path": "/bin/false"}, "createContainer hook 0 (/bin/false): exit status 1"},
		{"startContainer", map[string]any{"path": "/bin/missing-hook"}, "startContainer hook 0 (/bin/missing-hook)"},
	} {
		failing := ociBundle(t, runtime, "true")
		stopped := filepath.Join(t.TempDir(), "poststop-ran")
		editOCIConfig(t, failing, func(cfg map[string]any) {
			cfg["hooks"] = map[string]any{c.kind: []any{c.hook},
				"poststop": []any{map[string]any{"path": "/bin/touch", "args": []string{"touch", stopped}}}}
		})
		_, stderr, code := ociRun(t, runtime, root, "run", "--bundle", failing, "failing")
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("run with a failing %s hook: exit %d %q, want %q", c.kind, code, stderr, c.want)
		}
		// A failed prestart or createRuntime hook stops the container and
		// the lifecycle goes on to poststop (runtime spec).
		if _, err := os.Stat(stopped); (err == nil) != (c.kind == "prestart" || c.kind == "createRuntime") {
			t.Errorf("failing %s hook: poststop ran: %v", c.kind, err == nil)
		}
		if c.kind == "startContainer" {
			ociRun(t, runtime, root, "delete", "--force", "failing") // it was created: runc leaves it stopped too
		}
	}
	// A foreground run without --keep deletes the container when it
	// exits, poststop hooks included.
	ran := filepath.Join(t.TempDir(), "poststop-ran")
	quick := ociBundle(t, runtime, "true")
	editOCIConfig(t, quick, func(cfg map[string]any) {
		cfg["hooks"] = map[string]any{"poststop": []any{map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "cat > " + ran}}}}
	})
	if _, stderr, code := ociRun(t, runtime, root, "run", "--bundle", quick, "quick"); code != 0 {
		t.Errorf("run: exit %d %s", code, stderr)
	}
	if data, err := os.ReadFile(ran); err != nil || !strings.Contains(string(data), `"status":"stopped"`) {
		t.Errorf("poststop after a foreground run: %q, %v; want the stopped state", data, err)
	}
	assertNoState(t, root)
	assertNoCgroups(t)
}
