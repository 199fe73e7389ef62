package envfile

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteAll is an encoder written independently of Format: every value in
// double quotes with \ " ` $ escaped.
func quoteAll(vars []Var) []byte {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(v.Key + `="`)
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
		b.WriteString(r.Replace(v.Value))
		b.WriteString("\"\n")
	}
	return []byte(b.String())
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := Parse("fuzz.env", data)
		again, err2 := Parse("fuzz.env", data)
		if !reflect.DeepEqual(vars, again) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Parse is not deterministic: %#v %v / %#v %v", vars, err, again, err2)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "fuzz.env" || pe.Line < 1 || pe.Line > lines || pe.Msg == "" {
				t.Fatalf("bad error %#v", err)
			}
			if vars != nil {
				t.Fatalf("vars %#v returned with error", vars)
			}
			return
		}
		seen := map[string]bool{}
		for _, v := range vars {
			if !keyRE.MatchString(v.Key) {
				t.Fatalf("invalid key %q", v.Key)
			}
			if seen[v.Key] {
				t.Fatalf("key %q returned twice", v.Key)
			}
			seen[v.Key] = true
			if strings.IndexByte(v.Value, 0) >= 0 || !utf8.ValidString(v.Value) || !validUTF8(v.Value) {
				t.Fatalf("value of %s has NUL or invalid UTF-8: %q", v.Key, v.Value)
			}
			if v.Line < 1 || v.Line > lines {
				t.Fatalf("line %d of %s outside 1..%d", v.Line, v.Key, lines)
			}
		}

		enc := quoteAll(vars)
		formatted, err := Format(vars)
		if err != nil {
			t.Fatalf("Format(%#v): %v", vars, err)
		}
		if !bytes.Equal(formatted, enc) {
			t.Fatalf("Format = %q, independent encoder = %q", formatted, enc)
		}
		back, err := Parse("re.env", enc)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", enc, err)
		}
		if !sameKV(back, vars) {
			t.Fatalf("re-parse of %q\n got %#v\nwant %#v", enc, back, vars)
		}
	})
}
