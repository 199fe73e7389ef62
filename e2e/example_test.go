package e2e

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestExampleImage builds `make example-image`'s app image and serves one
// HTTP request through a socket-activation unix socket: no network needed.
func TestExampleImage(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	image, sock := filepath.Join(dir, "example"), filepath.Join(dir, "hello.sock")
	hello := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", hello, "../examples/hello")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example: %v\n%s", err, out)
	}
	mkrootfs(t, "-o", image, "--name", "example", "--app", hello+":/usr/local/bin/hello", "--cmd", "/usr/local/bin/hello")
	cmd := exec.Command(bin.launcher, "--root", t.TempDir(), "run", "--rm", "--hostname", "example", "--listen", "unix:"+sock, image)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); waitTimeout(t, cmd, 10*time.Second) }()
	// The app logs once it serves; the socket itself exists from the start.
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving on") {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case line := <-ready:
		t.Log(line)
	case <-time.After(20 * time.Second):
		t.Fatal("the example app never said it serves")
	}
	client := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://example/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&body)
	if want := "hello from example (socket activation, container=stdcontainer)\n"; body.String() != want {
		t.Errorf("GET /: %q, want %q", body.String(), want)
	}
}
