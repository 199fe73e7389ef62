// Package osrelease reads and writes os-release(5) files.
//
// os-release is a list of shell-compatible assignments; systemd itself
// reads it with its environment-file parser, so Parse is envfile.Parse and
// the project has a single parser for both formats.
package osrelease

import (
	"errors"
	"strconv"
	"strings"

	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
)

// Release is the ordered fields of an os-release file, each key once.
type Release []envfile.Var

// Parse reads an os-release file; name is used only in errors. Errors are
// *envfile.Error values carrying the file name and line.
func Parse(name string, data []byte) (Release, error) {
	vars, err := envfile.Parse(name, data)
	if err != nil {
		return nil, err
	}
	return Release(vars), nil
}

// Get returns the value of key, or "" when the field is absent. If r
// repeats a key (a hand-built Release), the last one wins, as in a file.
func (r Release) Get(key string) string {
	for i := len(r) - 1; i >= 0; i-- {
		if r[i].Key == key {
			return r[i].Value
		}
	}
	return ""
}

// Format writes r as KEY="VALUE" lines in order, quoting with double quotes
// and escaping \ " ` $, so that Parse(Format(r)) has r's keys and values
// (Line aside). It fails on an invalid or repeated key, on a NUL byte or
// invalid UTF-8 in a value, and on a value containing a newline ('\n' or
// '\r'): os-release values are single-line, and line-based readers (e.g.
// Python's platform.freedesktop_os_release) would split such a value.
func Format(r Release) ([]byte, error) {
	for _, f := range r {
		if strings.ContainsAny(f.Value, "\n\r") {
			return nil, errors.New("osrelease: newline in value of " + strconv.Quote(f.Key))
		}
	}
	return envfile.Format(r)
}

// PrettyName returns PRETTY_NAME, else NAME, else "Linux", the default
// os-release(5) gives. Empty fields count as unset, as in systemd's
// os_release_pretty_name.
func (r Release) PrettyName() string {
	if s := r.Get("PRETTY_NAME"); s != "" {
		return s
	}
	if s := r.Get("NAME"); s != "" {
		return s
	}
	return "Linux"
}
