// Package importer reads an existing container image, an OCI image layout
// (a directory or its tarball) or a `docker save` tarball, and turns its
// layers into plan entries, the base mkrootfs builds on.
//
// Layers are applied in order to an in-memory tree, never to the host:
// plain, gzip or zstd tars, with OCI whiteouts (".wh.NAME" removes NAME
// from the layers below, ".wh..wh..opq" hides a directory's lower
// children). Modes (setuid, setgid and sticky included), owners, symlink
// targets and empty directories are kept. What a plan cannot hold:
//
//   - A hard link becomes a copy of its target (same mode, owner and
//     content, shared in memory or in one temporary file). Writers then
//     store the content once per name.
//   - Device nodes and FIFOs are skipped with a warning (a runtime mounts
//     /dev); extended attributes, file capabilities included, are dropped
//     with a warning.
//
// Every blob is checked against its descriptor's size and sha256 digest,
// and every layer's uncompressed stream against the config's diff_id
// (docker-save archives give no descriptors: there the config is checked
// against its file name and the layers against the diff_ids).
//
// Refused, with an error naming the layer and the entry: names with ".."
// components, entries (files, links, whiteouts) whose path goes through a
// symlink (layer 1: etc -> /tmp/host; layer 2: etc/passwd), hard links to
// a directory or to anything not yet in the tree, owners out of range,
// names beyond PATH_MAX or NAME_MAX. A leading "/" in a name is harmless
// and dropped: names are relative to the image root either way. Nothing
// is written but temporary copies of contents.
//
// An image is picked by Options.Ref among the names index.json gives
// (org.opencontainers.image.ref.name, io.containerd.image.name) or a
// docker-save archive's RepoTags, docker's defaults understood ("busybox"
// is docker.io/library/busybox:latest); among the manifests of an index,
// by platform (linux/Options.Arch).
//
// Contents up to 4 MiB stay in memory while the total stays under 256 MiB;
// the rest goes to temporary files in Options.TempDir, which the caller
// removes. An image may hold up to 64 GiB of uncompressed layers, four
// million entries and 1 GiB of path names.
package importer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
	"github.com/stdcontainer/stdcontainer/build/plan"
)

// Options tune an import.
type Options struct {
	// Ref picks an image (NAME:TAG) when the source holds several.
	Ref string
	// Arch picks a manifest from a multi-platform index: linux/Arch
	// (default: runtime.GOARCH).
	Arch string
	// TempDir is an existing directory for contents too large to keep in
	// memory; the caller removes it once the plan is written. Empty:
	// everything stays in memory, up to the memory budget.
	TempDir string
	// Warn receives one-line warnings (skipped device nodes, a foreign
	// architecture); nil drops them.
	Warn func(string)

	limits limits // zero: the defaults (tests set smaller ones)
}

var defaultLimits = limits{maxSize: 64 << 30, maxEntries: 4 << 20, maxNames: 1 << 30, memFile: 4 << 20, memTotal: 256 << 20}

// Image is an imported image: its file system as plan entries (parents
// before their children, the root left out) and how it runs.
type Image struct {
	Name    string // the name it was picked by ("" when it has none)
	Entries []plan.Entry
	Config  Config
}

// Config is what the image config says about running it.
type Config struct {
	Entrypoint, Cmd []string
	Env             []string // KEY=VALUE
	WorkingDir      string
	User            string
	OS, Arch        string
}

// ErrInterrupted is what Import returns after Interrupt.
var ErrInterrupted = errors.New("interrupted; nothing written")

var interrupted atomic.Bool

// Interrupt makes a running Import stop at its next entry or block of data.
func Interrupt() { interrupted.Store(true) }

// errTooBig marks a refusal for size, not for content.
var errTooBig = errors.New("image too large")

// Import reads the image at src.
func Import(src string, opts Options) (*Image, error) {
	if opts.Arch == "" {
		opts.Arch = runtime.GOARCH
	}
	if opts.limits == (limits{}) {
		opts.limits = defaultLimits
	}
	s, err := openSource(src)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	im := &importer{src: s, opts: opts}
	img, layers, err := im.pick()
	if err != nil {
		return nil, err
	}
	if img.Config.OS != "" && img.Config.OS != "linux" {
		return nil, fmt.Errorf("a %s image, not a Linux one", show(img.Config.OS))
	}
	if img.Config.Arch != "" && img.Config.Arch != opts.Arch {
		im.warn(fmt.Sprintf("the image is for %s, this machine is %s", show(img.Config.Arch), opts.Arch))
	}
	t := newTree(opts.limits, &store{dir: opts.TempDir, memFile: opts.limits.memFile, memTotal: opts.limits.memTotal}, opts.Warn)
	for i, l := range layers {
		if err := im.applyLayer(t, l, layer{index: i + 1, count: len(layers), name: l.name}); err != nil {
			return nil, err
		}
	}
	img.Entries = t.entries()
	return img, nil
}

type importer struct {
	src  source
	opts Options
}

func (im *importer) warn(msg string) {
	if im.opts.Warn != nil {
		im.opts.Warn(msg)
	}
}

// layerBlob is a layer to apply and what it must hash to.
type layerBlob struct {
	file   string // in the source
	name   string // for messages: the digest, or the file
	comp   string // "gzip", "zstd", "" (plain tar), or "?" to look at the bytes
	digest string // sha256 of the blob as stored ("" when no descriptor gives it)
	size   int64  // the blob's size (-1 when no descriptor gives it)
	diffID string // sha256 of the uncompressed tar
}

// pick reads the source's index and returns the chosen image's config and
// layers.
func (im *importer) pick() (*Image, []layerBlob, error) {
	if r, _, err := im.src.open("index.json"); err == nil {
		r.Close()
		return im.pickOCI()
	}
	if r, _, err := im.src.open("manifest.json"); err == nil {
		r.Close()
		return im.pickDocker()
	}
	return nil, nil, errors.New("neither an OCI image layout (no index.json) nor a docker-save archive (no manifest.json)")
}

// parseConfig reads an image config and checks it lists n layers.
func parseConfig(data []byte, n int) (Config, []string, error) {
	var c ocilayout.ImageConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, nil, fmt.Errorf("image config: %v", err)
	}
	if c.RootFS.Type != "layers" {
		return Config{}, nil, fmt.Errorf("image config: rootfs type %q, want \"layers\"", c.RootFS.Type)
	}
	if len(c.RootFS.DiffIDs) != n {
		return Config{}, nil, fmt.Errorf("image config lists %d layers (diff_ids), the manifest %d", len(c.RootFS.DiffIDs), n)
	}
	for _, d := range c.RootFS.DiffIDs {
		if _, err := sha256Hex(d); err != nil {
			return Config{}, nil, fmt.Errorf("image config: diff_id %s", err)
		}
	}
	return Config{
		Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Env: c.Config.Env,
		WorkingDir: c.Config.WorkingDir, User: c.Config.User,
		OS: c.OS, Arch: c.Architecture,
	}, c.RootFS.DiffIDs, nil
}

// sha256Hex returns the hex part of a "sha256:<64 hex>" digest; other
// algorithms and malformed digests (which could name any file) are refused.
func sha256Hex(digest string) (string, error) {
	h, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return "", fmt.Errorf("%s: not a sha256 digest", show(digest))
	}
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s: malformed digest", show(digest))
	}
	return h, nil
}

// maxJSON bounds index, manifest and config blobs.
const maxJSON = 16 << 20

// readAll reads a small file of the source whole.
func (im *importer) readAll(name string) ([]byte, error) {
	r, size, err := im.src.open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if size > maxJSON {
		return nil, fmt.Errorf("%s: %d bytes, more than a metadata file may have", show(name), size)
	}
	return io.ReadAll(io.LimitReader(r, maxJSON))
}

// applyLayer streams one layer through its checks and into the tree.
func (im *importer) applyLayer(t *tree, b layerBlob, l layer) error {
	r, size, err := im.src.open(b.file)
	if err != nil {
		return fmt.Errorf("%s: %v", l, err)
	}
	defer r.Close()
	if b.size >= 0 && size != b.size {
		return fmt.Errorf("%s: blob has %d bytes, its descriptor says %d: refused", l, size, b.size)
	}
	raw := &hashReader{r: r, h: sha256.New()}
	br := bufio.NewReaderSize(raw, 1<<16)
	comp := b.comp
	if comp == "?" {
		head, _ := br.Peek(6)
		comp = compression(head)
	}
	var dec io.Reader
	switch comp {
	case "":
		dec = br
	case "gzip":
		gz, err := gzip.NewReader(br)
		if err != nil {
			return im.layerError(l, b, raw, br, err)
		}
		defer gz.Close()
		dec = gz
	case "zstd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return fmt.Errorf("%s: %v", l, err)
		}
		defer zr.Close()
		dec = zr
	default:
		return fmt.Errorf("%s: %s-compressed: unsupported (use plain, gzip or zstd)", l, comp)
	}
	tarStream := &hashReader{r: dec, h: sha256.New(), t: t}
	if err := t.applyTar(tarStream, l); err != nil {
		return im.layerError(l, b, raw, br, err)
	}
	// What follows the tar's end counts in the digests too.
	if _, err := io.Copy(io.Discard, tarStream); err != nil {
		return im.layerError(l, b, raw, br, err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fmt.Errorf("%s: %v", l, err)
	}
	if err := b.checkRaw(raw); err != nil {
		return fmt.Errorf("%s: %v", l, err)
	}
	if got := "sha256:" + hex.EncodeToString(tarStream.h.Sum(nil)); got != b.diffID {
		return fmt.Errorf("%s: uncompressed content has digest %s, the config's diff_id is %s: refused", l, got, b.diffID)
	}
	return nil
}

// layerError reports a layer that could not be read: as a digest or
// size mismatch when the blob turns out not to be what its descriptor
// says (a corrupt or tampered blob), else as err.
func (im *importer) layerError(l layer, b layerBlob, raw *hashReader, rest io.Reader, err error) error {
	if errors.Is(err, ErrInterrupted) {
		return err
	}
	if b.digest != "" || b.size >= 0 {
		if _, cerr := io.Copy(io.Discard, rest); cerr == nil {
			if merr := b.checkRaw(raw); merr != nil {
				return fmt.Errorf("%s: %v", l, merr)
			}
		}
	}
	if strings.HasPrefix(err.Error(), l.String()) {
		return err
	}
	return fmt.Errorf("%s: %w", l, err)
}

// checkRaw compares the blob as read with its descriptor.
func (b layerBlob) checkRaw(raw *hashReader) error {
	if b.size >= 0 && raw.n != b.size {
		return fmt.Errorf("blob has %d bytes, its descriptor says %d: refused", raw.n, b.size)
	}
	if b.digest != "" {
		if got := "sha256:" + hex.EncodeToString(raw.h.Sum(nil)); got != b.digest {
			return fmt.Errorf("blob has digest %s, its descriptor says %s: refused", got, b.digest)
		}
	}
	return nil
}

// hashReader hashes and counts what passes through it. With t set it is
// the uncompressed stream: it counts against the size limit and stops on
// Interrupt.
type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
	t *tree
}

func (h *hashReader) Read(p []byte) (int, error) {
	if interrupted.Load() {
		return 0, ErrInterrupted
	}
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if h.t != nil {
		if h.t.read += int64(n); h.t.read > h.t.limits.maxSize {
			return n, fmt.Errorf("%w: more than %d GiB of uncompressed layers", errTooBig, h.t.limits.maxSize>>30)
		}
	}
	return n, err
}

// verified reads a small blob and checks it against its digest and size.
func (im *importer) verified(file, digest string, size int64) ([]byte, error) {
	data, err := im.readAll(file)
	if err != nil {
		return nil, err
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, fmt.Errorf("%s: %d bytes, its descriptor says %d: refused", show(file), len(data), size)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != digest {
		return nil, fmt.Errorf("%s: digest %s, expected %s: refused", show(file), got, digest)
	}
	return data, nil
}

// refMatches reports whether ref names an image called name: the same
// string, or the same after docker's defaults (docker.io/library/, :latest).
func refMatches(ref, name string) bool {
	return name != "" && (ref == name || normalRef(ref) == normalRef(name))
}

func normalRef(s string) string {
	if i := strings.LastIndexByte(s, '/'); !strings.ContainsAny(s[i+1:], ":@") {
		s += ":latest"
	}
	for _, p := range []string{"docker.io/", "index.docker.io/"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = rest
			if !strings.Contains(s, "/") {
				s = "library/" + s
			}
			break
		}
	}
	if !strings.Contains(s, "/") {
		s = "library/" + s
	}
	return s
}

// listNames is a refusal's list of what there is to choose from.
func listNames(names []string) string {
	if len(names) == 0 {
		return "none of its images has a name"
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = show(n)
	}
	return "available: " + strings.Join(quoted, ", ")
}
