"""The v0 event log the proxy writes: one JSON object per line (schema/v0/envelope.json).

Model
-----
Every event has the envelope `ts` (RFC 3339 in UTC, microseconds with trailing zeros
dropped, as Go's RFC3339Nano writes it), `run_id`, `agent_system`, `event_type`, `summary`,
then `plugin` and `tags` when not empty, then `data`. The four v0 types and their summaries
are the reference's (`crates/core/src/event/data.rs`):

| event_type | plugin | summary |
|---|---|---|
| `key_injection` | `secret_injector` | `secret "NAME" injected for HOST` (`skipped for`, `leak blocked for`) |
| `llm_request` | | `METHOD HOSTPATH` |
| `llm_response` | | `METHOD HOSTPATH -> STATUS (MSms)` |

Request and response events carry the tag `tls` (inside a CONNECT tunnel) or `http` (a plain
proxy request); so does `key_injection`.

Lines are written whole under one lock and flushed at once, so a log read after the proxy
exits (or while it runs) holds only complete lines. As a last guard, a line that would hold
the value of a configured secret has it replaced by `[REDACTED]` (the proxy never puts one
there: events name secrets, never their values).
"""

import json
import threading
from datetime import datetime, timezone

INJECTION_VERBS = {"injected": "injected", "skipped": "skipped", "leak_blocked": "leak blocked"}


def rfc3339_now():
    now = datetime.now(timezone.utc)
    text = now.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{now.microsecond:06d}".rstrip("0")
    return text + ("." + fraction if fraction else "") + "Z"


class EventLog:
    """An append-only JSON Lines file shared by every connection thread."""

    def __init__(self, path, run_id, agent_system, secret_values):
        self.file = open(path, "a", encoding="utf-8")
        self.run_id = run_id
        self.agent_system = agent_system
        self.secret_values = [v for v in secret_values if v]
        self.lock = threading.Lock()

    def write(self, event_type, summary, data, plugin="", tags=()):
        event = {
            "ts": rfc3339_now(),
            "run_id": self.run_id,
            "agent_system": self.agent_system,
            "event_type": event_type,
            "summary": summary,
        }
        if plugin:
            event["plugin"] = plugin
        if tags:
            event["tags"] = list(tags)
        event["data"] = data
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        for value in self.secret_values:
            line = line.replace(value, "[REDACTED]")
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()

    def key_injection(self, secret_name, host, action, tag):
        summary = f'secret "{secret_name}" {INJECTION_VERBS[action]} for {host}'
        data = {"secret_name": secret_name, "host": host, "action": action}
        self.write("key_injection", summary, data, "secret_injector", (tag,))

    def llm_request(self, exchange, model):
        data = {"method": exchange.method, "host": exchange.host, "path": exchange.path}
        if model:
            data["model"] = model
        data["routed"] = False
        summary = f"{exchange.method} {exchange.host}{exchange.path}"
        self.write("llm_request", summary, data, tags=(exchange.tag,))

    def llm_response(self, exchange, status, duration_ms, body_bytes, usage, complete):
        """`usage` is a usage.Usage; `complete`: the body carried its last event."""
        data = {
            "method": exchange.method,
            "host": exchange.host,
            "path": exchange.path,
            "status_code": status,
            "duration_ms": duration_ms,
            "body_bytes": body_bytes,
        }
        if usage.model:
            data["model"] = usage.model
        data.update({k: v for k, v in usage.counts.items() if v is not None})
        if not usage.known():
            data["usage"] = "unknown"
        elif not complete:
            data["usage"] = "partial"
        summary = (
            f"{exchange.method} {exchange.host}{exchange.path} -> {status} ({duration_ms}ms)"
        )
        self.write("llm_response", summary, data, tags=(exchange.tag,))

    def close(self):
        with self.lock:
            self.file.flush()
            self.file.close()
