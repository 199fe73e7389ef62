package writer

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
	"github.com/stdcontainer/stdcontainer/build/plan"
)

// layoutFile is one file of the image layout: Data, or the file at src.
type layoutFile struct {
	name string // slash-separated, relative to the layout root
	data []byte
	src  string
	size int64
}

// writeOCI writes the plan as an OCI image layout (a directory, or one
// tar that docker, podman and containerd load): one gzip layer holding the
// plan as tar.go writes it, a config from opts.Image, a manifest, and
// index.json naming the manifest by opts.Image.Tag.
func writeOCI(entries []plan.Entry, format Format, name string, opts Options) (err error) {
	tag := opts.Image.Tag
	if tag != "" {
		if tag, err = ParseTag(tag); err != nil {
			return errors.New("image tag " + opts.Image.Tag + ": " + err.Error())
		}
	}
	// The layer goes to a temporary file first: its name in the layout is
	// its digest, and a tar header needs its size.
	var layerTmp string
	if format == FormatOCI {
		if err := os.Mkdir(name, 0o700); err != nil {
			return err
		}
		for _, dir := range []string{"blobs", "blobs/sha256"} {
			if err := os.Mkdir(filepath.Join(name, dir), 0o700); err != nil {
				return err
			}
		}
		layerTmp = filepath.Join(name, "blobs", "sha256", ".layer")
	} else {
		layerTmp = name + ".layer"
		os.Remove(layerTmp)
		defer os.Remove(layerTmp)
	}
	// Errors about our own output name no path of the image.
	defer func() {
		var pe *fs.PathError
		if errors.As(err, &pe) && (pe.Path == layerTmp || strings.HasPrefix(pe.Path, name+"/")) {
			err = pe.Err
		}
	}()

	layer, diffID, err := writeLayer(layerTmp, entries, opts)
	if err != nil {
		return err
	}
	created := opts.ModTime.UTC().Format(time.RFC3339Nano)
	img := opts.Image
	config, err := json.Marshal(ocilayout.ImageConfig{
		Architecture: runtime.GOARCH,
		Config: ocilayout.RunConfig{
			Cmd:        img.Cmd,
			Entrypoint: img.Entrypoint,
			Env:        img.Env,
			Labels:     img.Labels,
			User:       img.User,
			WorkingDir: img.WorkingDir,
		},
		Created: created,
		History: []ocilayout.History{{Created: created, CreatedBy: "mkrootfs"}},
		OS:      "linux",
		RootFS:  ocilayout.RootFS{DiffIDs: []string{diffID}, Type: "layers"},
	})
	if err != nil {
		return err
	}
	manifest, err := json.Marshal(ocilayout.Manifest{
		Config:        ocilayout.Descriptor{Digest: digestOf(config), MediaType: ocilayout.MediaTypeConfig, Size: int64(len(config))},
		Layers:        []ocilayout.Descriptor{layer},
		MediaType:     ocilayout.MediaTypeManifest,
		SchemaVersion: 2,
	})
	if err != nil {
		return err
	}
	manifestDesc := ocilayout.Descriptor{
		Digest:    digestOf(manifest),
		MediaType: ocilayout.MediaTypeManifest,
		Platform:  &ocilayout.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Size:      int64(len(manifest)),
	}
	if tag != "" {
		manifestDesc.Annotations = map[string]string{ocilayout.AnnotationRefName: tag}
	}
	index, err := json.Marshal(ocilayout.Index{Manifests: []ocilayout.Descriptor{manifestDesc}, MediaType: ocilayout.MediaTypeIndex, SchemaVersion: 2})
	if err != nil {
		return err
	}
	ociLayout, err := json.Marshal(ocilayout.LayoutFile{ImageLayoutVersion: ocilayout.LayoutVersion})
	if err != nil {
		return err
	}
	files := []layoutFile{
		{name: "oci-layout", data: ociLayout},
		{name: "index.json", data: index},
		{name: blobPath(digestOf(config)), data: config},
		{name: blobPath(manifestDesc.Digest), data: manifest},
		{name: blobPath(layer.Digest), src: layerTmp, size: layer.Size},
	}
	if format == FormatOCI {
		return finishLayoutDir(name, files, opts)
	}
	// docker load reads manifest.json; podman and containerd read either.
	repoTags := []string{}
	if tag != "" {
		repoTags = append(repoTags, tag)
	}
	docker, err := json.Marshal([]ocilayout.DockerManifest{{
		Config:   blobPath(digestOf(config)),
		Layers:   []string{blobPath(layer.Digest)},
		RepoTags: repoTags,
	}})
	if err != nil {
		return err
	}
	files = append(files, layoutFile{name: "manifest.json", data: docker})
	return writeLayoutTar(name, files, opts)
}

// writeLayer writes the plan as a gzip-compressed tar to name and returns
// the layer's descriptor and its diff_id (the digest of the uncompressed
// tar), both hashed while the layer is written.
func writeLayer(name string, entries []plan.Entry, opts Options) (desc ocilayout.Descriptor, diffID string, err error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return desc, "", err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	compressed := &hashCounter{h: sha256.New()}
	// No name and a zero mtime in the gzip header: reproducible.
	gz, _ := gzip.NewWriterLevel(io.MultiWriter(buf, compressed), gzip.BestCompression)
	uncompressed := &hashCounter{h: sha256.New()}
	tw := tar.NewWriter(io.MultiWriter(gz, uncompressed))
	err = writeTar(tw, entries, opts)
	for _, closeNext := range []func() error{tw.Close, gz.Close, buf.Flush, f.Sync, f.Close} {
		if cerr := closeNext(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return desc, "", err
	}
	desc = ocilayout.Descriptor{Digest: compressed.digest(), MediaType: ocilayout.MediaTypeLayerGzip, Size: compressed.n}
	return desc, uncompressed.digest(), nil
}

// finishLayoutDir writes the files into the layout directory root (the
// layer is renamed into place) with fixed modes and mtimes.
func finishLayoutDir(root string, files []layoutFile, opts Options) error {
	for _, lf := range files {
		if interrupted.Load() {
			return ErrInterrupted
		}
		p := filepath.Join(root, filepath.FromSlash(lf.name))
		var err error
		if lf.src != "" {
			err = os.Rename(lf.src, p)
		} else {
			err = writeSmallFile(p, lf.data)
		}
		if err != nil {
			return err
		}
	}
	// Modes whatever the umask, and one mtime, deepest first.
	for _, lf := range files {
		p := filepath.Join(root, filepath.FromSlash(lf.name))
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(p, opts.ModTime, opts.ModTime); err != nil {
			return err
		}
	}
	for _, dir := range []string{"blobs/sha256", "blobs", "."} {
		p := filepath.Join(root, filepath.FromSlash(dir))
		if err := os.Chmod(p, 0o755); err != nil {
			return err
		}
		if err := os.Chtimes(p, opts.ModTime, opts.ModTime); err != nil {
			return err
		}
	}
	return nil
}

func writeSmallFile(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	for _, closeNext := range []func() error{f.Sync, f.Close} {
		if cerr := closeNext(); err == nil {
			err = cerr
		}
	}
	return err
}

// writeLayoutTar writes the layout as one tar at name: entries sorted,
// owner 0:0, one mtime, PAX headers as tar.go writes them.
func writeLayoutTar(name string, files []layoutFile, opts Options) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	tw := tar.NewWriter(buf)
	err = writeLayoutEntries(tw, files, opts)
	for _, closeNext := range []func() error{tw.Close, buf.Flush, f.Sync, f.Close} {
		if cerr := closeNext(); err == nil {
			err = cerr
		}
	}
	return err
}

func writeLayoutEntries(tw *tar.Writer, files []layoutFile, opts Options) error {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		hdr := &tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: opts.ModTime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	// "blobs/..." sorts before "index.json", "manifest.json", "oci-layout".
	for _, lf := range files {
		if interrupted.Load() {
			return ErrInterrupted
		}
		size := int64(len(lf.data))
		if lf.src != "" {
			size = lf.size
		}
		hdr := &tar.Header{Name: lf.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: opts.ModTime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if lf.src == "" {
			if _, err := tw.Write(lf.data); err != nil {
				return err
			}
			continue
		}
		src, err := os.Open(lf.src)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, interruptible{src})
		src.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// hashCounter hashes and counts what is written to it.
type hashCounter struct {
	h hash.Hash
	n int64
}

func (c *hashCounter) Write(b []byte) (int, error) {
	c.h.Write(b)
	c.n += int64(len(b))
	return len(b), nil
}

func (c *hashCounter) digest() string { return "sha256:" + hex.EncodeToString(c.h.Sum(nil)) }

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// blobPath is where a digest's blob lives in the layout.
func blobPath(digest string) string {
	return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
}

// The docker reference grammar (distribution/reference), without digests.
const (
	refPathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	refDomainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refDomain          = `(?:` + refDomainComponent + `(?:\.` + refDomainComponent + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
	refName            = `(?:` + refDomain + `/)?` + refPathComponent + `(?:/` + refPathComponent + `)*`
)

var (
	refNameRE = regexp.MustCompile(`^` + refName + `$`)
	refTagRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// ParseTag checks an image reference NAME[:TAG] by docker's rules (a
// lower-case repository, optionally behind a registry host; a tag of at
// most 128 letters, digits, '_', '.', '-', not starting with '.' or '-')
// and returns it as NAME:TAG, with TAG "latest" when none is given.
func ParseTag(ref string) (string, error) {
	if ref == "" {
		return "", errors.New("empty image reference")
	}
	if strings.Contains(ref, "@") {
		return "", errors.New("a digest (@...) cannot name a new image; give NAME:TAG")
	}
	name, tag := ref, "latest"
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		name, tag = ref[:i], ref[i+1:]
		if !refTagRE.MatchString(tag) {
			return "", errors.New("invalid tag " + strconv.Quote(tag) + " (use up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-')")
		}
	}
	switch {
	case len(name) > 255:
		return "", errors.New("repository name longer than 255 characters")
	case refNameRE.MatchString(name):
		return name + ":" + tag, nil
	case refNameRE.MatchString(lowerRepository(name)):
		return "", errors.New("repository name must be lower case")
	}
	return "", errors.New("invalid repository name " + strconv.Quote(name) + " (use lower-case path components of a-z, 0-9 separated by '.', '_', '__', '-' or '/', optionally behind a registry HOST[:PORT]/)")
}

// lowerRepository lower-cases name's path, leaving a registry host alone.
func lowerRepository(name string) string {
	domain, rest, ok := strings.Cut(name, "/")
	if ok && (strings.ContainsAny(domain, ".:[") || domain == "localhost" || domain != strings.ToLower(domain)) {
		return domain + "/" + strings.ToLower(rest)
	}
	return strings.ToLower(name)
}
