// Command mkrootfs assembles the smallest Standard Container rootfs around
// our static init and writes it as a directory or a reproducible archive.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/stdcontainer/stdcontainer/build/plan"
	"github.com/stdcontainer/stdcontainer/build/shellsplit"
	"github.com/stdcontainer/stdcontainer/build/writer"
)

const exitBadInput = 125

const usage = `usage: mkrootfs -o OUT [flags]

Assembles a Standard Container rootfs: the skeleton (os-release, passwd,
group, mount points), our static init as /sbin/init, and whatever you add.
The output is byte-for-byte reproducible: sorted entries, owner 0:0, every
mtime set to $SOURCE_DATE_EPOCH (or 0).

  -o OUT               output path (required); written under a temporary
                       name and renamed into place when complete
  --format FORMAT      dir, tar, tar.gz or tar.zst (default: from OUT's
                       suffix, else dir)
  --init PATH          the init to install as /sbin/init (default: the
                       init next to mkrootfs)
  --app SRC[:DST]      an executable to install (default DST
                       /usr/local/bin/NAME); a dynamic one brings its ELF
                       interpreter and libraries from the host (repeatable)
  --cmd 'ARGS...'      the init's payload, split like a shell would
                       (default: the first --app); written to
                       /etc/stdcontainer/cmd
  --env-file F         the payload's environment (systemd EnvironmentFile=
                       syntax), validated and written to
                       /etc/stdcontainer/env (repeatable, later files win)
  --add SRC:DST        copy a host file or directory tree to DST
                       (repeatable; symlinks are kept as symlinks)
  --name NAME          the image's name, as IMAGE_ID in /etc/os-release
                       (lower case letters, digits, '.', '_', '-')
  -h, --help           show this help

Exit status: 0 when the image was written, 125 on bad input (nothing is
written then).
`

// repeated collects a repeatable flag's values in order.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// config is mkrootfs's parsed command line.
type config struct {
	out, format, init, cmd, name string
	apps, envFiles, adds         repeated
	modTime                      time.Time
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Print(usage)
		return
	}
	// A first ^C (or SIGTERM, SIGHUP) lets the writer remove its temporary
	// output before we exit; a second one exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	var stopped atomic.Int32
	go func() {
		s := <-sigs
		stopped.Store(int32(s.(syscall.Signal)))
		writer.Interrupt()
		s = <-sigs
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	if err == nil {
		err = build(cfg)
	}
	if errors.Is(err, writer.ErrInterrupted) {
		fmt.Fprintln(os.Stderr, "mkrootfs: "+err.Error())
		os.Exit(128 + int(stopped.Load()))
	}
	if err != nil {
		// One line, whatever a file name inside an error holds.
		fmt.Fprintln(os.Stderr, "mkrootfs: "+strings.ReplaceAll(err.Error(), "\n", `\n`))
		os.Exit(exitBadInput)
	}
}

func parseFlags(args []string, getenv func(string) string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("mkrootfs", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.out, "o", "", "")
	fs.StringVar(&cfg.format, "format", "", "")
	fs.StringVar(&cfg.init, "init", "", "")
	fs.StringVar(&cfg.cmd, "cmd", "", "")
	fs.StringVar(&cfg.name, "name", "", "")
	fs.Var(&cfg.apps, "app", "")
	fs.Var(&cfg.envFiles, "env-file", "")
	fs.Var(&cfg.adds, "add", "")
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if cfg.out == "" {
		return nil, errors.New("-o OUT is required (see --help)")
	}
	if cfg.format == "" {
		cfg.format = string(writer.FormatFor(cfg.out))
	}
	if _, err := writer.ParseFormat(cfg.format); err != nil {
		return nil, fmt.Errorf("--format: %v", err)
	}
	if cfg.init == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("--init: cannot find the default init: %v", err)
		}
		cfg.init = filepath.Join(filepath.Dir(self), "init")
	}
	if err := validImageID(cfg.name); err != nil {
		return nil, fmt.Errorf("--name %s: %v", show(cfg.name), err)
	}
	cfg.modTime = time.Unix(0, 0).UTC()
	if epoch := getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		secs, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil || secs < 0 {
			return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%s: not a number of seconds since 1970", show(epoch))
		}
		cfg.modTime = time.Unix(secs, 0).UTC()
	}
	return cfg, nil
}

// flagError restates the flag package's errors in our own words and
// spelling (--flag, as --help shows them).
func flagError(err error) error {
	msg := err.Error()
	spell := func(name string) string {
		name = strings.TrimLeft(name, "-")
		if len(name) == 1 {
			return "-" + name
		}
		return "--" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag %s (see --help)", spell(name))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("%s needs a value (see --help)", spell(name))
	}
	return err
}

// validImageID applies os-release(5)'s rule for IMAGE_ID.
func validImageID(name string) error {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("character %q not allowed (use a-z, 0-9, '.', '_', '-')", c)
		}
	}
	return nil
}

func build(cfg *config) error {
	p, err := makePlan(cfg)
	if err != nil {
		return err
	}
	if err := writer.Write(p.Entries(), writer.Format(cfg.format), cfg.out, writer.Options{ModTime: cfg.modTime}); err != nil {
		return fmt.Errorf("-o %s: %w", show(cfg.out), err)
	}
	return nil
}

// makePlan decides every entry of the image, checking all input before
// anything is written.
func makePlan(cfg *config) (*plan.Plan, error) {
	p := plan.New()
	if err := addSkeleton(p, cfg.name); err != nil {
		return nil, err
	}
	var scripts []script
	flagInit := "--init " + show(cfg.init)
	interp, err := addExecutable(p, cfg.init, "/sbin/init")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", flagInit, err)
	}
	if interp != "" {
		scripts = append(scripts, script{flagInit, interp})
	}
	var defaultCmd []string
	for _, app := range cfg.apps {
		flagApp := "--app " + show(app)
		src, dst, _ := strings.Cut(app, ":")
		if dst == "" {
			dst = "/usr/local/bin/" + filepath.Base(src)
		}
		interp, err := addExecutable(p, src, dst)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", flagApp, err)
		}
		if interp != "" {
			scripts = append(scripts, script{flagApp, interp})
		}
		if defaultCmd == nil {
			defaultCmd = []string{filepath.Join("/", dst)}
		}
	}
	for _, add := range cfg.adds {
		src, dst, ok := strings.Cut(add, ":")
		if !ok || src == "" || dst == "" {
			return nil, fmt.Errorf("--add %s: want SRC:DST", show(add))
		}
		if err := addTree(p, src, dst); err != nil {
			return nil, fmt.Errorf("--add %s: %v", show(add), err)
		}
	}
	// Interpreters last: an --add anywhere on the command line may bring them.
	if err := checkInterpreters(p, scripts); err != nil {
		return nil, err
	}
	argv := defaultCmd
	if cfg.cmd != "" {
		var err error
		if argv, err = shellsplit.Split(cfg.cmd); err != nil {
			return nil, fmt.Errorf("--cmd %s: %v", show(cfg.cmd), err)
		}
		if len(argv) == 0 {
			return nil, fmt.Errorf("--cmd %q: no program given", cfg.cmd)
		}
	}
	if err := addCmd(p, argv); err != nil {
		return nil, fmt.Errorf("--cmd %s: %v", show(cfg.cmd), err)
	}
	if err := addEnvFiles(p, cfg.envFiles); err != nil {
		return nil, err
	}
	return p, nil
}

// show is s as typed when it prints on one line, else quoted, so that every
// error stays one line.
func show(s string) string {
	for _, c := range s {
		if c < ' ' || c == 0x7f || c == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}
