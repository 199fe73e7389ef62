// Package imagetest builds small container images for tests, by hand: layer
// tars, OCI image layouts (a directory or a tarball) and docker-save
// archives, with every digest computed as the specs say.
package imagetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
)

// Entry is one member of a layer tar.
type Entry struct {
	Name     string
	Type     byte  // tar.TypeReg when 0
	Mode     int64 // 0644 for files, 0755 for directories when 0
	UID, GID int
	Data     string
	Link     string            // a symlink's target, a hard link's target path
	PAX      map[string]string // extra PAX records (xattrs)
}

// Tar returns a tar stream of entries, in order.
func Tar(entries ...Entry) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Uid: e.UID, Gid: e.GID, Linkname: e.Link, PAXRecords: e.PAX, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		tw.Write([]byte(e.Data))
	}
	tw.Close()
	return b.Bytes()
}

// Layer is one layer of an image: an uncompressed tar and how it is stored.
type Layer struct {
	Tar         []byte
	Compression string // "", "gzip" or "zstd"
}

// Blob is the layer as stored, and its OCI media type.
func (l Layer) Blob() ([]byte, string) {
	switch l.Compression {
	case "gzip":
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(l.Tar)
		w.Close()
		return b.Bytes(), ocilayout.MediaTypeLayerGzip
	case "zstd":
		w, _ := zstd.NewWriter(nil)
		return w.EncodeAll(l.Tar, nil), ocilayout.MediaTypeLayerZstd
	}
	return l.Tar, ocilayout.MediaTypeLayer
}

// Config is the part of an image config a test sets.
type Config struct {
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
}

// Image is an image to build.
type Image struct {
	Name   string // the OCI ref name annotation, the docker RepoTag ("" none)
	Arch   string // "amd64" when empty
	Layers []Layer
	Config Config
}

// Digest is data's "sha256:…" digest.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Layout is an image's files by slash path: an OCI layout, or a
// docker-save tree.
type Layout map[string][]byte

// Blob stores data under blobs/sha256/.
func (l Layout) Blob(mediaType string, data []byte) ocilayout.Descriptor {
	d := ocilayout.Descriptor{MediaType: mediaType, Digest: Digest(data), Size: int64(len(data))}
	l["blobs/sha256/"+d.Digest[len("sha256:"):]] = data
	return d
}

// JSONBlob stores v as a JSON blob.
func (l Layout) JSONBlob(mediaType string, v any) ocilayout.Descriptor {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return l.Blob(mediaType, data)
}

// BlobPath is where the blob d points at is stored.
func BlobPath(d ocilayout.Descriptor) string { return "blobs/sha256/" + d.Digest[len("sha256:"):] }

// ConfigJSON is img's image config.
func ConfigJSON(img Image) []byte {
	arch := img.Arch
	if arch == "" {
		arch = "amd64"
	}
	diffIDs := []string{}
	for _, layer := range img.Layers {
		diffIDs = append(diffIDs, Digest(layer.Tar))
	}
	data, _ := json.Marshal(ocilayout.ImageConfig{
		Architecture: arch,
		Config: ocilayout.RunConfig{
			Cmd: img.Config.Cmd, Entrypoint: img.Config.Entrypoint, Env: img.Config.Env,
			User: img.Config.User, WorkingDir: img.Config.WorkingDir,
		},
		OS:     "linux",
		RootFS: ocilayout.RootFS{DiffIDs: diffIDs, Type: "layers"},
	})
	return data
}

// Manifest stores img's layers, config and manifest; it returns the
// manifest's descriptor with img's platform and name.
func (l Layout) Manifest(img Image) ocilayout.Descriptor {
	config := l.Blob(ocilayout.MediaTypeConfig, ConfigJSON(img))
	layers := []ocilayout.Descriptor{}
	for _, layer := range img.Layers {
		data, mediaType := layer.Blob()
		layers = append(layers, l.Blob(mediaType, data))
	}
	d := l.JSONBlob(ocilayout.MediaTypeManifest, ocilayout.Manifest{
		Config: config, Layers: layers, MediaType: ocilayout.MediaTypeManifest, SchemaVersion: 2,
	})
	arch := img.Arch
	if arch == "" {
		arch = "amd64"
	}
	d.Platform = &ocilayout.Platform{Architecture: arch, OS: "linux"}
	if img.Name != "" {
		d.Annotations = map[string]string{ocilayout.AnnotationRefName: img.Name}
	}
	return d
}

// Index stores a (nested) image index of descs.
func (l Layout) Index(descs ...ocilayout.Descriptor) ocilayout.Descriptor {
	return l.JSONBlob(ocilayout.MediaTypeIndex, index(descs))
}

// SetIndex writes index.json listing descs, and oci-layout.
func (l Layout) SetIndex(descs ...ocilayout.Descriptor) {
	l["index.json"], _ = json.Marshal(index(descs))
	l["oci-layout"], _ = json.Marshal(ocilayout.LayoutFile{ImageLayoutVersion: ocilayout.LayoutVersion})
}

// index is an image index listing descs.
func index(descs []ocilayout.Descriptor) ocilayout.Index {
	return ocilayout.Index{Manifests: descs, MediaType: ocilayout.MediaTypeIndex, SchemaVersion: 2}
}

// OCI is an OCI layout holding images.
func OCI(images ...Image) Layout {
	l := Layout{}
	var descs []ocilayout.Descriptor
	for _, img := range images {
		descs = append(descs, l.Manifest(img))
	}
	l.SetIndex(descs...)
	return l
}

// Docker is a docker-save archive's tree holding images, in the classic
// layout: manifest.json, <config hex>.json, <n>/layer.tar (stored with
// each layer's compression).
func Docker(images ...Image) Layout {
	l := Layout{}
	var manifest []ocilayout.DockerManifest
	n := 0
	for _, img := range images {
		config := ConfigJSON(img)
		configName := Digest(config)[len("sha256:"):] + ".json"
		l[configName] = config
		layers := []string{}
		for _, layer := range img.Layers {
			n++
			name := strconv.Itoa(n) + "/layer.tar"
			l[name], _ = layer.Blob()
			layers = append(layers, name)
		}
		tags := []string{}
		if img.Name != "" {
			tags = append(tags, img.Name)
		}
		manifest = append(manifest, ocilayout.DockerManifest{Config: configName, Layers: layers, RepoTags: tags})
	}
	l["manifest.json"], _ = json.Marshal(manifest)
	return l
}

// WriteDir writes the layout's files under dir.
func (l Layout) WriteDir(t testing.TB, dir string) {
	t.Helper()
	for name, data := range l {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Tar is the layout as one tarball, as `docker save` writes it.
func (l Layout) Tar() []byte {
	names := make([]string, 0, len(l))
	for name := range l {
		names = append(names, name)
	}
	sort.Strings(names)
	entries := make([]Entry, len(names))
	for i, name := range names {
		entries[i] = Entry{Name: name, Data: string(l[name])}
	}
	return Tar(entries...)
}

// WriteTar writes the layout as one tarball to file.
func (l Layout) WriteTar(t testing.TB, file string) {
	t.Helper()
	if err := os.WriteFile(file, l.Tar(), 0o644); err != nil {
		t.Fatal(err)
	}
}
