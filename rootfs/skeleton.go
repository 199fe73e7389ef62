package rootfs

import (
	"io/fs"
	"path"

	"github.com/stdcontainer/stdcontainer/rootfs/envfile"
	"github.com/stdcontainer/stdcontainer/rootfs/layout"
	"github.com/stdcontainer/stdcontainer/rootfs/osrelease"
)

// Version is this project's release, written into the skeleton's os-release.
const Version = "0.1.0"

// SkeletonEntry is one file or directory of the skeleton every image starts from.
type SkeletonEntry struct {
	Path string      // absolute path inside the image
	Mode fs.FileMode // permission bits, plus fs.ModeDir for directories
	Data []byte      // file content
}

// Skeleton is the smallest tree that passes the chroot test once an init is
// added: the mount points, os-release, and passwd/group with root and nobody.
// imageID, when not empty, becomes os-release's IMAGE_ID.
func Skeleton(imageID string) ([]SkeletonEntry, error) {
	release := osrelease.Release{
		{Key: "NAME", Value: "stdcontainer"},
		{Key: "ID", Value: "stdcontainer"},
		{Key: "VERSION_ID", Value: Version},
		{Key: "PRETTY_NAME", Value: "stdcontainer " + Version + " (minimal)"},
	}
	if imageID != "" {
		release = append(release, envfile.Var{Key: "IMAGE_ID", Value: imageID})
	}
	osRelease, err := osrelease.Format(release)
	if err != nil {
		return nil, err
	}
	entries := []SkeletonEntry{
		{Path: "/etc", Mode: fs.ModeDir | 0o755},
		{Path: "/root", Mode: fs.ModeDir | 0o700},
		{Path: path.Dir(layout.Init), Mode: fs.ModeDir | 0o755},
		{Path: layout.OSRelease, Mode: 0o644, Data: osRelease},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte(
			"root:x:0:0:root:/root:/bin/sh\n" +
				"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnobody:x:65534:\n")},
	}
	for _, dir := range layout.MountPoints {
		mode := fs.ModeDir | 0o755
		if dir == "/tmp" {
			mode = fs.ModeDir | fs.ModeSticky | 0o777
		}
		entries = append(entries, SkeletonEntry{Path: dir, Mode: mode})
	}
	return entries, nil
}
