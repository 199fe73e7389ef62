package cli

import (
	"syscall"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1", 1},
		{"4096", 4096},
		{"100b", 100},
		{"100B", 100},
		{"512k", 512 << 10},
		{"512K", 512 << 10},
		{"1kb", 1 << 10},
		{"64m", 64 << 20},
		{"64M", 64 << 20},
		{"64mb", 64 << 20},
		{"64MB", 64 << 20},
		{"64mB", 64 << 20},
		{"1g", 1 << 30},
		{"1G", 1 << 30},
		{"2gb", 2 << 30},
		{"1t", 1 << 40},
		{"1TB", 1 << 40},
		{"1kib", 1 << 10},
		{"1KiB", 1 << 10},
		{"64MiB", 64 << 20},
		{"64mib", 64 << 20},
		{"2GiB", 2 << 30},
		{"2gib", 2 << 30},
		{"1TiB", 1 << 40},
		{"512Ki", 512 << 10},
		{"64mi", 64 << 20},
		{"007m", 7 << 20},
		{"9223372036854775807", 1<<63 - 1},
		{"9223372036854775807b", 1<<63 - 1},
		{"8388607t", 8388607 << 40},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	errs := []struct{ in, want string }{
		{"", `"": not a size (use e.g. 64m, 1g)`},
		{"20x", "20x: not a size (use e.g. 64m, 1g)"},
		{"b", "b: not a size (use e.g. 64m, 1g)"},
		{"k", "k: not a size (use e.g. 64m, 1g)"},
		{"kb", "kb: not a size (use e.g. 64m, 1g)"},
		{"1bb", "1bb: not a size (use e.g. 64m, 1g)"},
		{"1kk", "1kk: not a size (use e.g. 64m, 1g)"},
		{"1bk", "1bk: not a size (use e.g. 64m, 1g)"},
		{"1p", "1p: not a size (use e.g. 64m, 1g)"},
		{"1pib", "1pib: not a size (use e.g. 64m, 1g)"},
		{"1i", "1i: not a size (use e.g. 64m, 1g)"},
		{"1ib", "1ib: not a size (use e.g. 64m, 1g)"},
		{"1bi", "1bi: not a size (use e.g. 64m, 1g)"},
		{"1kbi", "1kbi: not a size (use e.g. 64m, 1g)"},
		{"1kii", "1kii: not a size (use e.g. 64m, 1g)"},
		{"1kiib", "1kiib: not a size (use e.g. 64m, 1g)"},
		{"kib", "kib: not a size (use e.g. 64m, 1g)"},
		{"ib", "ib: not a size (use e.g. 64m, 1g)"},
		{"1ik", "1ik: not a size (use e.g. 64m, 1g)"},
		{"1.5g", "1.5g: not a size (use e.g. 64m, 1g)"},
		{"-1", "-1: not a size (use e.g. 64m, 1g)"},
		{"+1", "+1: not a size (use e.g. 64m, 1g)"},
		{" 1", `" 1": not a size (use e.g. 64m, 1g)`},
		{"1 m", `"1 m": not a size (use e.g. 64m, 1g)`},
		{"0x10", "0x10: not a size (use e.g. 64m, 1g)"},
		{"1\u212a", "1\u212a: not a size (use e.g. 64m, 1g)"}, // KELVIN SIGN, not k
		{"9223372036854775808", "9223372036854775808: size too large"},
		{"8388608t", "8388608t: size too large"},
		{"8388608TiB", "8388608TiB: size too large"},
		{"9007199254740992k", "9007199254740992k: size too large"},
	}
	for _, tt := range errs {
		got, err := ParseSize(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
	}{
		{"TERM", syscall.SIGTERM},
		{"term", syscall.SIGTERM},
		{"SIGTERM", syscall.SIGTERM},
		{"sigterm", syscall.SIGTERM},
		{"SigTerm", syscall.SIGTERM},
		{"KILL", syscall.SIGKILL},
		{"HUP", syscall.SIGHUP},
		{"INT", syscall.SIGINT},
		{"QUIT", syscall.SIGQUIT},
		{"USR1", syscall.SIGUSR1},
		{"SIGUSR2", syscall.SIGUSR2},
		{"WINCH", syscall.SIGWINCH},
		{"CHLD", syscall.SIGCHLD},
		{"CLD", syscall.SIGCHLD},
		{"IOT", syscall.SIGABRT},
		{"POLL", syscall.SIGIO},
		{"PWR", syscall.SIGPWR},
		{"1", 1},
		{"9", 9},
		{"09", 9},
		{"15", 15},
		{"64", 64},
		{"RTMIN", 34},
		{"SIGRTMIN", 34},
		{"RTMIN+0", 34},
		{"RTMIN+3", 37},
		{"SIGRTMIN+3", 37},
		{"sigrtmin+3", 37},
		{"RTMIN+30", 64},
		{"RTMAX", 64},
		{"RTMAX-1", 63},
		{"SIGRTMAX-30", 34},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	const reason = ": not a signal (use e.g. TERM, SIGKILL, 9 or RTMIN+3)"
	for in, shown := range map[string]string{
		"":                           `""`,
		"0":                          "0",
		"65":                         "65",
		"-9":                         "-9",
		"+9":                         "+9",
		"99999999999999999999":       "99999999999999999999",
		"FOO":                        "FOO",
		"SIG":                        "SIG",
		"SIGSIGTERM":                 "SIGSIGTERM",
		"SIG9":                       "SIG9",
		"SIGTERM ":                   `"SIGTERM "`,
		"TERM\n":                     `"TERM\n"`,
		"RTMIN-1":                    "RTMIN-1",
		"RTMIN+31":                   "RTMIN+31",
		"RTMIN+":                     "RTMIN+",
		"RTMIN+x":                    "RTMIN+x",
		"RTMIN++1":                   "RTMIN++1",
		"RTMAX+1":                    "RTMAX+1",
		"RTMAX-31":                   "RTMAX-31",
		"RTMIN+99999999999999999999": "RTMIN+99999999999999999999",
		"ＴＥＲＭ":                       "ＴＥＲＭ",
	} {
		got, err := ParseSignal(in)
		if want := shown + reason; err == nil || err.Error() != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want error %q", in, got, err, want)
		}
	}
}
