package seccomp

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// runningKernel is read once: profiles ask for it per rule.
var runningKernel = sync.OnceValues(func() (kernelVersion, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return kernelVersion{}, fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	v, ok := parseKernelVersion(release)
	if !ok {
		return kernelVersion{}, fmt.Errorf("cannot read the kernel version from %q", release)
	}
	return v, nil
})

// runningKernelAtLeast answers a profile's minKernel.
func runningKernelAtLeast(min kernelVersion) (bool, error) {
	v, err := runningKernel()
	if err != nil {
		return false, err
	}
	return v.atLeast(min), nil
}
