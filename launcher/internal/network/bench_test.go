package network

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// BenchmarkSetupTeardown is the per-container cost of --network nat: Setup
// of a fresh container namespace, then Teardown once the container is gone,
// as the launcher's run does, with -p 8080:80 and without. Like the tests it
// never touches the machine's own network namespace: the benchmark's thread
// moves into a new one that plays the host, and each container is a sleep
// process in a namespace of its own. The first Setup (bridge, sysctls,
// table) is not counted. setup-ms and teardown-ms are the two halves; ns/op
// is their sum.
//
//	go test -run=NONE -bench=SetupTeardown ./launcher/internal/network/
func BenchmarkSetupTeardown(b *testing.B) {
	for _, bc := range []struct {
		name  string
		ports []PortMapping
		// exited: Teardown after the container has exited, as the
		// launcher's run does; otherwise while it still runs (a failed
		// start), when Teardown must delete the veth, which waits for the
		// kernel's RCU callbacks (see removeVeth).
		exited bool
	}{
		{"ports/exited", []PortMapping{{HostPort: 8080, ContainerPort: 80}}, true},
		{"ports/live", []PortMapping{{HostPort: 8080, ContainerPort: 80}}, false},
		{"noports/exited", nil, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchSetupTeardown(b, bc.ports, bc.exited)
		})
	}
}

func benchSetupTeardown(b *testing.B, ports []PortMapping, exited bool) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	var err error
	if benchSleep, err = exec.LookPath("sleep"); err != nil {
		b.Skip("needs sleep")
	}
	benchHostNS(b)
	cfg := Config{StateDir: b.TempDir()}

	// Warm up: the shared bridge, sysctls and table.
	pid, stop := benchContainerNS(b)
	if _, err := Setup(cfg, idA, pid, Request{Ports: ports}); err != nil {
		b.Fatal(err)
	}
	if err := Teardown(cfg, idA); err != nil {
		b.Fatal(err)
	}
	stop()

	var setup, teardown time.Duration
	for b.Loop() {
		b.StopTimer()
		pid, stop := benchContainerNS(b)
		id := fmt.Sprintf("%016x%048x", rand.Uint64(), 0) // a new one each time, as the launcher's
		b.StartTimer()

		t0 := time.Now()
		if _, err := Setup(cfg, id, pid, Request{Ports: ports}); err != nil {
			b.Fatal(err)
		}
		setup += time.Since(t0)

		if exited {
			b.StopTimer()
			stop()
			b.StartTimer()
		}
		t0 = time.Now()
		if err := Teardown(cfg, id); err != nil {
			b.Fatal(err)
		}
		teardown += time.Since(t0)

		b.StopTimer()
		if !exited {
			stop()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(setup.Microseconds())/1000/float64(b.N), "setup-ms")
	b.ReportMetric(float64(teardown.Microseconds())/1000/float64(b.N), "teardown-ms")
}

var benchSleep string

// benchHostNS moves the benchmark's thread into a new network namespace
// with lo up, for good: the thread is never unlocked, so Go ends it with
// the benchmark's goroutine instead of reusing it.
func benchHostNS(b *testing.B) {
	b.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		b.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.New()
	if err != nil {
		b.Fatalf("new network namespace: %v", err)
	}
	defer h.Close()
	if h.Equal(orig) {
		b.Fatal("still in the original network namespace")
	}
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		b.Fatalf("lo up: %v", err)
	}
}

// benchContainerNS starts a "container": sleep in a network namespace of
// its own. stop kills and reaps it, which drops the namespace's last
// reference as a container's exit does.
func benchContainerNS(b *testing.B) (pid int, stop func()) {
	b.Helper()
	cmd := exec.Command(benchSleep, "3600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := cmd.Start(); err != nil {
		b.Fatalf("sleep in a new network namespace: %v", err)
	}
	return cmd.Process.Pid, func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}
