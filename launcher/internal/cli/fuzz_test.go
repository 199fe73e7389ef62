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
		{"--version"},
		{"--", "ps"},
		{"-d", "ps"},
		{"run", "-\xff"},
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
		if (got.Command == "run") != (got.Run != nil) {
			t.Fatalf("Parse(%q): command %s with Run %v", args, got.Command, got.Run)
		}
		if _, err := ParseSignal(got.Signal); got.Command == "kill" && err != nil {
			t.Fatalf("Parse(%q): kill signal %q: %v", args, got.Signal, err)
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
	})
}
