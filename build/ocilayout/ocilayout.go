// Package ocilayout declares the JSON documents of an OCI image layout
// (image-spec v1.1) and their media types, for the writer, the importer
// and the test images.
//
// Struct fields are in the order of their JSON keys: encoding/json then
// writes sorted keys (it sorts maps too), so the same document always gives
// the same bytes, which the writer's reproducible images rely on. Keep it
// so when adding a field.
package ocilayout

// Media types, the ref name annotation and the version of oci-layout.
const (
	MediaTypeIndex     = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest  = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig    = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer     = "application/vnd.oci.image.layer.v1.tar"
	MediaTypeLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
	MediaTypeLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"

	AnnotationRefName = "org.opencontainers.image.ref.name"

	LayoutVersion = "1.0.0"
)

// Descriptor points at a blob.
type Descriptor struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Digest      string            `json:"digest"`
	MediaType   string            `json:"mediaType"`
	Platform    *Platform         `json:"platform,omitempty"`
	Size        int64             `json:"size"`
}

// Platform is the platform a manifest's image runs on.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// String is OS/ARCH[/VARIANT], as docker --platform takes it.
func (p *Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Index is index.json, or an index blob: a list of manifests.
type Index struct {
	Manifests     []Descriptor `json:"manifests"`
	MediaType     string       `json:"mediaType,omitempty"`
	SchemaVersion int          `json:"schemaVersion"`
}

// Manifest is an image manifest: its config and its layers, bottom first.
type Manifest struct {
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
	MediaType     string       `json:"mediaType,omitempty"`
	SchemaVersion int          `json:"schemaVersion"`
}

// ImageConfig is the config blob (MediaTypeConfig), the fields we use.
type ImageConfig struct {
	Architecture string    `json:"architecture"`
	Config       RunConfig `json:"config"`
	Created      string    `json:"created,omitempty"`
	History      []History `json:"history,omitempty"`
	OS           string    `json:"os"`
	RootFS       RootFS    `json:"rootfs"`
}

// RunConfig is what a container of the image runs, and how.
type RunConfig struct {
	Cmd        []string          `json:"Cmd,omitempty"`
	Entrypoint []string          `json:"Entrypoint,omitempty"`
	Env        []string          `json:"Env,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
	User       string            `json:"User,omitempty"`
	WorkingDir string            `json:"WorkingDir,omitempty"`
}

// History is one step that built the image.
type History struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

// RootFS lists the layers' diff_ids: the digests of their uncompressed tars.
type RootFS struct {
	DiffIDs []string `json:"diff_ids"`
	Type    string   `json:"type"`
}

// LayoutFile is the file oci-layout.
type LayoutFile struct {
	ImageLayoutVersion string `json:"imageLayoutVersion"`
}

// DockerManifest is one image of docker save's manifest.json (docker load
// reads it also beside an OCI layout): paths within the archive.
type DockerManifest struct {
	Config   string
	Layers   []string
	RepoTags []string
}
