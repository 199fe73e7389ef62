// Package envfile reads and writes environment files in the syntax of
// systemd's EnvironmentFile= (systemd.exec(5)).
//
// Parse follows the state machine of systemd's parse_env_file_internal
// (src/basic/env-file.c, systemd v254 and later) byte for byte, so a file
// means the same thing to the init as it would to systemd. Where systemd
// only logs and drops a broken line, or silently accepts a truncated one,
// Parse returns a line-numbered *Error instead: a typo in an image's
// environment should fail the build, not vanish.
//
// The package is linked into the static init, so it imports only a few
// small standard packages.
package envfile

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Var is one assignment, Line is the 1-based line where its key starts.
//
// For a key assigned several times, Parse reports the line of the
// assignment whose value won (the last one).
type Var struct {
	Key, Value string
	Line       int
}

// Error is a parse error at a line of a named file. Its Error method returns
// "NAME:LINE: MSG", e.g. `app.env:3: invalid variable name "1X"`.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error returns "FILE:LINE: MSG".
func (e *Error) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// The states of systemd's parser, in its order: PRE_KEY, KEY, PRE_VALUE,
// VALUE, VALUE_ESCAPE, SINGLE_QUOTE_VALUE, DOUBLE_QUOTE_VALUE,
// DOUBLE_QUOTE_VALUE_ESCAPE, COMMENT. systemd also has COMMENT_ESCAPE,
// which since v254 only logs and then acts exactly like COMMENT (a trailing
// backslash no longer continues a comment), so it is folded into inComment.
type state uint8

const (
	preKey            state = iota // between assignments: whitespace, comments
	inKey                          // reading the name, up to '='
	preValue                       // after '=' or after a closing quote
	inValue                        // unquoted text
	valueEscape                    // after '\' in unquoted text
	singleQuote                    // inside '…'
	doubleQuote                    // inside "…"
	doubleQuoteEscape              // after '\' inside "…"
	inComment                      // '#' or ';' up to the end of the line
)

// systemd's NEWLINE is "\n\r" and its WHITESPACE " \t\n\r"; newlines are
// always tested first, so blank means the remaining two.
func isNewline(c byte) bool { return c == '\n' || c == '\r' }
func isBlank(c byte) bool   { return c == ' ' || c == '\t' }

// parser holds what systemd keeps in locals of parse_env_file_internal.
type parser struct {
	name  string
	vars  []Var
	index map[string]int // key → position in vars, for last-wins

	key     string // name of the assignment being read
	keyLine int
	val     []byte // value being read, across quoted and unquoted pieces
	// trailing is where a run of unquoted blanks at the end of val starts,
	// or -1 (systemd's last_value_whitespace); such a run is trimmed at the
	// end of the line. An escaped blank ends the run.
	trailing  int
	quoteLine int // where the open quote started, for errors
}

// Parse reads data in EnvironmentFile= syntax; name is used only in errors.
// It returns each key once, in order of first appearance, carrying the last
// value assigned (last wins).
//
// Lines are numbered by '\n' only (as grep -n and editors do), although a
// lone '\r' also ends an assignment, as it does for systemd.
func Parse(name string, data []byte) ([]Var, error) {
	p := &parser{name: name, index: map[string]int{}}
	st := preKey
	keyStart := 0
	line := 1
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == 0 {
			// systemd reads the file as a C string and silently stops at
			// the first NUL; the values go to execve, which cannot carry one.
			return nil, p.fail(line, "NUL byte")
		}
		switch st {
		case preKey:
			switch {
			case c == '#' || c == ';':
				st = inComment
			case c == '=':
				// systemd would read "=…" as a key containing '=' and drop
				// it later as invalid; say so directly.
				return nil, p.fail(line, "empty variable name")
			case isBlank(c) || isNewline(c):
				// skip
			default:
				st, keyStart, p.keyLine = inKey, i, line
			}

		case inKey:
			switch {
			case isNewline(c):
				// systemd ignores a line without '='.
				return nil, p.fail(p.keyLine, "missing '=' after "+quote(trimBlanks(data[keyStart:i])))
			case c == '=':
				// Blanks before '=' are dropped; any other byte stays part of
				// the key, which is then checked as systemd's
				// env_name_is_valid does (systemd drops invalid ones).
				p.key = trimBlanks(data[keyStart:i])
				if !ValidName(p.key) {
					return nil, p.fail(p.keyLine, "invalid variable name "+quote(p.key))
				}
				st, p.val, p.trailing = preValue, p.val[:0], -1
			}

		case preValue:
			switch {
			case isNewline(c):
				if err := p.push(); err != nil {
					return nil, err
				}
				st = preKey
			case c == '\'':
				st, p.quoteLine = singleQuote, line
			case c == '"':
				st, p.quoteLine = doubleQuote, line
			case c == '\\':
				st = valueEscape
			case isBlank(c):
				// Blanks before a value and between a closing quote and
				// what follows are skipped: K="a" b is "ab".
			default:
				st = inValue
				p.val = append(p.val, c)
			}

		case inValue:
			// Quotes are plain characters once an unquoted piece started.
			switch {
			case isNewline(c):
				p.trimTrailing()
				if err := p.push(); err != nil {
					return nil, err
				}
				st = preKey
			case c == '\\':
				st, p.trailing = valueEscape, -1
			default:
				if !isBlank(c) {
					p.trailing = -1
				} else if p.trailing < 0 {
					p.trailing = len(p.val)
				}
				p.val = append(p.val, c)
			}

		case valueEscape:
			// \x is x; backslash-newline joins the lines (also for '\r',
			// so backslash-CRLF ends the assignment at the '\n').
			st = inValue
			if !isNewline(c) {
				p.val = append(p.val, c)
			}

		case singleQuote:
			if c == '\'' {
				st = preValue
			} else {
				p.val = append(p.val, c)
			}

		case doubleQuote:
			switch c {
			case '"':
				st = preValue
			case '\\':
				st = doubleQuoteEscape
			default:
				p.val = append(p.val, c)
			}

		case doubleQuoteEscape:
			// Like sh: \" \\ \` \$ unescape, backslash-newline ('\n' only)
			// vanishes, and any other backslash is kept.
			st = doubleQuote
			switch c {
			case '"', '\\', '`', '$':
				p.val = append(p.val, c)
			case '\n':
			default:
				p.val = append(p.val, '\\', c)
			}

		case inComment:
			if isNewline(c) {
				st = preKey
			}
		}
		if c == '\n' {
			line++
		}
	}

	// End of data without a final newline.
	switch st {
	case inKey:
		return nil, p.fail(p.keyLine, "missing '=' after "+quote(trimBlanks(data[keyStart:])))
	case inValue:
		p.trimTrailing()
		fallthrough
	case preValue, valueEscape:
		// A backslash at the very end is dropped, as systemd does.
		if err := p.push(); err != nil {
			return nil, err
		}
	case singleQuote:
		// systemd keeps the value read so far, which has swallowed every
		// following line; that is never what the author meant.
		return nil, p.fail(p.quoteLine, "unterminated single quote in value of "+quote(p.key))
	case doubleQuote, doubleQuoteEscape:
		return nil, p.fail(p.quoteLine, "unterminated double quote in value of "+quote(p.key))
	}
	return p.vars, nil
}

// trimTrailing drops unescaped blanks at the end of an unquoted value.
func (p *parser) trimTrailing() {
	if p.trailing >= 0 {
		p.val = p.val[:p.trailing]
	}
}

// push records the assignment just read, replacing an earlier value of the
// same key in place (systemd's strv_env_replace_consume).
func (p *parser) push() error {
	v := Var{Key: p.key, Value: string(p.val), Line: p.keyLine}
	// systemd refuses the whole file on invalid UTF-8
	// (check_utf8ness_and_warn).
	if !validUTF8(v.Value) {
		return p.fail(p.keyLine, "invalid UTF-8 in value of "+quote(p.key))
	}
	if i, ok := p.index[v.Key]; ok {
		p.vars[i] = v
	} else {
		p.index[v.Key] = len(p.vars)
		p.vars = append(p.vars, v)
	}
	return nil
}

func (p *parser) fail(line int, msg string) error {
	return &Error{File: p.name, Line: line, Msg: msg}
}

// trimBlanks returns b without trailing spaces and tabs, as a string.
func trimBlanks(b []byte) string {
	n := len(b)
	for n > 0 && isBlank(b[n-1]) {
		n--
	}
	return string(b[:n])
}

// validUTF8 is systemd's utf8_is_valid: well-formed UTF-8 (no overlong
// forms, surrogates or code points past U+10FFFF, like utf8.ValidString)
// that also contains none of the noncharacters U+FDD0..U+FDEF and
// U+xxFFFE, U+xxFFFF, which systemd's unichar_is_valid refuses too.
func validUTF8(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || 0xFDD0 <= r && r <= 0xFDEF || r&0xFFFE == 0xFFFE {
			return false
		}
		i += n
	}
	return true
}

// ValidName reports whether s is a valid variable name,
// [A-Za-z_][A-Za-z0-9_]* (systemd's env_name_is_valid).
func ValidName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Format writes vars as KEY="VALUE" lines, double-quoting every value and
// escaping \ " ` $, so that Parse of the result returns vars again (Line
// aside). It fails on what Parse would not return: an invalid name, a key
// given twice, a NUL byte or invalid UTF-8 (as systemd judges it) in a value. Values may contain
// newlines; they stay inside the quotes.
func Format(vars []Var) ([]byte, error) {
	seen := make(map[string]bool, len(vars))
	var b []byte
	for _, v := range vars {
		switch {
		case !ValidName(v.Key):
			return nil, errors.New("envfile: invalid variable name " + quote(v.Key))
		case seen[v.Key]:
			return nil, errors.New("envfile: duplicate variable " + quote(v.Key))
		case strings.IndexByte(v.Value, 0) >= 0:
			return nil, errors.New("envfile: NUL byte in value of " + v.Key)
		case !validUTF8(v.Value):
			return nil, errors.New("envfile: invalid UTF-8 in value of " + v.Key)
		}
		seen[v.Key] = true
		b = append(b, v.Key...)
		b = append(b, '=', '"')
		for i := 0; i < len(v.Value); i++ {
			switch c := v.Value[i]; c {
			case '\\', '"', '`', '$':
				b = append(b, '\\', c)
			default:
				b = append(b, c)
			}
		}
		b = append(b, '"', '\n')
	}
	return b, nil
}

// Apply overlays vars onto an environ-style list ("K=V" strings): existing
// keys are replaced in place, new keys appended. It does not modify env.
//
// Later duplicates of a replaced key are dropped, so that no stale value
// survives (os/exec keeps the last of duplicates); entries without '=' are
// kept as they are. If vars repeats a key, the last one wins.
func Apply(env []string, vars []Var) []string {
	last := make(map[string]int, len(vars)) // key → index of its winning var
	for i, v := range vars {
		last[v.Key] = i
	}
	done := make([]bool, len(vars))
	out := make([]string, 0, len(env)+len(vars))
	for _, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		i, hit := last[k]
		if !ok || !hit {
			out = append(out, kv)
			continue
		}
		if !done[i] {
			out = append(out, k+"="+vars[i].Value)
			done[i] = true
		}
	}
	for i, v := range vars {
		if !done[i] && last[v.Key] == i {
			out = append(out, v.Key+"="+v.Value)
		}
	}
	return out
}

// quote is strconv.Quote for error messages, minus its Unicode tables,
// which the init cannot afford: control bytes become \xNN, the rest stays.
func quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}
