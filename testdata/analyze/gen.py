#!/usr/bin/env python3
"""Writes the two small logs whose figures tests/analyze_cli.rs and
crates/analyze/tests/figures.rs compute by hand: ledger.jsonl (a tool-call ledger with a
not-JSON line, a blank line, a telemetry record and risk events) and sandbox.jsonl (v0 and v1
events with usage, costs, injections, a blocked leak and blocked gates). Run it from anywhere;
it writes next to itself. The hand-computed figures are the assertions of
crates/analyze/tests/figures.rs."""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
T0 = 1_800_000_000  # 2027-01-15T08:00:00Z, a multiple of 3600
H = 3600
h = "sha256:" + "0" * 64


def call(t, agent, tool, status, ms, err=None, flags=(), session="s1", artifacts=()):
    return {"ts": t, "session_id": session, "agent": agent, "tool": tool, "args_hash": h,
            "result_status": status, "elapsed_ms": ms, "error_class": err,
            "risk_flags": list(flags), "artifacts": list(artifacts)}


def ledger():
    rows = []
    for i in range(20):  # file_editor: 10..200 ms
        rows.append(call(T0 + 60 + i, "dev_agent", "file_editor", "success", 10 * (i + 1), artifacts=["src/a.py"]))
    for hour, ms in [(0, 5), (1, 7), (1, 9), (5, 11)]:
        rows.append(call(T0 + hour * H + 10, "research_agent", "web_fetch", "error", ms, "ConnectionError"))
    rows.append(call(T0 + 2 * H, "research_agent", "web_fetch", "timeout", 30000, "TimeoutError", ["timeout"]))
    rows.append(call(T0 + 3 * H, "dev_agent", "exec_shell", "denied", 0, flags=["path_denied"]))
    rows.append(call(T0 + 3 * H + 1, "dev_agent", "exec_shell", "denied", 0, flags=["path_denied"]))
    rows.append(call(T0 + 4 * H, "dev_agent", "exec_shell", "denied", 0, flags=["network_denied", "denial:network"], session="s2"))
    rows.append(call(T0 + 4 * H + 5, "ops_agent", "deploy", "denied", 0, flags=["high_risk_approved"]))
    rows.append(call(T0 + 4 * H + 9, "ops_agent", "deploy", "success", 4200, flags=["high_risk_approved"], artifacts=["k8s/x.yaml"]))
    # injection_attempt risk events per hour: 0:1 1:3 2:1 6:4 7:3 8:5 (spikes at hours 6 and 8)
    for hour, n in [(0, 1), (1, 3), (2, 1), (6, 4), (7, 3), (8, 5)]:
        for k in range(n):
            rows.append({"ts": T0 + hour * H + 100 + k, "session_id": "s3", "agent": "research_agent",
                         "event_type": "injection_attempt", "description": "page told the agent to ignore instructions",
                         "context_hash": h, "risk_flags": ["injection_attempt"]})
    rows.sort(key=lambda r: r["ts"])
    lines = [json.dumps(r, separators=(",", ":")) for r in rows]
    lines.insert(5, "this line is not JSON")  # line 6
    lines.insert(9, "")  # line 10
    lines.append(json.dumps({"ts": T0 + 9 * H, "event_type": "telemetry_provenance", "device_id": "d1",
                             "payload_hash": h, "signature": "x", "chain_hash": h, "prev_chain_hash": h, "metadata": {}}))
    return lines


def env(t, event_type, summary, data, plugin=None, tags=("tls",)):
    e = {"ts": t, "run_id": "vm-503ad4d1", "agent_system": "openclaw", "event_type": event_type, "summary": summary}
    if plugin:
        e["plugin"] = plugin
    if tags:
        e["tags"] = list(tags)
    e["data"] = data
    return e


def ts(sec):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + sec)) + ".5Z"


def sandbox():
    ev = []
    oa, an, orr = "api.openai.com", "api.anthropic.com", "openrouter.ai"
    for i, (st, ms, inp, out, cached, cost, src, usage) in enumerate([
            (200, 100, 10, 5, 2, 0.5, "provider", None),
            (200, 300, 20, 7, None, 0.25, "price_table", None),
            (429, 50, None, None, None, None, None, "unknown")]):
        ev.append(env(ts(i * 60), "llm_request", f"POST {oa}/v1/chat/completions",
                      {"method": "POST", "host": oa, "path": "/v1/chat/completions", "model": "gpt-4o-mini", "routed": False}))
        ev.append(env(ts(i * 60), "key_injection", f'secret "OPENAI_API_KEY" injected for {oa}',
                      {"secret_name": "OPENAI_API_KEY", "host": oa, "action": "injected"}, plugin="secret_injector"))
        d = {"method": "POST", "host": oa, "path": "/v1/chat/completions", "status_code": st, "duration_ms": ms,
             "body_bytes": 10, "model": "gpt-4o-mini"}
        for k, v in [("input_tokens", inp), ("output_tokens", out), ("cached_input_tokens", cached),
                     ("cost_usd", cost), ("cost_source", src), ("usage", usage)]:
            if v is not None:
                d[k] = v
        ev.append(env(ts(i * 60 + 1), "llm_response", f"POST {oa}/v1/chat/completions -> {st} ({ms}ms)", d))
    for i, (st, ms, inp, out, cost, usage) in enumerate([(200, 1000, 100, 50, 0.125, "partial"), (502, 20000, None, None, None, None)]):
        ev.append(env(ts(H + i * 60), "llm_request", f"POST {an}/v1/messages",
                      {"method": "POST", "host": an, "path": "/v1/messages", "model": "claude-x", "routed": False}))
        d = {"method": "POST", "host": an, "path": "/v1/messages", "status_code": st, "duration_ms": ms, "body_bytes": 0, "model": "claude-x"}
        for k, v in [("input_tokens", inp), ("output_tokens", out), ("cost_usd", cost),
                     ("cost_source", "price_table" if cost else None), ("usage", usage)]:
            if v is not None:
                d[k] = v
        ev.append(env(ts(H + i * 60 + 1), "llm_response", f"POST {an}/v1/messages -> {st} ({ms}ms)", d))
    for action in ["injected", "injected", "skipped"]:
        ev.append(env(ts(H + 120), "key_injection", f'secret "ANTHROPIC_API_KEY" {action} for {an}',
                      {"secret_name": "ANTHROPIC_API_KEY", "host": an, "action": action}, plugin="secret_injector"))
    for i in range(2):
        ev.append(env(ts(2 * H + i), "key_injection", 'secret "OPENAI_API_KEY" leak blocked for evil.example',
                      {"secret_name": "OPENAI_API_KEY", "host": "evil.example", "action": "leak_blocked"}, plugin="secret_injector"))
        ev.append(env(ts(2 * H + i), "gate_decision", "gate blocked evil.example by host_filter: host not in allowlist",
                      {"host": "evil.example", "allowed": False, "reason": "host not in allowlist"}, plugin="host_filter"))
    ev.append(env(ts(2 * H + 10), "gate_decision", f"gate allowed {oa} by host_filter", {"host": oa, "allowed": True}, plugin="host_filter"))
    ev.append(env(ts(2 * H + 11), "request_transform", f"secret_injector: injected for {oa}",
                  {"host": oa, "action": "injected", "reason": f"2 secret(s) injected for {oa}"}, plugin="secret_injector"))
    ev.append(env(ts(3 * H), "http_request", f"POST {orr}/v1/chat/completions",
                  {"method": "POST", "host": orr, "path": "/v1/chat/completions", "routed": False}))
    ev.append(env(ts(3 * H + 1), "http_response", f"POST {orr}/v1/chat/completions -> 200 (200ms)",
                  {"method": "POST", "host": orr, "path": "/v1/chat/completions", "status_code": 200, "duration_ms": 200,
                   "body_bytes": 5, "model": "gpt-oss:20b", "input_tokens": 1, "output_tokens": 1, "cost_usd": 0.0012,
                   "cost_source": "provider"}))
    ev.append(env(ts(3 * H + 2), "budget_action", "budget warn", {"action": "warn"}, tags=()))
    lines = [json.dumps(e, separators=(",", ":")) for e in ev]
    lines.insert(3, '{"ts": "2027-01-15T08:00:00Z", "broken": ')  # line 4: torn JSON
    return lines


for name, lines in [("ledger.jsonl", ledger()), ("sandbox.jsonl", sandbox())]:
    with open(os.path.join(here, name), "w") as f:
        f.write("\n".join(lines) + "\n")
