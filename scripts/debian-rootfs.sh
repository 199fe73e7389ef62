#!/usr/bin/env bash
# Builds (once) a minimal Debian bookworm rootfs with systemd as /sbin/init,
# for the end-to-end test that boots a full system in the launcher.
# Usage: scripts/debian-rootfs.sh DIR   (does nothing if DIR exists)
set -euo pipefail
dir=${1:?usage: $0 DIR}
[ -d "$dir" ] && exit 0
command -v debootstrap >/dev/null || { echo "debian-rootfs: debootstrap missing (apt-get install -y debootstrap)" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
tmp="$dir.tmp-$$"
trap 'rm -rf "$tmp"' EXIT
debootstrap --variant=minbase --include=systemd-sysv,dbus bookworm "$tmp" http://deb.debian.org/debian >"$tmp.log" 2>&1 \
  || { tail -20 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
mv "$tmp" "$dir"
