#!/usr/bin/env bash
# Interleaved timing of several `mqttspec` binaries on one capture: each
# round runs every binary once, so a machine whose speed drifts treats them
# alike. Prints the best and the median wall-clock time per binary.
#
# Usage: bench/ab.sh CAPTURE ROUNDS BINARY...
# Example: bench/ab.sh /tmp/mqttspec-bench-320-single.pcapng 7 old/mqttspec target/release/mqttspec
# Needs: GNU time (/usr/bin/time).
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
file=$1
rounds=$2
shift 2
cat "$file" > /dev/null # warm the page cache
for _ in $(seq "$rounds"); do
    for bin in "$@"; do
        # Findings make `analyze` exit 1; only the time matters here.
        { /usr/bin/time -f "$bin %e" "$bin" analyze "$file" 2>&1 > /dev/null || true; } | tail -1
    done
done | sort -k1,1 -k2,2n | awk '
    { n[$1]++; t[$1, n[$1]] = $2 }
    END { for (b in n) printf "%s: best %.2f s, median %.2f s (%d runs)\n", b, t[b, 1], t[b, int((n[b] + 1) / 2)], n[b] }'
