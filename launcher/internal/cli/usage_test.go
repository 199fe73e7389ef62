package cli

import (
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	tables := map[string][]*flagDef{"": globalFlags}
	for c, defs := range commandFlags {
		tables[c] = defs
	}
	for _, c := range append([]string{""}, commands...) {
		u := Usage(c)
		if !strings.HasPrefix(u, "Usage:  launcher ") || !strings.HasSuffix(u, "\n") || strings.HasSuffix(u, "\n\n") {
			t.Errorf("Usage(%q) does not start with the synopsis and end in one newline:\n%s", c, u)
		}
		if !strings.Contains(u, "\nExit status:\n") || !strings.Contains(u, "125 ") {
			t.Errorf("Usage(%q) has no exit status section with 125", c)
		}
		defs, ok := tables[c]
		if !ok {
			t.Errorf("command %q has no flag table", c)
		}
		for _, d := range defs {
			left := "      --" + d.long
			if d.short != 0 {
				left = "  -" + string(d.short) + ", --" + d.long
			}
			if d.arg != "" {
				left += " " + d.arg
			}
			if !hasLine(u, left, d.usage) {
				t.Errorf("Usage(%q) has no line %q ... %q", c, left, d.usage)
			}
		}
	}
	for _, c := range []string{"", "run"} {
		u := Usage(c)
		for _, code := range []string{"125 ", "126 ", "127 ", "128+N "} {
			if !strings.Contains(u, "\n  "+code) {
				t.Errorf("Usage(%q) does not explain exit status %s", c, code)
			}
		}
	}
	for _, c := range commands {
		if !strings.Contains(Usage(""), "\n  "+c+" ") {
			t.Errorf("the global usage does not list %s", c)
		}
	}
	if !strings.Contains(Usage(""), "\n  stats     Show containers' resource usage\n") {
		t.Errorf("the global usage does not list stats as expected:\n%s", Usage(""))
	}
	if u := Usage("frob"); u != "" {
		t.Errorf("Usage(frob) = %q, want empty", u)
	}
}

// hasLine reports whether text has a line that starts with left and ends
// with right, with only spaces between.
func hasLine(text, left, right string) bool {
	for _, line := range strings.Split(text, "\n") {
		mid, ok := strings.CutPrefix(line, left)
		if !ok {
			continue
		}
		mid, ok = strings.CutSuffix(mid, right)
		if ok && mid != "" && strings.Trim(mid, " ") == "" {
			return true
		}
	}
	return false
}

// TestFlagTables checks that no command has two flags with one name.
func TestFlagTables(t *testing.T) {
	for c, defs := range commandFlags {
		seen := map[string]bool{}
		for _, d := range append(append([]*flagDef(nil), globalFlags...), defs...) {
			names := []string{"--" + d.long}
			if d.short != 0 {
				names = append(names, "-"+string(d.short))
			}
			for _, n := range names {
				if seen[n] && n != "--help" && n != "-h" {
					t.Errorf("%s: flag %s defined twice (or shadowed by a global one)", c, n)
				}
				seen[n] = true
			}
			if d.usage == "" || strings.Contains(d.usage, "\n") {
				t.Errorf("%s --%s: usage must be one non-empty line", c, d.long)
			}
			if (d.setBool == nil) == (d.setValue == nil) || (d.arg == "") != (d.setValue == nil) {
				t.Errorf("%s --%s: want a boolean (no arg) or a value flag (arg)", c, d.long)
			}
		}
	}
}
