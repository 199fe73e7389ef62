package osrelease

import (
	"errors"
	"strings"
	"testing"

	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
)

// debian12 is /etc/os-release of the Debian 12 build machine, verbatim.
const debian12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`

// f builds a field; Line is ignored by the comparisons here.
func f(k, v string) envfile.Var { return envfile.Var{Key: k, Value: v} }

func sameFields(a, b Release) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

func TestParseDebian(t *testing.T) {
	r, err := Parse("/etc/os-release", []byte(debian12))
	if err != nil {
		t.Fatal(err)
	}
	want := Release{
		f("PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)"),
		f("NAME", "Debian GNU/Linux"),
		f("VERSION_ID", "12"),
		f("VERSION", "12 (bookworm)"),
		f("VERSION_CODENAME", "bookworm"),
		f("ID", "debian"),
		f("HOME_URL", "https://www.debian.org/"),
		f("SUPPORT_URL", "https://www.debian.org/support"),
		f("BUG_REPORT_URL", "https://bugs.debian.org/"),
	}
	if !sameFields(r, want) {
		t.Fatalf("Parse(debian12)\n got %#v\nwant %#v", r, want)
	}
	for i, fld := range r {
		if fld.Line != i+1 {
			t.Errorf("%s on line %d, want %d", fld.Key, fld.Line, i+1)
		}
	}
	if got := r.Get("ID"); got != "debian" {
		t.Errorf("Get(ID) = %q", got)
	}
	if got := r.Get("VARIANT_ID"); got != "" {
		t.Errorf("Get(VARIANT_ID) = %q, want empty", got)
	}
	if got := r.PrettyName(); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("PrettyName() = %q", got)
	}
	// Formatting Debian's file quotes the two unquoted values and is
	// otherwise the same text.
	out, err := Format(r)
	if err != nil {
		t.Fatal(err)
	}
	wantText := strings.NewReplacer("=bookworm\n", "=\"bookworm\"\n", "=debian\n", "=\"debian\"\n").Replace(debian12)
	if string(out) != wantText {
		t.Fatalf("Format(debian12)\n got %q\nwant %q", out, wantText)
	}
}

func TestParseShellStyles(t *testing.T) {
	// Comments, single quotes, escapes and blank lines as os-release(5)
	// allows them.
	in := "# generated\n\nNAME='Example OS'\nID=example\nVERSION=\"1.0 \\\"Quoted\\\" \\$HOME\"\nANSI_COLOR=\"0;38;2;60;110;180\"\n"
	r, err := Parse("os-release", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Release{f("NAME", "Example OS"), f("ID", "example"), f("VERSION", `1.0 "Quoted" $HOME`), f("ANSI_COLOR", "0;38;2;60;110;180")}
	if !sameFields(r, want) {
		t.Fatalf("got %#v\nwant %#v", r, want)
	}
}

func TestParseError(t *testing.T) {
	_, err := Parse("/usr/lib/os-release", []byte("ID=x\nexport NAME=y\n"))
	var pe *envfile.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not an *envfile.Error", err)
	}
	if got, want := err.Error(), `/usr/lib/os-release:2: invalid variable name "export NAME"`; got != want {
		t.Fatalf("error %q, want %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []Release{
		nil,
		{f("ID", "")},
		{f("NAME", "Linux"), f("ID", "linux"), f("VERSION_ID", "1"), f("PRETTY_NAME", "Linux 1")},
		{f("A", `"quoted" \back\slash $VAR ${X} `+"`cmd`"), f("B", "it's; #not a comment = ok"), f("C", "  padded  ")},
		{f("UNICODE", "Ünïcødé – 日本語 \uFFFD"), f("TAB", "a\tb"), f("lower_case", "x")},
	} {
		out, err := Format(r)
		if err != nil {
			t.Fatalf("Format(%#v): %v", r, err)
		}
		back, err := Parse("rt", out)
		if err != nil {
			t.Fatalf("Parse(Format(%#v)) = %q: %v", r, out, err)
		}
		if !sameFields(back, r) {
			t.Fatalf("round trip through %q\n got %#v\nwant %#v", out, back, r)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	for _, r := range []Release{
		{f("NAME", "two\nlines")},
		{f("NAME", "carriage\rreturn")},
		{f("1ID", "x")},
		{f("export ID", "x")},
		{f("", "x")},
		{f("ID", "a"), f("ID", "b")},
		{f("ID", "nul\x00")},
		{f("ID", "bad\xffutf8")},
	} {
		if out, err := Format(r); err == nil {
			t.Errorf("Format(%#v) = %q, want error", r, out)
		}
	}
}

func TestPrettyName(t *testing.T) {
	for _, tt := range []struct {
		r    Release
		want string
	}{
		{Release{f("NAME", "Fedora Linux"), f("PRETTY_NAME", "Fedora Linux 40")}, "Fedora Linux 40"},
		{Release{f("NAME", "Alpine Linux"), f("ID", "alpine")}, "Alpine Linux"},
		{Release{f("PRETTY_NAME", ""), f("NAME", "Arch Linux")}, "Arch Linux"},
		{Release{f("ID", "x")}, "Linux"},
		{Release{f("PRETTY_NAME", ""), f("NAME", "")}, "Linux"},
		{nil, "Linux"},
	} {
		if got := tt.r.PrettyName(); got != tt.want {
			t.Errorf("PrettyName(%#v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestGetLastWins(t *testing.T) {
	r := Release{f("ID", "a"), f("ID", "b")}
	if got := r.Get("ID"); got != "b" {
		t.Fatalf("Get(ID) = %q, want the last one", got)
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		debian12,
		"",
		"ID=x",
		"NAME='a b'\nID=\"c\\\"d\"\n",
		"A=\"$\\`\\\\\"\n# c\n; c\nB=x\\ y \n",
		"A='multi\nline'\n",
		"A=\"x\"'y'z\r\nB=\r\n",
		"A=\\\n b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, fld := range r {
			if strings.ContainsAny(fld.Value, "\n\r") {
				// Format refuses multi-line values by design.
				if _, err := Format(r); err == nil {
					t.Fatalf("Format accepted multi-line value %q", fld.Value)
				}
				return
			}
		}
		out, err := Format(r)
		if err != nil {
			t.Fatalf("Format(%#v): %v", r, err)
		}
		back, err := Parse("formatted", out)
		if err != nil {
			t.Fatalf("Parse(%q): %v", out, err)
		}
		if !sameFields(back, r) {
			t.Fatalf("round trip through %q\n got %#v\nwant %#v", out, back, r)
		}
		// One field per line, in order.
		if n := strings.Count(string(out), "\n"); n != len(r) {
			t.Fatalf("Format wrote %d lines for %d fields: %q", n, len(r), out)
		}
		for i, fld := range back {
			if fld.Line != i+1 {
				t.Fatalf("field %s on line %d of %q, want %d", fld.Key, fld.Line, out, i+1)
			}
		}
		if again, _ := Format(back); string(again) != string(out) {
			t.Fatalf("Format is not stable: %q then %q", out, again)
		}
	})
}
