#!/usr/bin/env bash
# Side-by-side proxy overhead: direct vs agentlog proxy vs mitmdump (mitmproxy 11.0.2, no
# addon) against the same loopback TLS fixture. Prints a markdown table.
# Usage: benches/proxy_compare.sh   (env: N=2000 requests, SECS=5 throughput seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=benches/.venv
if [ ! -x "$VENV/bin/mitmdump" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q mitmproxy==11.0.2
fi
WORK=benches/work/mitm
mkdir -p "$WORK"
PORT=${MITM_PORT:-18089}
"$VENV/bin/mitmdump" --mode regular --listen-host 127.0.0.1 --listen-port "$PORT" \
  --ssl-insecure --set confdir="$PWD/$WORK" --set flow_detail=0 -q >"$WORK/mitmdump.log" 2>&1 &
MITM_PID=$!
trap 'kill "$MITM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -f "$WORK/mitmproxy-ca-cert.pem" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
MITM_PORT=$PORT MITM_CA="$PWD/$WORK/mitmproxy-ca-cert.pem" \
  cargo bench --bench proxy_latency 2>/dev/null
