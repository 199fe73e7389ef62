package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/build/importer"
	"github.com/stdcontainer/stdcontainer/build/plan"
	"github.com/stdcontainer/stdcontainer/rootfs"
	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
	"github.com/stdcontainer/stdcontainer/rootfs/osrelease"
)

// addImage imports the --from image as the base of the plan.
func addImage(p *plan.Plan, src, ref, tempDir, flagFrom string) (*importer.Image, error) {
	img, err := importer.Import(src, importer.Options{Ref: ref, TempDir: tempDir, Warn: func(msg string) { warn(flagFrom, msg) }})
	if err != nil {
		return nil, err
	}
	for _, e := range img.Entries {
		if err := p.Add(e); err != nil {
			return nil, err
		}
	}
	var dropped []string
	if img.Config.User != "" {
		dropped = append(dropped, "User "+strconv.Quote(img.Config.User))
	}
	if img.Config.WorkingDir != "" {
		dropped = append(dropped, "WorkingDir "+strconv.Quote(img.Config.WorkingDir))
	}
	if len(dropped) > 0 {
		warn(flagFrom, "the image's "+strings.Join(dropped, " and ")+" not carried over (our init does not apply them; set them in the runtime)")
	}
	return img, nil
}

// warn prints a one-line warning about a flag's input.
func warn(flag, msg string) {
	fmt.Fprintln(os.Stderr, "mkrootfs: warning: "+flag+": "+msg)
}

// imageCmd is the imported image's Entrypoint+Cmd, as our init's payload.
// A command that is the image's init (one mkrootfs built: /sbin/init
// [--] ARGS; a systemd image: /sbin/init) passes on only what follows it:
// our init replaced it, and would otherwise run itself.
func imageCmd(p *plan.Plan, c importer.Config) []string {
	argv := append(append([]string{}, c.Entrypoint...), c.Cmd...)
	if len(argv) == 0 || !path.IsAbs(argv[0]) {
		return argv
	}
	self, ok1 := p.Lookup(layout.Init)
	cmd, ok2 := p.Lookup(argv[0])
	if ok1 && ok2 && self.Path == cmd.Path {
		argv = argv[1:]
		if len(argv) > 0 && argv[0] == "--" {
			argv = argv[1:]
		}
	}
	return argv
}

// imageEnv is the imported image's Env as environment-file variables; an
// entry the file cannot hold (no KEY=, a name systemd refuses, a NUL
// byte) is left out with a warning.
func imageEnv(env []string, flagFrom string) []envfile.Var {
	var vars []envfile.Var
	for _, kv := range env {
		if kv == defaultPath {
			continue // what the init gives anyway (and what oci outputs state)
		}
		k, v, ok := strings.Cut(kv, "=")
		if _, err := envfile.Format([]envfile.Var{{Key: k, Value: v}}); !ok || err != nil {
			warn(flagFrom, "the image's Env entry "+strconv.Quote(kv)+" left out (not a KEY=VALUE an environment file can hold)")
			continue
		}
		vars = append(vars, envfile.Var{Key: k, Value: v})
	}
	return vars
}

// addSkeleton adds the skeleton; on an imported image (base) only what the
// image lacks, and --name goes into the image's own os-release.
func addSkeleton(p *plan.Plan, imageID string, base bool) error {
	entries, err := rootfs.Skeleton(imageID)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, ok := p.Lookup(e.Path); base && ok {
			continue
		}
		kind := plan.File
		if e.Mode.IsDir() {
			kind = plan.Dir
		}
		if err := p.Add(plan.Entry{Path: e.Path, Kind: kind, Mode: e.Mode &^ fs.ModeDir, Data: e.Data}); err != nil {
			return err
		}
	}
	if base && imageID != "" {
		return setImageID(p, imageID)
	}
	return nil
}

// setImageID sets IMAGE_ID in the image's os-release, wherever its
// symlinks lead.
func setImageID(p *plan.Plan, imageID string) error {
	e, ok := p.Lookup(layout.OSRelease)
	if !ok || e.Kind != plan.File {
		return nil
	}
	data := e.Data
	if e.Source != "" {
		var err error
		if data, err = os.ReadFile(e.Source); err != nil {
			return err
		}
	}
	release, err := osrelease.Parse(e.Path, data)
	if err == nil {
		release = slices.DeleteFunc(release, func(v envfile.Var) bool { return v.Key == "IMAGE_ID" })
		data, err = osrelease.Format(append(release, envfile.Var{Key: "IMAGE_ID", Value: imageID}))
	}
	if err != nil {
		return fmt.Errorf("--name %s: the image's os-release: %v", imageID, err)
	}
	e.Data, e.Source = data, ""
	return p.Add(e)
}

// addExecutable installs the host executable src at dst. A dynamic ELF
// brings its interpreter and libraries along, found as the host's loader
// would find them. For a script it returns the #! interpreter, which must
// be in the image once everything is planned (see checkInterpreters).
func addExecutable(p *plan.Plan, src, dst string) (interp string, err error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", errors.Unwrap(err)
	}
	if !st.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	if st.Mode().Perm()&0o111 == 0 {
		return "", errors.New("not executable (chmod +x it)")
	}
	if interp, isScript := scriptInterpreter(abs); isScript {
		if interp == "" {
			return "", errors.New("script without an interpreter on its #! line")
		}
		return interp, p.Add(plan.Entry{Path: dst, Kind: plan.File, Mode: st.Mode().Perm(), Source: abs, Size: st.Size()})
	}
	deps, err := rootfs.ELFDeps("/", abs)
	if err != nil {
		return "", err
	}
	if len(deps.Missing) > 0 {
		return "", fmt.Errorf("dynamic executable needs %s, not found on this host", strings.Join(deps.Missing, ", "))
	}
	file := dst
	if real, err := filepath.EvalSymlinks(abs); err == nil && len(deps.Files) > 0 && usesOrigin(abs) {
		// The loader takes $ORIGIN from the executable's real path
		// (/proc/self/exe), and its libraries were found relative to the
		// host's: keep the file there and make DST a symlink to it.
		if clean, err := plan.ImagePath(dst); err == nil && path.Dir(clean) != filepath.Dir(real) {
			file = real
			if err := p.Add(plan.Entry{Path: dst, Kind: plan.Symlink, Target: real}); err != nil {
				return "", err
			}
		}
	}
	if err := p.Add(plan.Entry{Path: file, Kind: plan.File, Mode: st.Mode().Perm(), Source: abs, Size: st.Size()}); err != nil {
		return "", err
	}
	for _, f := range deps.Files {
		if err := addHostPath(p, f, 0); err != nil {
			return "", fmt.Errorf("library %s: %v", f, err)
		}
	}
	return "", nil
}

// usesOrigin reports whether the ELF file's DT_RPATH or DT_RUNPATH uses
// $ORIGIN, the executable's own directory.
func usesOrigin(file string) bool {
	f, err := elf.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, tag := range []elf.DynTag{elf.DT_RPATH, elf.DT_RUNPATH} {
		paths, _ := f.DynString(tag)
		for _, p := range paths {
			if strings.Contains(p, "$ORIGIN") || strings.Contains(p, "${ORIGIN}") {
				return true
			}
		}
	}
	return false
}

// checkInterpreters verifies, once the plan is complete, that every script
// installed with --init or --app finds its #! interpreter in the image,
// through the image's own symlinks.
func checkInterpreters(p *plan.Plan, scripts []script) error {
	for _, s := range scripts {
		if e, ok := p.Lookup(s.interp); !ok || e.Kind != plan.File {
			return fmt.Errorf("%s: script interpreter %s is not in the image (add it with --app or --add)", s.flag, show(s.interp))
		}
	}
	return nil
}

// script is an executable whose #! interpreter is still to be checked.
type script struct{ flag, interp string }

// scriptInterpreter returns the program named on a "#!" line.
func scriptInterpreter(file string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := f.Read(head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("#!")) {
		return "", false
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "", true
	}
	return fields[0], true
}

// addHostPath copies the host file at the absolute path name to the same
// path in the image. A symlink stays a symlink and its target is copied
// too, so the image resolves the name exactly as the host does.
func addHostPath(p *plan.Plan, name string, depth int) error {
	if depth > 40 {
		return errors.New("too many levels of symbolic links")
	}
	if p.Has(name) {
		return nil
	}
	// A directory symlink on the way (merged /usr: /lib -> usr/lib) is kept
	// as a symlink too, so the image has the host's layout: a library is
	// copied once whichever name found it, and a merged-/usr tree added
	// with --add fits.
	parts := strings.Split(strings.TrimPrefix(path.Dir(name), "/"), "/")
	cur := "/"
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := path.Join(cur, part)
		st, err := os.Lstat(next)
		if err != nil {
			return errors.Unwrap(err)
		}
		if e, planned := p.Get(next); st.Mode()&fs.ModeSymlink == 0 || planned && e.Kind == plan.Dir {
			cur = next
			continue
		}
		target, err := os.Readlink(next)
		if err != nil {
			return err
		}
		if !p.Has(next) {
			if err := p.Add(plan.Entry{Path: next, Kind: plan.Symlink, Target: target}); err != nil {
				return err
			}
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest := append([]string{target}, parts[i+1:]...)
		return addHostPath(p, path.Join(append(rest, path.Base(name))...), depth+1)
	}
	st, err := os.Lstat(name)
	if err != nil {
		return errors.Unwrap(err)
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(name)
		if err != nil {
			return err
		}
		if err := p.Add(plan.Entry{Path: name, Kind: plan.Symlink, Target: target}); err != nil {
			return err
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(name), target)
		}
		return addHostPath(p, path.Clean(target), depth+1)
	case st.Mode().IsRegular():
		return p.Add(plan.Entry{Path: name, Kind: plan.File, Mode: st.Mode().Perm(), Source: name, Size: st.Size()})
	}
	return fmt.Errorf("%s: not a regular file or symlink", name)
}

// addTree copies a host file, symlink or directory tree to dst.
func addTree(p *plan.Plan, src, dst string) error {
	if _, err := plan.ImagePath(dst); err != nil {
		return err
	}
	src = filepath.Clean(src)
	return filepath.WalkDir(src, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == src {
				return errors.Unwrap(err) // the flag names SRC already
			}
			return err // which file inside SRC
		}
		rel, _ := filepath.Rel(src, name)
		target := path.Join("/", dst, filepath.ToSlash(rel))
		if target == "/" && d.IsDir() {
			return nil // SRC:/ merges into the image root
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode()
		switch {
		case mode.IsDir():
			return p.Add(plan.Entry{Path: target, Kind: plan.Dir, Mode: mode.Perm() | mode&(fs.ModeSetgid|fs.ModeSticky)})
		case mode.IsRegular():
			return p.Add(plan.Entry{Path: target, Kind: plan.File, Mode: mode.Perm() | mode&(fs.ModeSetuid|fs.ModeSetgid), Source: name, Size: info.Size()})
		case mode&fs.ModeSymlink != 0:
			link, err := os.Readlink(name)
			if err != nil {
				return err
			}
			return p.Add(plan.Entry{Path: target, Kind: plan.Symlink, Target: link})
		}
		return fmt.Errorf("%s: cannot add a %s (only files, directories and symlinks)", name, typeName(mode))
	})
}

// typeName names the kind of a special file.
func typeName(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}

// addCmd writes the init's payload, one argument per line.
func addCmd(p *plan.Plan, argv []string) error {
	if len(argv) == 0 {
		return nil
	}
	for _, a := range argv {
		if strings.ContainsAny(a, "\n\x00") {
			return fmt.Errorf("argument %q contains a newline or NUL byte", a)
		}
	}
	data := []byte(strings.Join(argv, "\n") + "\n")
	return p.Add(plan.Entry{Path: layout.Cmd, Kind: plan.File, Mode: 0o644, Data: data})
}

// addEnvFiles validates the environment files and writes their merged
// content, over the base variables (the --from image's), in one
// normalised form.
func addEnvFiles(p *plan.Plan, base []envfile.Var, files []string) error {
	if len(files) == 0 && len(base) == 0 {
		return nil
	}
	var vars []envfile.Var
	index := map[string]int{} // later files win, as in the init's own merge
	merge := func(more []envfile.Var) {
		for _, v := range more {
			if i, ok := index[v.Key]; ok {
				vars[i] = v
				continue
			}
			index[v.Key] = len(vars)
			vars = append(vars, v)
		}
	}
	merge(base)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("--env-file %s: %v", show(name), errors.Unwrap(err))
		}
		more, err := envfile.Parse(name, data)
		if err != nil {
			return fmt.Errorf("--env-file %v", err)
		}
		merge(more)
	}
	data, err := envfile.Format(vars)
	if err != nil {
		return fmt.Errorf("--env-file: %v", err)
	}
	return p.Add(plan.Entry{Path: layout.Env, Kind: plan.File, Mode: 0o644, Data: data})
}
