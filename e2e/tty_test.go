package e2e

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's controller and the path of its terminal.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, "/dev/pts/" + strconv.Itoa(n)
}

// TestInitHandsTheTerminalToThePayload: with a controlling terminal on
// stdin the payload runs in its own process group, which is the terminal's
// foreground group, and it starts with SIGTTOU at its default action.
func TestInitHandsTheTerminalToThePayload(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	ptmx, ptsPath := openPTY(t)
	defer ptmx.Close()
	pts, err := os.OpenFile(ptsPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()

	// /proc/self/stat fields 5 and 8 are the process group and the
	// terminal's foreground group; SigIgn is the ignored-signal mask.
	script := `read -r stat < /proc/self/stat; set -- $stat; echo "pid=$1 pgrp=$5 tpgid=$8"; grep SigIgn /proc/self/status`
	cmd := initCmd(root, "sh", "-c", script)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close() // the init holds its own copies
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, ptmx); close(done) }()
	code := waitTimeout(t, cmd, 20*time.Second)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	text := strings.ReplaceAll(out.String(), "\r", "")
	var pid, pgrp, tpgid string
	for _, f := range strings.Fields(text) {
		if k, v, ok := strings.Cut(f, "="); ok {
			switch k {
			case "pid":
				pid = v
			case "pgrp":
				pgrp = v
			case "tpgid":
				tpgid = v
			}
		}
	}
	if code != 0 || pid == "" || pid == "1" || pgrp != pid || tpgid != pid {
		t.Fatalf("exit %d, output %q: want the payload leading its own process group in the terminal's foreground", code, text)
	}
	// SIGTTIN (21) and SIGTTOU (22) are bits 20 and 21 of SigIgn.
	for _, line := range strings.Split(text, "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			if err != nil || m&(3<<20) != 0 {
				t.Errorf("payload starts with SIGTTIN/SIGTTOU ignored (SigIgn %s); want their default action", strings.TrimSpace(mask))
			}
		}
	}
}
