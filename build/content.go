package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/stdcontainer/stdcontainer/build/plan"
	"github.com/stdcontainer/stdcontainer/rootfs"
	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
)

func addSkeleton(p *plan.Plan, imageID string) error {
	entries, err := rootfs.Skeleton(imageID)
	if err != nil {
		return err
	}
	for _, e := range entries {
		kind := plan.File
		if e.Mode.IsDir() {
			kind = plan.Dir
		}
		if err := p.Add(plan.Entry{Path: e.Path, Kind: kind, Mode: e.Mode &^ fs.ModeDir, Data: e.Data}); err != nil {
			return err
		}
	}
	return nil
}

// addExecutable installs the host executable src at dst. A dynamic ELF
// brings its interpreter and libraries along, found as the host's loader
// would find them; a script's interpreter must already be in the image.
func addExecutable(p *plan.Plan, src, dst string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return errors.Unwrap(err)
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if st.Mode().Perm()&0o111 == 0 {
		return errors.New("not executable (chmod +x it)")
	}
	if err := p.Add(plan.Entry{Path: dst, Kind: plan.File, Mode: st.Mode().Perm(), Source: abs, Size: st.Size()}); err != nil {
		return err
	}
	if interp, isScript := scriptInterpreter(abs); isScript {
		if !p.Has(interp) {
			return fmt.Errorf("script interpreter %s is not in the image (add it with --app or --add first)", interp)
		}
		return nil
	}
	deps, err := rootfs.ELFDeps("/", abs)
	if err != nil {
		return err
	}
	if len(deps.Missing) > 0 {
		return fmt.Errorf("dynamic executable needs %s, not found on this host", strings.Join(deps.Missing, ", "))
	}
	for _, f := range deps.Files {
		if err := addHostPath(p, f, 0); err != nil {
			return fmt.Errorf("library %s: %v", f, err)
		}
	}
	return nil
}

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
			return errors.Unwrap(err)
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
		return fmt.Errorf("%s: cannot add a %s (only files, directories and symlinks)", name, mode.Type())
	})
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
// content in one normalised form.
func addEnvFiles(p *plan.Plan, files []string) error {
	if len(files) == 0 {
		return nil
	}
	var vars []envfile.Var
	index := map[string]int{} // later files win, as in the init's own merge
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("--env-file %s: %v", name, errors.Unwrap(err))
		}
		more, err := envfile.Parse(name, data)
		if err != nil {
			return fmt.Errorf("--env-file %v", err)
		}
		for _, v := range more {
			if i, ok := index[v.Key]; ok {
				vars[i] = v
				continue
			}
			index[v.Key] = len(vars)
			vars = append(vars, v)
		}
	}
	data, err := envfile.Format(vars)
	if err != nil {
		return fmt.Errorf("--env-file: %v", err)
	}
	return p.Add(plan.Entry{Path: layout.Env, Kind: plan.File, Mode: 0o644, Data: data})
}
