package envfile

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// v is a shorthand for the expected vars of a case.
func v(key, value string, line int) Var { return Var{Key: key, Value: value, Line: line} }

// parseTests are the behaviours of systemd's env-file parser (v254+), each
// traced through parse_env_file_internal, plus the places where Parse is
// stricter (err set). Several come from systemd's own test-env-file.c.
var parseTests = []struct {
	name string
	in   string
	want []Var
	err  string // full Error() text; file name is "t.env"
}{
	// Plain assignments.
	{"empty file", "", nil, ""},
	{"blank lines only", "\n  \n\t\n", nil, ""},
	{"simple", "A=1\nB=2\n", []Var{v("A", "1", 1), v("B", "2", 2)}, ""},
	{"no trailing newline", "A=1\nB=2", []Var{v("A", "1", 1), v("B", "2", 2)}, ""},
	{"empty value", "a=\nb=", []Var{v("a", "", 1), v("b", "", 2)}, ""},
	{"blanks-only value", "A=  \t\n", []Var{v("A", "", 1)}, ""},
	{"name charset", "_a1=x\nZ_9=y", []Var{v("_a1", "x", 1), v("Z_9", "y", 2)}, ""},
	{"value with =", "A=b=c", []Var{v("A", "b=c", 1)}, ""},
	{"replacement character is valid", "A=\uFFFD\uFDCF\uFDF0\U0010FFFD", []Var{v("A", "\uFFFD\uFDCF\uFDF0\U0010FFFD", 1)}, ""},
	{"utf-8 value", "h= ąęół\\ śćńźżμ \n", []Var{v("h", "ąęół śćńźżμ", 1)}, ""},

	// Whitespace.
	{"blanks around key and value", "  A  =  1  \n", []Var{v("A", "1", 1)}, ""},
	{"tabs around key and value", "\tA\t=\t1\t\n", []Var{v("A", "1", 1)}, ""},
	{"inner blanks kept", "A=a  b\n", []Var{v("A", "a  b", 1)}, ""},

	// Comments.
	{"hash comment", "# c\nA=1\n", []Var{v("A", "1", 2)}, ""},
	{"semicolon comment", "; c\nA=1", []Var{v("A", "1", 2)}, ""},
	{"indented comment", "  \t# c\nA=1", []Var{v("A", "1", 2)}, ""},
	{"comment with =", "#A=1\n;B=2\n", nil, ""},
	// Since v254 a backslash at the end of a comment no longer continues
	// it: the next line is an ordinary line (systemd test_load_env_file_3).
	{"comment backslash does not continue", "#x \\\n#y \\\nnormal1=line\\\n111\n;normal=ignored \\\nnormal2=line222\n",
		[]Var{v("normal1", "line111", 3), v("normal2", "line222", 6)}, ""},
	{"comment double backslash", "# c \\\\\nA=1\n", []Var{v("A", "1", 2)}, ""},
	{"no inline comment", "A=1 # not a comment\n", []Var{v("A", "1 # not a comment", 1)}, ""},
	{"semicolon in value", "A=a;b", []Var{v("A", "a;b", 1)}, ""},

	// Unquoted values: escapes and continuations.
	{"unquoted escapes", `A=\a\ b\\c\"\$\'`, []Var{v("A", `a b\c"$'`, 1)}, ""},
	{"systemd escapes", "a=\\ \\n \\t \\x \\y \\' \nb= \\$'   \n", []Var{v("a", " n t x y '", 1), v("b", "$'", 2)}, ""},
	{"escaped trailing blank kept", "g=g\\ \n", []Var{v("g", "g ", 1)}, ""},
	{"blanks after escaped blank trimmed", "A=a\\  \t\n", []Var{v("A", "a ", 1)}, ""},
	{"unquoted continuation", "b=b\\\nc\n", []Var{v("b", "bc", 1)}, ""},
	{"continuation keeps blanks", "d= d\\\ne  \\\nf  \n", []Var{v("d", "de  f", 1)}, ""},
	{"continuation at value start keeps leading blanks", "A=\\\n  b\n", []Var{v("A", "  b", 1)}, ""},
	{"continuation onto blank line", "A=a\\\n  \nB=1", []Var{v("A", "a", 1), v("B", "1", 3)}, ""},
	{"backslash at EOF dropped", "i=i\\", []Var{v("i", "i", 1)}, ""},
	{"backslash only at EOF", "A=\\", []Var{v("A", "", 1)}, ""},
	{"continuation at EOF", "a=a\\\n", []Var{v("a", "a", 1)}, ""},
	{"quote inside unquoted is literal", `A=a"b c"`, []Var{v("A", `a"b c"`, 1)}, ""},
	{"quote after unquoted blank is literal", "A=a 'b' \n", []Var{v("A", "a 'b'", 1)}, ""},
	{"unbalanced quote inside unquoted is literal", "B=y'abc", []Var{v("B", "y'abc", 1)}, ""},
	{"quote after continuation is literal", "A=\"x\"\\\n'abc", []Var{v("A", "x'abc", 1)}, ""},
	{"escaped quote starts unquoted value", `A=\"a"`, []Var{v("A", `"a"`, 1)}, ""},

	// Single quotes.
	{"single quotes verbatim", `A='a\b "c" $D #e \'`, []Var{v("A", `a\b "c" $D #e \`, 1)}, ""},
	{"single quotes keep blanks", "A='  a  '  \n", []Var{v("A", "  a  ", 1)}, ""},
	{"single quotes span lines", "A='a\nb'\nB=1\n", []Var{v("A", "a\nb", 1), v("B", "1", 3)}, ""},
	{"single quotes keep backslash-newline", "A='a\\\nb'", []Var{v("A", "a\\\nb", 1)}, ""},
	{"systemd single quotes", "c= ' \\n\\t\\$\\`\\\\\n'   \n", []Var{v("c", " \\n\\t\\$\\`\\\\\n", 1)}, ""},
	{"empty single quotes", "A=''", []Var{v("A", "", 1)}, ""},

	// Double quotes.
	{"double quotes", `A="a b"`, []Var{v("A", "a b", 1)}, ""},
	{"double quotes keep blanks", "A=  \"  a  \"  \n", []Var{v("A", "  a  ", 1)}, ""},
	{"double quote escapes", `A="\"\\\` + "`" + `\$"`, []Var{v("A", "\"\\`$", 1)}, ""},
	{"double quote other backslashes kept", `A="\n\t\a\'\ "`, []Var{v("A", `\n\t\a\'\ `, 1)}, ""},
	{"double quote continuation", "A=\"a\\\nb\"", []Var{v("A", "ab", 1)}, ""},
	{"double quotes span lines", "A=\"a\nb\"\nB=1\n", []Var{v("A", "a\nb", 1), v("B", "1", 3)}, ""},
	{"systemd double quotes", "d= \" \\n\\t\\$\\`\\\\\n\"   \n", []Var{v("d", " \\n\\t$`\\\n", 1)}, ""},
	{"double quote comment chars", `A="# ;"`, []Var{v("A", "# ;", 1)}, ""},
	{"empty double quotes", `A=""`, []Var{v("A", "", 1)}, ""},

	// Pieces concatenate; blanks between them are skipped, not kept.
	{"concatenation", `A="a"'b'c`, []Var{v("A", "abc", 1)}, ""},
	{"blanks between pieces skipped", "A=\"a\" 'b'  c d \n", []Var{v("A", "abc d", 1)}, ""},
	{"escape after quote", `A="a"\"b`, []Var{v("A", `a"b`, 1)}, ""},

	// No expansion, last wins.
	{"no expansion", "A=1\nB=$A ${A}\nC=\"$A\"\n", []Var{v("A", "1", 1), v("B", "$A ${A}", 2), v("C", "$A", 3)}, ""},
	{"last wins in first position", "A=1\nB=2\nA=3\n", []Var{v("A", "3", 3), v("B", "2", 2)}, ""},
	{"last wins even if empty", "A=1\nA=", []Var{v("A", "", 2)}, ""},

	// Line ends.
	{"CRLF", "A=1\r\nB=\"x\"\r\n# c\r\nC=a b \r\n", []Var{v("A", "1", 1), v("B", "x", 2), v("C", "a b", 4)}, ""},
	{"CR inside double quotes kept", "A=\"a\r\nb\"", []Var{v("A", "a\r\nb", 1)}, ""},
	{"backslash-CRLF ends unquoted value", "A=a \\\r\nB=2", []Var{v("A", "a ", 1), v("B", "2", 2)}, ""},
	{"backslash-CR kept in double quotes", "A=\"a\\\r\nb\"", []Var{v("A", "a\\\r\nb", 1)}, ""},
	{"lone CR ends assignment", "A=1\rB=2", []Var{v("A", "1", 1), v("B", "2", 1)}, ""},

	// Stricter than systemd: these are errors.
	{"export prefix", "export K=V\n", nil, `t.env:1: invalid variable name "export K"`},
	{"leading digit", "A=1\n1X=2\n", nil, `t.env:2: invalid variable name "1X"`},
	{"dash in name", "A-B=1", nil, `t.env:1: invalid variable name "A-B"`},
	{"non-ASCII name", "Ä=1", nil, `t.env:1: invalid variable name "Ä"`},
	{"comment char in name", "A#=1", nil, `t.env:1: invalid variable name "A#"`},
	{"missing =", "A=1\nhello\n", nil, `t.env:2: missing '=' after "hello"`},
	{"missing = at EOF", "A=1\n  B  ", nil, `t.env:2: missing '=' after "B"`},
	{"missing = with blanks", "foo bar  \nA=1", nil, `t.env:1: missing '=' after "foo bar"`},
	{"missing = after comment backslash", "# a \\\nbad line\n", nil, `t.env:2: missing '=' after "bad line"`},
	{"empty name", "A=1\n=1\n", nil, `t.env:2: empty variable name`},
	{"empty name after blanks", "  ==1", nil, `t.env:1: empty variable name`},
	{"unterminated double quote", "A=1\nB=\"abc\nC=2\n", nil, `t.env:2: unterminated double quote in value of "B"`},
	{"unterminated double quote after escape", "A=\"a\\", nil, `t.env:1: unterminated double quote in value of "A"`},
	{"unterminated single quote", "A=x\n\nB='abc", nil, `t.env:3: unterminated single quote in value of "B"`},
	{"unterminated quote opened on later line", "A=\"x\ny\"'abc\n", nil, `t.env:2: unterminated single quote in value of "A"`},
	{"NUL in value", "A=1\nB=a\x00b\n", nil, `t.env:2: NUL byte`},
	{"NUL in comment", "A=1\n# \x00\n", nil, `t.env:2: NUL byte`},
	{"invalid UTF-8", "A=1\nB=\xff\n", nil, `t.env:2: invalid UTF-8 in value of "B"`},
	{"overlong UTF-8", "A=\xc0\xaf", nil, `t.env:1: invalid UTF-8 in value of "A"`},
	{"surrogate", "A='\xed\xa0\x80'", nil, `t.env:1: invalid UTF-8 in value of "A"`},
	{"noncharacter U+FFFE", "A=\uFFFE", nil, `t.env:1: invalid UTF-8 in value of "A"`},
	{"noncharacter U+FDD0", "A=\"\uFDD0\"", nil, `t.env:1: invalid UTF-8 in value of "A"`},
	{"noncharacter U+10FFFF", "A=\U0010FFFF", nil, `t.env:1: invalid UTF-8 in value of "A"`},
	{"line count across quoted newlines", "A=\"a\nb\"\nX\n", nil, `t.env:3: missing '=' after "X"`},
	{"line count across continuations", "A=a\\\nb\n1X=1", nil, `t.env:3: invalid variable name "1X"`},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("t.env", []byte(tt.in))
			if tt.err != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %#v, want error %q", tt.in, got, tt.err)
				}
				if err.Error() != tt.err {
					t.Fatalf("Parse(%q) error = %q, want %q", tt.in, err, tt.err)
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.File != "t.env" {
					t.Fatalf("Parse(%q) error %#v is not an *Error for t.env", tt.in, err)
				}
				if got != nil {
					t.Fatalf("Parse(%q) returned vars %#v with an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{File: "app.env", Line: 3, Msg: `invalid variable name "1X"`}
	if got, want := e.Error(), `app.env:3: invalid variable name "1X"`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	_, err := Parse("/etc/stdcontainer/env", []byte("A=1\n\n\n1X=2\n"))
	if got, want := err.Error(), `/etc/stdcontainer/env:4: invalid variable name "1X"`; got != want {
		t.Fatalf("Parse error = %q, want %q", got, want)
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"A", "_", "a", "_1", "PATH", "a_B_9"} {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "1", "1A", "A-B", "A B", "A=", "export K", "Ä", "A.B"} {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true", s)
		}
	}
}

func TestFormat(t *testing.T) {
	vars := []Var{v("A", "plain", 0), v("B", "", 0), v("C", "q\"b\\t`d$e'f", 0), v("D", "two\nlines\r\n", 0), v("E", "  # ; =  ", 0)}
	got, err := Format(vars)
	if err != nil {
		t.Fatal(err)
	}
	want := "A=\"plain\"\nB=\"\"\nC=\"q\\\"b\\\\t\\`d\\$e'f\"\nD=\"two\nlines\r\n\"\nE=\"  # ; =  \"\n"
	if string(got) != want {
		t.Fatalf("Format\n got %q\nwant %q", got, want)
	}
	back, err := Parse("f", got)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKV(back, vars) {
		t.Fatalf("Parse(Format(x))\n got %#v\nwant %#v", back, vars)
	}

	for _, bad := range [][]Var{
		{v("1X", "", 0)},
		{v("", "", 0)},
		{v("A", "1", 0), v("A", "2", 0)},
		{v("A", "a\x00", 0)},
		{v("A", "\xff", 0)},
	} {
		if b, err := Format(bad); err == nil {
			t.Errorf("Format(%#v) = %q, want error", bad, b)
		}
	}
}

func TestApply(t *testing.T) {
	env := []string{"PATH=/bin", "HOME=/root", "NOEQ", "TERM=xterm", "HOME=/old"}
	orig := slices.Clone(env)
	vars := []Var{v("HOME", "/home/u", 1), v("NEW", "n=1", 2), v("TERM", "", 3)}
	got := Apply(env, vars)
	want := []string{"PATH=/bin", "HOME=/home/u", "NOEQ", "TERM=", "NEW=n=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("Apply\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(env, orig) {
		t.Fatalf("Apply modified env: %q", env)
	}

	if got := Apply(nil, nil); len(got) != 0 {
		t.Fatalf("Apply(nil, nil) = %q", got)
	}
	if got := Apply([]string{"A=1"}, nil); !slices.Equal(got, []string{"A=1"}) {
		t.Fatalf("Apply without vars = %q", got)
	}
	// A key repeated in vars: the last one wins, at a single position.
	got = Apply([]string{"X=0"}, []Var{v("A", "1", 1), v("A", "2", 2), v("X", "a", 3), v("X", "b", 4)})
	if want := []string{"X=b", "A=2"}; !slices.Equal(got, want) {
		t.Fatalf("Apply with repeated keys\n got %q\nwant %q", got, want)
	}
	// Apply of Parse: the usual way the init uses the package.
	parsed, err := Parse("e", []byte("PATH=/usr/bin\nLANG=C.UTF-8\n"))
	if err != nil {
		t.Fatal(err)
	}
	got = Apply([]string{"HOME=/", "PATH=/bin"}, parsed)
	if want := []string{"HOME=/", "PATH=/usr/bin", "LANG=C.UTF-8"}; !slices.Equal(got, want) {
		t.Fatalf("Apply(Parse)\n got %q\nwant %q", got, want)
	}
}

// sameKV compares keys and values, ignoring Line.
func sameKV(a, b []Var) bool {
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
