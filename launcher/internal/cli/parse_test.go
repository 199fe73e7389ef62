package cli

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// inv returns the Invocation Parse makes with no flags, changed by mod.
func inv(command string, mod func(*Invocation)) *Invocation {
	i := &Invocation{Global: Global{Root: DefaultRoot, LogFormat: "text"}, Command: command}
	switch command {
	case "ps", "stats":
		i.Format = "table"
	case "stop":
		i.Time = 10
	case "kill":
		i.Signal = "KILL"
	}
	if mod != nil {
		mod(i)
	}
	return i
}

// run returns a run Invocation of rootfs, changed by mod.
func run(rootfs string, mod func(*Run)) *Invocation {
	return inv("run", func(i *Invocation) {
		i.Run = &Run{Rootfs: rootfs}
		if mod != nil {
			mod(i.Run)
		}
	})
}

func help(command string) *Invocation {
	return inv(command, func(i *Invocation) { i.Help = true })
}

func TestParse(t *testing.T) {
	tests := []struct {
		args []string
		want *Invocation
	}{
		// The command, or an implicit run.
		{nil, help("")},
		{[]string{"./out/rootfs"}, run("./out/rootfs", nil)},
		{[]string{"bogus"}, run("bogus", nil)},
		{[]string{"run", "./r"}, run("./r", nil)},
		{[]string{"./r", "sh", "-c", "echo hi"}, run("./r", func(r *Run) { r.Cmd = []string{"sh", "-c", "echo hi"} })},
		{[]string{"--", "ps"}, run("ps", nil)},
		{[]string{"--", "-weird", "x"}, run("-weird", func(r *Run) { r.Cmd = []string{"x"} })},
		{[]string{"./ps"}, run("./ps", nil)},
		{[]string{"-"}, run("-", nil)},
		{[]string{"run", "--", "-r", "-x"}, run("-r", func(r *Run) { r.Cmd = []string{"-x"} })},
		{[]string{"run", "./r", "--", "x"}, run("./r", func(r *Run) { r.Cmd = []string{"--", "x"} })},
		{[]string{"run", "./r", "ps"}, run("./r", func(r *Run) { r.Cmd = []string{"ps"} })},

		// Global flags.
		{[]string{"--root", "/tmp/s", "ps"}, inv("ps", func(i *Invocation) { i.Global.Root = "/tmp/s" })},
		{[]string{"--root=state", "ps"}, inv("ps", func(i *Invocation) { i.Global.Root = "state" })},
		{[]string{"--log-format", "json", "--debug", "gc"}, inv("gc", func(i *Invocation) {
			i.Global.LogFormat = "json"
			i.Global.Debug = true
		})},
		{[]string{"--log-format=text", "--debug=false", "./r"}, run("./r", nil)},
		{[]string{"--debug"}, inv("", func(i *Invocation) { i.Help = true; i.Global.Debug = true })},
		{[]string{"--version"}, inv("version", nil)},
		{[]string{"--version", "ps", "--frob"}, inv("version", nil)},
		{[]string{"version"}, inv("version", nil)},
		{[]string{"-h"}, help("")},
		{[]string{"--help"}, help("")},
		{[]string{"--help", "--frob"}, help("")},
		{[]string{"--help=false", "gc"}, inv("gc", nil)},

		// Help.
		{[]string{"help"}, help("")},
		{[]string{"help", "run"}, help("run")},
		{[]string{"help", "help"}, help("help")},
		{[]string{"help", "-h"}, help("help")},
		{[]string{"run", "-h"}, help("run")},
		{[]string{"run", "-e", "A=1", "--help", "--frob"}, help("run")},
		{[]string{"run", "-dh"}, help("run")},
		{[]string{"-d", "-h"}, help("run")},
		{[]string{"ps", "--help"}, help("ps")},
		{[]string{"stop", "-h"}, help("stop")},
		{[]string{"check", "--help"}, help("check")},
		{[]string{"stats", "-h"}, help("stats")},
		{[]string{"help", "stats"}, inv("stats", func(i *Invocation) { i.Help, i.Format = true, "" })}, // no stats flag defaults
		{[]string{"./r", "-h"}, run("./r", func(r *Run) { r.Cmd = []string{"-h"} })},

		// Run flags, every spelling.
		{[]string{"run", "-e", "K=V", "./r"}, run("./r", func(r *Run) { r.Env = []string{"K=V"} })},
		{[]string{"run", "-eK=V", "./r"}, run("./r", func(r *Run) { r.Env = []string{"K=V"} })},
		{[]string{"run", "-e=K=V", "./r"}, run("./r", func(r *Run) { r.Env = []string{"K=V"} })},
		{[]string{"run", "--env", "K=V", "./r"}, run("./r", func(r *Run) { r.Env = []string{"K=V"} })},
		{[]string{"run", "--env=K=V", "./r"}, run("./r", func(r *Run) { r.Env = []string{"K=V"} })},
		{[]string{"run", "-e", "K", "-e", "K2=", "-e", "A=b=c", "./r"}, run("./r", func(r *Run) { r.Env = []string{"K", "K2=", "A=b=c"} })},
		{[]string{"run", "--env-file", "a.env", "--env-file=b.env", "./r"}, run("./r", func(r *Run) { r.EnvFiles = []string{"a.env", "b.env"} })},
		{[]string{"run", "--name", "web-1", "--hostname", "h.example", "./r"}, run("./r", func(r *Run) { r.Name = "web-1"; r.Hostname = "h.example" })},
		{[]string{"run", "--name", "a", "--name=b.c_d", "./r"}, run("./r", func(r *Run) { r.Name = "b.c_d" })},
		{[]string{"run", "-w", "/srv", "./r"}, run("./r", func(r *Run) { r.Workdir = "/srv" })},
		{[]string{"run", "--workdir=/", "./r"}, run("./r", func(r *Run) { r.Workdir = "/" })},
		{[]string{"run", "-u", "1000", "./r"}, run("./r", func(r *Run) { r.User = "1000" })},
		{[]string{"run", "-u1000:100", "./r"}, run("./r", func(r *Run) { r.User = "1000:100" })},
		{[]string{"run", "--user", "nobody:nogroup", "./r"}, run("./r", func(r *Run) { r.User = "nobody:nogroup" })},
		{[]string{"run", "-d", "--rm", "-t", "-i", "--init", "--read-only", "./r"}, run("./r", func(r *Run) {
			r.Detach, r.Remove, r.TTY, r.Interactive, r.Init, r.ReadOnly = true, true, true, true, true, true
		})},
		{[]string{"run", "--detach", "--tty", "--interactive", "./r"}, run("./r", func(r *Run) { r.Detach, r.TTY, r.Interactive = true, true, true })},
		{[]string{"run", "-it", "./r"}, run("./r", func(r *Run) { r.TTY, r.Interactive = true, true })},
		{[]string{"run", "-dit", "./r"}, run("./r", func(r *Run) { r.Detach, r.TTY, r.Interactive = true, true, true })},
		{[]string{"run", "-te", "K=V", "./r"}, run("./r", func(r *Run) { r.TTY = true; r.Env = []string{"K=V"} })},
		{[]string{"run", "-teK=V", "./r"}, run("./r", func(r *Run) { r.TTY = true; r.Env = []string{"K=V"} })},
		{[]string{"run", "-ite=K=V", "./r"}, run("./r", func(r *Run) { r.TTY, r.Interactive = true, true; r.Env = []string{"K=V"} })},
		{[]string{"run", "-dv/a:/b", "./r"}, run("./r", func(r *Run) { r.Detach = true; r.Volumes = []Volume{{"/a", "/b", false}} })},
		{[]string{"run", "-d=false", "-t=true", "./r"}, run("./r", func(r *Run) { r.TTY = true })},
		{[]string{"run", "-dt=false", "./r"}, run("./r", func(r *Run) { r.Detach = true })},
		{[]string{"run", "--rm=true", "--rm=false", "--init=1", "./r"}, run("./r", func(r *Run) { r.Init = true })},
		{[]string{"run", "-v", "/a:/b", "--volume=/c:/d:ro", "-v", "/e/:/f/../g/:rw", "./r"}, run("./r", func(r *Run) {
			r.Volumes = []Volume{{"/a", "/b", false}, {"/c", "/d", true}, {"/e/", "/g", false}}
		})},
		{[]string{"run", "--tmpfs", "/tmp", "--tmpfs=/run:64m", "--tmpfs", "/x:512K", "--tmpfs", "/y:1gb", "--tmpfs", "/z:4096", "./r"}, run("./r", func(r *Run) {
			r.Tmpfs = []Tmpfs{{"/tmp", 0}, {"/run", 64 << 20}, {"/x", 512 << 10}, {"/y", 1 << 30}, {"/z", 4096}}
		})},
		{[]string{"run", "--stop-signal", "SIGRTMIN+3", "./r"}, run("./r", func(r *Run) { r.StopSignal = "SIGRTMIN+3" })},
		{[]string{"run", "--stop-signal=term", "./r"}, run("./r", func(r *Run) { r.StopSignal = "term" })},

		// CMD after ROOTFS keeps its own flags.
		{[]string{"run", "-e", "A=1", "./r", "sh", "-c", "x", "-e"}, run("./r", func(r *Run) {
			r.Env = []string{"A=1"}
			r.Cmd = []string{"sh", "-c", "x", "-e"}
		})},
		{[]string{"./r", "--rm", "-it"}, run("./r", func(r *Run) { r.Cmd = []string{"--rm", "-it"} })},

		// Run flags before an implicit ROOTFS; mixed with global flags.
		{[]string{"-it", "./r", "sh"}, run("./r", func(r *Run) { r.TTY, r.Interactive = true, true; r.Cmd = []string{"sh"} })},
		{[]string{"--debug", "-e", "A=1", "--root", "/s", "--rm", "./r"}, func() *Invocation {
			i := run("./r", func(r *Run) { r.Env = []string{"A=1"}; r.Remove = true })
			i.Global.Root, i.Global.Debug = "/s", true
			return i
		}()},
		{[]string{"-d", "run", "-i", "./r"}, run("./r", func(r *Run) { r.Detach, r.Interactive = true, true })},
		{[]string{"-d", "--", "ps"}, run("ps", func(r *Run) { r.Detach = true })},

		// ps.
		{[]string{"ps"}, inv("ps", nil)},
		{[]string{"ps", "-a", "-q", "--format", "json"}, inv("ps", func(i *Invocation) { i.All, i.Quiet, i.Format = true, true, "json" })},
		{[]string{"ps", "-aq", "--format=table"}, inv("ps", func(i *Invocation) { i.All, i.Quiet = true, true })},
		{[]string{"ps", "--all", "--quiet"}, inv("ps", func(i *Invocation) { i.All, i.Quiet = true, true })},

		// inspect, stop, kill, rm: flags may come between the references.
		{[]string{"inspect", "web", "0123abcd"}, inv("inspect", func(i *Invocation) { i.Refs = []string{"web", "0123abcd"} })},
		{[]string{"stats", "web"}, inv("stats", func(i *Invocation) { i.Refs = []string{"web"} })},
		{[]string{"stats", "--no-stream", "web", "--format", "json", "db"}, inv("stats", func(i *Invocation) {
			i.NoStream, i.Format, i.Refs = true, "json", []string{"web", "db"}
		})},
		{[]string{"stats", "web", "--no-stream=true", "--no-stream=false", "--format=table"}, inv("stats", func(i *Invocation) { i.Refs = []string{"web"} })},
		{[]string{"stats", "--", "--no-stream"}, inv("stats", func(i *Invocation) { i.Refs = []string{"--no-stream"} })},
		{[]string{"stop", "web"}, inv("stop", func(i *Invocation) { i.Refs = []string{"web"} })},
		{[]string{"stop", "-t", "0", "web"}, inv("stop", func(i *Invocation) { i.Time = 0; i.Refs = []string{"web"} })},
		{[]string{"stop", "web", "--time=30", "db"}, inv("stop", func(i *Invocation) { i.Time = 30; i.Refs = []string{"web", "db"} })},
		{[]string{"stop", "-t5", "web"}, inv("stop", func(i *Invocation) { i.Time = 5; i.Refs = []string{"web"} })},
		{[]string{"kill", "web"}, inv("kill", func(i *Invocation) { i.Refs = []string{"web"} })},
		{[]string{"kill", "-s", "HUP", "web"}, inv("kill", func(i *Invocation) { i.Signal = "HUP"; i.Refs = []string{"web"} })},
		{[]string{"kill", "--signal=9", "web"}, inv("kill", func(i *Invocation) { i.Signal = "9"; i.Refs = []string{"web"} })},
		{[]string{"kill", "-ssigusr1", "web"}, inv("kill", func(i *Invocation) { i.Signal = "sigusr1"; i.Refs = []string{"web"} })},
		{[]string{"rm", "web"}, inv("rm", func(i *Invocation) { i.Refs = []string{"web"} })},
		{[]string{"rm", "-f", "web", "db"}, inv("rm", func(i *Invocation) { i.Force = true; i.Refs = []string{"web", "db"} })},
		{[]string{"rm", "web", "--force"}, inv("rm", func(i *Invocation) { i.Force = true; i.Refs = []string{"web"} })},
		{[]string{"rm", "--", "-f"}, inv("rm", func(i *Invocation) { i.Refs = []string{"-f"} })},

		// gc, check.
		{[]string{"gc"}, inv("gc", nil)},
		{[]string{"check", "./out/rootfs"}, inv("check", func(i *Invocation) { i.Refs = []string{"./out/rootfs"} })},
		{[]string{"check", "--", "-r"}, inv("check", func(i *Invocation) { i.Refs = []string{"-r"} })},
	}
	for _, tt := range tests {
		got, err := Parse(tt.args)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", tt.args, dump(got), dump(tt.want))
		}
	}
}

func sprint(v any) string { return fmt.Sprintf("%+v", v) }

func dump(i *Invocation) string {
	s := strings.TrimPrefix(strings.ReplaceAll(sprint(i), "\n", " "), "&")
	if i != nil && i.Run != nil {
		s += " Run=" + sprint(*i.Run)
	}
	return s
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		// Unknown flags and commands, misplaced flags.
		{[]string{"run", "--frob", "./r"}, "unknown flag --frob for run (see launcher run --help)"},
		{[]string{"run", "--frob=1", "./r"}, "unknown flag --frob for run (see launcher run --help)"},
		{[]string{"run", "-dz", "./r"}, "unknown flag -z for run (see launcher run --help)"},
		{[]string{"run", "-é", "./r"}, "unknown flag -é for run (see launcher run --help)"},
		{[]string{"run", "-\xff", "./r"}, `unknown flag "-\xff" for run (see launcher run --help)`},
		{[]string{"run", "--=x", "./r"}, "unknown flag --=x for run (see launcher run --help)"},
		{[]string{"run", "---", "./r"}, "unknown flag --- for run (see launcher run --help)"},
		{[]string{"--frob"}, "unknown flag --frob (see launcher --help)"},
		{[]string{"-a", "ps"}, "unknown flag -a (see launcher --help)"},
		{[]string{"ps", "--frob"}, "unknown flag --frob for ps (see launcher ps --help)"},
		{[]string{"ps", "-e", "A=1"}, "unknown flag -e for ps (see launcher ps --help)"},
		{[]string{"ps", "--debug"}, "unknown flag --debug for ps (global flags go before the command; see launcher --help)"},
		{[]string{"run", "--root=/x", "./r"}, "unknown flag --root for run (global flags go before the command; see launcher --help)"},
		{[]string{"inspect", "-f", "x"}, "unknown flag -f for inspect (see launcher inspect --help)"},
		{[]string{"stop", "-s", "TERM", "x"}, "unknown flag -s for stop (see launcher stop --help)"},
		{[]string{"-d", "ps"}, "flag -d before ps is not a global flag (see launcher --help)"},
		{[]string{"--env=A=1", "stop", "x"}, "flag --env before stop is not a global flag (see launcher --help)"},
		{[]string{"help", "frob"}, "unknown command frob (see launcher --help)"},
		{[]string{"help", "run", "ps"}, "unexpected argument ps for help (see launcher help --help)"},
		{[]string{"ps", "x"}, "unexpected argument x for ps (see launcher ps --help)"},
		{[]string{"gc", "x y"}, `unexpected argument "x y" for gc (see launcher gc --help)`},
		{[]string{"version", "1"}, "unexpected argument 1 for version (see launcher version --help)"},
		{[]string{"check", "a", "b"}, "unexpected argument b for check (see launcher check --help)"},

		// Missing operands.
		{[]string{"run"}, "missing ROOTFS (see launcher run --help)"},
		{[]string{"run", "-it"}, "missing ROOTFS (see launcher run --help)"},
		{[]string{"run", "--"}, "missing ROOTFS (see launcher run --help)"},
		{[]string{"-it"}, "missing ROOTFS (see launcher run --help)"},
		{[]string{"--"}, "missing ROOTFS (see launcher run --help)"},
		{[]string{""}, "empty ROOTFS (see launcher run --help)"},
		{[]string{"run", "", "sh"}, "empty ROOTFS (see launcher run --help)"},
		{[]string{"check"}, "missing ROOTFS (see launcher check --help)"},
		{[]string{"check", ""}, "empty ROOTFS (see launcher check --help)"},
		{[]string{"inspect"}, "inspect needs at least one ID or NAME (see launcher inspect --help)"},
		{[]string{"stats"}, "stats needs at least one ID or NAME (see launcher stats --help)"},
		{[]string{"stats", "--no-stream"}, "stats needs at least one ID or NAME (see launcher stats --help)"},
		{[]string{"stats", ""}, "stats: empty ID or NAME"},
		{[]string{"stop", "-t", "3"}, "stop needs at least one ID or NAME (see launcher stop --help)"},
		{[]string{"kill"}, "kill needs at least one ID or NAME (see launcher kill --help)"},
		{[]string{"rm", "-f"}, "rm needs at least one ID or NAME (see launcher rm --help)"},
		{[]string{"rm", "a", ""}, "rm: empty ID or NAME"},

		// Missing values.
		{[]string{"run", "-e"}, "--env needs a value (see launcher run --help)"},
		{[]string{"run", "-ite"}, "--env needs a value (see launcher run --help)"},
		{[]string{"run", "--volume"}, "--volume needs a value (see launcher run --help)"},
		{[]string{"-v"}, "--volume needs a value (see launcher run --help)"},
		{[]string{"--root"}, "--root needs a value (see launcher --help)"},
		{[]string{"stop", "x", "-t"}, "--time needs a value (see launcher stop --help)"},
		{[]string{"kill", "-s"}, "--signal needs a value (see launcher kill --help)"},
		{[]string{"ps", "--format"}, "--format needs a value (see launcher ps --help)"},
		{[]string{"stats", "x", "--format"}, "--format needs a value (see launcher stats --help)"},

		// Bad values: global.
		{[]string{"--root", "", "ps"}, `--root "": want a directory`},
		{[]string{"--log-format", "xml", "ps"}, "--log-format xml: want text or json"},
		{[]string{"--debug=yes"}, "--debug yes: want true or false"},

		// Bad values: run.
		{[]string{"run", "-e", "=x", "./r"}, "--env =x: want KEY=VALUE or KEY"},
		{[]string{"run", "-e", "", "./r"}, `--env "": want KEY=VALUE or KEY`},
		{[]string{"run", "-e==x", "./r"}, "--env =x: want KEY=VALUE or KEY"},
		{[]string{"run", "--env-file=", "./r"}, `--env-file "": want a file`},
		{[]string{"run", "--name", "-d", "./r"}, "--name -d: want [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1 to 128 characters"},
		{[]string{"run", "--name", "../x", "./r"}, "--name ../x: want [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1 to 128 characters"},
		{[]string{"run", "--name", strings.Repeat("a", 129), "./r"}, "--name " + strings.Repeat("a", 129) + ": want [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1 to 128 characters"},
		{[]string{"run", "--hostname", "", "./r"}, `--hostname "": want 1 to 64 bytes`},
		{[]string{"run", "--hostname", strings.Repeat("h", 65), "./r"}, "--hostname " + strings.Repeat("h", 65) + ": want 1 to 64 bytes"},
		{[]string{"run", "-w", "srv", "./r"}, "--workdir srv: want an absolute path"},
		{[]string{"run", "-w", "", "./r"}, `--workdir "": want an absolute path`},
		{[]string{"run", "-u", "", "./r"}, `--user "": want UID[:GID] or NAME[:GROUP]`},
		{[]string{"run", "-u", ":0", "./r"}, "--user :0: want UID[:GID] or NAME[:GROUP]"},
		{[]string{"run", "-u", "0:", "./r"}, "--user 0:: want UID[:GID] or NAME[:GROUP]"},
		{[]string{"run", "-u", "a:b:c", "./r"}, "--user a:b:c: want UID[:GID] or NAME[:GROUP]"},
		{[]string{"run", "--rm=maybe", "./r"}, "--rm maybe: want true or false"},
		{[]string{"run", "-d=no", "./r"}, "--detach no: want true or false"},
		{[]string{"run", "--stop-signal", "FOO", "./r"}, "--stop-signal FOO: not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"},
		{[]string{"run", "--stop-signal", "0", "./r"}, "--stop-signal 0: not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"},

		// Volumes.
		{[]string{"run", "-v", "x", "./r"}, "--volume x: want HOSTPATH:CTRPATH[:ro|rw]"},
		{[]string{"run", "-v", ":/b", "./r"}, "--volume :/b: want HOSTPATH:CTRPATH[:ro|rw]"},
		{[]string{"run", "-v", "/a:", "./r"}, "--volume /a:: want HOSTPATH:CTRPATH[:ro|rw]"},
		{[]string{"run", "-v", "/a:/b:ro:x", "./r"}, "--volume /a:/b:ro:x: want HOSTPATH:CTRPATH[:ro|rw]"},
		{[]string{"run", "-v", "a:/b", "./r"}, "--volume a:/b: want an absolute HOSTPATH"},
		{[]string{"run", "-v", "/a:b", "./r"}, "--volume /a:b: want an absolute CTRPATH"},
		{[]string{"run", "-v", "/a:/", "./r"}, "--volume /a:/: want a CTRPATH other than /"},
		{[]string{"run", "-v", "/a:/x/..", "./r"}, "--volume /a:/x/..: want a CTRPATH other than /"},
		{[]string{"run", "-v", "/a:/b:", "./r"}, "--volume /a:/b:: want mode ro or rw"},
		{[]string{"run", "-v", "/a:/b:RO", "./r"}, "--volume /a:/b:RO: want mode ro or rw"},
		{[]string{"run", "-v", "/a:/b:z", "./r"}, "--volume /a:/b:z: want mode ro or rw"},
		{[]string{"run", "-v", "/a:/b", "-v", "/c:/b/", "./r"}, "--volume /c:/b/: /b is already a mount point"},
		{[]string{"run", "-v", "/a:/my dir", "-v", "/c:/my dir", "./r"}, `--volume "/c:/my dir": "/my dir" is already a mount point`},

		// Tmpfs.
		{[]string{"run", "--tmpfs", "/x:20x", "./r"}, "--tmpfs /x:20x: not a size (use e.g. 64m, 1g)"},
		{[]string{"run", "--tmpfs", "/x:", "./r"}, "--tmpfs /x:: not a size (use e.g. 64m, 1g)"},
		{[]string{"run", "--tmpfs", "/x:-1m", "./r"}, "--tmpfs /x:-1m: not a size (use e.g. 64m, 1g)"},
		{[]string{"run", "--tmpfs", "/x:99999999999t", "./r"}, "--tmpfs /x:99999999999t: size too large"},
		{[]string{"run", "--tmpfs", "/x:0", "./r"}, "--tmpfs /x:0: want a SIZE above 0 (omit it for the default)"},
		{[]string{"run", "--tmpfs", "x", "./r"}, "--tmpfs x: want an absolute CTRPATH"},
		{[]string{"run", "--tmpfs", "", "./r"}, `--tmpfs "": want an absolute CTRPATH`},
		{[]string{"run", "--tmpfs", ":1m", "./r"}, "--tmpfs :1m: want an absolute CTRPATH"},
		{[]string{"run", "--tmpfs", "/", "./r"}, "--tmpfs /: want a CTRPATH other than /"},
		{[]string{"run", "--tmpfs", "/t", "--tmpfs", "/t:1m", "./r"}, "--tmpfs /t:1m: /t is already a mount point"},
		{[]string{"run", "-v", "/a:/t", "--tmpfs", "/t", "./r"}, "--tmpfs /t: /t is already a mount point"},
		{[]string{"run", "--tmpfs", "/t", "-v", "/a:/t:ro", "./r"}, "--volume /a:/t:ro: /t is already a mount point"},

		// ps, stop, kill.
		{[]string{"ps", "--format", "yaml"}, "--format yaml: want table or json"},
		{[]string{"ps", "--format", "{{.ID}}"}, "--format {{.ID}}: want table or json"},
		{[]string{"ps", "-a=x"}, "--all x: want true or false"},
		{[]string{"stats", "--format", "yaml", "x"}, "--format yaml: want table or json"},
		{[]string{"stats", "--no-stream=maybe", "x"}, "--no-stream maybe: want true or false"},
		{[]string{"stats", "-a", "x"}, "unknown flag -a for stats (see launcher stats --help)"},
		{[]string{"--no-stream", "stats", "x"}, "unknown flag --no-stream (see launcher --help)"},
		{[]string{"-m", "1g", "stats", "x"}, "flag -m before stats is not a global flag (see launcher --help)"},
		{[]string{"stop", "-t", "-1", "x"}, "--time -1: want a non-negative number of seconds"},
		{[]string{"stop", "-t", "+1", "x"}, "--time +1: want a non-negative number of seconds"},
		{[]string{"stop", "-t", "1.5", "x"}, "--time 1.5: want a non-negative number of seconds"},
		{[]string{"stop", "-t", "", "x"}, `--time "": want a non-negative number of seconds`},
		{[]string{"stop", "--time=99999999999999999999", "x"}, "--time 99999999999999999999: want a non-negative number of seconds"},
		{[]string{"kill", "-s", "FOO", "x"}, "--signal FOO: not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"},
		{[]string{"kill", "-s", "65", "x"}, "--signal 65: not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"},
		{[]string{"kill", "-s", "RTMIN+31", "x"}, "--signal RTMIN+31: not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"},
		{[]string{"kill", "-s", "TERM\n", "x"}, `--signal "TERM\n": not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.args)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error %q", tt.args, dump(got), tt.want)
			continue
		}
		if got != nil {
			t.Errorf("Parse(%q) returned an Invocation with its error", tt.args)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q) error\n  %s\nwant\n  %s", tt.args, err, tt.want)
		}
	}
}

// TestParseKeepsArgs checks that Parse neither changes its argument nor
// returns slices that share its memory.
func TestParseKeepsArgs(t *testing.T) {
	args := []string{"run", "-e", "A=1", "./r", "sh", "-c", "x"}
	got, err := Parse(args)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"run", "-e", "A=1", "./r", "sh", "-c", "x"}; !reflect.DeepEqual(args, want) {
		t.Fatalf("args changed to %q", args)
	}
	args[4] = "changed"
	if got.Run.Cmd[0] != "sh" {
		t.Errorf("Run.Cmd shares memory with args")
	}
	refs := []string{"rm", "a", "b"}
	got, err = Parse(refs)
	if err != nil {
		t.Fatal(err)
	}
	refs[1] = "changed"
	if got.Refs[0] != "a" {
		t.Errorf("Refs shares memory with args")
	}
}
