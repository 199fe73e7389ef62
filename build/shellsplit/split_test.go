package shellsplit

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "/bin/true", want: []string{"/bin/true"}},
		{in: "  sh   -c\t'exit 7' ", want: []string{"sh", "-c", "exit 7"}},
		{in: `echo "a \"b\" \$HOME \x"`, want: []string{"echo", `a "b" $HOME \x`}},
		{in: `echo 'single \n "kept"'`, want: []string{"echo", `single \n "kept"`}},
		{in: `a\ b c`, want: []string{"a b", "c"}},
		{in: `''`, want: []string{""}},
		{in: `x""y'z'`, want: []string{"xyz"}},
		{in: "a\\\nb", want: []string{"ab"}},
		{in: `$HOME *`, want: []string{"$HOME", "*"}},
		{in: `'open`, err: "unterminated ' quote"},
		{in: `"open`, err: `unterminated " quote`},
		{in: `end\`, err: "trailing backslash"},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Split(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzSplitQuote(f *testing.F) {
	for _, s := range []string{"sh -c 'exit 7'", `a "b c" d\ e`, "''", "x'y'\"z\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := Split(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = Quote(a)
		}
		again, err := Split(strings.Join(quoted, " "))
		if err != nil {
			t.Fatalf("Split(Quote(%q)) failed: %v", args, err)
		}
		if len(args) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(args, again) {
			t.Fatalf("round trip of %q: %q != %q", s, again, args)
		}
	})
}
