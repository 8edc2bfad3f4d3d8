#!/usr/bin/env bash
# Throughput of `agentlog validate` against what a user would otherwise use, on one generated
# events.jsonl. Usage: benches/validate_compare.sh   (env: SIZE_MB=1024, PEER_MB=20,
# BASELINE_BIN=path of another agentlog build to time beside this one)
#
# agentlog, the parse-only serde_json loop and `wc -l` run on the whole file. Peers run on the
# first PEER_MB MiB (they would take many minutes on 1 GB) and their MB/s is extrapolated; the
# table says so. Every validator checks every line against the same v0 schema
# (`agentlog schema --bundle`); detect-secrets scans the slice.
# `--unknown-types warn` dates from when the generator mixed in v1 types; it writes v0 only now
# (the default `agentlog validate` accepts it) and the flag is kept, harmless, for comparable runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
PEER_MB=${PEER_MB:-20}
WORK=${WORK:-benches/work}
mkdir -p "$WORK"
FILE="$WORK/events-${SIZE_MB}m.jsonl"
SLICE="$WORK/slice-${PEER_MB}m.jsonl"
[ -f "$FILE" ] || python3 benches/gen_events.py "$FILE" $((SIZE_MB * 1024 * 1024))
head -c $((PEER_MB * 1024 * 1024)) "$FILE" | sed '$d' > "$SLICE"

cargo build --release --quiet --bin agentlog
cargo bench --no-run --quiet -p agentlog-validate --bench parse_only 2>/dev/null || true
PARSE=$(ls -t target/release/deps/parse_only-* 2>/dev/null | grep -v '\.d$' | head -1)
BIN=target/release/agentlog
"$BIN" schema --bundle > "$WORK/bundle.json"

# Peers (installed under benches/, not system-wide).
# (Re)installed when a peer cannot be imported: a venv that lost a package would otherwise
# time a loop that fails at once.
if ! benches/.venv/bin/python -c 'import jsonschema, fastjsonschema, jsonschema_rs' 2>/dev/null; then
  [ -x benches/.venv/bin/python ] || python3 -m venv benches/.venv
  benches/.venv/bin/pip install -q jsonschema fastjsonschema jsonschema-rs check-jsonschema detect-secrets
fi
[ -d benches/node_modules/ajv ] || npm install --silent --no-save --prefix benches ajv ajv-formats
PY=benches/.venv/bin/python

# 10 secrets for the scan run (none occurs in the file).
SECRETS="$WORK/secrets.env"
for i in $(seq 1 10); do echo "BENCH_SECRET_$i=bench-secret-value-$i-$(printf '%08d' $((i * 7919)))"; done > "$SECRETS"

bytes() { stat -c %s "$1"; }
now() { date +%s.%N; }
declare -a ROWS
row() { # name file seconds note
  local mb; mb=$(python3 -c "print(f'{$(bytes "$2")/1048576/$3:.1f}')")
  ROWS+=("| $1 | $(python3 -c "print(f'{$(bytes "$2")/1048576:.0f}')") | $(printf %.2f "$3") | $mb | $4 |")
}
timeit() { local t0 t1; t0=$(now); "$@" > /dev/null 2>&1 || true; t1=$(now); python3 -c "print($t1-$t0)"; }

t=$(timeit wc -l "$FILE"); row "wc -l" "$FILE" "$t" "limit: line count"
t=$(timeit "$PARSE" "$FILE"); row "serde_json parse-only (1 core)" "$FILE" "$t" "limit: parse to Value"
/usr/bin/time -v "$BIN" validate --quiet --no-builtin-detectors --unknown-types warn "$FILE" 2> "$WORK/time1.txt" >/dev/null || true
/usr/bin/time -v "$BIN" validate --quiet --unknown-types warn --secrets-file "$SECRETS" "$FILE" 2> "$WORK/time2.txt" >/dev/null || true
# BASELINE_BIN=path: the same three runs of another build (e.g. the commit before a change),
# each right after this build's, so both see the same machine state.
agentlog_rows() { # label binary
  t=$(timeit "$2" validate --quiet --no-builtin-detectors --unknown-types warn "$FILE"); row "$1 validate (schema only)" "$FILE" "$t" "2 cores"
}
agentlog_detector() {
  t=$(timeit "$2" validate --quiet --unknown-types warn "$FILE"); row "$1 validate + built-in detector" "$FILE" "$t" "2 cores"
}
agentlog_secrets() {
  t=$(timeit "$2" validate --quiet --unknown-types warn --secrets-file "$SECRETS" "$FILE"); row "$1 validate + 10-secret scan + detector" "$FILE" "$t" "2 cores"
}
for run in agentlog_rows agentlog_detector agentlog_secrets; do
  $run agentlog "$BIN"
  [ -z "${BASELINE_BIN:-}" ] || $run "baseline agentlog" "$BASELINE_BIN"
done
RSS1=$(awk '/Maximum resident/ {print $6}' "$WORK/time1.txt"); RSS2=$(awk '/Maximum resident/ {print $6}' "$WORK/time2.txt")

cat > "$WORK/py_loop.py" <<'PYEOF'
import json, sys
kind, schema_path, path = sys.argv[1:4]
schema = json.load(open(schema_path))
if kind == "jsonschema":
    import jsonschema
    v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    check = v.is_valid
elif kind == "fastjsonschema":
    import fastjsonschema
    f = fastjsonschema.compile(schema)
    def check(x):
        try: f(x); return True
        except Exception: return False
else:
    import jsonschema_rs
    check = jsonschema_rs.validator_for(schema, validate_formats=True).is_valid
bad = 0
for line in open(path, "rb"):
    if not check(json.loads(line)): bad += 1
print(bad)
PYEOF
for k in jsonschema fastjsonschema jsonschema_rs; do
  t=$(timeit "$PY" "$WORK/py_loop.py" "$k" "$WORK/bundle.json" "$SLICE"); row "python $k loop" "$SLICE" "$t" "1 core, ${PEER_MB} MiB slice"
done
t=$(timeit node benches/ajv_loop.js "$WORK/bundle.json" "$SLICE"); row "ajv (node) loop" "$SLICE" "$t" "1 core, ${PEER_MB} MiB slice"
# check-jsonschema validates JSON documents, not lines: split a 1 MiB piece into one file per line.
mkdir -p "$WORK/split"; rm -f "$WORK/split"/*
head -c 1048576 "$SLICE" | sed '$d' | split -l 1 -a 5 --additional-suffix=.json - "$WORK/split/e"
t0=$(now); benches/.venv/bin/check-jsonschema --schemafile "$WORK/bundle.json" "$WORK"/split/*.json >/dev/null 2>&1 || true; t1=$(now)
cat "$WORK"/split/*.json > "$WORK/split.all"; row "check-jsonschema (file per line)" "$WORK/split.all" "$(python3 -c "print($t1-$t0)")" "1 MiB slice"
t=$(timeit benches/.venv/bin/detect-secrets scan "$SLICE"); row "detect-secrets scan" "$SLICE" "$t" "secret scan only, ${PEER_MB} MiB slice"

echo
echo "events.jsonl: ${SIZE_MB} MiB, $(wc -l < "$FILE") lines; $(nproc) cores"
echo
echo "| tool | MiB | seconds | MiB/s | note |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "agentlog peak RSS: schema only $((RSS1 / 1024)) MiB; with 10 secrets + detector $((RSS2 / 1024)) MiB"
