#!/usr/bin/env bash
# Peak RSS and time of `agentlog analyze` on a ledger whose risk flags are all distinct
# (benches/gen_distinct_flags.py: 250,000 records, one a second, one flag each, ~67 MB), in
# every output format, with the automatic bucket and with `--bucket 1s` (250,000 one-second
# buckets), beside `agentlog validate` and `wc -l` on the same file, one run.
# Usage: benches/analyze_distinct.sh   (env: COUNT=250000)
# Target (issue 19): peak RSS under 64 MiB with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-250000}
WORK=${WORK:-benches/work}
mkdir -p "$WORK"
FILE="$WORK/distinct-flags-${COUNT}.jsonl"
[ -f "$FILE" ] || python3 benches/gen_distinct_flags.py "$FILE" "$COUNT"
cargo build --release --quiet --bin agentlog
BIN=${CARGO_TARGET_DIR:-target}/release/agentlog

row() { # name command...
  local name=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f %M -o "$WORK/rss.txt" "$@" > /dev/null 2>&1 || true
  t1=$(date +%s.%N)
  rss=$(tail -1 "$WORK/rss.txt")
  python3 -c "print(f'| $name | {$t1-$t0:.2f} | {$rss/1024:.1f} |')"
}

wc -l "$FILE" > /dev/null
echo "$(wc -l < "$FILE") records, $(( $(stat -c %s "$FILE") / 1000000 )) MB, $(nproc) cores"
echo
echo "| command | seconds | peak RSS MiB |"
echo "|---|---|---|"
row "wc -l" wc -l "$FILE"
row "agentlog validate --profile ledger --quiet" "$BIN" validate --profile ledger --quiet "$FILE"
row "agentlog analyze (text)" "$BIN" analyze "$FILE"
row "agentlog analyze --format json" "$BIN" analyze --format json "$FILE"
row "agentlog analyze --html" "$BIN" analyze --html "$WORK/distinct.html" "$FILE"
row "agentlog analyze --bucket 1s (text)" "$BIN" analyze --bucket 1s "$FILE"
row "agentlog analyze --bucket 1s --format json" "$BIN" analyze --bucket 1s --format json "$FILE"
row "agentlog analyze --max-rows 0 --format json (every flag)" "$BIN" analyze --max-rows 0 --format json "$FILE"
