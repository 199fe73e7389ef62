package main

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stdcontainer/stdcontainer/build/ocilayout"
)

func TestTagRefusals(t *testing.T) {
	dir, init := fixture(t)
	out := filepath.Join(dir, "img.oci.tar")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--tag", "Probe:v1"}, "--tag Probe:v1: repository name must be lower case"},
		{[]string{"--tag", "probe:"}, `--tag probe:: invalid tag ""`},
		{[]string{"--tag", "probe:-x"}, `invalid tag "-x"`},
		{[]string{"--tag", "probe@sha256:0123"}, "digest"},
		{[]string{"--tag", "a//b"}, "invalid repository name"},
		{[]string{"--tag", ""}, "--tag : empty image reference"},
		{[]string{"--tag", "a\nb"}, `--tag "a\nb": invalid repository name`},
		{[]string{"--name", "-x"}, "--name -x: not usable as the image's default tag"},
		{[]string{"--format", "tar", "--tag", "Bad"}, "--tag Bad: repository name must be lower case"},
	}
	for _, tt := range tests {
		args := append([]string{"-o", out, "--init", init}, tt.args...)
		err := runBuild(t, args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("mkrootfs %q: error %v, want it to mention %q", args, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("mkrootfs %q: error spans lines: %q", args, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 { // the init only
		t.Errorf("refused builds left %v", entries)
	}
	// The default tag only matters for the OCI formats.
	if err := runBuild(t, "-o", filepath.Join(dir, "img.tar"), "--init", init, "--name", "-x"); err != nil {
		t.Errorf("--name -x for a tar: %v", err)
	}
}

// ociImageConfig reads an oci.tar's tag (index.json) and image config.
func ociImageConfig(t *testing.T, file string) (tag string, config map[string]any) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
	blob := func(digest string, v any) {
		t.Helper()
		if err := json.Unmarshal(files["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")], v); err != nil {
			t.Fatalf("blob %s: %v", digest, err)
		}
	}
	var index ocilayout.Index
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json %s: %v", files["index.json"], err)
	}
	var manifest ocilayout.Manifest
	blob(index.Manifests[0].Digest, &manifest)
	var image struct{ Config map[string]any }
	blob(manifest.Config.Digest, &image)
	return index.Manifests[0].Annotations[ocilayout.AnnotationRefName], image.Config
}

func TestOCIImageConfig(t *testing.T) {
	dir, init := fixture(t)
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("B=2\nA='x y'\n"), 0o644)
	pathEnv := filepath.Join(dir, "path.env")
	os.WriteFile(pathEnv, []byte("PATH=/opt/bin\n"), 0o644)
	const path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	tests := []struct {
		args    []string
		tag     string
		cmd     []string
		env     []string
		labeled bool
	}{
		{nil, "stdcontainer/image:latest", nil, []string{path}, false},
		{[]string{"--name", "probe", "--cmd", `/bin/app -v "a b"`, "--env-file", envFile},
			"stdcontainer/probe:latest", []string{"/bin/app", "-v", "a b"}, []string{"B=2", "A=x y", path}, true},
		{[]string{"--tag", "localhost:5000/x", "--app", init + ":/usr/bin/app"},
			"localhost:5000/x:latest", []string{"/usr/bin/app"}, []string{path}, false},
		// A program named like an init flag comes after "--".
		{[]string{"--cmd", "-odd a", "--env-file", envFile, "--env-file", pathEnv},
			"stdcontainer/image:latest", []string{"--", "-odd", "a"}, []string{"B=2", "A=x y", "PATH=/opt/bin"}, false},
	}
	for i, tt := range tests {
		out := filepath.Join(dir, "img"+string(rune('a'+i))+".oci.tar")
		if err := runBuild(t, append([]string{"-o", out, "--init", init}, tt.args...)...); err != nil {
			t.Fatal(err)
		}
		tag, config := ociImageConfig(t, out)
		if tag != tt.tag {
			t.Errorf("%q: tag %q, want %q", tt.args, tag, tt.tag)
		}
		strs := func(key string) []string {
			var s []string
			v, _ := config[key].([]any)
			for _, x := range v {
				s = append(s, x.(string))
			}
			return s
		}
		if got := strs("Entrypoint"); !slices.Equal(got, []string{"/sbin/init"}) {
			t.Errorf("%q: Entrypoint %q", tt.args, got)
		}
		if got := strs("Cmd"); !slices.Equal(got, tt.cmd) {
			t.Errorf("%q: Cmd %q, want %q", tt.args, got, tt.cmd)
		}
		if got := strs("Env"); !slices.Equal(got, tt.env) {
			t.Errorf("%q: Env %q, want %q", tt.args, got, tt.env)
		}
		labels, _ := config["Labels"].(map[string]any)
		if title, _ := labels["org.opencontainers.image.title"].(string); (title == "probe") != tt.labeled || len(labels) > 1 {
			t.Errorf("%q: Labels %v", tt.args, labels)
		}
	}
}
