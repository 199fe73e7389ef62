#!/usr/bin/env bash
# Init overhead and image size, against tini and catatonit, in one run.
#
# Each command runs as PID 1 of a fresh PID namespace (util-linux unshare),
# so the cost of being an init (signal setup, spawning, reaping) is measured
# the same way for every tool. The machine is shared and noisy: compare the
# ratios, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "bench-init: $1 missing (apt-get install -y $2)" >&2; exit 1; }; }
need hyperfine hyperfine
need tini-static tini
need catatonit catatonit
need busybox busybox-static
[ "$(id -u)" = 0 ] || { echo "bench-init: needs root (PID namespaces)" >&2; exit 1; }
[ -x out/bin/init ] && [ -d out/rootfs ] || { echo "bench-init: run make minimal-image first" >&2; exit 1; }

RUNS=${RUNS:-300}
json=$(mktemp)
trap 'rm -f "$json"' EXIT
pid1="unshare --fork --pid"
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$json" \
  -n "true alone"       "$pid1 /bin/true" \
  -n "stdcontainer init" "$pid1 $PWD/out/bin/init -- /bin/true" \
  -n "tini-static"      "$pid1 $(command -v tini-static) -- /bin/true" \
  -n "catatonit"        "$pid1 $(command -v catatonit) -- /bin/true" >/dev/null

python3 - "$json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = res["true alone"]["mean"] * 1000
tini = res["tini-static"]["mean"] * 1000 - base
print("Init overhead as PID 1 of a new PID namespace (`/bin/true` payload), hyperfine, one run")
print(f"| command | mean ms | min ms | overhead ms | overhead / tini's |")
print(f"|---|---|---|---|---|")
for name, r in res.items():
    mean, low = r["mean"] * 1000, r["min"] * 1000
    over = mean - base
    ratio = "" if name == "true alone" else f"{over / tini:.2f}" if tini > 0 else "n/a"
    print(f"| {name} | {mean:.2f} | {low:.2f} | {over:+.2f} | {ratio} |")
PY

size() { stat -c %s "$1"; }
rootfs=$(find out/rootfs -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo
echo "Image size (bytes)"
echo "| artefact | bytes | KiB |"
echo "|---|---|---|"
for row in "stdcontainer init (stripped):out/bin/init" "minimal rootfs (files):$rootfs" \
           "minimal.tar.zst:out/minimal.tar.zst" "busybox-static:$(command -v busybox)" \
           "tini-static:$(command -v tini-static)" "catatonit:$(command -v catatonit)"; do
  name=${row%%:*} what=${row#*:}
  if [ -f "$what" ]; then bytes=$(size "$(readlink -f "$what")"); else bytes=$what; fi
  echo "| $name | $bytes | $((bytes / 1024)) |"
done
