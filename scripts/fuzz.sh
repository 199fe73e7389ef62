#!/usr/bin/env bash
# A short run of every fuzz target (go test allows one -fuzz target per
# run), FUZZTIME each. Go 1.26's fuzz coordinator can report "context
# deadline exceeded" at the -fuzztime boundary on a loaded machine with no
# failing input at all (golang/go#75804, fixed in Go 1.27): such a run is
# repeated once. A run that writes a failing input, panics or fails a
# check fails at once.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
# Minimizing a new interesting input may take up to a minute by default;
# a short run is for finding crashers, not for tidy corpora.
fuzz_one() { "$GO" test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$1" 2>&1; }
for pkg in $("$GO" list ./...); do
  for t in $("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz $pkg $t"
    if log=$(fuzz_one "$pkg" "$t"); then continue; fi
    if grep -q 'context deadline exceeded' <<<"$log" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' <<<"$log"; then
      echo "fuzz $pkg $t: the fuzztime boundary race (golang/go#75804), running it again"
      if log=$(fuzz_one "$pkg" "$t"); then continue; fi
    fi
    echo "$log"
    exit 1
  done
done
