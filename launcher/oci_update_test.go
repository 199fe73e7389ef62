package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The flags override the --resources file's fields; the rest of the file
// stays; sizes take suffixes and -1.
func TestUpdateRequest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(file, []byte(`{"memory": {"limit": 1000, "reservation": 500}, "pids": {"limit": 8}, "future": 1}`), 0o644)
	r, err := updateRequest(file, []flagValue{
		{"memory", "64m"}, {"memory-swap", "-1"}, {"cpu-quota", "5000"}, {"cpu-share", "2"}, {"cpu-shares", "512"},
		{"cpuset-cpus", "0-1"}, {"pids-limit", "-1"}, {"blkio-weight", "300"}, {"kernel-memory", "1m"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, c := r.Memory, r.CPU
	if *m.Limit != 64<<20 || *m.Swap != -1 || *m.Reservation != 500 || m.Kernel != nil {
		t.Errorf("memory %d swap %d reservation %d kernel %v", *m.Limit, *m.Swap, *m.Reservation, m.Kernel)
	}
	if *c.Quota != 5000 || c.Period != nil || *c.Shares != 512 || c.Cpus != "0-1" {
		t.Errorf("cpu quota %d period %v shares %d cpus %q", *c.Quota, c.Period, *c.Shares, c.Cpus)
	}
	if *r.Pids.Limit != -1 || *r.BlockIO.Weight != 300 {
		t.Errorf("pids %d blkio weight %d", *r.Pids.Limit, *r.BlockIO.Weight)
	}
	for _, tc := range []struct {
		file  string
		flags []flagValue
		want  string
	}{
		{"", []flagValue{{"memory", "20x"}}, "update --memory 20x: not a size"},
		{"", []flagValue{{"memory", "-2"}}, "update --memory -2: not a size"},
		{"", []flagValue{{"pids-limit", "many"}}, "update --pids-limit many: not a number"},
		{"", []flagValue{{"blkio-weight", "70000"}}, "update --blkio-weight 70000: not a weight"},
		{"", []flagValue{{"l3-cache-schema", "L3:0=f"}}, "update --l3-cache-schema L3:0=f: Intel RDT is not supported"},
		{"/nonexistent.json", nil, "update --resources /nonexistent.json: open /nonexistent.json: no such file"},
		{file + ".bad", nil, "update --resources " + file + ".bad: line 2: "},
	} {
		os.WriteFile(file+".bad", []byte("{\n\"memory\": [}"), 0o644)
		if _, err := updateRequest(tc.file, tc.flags); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %v: err = %v, want %q", tc.file, tc.flags, err, tc.want)
		}
	}
}

// FuzzUpdateRequest: whatever --resources holds and whatever a flag is
// given, updateRequest returns resources or an error, never panics.
func FuzzUpdateRequest(f *testing.F) {
	f.Add([]byte(`{"memory": {"limit": 67108864}, "pids": {"limit": 32}}`), "memory", "64m")
	f.Add([]byte(`{"cpu": {"quota": -1, "cpus": "0-1"}}`), "cpu-quota", "-1")
	f.Add([]byte(`[]`), "pids-limit", "x")
	f.Fuzz(func(t *testing.T, resources []byte, flag, value string) {
		file := filepath.Join(t.TempDir(), "resources.json")
		if err := os.WriteFile(file, resources, 0o644); err != nil {
			t.Fatal(err)
		}
		var flags []flagValue
		if _, known := updateFlags[flag]; known {
			flags = append(flags, flagValue{flag, value})
		}
		if r, err := updateRequest(file, flags); err == nil && r == nil {
			t.Error("no resources and no error")
		}
	})
}
