#!/usr/bin/env bash
# Ingest benchmark (issue 2, item 8): builds the release binary, runs the bench target and
# prints the machine, the results table, the fsync share and the peak memory.
# Results are recorded by hand in docs/benchmarks.md.
#
# Environment passed through to the bench: BENCH_REPS, BENCH_SMALL, BENCH_ARTIKELEN,
# BENCH_ONLY (big|small), REGELBANK_BIN. With BENCH_PERF=1 also records a perf profile of
# `regelbank ingest` on the big package (needs perf) and prints the top symbols.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine"
echo "nproc: $(nproc)"
grep -m1 'model name' /proc/cpuinfo || true
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "target dir file system: $(df -hT target 2>/dev/null | awk 'NR==2 {print $1, $2, $3}')"
for d in /sys/block/*; do
  [ -e "$d/queue/rotational" ] && echo "block device $(basename "$d"): rotational=$(cat "$d/queue/rotational")"
done
echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc: $(rustc --version)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

echo "== build"
cargo build --release -p regelbank
cargo bench -p ingest --bench ingest --no-run

echo "== bench"
cargo bench -p ingest --bench ingest

if [ "${BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  echo "== perf profile of regelbank ingest on the big package"
  tmp=$(mktemp -d target/bench-perf-XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  target/release/regelbank generate --out "$tmp/pkg" --count 1 --regelingen 1 \
    --artikelen "${BENCH_ARTIKELEN:-38500}" --prefix perf >/dev/null
  pkg=$(find "$tmp/pkg" -mindepth 1 -maxdepth 1 | head -1)
  perf record -g -o "$tmp/perf.data" -- target/release/regelbank --data "$tmp/data" \
    --today 2027-03-01 ingest "$pkg" >/dev/null
  perf report -i "$tmp/perf.data" --no-children --stdio --percent-limit 1.5 2>/dev/null \
    | grep -E '^ +[0-9]' | head -40
fi
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
