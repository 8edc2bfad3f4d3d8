#!/bin/sh
# Regenerates ../logs/encoder_*.jsonl from events.json with the real encoders: Go's
# encoding/json (go run), Python's json.dumps (python3) and JavaScript's JSON.stringify
# (node). The verdict files next to them (encoder_*.json) are written by hand and expect no
# finding. Run from anywhere: sh conformance/encoders/generate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
logs="$here/../logs"
cd "$here"
for profile in v0 v1; do
  go run go_writer.go events.json "$profile" > "$logs/encoder_go_$profile.jsonl"
  python3 python_writer.py events.json "$profile" > "$logs/encoder_python_$profile.jsonl"
  node js_writer.js events.json "$profile" > "$logs/encoder_js_$profile.jsonl"
done
