package cli

import (
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds Parse argument lists joined by NUL bytes (which no real
// argument can contain).
func FuzzParse(f *testing.F) {
	for _, args := range [][]string{
		{},
		{"./out/rootfs"},
		{"run", "-e", "A=1", "./r", "sh", "-c", "x", "-e"},
		{"-it", "./r", "sh"},
		{"run", "-dit", "--rm", "--name", "web", "--hostname", "h", "-w", "/srv", "-u", "1:2", "./r"},
		{"run", "-te", "K=V", "-v", "/a:/b:ro", "--tmpfs", "/t:64m", "--stop-signal", "RTMIN+3", "./r"},
		{"run", "-v", "/a:/b", "-v", "/c:/b/", "./r"},
		{"run", "--tmpfs=/x:20x", "./r"},
		{"--root", "/s", "--log-format=json", "--debug", "ps", "-aq", "--format", "json"},
		{"stop", "-t", "5", "a", "b"},
		{"kill", "-s", "SIGHUP", "a"},
		{"rm", "-f", "--", "-a"},
		{"inspect", "a"},
		{"check", "./r"},
		{"help", "run"},
		{"run", "--cap-add", "net_admin,SYS_TIME", "--cap-drop=ALL", "--privileged", "./r"},
		{"run", "--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=/p.json", "--security-opt", "label=level:s0:c1,c2", "./r"},
		{"run", "--device", "/dev/fuse", "--device", "/dev/sda:/dev/xvda:r", "--userns", "0:100000:65536,65536:300000:10", "./r"},
		{"exec", "-it", "-u", "1:2", "-w", "/x", "web", "sh", "-c", "x"},
		{"--version"},
		{"--", "ps"},
		{"-d", "ps"},
		{"run", "-\xff"},
		{"run", "-m", "1g", "--memory-swap", "2g", "--memory-reservation", "512MiB", "--cpus", "1.5", "--cpu-shares", "512", "./r"},
		{"-m512m", "--memory-swap=-1", "--pids-limit", "-1", "--blkio-weight", "500", "./r", "sh"},
		{"run", "--memory-swap", "10m", "-m", "20m", "./r"},
		{"run", "--memory-swap", "1g", "./r"},
		{"run", "--memory-reservation", "30m", "-m", "20m", "./r"},
		{"run", "--cpus", "0.009995", "--cpuset-cpus", "0-3,8", "--cpuset-mems", "0,1", "./r"},
		{"run", "--cpus=1024.000005", "./r"},
		{"run", "--cpuset-cpus", "3-1", "./r"},
		{"run", "--device-read-bps", "/dev/sda:1mb", "--device-write-bps=/dev/sdb:10MiB", "--device-read-bps", "/dev//sda:2m", "./r"},
		{"run", "--device-read-iops", "/dev/disk/by-path/pci-0000:00:1f.2-ata-1:200", "--device-write-iops", "/dev/sda:0", "./r"},
		{"run", "--cgroup-parent", "/machine.slice", "./r"},
		{"run", "--cgroup-parent", "a/../b", "./r"},
		{"stats", "--no-stream", "a", "--format", "json", "b"},
		{"stats"},
	} {
		f.Add(strings.Join(args, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		if joined != "" {
			args = strings.Split(joined, "\x00")
		}
		orig := slices.Clone(args)
		got, err := Parse(args)
		if !slices.Equal(args, orig) {
			t.Fatalf("Parse changed its arguments: %q", args)
		}
		if err != nil {
			msg := err.Error()
			if got != nil {
				t.Fatalf("Parse(%q) returned an Invocation with error %q", args, msg)
			}
			if msg == "" || strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
				t.Fatalf("Parse(%q): error not one line of text: %q", args, msg)
			}
			return
		}
		again, err := Parse(args)
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("Parse(%q) is not deterministic", args)
		}
		if got.Help {
			if Usage(got.Command) == "" {
				t.Fatalf("Parse(%q): help for unknown command %q", args, got.Command)
			}
			return
		}
		if !slices.Contains(commands, got.Command) || got.Command == "help" {
			t.Fatalf("Parse(%q): command %q", args, got.Command)
		}
		if (got.Command == "run" || got.Command == "exec") != (got.Run != nil) {
			t.Fatalf("Parse(%q): command %s with Run %v", args, got.Command, got.Run)
		}
		if got.Command == "exec" {
			if len(got.Refs) != 1 || len(got.Run.Cmd) == 0 {
				t.Fatalf("Parse(%q): exec of %v with CMD %q", args, got.Refs, got.Run.Cmd)
			}
			return
		}
		if _, err := ParseSignal(got.Signal); got.Command == "kill" && err != nil {
			t.Fatalf("Parse(%q): kill signal %q: %v", args, got.Signal, err)
		}
		if got.Format != "" && got.Format != "table" && got.Format != "json" {
			t.Fatalf("Parse(%q): format %q", args, got.Format)
		}
		if got.Time < 0 || got.Global.Root == "" || (got.Global.LogFormat != "text" && got.Global.LogFormat != "json") {
			t.Fatalf("Parse(%q): bad values %+v", args, got)
		}
		for _, ref := range got.Refs {
			if ref == "" {
				t.Fatalf("Parse(%q): empty ref", args)
			}
		}
		r := got.Run
		if r == nil {
			return
		}
		if r.Rootfs == "" {
			t.Fatalf("Parse(%q): run without ROOTFS", args)
		}
		targets := map[string]bool{}
		for _, v := range r.Volumes {
			if !path.IsAbs(v.Source) || !path.IsAbs(v.Target) || v.Target == "/" || path.Clean(v.Target) != v.Target || targets[v.Target] {
				t.Fatalf("Parse(%q): volume %+v", args, v)
			}
			targets[v.Target] = true
		}
		for _, m := range r.Tmpfs {
			if !path.IsAbs(m.Target) || m.Target == "/" || path.Clean(m.Target) != m.Target || targets[m.Target] || m.Size < 0 {
				t.Fatalf("Parse(%q): tmpfs %+v", args, m)
			}
			targets[m.Target] = true
		}
		for _, d := range r.Security.Devices {
			if !path.IsAbs(d.Host) || !strings.HasPrefix(d.Container, "/dev/") || d.Access == "" || strings.Trim(d.Access, "rwm") != "" {
				t.Fatalf("Parse(%q): device %+v", args, d)
			}
		}
		for _, c := range append(slices.Clone(r.Security.CapAdd), r.Security.CapDrop...) {
			if !strings.HasPrefix(c, "CAP_") && c != "ALL" {
				t.Fatalf("Parse(%q): capability %q", args, c)
			}
		}
		for _, kv := range r.Env {
			if k, _, _ := strings.Cut(kv, "="); k == "" {
				t.Fatalf("Parse(%q): env %q", args, kv)
			}
		}
		if r.Workdir != "" && !path.IsAbs(r.Workdir) {
			t.Fatalf("Parse(%q): workdir %q", args, r.Workdir)
		}
		if _, err := ParseSignal(r.StopSignal); r.StopSignal != "" && err != nil {
			t.Fatalf("Parse(%q): stop signal %q: %v", args, r.StopSignal, err)
		}
		checkResources(t, args, &r.Resources)
	})
}

// checkResources checks the invariants the Resources doc promises.
func checkResources(t *testing.T, args []string, res *Resources) {
	t.Helper()
	bad := func(what string) { t.Fatalf("Parse(%q): %s in %+v", args, what, *res) }
	if res.Memory != 0 && res.Memory < minMemory {
		bad("memory")
	}
	if res.MemorySwap != 0 && res.MemorySwap != -1 && (res.Memory == 0 || res.MemorySwap < res.Memory) {
		bad("memory-swap")
	}
	if res.MemoryReservation != 0 && (res.MemoryReservation < minMemory || res.Memory != 0 && res.MemoryReservation > res.Memory) {
		bad("memory-reservation")
	}
	if (res.CPUQuota == 0) != (res.CPUPeriod == 0) || res.CPUQuota != 0 && (res.CPUPeriod != cpuPeriod || res.CPUQuota < minCPUQuota || res.CPUQuota > maxCPUs*cpuPeriod) {
		bad("cpus")
	}
	if res.CPUShares != 0 && (res.CPUShares < minCPUShares || res.CPUShares > maxCPUShares) {
		bad("cpu-shares")
	}
	for _, l := range []string{res.CpusetCpus, res.CpusetMems} {
		if l != "" && checkList(l) != nil {
			bad("cpuset list")
		}
	}
	if res.PidsLimit < -1 {
		bad("pids-limit")
	}
	if res.BlkioWeight != 0 && (res.BlkioWeight < minBlkio || res.BlkioWeight > maxBlkio) {
		bad("blkio-weight")
	}
	for _, list := range [][]Throttle{res.ReadBps, res.WriteBps, res.ReadIOPS, res.WriteIOPS} {
		devs := map[string]bool{}
		for _, th := range list {
			if !path.IsAbs(th.Device) || th.Rate == 0 || devs[path.Clean(th.Device)] {
				bad("throttle")
			}
			devs[path.Clean(th.Device)] = true
		}
	}
	if slices.Contains(strings.Split(res.CgroupParent, "/"), "..") {
		bad("cgroup-parent")
	}
}
