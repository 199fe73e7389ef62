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
)

// maxSymlinks is the kernel's limit (MAXSYMLINKS) on symlinks followed in one lookup.
const maxSymlinks = 40

// Size caps keep a crafted ELF from making us allocate gigabytes.
const (
	maxInterpLen = 4096
	maxDynamic   = 1 << 20
	maxStrtab    = 16 << 20
	maxConfSize  = 1 << 20
	maxConfDepth = 16
)

// Deps are the files a dynamic executable needs at run time, as absolute paths inside root.
type Deps struct {
	Interp  string   // PT_INTERP as written in the ELF ("" for a static executable)
	Files   []string // resolved in-root paths: the interpreter and every needed library, transitively, deduplicated, sorted
	Missing []string // sonames (or the interpreter path) that could not be found, sorted
}

// hostPath maps the in-root absolute path p to a path usable with the os package.
// p must already be symlink-free (see resolve) or the kernel could walk out of root.
func hostPath(root, p string) string {
	return filepath.Join(root, filepath.FromSlash(p))
}

// inRootAbs makes p absolute inside the root. A relative path is taken
// relative to "/", the working directory a container starts in.
func inRootAbs(p string) string {
	if !path.IsAbs(p) {
		return "/" + p
	}
	return p
}

// resolve returns the symlink-free in-root path of p, following symlinks
// component by component as the kernel would if root were "/": absolute
// targets restart at root and ".." at root stays at root, so nothing
// outside root is ever consulted. With follow false a symlink in the last
// component is not followed (lstat semantics) and the last component need
// not exist. Errors wrap syscall.ENOENT, ENOTDIR or ELOOP.
func resolve(root, p string, follow bool) (string, error) {
	fail := func(errno syscall.Errno) error {
		return &fs.PathError{Op: "resolve", Path: p, Err: errno}
	}
	todo := strings.Split(inRootAbs(p), "/")
	cur := "/"
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		if len(todo) == 0 && !follow {
			return next, nil
		}
		fi, err := os.Lstat(hostPath(root, next))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fail(syscall.ENOENT)
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			links++
			if links > maxSymlinks {
				return "", fail(syscall.ELOOP)
			}
			t, err := os.Readlink(hostPath(root, next))
			if err != nil {
				return "", err
			}
			if t == "" {
				return "", fail(syscall.ENOENT)
			}
			if path.IsAbs(t) {
				cur = "/"
			}
			todo = append(strings.Split(t, "/"), todo...)
			continue
		}
		if len(todo) > 0 && !fi.IsDir() {
			return "", fail(syscall.ENOTDIR)
		}
		cur = next
	}
	return cur, nil
}

// elfObj is what the loader needs to know about one ELF file.
type elfObj struct {
	class      elf.Class
	data       elf.Data
	machine    elf.Machine
	typ        elf.Type
	interp     string
	needed     []string
	rpath      string
	runpath    string
	hasRunpath bool
	soname     string
}

var errNotELF = errors.New("not an ELF file")

// readELF parses the ELF at the host path p from its program headers only,
// as ld.so does, so binaries stripped of section headers work too.
func readELF(p string) (obj *elfObj, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotELF
	}
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return nil, errNotELF
	}
	// debug/elf is hardened but not promised panic-free on hostile input;
	// images are hostile input.
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("malformed ELF: %v", r)
		}
	}()
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, err
	}
	obj = &elfObj{class: ef.Class, data: ef.Data, machine: ef.Machine, typ: ef.Type}
	var dyn []byte
	for _, prog := range ef.Progs {
		switch prog.Type {
		case elf.PT_INTERP:
			b, err := io.ReadAll(io.LimitReader(prog.Open(), maxInterpLen))
			if err != nil {
				return nil, fmt.Errorf("reading PT_INTERP: %w", err)
			}
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			obj.interp = string(b)
		case elf.PT_DYNAMIC:
			if dyn == nil {
				dyn, err = io.ReadAll(io.LimitReader(prog.Open(), maxDynamic))
				if err != nil {
					return nil, fmt.Errorf("reading PT_DYNAMIC: %w", err)
				}
			}
		}
	}
	if dyn != nil {
		if err := obj.parseDynamic(ef, f, fi.Size(), dyn); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// parseDynamic fills the DT_NEEDED, DT_RPATH, DT_RUNPATH and DT_SONAME strings.
func (obj *elfObj) parseDynamic(ef *elf.File, f *os.File, size int64, dyn []byte) error {
	bo := ef.ByteOrder
	entSize := 8
	if ef.Class == elf.ELFCLASS64 {
		entSize = 16
	}
	var needed []uint64
	var strtab, strsz, rpath, runpath, soname uint64
	var hasStrtab, hasRpath, hasSoname bool
loop:
	for i := 0; i+entSize <= len(dyn); i += entSize {
		var tag int64
		var val uint64
		if entSize == 16 {
			tag, val = int64(bo.Uint64(dyn[i:])), bo.Uint64(dyn[i+8:])
		} else {
			tag, val = int64(int32(bo.Uint32(dyn[i:]))), uint64(bo.Uint32(dyn[i+4:]))
		}
		switch elf.DynTag(tag) {
		case elf.DT_NULL:
			break loop
		case elf.DT_NEEDED:
			needed = append(needed, val)
		case elf.DT_STRTAB:
			strtab, hasStrtab = val, true
		case elf.DT_STRSZ:
			strsz = val
		case elf.DT_RPATH:
			rpath, hasRpath = val, true
		case elf.DT_RUNPATH:
			runpath, obj.hasRunpath = val, true
		case elf.DT_SONAME:
			soname, hasSoname = val, true
		}
	}
	if len(needed) == 0 && !hasRpath && !obj.hasRunpath && !hasSoname {
		return nil
	}
	if !hasStrtab {
		return errors.New("malformed ELF: dynamic section without DT_STRTAB")
	}
	// DT_STRTAB is a virtual address: map it to a file offset through PT_LOAD.
	off := int64(-1)
	for _, prog := range ef.Progs {
		if prog.Type == elf.PT_LOAD && strtab >= prog.Vaddr && strtab-prog.Vaddr < prog.Filesz {
			off = int64(prog.Off + (strtab - prog.Vaddr))
			break
		}
	}
	if off < 0 || off >= size {
		return errors.New("malformed ELF: DT_STRTAB outside the file")
	}
	n := size - off
	if strsz > 0 && int64(strsz) < n {
		n = int64(strsz)
	}
	if n > maxStrtab {
		n = maxStrtab
	}
	tab := make([]byte, n)
	if _, err := f.ReadAt(tab, off); err != nil && err != io.EOF {
		return fmt.Errorf("reading DT_STRTAB: %w", err)
	}
	str := func(o uint64) (string, error) {
		if o >= uint64(len(tab)) {
			return "", errors.New("malformed ELF: dynamic string offset out of range")
		}
		s := tab[o:]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return string(s), nil
	}
	for _, o := range needed {
		s, err := str(o)
		if err != nil {
			return err
		}
		obj.needed = append(obj.needed, s)
	}
	var err error
	// ld.so ignores DT_RPATH when DT_RUNPATH is present (get-dynamic-info.h).
	if hasRpath && !obj.hasRunpath {
		if obj.rpath, err = str(rpath); err != nil {
			return err
		}
	}
	if obj.hasRunpath {
		if obj.runpath, err = str(runpath); err != nil {
			return err
		}
	}
	if hasSoname {
		if obj.soname, err = str(soname); err != nil {
			return err
		}
	}
	return nil
}

// IsELF reports whether the file at p (an absolute path inside root, symlinks
// resolved inside root) is a regular file starting with the ELF magic.
func IsELF(root, p string) bool {
	real, err := resolve(root, p, true)
	if err != nil {
		return false
	}
	f, err := os.Open(hostPath(root, real))
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == elf.ELFMAG
}

// IsStaticELF reports whether the file at p (inside root) is an ELF that needs
// nothing at run time: no PT_INTERP and no DT_NEEDED. Not an ELF -> error.
func IsStaticELF(root, p string) (bool, error) {
	real, err := resolve(root, p, true)
	if err != nil {
		return false, err
	}
	obj, err := readELF(hostPath(root, real))
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	return obj.interp == "" && len(obj.needed) == 0, nil
}

// loadNode is one loaded object in the breadth-first walk ld.so performs.
type loadNode struct {
	obj    *elfObj
	origin string    // $ORIGIN of this object
	loader *loadNode // the object whose DT_NEEDED loaded this one; nil for the executable
}

type depResolver struct {
	root    string
	main    *elfObj
	files   map[string]bool
	ok      map[string]bool // real path -> usable (same class/machine ELF); a cache
	conf    []string
	confSet bool
}

// ELFDeps resolves the run-time dependencies of the ELF file at p (an
// absolute path inside root) as the dynamic loader would see them with root
// as "/". root "/" means the host. Symlinks are resolved inside root.
//
// Libraries are searched like glibc's ld.so: DT_RPATH of the requesting
// object and its loaders up to the executable (skipped if the requester has
// DT_RUNPATH), DT_RUNPATH of the requester, the directories of
// /etc/ld.so.conf (standing in for ld.so.cache), then the default and
// multiarch directories. Candidates of another ELF class, byte order or
// machine are skipped. $ORIGIN is the real directory of the executable
// (ld.so uses /proc/self/exe) and the directory a library was found in.
//
// Not an ELF file -> error. Static ELF (no PT_INTERP and no DT_NEEDED) ->
// empty Deps, nil.
func ELFDeps(root, p string) (Deps, error) {
	p = path.Clean(inRootAbs(p))
	real, err := resolve(root, p, true)
	if err != nil {
		return Deps{}, err
	}
	obj, err := readELF(hostPath(root, real))
	if err != nil {
		return Deps{}, fmt.Errorf("%s: %w", p, err)
	}
	if obj.interp == "" && len(obj.needed) == 0 {
		return Deps{}, nil
	}
	r := &depResolver{root: root, main: obj, files: map[string]bool{}, ok: map[string]bool{}}
	d := Deps{Interp: obj.interp}
	var missing []string

	// loaded holds every name a NEEDED entry can match without a search:
	// ld.so compares against the names and sonames of loaded objects.
	loaded := map[string]bool{}
	seenReal := map[string]bool{real: true}
	if obj.interp != "" {
		ip := inRootAbs(obj.interp)
		ireal, err := resolve(root, ip, true)
		if err == nil && r.isRegular(ireal) {
			r.addChain(ip)
			seenReal[ireal] = true
			loaded[obj.interp] = true
			if iobj, err := readELF(hostPath(root, ireal)); err == nil && iobj.soname != "" {
				loaded[iobj.soname] = true
			}
			// musl's loader is libc: it satisfies libc.so and friends itself.
			if strings.HasPrefix(path.Base(ip), "ld-musl-") {
				for _, n := range []string{"libc.so", "libdl.so", "libm.so", "libpthread.so", "librt.so", "libutil.so", "libxnet.so"} {
					loaded[n] = true
				}
			}
		} else {
			missing = append(missing, obj.interp)
		}
	}

	queue := []*loadNode{{obj: obj, origin: path.Dir(real)}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, name := range n.obj.needed {
			if loaded[name] {
				continue
			}
			loaded[name] = true
			found, ok := r.find(name, n)
			if !ok {
				missing = append(missing, name)
				continue
			}
			r.addChain(found)
			freal, err := resolve(root, found, true)
			if err != nil || seenReal[freal] {
				continue
			}
			seenReal[freal] = true
			lib, err := readELF(hostPath(root, freal))
			if err != nil {
				continue // find already vetted it; nothing more to learn
			}
			if lib.soname != "" {
				loaded[lib.soname] = true
			}
			queue = append(queue, &loadNode{obj: lib, origin: path.Dir(found), loader: n})
		}
	}

	for f := range r.files {
		d.Files = append(d.Files, f)
	}
	sort.Strings(d.Files)
	d.Missing = dedupSorted(missing)
	return d, nil
}

func dedupSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (r *depResolver) isRegular(real string) bool {
	fi, err := os.Lstat(hostPath(r.root, real))
	return err == nil && fi.Mode().IsRegular()
}

// usable reports whether cand is an ELF ld.so would accept for the executable:
// same class, byte order and machine.
func (r *depResolver) usable(cand string) bool {
	real, err := resolve(r.root, cand, true)
	if err != nil {
		return false
	}
	if ok, seen := r.ok[real]; seen {
		return ok
	}
	obj, err := readELF(hostPath(r.root, real))
	ok := err == nil && obj.class == r.main.class && obj.data == r.main.data && obj.machine == r.main.machine
	r.ok[real] = ok
	return ok
}

// find searches for the NEEDED name requested by n; it returns the path as
// found (search directory + name, cleaned).
func (r *depResolver) find(name string, n *loadNode) (string, bool) {
	if strings.Contains(name, "/") {
		cand := inRootAbs(name)
		if r.usable(cand) {
			return r.nameFor(cand), true
		}
		return "", false
	}
	var dirs []string
	if !n.obj.hasRunpath {
		for l := n; l != nil; l = l.loader {
			dirs = append(dirs, r.expand(l.obj.rpath, l)...)
		}
	}
	if n.obj.hasRunpath {
		dirs = append(dirs, r.expand(n.obj.runpath, n)...)
	}
	dirs = append(dirs, r.ldsoConf()...)
	dirs = append(dirs, defaultLibDirs(r.main)...)
	tried := map[string]bool{}
	for _, d := range dirs {
		if tried[d] {
			continue
		}
		tried[d] = true
		// Not path.Join: ".." after a symlinked directory must be resolved
		// physically, as the kernel does with the string ld.so builds.
		cand := strings.TrimSuffix(d, "/") + "/" + name
		if r.usable(cand) {
			return r.nameFor(cand), true
		}
	}
	return "", false
}

// nameFor returns the cleaned form of raw if it names the same file;
// otherwise raw with its directory resolved (a lexical clean of ".." after a
// symlinked directory would name a different file).
func (r *depResolver) nameFor(raw string) string {
	c := path.Clean(raw)
	a, err1 := resolve(r.root, c, true)
	b, err2 := resolve(r.root, raw, true)
	if err1 == nil && err2 == nil && a == b {
		return c
	}
	if p, err := resolve(r.root, raw, false); err == nil {
		return p
	}
	return c
}

// expand splits a DT_RPATH/DT_RUNPATH value and substitutes the dynamic
// string tokens ld.so knows.
func (r *depResolver) expand(list string, n *loadNode) []string {
	if list == "" {
		return nil
	}
	lib := "lib"
	if r.main.class == elf.ELFCLASS64 {
		lib = "lib64"
	}
	rep := strings.NewReplacer(
		"${ORIGIN}", n.origin, "$ORIGIN", n.origin,
		"${LIB}", lib, "$LIB", lib,
		"${PLATFORM}", platform(r.main.machine), "$PLATFORM", platform(r.main.machine),
	)
	var out []string
	for _, e := range strings.Split(list, ":") {
		e = rep.Replace(e)
		// An empty or relative entry is relative to the working directory: "/".
		out = append(out, inRootAbs(e))
	}
	return out
}

func platform(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i686"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// defaultLibDirs are the trusted directories ld.so falls back to, with the
// Debian-style multiarch directories of the executable's machine first.
func defaultLibDirs(obj *elfObj) []string {
	var triplets []string
	switch obj.machine {
	case elf.EM_X86_64:
		if obj.class == elf.ELFCLASS32 {
			triplets = []string{"x86_64-linux-gnux32"}
		} else {
			triplets = []string{"x86_64-linux-gnu"}
		}
	case elf.EM_AARCH64:
		triplets = []string{"aarch64-linux-gnu"}
	case elf.EM_386:
		triplets = []string{"i386-linux-gnu"}
	case elf.EM_ARM:
		triplets = []string{"arm-linux-gnueabihf", "arm-linux-gnueabi"}
	case elf.EM_RISCV:
		triplets = []string{"riscv64-linux-gnu"}
	case elf.EM_PPC64:
		if obj.data == elf.ELFDATA2LSB {
			triplets = []string{"powerpc64le-linux-gnu"}
		} else {
			triplets = []string{"powerpc64-linux-gnu"}
		}
	case elf.EM_S390:
		triplets = []string{"s390x-linux-gnu"}
	}
	var dirs []string
	for _, t := range triplets {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	return append(dirs, "/lib", "/usr/lib", "/lib64", "/usr/lib64")
}

// ldsoConf returns the directories listed in /etc/ld.so.conf inside root,
// following include directives.
func (r *depResolver) ldsoConf() []string {
	if !r.confSet {
		r.confSet = true
		r.parseConf("/etc/ld.so.conf", 0, map[string]bool{})
	}
	return r.conf
}

func (r *depResolver) parseConf(file string, depth int, seen map[string]bool) {
	real, err := resolve(r.root, file, true)
	if err != nil || depth > maxConfDepth || seen[real] || !r.isRegular(real) {
		return
	}
	seen[real] = true
	f, err := os.Open(hostPath(r.root, real))
	if err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, maxConfSize))
	f.Close()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "include":
			for _, pat := range fields[1:] {
				if !path.IsAbs(pat) {
					pat = path.Join(path.Dir(file), pat)
				}
				for _, m := range globIn(r.root, pat) {
					r.parseConf(m, depth+1, seen)
				}
			}
			continue
		case "hwcap":
			continue
		}
		// ldconfig also accepts ':' and ',' as separators and a legacy "=TYPE" suffix.
		for _, d := range strings.FieldsFunc(line, func(c rune) bool {
			return c == ' ' || c == '\t' || c == ':' || c == ',' || c == '\r'
		}) {
			if i := strings.IndexByte(d, '='); i >= 0 {
				d = d[:i]
			}
			if path.IsAbs(d) {
				r.conf = append(r.conf, d)
			}
		}
	}
}

// globIn expands a glob pattern (absolute, in-root) component by component,
// listing directories through the in-root resolver. Results are sorted like glob(3).
func globIn(root, pattern string) []string {
	cur := []string{"/"}
	for _, comp := range strings.Split(path.Clean(pattern), "/") {
		if comp == "" {
			continue
		}
		var next []string
		if !strings.ContainsAny(comp, `*?[\`) {
			for _, c := range cur {
				next = append(next, path.Join(c, comp))
			}
		} else {
			for _, c := range cur {
				real, err := resolve(root, c, true)
				if err != nil {
					continue
				}
				ents, err := os.ReadDir(hostPath(root, real))
				if err != nil {
					continue
				}
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(comp, ".") {
						continue
					}
					if ok, _ := path.Match(comp, e.Name()); ok {
						next = append(next, path.Join(c, e.Name()))
					}
				}
			}
		}
		cur = next
	}
	sort.Strings(cur)
	return cur
}

// addChain records p and, when p is a symlink, every link of its chain up to
// the file, so that a builder copying Files (symlinks as symlinks, parent
// directories as real directories) reproduces working links. A hop is named
// relative to the link's name when that names the same file (what such a
// copy needs), else relative to its real directory (what the kernel does).
func (r *depResolver) addChain(p string) {
	p = r.nameFor(p)
	want, err := resolve(r.root, p, true)
	if err != nil {
		return
	}
	cur := p
	for i := 0; i <= maxSymlinks; i++ {
		r.files[cur] = true
		lp, err := resolve(r.root, cur, false)
		if err != nil {
			break
		}
		fi, err := os.Lstat(hostPath(r.root, lp))
		if err != nil {
			break
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return
		}
		t, err := os.Readlink(hostPath(r.root, lp))
		if err != nil || t == "" {
			break
		}
		next := path.Clean(t)
		if !path.IsAbs(t) {
			next = path.Join(path.Dir(lp), t)
			if lex := path.Join(path.Dir(cur), t); lex != next && r.sameFile(lex, want) {
				next = lex
			}
		}
		if !r.sameFile(next, want) {
			break // lexical cleaning went wrong somewhere; fall back below
		}
		cur = next
	}
	r.files[want] = true
}

func (r *depResolver) sameFile(p, real string) bool {
	q, err := resolve(r.root, p, true)
	return err == nil && q == real
}
