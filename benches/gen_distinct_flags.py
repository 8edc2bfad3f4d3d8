#!/usr/bin/env python3
"""Writes a tool-call ledger whose risk flags are all distinct: COUNT records (default
250,000), one a second, each with one flag `flag_<n>` of its own, padded to about 268 bytes a
record (COUNT=250,000 gives ~67 MB). It measures how analyze's memory grows with distinct keys
(`agentlog analyze --bucket 1s`); the flags are outside the ledger schema's seven, so
`agentlog validate --profile ledger` reports `schema` on every line and nothing else (every
other field is valid). Deterministic.
Usage: gen_distinct_flags.py OUT [COUNT]"""
import json, sys

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 250_000
ts = 1795452720
with open(out, "w") as f:
    buf = []
    for n in range(count):
        rec = {"ts": ts + n, "session_id": "s-%05d" % (n // 600), "agent": "dev_agent",
               "tool": "exec_shell", "args_hash": "sha256:" + "%064x" % n,
               "result_status": "denied", "elapsed_ms": 0, "error_class": None,
               "risk_flags": ["flag_%07d" % n], "artifacts": ["src/mod%02d.py" % (n % 100)]}
        buf.append(json.dumps(rec, separators=(",", ":")) + "\n")
        if len(buf) >= 10000:
            f.write("".join(buf)); buf = []
    f.write("".join(buf))
