#!/usr/bin/env bash
# Throughput of `agentlog export` to a local OpenTelemetry collector (rotel, from PyPI, on
# loopback, receiving and dropping: `--exporter blackhole`), side by side in one run with
# `agentlog validate` and `agentlog analyze` on the same files, protobuf and JSON.
# Usage: benches/export_compare.sh   (env: SIZE_MB=256, ROTEL=<path to rotel-agent>)
#
# Inputs: a sandbox event log (benches/gen_events.py, v0, seeded) and a tool-call ledger
# (benches/gen_ledger.py), written once under benches/work/ (gitignored). Each row reads the
# file from the page cache (a warm-up `wc -l` first). Target: export at >= 100,000 events/s.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-256}
WORK=${WORK:-benches/work}
mkdir -p "$WORK"
EVENTS="$WORK/events-${SIZE_MB}m.jsonl"
[ -f "$EVENTS" ] || python3 benches/gen_events.py "$EVENTS" $((SIZE_MB * 1024 * 1024))
LEDGER="$WORK/ledger-${SIZE_MB}m.jsonl"
[ -f "$LEDGER" ] || python3 benches/gen_ledger.py "$LEDGER" $((SIZE_MB * 1024 * 1024))
cargo build --release --quiet --bin agentlog
BIN=${CARGO_TARGET_DIR:-target}/release/agentlog

ROTEL=${ROTEL:-${AGENTLOG_ROTEL:-}}
if [ -z "$ROTEL" ]; then
  venv="$WORK/venv-rotel"
  [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
  ls "$venv"/lib/python3*/site-packages/rotel/rotel-agent > /dev/null 2>&1 \
    || "$venv/bin/python3" -m pip install -q rotel==0.0.1a15
  ROTEL=$(ls "$venv"/lib/python3*/site-packages/rotel/rotel-agent | head -n 1)
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port); GRPC=$(port)
"$ROTEL" start --exporter blackhole --otlp-http-endpoint "127.0.0.1:$HTTP" \
  --otlp-grpc-endpoint "127.0.0.1:$GRPC" > "$WORK/rotel.out" 2>&1 &
ROTEL_PID=$!
trap 'kill -9 $ROTEL_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 500); do   # ready when the port accepts (at most 5 s)
  (exec 3<>"/dev/tcp/127.0.0.1/$HTTP") 2>/dev/null && break
  sleep 0.01
done

now() { date +%s.%N; }
declare -a ROWS
run() { # name file command...
  local name=$1 file=$2 lines; lines=$(wc -l < "$file"); shift 2
  local t0 t1 rss code=0
  t0=$(now)
  /usr/bin/time -f %M -o "$WORK/rss.txt" "$@" > /dev/null 2> "$WORK/run.err" || code=$?
  t1=$(now)
  rss=$(tail -1 "$WORK/rss.txt")
  if [ "$code" != 0 ] && [ "$code" != 1 ]; then cat "$WORK/run.err" >&2; fi
  ROWS+=("$(python3 -c "
s=$t1-$t0; n=$lines
print(f'| $name | {n} | {s:.2f} | {n/s:,.0f} | {$rss//1024} |')")")
}

wc -l "$EVENTS" "$LEDGER" > /dev/null
E="http://127.0.0.1:$HTTP"
run "events: agentlog validate --quiet" "$EVENTS" "$BIN" validate --quiet "$EVENTS"
run "events: agentlog analyze --format json" "$EVENTS" "$BIN" analyze --format json "$EVENTS"
run "events: agentlog export (protobuf)" "$EVENTS" "$BIN" export --otlp-endpoint "$E" "$EVENTS"
run "events: agentlog export (JSON)" "$EVENTS" "$BIN" export --otlp-endpoint "$E" --otlp-protocol http/json "$EVENTS"
run "ledger: agentlog validate --quiet" "$LEDGER" "$BIN" validate --quiet "$LEDGER"
run "ledger: agentlog export (protobuf)" "$LEDGER" "$BIN" export --otlp-endpoint "$E" "$LEDGER"
tail -3 "$WORK/run.err" >&2

echo "| command | lines | seconds | lines/s | peak RSS MiB |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
