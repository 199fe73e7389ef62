package importer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stdcontainer/stdcontainer/build/importer/imagetest"
	"github.com/stdcontainer/stdcontainer/build/plan"
	"github.com/stdcontainer/stdcontainer/build/writer"
)

// TestRoundTrip: a plan written as a tar by the writer, wrapped as a
// one-layer OCI layout, imports as the same entries.
func TestRoundTrip(t *testing.T) {
	tmp := t.TempDir()
	big := filepath.Join(tmp, "big")
	os.WriteFile(big, make([]byte, 3<<20), 0o644)
	p := plan.New()
	for _, e := range []plan.Entry{
		{Path: "/etc/os-release", Kind: plan.File, Mode: 0o644, Data: []byte("ID=test\n")},
		{Path: "/usr/bin/su", Kind: plan.File, Mode: 0o755 | os.ModeSetuid, Data: []byte("\x7fELF")},
		{Path: "/usr/bin/wall", Kind: plan.File, Mode: 0o755 | os.ModeSetgid, GID: 5, Data: []byte("wall")},
		{Path: "/usr/share/big", Kind: plan.File, Mode: 0o444, Source: big, Size: 3 << 20},
		{Path: "/bin", Kind: plan.Symlink, Target: "usr/bin"},
		{Path: "/home/app", Kind: plan.Dir, Mode: 0o750, UID: 1000, GID: 1000},
		{Path: "/home/app/.profile", Kind: plan.File, Mode: 0o600, UID: 1000, GID: 1000, Data: []byte("PS1=$ ")},
		{Path: "/home/app/link", Kind: plan.Symlink, UID: 1000, GID: 1000, Target: "/etc/os-release"},
		{Path: "/tmp", Kind: plan.Dir, Mode: 0o777 | os.ModeSticky},
		{Path: "/var/empty", Kind: plan.Dir, Mode: 0o555},
		{Path: "/var/lib/nobody", Kind: plan.File, Mode: 0o640, UID: 65534, GID: 65534, Data: nil},
		{Path: "/opt/huge-uid", Kind: plan.File, Mode: 0o644, UID: 1 << 30, GID: 3 << 20},
	} {
		if err := p.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(tmp, "rootfs.tar")
	if err := writer.Write(p.Entries(), writer.FormatTar, out, writer.Options{ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	layer, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	layout := imagetest.OCI(imagetest.Image{Name: "rt:1", Layers: []imagetest.Layer{{Tar: layer}}})
	img, err := Import(dir(t, layout), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := p.Entries()
	if len(img.Entries) != len(want) {
		t.Fatalf("%d entries imported, %d written", len(img.Entries), len(want))
	}
	// Entries lists parents first; the plan sorts by path: compare by path.
	got := byPath(img.Entries)
	for _, w := range want {
		g, ok := got[w.Path]
		if !ok {
			t.Errorf("%s: not imported", w.Path)
			continue
		}
		if w.Kind == plan.File {
			w.Data, g.Data = []byte(content(t, w)), []byte(content(t, g))
			w.Source, g.Source = "", ""
		}
		if len(w.Data) == 0 && len(g.Data) == 0 {
			w.Data, g.Data = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", w.Path, short(g), short(w))
		}
	}
}

func short(e plan.Entry) plan.Entry {
	if len(e.Data) > 32 {
		e.Data = e.Data[:32]
	}
	return e
}
