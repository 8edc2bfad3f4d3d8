#!/usr/bin/env bash
# agentlog validate against ajv, paired: ROUNDS rounds, each running both on the same
# generated events.jsonl back to back, so both see the same machine load. Prints each round
# and the median of the per-round ratios. Usage: benches/validate_paired.sh
# (env: SIZE_MB=200, ROUNDS=5, SECRETS=10; BIN to use another build of agentlog).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-200}
ROUNDS=${ROUNDS:-5}
NSECRETS=${SECRETS:-10}
WORK=${WORK:-benches/work}
mkdir -p "$WORK"
FILE="$WORK/events-${SIZE_MB}m.jsonl"
[ -f "$FILE" ] || python3 benches/gen_events.py "$FILE" $((SIZE_MB * 1024 * 1024))
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin agentlog
  BIN=target/release/agentlog
fi
[ -d benches/node_modules/ajv ] || npm install --silent --no-save --prefix benches ajv ajv-formats
"$BIN" schema --bundle > "$WORK/bundle.json"
SECRETS_FILE="$WORK/secrets-$NSECRETS.env"
for i in $(seq 1 "$NSECRETS"); do echo "BENCH_SECRET_$i=bench-secret-value-$i-$(printf '%08d' $((i * 7919)))"; done > "$SECRETS_FILE"
now() { date +%s.%N; }
timeit() { local t0 t1; t0=$(now); "$@" > /dev/null 2>&1 || true; t1=$(now); python3 -c "print($t1-$t0)"; }
MB=$(python3 -c "print($(stat -c %s "$FILE")/1048576)")
ratios=()
echo "| round | agentlog validate + $NSECRETS secrets + detector (s) | ajv (s) | agentlog MiB/s | ajv MiB/s | ratio |"
echo "|---|---|---|---|---|---|"
for r in $(seq 1 "$ROUNDS"); do
  a=$(timeit "$BIN" validate --quiet --secrets-file "$SECRETS_FILE" "$FILE")
  j=$(timeit node benches/ajv_loop.js "$WORK/bundle.json" "$FILE")
  ratio=$(python3 -c "print(f'{$j/$a:.2f}')")
  ratios+=("$ratio")
  python3 -c "print(f'| $r | {$a:.2f} | {$j:.2f} | {$MB/$a:.1f} | {$MB/$j:.1f} | $ratio |')"
done
python3 -c "import statistics as s; r=[float(x) for x in '${ratios[*]}'.split()]; print(f'\nmedian ratio (ajv time / agentlog time) over {len(r)} rounds: {s.median(r):.2f} (min {min(r):.2f}, max {max(r):.2f}); file {$MB:.0f} MiB; $(nproc) cores')"
