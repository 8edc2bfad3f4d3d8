#!/usr/bin/env python3
"""Writes a realistic tool-call ledger (the seed's records, one compact JSON object a line) of
about SIZE bytes: 12 agents, 30 tools, statuses ~85% success / 8% error / 4% denied /
3% timeout, risk flags on ~6% of calls, one record every ~0.7 s; every record valid under
the ledger schema (agentlog validate --profile ledger); deterministic (seeded).
Usage: gen_ledger.py OUT [SIZE_BYTES]"""
import hashlib, json, random, sys

size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
out = sys.argv[1]
rnd = random.Random(11)
agents = [f"{n}_agent" for n in ["dev", "research", "ops", "qa", "data", "docs", "sec", "infra", "ml", "web", "mail", "cal"]]
tools = ["file_editor", "exec_shell", "web_fetch", "web_search", "git_commit", "deploy", "db_query", "send_email",
         "read_file", "write_file", "list_dir", "run_tests", "http_post", "k8s_apply", "s3_put", "s3_get",
         "calendar_add", "slack_post", "pdf_parse", "image_gen", "code_search", "lint", "format", "pip_install",
         "npm_install", "docker_build", "ssh_exec", "vault_read", "browser_click", "summarize"]
errors = ["ConnectionError", "TimeoutError", "ValueError", "PermissionError", "FileNotFoundError", "HTTPError", None]
flags = ["injection_attempt", "secret_attempt", "path_denied", "network_denied", "sandbox_violation", "high_risk_approved"]
hashes = ["sha256:" + hashlib.sha256(str(i).encode()).hexdigest() for i in range(4096)]
ts = 1795452720
written = 0
with open(out, "w") as f:
    buf = []
    while written < size:
        ts += rnd.choice([0, 0, 1, 1, 2])
        k = rnd.random()
        tool = rnd.choice(tools)
        if k < 0.85:
            status, ms, err, rf = "success", int(rnd.expovariate(1 / 400)), None, []
        elif k < 0.93:
            status, ms, err, rf = "error", int(rnd.expovariate(1 / 200)), rnd.choice(errors), []
        elif k < 0.97:
            status, ms, err, rf = "denied", 0, None, [rnd.choice(["path_denied", "network_denied"])]
        else:
            status, ms, err, rf = "timeout", 30000, "TimeoutError", ["timeout"]
        if rnd.random() < 0.03:
            extra = rnd.choice(flags)
            if extra not in rf:  # the schema wants unique flags
                rf = rf + [extra]
        rec = {"ts": ts, "session_id": "s-%05d" % (ts // 600 % 100000), "agent": rnd.choice(agents), "tool": tool,
               "args_hash": rnd.choice(hashes), "result_status": status, "elapsed_ms": ms, "error_class": err,
               "risk_flags": rf, "artifacts": [f"src/mod{rnd.randint(0, 99)}.py"] if status == "success" and rnd.random() < 0.5 else []}
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        buf.append(line)
        written += len(line)
        if len(buf) >= 10000:
            f.write("".join(buf)); buf = []
    f.write("".join(buf))
