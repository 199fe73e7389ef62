#!/usr/bin/env bash
# Start-to-exit of /bin/true in a busybox rootfs: the launcher against crun,
# runc, bwrap and unshare+chroot (the floor), in one hyperfine run; then
# each one's peak RSS. The machine is shared and noisy: read the ratios.
#
# crun 1.8 refuses hybrid cgroup hosts, so the whole run happens inside a
# mount namespace where the cgroup2 mount at /sys/fs/cgroup/unified is
# detached (every tool runs there, so the comparison stays fair).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "bench: $1 missing (apt-get install -y $2)" >&2; exit 1; }; }
need hyperfine hyperfine; need crun crun; need runc runc; need bwrap bubblewrap; need busybox busybox-static
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install -y time)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x out/bin/launcher ] && [ -x out/bin/mkrootfs ] || { echo "bench: run make build first" >&2; exit 1; }

if [ "${STDC_BENCH_INNER:-}" != 1 ]; then
  if [ -d /sys/fs/cgroup/unified ] && mountpoint -q /sys/fs/cgroup/unified; then
    # A throwaway network namespace too: the NAT row's bridge and nftables
    # table must not land on this machine's own network.
    exec unshare -m -n env STDC_BENCH_INNER=1 "$0" "$@"
  fi
fi
[ "${STDC_BENCH_INNER:-}" = 1 ] && { umount -l /sys/fs/cgroup/unified 2>/dev/null; ip link set lo up; } || true

RUNS=${RUNS:-200}
work=$(mktemp -d /tmp/stdc-bench.XXXXXX)
# State on tmpfs, like our default /run/stdcontainer and crun's /run/crun.
state=$(mktemp -d /run/stdc-bench.XXXXXX)
trap 'rm -rf "$work" "$state"' EXIT
mkdir -p "$work/links/bin"
ln -s busybox "$work/links/bin/true"
out/bin/mkrootfs -o "$work/rootfs" --app "$(command -v busybox)":/bin/busybox --add "$work/links:/" >/dev/null
mkdir -p "$work/bundle" "$work/bundle-limits"
python3 - "$work" <<'PY'
import json, subprocess, sys
work = sys.argv[1]
subprocess.run(["runc", "spec", "--bundle", work + "/bundle"], check=True)
path = work + "/bundle/config.json"
cfg = json.load(open(path))
cfg["process"]["terminal"] = False
cfg["process"]["args"] = ["/bin/true"]
cfg["root"] = {"path": work + "/rootfs", "readonly": True}
json.dump(cfg, open(path, "w"), indent=2)
# The same with --memory 64m --pids-limit 64 --cpus 1.
cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 64},
                             "cpu": {"quota": 100000, "period": 100000}}
json.dump(cfg, open(work + "/bundle-limits/config.json", "w"), indent=2)
PY
root=$work/rootfs
declare -a names cmds
add() { names+=("$1"); cmds+=("$2"); }
add "unshare+chroot (floor)" "unshare --fork --pid --mount --uts --ipc --net chroot $root /bin/true"
add "stdcontainer launcher"  "$PWD/out/bin/launcher --root $state run --rm $root /bin/true"
add "crun, no cgroups"       "crun --cgroup-manager=disabled run --bundle $work/bundle bench-crun-nocg"
add "crun, cgroupfs"         "crun run --bundle $work/bundle bench-crun"
add "stdcontainer, limits"   "$PWD/out/bin/launcher --root $state run --rm --memory 64m --pids-limit 64 --cpus 1 $root /bin/true"
add "crun, limits"           "crun run --bundle $work/bundle-limits bench-crun-limits"
add "stdcontainer, nat -p"   "$PWD/out/bin/launcher --root $state run --rm --network nat -p 8080:80 $root /bin/true"
add "runc"                   "runc --root $state/runc run --bundle $work/bundle bench-runc"
add "bwrap"                  "bwrap --unshare-all --ro-bind $root / --proc /proc --dev /dev /bin/true"

args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$work/times.json" "${args[@]}" >/dev/null 2>&1

: > "$work/rss"
for i in "${!names[@]}"; do
  for _ in 1 2 3 4 5; do /usr/bin/time -f '%M' -o "$work/one" ${cmds[$i]} >/dev/null 2>&1; cat "$work/one" >> "$work/rss.$i"; done
  echo "${names[$i]}	$(sort -n "$work/rss.$i" | sed -n 3p)" >> "$work/rss"
done

# TCP throughput over the NAT veth (host side -> container) vs loopback in
# the same namespace: 512 MiB through busybox nc, one run each.
mkdir -p "$work/links2/bin"
for a in nc sh sleep; do ln -s busybox "$work/links2/bin/$a"; done
out/bin/mkrootfs -o "$work/netroot" --app "$(command -v busybox)":/bin/busybox --add "$work/links2:/" >/dev/null
throughput() { # host port -> seconds to push 512 MiB
  local t0 t1
  t0=$(date +%s.%N)
  dd if=/dev/zero bs=1M count=512 2>/dev/null | busybox nc "$1" "$2"
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.3f", $2-$1}'
}
out/bin/launcher --root "$state" run -d --name bench-sink --network nat --ip 10.89.0.200 "$work/netroot" sh -c 'sleep 1000 | nc -l -p 5000 >/dev/null' >/dev/null
sleep 0.3
veth_s=$(throughput 10.89.0.200 5000)
out/bin/launcher --root "$state" rm -f bench-sink >/dev/null
# The sink's stdin must not end (nc closes the connection at its stdin's
# EOF): a FIFO we hold open for writing.
mkfifo "$work/never"
busybox nc -l -p 5001 <"$work/never" >/dev/null 2>&1 & sink=$!
exec 9>"$work/never"
sleep 0.2
lo_s=$(throughput 127.0.0.1 5001)
kill $sink 2>/dev/null || true
exec 9>&-
echo "$veth_s $lo_s" > "$work/tcp"

python3 - "$work/times.json" "$work/rss" "$work/tcp" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
rss = dict(line.rstrip("\n").split("\t") for line in open(sys.argv[2]))
us = "stdcontainer launcher"
print("Start-to-exit of /bin/true in a busybox rootfs (hyperfine, one run; RSS: median of 5, KiB)")
print("| runtime | mean ms | min ms | launcher / this | peak RSS KiB |")
print("|---|---|---|---|---|")
for name, r in res.items():
    ratio = res[us]["mean"] / r["mean"]
    print(f"| {name} | {r['mean']*1000:.2f} | {r['min']*1000:.2f} | {ratio:.2f} | {rss.get(name, '?')} |")
lim = res["stdcontainer, limits"]["mean"] / res["crun, limits"]["mean"]
print(f"\nWith --memory 64m --pids-limit 64 --cpus 1: launcher / crun = {lim:.2f}")
nat = res["stdcontainer, nat -p"]["mean"] / res[us]["mean"]
print(f"--network nat -p 8080:80 / private: {nat:.2f}")
veth, lo = (float(x) for x in open(sys.argv[3]).read().split())
print(f"TCP, 512 MiB host -> container: veth {512/veth:.0f} MiB/s, loopback {512/lo:.0f} MiB/s, veth / loopback = {lo/veth:.2f}")
PY
