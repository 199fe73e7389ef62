package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxErrno is the largest errno the kernel passes back (MAX_ERRNO).
const maxErrno = 4095

var errNotify = errors.New("action SCMP_ACT_NOTIFY is not supported (no seccomp agent)")

// checkAction says whether act is an action this package knows, and its
// errnoRet fits.
func checkAction(act specs.LinuxSeccompAction, errnoRet *uint) error {
	switch act {
	case specs.ActKill, specs.ActKillThread, specs.ActKillProcess, specs.ActTrap, specs.ActAllow,
		specs.ActLog, specs.ActErrno, specs.ActTrace, specs.ActNotify:
	case "":
		return errors.New("no action")
	default:
		return fmt.Errorf("unknown action %s", act)
	}
	if errnoRet != nil && *errnoRet > maxErrno {
		return fmt.Errorf("errnoRet %d out of range (0-%d)", *errnoRet, maxErrno)
	}
	return nil
}

// checkSupported rejects what parses but cannot be enforced here.
func checkSupported(p *specs.LinuxSeccomp) error {
	if p.DefaultAction == specs.ActNotify {
		return errNotify
	}
	for i, sc := range p.Syscalls {
		if sc.Action == specs.ActNotify {
			return fmt.Errorf("%w in syscalls[%d]", errNotify, i)
		}
	}
	return nil
}

// retValue is the filter's return value for act. SCMP_ACT_KILL kills the
// thread, as libseccomp's does; ERRNO and TRACE carry errnoRet, EPERM when
// unset, as runc does.
func retValue(act specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	if err := checkAction(act, errnoRet); err != nil {
		return 0, err
	}
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		data = uint32(*errnoRet)
	}
	switch act {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	}
	return 0, errNotify
}

// checkArg says whether an argument condition can be compiled.
func checkArg(a specs.LinuxSeccompArg) error {
	if a.Index > 5 {
		return fmt.Errorf("argument index %d out of range (0-5)", a.Index)
	}
	switch a.Op {
	case specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual:
		return nil
	case "":
		return errors.New("no operator")
	}
	return fmt.Errorf("unknown operator %s", a.Op)
}
