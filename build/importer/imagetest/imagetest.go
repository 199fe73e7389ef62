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
		return b.Bytes(), "application/vnd.oci.image.layer.v1.tar+gzip"
	case "zstd":
		w, _ := zstd.NewWriter(nil)
		return w.EncodeAll(l.Tar, nil), "application/vnd.oci.image.layer.v1.tar+zstd"
	}
	return l.Tar, "application/vnd.oci.image.layer.v1.tar"
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

// Descriptor points at a blob.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Platform is a descriptor's platform.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
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
func (l Layout) Blob(mediaType string, data []byte) Descriptor {
	d := Descriptor{MediaType: mediaType, Digest: Digest(data), Size: int64(len(data))}
	l["blobs/sha256/"+d.Digest[len("sha256:"):]] = data
	return d
}

// JSONBlob stores v as a JSON blob.
func (l Layout) JSONBlob(mediaType string, v any) Descriptor {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return l.Blob(mediaType, data)
}

// BlobPath is where the blob d points at is stored.
func BlobPath(d Descriptor) string { return "blobs/sha256/" + d.Digest[len("sha256:"):] }

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
	data, _ := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           "linux",
		"config": map[string]any{
			"Entrypoint": img.Config.Entrypoint, "Cmd": img.Config.Cmd, "Env": img.Config.Env,
			"WorkingDir": img.Config.WorkingDir, "User": img.Config.User,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	return data
}

// Manifest stores img's layers, config and manifest; it returns the
// manifest's descriptor with img's platform and name.
func (l Layout) Manifest(img Image) Descriptor {
	config := l.Blob("application/vnd.oci.image.config.v1+json", ConfigJSON(img))
	layers := []Descriptor{}
	for _, layer := range img.Layers {
		data, mediaType := layer.Blob()
		layers = append(layers, l.Blob(mediaType, data))
	}
	d := l.JSONBlob("application/vnd.oci.image.manifest.v1+json", map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        config,
		"layers":        layers,
	})
	arch := img.Arch
	if arch == "" {
		arch = "amd64"
	}
	d.Platform = &Platform{Architecture: arch, OS: "linux"}
	if img.Name != "" {
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": img.Name}
	}
	return d
}

// Index stores a (nested) image index of descs.
func (l Layout) Index(descs ...Descriptor) Descriptor {
	return l.JSONBlob("application/vnd.oci.image.index.v1+json", map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     descs,
	})
}

// SetIndex writes index.json listing descs, and oci-layout.
func (l Layout) SetIndex(descs ...Descriptor) {
	data, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     descs,
	})
	l["index.json"] = data
	l["oci-layout"] = []byte(`{"imageLayoutVersion":"1.0.0"}`)
}

// OCI is an OCI layout holding images.
func OCI(images ...Image) Layout {
	l := Layout{}
	var descs []Descriptor
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
	var manifest []map[string]any
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
		manifest = append(manifest, map[string]any{"Config": configName, "RepoTags": tags, "Layers": layers})
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
