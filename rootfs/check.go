package rootfs

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/stdcontainer/stdcontainer/rootfs/layout"
)

// Severity ranks a Finding. Lower values are more severe.
type Severity int

const (
	// Error means the image will not start (or a runtime will refuse it).
	Error Severity = iota
	// Warning means the image likely misbehaves or violates a convention.
	Warning
	// Info is worth knowing but needs no action.
	Info
)

// String returns "error", "warning" or "info".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	case Info:
		return "info"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Finding is one result of Check.
type Finding struct {
	Severity Severity
	Path     string // absolute path inside the tree the finding is about
	Msg      string
}

// String formats the finding as "error: /sbin/init: not executable".
func (f Finding) String() string {
	if f.Path == "" {
		return f.Severity.String() + ": " + f.Msg
	}
	return f.Severity.String() + ": " + f.Path + ": " + f.Msg
}

// CheckOptions configures Check.
type CheckOptions struct {
	// Entry is the argv of the entry point. Empty means the image's own:
	// layout.Init, and the payload it is configured to run (layout.Cmd,
	// first line is the program) when the image has one.
	Entry []string
}

// pathDirs is the PATH a bare entry name is looked up in (execvp inside the tree).
var pathDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// osReleaseFallback is where os-release(5) says to look when /etc/os-release is absent.
const osReleaseFallback = "/usr/lib/os-release"

// maxHeader is the kernel's BINPRM_BUF_SIZE: all it reads to pick a binary format.
const maxHeader = 256

type checker struct {
	dir      string
	findings []Finding
	escaping map[string]bool // symlinks the tree walk already reported
}

func (c *checker) add(s Severity, p, format string, args ...any) {
	c.findings = append(c.findings, Finding{Severity: s, Path: p, Msg: fmt.Sprintf(format, args...)})
}

// Check runs the RFC's "chroot test" on the tree at dir without executing
// anything: the entry point (and what it needs to be exec'd), mount points,
// os-release, resolv.conf and symlinks escaping the tree. Paths are always
// resolved inside dir, never through a symlink out of it. Findings are
// sorted by severity, then path. The error is non-nil only when dir itself
// is unusable.
func Check(dir string, opts CheckOptions) ([]Finding, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "check", Path: dir, Err: syscall.ENOTDIR}
	}
	c := &checker{dir: abs, escaping: map[string]bool{}}
	c.walkSymlinks()
	c.entryPoint(opts)
	c.mountPoints()
	c.osRelease()
	c.resolvConf()
	return sortFindings(c.findings), nil
}

// Failed reports whether any finding is an Error.
func Failed(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

func sortFindings(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
	// The same problem can be reached twice (e.g. a shared #! interpreter).
	out := fs[:0]
	for i, f := range fs {
		if i == 0 || f != fs[i-1] {
			out = append(out, f)
		}
	}
	return out
}

// escapes reports whether the relative symlink target t, taken lexically
// from the in-tree directory dir, climbs above the root.
func escapes(dir, t string) bool {
	if path.IsAbs(t) {
		return false
	}
	depth := 0
	for _, c := range strings.Split(dir, "/") {
		if c != "" && c != "." {
			depth++
		}
	}
	for _, c := range strings.Split(t, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// walkSymlinks reports every symlink whose relative target climbs out of the
// tree. Absolute targets are resolved inside the root at run time, so they
// are fine; dangling ones are only reported for the entry point (tree-wide
// that would be noise: images are full of links into /proc and /run).
func (c *checker) walkSymlinks() {
	_ = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		rel, rerr := filepath.Rel(c.dir, p)
		if rerr != nil {
			return nil
		}
		ip := path.Clean("/" + filepath.ToSlash(rel))
		if err != nil {
			c.add(Warning, ip, "cannot read: %v", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			c.add(Warning, ip, "cannot read symlink: %v", err)
			return nil
		}
		if escapes(path.Dir(ip), t) {
			c.escaping[ip] = true
			c.add(Warning, ip, "symlink target %q escapes the tree", t)
		}
		return nil
	})
}

// describe turns a resolve error for p into words for a finding.
func (c *checker) describe(p string, err error) string {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return "is a symlink loop (too many levels of symbolic links)"
	case errors.Is(err, syscall.ENOTDIR):
		return "not found: a path component is not a directory"
	case errors.Is(err, fs.ErrNotExist):
		if chain := c.linkChain(p); len(chain) > 0 {
			return fmt.Sprintf("is a dangling symlink (-> %s, resolved inside the tree)", strings.Join(chain, " -> "))
		}
		return "not found"
	}
	return err.Error()
}

// linkChain returns the targets of the symlink chain starting at p, as
// written in each link, so a dangling chain can be shown hop by hop.
func (c *checker) linkChain(p string) []string {
	var chain []string
	for range maxSymlinks {
		lp, err := resolve(c.dir, p, false)
		if err != nil {
			break
		}
		fi, err := os.Lstat(hostPath(c.dir, lp))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		t, err := os.Readlink(hostPath(c.dir, lp))
		if err != nil {
			break
		}
		chain = append(chain, t)
		if path.IsAbs(t) {
			p = t
		} else {
			p = path.Join(path.Dir(lp), t)
		}
	}
	return chain
}

// entryPoint checks the program the runtime will exec and, for the default
// entry point, the payload the init will run.
func (c *checker) entryPoint(opts CheckOptions) {
	if len(opts.Entry) > 0 {
		if opts.Entry[0] == "" {
			c.add(Error, "", "entry point is an empty string")
			return
		}
		c.checkProgram(opts.Entry[0], "entry point")
		return
	}
	c.checkProgram(layout.Init, "entry point")
	if payload, ok := c.configuredCmd(); ok && payload != "" {
		c.checkProgram(payload, "payload")
	}
}

// checkProgram checks what execvp inside the tree would run for prog.
func (c *checker) checkProgram(prog, role string) {
	if !strings.Contains(prog, "/") {
		found, ok := c.lookPath(prog)
		if !ok {
			c.add(Error, prog, "%s not found in PATH (%s)", role, strings.Join(pathDirs, ":"))
			return
		}
		prog = found
	}
	c.checkExec(path.Clean(inRootAbs(prog)), role, 0)
}

// configuredCmd returns the program named by layout.Cmd, or "" when the
// image has no cmd file. ok is false when the cmd file is broken (a
// finding has been added).
func (c *checker) configuredCmd() (string, bool) {
	real, err := resolve(c.dir, layout.Cmd, true)
	if errors.Is(err, fs.ErrNotExist) {
		return "", true
	}
	if err != nil {
		c.add(Error, layout.Cmd, "cmd file %s", c.describe(layout.Cmd, err))
		return "", false
	}
	b, err := c.readRegular(real, 64<<10)
	if err != nil {
		c.add(Error, layout.Cmd, "cannot read cmd file: %v", err)
		return "", false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if first == "" {
		c.add(Error, layout.Cmd, "cmd file is empty: its first line must name the program")
		return "", false
	}
	return first, true
}

// readRegular reads at most limit bytes of the symlink-free in-root path
// real, refusing anything but a regular file: opening a FIFO would block.
func (c *checker) readRegular(real string, limit int64) ([]byte, error) {
	fi, err := os.Lstat(hostPath(c.dir, real))
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fileType(fi.Mode()))
	}
	f, err := os.Open(hostPath(c.dir, real))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m.IsRegular():
		return "regular file"
	}
	return "irregular file"
}

// lookPath finds name in pathDirs like execvp: the first executable regular
// file wins; failing that the first non-executable one is returned so the
// caller reports why it cannot run.
func (c *checker) lookPath(name string) (string, bool) {
	fallback := ""
	for _, d := range pathDirs {
		cand := d + "/" + name
		real, err := resolve(c.dir, cand, true)
		if err != nil {
			continue
		}
		fi, err := os.Lstat(hostPath(c.dir, real))
		if err != nil {
			continue
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return cand, true
		}
		if fallback == "" {
			fallback = cand
		}
	}
	return fallback, fallback != ""
}

// checkExec checks that p could be exec'd: it resolves to an executable
// regular file that is an ELF whose interpreter and libraries are present,
// or a #! script whose interpreter is. what names p in messages.
func (c *checker) checkExec(p, what string, depth int) {
	real, err := resolve(c.dir, p, true)
	if err != nil {
		c.add(Error, p, "%s %s", what, c.describe(p, err))
		return
	}
	fi, err := os.Lstat(hostPath(c.dir, real))
	if err != nil {
		c.add(Error, p, "%s: %v", what, err)
		return
	}
	if !fi.Mode().IsRegular() {
		c.add(Error, p, "%s is not a regular file (%s)", what, fileType(fi.Mode()))
		return
	}
	// Root may exec any file with at least one x bit; nobody may exec one with none.
	if fi.Mode().Perm()&0o111 == 0 {
		c.add(Error, p, "not executable (mode %#o)", fi.Mode().Perm())
	}
	head, err := c.readRegular(real, maxHeader)
	if err != nil {
		c.add(Error, p, "cannot read %s: %v", what, err)
		return
	}
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		c.checkScript(p, head, depth)
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		c.checkELF(p, real)
	default:
		c.add(Error, p, "%s is neither an ELF executable nor a #! script (exec format error)", what)
	}
}

// checkScript checks the #! line the way binfmt_script parses it.
func (c *checker) checkScript(p string, head []byte, depth int) {
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	s := strings.TrimLeft(string(line), " \t")
	interp, arg, _ := strings.Cut(strings.ReplaceAll(s, "\t", " "), " ")
	arg = strings.TrimSpace(arg)
	if interp == "" {
		c.add(Error, p, "#! line names no interpreter")
		return
	}
	if strings.HasSuffix(interp, "\r") {
		c.add(Error, p, "#! interpreter %q ends in a carriage return (DOS line endings)", interp)
		return
	}
	ip := path.Clean(inRootAbs(interp))
	// The brief is one level of interpreters; nested #! chains are rare.
	if depth > 0 {
		c.add(Info, p, "#! interpreter %s of this interpreter not checked (nested #! scripts)", ip)
		return
	}
	if _, err := resolve(c.dir, ip, true); err != nil {
		c.add(Error, p, "#! interpreter %s %s", ip, c.describe(ip, err))
		return
	}
	c.checkExec(ip, "#! interpreter", depth+1)
	// "#!/usr/bin/env prog" is the common indirection; its target matters as much.
	if path.Base(ip) == "env" && arg != "" && !strings.HasPrefix(arg, "-") {
		prog := strings.Fields(arg)[0]
		if !strings.Contains(prog, "/") {
			if _, ok := c.lookPath(prog); !ok {
				c.add(Warning, p, "#!%s: %q not found in PATH (%s)", interp, prog, strings.Join(pathDirs, ":"))
			}
		}
	}
}

// checkELF checks that the ELF at p can be loaded: it is an executable, and
// its interpreter and libraries are present inside the tree.
func (c *checker) checkELF(p, real string) {
	obj, err := readELF(hostPath(c.dir, real))
	if err != nil {
		c.add(Error, p, "cannot parse ELF: %v", err)
		return
	}
	if obj.typ != elf.ET_EXEC && obj.typ != elf.ET_DYN {
		c.add(Error, p, "ELF file is not an executable (%v)", obj.typ)
		return
	}
	deps, err := ELFDeps(c.dir, real)
	if err != nil {
		c.add(Error, p, "cannot resolve ELF dependencies: %v", err)
		return
	}
	interpMissing := false
	for _, m := range deps.Missing {
		if m == deps.Interp {
			interpMissing = true
			ip := path.Clean(inRootAbs(m))
			if _, err := resolve(c.dir, ip, true); err != nil {
				c.add(Error, p, "ELF interpreter %s %s", m, c.describe(ip, err))
			} else {
				c.add(Error, p, "ELF interpreter %s is not a regular file", m)
			}
			continue
		}
		c.add(Error, p, "needed library %s not found (for %v %v)", m, obj.class, obj.machine)
	}
	if deps.Interp != "" && !interpMissing {
		// The kernel opens the interpreter with exec permission too.
		if ireal, err := resolve(c.dir, inRootAbs(deps.Interp), true); err == nil {
			if fi, err := os.Lstat(hostPath(c.dir, ireal)); err == nil && fi.Mode().Perm()&0o111 == 0 {
				c.add(Error, p, "ELF interpreter %s is not executable (mode %#o)", deps.Interp, fi.Mode().Perm())
			}
		}
	}
}

// mountPoints checks that every directory a runtime mounts over exists.
func (c *checker) mountPoints() {
	for _, mp := range layout.MountPoints {
		lp, err := resolve(c.dir, mp, false)
		if err != nil {
			c.add(Error, mp, "mount point %s", c.describe(mp, err))
			continue
		}
		fi, err := os.Lstat(hostPath(c.dir, lp))
		if err != nil {
			c.add(Error, mp, "mount point missing")
			continue
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.IsDir() {
				c.add(Error, mp, "mount point is not a directory (%s)", fileType(fi.Mode()))
			}
			continue
		}
		real, err := resolve(c.dir, mp, true)
		if err != nil {
			c.add(Error, mp, "mount point %s", c.describe(mp, err))
			continue
		}
		rfi, err := os.Lstat(hostPath(c.dir, real))
		if err != nil || !rfi.IsDir() {
			c.add(Error, mp, "mount point is a symlink to a non-directory (%s)", real)
			continue
		}
		// Runtimes resolve mount targets defensively; some refuse symlinks.
		c.add(Warning, mp, "mount point is a symlink (to %s); runtimes may refuse to mount over it", real)
	}
}

// osRelease checks /etc/os-release (or the /usr/lib fallback) loosely: it
// exists, is readable, non-empty and made of KEY=VALUE lines. Parsing proper
// is rootfs/osrelease's job.
func (c *checker) osRelease() {
	p := layout.OSRelease
	real, err := resolve(c.dir, p, true)
	if errors.Is(err, fs.ErrNotExist) {
		if freal, ferr := resolve(c.dir, osReleaseFallback, true); ferr == nil {
			c.add(Info, p, "missing; %s is used instead (os-release(5) fallback)", osReleaseFallback)
			c.osReleaseContent(osReleaseFallback, freal)
			return
		}
		c.add(Warning, p, "os-release %s (nor is there %s)", c.describe(p, err), osReleaseFallback)
		return
	}
	if err != nil {
		c.add(Warning, p, "os-release %s", c.describe(p, err))
		return
	}
	c.osReleaseContent(p, real)
}

func (c *checker) osReleaseContent(p, real string) {
	b, err := c.readRegular(real, 1<<20)
	if err != nil {
		c.add(Warning, p, "unreadable: %v", err)
		return
	}
	var bad []int
	assignments := 0
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			bad = append(bad, i+1)
			continue
		}
		assignments++
	}
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		c.add(Warning, p, "empty")
	case len(bad) == 1:
		c.add(Warning, p, "line %d is not KEY=VALUE", bad[0])
	case len(bad) > 1:
		c.add(Warning, p, "lines %v are not KEY=VALUE", bad)
	case assignments == 0:
		c.add(Warning, p, "has no KEY=VALUE lines (only comments)")
	}
}

// resolvConf checks /etc/resolv.conf: absent is fine (the runtime injects
// one); a symlink the runtime cannot follow inside the tree is not.
func (c *checker) resolvConf() {
	p := layout.ResolvConf
	lp, err := resolve(c.dir, p, false)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.add(Info, p, "absent; the runtime will inject one")
		} else {
			c.add(Warning, p, "%s", c.describe(p, err))
		}
		return
	}
	fi, err := os.Lstat(hostPath(c.dir, lp))
	if errors.Is(err, fs.ErrNotExist) {
		c.add(Info, p, "absent; the runtime will inject one")
		return
	}
	if err != nil {
		c.add(Warning, p, "cannot stat: %v", err)
		return
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		if !fi.Mode().IsRegular() {
			c.add(Warning, p, "not a regular file (%s)", fileType(fi.Mode()))
		}
		return
	}
	t, err := os.Readlink(hostPath(c.dir, lp))
	if err != nil {
		c.add(Warning, p, "cannot read symlink: %v", err)
		return
	}
	if escapes(path.Dir(lp), t) {
		if !c.escaping[lp] {
			c.add(Warning, p, "symlink target %q points outside the tree", t)
		}
		return
	}
	real, err := resolve(c.dir, p, true)
	if err != nil {
		c.add(Warning, p, "%s; the runtime cannot use it", c.describe(p, err))
		return
	}
	if rfi, err := os.Lstat(hostPath(c.dir, real)); err == nil && !rfi.Mode().IsRegular() {
		c.add(Warning, p, "symlink to a non-regular file (%s)", fileType(rfi.Mode()))
	}
}
