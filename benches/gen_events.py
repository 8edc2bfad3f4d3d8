#!/usr/bin/env python3
"""Writes a realistic events.jsonl of about SIZE bytes (default 1 GiB): v0 llm_request/
llm_response/key_injection/budget_action, all valid, deterministic (seeded).

Usage: gen_events.py OUT [SIZE]. One profile per file (v0), so the default `agentlog validate
OUT` accepts it with no findings; about 5% of the requests are routed to the local model."""
import json, random, sys

size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
out = sys.argv[1]
rnd = random.Random(7)
hosts = ["api.openai.com", "api.anthropic.com", "openrouter.ai", "generativelanguage.googleapis.com"]
models = ["gpt-4o-mini", "claude-sonnet-4-5", "google/gemini-2.0-flash-001", "gpt-oss:20b"]
paths = ["/v1/chat/completions", "/v1/messages", "/v1/responses"]
secrets = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"]
sec, us = 1771974154, 0

def base(event_type, summary, **extra):
    global sec, us
    us += rnd.randint(1, 900000)
    sec += us // 1000000
    us %= 1000000
    frac = ("%06d" % us).rstrip("0")
    import time
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ("." + frac if frac else "") + "Z"
    e = {"ts": ts, "run_id": "vm-503ad4d1", "agent_system": "openclaw", "event_type": event_type, "summary": summary}
    e.update(extra)
    return e

written = 0
with open(out, "w") as f:
    buf = []
    while written < size:
        h, m, p = rnd.choice(hosts), rnd.choice(models), rnd.choice(paths)
        k = rnd.random()
        if k < 0.35:
            routed = rnd.random() < 0.2
            d = {"method": "POST", "host": h, "path": p, "model": m, "routed": routed}
            if routed: d["routed_to"] = "192.168.86.246:11434"
            e = base("llm_request", f"POST {h}{p}", tags=["tls"], data=d)
        elif k < 0.70:
            ms = rnd.randint(80, 9000)
            d = {"method": "POST", "host": h, "path": p, "status_code": rnd.choice([200, 200, 200, 429, 502]),
                 "duration_ms": ms, "body_bytes": rnd.randint(0, 90000), "model": m,
                 "input_tokens": rnd.randint(10, 8000), "output_tokens": rnd.randint(1, 4000)}
            e = base("llm_response", f"POST {h}{p} -> {d['status_code']} ({ms}ms)", tags=["tls"], data=d)
        elif k < 0.90:
            s, a = rnd.choice(secrets), rnd.choice(["injected", "injected", "skipped", "leak_blocked"])
            e = base("key_injection", f'secret "{s}" {a.replace("_", " ")} for {h}', plugin="secret_injector",
                     tags=["tls"], data={"secret_name": s, "host": h, "action": a})
        elif k < 0.95:
            e = base("budget_action", "budget warn", data={"action": "warn", "tokens_used": rnd.randint(1, 10**6),
                     "cost_usd": round(rnd.random() * 20, 4), "remaining": round(rnd.random() * 80, 4)})
        else:
            d = {"method": "POST", "host": h, "path": "/v1/chat/completions", "model": m, "routed": True,
                 "routed_to": "192.168.86.246:11434"}
            e = base("llm_request", f"POST {h}/v1/chat/completions (routed to 192.168.86.246:11434)",
                     plugin="local_model_router", tags=["tls"], data=d)
        line = json.dumps(e, separators=(",", ":")) + "\n"
        buf.append(line)
        written += len(line)
        if len(buf) >= 10000:
            f.write("".join(buf)); buf = []
    f.write("".join(buf))
