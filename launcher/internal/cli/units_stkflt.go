//go:build linux && !mips && !mipsle && !mips64 && !mips64le

package cli

import "syscall"

// MIPS has no SIGSTKFLT.
func init() { signals["STKFLT"] = syscall.SIGSTKFLT }
