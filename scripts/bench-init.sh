#!/usr/bin/env bash
# Init overhead and image size, against tini and catatonit, in one run,
# written as raw results into $STDC_BENCH_RAW for scripts/benchreport:
# init.json (hyperfine --export-json) and sizes.tsv (artefact, bytes).
#
# Each command runs as PID 1 of a fresh PID namespace (util-linux unshare),
# so the cost of being an init (signal setup, spawning, reaping) is measured
# the same way for every tool. The machine is shared and noisy: compare the
# ratios, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bench-deps.sh
[ "$(id -u)" = 0 ] || { echo "bench-init: needs root (PID namespaces)" >&2; exit 1; }
[ -x out/bin/init ] && [ -d out/rootfs ] || { echo "bench-init: run make minimal-image first" >&2; exit 1; }
raw=${STDC_BENCH_RAW:?set STDC_BENCH_RAW to the directory for the raw results (make bench-init does)}

RUNS=${RUNS:-300}
printf 'runs_init\t%s\n' "$RUNS" >> "$raw/meta.tsv"
pid1="unshare --fork --pid"
echo "bench-init: init overhead, $RUNS runs per command" >&2
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$raw/init.json" \
  -n "true alone"       "$pid1 /bin/true" \
  -n "stdcontainer init" "$pid1 $PWD/out/bin/init -- /bin/true" \
  -n "tini-static"      "$pid1 $(command -v tini-static) -- /bin/true" \
  -n "catatonit"        "$pid1 $(command -v catatonit) -- /bin/true" >/dev/null

{
  printf 'stdcontainer init (stripped)\t%s\n' "$(stat -c %s out/bin/init)"
  printf 'minimal rootfs (file bytes)\t%s\n' "$(find out/rootfs -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
  for f in out/minimal.tar.zst out/minimal.cpio.zst; do printf '%s\t%s\n' "${f#out/}" "$(stat -c %s "$f")"; done
  for b in busybox tini-static catatonit; do
    name=$b; [ "$b" = busybox ] && name=busybox-static
    printf '%s\t%s\n' "$name" "$(stat -c %s "$(readlink -f "$(command -v "$b")")")"
  done
} > "$raw/sizes.tsv"
