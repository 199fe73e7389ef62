// Package shellsplit splits a command line into arguments the way a POSIX
// shell does for plain words: blanks separate, quotes group, no expansion.
package shellsplit

import (
	"errors"
	"strings"
)

// Split turns `sh -c 'echo "hi there"'` into [sh -c echo "hi there"].
// Single quotes keep everything verbatim; double quotes keep everything
// but let a backslash escape \ " $ ` and newline; outside quotes a
// backslash escapes any character. Variables and globs are not expanded.
func Split(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inWord  bool
		quote   byte // 0, '\'' or '"'
		escaped bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
			if quote == '"' && !strings.ContainsRune("\\\"$`\n", rune(c)) {
				cur.WriteByte('\\')
			}
			if c != '\n' {
				cur.WriteByte(c)
			}
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteByte(c)
			}
		case c == '\\':
			escaped, inWord = true, true
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, errors.New("unterminated " + string(quote) + " quote")
	case escaped:
		return nil, errors.New("trailing backslash")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// Quote is the inverse of Split for one argument: the result splits back
// into exactly arg.
func Quote(arg string) string {
	if arg != "" && strings.Trim(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return arg
	}
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}
