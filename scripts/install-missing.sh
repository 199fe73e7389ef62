#!/usr/bin/env bash
# install-missing.sh CMD:PACKAGE...: apt-get installs (without recommends)
# the Debian package of every CMD not on PATH (a command name or an
# absolute path). For the scripts that need peer runtimes or tools (make
# bench, make matrix).
set -euo pipefail
missing=()
for pair in "$@"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "missing ${missing[*]}; as root: apt-get install -y ${missing[*]}" >&2; exit 1; }
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
  { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
