package main

import (
	"os"
	"syscall"
	"unsafe"
)

const prSetChildSubreaper = 36

func setChildSubreaper() {
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// ownsTerminal reports whether fd is our controlling terminal, the only
// kind whose foreground process group we can hand to the payload.
func ownsTerminal(fd int) bool {
	var pgrp int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	return errno == 0
}

// mountProcIfMissing gives a PID 1 its /proc when the runtime did not.
// Failure is not fatal: the payload may not need /proc.
func mountProcIfMissing() {
	var fs syscall.Statfs_t
	const procSuperMagic = 0x9fa0
	if err := syscall.Statfs("/proc", &fs); err == nil && fs.Type == procSuperMagic {
		return
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		os.Stderr.WriteString("init: warning: cannot mount /proc: " + errnoMessage(err) + "\n")
	}
}
