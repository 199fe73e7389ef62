#!/usr/bin/env bash
# Installs what the benchmarks run (the peers and the tools), as Debian
# packages, when missing.
set -euo pipefail
exec "$(dirname "$0")/install-missing.sh" hyperfine:hyperfine crun:crun runc:runc bwrap:bubblewrap \
  tini-static:tini catatonit:catatonit busybox:busybox-static /usr/bin/time:time nft:nftables \
  ip:iproute2 unshare:util-linux python3:python3
