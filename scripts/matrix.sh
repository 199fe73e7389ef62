#!/usr/bin/env bash
# make matrix: the RFC support matrix, measured. Installs the peer
# runtimes when missing, then runs scripts/matrix (out/bin/matrix) inside a
# throwaway network and mount namespace: no bridge, veth or nftables rule
# reaches this machine's network, nothing is sent outside, and what the
# runtimes write under /run and /var/lib (podman's and netavark's fixed
# directories, nspawn's, lxc's locks) lands on tmpfs mounts that go with
# the namespace. Cgroups are not namespaced: what the runtimes leave there
# is removed at the end. Writes out/matrix.md, out/matrix.json and the
# README's matrix section.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "matrix: needs root (namespaces, mounts, cgroups); try: sudo make matrix" >&2; exit 1; }
for f in out/bin/matrix out/bin/launcher out/bin/mkrootfs out/rootfs/sbin/init; do
  [ -e "$f" ] || { echo "matrix: $f missing: run make matrix, not this script" >&2; exit 1; }
done

if [ "${STDC_MATRIX_INNER:-}" != 1 ]; then
  # No recommends: lxc's would change PAM and nsswitch.conf (libpam-cgfs,
  # libnss-mymachines).
  scripts/install-missing.sh runc:runc crun:crun bwrap:bubblewrap systemd-nspawn:systemd-container \
    lxc-start:lxc podman:podman ip:iproute2
  # Cgroup directories before: anything new named like a runtime's is ours.
  before=$(mktemp /tmp/stdc-matrix-cgroups.XXXXXX)
  trap 'rm -f "$before"' EXIT
  find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d 2>/dev/null | sort >"$before"
  rc=0
  STDC_MATRIX_INNER=1 unshare -m -n --propagation private "$0" "$@" || rc=$?
  # Deepest first; only empty directories go (rmdir), so nothing in use is touched.
  find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d 2>/dev/null | sort | comm -13 "$before" - |
    grep -E '/(stdc-matrix-[^/]*|lxc\.(payload|monitor)\.stdc-matrix-[^/]*|lxc\.pivot|libpod_parent|libpod_parent/conmon|libpod-[0-9a-f]{64}|machine\.slice|payload|supervisor)$' |
    sort -r | while read -r d; do rmdir "$d" 2>/dev/null || echo "matrix: cgroup $d left (not empty)" >&2; done || true
  exit $rc
fi

# Inside the throwaway namespaces.
ip link set lo up
for d in /run /var/lib; do mount -t tmpfs -o mode=755 matrix "$d"; done
# A bridge for lxc's NAT run (lxc-net would make lxcbr0 with a dnsmasq).
ip link add stdcmx0 type bridge
ip addr add 10.213.0.1/24 dev stdcmx0
ip link set stdcmx0 up

work=$(mktemp -d /tmp/stdc-matrix-oci.XXXXXX)
trap 'rm -rf "$work"' EXIT
out/bin/mkrootfs -o "$work/probe.oci.tar" --name minimal --tag localhost/stdc-matrix/probe:1 >/dev/null
out/bin/matrix -rootfs out/rootfs -oci "$work/probe.oci.tar" -tag localhost/stdc-matrix/probe:1 \
  -launcher out/bin/launcher -bridge stdcmx0 -out out -readme README.md "$@"
