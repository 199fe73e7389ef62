package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
)

// Docker's media types, and containerd's image name annotation.
const (
	typeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	typeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	typeDockerConfig   = "application/vnd.docker.container.image.v1+json"

	annotationImageName = "io.containerd.image.name" // docker save and ctr export: the full name
)

// layerCompression maps the layer media types we read to their compression.
var layerCompression = map[string]string{
	ocilayout.MediaTypeLayer:                                       "",
	ocilayout.MediaTypeLayerGzip:                                   "gzip",
	ocilayout.MediaTypeLayerZstd:                                   "zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar":      "",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
	"application/vnd.docker.image.rootfs.diff.tar":                 "",
	"application/vnd.docker.image.rootfs.diff.tar.gzip":            "gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":    "gzip",
	"application/vnd.docker.image.rootfs.diff.tar.zstd":            "zstd",
}

// pickOCI chooses an image of an OCI layout: by Options.Ref among the
// names index.json gives, then by platform in (nested) indexes.
func (im *importer) pickOCI() (*Image, []layerBlob, error) {
	if data, err := im.readAll("oci-layout"); err == nil {
		var l ocilayout.LayoutFile
		if json.Unmarshal(data, &l) != nil || !strings.HasPrefix(l.ImageLayoutVersion, "1.") {
			return nil, nil, fmt.Errorf("oci-layout: unsupported layout version %q", l.ImageLayoutVersion)
		}
	}
	data, err := im.readAll("index.json")
	if err != nil {
		return nil, nil, err
	}
	var idx ocilayout.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, nil, fmt.Errorf("index.json: %v", err)
	}
	descs := images(idx.Manifests)
	if len(descs) == 0 {
		return nil, nil, errors.New("index.json lists no image")
	}
	var all []string
	for _, d := range descs {
		if n := displayName(d); n != "" && !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	name := ""
	if ref := im.opts.Ref; ref != "" {
		var match []ocilayout.Descriptor
		for _, d := range descs {
			if refMatches(ref, d.Annotations[ocilayout.AnnotationRefName]) || refMatches(ref, d.Annotations[annotationImageName]) {
				match = append(match, d)
			}
		}
		if len(match) == 0 {
			return nil, nil, fmt.Errorf("no image %s here (%s)", show(ref), listNames(all))
		}
		descs, name = match, ref
	} else if len(all) > 1 {
		return nil, nil, fmt.Errorf("several images here: pick one with --ref (%s)", listNames(all))
	} else if len(all) == 1 {
		name = all[0]
	}
	m, err := im.resolve(descs, 0)
	if err != nil {
		return nil, nil, err
	}
	if m.Config.MediaType != ocilayout.MediaTypeConfig && m.Config.MediaType != typeDockerConfig {
		return nil, nil, fmt.Errorf("not a container image (config media type %s)", show(m.Config.MediaType))
	}
	configData, err := im.blob(m.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("image config: %v", err)
	}
	config, diffIDs, err := parseConfig(configData, len(m.Layers))
	if err != nil {
		return nil, nil, err
	}
	layers := make([]layerBlob, len(m.Layers))
	for i, d := range m.Layers {
		comp, ok := layerCompression[d.MediaType]
		if !ok { // encrypted layers among others
			return nil, nil, fmt.Errorf("layer %d of %d: unsupported media type %s", i+1, len(m.Layers), show(d.MediaType))
		}
		hex, err := sha256Hex(d.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %d of %d: %v", i+1, len(m.Layers), err)
		}
		if d.Size < 0 {
			return nil, nil, fmt.Errorf("layer %d of %d: negative size", i+1, len(m.Layers))
		}
		layers[i] = layerBlob{file: "blobs/sha256/" + hex, name: d.Digest[:19], comp: comp, digest: d.Digest, size: d.Size, diffID: diffIDs[i]}
	}
	return &Image{Name: name, Config: config}, layers, nil
}

// resolve follows descriptors down to an image manifest: among several,
// the one for linux/Options.Arch; an index leads to its manifests.
func (im *importer) resolve(descs []ocilayout.Descriptor, depth int) (*ocilayout.Manifest, error) {
	if depth > 4 {
		return nil, errors.New("indexes nested more than 4 deep")
	}
	d, err := im.platform(descs)
	if err != nil {
		return nil, err
	}
	data, err := im.blob(d)
	if err != nil {
		return nil, err
	}
	var doc struct {
		ocilayout.Manifest
		Manifests []ocilayout.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", d.Digest, err)
	}
	kind := d.MediaType
	if kind == "" { // optional in old layouts: tell by the content
		kind = ocilayout.MediaTypeManifest
		if doc.Manifests != nil {
			kind = ocilayout.MediaTypeIndex
		}
	}
	switch kind {
	case ocilayout.MediaTypeIndex, typeDockerList:
		kids := images(doc.Manifests)
		if len(kids) == 0 {
			return nil, fmt.Errorf("index %s lists no image", d.Digest)
		}
		return im.resolve(kids, depth+1)
	case ocilayout.MediaTypeManifest, typeDockerManifest:
		return &doc.Manifest, nil
	}
	return nil, fmt.Errorf("%s: unsupported media type %s", d.Digest, show(kind))
}

// platform picks linux/Options.Arch among several manifests; a lone one
// is taken whatever it says (Import warns when its config names another
// architecture).
func (im *importer) platform(descs []ocilayout.Descriptor) (ocilayout.Descriptor, error) {
	first := descs[0]
	same := true
	for _, d := range descs[1:] {
		same = same && d.Digest == first.Digest
	}
	if same {
		return first, nil
	}
	var avail []string
	for _, d := range descs {
		if p := d.Platform; p != nil {
			if p.OS == "linux" && p.Architecture == im.opts.Arch {
				return d, nil
			}
			avail = append(avail, p.String())
		}
	}
	if len(avail) == 0 {
		return ocilayout.Descriptor{}, errors.New("several manifests and none names its platform")
	}
	return ocilayout.Descriptor{}, fmt.Errorf("no linux/%s image (available: %s)", im.opts.Arch, strings.Join(avail, ", "))
}

// blob reads a metadata blob and checks it against its descriptor.
func (im *importer) blob(d ocilayout.Descriptor) ([]byte, error) {
	hex, err := sha256Hex(d.Digest)
	if err != nil {
		return nil, err
	}
	if d.Size < 0 || d.Size > maxJSON {
		return nil, fmt.Errorf("%s: size %d out of range for a metadata blob", d.Digest, d.Size)
	}
	return im.verified("blobs/sha256/"+hex, d.Digest, d.Size)
}

// images leaves out what an index lists beside images: build attestations.
func images(descs []ocilayout.Descriptor) []ocilayout.Descriptor {
	var out []ocilayout.Descriptor
	for _, d := range descs {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" || d.Platform != nil && d.Platform.OS == "unknown" {
			continue
		}
		out = append(out, d)
	}
	return out
}

// displayName is the name an index gives an image: the full one when
// docker or containerd wrote it, else the OCI ref name.
func displayName(d ocilayout.Descriptor) string {
	if n := d.Annotations[annotationImageName]; n != "" {
		return n
	}
	return d.Annotations[ocilayout.AnnotationRefName]
}
