"""Model and token usage read from an LLM response body, as `agentlog proxy` reads it.

Model
-----
The relayed body is fed chunk by chunk (kept up to `MAX_BODY` bytes; a larger body is still
relayed, but its usage is not read). At the end it is decoded (`Content-Encoding` gzip or
deflate; other codings are not read) and parsed:

- `application/json` (or `+json`): one document;
- `text/event-stream`: every event's `data`, in order, later events overriding earlier ones
  (Anthropic's `message_delta` carries the final output count; OpenAI's last chunk the usage).

From each JSON value, and from its `response` and `message` members (the responses API and
Anthropic's `message_start`): `model`, and `usage` in any of the three shapes:

| API | input tokens | output tokens |
|---|---|---|
| OpenAI chat completions | `prompt_tokens` | `completion_tokens` |
| OpenAI responses | `input_tokens` | `output_tokens` |
| Anthropic messages | `input_tokens` + `cache_creation_input_tokens` + `cache_read_input_tokens` | `output_tokens` |

plus cached input, cache creation and reasoning tokens; and, for the price of the exchange,
the service tier it states (OpenAI's `service_tier`, Anthropic's `usage.service_tier`), a
cost the provider reports (OpenRouter's `usage.cost`), Anthropic's `usage.inference_geo` and
one-hour cache writes (`usage.cache_creation.ephemeral_1h_input_tokens`). A count the body
does not carry stays absent (never zero). The body is *complete* when it carried its API's
last event: a JSON document that parses; `data: [DONE]`; `event: message_stop`; or data whose
`type` is `message_stop`, `response.completed`, `response.failed` or `response.incomplete`.
"""

import json
import zlib

MAX_BODY = 8 << 20
TERMINAL_TYPES = ("message_stop", "response.completed", "response.failed", "response.incomplete")
COUNTS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
)


class Usage:
    """What a body reported: `model` ("" when unknown) and the counts (None when absent)."""

    def __init__(self):
        self.model = ""
        self.counts = dict.fromkeys(COUNTS)
        self.service_tier = ""  # as stated: OpenAI's `service_tier`, Anthropic's `usage.service_tier`
        self.provider_cost = None  # OpenRouter's `usage.cost`, from 0 to $1,000,000
        self.inference_geo = None  # Anthropic's `usage.inference_geo`
        self.cache_creation_1h = None  # `usage.cache_creation.ephemeral_1h_input_tokens`

    def known(self):
        return self.counts["input_tokens"] is not None or self.counts["output_tokens"] is not None

    def absorb(self, value):
        if not isinstance(value, dict):
            return
        for scope in (value, value.get("response"), value.get("message")):
            if not isinstance(scope, dict):
                continue
            if isinstance(scope.get("model"), str) and scope["model"]:
                self.model = scope["model"]
            if isinstance(scope.get("service_tier"), str):
                self.service_tier = scope["service_tier"]
            if isinstance(scope.get("usage"), dict):
                self.absorb_usage(scope["usage"])

    def absorb_usage(self, usage):
        def n(key, outer=None):
            holder = usage.get(outer) if outer else usage
            v = holder.get(key) if isinstance(holder, dict) else None
            return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None

        def put(field, v):
            if v is not None:
                self.counts[field] = v

        put("input_tokens", n("prompt_tokens"))
        put("output_tokens", n("completion_tokens"))
        put("cached_input_tokens", n("cached_tokens", "prompt_tokens_details"))
        put("reasoning_tokens", n("reasoning_tokens", "completion_tokens_details"))
        put("cached_input_tokens", n("cached_tokens", "input_tokens_details"))
        put("reasoning_tokens", n("reasoning_tokens", "output_tokens_details"))
        read, creation = n("cache_read_input_tokens"), n("cache_creation_input_tokens")
        put("cached_input_tokens", read)
        put("cache_creation_input_tokens", creation)
        if n("input_tokens") is not None:
            self.counts["input_tokens"] = n("input_tokens") + (read or 0) + (creation or 0)
        put("output_tokens", n("output_tokens"))
        if isinstance(usage.get("service_tier"), str):
            self.service_tier = usage["service_tier"]
        if isinstance(usage.get("inference_geo"), str):
            self.inference_geo = None if usage["inference_geo"].lower() == "global" else usage["inference_geo"]
        cost = usage.get("cost")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool) and 0 <= cost <= 1e6:
            self.provider_cost = float(cost)
        if n("ephemeral_1h_input_tokens", "cache_creation") is not None:
            self.cache_creation_1h = n("ephemeral_1h_input_tokens", "cache_creation")


class UsageReader:
    """Feeds on a response body; `finish()` gives `(Usage, complete)`."""

    def __init__(self, content_type, content_encoding):
        ct = (content_type or "").lower()
        self.kind = "sse" if ct.startswith("text/event-stream") else (
            "json" if ct.startswith("application/json") or "+json" in ct else None
        )
        self.coding = (content_encoding or "").strip().lower()
        self.chunks = []
        self.size = 0

    def feed(self, chunk):
        self.size += len(chunk)
        if self.size <= MAX_BODY:
            self.chunks.append(chunk)

    def finish(self):
        usage = Usage()
        body = self.decoded()
        if body is None:
            return usage, False
        if self.kind == "json":
            return usage, parse_json_body(body, usage)
        return usage, parse_sse_body(body, usage)

    def decoded(self):
        if self.kind is None or self.size > MAX_BODY:
            return None
        body = b"".join(self.chunks)
        try:
            if self.coding in ("gzip", "x-gzip"):
                return zlib.decompress(body, 16 + zlib.MAX_WBITS)
            if self.coding == "deflate":
                try:
                    return zlib.decompress(body)
                except zlib.error:
                    return zlib.decompress(body, -zlib.MAX_WBITS)
        except zlib.error:
            return None
        return body if self.coding in ("", "identity") else None


def parse_json_body(body, usage):
    try:
        value = json.loads(body)
    except ValueError:
        return False
    usage.absorb(value)
    return True


def parse_sse_body(body, usage):
    """Absorbs every event's data; True when the stream carried its terminal event."""
    terminal = False
    text = body.decode("utf-8", errors="replace").replace("\r\n", "\n")
    for block in text.split("\n\n"):
        name, data = sse_event(block)
        if name == "message_stop" or data == "[DONE]":
            terminal = True
            continue
        try:
            value = json.loads(data)
        except ValueError:
            continue
        usage.absorb(value)
        if isinstance(value, dict) and value.get("type") in TERMINAL_TYPES:
            terminal = True
    return terminal


def sse_event(block):
    """(event name, data) of one SSE event block."""
    name, data = "", []
    for line in block.split("\n"):
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return name, "\n".join(data)
