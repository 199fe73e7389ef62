// Package jsonerr turns encoding/json's errors about a file the user
// wrote (a seccomp profile, an OCI config.json) into a phrase that names
// the line or the field: an offset or a Go type means little to them.
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Describe explains err, which decoding data returned.
func Describe(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(data)) {
		line := 1 + strings.Count(string(data[:se.Offset]), "\n")
		return fmt.Sprintf("line %d: %v", line, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("want a JSON object, not %s", te.Value)
		}
		if n, ok := strings.CutPrefix(te.Value, "number "); ok {
			return fmt.Sprintf("%s: %s is out of range", te.Field, n)
		}
		return fmt.Sprintf("%s: want %s, not %s", te.Field, kind(te.Type.Kind().String()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// kind names a Go kind the way a JSON author sees it.
func kind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "a number"
	case k == "slice", k == "array":
		return "a list"
	case k == "struct", k == "map", k == "ptr":
		return "an object"
	}
	return "a " + k
}
