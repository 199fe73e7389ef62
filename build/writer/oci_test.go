package writer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
	"github.com/stdcontainer/stdcontainer/build/plan"
)

// ociTestEntries is a small plan with every kind of entry, special mode
// bits, and both kinds of file content (Data and a host Source).
func ociTestEntries(t *testing.T) []plan.Entry {
	t.Helper()
	src := filepath.Join(t.TempDir(), "init")
	if err := os.WriteFile(src, bytes.Repeat([]byte("static init "), 5000), 0o755); err != nil {
		t.Fatal(err)
	}
	p := plan.New()
	for _, e := range []plan.Entry{
		{Path: "/etc/os-release", Kind: plan.File, Mode: 0o644, Data: []byte("ID=test\n")},
		{Path: "/sbin/init", Kind: plan.File, Mode: 0o755, Source: src, Size: 60000},
		{Path: "/usr/bin/su", Kind: plan.File, Mode: 0o755 | fs.ModeSetuid, Data: []byte("su")},
		{Path: "/bin", Kind: plan.Symlink, Target: "usr/bin"},
		{Path: "/tmp", Kind: plan.Dir, Mode: 0o777 | fs.ModeSticky},
		{Path: "/empty", Kind: plan.File, Mode: 0o600},
	} {
		if err := p.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return p.Entries()
}

func ociTestOptions() Options {
	return Options{
		ModTime: time.Unix(1700000000, 0).UTC(),
		Image: ImageConfig{
			Tag:        "example.com:5000/team/probe:v1.2",
			Entrypoint: []string{"/sbin/init"},
			Cmd:        []string{"/usr/local/bin/app", "--flag", "a b"},
			Env:        []string{"A=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			WorkingDir: "/srv",
			User:       "1000:1000",
			Labels:     map[string]string{"org.opencontainers.image.title": "probe", "a.b": "<&>"},
		},
	}
}

// readLayoutTar returns an oci.tar's files by name, checking its headers.
func readLayoutTar(t *testing.T, data []byte, opts Options) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(opts.ModTime) {
			t.Errorf("%s: owner %d:%d (%q:%q), mtime %v; want 0:0, no names, %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime, opts.ModTime)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if h.Mode != 0o755 {
				t.Errorf("%s: mode %o", h.Name, h.Mode)
			}
		case tar.TypeReg:
			if h.Mode != 0o644 {
				t.Errorf("%s: mode %o", h.Name, h.Mode)
			}
			files[h.Name], _ = io.ReadAll(tr)
		default:
			t.Errorf("%s: unexpected type %c", h.Name, h.Typeflag)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("tar entries not sorted: %v", names)
	}
	if names[0] != "blobs/" || names[1] != "blobs/sha256/" {
		t.Errorf("tar starts with %v, want the blobs directories", names[:2])
	}
	return files
}

// readLayoutDir returns an oci directory's files by slash-separated name.
func readLayoutDir(t *testing.T, root string, opts Options) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = fs.ModeDir | 0o755
		}
		if info.Mode() != want || !info.ModTime().Equal(opts.ModTime) {
			t.Errorf("%s: mode %v, mtime %v; want %v, %v", rel, info.Mode(), info.ModTime(), want, opts.ModTime)
		}
		if !d.IsDir() {
			files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// blob returns the blob a descriptor names, checking its digest and size.
func blob(t *testing.T, files map[string][]byte, d ocilayout.Descriptor) []byte {
	t.Helper()
	hexDigest, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok {
		t.Fatalf("digest %q is not sha256", d.Digest)
	}
	data, ok := files["blobs/sha256/"+hexDigest]
	if !ok {
		t.Fatalf("no blob for %s", d.Digest)
	}
	if sha256Hex(data) != hexDigest || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: sha256 %s, size %d; descriptor says size %d", d.Digest, sha256Hex(data), len(data), d.Size)
	}
	return data
}

func unmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
}

// checkLayout follows index.json → manifest → config and layer through the
// layout's files and checks them against the plan and options. It returns
// the manifest's descriptor.
func checkLayout(t *testing.T, files map[string][]byte, entries []plan.Entry, opts Options, wantTag string) ocilayout.Manifest {
	t.Helper()
	if got := string(files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout: %s", got)
	}
	var index ocilayout.Index
	unmarshal(t, files["index.json"], &index)
	if index.SchemaVersion != 2 || index.MediaType != ocilayout.MediaTypeIndex || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %s", files["index.json"])
	}
	md := index.Manifests[0]
	if md.MediaType != ocilayout.MediaTypeManifest || md.Platform == nil || md.Platform.Architecture != runtime.GOARCH || md.Platform.OS != "linux" {
		t.Errorf("manifest descriptor: %+v", md)
	}
	if got := md.Annotations[ocilayout.AnnotationRefName]; got != wantTag {
		t.Errorf("ref.name %q, want %q", got, wantTag)
	}
	var manifest ocilayout.Manifest
	unmarshal(t, blob(t, files, md), &manifest)
	if manifest.SchemaVersion != 2 || manifest.MediaType != ocilayout.MediaTypeManifest || manifest.Config.MediaType != ocilayout.MediaTypeConfig || len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != ocilayout.MediaTypeLayerGzip {
		t.Fatalf("manifest: %+v", manifest)
	}
	var config ocilayout.ImageConfig
	unmarshal(t, blob(t, files, manifest.Config), &config)
	layer := blob(t, files, manifest.Layers[0])

	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header: name %q, mtime %v", zr.Name, zr.ModTime)
	}
	layerTar, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	created := opts.ModTime.Format(time.RFC3339)
	want := ocilayout.ImageConfig{
		Architecture: runtime.GOARCH,
		Config: ocilayout.RunConfig{
			Cmd:        opts.Image.Cmd,
			Entrypoint: opts.Image.Entrypoint,
			Env:        opts.Image.Env,
			Labels:     opts.Image.Labels,
			User:       opts.Image.User,
			WorkingDir: opts.Image.WorkingDir,
		},
		Created: created,
		History: []ocilayout.History{{Created: created, CreatedBy: "mkrootfs"}},
		OS:      "linux",
		RootFS:  ocilayout.RootFS{DiffIDs: []string{"sha256:" + sha256Hex(layerTar)}, Type: "layers"},
	}
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(config)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("config:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	checkLayerTar(t, layerTar, entries, opts)
	return manifest
}

// checkLayerTar compares the layer's entries with the plan's.
func checkLayerTar(t *testing.T, data []byte, entries []plan.Entry, opts Options) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	i := 0
	for ; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(entries) {
			t.Errorf("extra layer entry %s", h.Name)
			continue
		}
		e := entries[i]
		name := strings.TrimPrefix(e.Path, "/")
		var typ byte
		var mode int64 = tarMode(e.Mode)
		var content []byte
		switch e.Kind {
		case plan.Dir:
			name += "/"
			typ = tar.TypeDir
		case plan.File:
			typ = tar.TypeReg
			content = e.Data
			if e.Source != "" {
				content, _ = os.ReadFile(e.Source)
			}
		case plan.Symlink:
			typ = tar.TypeSymlink
			mode = 0o777
		}
		got, _ := io.ReadAll(tr)
		if h.Name != name || h.Typeflag != typ || h.Mode != mode || h.Linkname != e.Target || !bytes.Equal(got, content) || !h.ModTime.Equal(opts.ModTime) {
			t.Errorf("layer entry %d: %s type %c mode %o -> %q, %d bytes; want %s type %c mode %o -> %q, %d bytes",
				i, h.Name, h.Typeflag, h.Mode, h.Linkname, len(got), name, typ, mode, e.Target, len(content))
		}
	}
	if i != len(entries) {
		t.Errorf("layer has %d entries, plan %d", i, len(entries))
	}
}

func TestOCITarReproducibleAndConsistent(t *testing.T) {
	entries := ociTestEntries(t)
	opts := ociTestOptions()
	dir := t.TempDir()
	var outputs [][]byte
	for _, name := range []string{"a.oci.tar", "b.oci.tar"} {
		out := filepath.Join(dir, name)
		if err := Write(entries, FormatOCITar, out, opts); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, data)
	}
	if !bytes.Equal(outputs[0], outputs[1]) {
		t.Errorf("two builds differ")
	}
	if left, _ := os.ReadDir(dir); len(left) != 2 {
		t.Errorf("left in the output directory: %v", left)
	}

	files := readLayoutTar(t, outputs[0], opts)
	manifest := checkLayout(t, files, entries, opts, opts.Image.Tag)
	if len(files) != 6 { // oci-layout, index.json, manifest.json, 3 blobs
		names := []string{}
		for n := range files {
			names = append(names, n)
		}
		t.Errorf("files: %v", names)
	}
	var docker []ocilayout.DockerManifest
	unmarshal(t, files["manifest.json"], &docker)
	want := []ocilayout.DockerManifest{{
		Config:   "blobs/sha256/" + strings.TrimPrefix(manifest.Config.Digest, "sha256:"),
		Layers:   []string{"blobs/sha256/" + strings.TrimPrefix(manifest.Layers[0].Digest, "sha256:")},
		RepoTags: []string{opts.Image.Tag},
	}}
	if len(docker) != 1 || docker[0].Config != want[0].Config || !slices.Equal(docker[0].Layers, want[0].Layers) || !slices.Equal(docker[0].RepoTags, want[0].RepoTags) {
		t.Errorf("manifest.json: %s\nwant %+v", files["manifest.json"], want)
	}
	for _, p := range append(docker[0].Layers, docker[0].Config) {
		if _, ok := files[p]; !ok {
			t.Errorf("manifest.json names %s, not in the archive", p)
		}
	}
}

func TestOCIDirReproducibleAndConsistent(t *testing.T) {
	old := syscall.Umask(0o077) // modes must not depend on the umask
	defer syscall.Umask(old)
	entries := ociTestEntries(t)
	opts := ociTestOptions()
	dir := t.TempDir()
	var layouts []map[string][]byte
	for _, name := range []string{"a.oci", "b.oci"} {
		out := filepath.Join(dir, name)
		if err := Write(entries, FormatOCI, out, opts); err != nil {
			t.Fatal(err)
		}
		layouts = append(layouts, readLayoutDir(t, out, opts))
	}
	if len(layouts[0]) != 5 || len(layouts[0]) != len(layouts[1]) {
		t.Errorf("layouts have %d and %d files, want 5", len(layouts[0]), len(layouts[1]))
	}
	for name, data := range layouts[0] {
		if !bytes.Equal(data, layouts[1][name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
	checkLayout(t, layouts[0], entries, opts, opts.Image.Tag)

	// The tar holds the same layout, plus manifest.json.
	out := filepath.Join(dir, "c.oci.tar")
	if err := Write(entries, FormatOCITar, out, opts); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	files := readLayoutTar(t, data, opts)
	delete(files, "manifest.json")
	for name, data := range layouts[0] {
		if !bytes.Equal(data, files[name]) {
			t.Errorf("%s differs between oci and oci.tar", name)
		}
	}
}

func TestOCIDefaultsAndUntagged(t *testing.T) {
	entries := ociTestEntries(t)
	opts := Options{ModTime: time.Unix(0, 0).UTC(), Image: ImageConfig{Tag: "probe"}}
	out := filepath.Join(t.TempDir(), "x.oci.tar")
	if err := Write(entries, FormatOCITar, out, opts); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	files := readLayoutTar(t, data, opts)
	checkLayout(t, files, entries, opts, "probe:latest")
	if !bytes.Contains(files["manifest.json"], []byte(`"RepoTags":["probe:latest"]`)) {
		t.Errorf("manifest.json: %s", files["manifest.json"])
	}

	opts.Image.Tag = ""
	if err := Write(entries, FormatOCITar, out, opts); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(out)
	files = readLayoutTar(t, data, opts)
	checkLayout(t, files, entries, opts, "")
	if bytes.Contains(files["index.json"], []byte("annotations")) || !bytes.Contains(files["manifest.json"], []byte(`"RepoTags":[]`)) {
		t.Errorf("untagged image: index %s, manifest.json %s", files["index.json"], files["manifest.json"])
	}

	opts.Image.Tag = "Bad"
	err := Write(entries, FormatOCI, filepath.Join(t.TempDir(), "y.oci"), opts)
	if err == nil || !strings.Contains(err.Error(), "lower case") {
		t.Errorf("bad tag: %v", err)
	}
}

func TestParseTag(t *testing.T) {
	good := map[string]string{
		"probe":                          "probe:latest",
		"probe:v1":                       "probe:v1",
		"stdcontainer/probe:latest":      "stdcontainer/probe:latest",
		"a.b_c__d---e/f:_x.Y-9":          "a.b_c__d---e/f:_x.Y-9",
		"localhost:5000/probe":           "localhost:5000/probe:latest",
		"localhost:5000/probe:1":         "localhost:5000/probe:1",
		"Registry.Example.com/team/x:1":  "Registry.Example.com/team/x:1",
		"[::1]:5000/x:1":                 "[::1]:5000/x:1",
		"x:" + strings.Repeat("t", 128):  "x:" + strings.Repeat("t", 128),
		strings.Repeat("a", 255) + ":v1": strings.Repeat("a", 255) + ":v1",
	}
	for in, want := range good {
		if got, err := ParseTag(in); err != nil || got != want {
			t.Errorf("ParseTag(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                              "empty",
		"Probe":                         "lower case",
		"team/Probe:v1":                 "lower case",
		"probe:":                        "invalid tag",
		"probe:.v1":                     "invalid tag",
		"probe:-v1":                     "invalid tag",
		"probe:v 1":                     "invalid tag",
		"x:" + strings.Repeat("t", 129): "invalid tag",
		"probe@sha256:abcd":             "digest",
		"-probe":                        "invalid repository",
		"probe-":                        "invalid repository",
		"a..b":                          "invalid repository",
		"a/":                            "invalid repository",
		"/a":                            "invalid repository",
		"a//b":                          "invalid repository",
		"a b":                           "invalid repository",
		strings.Repeat("a", 256):        "longer than 255",
	}
	for in, want := range bad {
		if got, err := ParseTag(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTag(%q) = %q, %v; want an error mentioning %q", in, got, err, want)
		}
	}
}
