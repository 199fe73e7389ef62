#!/usr/bin/env bash
# The launcher's benchmarks, written as raw results into $STDC_BENCH_RAW
# for scripts/benchreport (make bench renders them):
#   start.json  start-to-exit of /bin/true in a busybox rootfs: the launcher
#               against crun, runc, bwrap and unshare+chroot (the floor), one
#               hyperfine run;                rss.tsv  each one's peak RSS
#   scale.tsv   1, 10, 50, 100 containers started at once (launcher, crun):
#               time until all run, failures
#   seq.json    SEQ_RUNS sequential `launcher run --rm` (NAT, a published
#               port, limits);                leaks.tsv  what they left
#   tcp.tsv     TCP throughput through a NAT container's veth vs loopback
# The machine is shared and noisy: the report compares ratios.
#
# crun 1.8 refuses hybrid cgroup hosts, so the whole run happens inside a
# mount namespace where the cgroup2 mount at /sys/fs/cgroup/unified is
# detached (every tool runs there, so the comparison stays fair), and in a
# throwaway network namespace: bridges, veths, nftables rules and every
# byte sent stay inside it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bench-deps.sh
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
for b in launcher mkrootfs tcpbench; do
  [ -x "out/bin/$b" ] || { echo "bench: out/bin/$b missing (make bench builds it)" >&2; exit 1; }
done
raw=${STDC_BENCH_RAW:?set STDC_BENCH_RAW to the directory for the raw results (make bench does)}
raw=$(realpath "$raw")

if [ "${STDC_BENCH_INNER:-}" != 1 ]; then
  exec unshare -m -n env STDC_BENCH_INNER=1 "$0" "$@"
fi
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then umount -l /sys/fs/cgroup/unified; fi
ip link set lo up

RUNS=${RUNS:-200}             # hyperfine runs per start-to-exit command
SEQ_RUNS=${SEQ_RUNS:-1000}    # sequential runs for growth and leaks
SCALE=${SCALE:-1 10 50 100}   # containers started at once
SCALE_REPS=${SCALE_REPS:-3}   # rounds per count (the report takes the median)
TCP_BYTES=${TCP_BYTES:-1073741824}
TCP_REPEAT=${TCP_REPEAT:-5}
printf '%s\t%s\n' runs_start "$RUNS" scale_reps "$SCALE_REPS" tcp_bytes "$TCP_BYTES" tcp_repeat "$TCP_REPEAT" >> "$raw/meta.tsv"

L=$PWD/out/bin/launcher
work=$(mktemp -d /tmp/stdc-bench.XXXXXX)
# State on tmpfs, like our default /run/stdcontainer and crun's /run/crun.
state=$(mktemp -d /run/stdc-bench.XXXXXX)
# The sequential runs' cgroups go under this parent (relative to ours), so
# the leak check sees only them and not other launchers on the machine.
cgparent=stdc-bench-$$
cleanup() {
  set +e
  "$L" --root "$state" ps -aq 2>/dev/null | xargs -r "$L" --root "$state" rm -f >/dev/null 2>&1
  for id in $(crun --root "$state/crun" list -q 2>/dev/null); do crun --root "$state/crun" delete -f "$id" >/dev/null 2>&1; done
  [ -n "${sink:-}" ] && kill "$sink" 2>/dev/null
  find /sys/fs/cgroup -depth -type d -name "$cgparent" -exec rmdir {} + 2>/dev/null
  rm -rf "$work" "$state"
}
trap cleanup EXIT

# One busybox rootfs for every test, with our TCP sink.
mkdir -p "$work/links/bin"
for a in true sh sleep mktemp; do ln -s busybox "$work/links/bin/$a"; done
out/bin/mkrootfs -o "$work/rootfs" --app "$(command -v busybox)":/bin/busybox \
  --app out/bin/tcpbench:/bin/tcpbench --add "$work/links:/" >/dev/null
mkdir -p "$work/bundle" "$work/bundle-limits" "$work/bundle-scale" "$work/ready"
python3 - "$work" <<'PY'
import copy, json, subprocess, sys
work = sys.argv[1]
subprocess.run(["runc", "spec", "--bundle", work + "/bundle"], check=True)
path = work + "/bundle/config.json"
cfg = json.load(open(path))
cfg["process"]["terminal"] = False
cfg["process"]["args"] = ["/bin/true"]
cfg["root"] = {"path": work + "/rootfs", "readonly": True}
json.dump(cfg, open(path, "w"), indent=2)
# The scale test's payload: mark itself ready, then sleep.
scale = copy.deepcopy(cfg)
scale["process"]["args"] = ["/bin/sh", "-c", "mktemp /ready/r.XXXXXX >/dev/null && exec sleep 1000"]
scale["mounts"].append({"destination": "/ready", "type": "bind", "source": work + "/ready", "options": ["rbind", "rw"]})
json.dump(scale, open(work + "/bundle-scale/config.json", "w"), indent=2)
# The same with --memory 64m --pids-limit 64 --cpus 1.
cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 64},
                             "cpu": {"quota": 100000, "period": 100000}}
json.dump(cfg, open(work + "/bundle-limits/config.json", "w"), indent=2)
PY
root=$work/rootfs

# --- start-to-exit and peak RSS ---------------------------------------------
declare -a names cmds
add() { names+=("$1"); cmds+=("$2"); }
add "unshare+chroot (floor)" "unshare --fork --pid --mount --uts --ipc --net chroot $root /bin/true"
add "stdcontainer launcher"  "$L --root $state run --rm $root /bin/true"
add "crun, no cgroups"       "crun --cgroup-manager=disabled run --bundle $work/bundle bench-crun-nocg"
add "crun, cgroupfs"         "crun run --bundle $work/bundle bench-crun"
add "stdcontainer, limits"   "$L --root $state run --rm --memory 64m --pids-limit 64 --cpus 1 $root /bin/true"
add "crun, limits"           "crun run --bundle $work/bundle-limits bench-crun-limits"
add "stdcontainer, nat -p"   "$L --root $state run --rm --network nat -p 8080:80 $root /bin/true"
add "runc"                   "runc --root $state/runc run --bundle $work/bundle bench-runc"
add "bwrap"                  "bwrap --unshare-all --ro-bind $root / --proc /proc --dev /dev /bin/true"

args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
echo "bench: start-to-exit, $RUNS runs per command" >&2
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$raw/start.json" "${args[@]}" >/dev/null 2>&1

for i in "${!names[@]}"; do
  for _ in 1 2 3 4 5; do /usr/bin/time -f '%M' -o "$work/one" ${cmds[$i]} >/dev/null 2>&1; cat "$work/one"; done |
    sort -n | sed -n 3p | { read -r kib; printf '%s\t%s\n' "${names[$i]}" "$kib"; }
done > "$raw/rss.tsv"

# --- containers started at once ---------------------------------------------
# Each container marks itself ready (mktemp in a bind-mounted directory)
# and sleeps; the clock runs from the first start until N marks exist.
start_launcher() { "$L" --root "$state" run -d -v "$work/ready:/ready" "$root" \
  sh -c 'mktemp /ready/r.XXXXXX >/dev/null && exec sleep 1000'; }
start_crun() { crun --root "$state/crun" run -d --bundle "$work/bundle-scale" "scale-$1"; }
stop_launcher() { "$L" --root "$state" ps -aq | xargs -r "$L" --root "$state" rm -f >/dev/null; }
stop_crun() { for id in $(crun --root "$state/crun" list -q); do crun --root "$state/crun" delete -f "$id" >/dev/null; done; }
scale_round() { # runtime n -> "seconds failures"
  local rt=$1 n=$2 i t0 t1 ready errors
  rm -rf "$work/ready"/* "$work/rc"; mkdir -p "$work/rc"
  shopt -s nullglob
  t0=$(date +%s%N)
  for ((i = 0; i < n; i++)); do
    ( "start_$rt" "$i" </dev/null >/dev/null 2>&1; echo $? > "$work/rc/$i" ) &
  done
  wait
  local deadline=$((t0 + 60000000000)) marks=()
  while marks=("$work/ready"/*); [ ${#marks[@]} -lt "$n" ] && [ "$(date +%s%N)" -lt $deadline ]; do sleep 0.01; done
  t1=$(date +%s%N)
  ready=${#marks[@]}
  errors=$(cat "$work/rc"/* | grep -cv '^0$' || true)
  shopt -u nullglob
  "stop_$rt"
  echo "$(( (t1 - t0) / 1000 ))e-6 $(( n - ready > errors ? n - ready : errors ))"
}
for n in $SCALE; do
  for rt in launcher crun; do
    echo "bench: $n $rt containers at once, $SCALE_REPS rounds" >&2
    for ((r = 0; r < SCALE_REPS; r++)); do scale_round "$rt" "$n"; done |
      sort -g | sed -n "$(( (SCALE_REPS + 1) / 2 ))p" | { read -r s f; printf '%s\t%s\t%s\t%s\n' "$rt" "$n" "$s" "$f"; }
  done
done > "$raw/scale.tsv"

# --- sequential runs, then leaks ---------------------------------------------
seq_args="run --rm --network nat -p 8080:80 --memory 64m --pids-limit 64 --cgroup-parent $cgparent"
printf 'seq_cmd\tlauncher %s ROOTFS /bin/true\n' "${seq_args/$cgparent/stdc-bench-PID}" >> "$raw/meta.tsv"
mounts_before=$(wc -l < /proc/self/mountinfo)
echo "bench: $SEQ_RUNS sequential runs" >&2
hyperfine -N --runs "$SEQ_RUNS" --export-json "$raw/seq.json" -n "sequential launcher run --rm" \
  "$L --root $state $seq_args $root /bin/true" >/dev/null 2>&1
count() { grep -c . || true; }
{
  printf 'cgroups\t%s\tstdcontainer-* directories under the runs'"'"' --cgroup-parent, in every hierarchy\n' \
    "$(find /sys/fs/cgroup -path "*/$cgparent/*" -type d -name 'stdcontainer-*' 2>/dev/null | count)"
  printf 'state entries\t%s\tcontainer directories in the --root state directory\n' \
    "$(find "$state" -mindepth 1 -maxdepth 1 -regextype egrep -regex '.*/[0-9a-f]{64}' | count)"
  printf 'leases\t%s\tfiles in <state>/network/leases\n' \
    "$(find "$state/network/leases" -mindepth 1 2>/dev/null | count)"
  printf 'mounts\t%s\tnew lines in /proc/self/mountinfo\n' "$(( $(wc -l < /proc/self/mountinfo) - mounts_before ))"
  printf 'veths\t%s\tveth links in the network namespace\n' "$(ip -o link show type veth | count)"
  printf 'nftables rules\t%s\trules tagged with a container ID (the ip stdcontainer table and the bridge are shared and kept by design)\n' \
    "$(nft list table ip stdcontainer 2>/dev/null | grep -E 'comment "[0-9a-f]{64}"' | count)"
  printf 'processes\t%s\tprocesses still running the launcher\n' "$(pgrep -fc "^$L --root $state" || true)"
} > "$raw/leaks.tsv"

# --- TCP throughput ------------------------------------------------------------
echo "bench: TCP throughput" >&2
"$L" --root "$state" run -d --name bench-sink --network nat --ip 10.89.0.200 "$root" /bin/tcpbench sink -l :5000 >/dev/null
out/bin/tcpbench send -addr 10.89.0.200:5000 -bytes "$TCP_BYTES" -repeat "$TCP_REPEAT" | sed 's/^/veth\t/' > "$raw/tcp.tsv"
"$L" --root "$state" rm -f bench-sink >/dev/null
out/bin/tcpbench sink -l 127.0.0.1:5001 & sink=$!
out/bin/tcpbench send -addr 127.0.0.1:5001 -bytes "$TCP_BYTES" -repeat "$TCP_REPEAT" | sed 's/^/loopback\t/' >> "$raw/tcp.tsv"
kill "$sink"; wait "$sink" 2>/dev/null || true; sink=
