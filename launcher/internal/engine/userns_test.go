package engine

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSubIDs(t *testing.T) {
	cases := []struct {
		data          string
		start, blocks uint32
		bad           bool
	}{
		{"", defaultPoolStart, defaultPoolBlocks, false},
		{"alice:100000:65536\n", defaultPoolStart, defaultPoolBlocks, false},
		{"alice:100000:65536\nstdcontainer:200000:196608\nstdcontainer:1:1\n", 200000, 3, false},
		{"stdcontainer:200000:1000\n", 0, 0, true},
		{"stdcontainer:x:65536\n", 0, 0, true},
		{"stdcontainer:4294967000:65536\n", 0, 0, true},
	}
	for _, c := range cases {
		start, blocks, err := parseSubIDs("/etc/subuid", []byte(c.data))
		if (err != nil) != c.bad || !c.bad && (start != c.start || blocks != c.blocks) {
			t.Errorf("%q: %d, %d, %v; want %d, %d, error %v", c.data, start, blocks, err, c.start, c.blocks, c.bad)
		}
	}
}

func FuzzParseSubIDs(f *testing.F) {
	f.Add([]byte("stdcontainer:200000:196608\n"))
	f.Add([]byte("stdcontainer:1:70000\nstdcontainer:0:0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start, blocks, err := parseSubIDs("/etc/subuid", data)
		if err != nil {
			return
		}
		if uint64(start)+uint64(blocks)*autoSize > 1<<32 {
			t.Fatalf("%q: pool %d + %d blocks leaves the id space", data, start, blocks)
		}
	})
}

func TestHostID(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65535}}
	for in, want := range map[uint32]uint32{0: 1000, 1: 100000, 65535: 165534} {
		if got, ok := hostID(maps, in); !ok || got != want {
			t.Errorf("hostID(%d) = %d, %v; want %d", in, got, ok, want)
		}
	}
	if _, ok := hostID(maps, 65536); ok {
		t.Error("hostID(65536) mapped")
	}
}
