"""The event log the proxy writes: one JSON object per line, profile v0 or v1
(schema/v0/envelope.json, schema/v1/envelope.json).

Model
-----
Every event has the envelope `ts` (RFC 3339 in UTC, microseconds with trailing zeros
dropped, as Go's RFC3339Nano writes it), `run_id`, `agent_system`, `event_type`, `summary`,
then `plugin` and `tags` when not empty, then `data`. The types, plugins and summaries are the
reference's (`crates/core/src/event/data.rs`, `crates/intercept/src/proxy/events.rs`):

| what happened | v0 | v1 |
|---|---|---|
| host gate decided (`--allow-host`) | (no gate) | `gate_decision`, plugin `host_filter`: `gate allowed H by host_filter`, `gate blocked H by host_filter: REASON` |
| route decided (`--route`) | (no routes) | `route_decision`, plugin `local_model_router`: `route redirected H -> T by local_model_router`, `route passthrough H by ...` |
| secrets injected or skipped | `key_injection` per secret, plugin `secret_injector`: `secret "NAME" injected for H` (`skipped for`) | one `request_transform`, plugin `secret_injector`: `secret_injector: injected for H`, reason `N secret(s) injected for H` (`skipped` when none was injected) |
| placeholder leak refused | `key_injection` `leak_blocked` per secret (`leak blocked for`) | one `request_transform` `leak_blocked`, reason `placeholder of A, B not allowed for H` |
| refused by the budget | `budget_action` `blocked`, plugin `budget_gate` | `gate_decision` of plugin `budget_gate`, then the same `budget_action` |
| request forwarded | `llm_request`, LLM hosts only: `METHOD HOSTPATH` | `http_request`, every request (path percent-decoded) |
| usage read from the response | tokens on `llm_response` | `response_transform` `logged_usage`, plugin `usage_logger`: `recorded 12 input and 5 output tokens for MODEL` |
| response relayed | `llm_response`, LLM hosts only: `METHOD HOSTPATH -> STATUS (MSms)` | `http_response`, every request |
| spend reached the warning line | `budget_action` `warn` | the same |

Request and response events carry the tag `tls` (inside a CONNECT tunnel) or `http` (a plain
proxy request); so does v0's `key_injection`; decisions, transforms and budget actions carry
none. `budget_action` omits `tokens_used`, `cost_usd` and `remaining` when zero.

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

    def __init__(self, path, run_id, agent_system, secret_values, profile="v0"):
        self.file = open(path, "a", encoding="utf-8")
        self.run_id = run_id
        self.agent_system = agent_system
        self.secret_values = [v for v in secret_values if v]
        self.v1 = profile == "v1"
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

    def injections(self, outcomes, host, tag):
        """The injector's outcome `[(secret name, action)]` for a request bound for `host`."""
        if not self.v1:
            for name, action in outcomes:
                self.key_injection(name, host, action, tag)
            return
        if not outcomes:
            return
        injected = sum(1 for _, action in outcomes if action == "injected")
        action, n = ("injected", injected) if injected else ("skipped", len(outcomes))
        self.request_transform(host, action, f"{n} secret(s) {action} for {host}")

    def leaks(self, names, host, tag):
        """The secrets whose placeholders a refused request carried."""
        if not self.v1:
            for name in names:
                self.key_injection(name, host, "leak_blocked", tag)
            return
        reason = f"placeholder of {', '.join(names)} not allowed for {host}"
        self.request_transform(host, "leak_blocked", reason)

    def request_transform(self, host, action, reason, plugin="secret_injector"):
        data = {"host": host, "action": action, "reason": reason}
        self.write("request_transform", f"{plugin}: {action} for {host}", data, plugin)

    def response_transform(self, host, action, reason, plugin="usage_logger"):
        data = {"host": host, "action": action, "reason": reason}
        self.write("response_transform", f"{plugin}: {action} for {host}", data, plugin)

    def gate_decision(self, host, plugin, allowed, reason="", pattern=""):
        data = {"host": host, "allowed": allowed}
        if reason:
            data["reason"] = reason
        if pattern:
            data["pattern"] = pattern
        verdict = f"gate allowed {host} by {plugin}" if allowed else f"gate blocked {host} by {plugin}: {reason}"
        self.write("gate_decision", verdict, data, plugin)

    def route_decision(self, host, action, routed_to, reason, plugin="local_model_router"):
        data = {"host": host, "action": action}
        if routed_to:
            data["routed_to"] = routed_to
        data["reason"] = reason
        to = f" -> {routed_to}" if routed_to else ""
        self.write("route_decision", f"route {action} {host}{to} by {plugin}", data, plugin)

    def budget_action(self, action, standing):
        data = {"action": action}
        if standing.tokens:
            data["tokens_used"] = standing.tokens
        if standing.spent:
            data["cost_usd"] = standing.spent
        if standing.remaining:
            data["remaining"] = standing.remaining
        self.write("budget_action", f"budget {action}", data, "budget_gate")

    def request(self, exchange, model, reserved_usd=None):
        """`llm_request` (v0) or `http_request` (v1)."""
        data = {"method": exchange.method, "host": exchange.host, "path": exchange.path}
        if model:
            data["model"] = model
        data["routed"] = bool(exchange.routed_to)
        if exchange.routed_to:
            data["routed_to"] = exchange.routed_to
        if reserved_usd is not None:
            data["reserved_usd"] = reserved_usd
        summary = f"{exchange.method} {exchange.host}{exchange.path}"
        event_type = "http_request" if self.v1 else "llm_request"
        self.write(event_type, summary, data, tags=(exchange.tag,))

    def response(self, exchange, status, duration_ms, body_bytes, usage=None, state="", cost=None):
        """`llm_response` (v0) or `http_response` (v1). `usage` is a usage.Usage (None when
        the response was not read: not an LLM host), `state` `unknown`, `partial` or "", and
        `cost` (usd, source, tier) or None."""
        data = {
            "method": exchange.method,
            "host": exchange.host,
            "path": exchange.path,
            "status_code": status,
            "duration_ms": duration_ms,
            "body_bytes": body_bytes,
        }
        if usage is not None:
            if usage.model:
                data["model"] = usage.model
            data.update({k: v for k, v in usage.counts.items() if v is not None})
        if state:
            data["usage"] = state
        if cost is not None:
            usd, source, tier = cost
            data["cost_usd"] = usd
            data["cost_source"] = source
            if tier:
                data["service_tier"] = tier
        summary = (
            f"{exchange.method} {exchange.host}{exchange.path} -> {status} ({duration_ms}ms)"
        )
        event_type = "http_response" if self.v1 else "llm_response"
        self.write(event_type, summary, data, tags=(exchange.tag,))

    def close(self):
        with self.lock:
            self.file.flush()
            self.file.close()
