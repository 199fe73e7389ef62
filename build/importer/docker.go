package importer

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
)

// pickDocker chooses an image of a docker-save archive by Options.Ref
// among its RepoTags. Its manifest.json gives no digests: the config is
// checked against its file name (<hex>.json, or blobs/sha256/<hex> since
// docker 25), each layer against the config's diff_ids (and against its
// file name when that is blobs/sha256/<hex>).
func (im *importer) pickDocker() (*Image, []layerBlob, error) {
	data, err := im.readAll("manifest.json")
	if err != nil {
		return nil, nil, err
	}
	var entries []ocilayout.DockerManifest
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, nil, fmt.Errorf("manifest.json: %v", err)
	}
	if len(entries) == 0 {
		return nil, nil, fmt.Errorf("manifest.json lists no image")
	}
	var all []string
	for _, e := range entries {
		all = append(all, e.RepoTags...)
	}
	pick, name := -1, ""
	if ref := im.opts.Ref; ref != "" {
		for i, e := range entries {
			for _, tag := range e.RepoTags {
				if pick < 0 && refMatches(ref, tag) {
					pick, name = i, tag
				}
			}
		}
		if pick < 0 {
			return nil, nil, fmt.Errorf("no image %s here (%s)", show(ref), listNames(all))
		}
	} else if len(entries) > 1 {
		return nil, nil, fmt.Errorf("several images here: pick one with --ref (%s)", listNames(all))
	} else {
		pick = 0
		if len(all) > 0 {
			name = all[0]
		}
	}
	e := entries[pick]
	hex, ok := digestName(e.Config)
	if !ok {
		return nil, nil, fmt.Errorf("manifest.json: config %s is not named by its digest: cannot check it", show(e.Config))
	}
	configData, err := im.verified(e.Config, "sha256:"+hex, -1)
	if err != nil {
		return nil, nil, fmt.Errorf("image config: %v", err)
	}
	config, diffIDs, err := parseConfig(configData, len(e.Layers))
	if err != nil {
		return nil, nil, err
	}
	layers := make([]layerBlob, len(e.Layers))
	for i, file := range e.Layers {
		layers[i] = layerBlob{file: file, name: show(file), comp: "?", size: -1, diffID: diffIDs[i]}
		if hex, ok := digestName(file); ok && strings.HasPrefix(file, "blobs/") {
			layers[i].digest = "sha256:" + hex
		}
	}
	return &Image{Name: name, Config: config}, layers, nil
}

// digestName returns the digest a docker-save file is named by:
// <hex>.json or blobs/sha256/<hex>.
func digestName(file string) (string, bool) {
	hex := strings.TrimSuffix(path.Base(file), ".json")
	if file != hex+".json" && file != "blobs/sha256/"+hex {
		return "", false
	}
	_, err := sha256Hex("sha256:" + hex)
	return hex, err == nil
}
