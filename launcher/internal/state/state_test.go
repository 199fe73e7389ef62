package state

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a separate launcher process
// (see TestMain), so locking is tested across processes, not just goroutines.
const helperEnv = "STATE_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "create" {
		os.Exit(helperCreate())
	}
	os.Exit(m.Run())
}

// helperCreate waits for the start file, then tries to create a container
// named $STATE_TEST_NAME; exit 0 = won, 3 = name in use, 1 = other error.
func helperCreate() int {
	root, name := os.Getenv("STATE_TEST_ROOT"), os.Getenv("STATE_TEST_NAME")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(filepath.Join(root, "go")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "helper: no start signal")
			return 1
		}
		time.Sleep(time.Millisecond)
	}
	s, err := Open(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = s.Create(newContainer(name))
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrNameInUse):
		return 3
	default:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
}

func newContainer(name string) *Container {
	id, err := NewID()
	if err != nil {
		panic(err)
	}
	return &Container{
		Id:    id,
		Name:  name,
		Path:  "/bin/sh",
		Args:  []string{"-c", "true"},
		State: State{Status: StatusCreated},
		Config: Config{
			Cmd:       []string{"/bin/sh", "-c", "true"},
			Image:     "/var/lib/images/alpine",
			OSRelease: map[string]string{"ID": "alpine", "NAME": "Alpine Linux"},
		},
		HostConfig:      HostConfig{Tmpfs: map[string]string{"/tmp": "", "/run": "size=64m"}},
		NetworkSettings: NetworkSettings{Mode: "private"},
	}
}

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCreate(t testing.TB, s *Store, c *Container) *Container {
	t.Helper()
	if err := s.Create(c); err != nil {
		t.Fatal(err)
	}
	return c
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		if !hex64.MatchString(id) {
			t.Fatalf("NewID() = %q, want 64 lower-case hex digits", id)
		}
		if strings.Trim(id[:12], "0123456789") == "" {
			t.Fatalf("NewID() = %q: short id is all digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	id := strings.Repeat("f", 64)
	if got, want := UUID(id), "ffffffff-ffff-4fff-bfff-ffffffffffff"; got != want {
		t.Errorf("UUID(f...) = %q, want %q", got, want)
	}
	id = strings.Repeat("0", 64)
	if got, want := UUID(id), "00000000-0000-4000-8000-000000000000"; got != want {
		t.Errorf("UUID(0...) = %q, want %q", got, want)
	}
	id = "0123456789abcdef0123456789abcdef" + strings.Repeat("9", 32)
	if got, want := UUID(id), "01234567-89ab-4def-8123-456789abcdef"; got != want {
		t.Errorf("UUID(%s) = %q, want %q", id, got, want)
	}
	for range 100 {
		id, _ := NewID()
		u := UUID(id)
		if !re.MatchString(u) {
			t.Fatalf("UUID(%s) = %q, not v4-shaped", id, u)
		}
		if UUID(id) != u {
			t.Fatalf("UUID(%s) not deterministic", id)
		}
		// Only the first 32 hex digits count.
		if UUID(id[:32]+strings.Repeat("0", 32)) != u {
			t.Fatalf("UUID(%s) depends on more than the first 32 digits", id)
		}
	}
	for _, odd := range []string{"", "abc", "x" + strings.Repeat("a", 40)} {
		if u := UUID(odd); !re.MatchString(u) {
			t.Errorf("UUID(%q) = %q, not v4-shaped", odd, u)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"web", true},
		{"Web-1.prod_x", true},
		{"0abc", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"-a", false},
		{"_a", false},
		{".a", false},
		{"/a", false},
		{"a/b", false},
		{"a b", false},
		{"a:b", false},
		{"..", false},
		{"é", false},
		{"a\n", false},
	} {
		err := ValidName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "[a-zA-Z0-9][a-zA-Z0-9_.-]*") {
			t.Errorf("ValidName(%q) error %q does not state the rule", tc.name, err)
		}
	}
}

func TestOpen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Root)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("root %s: %v %v", root, fi.Mode(), err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(filepath.Join(file, "x")); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open under a file: err %v, want one naming %s", err, file)
	}
}

func TestRoundTrip(t *testing.T) {
	s := openStore(t)
	c := mustCreate(t, s, newContainer("web"))
	if c.Created == "" {
		t.Fatal("Create did not set Created")
	}
	fi, err := os.Stat(filepath.Join(s.Dir(c.Id), "state.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state.json: %v %v", fi, err)
	}
	if s.Dir(c.Id) != filepath.Join(s.Root, c.Id) {
		t.Errorf("Dir = %s", s.Dir(c.Id))
	}

	got, err := s.Get(c.Id)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := c.JSON()
	if b, _ := got.JSON(); string(b) != string(want) {
		t.Fatalf("Get returned\n%s\nwant\n%s", b, want)
	}

	err = s.Update(c.Id, func(c *Container) error {
		c.State = State{Status: StatusRunning, Running: true, Pid: 42, StartedAt: Now()}
		c.MonitorPid = 7
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get("web")
	if got.State.Pid != 42 || !got.State.Running || got.MonitorPid != 7 || got.Config.OSRelease["ID"] != "alpine" {
		t.Fatalf("after Update: %+v", got)
	}

	// fn's error aborts the update and is returned as is.
	boom := errors.New("boom")
	if err := s.Update(c.Id, func(c *Container) error { c.State.Pid = 1; return boom }); err != boom {
		t.Fatalf("Update error = %v, want boom", err)
	}
	if got, _ := s.Get(c.Id); got.State.Pid != 42 {
		t.Fatal("failed Update was written")
	}
	if err := s.Update(c.Id, func(c *Container) error { c.Name = "other"; return nil }); err == nil {
		t.Fatal("Update allowed a rename")
	}
	if err := s.Update(c.Id, func(c *Container) error { c.Id = "x"; return nil }); err == nil {
		t.Fatal("Update allowed changing Id")
	}

	c2 := mustCreate(t, s, newContainer(""))
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Id != c.Id || list[1].Id != c2.Id {
		t.Fatalf("List = %v, %v", list, err)
	}

	if err := s.Remove(c.Id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir(c.Id)); !os.IsNotExist(err) {
		t.Fatalf("dir still there: %v", err)
	}
	if _, err := s.Get(c.Id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if err := s.Remove(c.Id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove: %v", err)
	}
	if err := s.Update(c.Id, func(*Container) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update after Remove: %v", err)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Fatalf("List after Remove = %d", len(list))
	}
	// No trash left behind.
	des, _ := os.ReadDir(s.Root)
	for _, de := range des {
		if strings.HasPrefix(de.Name(), rmPrefix) {
			t.Errorf("left %s", de.Name())
		}
	}
}

func TestCreateRefuses(t *testing.T) {
	s := openStore(t)
	c := mustCreate(t, s, newContainer("x"))
	dup := *c
	dup.Name = ""
	if err := s.Create(&dup); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate id: %v", err)
	}
	for _, id := range []string{"", "../etc", strings.ToUpper(c.Id), c.Id[:63]} {
		bad := newContainer("")
		bad.Id = id
		if err := s.Create(bad); err == nil {
			t.Errorf("Create(id %q) succeeded", id)
		}
	}
	if err := s.Create(newContainer("bad name")); err == nil {
		t.Error("Create with invalid name succeeded")
	}
}

func TestDuplicateName(t *testing.T) {
	s := openStore(t)
	first := mustCreate(t, s, newContainer("x"))
	// An exited container keeps its name too.
	s.Update(first.Id, func(c *Container) error { c.State.Status = StatusExited; return nil })
	err := s.Create(newContainer("x"))
	want := fmt.Sprintf(`name "x" is already used by container %s; remove it with launcher rm x`, first.Id[:12])
	if err == nil || err.Error() != want || !errors.Is(err, ErrNameInUse) {
		t.Fatalf("duplicate name: %v\nwant %s", err, want)
	}
	if err := s.Remove(first.Id); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, newContainer("x"))
}

func TestGet(t *testing.T) {
	s := openStore(t)
	a, b := newContainer("alpha"), newContainer("")
	a.Id = "abc1" + strings.Repeat("0", 60)
	b.Id = "abc2" + strings.Repeat("0", 60)
	mustCreate(t, s, a)
	mustCreate(t, s, b)
	// A container whose name looks like a prefix of the others.
	n := newContainer("abc")
	n.Id = "f" + strings.Repeat("1", 63)
	mustCreate(t, s, n)

	for _, tc := range []struct {
		ref, want string // want "" = error
		notFound  bool
	}{
		{a.Id, a.Id, false},
		{"abc1", a.Id, false},
		{"abc2", b.Id, false},
		{"a", "", false}, // ambiguous
		{"ab", "", false},
		{"abc", n.Id, false}, // name beats prefix
		{"alpha", a.Id, false},
		{"f", n.Id, false},
		{"Alpha", "", true},
		{"abc3", "", true},
		{"", "", true},
		{"../x", "", true},
		{"abc1" + strings.Repeat("0", 61), "", true},
	} {
		c, err := s.Get(tc.ref)
		switch {
		case tc.want != "" && (err != nil || c.Id != tc.want):
			t.Errorf("Get(%q) = %v, %v; want %s", tc.ref, c, err, tc.want)
		case tc.want == "" && err == nil:
			t.Errorf("Get(%q) = %s, want error", tc.ref, c.Id)
		case tc.want == "" && errors.Is(err, ErrNotFound) != tc.notFound:
			t.Errorf("Get(%q) error %v, notFound want %v", tc.ref, err, tc.notFound)
		}
	}
	if _, err := s.Get("ab"); err == nil || !strings.Contains(err.Error(), "2 containers") {
		t.Errorf("ambiguous error %v does not say how many match", err)
	}
	if _, err := s.Get("nope"); err == nil || err.Error() != "no such container: nope" {
		t.Errorf("missing error = %v", err)
	}
}

func TestListSkipsHalfWritten(t *testing.T) {
	s := openStore(t)
	old := newContainer("")
	old.Created = "2020-01-01T00:00:00.5Z"
	newer := newContainer("")
	newer.Created = "2020-01-01T00:00:00.25Z" // sorts after "…00.5Z" as a string, before it as a time
	mustCreate(t, s, old)
	mustCreate(t, s, newer)
	mustCreate(t, s, newContainer("")) // now

	id, _ := NewID()
	os.Mkdir(s.Dir(id), 0o700) // a Create that died before writing state.json
	os.WriteFile(filepath.Join(s.Root, "stray"), nil, 0o600)
	os.Mkdir(filepath.Join(s.Root, ".rm-x"), 0o700)

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Id != newer.Id || list[1].Id != old.Id {
		t.Fatalf("List order wrong: %d entries", len(list))
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(half-written) = %v", err)
	}
	if _, err := s.Get(id[:10]); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(half-written prefix) = %v", err)
	}
	// Its id stays taken, and it can be removed.
	c := newContainer("")
	c.Id = id
	if err := s.Create(c); !errors.Is(err, ErrExists) {
		t.Errorf("Create over half-written dir: %v", err)
	}
	if err := s.Remove(id); err != nil {
		t.Errorf("Remove half-written: %v", err)
	}
}

func TestCorrupt(t *testing.T) {
	s := openStore(t)
	good := mustCreate(t, s, newContainer("good"))
	bad := mustCreate(t, s, newContainer("bad"))
	os.WriteFile(filepath.Join(s.Dir(bad.Id), "state.json"), []byte(`{"Id":`), 0o600)

	var ce *CorruptError
	if _, err := s.Get(bad.Id); !errors.As(err, &ce) || ce.ID != bad.Id {
		t.Errorf("Get(corrupt) = %v", err)
	}
	if _, err := s.List(); !errors.As(err, &ce) {
		t.Errorf("List with corrupt = %v", err)
	}
	// Others still resolve, by name too.
	if c, err := s.Get("good"); err != nil || c.Id != good.Id {
		t.Errorf("Get(good) = %v", err)
	}
	if err := s.Remove(bad.Id); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 1 {
		t.Errorf("List = %v, %v", list, err)
	}
}

func TestJSON(t *testing.T) {
	c := newContainer("web")
	c.Config.Env = []string{"A=<&>"}
	b1, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if b, _ := c.JSON(); string(b) != string(b1) {
			t.Fatal("JSON not deterministic")
		}
	}
	s := string(b1)
	if !strings.HasPrefix(s, "{\n  \"Id\": ") || strings.HasSuffix(s, "\n") || !strings.Contains(s, `"A=<&>"`) {
		t.Errorf("JSON shape:\n%s", s)
	}
	if strings.Index(s, `"/run"`) > strings.Index(s, `"/tmp"`) {
		t.Error("map keys not sorted")
	}
}

// TestConcurrentCreateSameName races goroutines of one process.
func TestConcurrentCreateSameName(t *testing.T) {
	s := openStore(t)
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, inUse := 0, 0
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := s.Create(newContainer("same"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrNameInUse):
				inUse++
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 || inUse != n-1 {
		t.Fatalf("wins=%d inUse=%d, want 1 and %d", wins, inUse, n-1)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Fatalf("%d containers exist", len(list))
	}
}

// TestConcurrentCreateProcesses races separate launcher-like processes.
func TestConcurrentCreateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	s := openStore(t)
	const n = 20
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=create", "STATE_TEST_ROOT="+s.Root, "STATE_TEST_NAME=same")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	// Release them together, once all are started.
	os.WriteFile(filepath.Join(s.Root, "go"), nil, 0o600)
	wins, inUse := 0, 0
	for _, cmd := range cmds {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			wins++
		case errors.As(err, &ee) && ee.ExitCode() == 3:
			inUse++
		default:
			t.Errorf("helper: %v", err)
		}
	}
	if wins != 1 || inUse != n-1 {
		t.Fatalf("wins=%d inUse=%d, want 1 and %d", wins, inUse, n-1)
	}
	if list, _ := s.List(); len(list) != 1 || list[0].Name != "same" {
		t.Fatalf("containers: %v", list)
	}
}

func TestConcurrentUpdate(t *testing.T) {
	s := openStore(t)
	c := mustCreate(t, s, newContainer(""))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.Update(c.Id, func(c *Container) error {
				c.State.ExitCode++
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
		// Readers take no lock and must never see a partial file.
		wg.Go(func() {
			if _, err := s.Get(c.Id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.Get(c.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.ExitCode != n {
		t.Fatalf("counter = %d, want %d (lost updates)", got.State.ExitCode, n)
	}
}

// TestRemoveDuringUpdate checks Update and Remove racing leave either a
// removed container or a not-found error, never a resurrected directory.
func TestRemoveDuringUpdate(t *testing.T) {
	s := openStore(t)
	for range 20 {
		c := mustCreate(t, s, newContainer(""))
		var wg sync.WaitGroup
		wg.Go(func() {
			err := s.Update(c.Id, func(c *Container) error { c.State.ExitCode++; return nil })
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := s.Remove(c.Id); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if _, err := os.Stat(s.Dir(c.Id)); !os.IsNotExist(err) {
			t.Fatalf("dir after Remove: %v", err)
		}
	}
}

func TestStartTimeAlive(t *testing.T) {
	st, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st2, err := StartTime(os.Getpid()); err != nil || st2 != st {
		t.Fatalf("StartTime changed: %d then %d, %v", st, st2, err)
	}
	self := &Container{State: State{Pid: os.Getpid()}, PidStartTime: st, MonitorPid: os.Getpid()}
	if !Alive(self) || !Owned(self) {
		t.Fatal("this process not Alive/Owned")
	}
	if Alive(&Container{State: State{Pid: os.Getpid()}, PidStartTime: st + 1}) {
		t.Error("Alive with wrong start time (pid reuse)")
	}

	cmd := exec.Command("sleep", "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	cst, err := StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Exited but not yet reaped: a zombie neither runs nor owns anything.
	zombie := &Container{State: State{Pid: pid}, PidStartTime: cst, MonitorPid: pid}
	for deadline := time.Now().Add(5 * time.Second); Alive(zombie) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if Alive(zombie) || Owned(zombie) {
		t.Error("zombie reported alive")
	}
	cmd.Wait()
	if Alive(zombie) || Owned(zombie) {
		t.Error("dead pid reported alive")
	}
	if Alive(&Container{}) || Owned(&Container{}) || Alive(nil) || Owned(nil) {
		t.Error("pid 0 alive")
	}
}

func TestParseStat(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 98765 20 21"
	for _, comm := range []string{"sh", "a b", "x) S 1 2 3 (y", ")", "(("} {
		state, start, err := parseStat(1, []byte("123 ("+comm+")"+tail+"\n"))
		if err != nil || state != 'S' || start != 98765 {
			t.Errorf("comm %q: %c %d %v", comm, state, start, err)
		}
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1"} {
		if _, _, err := parseStat(1, []byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

// FuzzDecode feeds arbitrary bytes as a state.json: reading must error or
// succeed, never panic, and never yield a container with a foreign Id.
func FuzzDecode(f *testing.F) {
	good, _ := newContainer("web").JSON()
	f.Add(good)
	f.Add([]byte(`{"Id":`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"Id":"x","State":{"Pid":"1"}}`))
	f.Add([]byte(`{"Config":{"OSRelease":[1]}} trailing`))
	f.Add([]byte{0xff, 0xfe})
	s := openStore(f)
	id, _ := NewID()
	os.Mkdir(s.Dir(id), 0o700)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Point the fuzzed file at our id half the time, so decoding gets past the Id check.
		if len(data) > 0 && data[0]&1 == 1 {
			data = []byte(strings.Replace(string(data), `"Id"`, `"Id":"`+id+`","x"`, 1))
		}
		if err := os.WriteFile(filepath.Join(s.Dir(id), "state.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := s.Get(id)
		if err == nil && c.Id != id {
			t.Fatalf("decoded Id %q from dir %s", c.Id, id)
		}
		var ce *CorruptError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		s.List()
		s.Get(id[:5])
	})
}

// FuzzGet resolves arbitrary refs: Get must never panic, and any container
// it returns must match the ref by full id, name, or id prefix.
func FuzzGet(f *testing.F) {
	s := openStore(f)
	var ids []string
	for _, name := range []string{"web", "abc", "", "db.1"} {
		c := mustCreate(f, s, newContainer(name))
		ids = append(ids, c.Id)
	}
	for _, ref := range []string{"web", "abc", "a", "", "../..", ids[0], ids[1][:3], "db.1", "/", ".rm-"} {
		f.Add(ref)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		c, err := s.Get(ref)
		if err != nil {
			return
		}
		if c.Id != ref && c.Name != ref && !strings.HasPrefix(c.Id, ref) {
			t.Fatalf("Get(%q) returned %s (name %q)", ref, c.Id, c.Name)
		}
		if c.Name != ref && ref != c.Id {
			// Resolved by prefix: it must be unique.
			n := 0
			for _, id := range ids {
				if strings.HasPrefix(id, ref) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Get(%q) resolved an ambiguous prefix", ref)
			}
		}
	})
}
