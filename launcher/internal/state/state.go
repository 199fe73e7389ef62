// Package state is the launcher's state directory: one sub-directory per
// container holding a docker-inspect-shaped state.json. There is no daemon,
// so every launcher process reads and writes it directly; flock(2) locks and
// write-to-temp-then-rename keep it consistent under many concurrent
// launchers.
//
// Layout:
//
//	<root>/.lock            store-wide lock (name uniqueness in Create)
//	<root>/<id>/state.json  the Container, replaced atomically
//	<root>/<id>/lock        per-container lock (Update, Remove)
//	<root>/<id>/...         other per-container files the launcher keeps
//	<root>/.new-*, .rm-*    directories being created or removed (hidden)
package state

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultRoot is the state directory when --root is not given.
const DefaultRoot = "/run/stdcontainer"

// Container statuses, as docker reports them in State.Status.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
)

const (
	stateFile = "state.json"
	lockFile  = "lock"
	storeLock = ".lock"
	// rmPrefix marks a directory renamed away by Remove; readers skip
	// dot-names, so a removal is atomic even though RemoveAll is not.
	rmPrefix = ".rm-"
	// newPrefix marks a directory Create is still filling in.
	newPrefix = ".new-"
	// maxName bounds names so they fit hostnames-ish uses and error messages.
	maxName = 128
)

// ErrNotFound is wrapped by every "no such container" error.
var ErrNotFound = errors.New("no such container")

// ErrExists is wrapped when Create is given an id that is already in use.
var ErrExists = errors.New("container already exists")

// ErrNameInUse matches (errors.Is) the error Create returns for a taken name.
var ErrNameInUse = errors.New("container name already in use")

// nameInUseError carries the exact user-facing message while still
// matching ErrNameInUse.
type nameInUseError struct{ name, id string }

func (e *nameInUseError) Error() string {
	return fmt.Sprintf("name %q is already used by container %s; remove it with launcher rm %s",
		e.name, shortID(e.id), e.name)
}

func (e *nameInUseError) Is(target error) bool { return target == ErrNameInUse }

// CorruptError reports a state.json that exists but cannot be decoded. It
// carries the container id so a caller can still remove the container.
type CorruptError struct {
	ID   string
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt container state %s: %v", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Store is the state directory, /run/stdcontainer by default (--root overrides).
type Store struct {
	Root string
}

// Container is the state of one container, shaped like `docker inspect`
// output so inspect can print it as is.
type Container struct {
	Id              string
	Created         string // RFC 3339 nano, UTC
	Path            string // the entry point
	Args            []string
	Name            string // the plain name (no leading "/"), "" when none
	State           State
	Config          Config
	HostConfig      HostConfig
	NetworkSettings NetworkSettings

	// MonitorPid is the launcher process (foreground) or monitor (detached)
	// that owns the container and will record its exit.
	MonitorPid int
	// PidStartTime is State.Pid's start time (field 22 of /proc/PID/stat),
	// so a recycled pid is not mistaken for the container.
	PidStartTime uint64
	// CgroupPaths are the container's cgroup directories, one per
	// hierarchy, so that gc can remove them after a crash.
	CgroupPaths []string `json:",omitempty"`
	// Bundle and Annotations: a container made by the OCI front, for
	// `state` (the OCI state's bundle and annotations).
	Bundle      string            `json:",omitempty"`
	Annotations map[string]string `json:",omitempty"`
	// Hooks are its OCI hooks: `start` runs the poststart ones (for a
	// container nobody monitors), `delete` the poststop ones.
	Hooks *specs.Hooks `json:",omitempty"`
}

// State is the container's run state, as in docker inspect.
type State struct {
	Status     string // StatusCreated, StatusRunning or StatusExited
	Running    bool
	Paused     bool // frozen (OCI pause)
	Pid        int
	ExitCode   int
	StartedAt  string
	FinishedAt string
	Error      string
}

// Config is the container's configuration, as in docker inspect.
type Config struct {
	Hostname   string
	Env        []string
	Cmd        []string
	Image      string // the rootfs path
	WorkingDir string
	User       string
	OSRelease  map[string]string // the image's /etc/os-release fields
	Tty        bool
	OpenStdin  bool
	StopSignal string
}

// HostConfig is the host-side configuration, as in docker inspect.
type HostConfig struct {
	Binds          []string
	Tmpfs          map[string]string
	ReadonlyRootfs bool
	AutoRemove     bool
	Init           bool
	NetworkMode    string
	// The confinement, as docker inspect shows it: the effective
	// capabilities (CapAdd/CapDrop as given), --privileged, the
	// --security-opt values, and the masked and read-only paths.
	Capabilities  []string `json:",omitempty"`
	CapAdd        []string `json:",omitempty"`
	CapDrop       []string `json:",omitempty"`
	Privileged    bool
	SecurityOpt   []string `json:",omitempty"`
	MaskedPaths   []string `json:",omitempty"`
	ReadonlyPaths []string `json:",omitempty"`
	// UsernsMode is "" (the host's user namespace), "auto", "map" or
	// "rootless"; the maps are the container's id mappings then.
	UsernsMode string                 `json:",omitempty"`
	UIDMaps    []specs.LinuxIDMapping `json:",omitempty"`
	GIDMaps    []specs.LinuxIDMapping `json:",omitempty"`

	// The resource limits applied, with docker's names and units.
	Memory               int64            // bytes, 0 = unlimited
	MemorySwap           int64            // memory+swap bytes, -1 = unlimited
	MemoryReservation    int64            //
	NanoCpus             int64            // --cpus × 1e9
	CpuShares            int64            //
	CpusetCpus           string           //
	CpusetMems           string           //
	PidsLimit            int64            // 0 = unset, -1 = unlimited
	BlkioWeight          uint16           //
	BlkioDeviceReadBps   []ThrottleDevice `json:",omitempty"`
	BlkioDeviceWriteBps  []ThrottleDevice `json:",omitempty"`
	BlkioDeviceReadIOps  []ThrottleDevice `json:",omitempty"`
	BlkioDeviceWriteIOps []ThrottleDevice `json:",omitempty"`
	CgroupParent         string           //
	Cgroup               string           // the container's cgroup path (in its hierarchies)
}

// ThrottleDevice is one disk IO limit, as docker inspect shows it.
type ThrottleDevice struct {
	Path string
	Rate uint64
}

// NetworkSettings describes the container's network, as in docker inspect.
type NetworkSettings struct {
	Mode        string // "private", "host" or "nat"
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
	Bridge      string
	HostVeth    string
	// Ports maps "CTRPORT/PROTO" to the host bindings, as docker shows them.
	Ports map[string][]PortBinding `json:",omitempty"`
}

// PortBinding is one published port's host side.
type PortBinding struct {
	HostIp   string
	HostPort string
}

// Open returns the store at root, creating the directory (mode 0700) if needed.
func Open(root string) (*Store, error) {
	if root == "" {
		root = DefaultRoot
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("state directory %s: not a directory", root)
	}
	return &Store{Root: root}, nil
}

// NewID returns a fresh container id: 64 lower-case hex digits.
func NewID() (string, error) {
	var b [32]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("container id: %w", err)
		}
		id := hex.EncodeToString(b[:])
		// Like docker, avoid short ids that are all digits: tools (and
		// YAML, shells doing arithmetic) may take them for numbers.
		if strings.Trim(id[:12], "0123456789") != "" {
			return id, nil
		}
	}
}

// UUID returns an RFC 4122 version-4-shaped UUID derived from the id's
// first 32 hex digits, so the same container always gets the same UUID
// (for /etc/machine-id style uses). An id without 32 leading hex digits is
// hashed first, so any string yields a well-formed UUID.
func UUID(id string) string {
	var b [16]byte
	if len(id) < 32 || !isLowerHex(strings.ToLower(id[:32])) {
		sum := sha256.Sum256([]byte(id))
		copy(b[:], sum[:16])
	} else {
		hex.Decode(b[:], []byte(strings.ToLower(id[:32]))) // cannot fail: checked above
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10xx (RFC 4122)
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ValidName reports whether name is a valid container name: docker's rule
// [a-zA-Z0-9][a-zA-Z0-9_.-]*, 1 to 128 characters.
func ValidName(name string) error {
	const rule = "must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be 1 to 128 characters"
	if name == "" || len(name) > maxName {
		return fmt.Errorf("invalid container name %q: %s", name, rule)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return fmt.Errorf("invalid container name %q: %s", name, rule)
		}
	}
	return nil
}

// validID reports whether id is a full container id. Only such ids are
// ever joined to Root, so no ref can reach outside the store.
func validID(id string) bool {
	return len(id) == 64 && isLowerHex(id)
}

// IsID reports whether s has the shape of a container ID (64 lower-case
// hex digits), as opposed to a name.
func IsID(s string) bool { return validID(s) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Now returns the current time in the format of Created, StartedAt and FinishedAt.
func Now() string {
	return time.Now().UTC().Format(time.RFC3339Nano)
}

// Dir returns <root>/<id>, where the launcher keeps per-container files.
// id must be a full id (as from NewID or Container.Id).
func (s *Store) Dir(id string) string {
	return filepath.Join(s.Root, id)
}

func (s *Store) statePath(id string) string { return filepath.Join(s.Root, id, stateFile) }

// Create records a new container. Under the store-wide lock it refuses an
// id that exists or a name any other container (live or exited) has, then
// writes <root>/<id>/state.json atomically. An empty c.Created is set to Now.
func (s *Store) Create(c *Container) error {
	if !validID(c.Id) {
		return fmt.Errorf("create container: invalid id %q (want 64 lower-case hex digits)", c.Id)
	}
	if c.Name != "" {
		if err := ValidName(c.Name); err != nil {
			return err
		}
	}
	if c.Created == "" {
		c.Created = Now()
	}
	data, err := c.JSON()
	if err != nil {
		return fmt.Errorf("create container %s: %w", shortID(c.Id), err)
	}

	// The store lock makes check-name-then-create atomic across processes.
	unlock, err := lock(filepath.Join(s.Root, storeLock), true)
	if err != nil {
		return err
	}
	defer unlock()

	if c.Name != "" {
		entries, err := s.scan()
		if err != nil {
			return err
		}
		for _, e := range entries {
			// A corrupt state's name is unknown; it cannot block a name.
			if e.c != nil && e.c.Name == c.Name && e.id != c.Id {
				return &nameInUseError{name: c.Name, id: e.id}
			}
		}
	}

	// Build the directory under a hidden name and rename it into place, so
	// it never appears without its lock file and state.json. Checking for
	// the id and then renaming is race-free: only Create makes container
	// directories, and it holds the store lock.
	dir := s.Dir(c.Id)
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("create container %s: %w", c.Id, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("create container: %w", err)
	}
	tmp, err := os.MkdirTemp(s.Root, newPrefix) // mode 0700
	if err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	err = os.WriteFile(filepath.Join(tmp, lockFile), nil, 0o600)
	if err == nil {
		err = writeAtomic(tmp, data)
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("create container %s: %w", shortID(c.Id), err)
	}
	return nil
}

// Update does a read-modify-write of the container's state under its lock,
// so concurrent Updates (from any process) never lose one another's changes.
// If fn returns an error nothing is written and that error is returned.
func (s *Store) Update(id string, fn func(*Container) error) error {
	if !validID(id) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	unlock, err := s.lockContainer(id)
	if err != nil {
		return err
	}
	defer unlock()

	// Read only after locking: the state read before could be stale.
	c, err := s.load(id)
	if err != nil {
		return err
	}
	name := c.Name
	if err := fn(c); err != nil {
		return err
	}
	if c.Id != id {
		return fmt.Errorf("update container %s: Id may not change (to %q)", shortID(id), c.Id)
	}
	if c.Name != name {
		// Name uniqueness is only checked under the store lock, in Create.
		return fmt.Errorf("update container %s: Name may not change (to %q)", shortID(id), c.Name)
	}
	data, err := c.JSON()
	if err != nil {
		return fmt.Errorf("update container %s: %w", shortID(id), err)
	}
	return writeAtomic(s.Dir(id), data)
}

// lockContainer takes <root>/<id>/lock. The file is made by Create and
// never created here: an O_CREAT racing with Remove's rename could drop a
// new file into the directory being deleted. Missing means the container
// does not exist (or was just removed).
func (s *Store) lockContainer(id string) (func(), error) {
	unlock, err := lock(filepath.Join(s.Dir(id), lockFile), false)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return unlock, err
}

// Get resolves ref, which is a full id, a name, or a unique id prefix, in
// that order of precedence (as docker: a name beats a prefix).
func (s *Store) Get(ref string) (*Container, error) {
	if validID(ref) {
		c, err := s.load(ref)
		if !errors.Is(err, ErrNotFound) {
			return c, err
		}
		// Fall through: a 64-hex-digit ref could still be a name.
	}
	if ref == "" {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	entries, err := s.scan()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.c != nil && e.c.Name == ref {
			return e.c, nil
		}
	}
	if isLowerHex(ref) {
		var match []entry
		for _, e := range entries {
			if strings.HasPrefix(e.id, ref) {
				match = append(match, e)
			}
		}
		switch {
		case len(match) == 1:
			return match[0].c, match[0].err
		case len(match) > 1:
			return nil, fmt.Errorf("container id prefix %q is ambiguous: %d containers match", ref, len(match))
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
}

// List returns every container, oldest first. Directories without a
// state.json (made by hand, by an older launcher, or damaged) are
// skipped; a state.json that cannot be decoded is reported as a
// *CorruptError (joined, if several) so it is not silently hidden.
func (s *Store) List() ([]*Container, error) {
	entries, err := s.scan()
	if err != nil {
		return nil, err
	}
	var list []*Container
	var errs []error
	for _, e := range entries {
		if e.err != nil {
			errs = append(errs, e.err)
			continue
		}
		list = append(list, e.c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(list, func(i, j int) bool {
		ti, tj := parseTime(list[i].Created), parseTime(list[j].Created)
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return list[i].Id < list[j].Id // deterministic order for equal times
	})
	return list, nil
}

// parseTime parses a Created stamp; RFC 3339 nano strings trim trailing
// zeros, so they do not sort correctly as strings. Garbage sorts first.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Remove deletes <root>/<id> entirely. It waits for in-flight Updates, then
// renames the directory out of sight before deleting it, so readers see the
// container either whole or gone.
func (s *Store) Remove(id string) error {
	if !validID(id) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	unlock, err := s.lockContainer(id)
	if errors.Is(err, ErrNotFound) {
		// A directory without a lock file was not made by Create (or is
		// damaged); no Update can hold it, so remove it unlocked.
		if fi, serr := os.Lstat(s.Dir(id)); serr != nil || !fi.IsDir() {
			return err
		}
		unlock = func() {}
	} else if err != nil {
		return err
	}
	var r [8]byte
	rand.Read(r[:])
	trash := filepath.Join(s.Root, rmPrefix+id+"-"+hex.EncodeToString(r[:]))
	err = os.Rename(s.Dir(id), trash)
	unlock()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	return nil
}

// JSON returns the container as indented (2 spaces), deterministic JSON:
// struct fields in declaration order, map keys sorted, no HTML escaping
// (inspect output is read by people and jq, not browsers).
func (c *Container) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// entry is one container directory found by scan: c on success, err if its
// state.json is corrupt.
type entry struct {
	id  string
	c   *Container
	err error
}

// scan reads every container directory, skipping hidden names, foreign
// files and directories without state.json.
func (s *Store) scan() ([]entry, error) {
	des, err := os.ReadDir(s.Root)
	if err != nil {
		return nil, fmt.Errorf("read state directory %s: %w", s.Root, err)
	}
	var out []entry
	for _, de := range des {
		id := de.Name()
		if !de.IsDir() || !validID(id) {
			continue
		}
		c, err := s.load(id)
		if errors.Is(err, ErrNotFound) {
			continue // no state yet, or removed since ReadDir
		}
		var ce *CorruptError
		if err != nil && !errors.As(err, &ce) {
			return nil, err
		}
		out = append(out, entry{id: id, c: c, err: err})
	}
	return out, nil
}

// load reads <root>/<id>/state.json. id must be valid.
func (s *Store) load(id string) (*Container, error) {
	path := s.statePath(id)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("read container state: %w", err)
	}
	return decode(id, path, data)
}

// decode parses a state file and checks it belongs to id, so a file copied
// or written into the wrong directory is not taken for another container.
func decode(id, path string, data []byte) (*Container, error) {
	var c Container
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, &CorruptError{ID: id, Path: path, Err: err}
	}
	if c.Id != id {
		return nil, &CorruptError{ID: id, Path: path, Err: fmt.Errorf("Id %q does not match its directory", c.Id)}
	}
	if c.Name != "" && ValidName(c.Name) != nil {
		return nil, &CorruptError{ID: id, Path: path, Err: fmt.Errorf("invalid Name %q", c.Name)}
	}
	return &c, nil
}

// writeAtomic replaces dir/state.json with data (see WriteFile).
func writeAtomic(dir string, data []byte) error {
	err := WriteFile(filepath.Join(dir, stateFile), append(data, '\n'))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNotFound, filepath.Base(dir)) // removed meanwhile
	}
	if err != nil {
		return fmt.Errorf("write container state: %w", err)
	}
	return nil
}

// WriteFile replaces path with data (mode 0600) as the store replaces a
// state.json: through a temp file in the same directory, synced, then
// renamed over path, so readers (who take no lock) see the old content or
// the new, never part of it. For the files other packages keep under
// Root.
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		// Sync before rename so a crash on a disk-backed --root leaves the
		// old or the new file, never an empty one.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Lock takes an exclusive flock(2) on path, creating the file (mode 0600)
// if needed, and returns the function that releases it: the store's
// locking, for the files other packages keep under Root.
func Lock(path string) (func(), error) { return lock(path, true) }

// lock takes an exclusive flock on path (created if needed) and returns the
// function that releases it. flock locks belong to the open file, so this
// excludes goroutines of one process as well as other processes, and the
// kernel drops the lock if the process dies.
func lock(path string, create bool) (func(), error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// StartTime returns field 22 (starttime, in clock ticks since boot) of
// /proc/PID/stat. Together with the pid it names a process uniquely.
func StartTime(pid int) (uint64, error) {
	_, start, err := procStat(pid)
	return start, err
}

// procStat returns the state letter (field 3) and start time (field 22) of
// pid. Fields are counted after the last ')', because comm (field 2) may
// itself contain spaces and parentheses.
func procStat(pid int) (byte, uint64, error) {
	if pid <= 0 {
		return 0, 0, fmt.Errorf("invalid pid %d", pid)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStat(pid, data)
}

func parseStat(pid int, data []byte) (byte, uint64, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return f[0][0], start, nil
}

// dead reports a zombie or dead state letter: the process has exited even
// though its pid is not yet reaped.
func dead(state byte) bool { return state == 'Z' || state == 'X' || state == 'x' }

// Alive reports whether the container's process still runs: State.Pid > 0
// and /proc/PID/stat's start time equals PidStartTime (so a recycled pid is
// not taken for the container). An exited but unreaped (zombie) process is
// not alive.
func Alive(c *Container) bool {
	if c == nil || c.State.Pid <= 0 {
		return false
	}
	state, start, err := procStat(c.State.Pid)
	return err == nil && start == c.PidStartTime && !dead(state)
}

// Owned reports whether the container's owner (MonitorPid) still runs:
// /proc/MonitorPid exists and is not a zombie. If not, nobody will record
// the container's exit, and whoever notices must clean up.
func Owned(c *Container) bool {
	if c == nil || c.MonitorPid <= 0 {
		return false
	}
	state, _, err := procStat(c.MonitorPid)
	return err == nil && !dead(state)
}
