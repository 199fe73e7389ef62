package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall"
)

const (
	notASize   = "not a size (use e.g. 64m, 1g)"
	notASignal = "not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"

	sigRTMin = 34 // SIGRTMIN as glibc (and docker) number it
	sigRTMax = 64
)

// ParseSize parses a byte count: digits with an optional k, m, g or t suffix
// (powers of 1024, any case), then an optional i after the suffix and an
// optional trailing b: 512k, 64m, 1G, 64MB, 2GiB, 4096, 100b. Fractions,
// signs and spaces are refused.
func ParseSize(s string) (int64, error) {
	n, reason := parseSize(s)
	if reason != "" {
		return 0, fmt.Errorf("%s: %s", q(s), reason)
	}
	return n, nil
}

// parseSize is ParseSize with the reason alone.
func parseSize(s string) (int64, string) {
	t := asciiLower(s)
	t = strings.TrimSuffix(t, "b")
	if n := len(t); n >= 2 && t[n-1] == 'i' && strings.IndexByte("kmgt", t[n-2]) >= 0 {
		t = t[:n-1] // KiB, MiB, ...: the suffixes are powers of 1024 anyway
	}
	shift := 0
	if t != "" {
		if i := strings.IndexByte("kmgt", t[len(t)-1]); i >= 0 {
			shift = 10 * (i + 1)
			t = t[:len(t)-1]
		}
	}
	if !allDigits(t) {
		return 0, notASize
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n > math.MaxInt64>>shift {
		return 0, "size too large"
	}
	return n << shift, ""
}

// signals are the Linux signal names without SIG, docker's list.
var signals = map[string]syscall.Signal{
	"ABRT":   syscall.SIGABRT,
	"ALRM":   syscall.SIGALRM,
	"BUS":    syscall.SIGBUS,
	"CHLD":   syscall.SIGCHLD,
	"CLD":    syscall.SIGCLD,
	"CONT":   syscall.SIGCONT,
	"FPE":    syscall.SIGFPE,
	"HUP":    syscall.SIGHUP,
	"ILL":    syscall.SIGILL,
	"INT":    syscall.SIGINT,
	"IO":     syscall.SIGIO,
	"IOT":    syscall.SIGIOT,
	"KILL":   syscall.SIGKILL,
	"PIPE":   syscall.SIGPIPE,
	"POLL":   syscall.SIGPOLL,
	"PROF":   syscall.SIGPROF,
	"PWR":    syscall.SIGPWR,
	"QUIT":   syscall.SIGQUIT,
	"SEGV":   syscall.SIGSEGV,
	"STOP":   syscall.SIGSTOP,
	"SYS":    syscall.SIGSYS,
	"TERM":   syscall.SIGTERM,
	"TRAP":   syscall.SIGTRAP,
	"TSTP":   syscall.SIGTSTP,
	"TTIN":   syscall.SIGTTIN,
	"TTOU":   syscall.SIGTTOU,
	"URG":    syscall.SIGURG,
	"USR1":   syscall.SIGUSR1,
	"USR2":   syscall.SIGUSR2,
	"VTALRM": syscall.SIGVTALRM,
	"WINCH":  syscall.SIGWINCH,
	"XCPU":   syscall.SIGXCPU,
	"XFSZ":   syscall.SIGXFSZ,
}

// ParseSignal parses a signal: a name with or without SIG, in any case
// (TERM, sigterm, SIGKILL), RTMIN, RTMIN+N, RTMAX or RTMAX-N (34 to 64, as
// glibc and docker number them), or a number from 1 to 64.
func ParseSignal(s string) (syscall.Signal, error) {
	sig, ok := parseSignal(s)
	if !ok {
		return 0, fmt.Errorf("%s: %s", q(s), notASignal)
	}
	return sig, nil
}

func parseSignal(s string) (syscall.Signal, bool) {
	if allDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > sigRTMax {
			return 0, false
		}
		return syscall.Signal(n), true
	}
	name := strings.TrimPrefix(asciiUpper(s), "SIG")
	if sig, ok := signals[name]; ok {
		return sig, true
	}
	n := -1
	if rest, ok := strings.CutPrefix(name, "RTMIN"); ok {
		n = rtOffset(rest, '+', sigRTMin)
	} else if rest, ok := strings.CutPrefix(name, "RTMAX"); ok {
		n = rtOffset(rest, '-', sigRTMax)
	}
	if n < sigRTMin || n > sigRTMax {
		return 0, false
	}
	return syscall.Signal(n), true
}

// rtOffset returns base, base+N or base-N for "", op N; -1 if malformed.
func rtOffset(rest string, op byte, base int) int {
	if rest == "" {
		return base
	}
	if rest[0] != op || !allDigits(rest[1:]) {
		return -1
	}
	n, err := strconv.Atoi(rest[1:])
	if err != nil || n > sigRTMax {
		return -1
	}
	if op == '+' {
		return base + n
	}
	return base - n
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
