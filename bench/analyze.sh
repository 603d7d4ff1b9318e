#!/usr/bin/env bash
# Throughput of `mqttspec analyze` against tshark and cat on one generated
# capture, in the same run: MB/s, MQTT packets/s and peak RSS (best of 5
# runs for cat and mqttspec, one for tshark, timed to the millisecond; RSS
# is the largest seen).
#
# Usage: bench/analyze.sh [SIZE_MB] [FLOWS] [MIX]  (default 320 MB, 200 flows, single)
# MIX: `single` (each MQTT packet in a segment of its own: the per-frame
# worst case) or `burst` (pipelined QoS flows, several packets per segment);
# see examples/gen_bench.rs.
# Needs: cargo, tshark (apt-get install -y tshark), GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-320}
flows=${2:-200}
mix=${3:-single}
file=${BENCH_FILE:-/tmp/mqttspec-bench-${size}-${mix}.pcapng}

cargo build --release --quiet --example gen_bench --bin mqttspec
bin=${CARGO_TARGET_DIR:-target}/release
if [ ! -s "$file" ]; then
    "$bin"/examples/gen_bench "$file" "$size" "$flows" "$mix"
fi
bytes=$(stat -c %s "$file")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "capture: $file ($mb MB, $mix)"

measure() { # name, runs, command...  (best of `runs`, in milliseconds)
    local name=$1 runs=$2; shift 2
    local start end t rss best="" bestrss=0 out=/tmp/mqttspec-bench.out
    # `cat FILE > /dev/null`: what reading the file alone costs.
    [ "$name" = cat ] && out=/dev/null
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        /usr/bin/time -f "%M" -o /tmp/mqttspec-bench.rss "$@" > "$out" 2>/dev/null || true
        end=$(date +%s%N)
        t=$(( (end - start) / 1000000 ))
        rss=$(tail -1 /tmp/mqttspec-bench.rss)
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        [ "$rss" -gt "$bestrss" ] && bestrss=$rss
    done
    t=$(awk -v ms="$best" 'BEGIN { printf "%.3f", ms / 1000 }'); rss=$bestrss
    printf '%-10s %7.3f s  %8.1f MB/s  peak RSS %6.1f MB\n' "$name" "$t" \
        "$(awk -v b="$bytes" -v t="$t" 'BEGIN { print (t > 0 ? b / 1e6 / t : 0) }')" \
        "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')"
    eval "${name//-/_}_t=$t"
}

cat "$file" > /dev/null # warm the page cache
measure cat 5 cat "$file"
measure mqttspec 5 "$bin"/mqttspec analyze "$file"
packets=$(grep -o '[0-9]* MQTT packets' /tmp/mqttspec-bench.out | tail -1 | cut -d' ' -f1)
echo "mqttspec: $packets MQTT packets, $(awk -v p="$packets" -v t="$mqttspec_t" 'BEGIN { printf "%.0f", p / t }') packets/s"
if command -v tshark > /dev/null; then
    measure tshark 1 tshark -r "$file" -Y mqtt -T fields -e mqtt.msgtype
    tpackets=$(tr ',' '\n' < /tmp/mqttspec-bench.out | grep -c .)
    echo "tshark:   $tpackets MQTT messages, $(awk -v p="$tpackets" -v t="$tshark_t" 'BEGIN { printf "%.0f", p / t }') messages/s"
    awk -v a="$tshark_t" -v b="$mqttspec_t" 'BEGIN { printf "mqttspec is %.1fx tshark\n", a / b }'
fi
