#!/usr/bin/env bash
# Side-by-side proxy overhead: direct vs agentlog proxy vs agentlog proxy with the budget gate
# vs agentlog proxy exporting every event live to a local OpenTelemetry collector (rotel) vs
# mitmdump (mitmproxy 11.0.2, no addon) against the same loopback TLS fixture, in
# interleaved rounds (each round measures every path once, in a rotated order). Prints a
# markdown table of medians with their spread, and ratios as medians of per-round ratios.
# Usage: benches/proxy_compare.sh   (env: ROUNDS=5, N=1000 requests per round for latency,
#        SECS=3 throughput seconds per round)
# Every failure (build error, mitmdump not starting, bench panic) is reported on stderr
# with a non-zero exit status.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'echo "proxy_compare.sh: failed (exit $?) at line $LINENO" >&2' ERR

# Build first, with cargo's errors visible.
if ! build_log=$(cargo bench -p agentlog-intercept --bench proxy_latency --no-run 2>&1); then
  printf '%s\n' "$build_log" >&2
  echo "proxy_compare.sh: building crates/intercept/benches/proxy_latency.rs failed" >&2
  exit 1
fi

VENV=benches/.venv
if [ ! -x "$VENV/bin/mitmdump" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q mitmproxy==11.0.2
fi
WORK=benches/work/mitm
mkdir -p "$WORK"
PORT=${MITM_PORT:-18089}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
if listening; then
  echo "proxy_compare.sh: 127.0.0.1:$PORT is already in use (a mitmdump left over?); set MITM_PORT" >&2
  exit 1
fi
"$VENV/bin/mitmdump" --mode regular --listen-host 127.0.0.1 --listen-port "$PORT" \
  --ssl-insecure --set confdir="$PWD/$WORK" --set flow_detail=0 -q >"$WORK/mitmdump.log" 2>&1 &
MITM_PID=$!
trap 'kill "$MITM_PID" 2>/dev/null || true' EXIT
ready=
for _ in $(seq 1 100); do
  if [ -f "$WORK/mitmproxy-ca-cert.pem" ] && listening; then ready=1; break; fi
  kill -0 "$MITM_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "proxy_compare.sh: mitmdump did not start listening on 127.0.0.1:$PORT; its log:" >&2
  cat "$WORK/mitmdump.log" >&2
  exit 1
fi
# The live-export row sends to rotel (the OpenTelemetry collector the tests use, from PyPI),
# which the benchmark starts on loopback itself.
ROTEL=${ROTEL:-${AGENTLOG_ROTEL:-}}
if [ -z "$ROTEL" ]; then
  "$VENV/bin/pip" show -q rotel > /dev/null 2>&1 || "$VENV/bin/pip" install -q rotel==0.0.1a15
  ROTEL=$(ls "$VENV"/lib/python3*/site-packages/rotel/rotel-agent | head -n 1)
fi
MITM_PORT=$PORT MITM_CA="$PWD/$WORK/mitmproxy-ca-cert.pem" ROTEL="$ROTEL" \
  cargo bench -q -p agentlog-intercept --bench proxy_latency
