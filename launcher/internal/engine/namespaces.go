package engine

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/stdcontainer/stdcontainer/launcher/internal/container"
	"github.com/stdcontainer/stdcontainer/launcher/internal/spec"
)

// joinableNamespaces are the kinds a container may join by path instead
// of getting its own (the OCI front checks linux.namespaces for the rest).
var joinableNamespaces = map[specs.LinuxNamespaceType]int{
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.PIDNamespace:     unix.CLONE_NEWPID,
}

// openJoinedNamespaces opens the namespaces s joins by path; the caller
// closes them once stage 2 is cloned.
func openJoinedNamespaces(s *spec.Spec) ([]container.JoinNamespace, error) {
	if s.Linux == nil {
		return nil, nil
	}
	var join []container.JoinNamespace
	for _, ns := range s.Linux.Namespaces {
		kind, ok := joinableNamespaces[ns.Type]
		if ns.Path == "" || !ok {
			continue
		}
		if os.Geteuid() != 0 {
			closeJoined(join)
			return nil, userErrorf("joining the %s namespace %s needs root", ns.Type, ns.Path)
		}
		f, err := os.Open(ns.Path)
		if err != nil {
			closeJoined(join)
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, userErrorf("%s namespace %s: %v", ns.Type, ns.Path, err)
		}
		join = append(join, container.JoinNamespace{Kind: kind, File: f})
	}
	return join, nil
}

func closeJoined(join []container.JoinNamespace) {
	for _, ns := range join {
		ns.File.Close()
	}
}

// joins reports whether s joins an existing namespace of kind t.
func joins(s *spec.Spec, t specs.LinuxNamespaceType) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t && ns.Path != "" {
			return true
		}
	}
	return false
}
