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
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/stdcontainer/stdcontainer/build/importer"
	"github.com/stdcontainer/stdcontainer/build/plan"
	"github.com/stdcontainer/stdcontainer/build/shellsplit"
	"github.com/stdcontainer/stdcontainer/build/writer"
	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
)

const exitBadInput = 125

const usage = `usage: mkrootfs -o OUT [flags]

Assembles a Standard Container rootfs: the skeleton (os-release, passwd,
group, mount points), our static init as /sbin/init, and whatever you add.
The output is byte-for-byte reproducible: sorted entries, owner 0:0 (an
imported image's files keep theirs), every mtime set to $SOURCE_DATE_EPOCH
(or 0).

  -o OUT               output path (required); written under a temporary
                       name and renamed into place when complete
  --format FORMAT      dir, tar, tar.gz, tar.zst, cpio, cpio.gz, cpio.zst,
                       oci or oci.tar (default: from OUT's suffix, else dir)
  --from SRC           start from an existing image: an OCI image layout
                       (a directory or its tarball) or a docker-save
                       tarball. Its layers are the base (modes, owners,
                       symlinks kept; hard links become copies; device
                       nodes and FIFOs are left out with a warning); our
                       init replaces its /sbin/init, the skeleton only
                       fills in what it lacks, --name sets IMAGE_ID in its
                       os-release. Its Entrypoint+Cmd and Env become
                       /etc/stdcontainer/cmd and env; its WorkingDir and
                       User are not carried over (the runtime sets them).
                       Large files wait in $TMPDIR until the image is
                       written
  --ref NAME:TAG       the image to take from SRC when it holds several
  --init PATH          the init to install as /sbin/init (default: the
                       init next to mkrootfs)
  --app SRC[:DST]      an executable to install (default DST
                       /usr/local/bin/NAME); a dynamic one brings its ELF
                       interpreter and libraries from the host (repeatable)
  --cmd 'ARGS...'      the init's payload, split like a shell would
                       (default: the --from image's Entrypoint+Cmd, else
                       the first --app); written to /etc/stdcontainer/cmd
  --env-file F         the payload's environment (systemd EnvironmentFile=
                       syntax), validated and written to
                       /etc/stdcontainer/env (repeatable, later files win,
                       over the --from image's Env)
  --add SRC:DST        copy a host file or directory tree to DST
                       (repeatable; symlinks are kept as symlinks)
  --name NAME          the image's name, as IMAGE_ID in /etc/os-release
                       (lower case letters, digits, '.', '_', '-')
  --tag NAME[:TAG]     the image's reference in oci and oci.tar outputs
                       (default stdcontainer/NAME:latest, NAME from --name,
                       else "image"; TAG defaults to latest)
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
	from, ref                    string // --from SRC, --ref NAME:TAG
	tag                          string // NAME:TAG, for the OCI formats
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
		importer.Interrupt()
		s = <-sigs
		if dir, ok := importTemp.Load().(string); ok {
			os.RemoveAll(dir)
		}
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
	if err == nil {
		err = build(cfg)
	}
	if errors.Is(err, writer.ErrInterrupted) || errors.Is(err, importer.ErrInterrupted) {
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
	fs.StringVar(&cfg.from, "from", "", "")
	fs.StringVar(&cfg.ref, "ref", "", "")
	fs.StringVar(&cfg.tag, "tag", "", "")
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
	if cfg.ref != "" && cfg.from == "" {
		return nil, errors.New("--ref needs --from (see --help)")
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
	if err := parseTag(cfg, fs); err != nil {
		return nil, err
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

// importTemp is the directory holding an imported image's large files
// while mkrootfs runs, for the signal handler to remove on a second ^C.
var importTemp atomic.Value

func build(cfg *config) error {
	var tempDir string
	if cfg.from != "" {
		dir, err := os.MkdirTemp("", "mkrootfs-import-")
		if err != nil {
			return fmt.Errorf("--from %s: %v", show(cfg.from), err)
		}
		importTemp.Store(dir)
		defer os.RemoveAll(dir)
		tempDir = dir
	}
	p, err := makePlan(cfg, tempDir)
	if err != nil {
		return err
	}
	opts := writer.Options{ModTime: cfg.modTime}
	if f := writer.Format(cfg.format); f == writer.FormatOCI || f == writer.FormatOCITar {
		if opts.Image, err = imageConfig(cfg, p); err != nil {
			return err
		}
	}
	if err := writer.Write(p.Entries(), writer.Format(cfg.format), cfg.out, opts); err != nil {
		return fmt.Errorf("-o %s: %w", show(cfg.out), err)
	}
	return nil
}

// parseTag validates --tag, or makes the default one from --name for the
// OCI formats, as NAME:TAG.
func parseTag(cfg *config, fs *flag.FlagSet) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "tag" })
	if given {
		tag, err := writer.ParseTag(cfg.tag)
		if err != nil {
			return fmt.Errorf("--tag %s: %v", show(cfg.tag), err)
		}
		cfg.tag = tag
		return nil
	}
	if f := writer.Format(cfg.format); f != writer.FormatOCI && f != writer.FormatOCITar {
		return nil
	}
	name := cfg.name
	if name == "" {
		name = "image"
	}
	tag, err := writer.ParseTag("stdcontainer/" + name + ":latest")
	if err != nil {
		return fmt.Errorf("--name %s: not usable as the image's default tag (%v); give --tag", show(cfg.name), err)
	}
	cfg.tag = tag
	return nil
}

// defaultPath is the PATH the init gives its payload when it has none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// imageConfig is what an OCI image's config says: our init as entry point,
// the planned payload as Cmd and the planned environment (with a PATH), so
// that runtimes show and pass what the init would run anyway.
func imageConfig(cfg *config, p *plan.Plan) (writer.ImageConfig, error) {
	img := writer.ImageConfig{Tag: cfg.tag, Entrypoint: []string{layout.Init}}
	// Only what mkrootfs wrote itself (--cmd, --app, --env-file); a file
	// brought by --add is left to the init to read.
	if e, ok := p.Get(layout.Cmd); ok && e.Kind == plan.File && e.Source == "" && len(e.Data) > 0 {
		img.Cmd = strings.Split(strings.TrimSuffix(string(e.Data), "\n"), "\n")
		if strings.HasPrefix(img.Cmd[0], "-") {
			// The init would take it for one of its own flags.
			img.Cmd = append([]string{"--"}, img.Cmd...)
		}
	}
	if e, ok := p.Get(layout.Env); ok && e.Kind == plan.File && e.Source == "" {
		vars, err := envfile.Parse(layout.Env, e.Data)
		if err != nil {
			return img, fmt.Errorf("--env-file: %v", err)
		}
		for _, v := range vars {
			img.Env = append(img.Env, v.Key+"="+v.Value)
		}
	}
	// An empty PATH is no PATH to the init: it gets the default in place.
	i := slices.IndexFunc(img.Env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") })
	switch {
	case i < 0:
		img.Env = append(img.Env, defaultPath)
	case img.Env[i] == "PATH=":
		img.Env[i] = defaultPath
	}
	if cfg.name != "" {
		img.Labels = map[string]string{"org.opencontainers.image.title": cfg.name}
	}
	return img, nil
}

// makePlan decides every entry of the image, checking all input before
// anything is written. An imported image (--from) goes first, as the base
// the rest is added on; its large files are kept in tempDir.
func makePlan(cfg *config, tempDir string) (*plan.Plan, error) {
	p := plan.New()
	var img *importer.Image
	flagFrom := "--from " + show(cfg.from)
	if cfg.from != "" {
		var err error
		if img, err = addImage(p, cfg.from, cfg.ref, tempDir, flagFrom); err != nil {
			return nil, fmt.Errorf("%s: %w", flagFrom, err)
		}
	}
	if err := addSkeleton(p, cfg.name, img != nil); err != nil {
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
	argv, argvFlag := defaultCmd, "--cmd "+show(cfg.cmd)
	if img != nil && cfg.cmd == "" {
		if cmd := imageCmd(p, img.Config); len(cmd) > 0 {
			argv, argvFlag = cmd, flagFrom+": the image's Entrypoint+Cmd (override it with --cmd)"
		}
	}
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
		return nil, fmt.Errorf("%s: %v", argvFlag, err)
	}
	var env []envfile.Var
	if img != nil {
		env = imageEnv(img.Config.Env, flagFrom)
	}
	if err := addEnvFiles(p, env, cfg.envFiles); err != nil {
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
