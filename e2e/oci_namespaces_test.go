package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// editOCIConfig rewrites the bundle's config.json through change.
func editOCIConfig(t *testing.T, bundle string, change func(cfg map[string]any)) {
	t.Helper()
	path := filepath.Join(bundle, "config.json")
	var cfg map[string]any
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	change(cfg)
	data, _ = json.Marshal(cfg)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// setNamespacePaths gives the config's namespaces of the kinds in paths
// those paths to join.
func setNamespacePaths(cfg map[string]any, paths map[string]string) {
	for _, ns := range cfg["linux"].(map[string]any)["namespaces"].([]any) {
		ns := ns.(map[string]any)
		if p, ok := paths[ns["type"].(string)]; ok {
			ns["path"] = p
		}
	}
}

// TestOCIJoinsNamespacesByPath is a Kubernetes pod in small: a sandbox
// container joins a network namespace made beforehand (as CNI makes
// one), and an app container joins the sandbox's network, IPC, UTS and
// PID namespaces through /proc/PID/ns, keeping its own mount namespace.
func TestOCIJoinsNamespacesByPath(t *testing.T) {
	requireRoot(t)
	need(t, "ip", "iproute2")
	runtime, root := ociRuntime(t), t.TempDir()
	const netns = "stdc-test-join"
	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "delete", netns).Run()
	if out, err := exec.Command("ip", "-n", netns, "link", "add", "stdcjoin0", "type", "veth", "peer", "name", "stdcjoin1").CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v %s", err, out)
	}

	sandbox := ociBundle(t, runtime, "sleep", "1000")
	editOCIConfig(t, sandbox, func(cfg map[string]any) {
		cfg["hostname"] = "pod-host"
		setNamespacePaths(cfg, map[string]string{"network": "/run/netns/" + netns})
	})
	if _, stderr, code := ociRun(t, runtime, root, "create", "--bundle", sandbox, "sandbox"); code != 0 {
		t.Fatalf("create sandbox: exit %d %s", code, stderr)
	}
	defer ociRun(t, runtime, root, "delete", "--force", "sandbox")
	if _, stderr, code := ociRun(t, runtime, root, "start", "sandbox"); code != 0 {
		t.Fatalf("start sandbox: exit %d %s", code, stderr)
	}
	_, pid := ociStatus(t, runtime, root, "sandbox")
	nsOf := func(pid, kind string) string {
		link, err := os.Readlink("/proc/" + pid + "/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return link
	}
	sandboxPid := strconv.Itoa(pid)
	kinds := []string{"net", "ipc", "uts", "pid", "mnt"}
	app := ociBundle(t, runtime, "sh", "-c",
		"hostname; grep -o stdcjoin0 /proc/net/dev; cat /proc/[0-9]*/comm | grep -c '^sleep$'; for k in "+strings.Join(kinds, " ")+"; do readlink /proc/self/ns/$k; done")
	editOCIConfig(t, app, func(cfg map[string]any) {
		delete(cfg, "hostname") // the sandbox's UTS namespace keeps its name
		proc := "/proc/" + sandboxPid + "/ns/"
		setNamespacePaths(cfg, map[string]string{"network": proc + "net", "ipc": proc + "ipc", "uts": proc + "uts", "pid": proc + "pid"})
	})
	out, stderr, code := ociRun(t, runtime, root, "run", "--bundle", app, "app")
	ociRun(t, runtime, root, "delete", "--force", "app")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3+len(kinds) {
		t.Fatalf("app: exit %d, %q %s; want hostname, link, sleep count and %d namespaces", code, out, stderr, len(kinds))
	}
	if lines[0] != "pod-host" || lines[1] != "stdcjoin0" || lines[2] != "1" {
		t.Errorf("app sees hostname %q, link %q, %s sleep processes; want the sandbox's pod-host, stdcjoin0 and 1", lines[0], lines[1], lines[2])
	}
	for i, kind := range kinds {
		got, sandboxNS := lines[3+i], nsOf(sandboxPid, kind)
		if kind == "mnt" && got == sandboxNS {
			t.Errorf("the app shares the sandbox's mount namespace %s; want its own", got)
		} else if kind != "mnt" && got != sandboxNS {
			t.Errorf("the app's %s namespace is %s, the sandbox's %s", kind, got, sandboxNS)
		}
	}

	// What cannot be joined is refused, naming the field; a missing path
	// is refused naming the path.
	for _, c := range []struct {
		paths map[string]string
		msg   string
	}{
		{map[string]string{"mount": "/proc/" + sandboxPid + "/ns/mnt"}, "linux.namespaces[4].path: joining a mount namespace is not supported"},
		{map[string]string{"network": "/run/netns/stdc-test-missing"}, "/run/netns/stdc-test-missing: no such file or directory"},
		{map[string]string{"ipc": "/proc/" + sandboxPid + "/ns/net"}, "wrong kind of namespace (want ipc)"},
	} {
		refused := ociBundle(t, runtime, "true")
		editOCIConfig(t, refused, func(cfg map[string]any) { setNamespacePaths(cfg, c.paths) })
		if _, stderr, code := ociRun(t, runtime, root, "run", "--bundle", refused, "refused"); code == 0 || !strings.Contains(stderr, c.msg) {
			t.Errorf("run joining %v: exit %d %q, want a refusal with %q", c.paths, code, stderr, c.msg)
		}
		ociRun(t, runtime, root, "delete", "--force", "refused")
	}
	ociRun(t, runtime, root, "kill", "sandbox", "KILL")
	ociRun(t, runtime, root, "delete", "--force", "sandbox")
	assertNoState(t, root)
	assertNoCgroups(t)
	if out, err := exec.Command("ip", "-n", netns, "link", "show", "stdcjoin0").CombinedOutput(); err != nil {
		t.Errorf("the joined network namespace lost its link: %v %s", err, out)
	}
}

// TestOCIEveryConfigField runs one config that sets each config.json
// field the OCI front reads and checks, from inside the container and
// from the host, that each took effect.
func TestOCIEveryConfigField(t *testing.T) {
	requireRoot(t)
	runtime, root := ociRuntime(t), t.TempDir()
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "file"), []byte("bound"), 0o644)
	script := strings.Join([]string{
		"echo env=$FOO", "pwd", "id -u", "id -g", "id -G", "hostname",
		"grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t'",
		"touch /new 2>/dev/null || echo root-ro",
		"cat /data/file; echo", "touch /data/x 2>/dev/null || echo bind-ro",
		"grep ' /scratch ' /proc/mounts | grep -o 'size=[0-9]*k'",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
		"cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
		"cat /proc/sys/kernel/msgmax",
		"test -s /proc/cmdline || echo cmdline-masked",
		"(echo 1 > /proc/sys/kernel/msgmax) 2>/dev/null || echo sys-ro",
		"mkdir /scratch/d 2>/dev/null || echo mkdir-refused",
		"ulimit -n",
		"exec sleep 1000",
	}, "; ")
	bundle := ociBundle(t, runtime, "sh", "-c", script)
	editOCIConfig(t, bundle, func(cfg map[string]any) {
		p := cfg["process"].(map[string]any)
		p["env"] = []string{"PATH=/bin", "FOO=bar"}
		p["cwd"] = "/scratch"
		p["user"] = map[string]any{"uid": 1000, "gid": 1001, "additionalGids": []int{1002}}
		p["capabilities"] = map[string]any{"bounding": []string{"CAP_KILL"}, "effective": []string{"CAP_KILL"},
			"permitted": []string{"CAP_KILL"}, "inheritable": []string{"CAP_KILL"}, "ambient": []string{"CAP_KILL"}}
		p["noNewPrivileges"] = true
		p["rlimits"] = []any{map[string]any{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}}
		cfg["root"].(map[string]any)["readonly"] = true
		cfg["hostname"] = "every-field"
		cfg["mounts"] = append(cfg["mounts"].([]any),
			map[string]any{"destination": "/data", "type": "bind", "source": data, "options": []string{"rbind", "ro"}},
			map[string]any{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": []string{"size=1m", "mode=1777"}})
		l := cfg["linux"].(map[string]any)
		l["resources"] = map[string]any{"memory": map[string]any{"limit": 64 << 20}, "pids": map[string]any{"limit": 50},
			"devices": []any{map[string]any{"allow": false, "access": "rwm"}}}
		l["cgroupsPath"] = "/stdc-test-oci/every-field"
		l["sysctl"] = map[string]any{"kernel.msgmax": "4321"}
		l["maskedPaths"] = []string{"/proc/cmdline"}
		l["readonlyPaths"] = []string{"/proc/sys"}
		l["rootfsPropagation"] = "rslave"
		l["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_ALLOW", "architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls": []any{map[string]any{"names": []string{"mkdir", "mkdirat"}, "action": "SCMP_ACT_ERRNO"}}}
	})
	defer removeEmptyCgroups("stdc-test-oci")
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(runtime, "--root", root, "run", "--detach", "--bundle", bundle, "every")
	outFile, _ := os.Create(out)
	cmd.Stdout, cmd.Stderr = outFile, outFile
	err := cmd.Run()
	outFile.Close()
	defer ociRun(t, runtime, root, "delete", "--force", "every")
	if err != nil {
		got, _ := os.ReadFile(out)
		t.Fatalf("run --detach: %v %s", err, got)
	}
	_, pid := ociStatus(t, runtime, root, "every")
	cgroup, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if !strings.Contains(string(cgroup), "/stdc-test-oci/stdcontainer-") {
		t.Errorf("linux.cgroupsPath: the container's cgroups are\n%s\nwant them under /stdc-test-oci", cgroup)
	}
	want := []string{"env=bar", "/scratch", "1000", "1001", "1001 1002", "every-field",
		"CapEff:0000000000000020", "NoNewPrivs:1", "Seccomp:2", "root-ro", "bound", "bind-ro", "size=1024k",
		"67108864", "50", "4321", "cmdline-masked", "sys-ro", "mkdir-refused", "100"}
	var got []string
	for i := 0; i < 100; i++ {
		data, _ := os.ReadFile(out)
		if got = strings.Split(strings.TrimSpace(string(data)), "\n"); len(got) >= len(want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("inside the container:\n got %q\nwant %q", got, want)
	}
	ociRun(t, runtime, root, "kill", "every", "KILL")

	// A user namespace with linux.uidMappings and gidMappings: root inside
	// is uid 200000 outside, and the image's files are root's inside.
	userns := ociBundle(t, runtime, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; ls -ln /bin/busybox")
	editOCIConfig(t, userns, func(cfg map[string]any) {
		l := cfg["linux"].(map[string]any)
		l["namespaces"] = append(l["namespaces"].([]any), map[string]any{"type": "user"})
		mapping := []any{map[string]any{"containerID": 0, "hostID": 200000, "size": 65536}}
		l["uidMappings"], l["gidMappings"] = mapping, mapping
	})
	stdout, stderr, code := ociRun(t, runtime, root, "run", "--bundle", userns, "userns")
	ociRun(t, runtime, root, "delete", "--force", "userns")
	fields := strings.Fields(stdout)
	if code != 0 || len(fields) < 10 || strings.Join(fields[:6], " ") != "0 200000 65536 0 200000 65536" || fields[8] != "0" || fields[9] != "0" {
		t.Errorf("linux.uidMappings/gidMappings: exit %d, %q %s; want 0 200000 65536 twice and busybox owned by 0:0", code, stdout, stderr)
	}
}
