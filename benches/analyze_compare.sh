#!/usr/bin/env bash
# Throughput of `agentlog analyze` against `agentlog validate` on the same generated tool-call
# ledger, one run side by side. Usage: benches/analyze_compare.sh   (env: SIZE_MB=1024)
#
# The ledger (benches/gen_ledger.py, seeded: 12 agents, 30 tools, ~85% success, risk flags on
# ~6% of calls) is written once under benches/work/ (gitignored), and so is a sandbox event log
# of the same size (benches/gen_events.py, as validate_compare.sh uses), on which the validator
# runs its typed fast path: analyze is compared with validate on both. Each command reads the whole
# file from the page cache (a warm-up `wc -l` first); output goes to /dev/null. Target:
# analyze at >= 50% of the validator's MiB/s.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
WORK=${WORK:-benches/work}
mkdir -p "$WORK"
FILE="$WORK/ledger-${SIZE_MB}m.jsonl"
[ -f "$FILE" ] || python3 benches/gen_ledger.py "$FILE" $((SIZE_MB * 1024 * 1024))
EVENTS="$WORK/events-${SIZE_MB}m.jsonl"
[ -f "$EVENTS" ] || python3 benches/gen_events.py "$EVENTS" $((SIZE_MB * 1024 * 1024))
cargo build --release --quiet --bin agentlog
BIN=${CARGO_TARGET_DIR:-target}/release/agentlog

now() { date +%s.%N; }
declare -a ROWS
run() { # name file command...
  local name=$1 bytes; bytes=$(stat -c %s "$2"); shift 2
  local t0 t1 rss
  t0=$(now)
  /usr/bin/time -f %M -o "$WORK/rss.txt" "$@" > /dev/null 2>&1 || true
  t1=$(now)
  rss=$(tail -1 "$WORK/rss.txt")
  ROWS+=("$(python3 -c "
s=$t1-$t0; mb=$bytes/1048576
print(f'| $name | {mb:.0f} | {s:.2f} | {mb/s:.1f} | {$rss//1024} |')")")
}

wc -l "$FILE" "$EVENTS" > /dev/null
run "ledger: wc -l" "$FILE" wc -l "$FILE"
run "ledger: agentlog validate --quiet" "$FILE" "$BIN" validate --quiet "$FILE"
run "ledger: agentlog analyze (text)" "$FILE" "$BIN" analyze "$FILE"
run "ledger: agentlog analyze --format json" "$FILE" "$BIN" analyze --format json "$FILE"
run "ledger: agentlog analyze --html" "$FILE" "$BIN" analyze --html "$WORK/report.html" "$FILE"
run "sandbox log: agentlog validate --quiet" "$EVENTS" "$BIN" validate --quiet --unknown-types warn "$EVENTS"
run "sandbox log: agentlog analyze --format json" "$EVENTS" "$BIN" analyze --format json "$EVENTS"

echo
echo "ledger: ${SIZE_MB} MiB, $(wc -l < "$FILE") lines; sandbox log: $(wc -l < "$EVENTS") lines; $(nproc) cores"
echo
echo "| command | MiB | seconds | MiB/s | peak RSS MiB |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "validate on the ledger: $("$BIN" validate --quiet "$FILE" 2>&1 | tail -1 || true)"
