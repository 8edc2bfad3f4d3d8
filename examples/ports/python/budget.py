"""The spend budget (`--budget-usd`), as `agentlog proxy` keeps it (docs/proxy.md, "Usage,
cost and the budget gate").

Model
-----
Before a *billable* request to an LLM host is forwarded, its **worst case** is reserved:
a request that could take `spent + reserved` past the limit is refused (429, `budget_action`
`blocked`) and never reaches the upstream. When the exchange ends the reservation is replaced
by what it is charged (`charge`). Billable: every method but a `GET`, `HEAD`, `OPTIONS`,
`DELETE` or `TRACE` without a method-override header (`X-HTTP-Method-Override`, ...) and
without `Upgrade: websocket`.

The worst case (`worst_case`) of a request body:

- the largest output limit it sets (`max_tokens`, `max_output_tokens`,
  `max_completion_tokens`, `thinking.budget_tokens`, Gemini's
  `generationConfig.maxOutputTokens`), else the model's `max_output_tokens` in the price
  table, else 4096; times the completions asked for (the largest of `n`, `best_of`,
  `candidateCount`, at least 1; times the prompts of a legacy completion's list `prompt`);
  at the output price;
- plus the body's bytes as input tokens at the input price (a token is at least a byte); a
  body that continues stored content (`previous_response_id`, `conversation`, a stored
  `prompt`, an `item_reference`, a file by id) at least 2^20 input tokens;
- at the `priority` prices when `service_tier` asks for them, else the standard ones; times
  the entry's largest regional multiplier;
- a model the table does not price, or none named, at the dearest entry's worst case (each
  entry with its own output limit); a model named in the path (`/models/M:generateContent`)
  is the model, whatever the body says.
- **Unbounded** (refused under a budget): a body that looks like JSON but does not parse (or
  is not UTF-8), a `Content-Encoding` other than `gzip`/`deflate` (`br` and `zstd` are
  outside the standard library, so this port refuses them where the reference decodes
  them), a body that does not decode or decodes past the request body limit, a WebSocket
  upgrade, an endpoint outside those the gate can price (chat completions, completions,
  responses, messages, embeddings, Gemini's and Bedrock's generation endpoints, Ollama's),
  one that starts stored work (fine-tuning, threads, vector stores, any job, ...), a path
  that may route elsewhere than it ends (a decoded `?`, `#`, NUL, `\\`, `;`, a segment ending
  in a space or a dot), and batches: Anthropic's inline Message Batches is reserved as the
  sum of its requests at the batch prices, any other batch endpoint is unbounded.

Paths are judged without the query, percent-decoded (repeatedly), lower-cased, with dot
segments resolved. Counts are read as a provider would: a non-negative number (a fraction
rounded up) or a string holding one, capped at 2^53.

What an exchange is charged (`charge`): nothing when the request provably never left (the
upstream connect or TLS handshake failed); its reservation when it was sent and no response
head came back; with a response, its cost when the usage is complete and priced, nothing for
an error status (not 2xx or 101) that reported no usage, the larger of cost and reservation
for a partial usage, else the reservation (`cost_source` `reservation`). One `budget_action`
`warn` when spend first reaches the warning fraction (`--budget-warn-at`, 0.8).

At start-up the spend already in the event log (`cost_usd` and the tokens of every
`llm_response` and `http_response`) is counted, so a restart does not reset the budget.
"""

import json
import math
import threading
import urllib.parse
import zlib
from decimal import Decimal

from prices import Tokens

DEFAULT_MAX_OUTPUT_TOKENS = 4096
MAX_COUNT = 1 << 53
MAX_CONTEXT_TOKENS = 1 << 20
OUTPUT_LIMITS = ("max_tokens", "max_output_tokens", "max_completion_tokens")
READS = ("GET", "HEAD", "OPTIONS", "DELETE", "TRACE")
OVERRIDES = ("x-http-method-override", "x-http-method", "x-method-override")
PRICED_ENDPOINTS = (
    "/chat/completions", "/completions", "/responses", "/responses/input_tokens",
    "/messages", "/messages/count_tokens", "/messages/batches", "/embeddings",
    ":generatecontent", ":streamgeneratecontent", ":counttokens", ":embedcontent",
    "/invoke", "/invoke-with-response-stream", "/converse", "/converse-stream",
    "/api/chat", "/api/generate",
)
STORED_WORK = (
    "/fine_tuning/", "/fine-tuning/", "/evals", "/vector_stores", "/threads", "/assistants",
    "/videos", "/containers", "/tunedmodels", "/cachedcontents", "/ragcorpora", ":import",
)


def usd_text(x):
    """A dollar amount as Rust's `Display` writes an f64: `0`, `0.000001`, `1.5`."""
    if math.isfinite(x) and x == int(x):
        return str(int(x))
    return format(Decimal(repr(x)), "f")


def billable(method, headers):
    names = {k.lower() for k, _ in headers}
    upgrade = any(k.lower() == "upgrade" and "websocket" in v.lower() for k, v in headers)
    return method not in READS or bool(names & set(OVERRIDES)) or upgrade


# ---------------------------------------------------------------------------------------------
# What a request asks for


class Facts:
    def __init__(self, model="", max_output=None, completions=1, tier="standard", body_bytes=0):
        self.model, self.max_output, self.completions = model, max_output, completions
        self.tier, self.body_bytes = tier, body_bytes
        self.batch = None  # Anthropic's inline batch: the Facts of each request
        self.unbounded = False

    def requested_tier(self):
        return "batch" if self.batch is not None else self.tier

    def tokens(self, model_limit):
        per = self.max_output if self.max_output is not None else model_limit
        per = min(per if per is not None else DEFAULT_MAX_OUTPUT_TOKENS, MAX_COUNT)
        return Tokens(input=self.body_bytes, output=per * max(1, min(self.completions, MAX_COUNT)))


def count(value):
    """A count field as a provider reads it; None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return min(value, MAX_COUNT) if value >= 0 else None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, float) or not math.isfinite(value) or value < 0:
        return None
    return MAX_COUNT if math.ceil(value) >= MAX_COUNT else math.ceil(value)


def facts_of_value(parsed, body_bytes):
    obj = parsed if isinstance(parsed, dict) else {}
    thinking = obj.get("thinking")
    generation = obj.get("generationConfig", obj.get("generation_config"))
    generation = generation if isinstance(generation, dict) else {}

    def gen(camel, snake):
        found = [c for c in (count(generation.get(camel)), count(generation.get(snake))) if c is not None]
        return max(found) if found else None

    limits = [count(obj.get(k)) for k in OUTPUT_LIMITS]
    limits.append(count(thinking.get("budget_tokens")) if isinstance(thinking, dict) else None)
    limits.append(gen("maxOutputTokens", "max_output_tokens"))
    limits = [n for n in limits if n is not None]
    per_prompt = max([1] + [n for n in (count(obj.get("n")), count(obj.get("best_of")), gen("candidateCount", "candidate_count")) if n is not None])
    prompt = obj.get("prompt")
    prompts = 1
    if isinstance(prompt, list) and any(isinstance(p, (str, list)) for p in prompt):
        prompts = min(max(len(prompt), 1), MAX_COUNT)
    stored = (
        obj.get("previous_response_id") is not None
        or obj.get("conversation") is not None
        or (isinstance(prompt, dict) and "id" in prompt)
        or refers_to_stored(parsed)
    )
    model = obj.get("model")
    return Facts(
        model=model if isinstance(model, str) else "",
        max_output=max(limits) if limits else None,
        completions=per_prompt * prompts,
        tier="priority" if obj.get("service_tier") == "priority" else "standard",
        body_bytes=max(body_bytes, MAX_CONTEXT_TOKENS) if stored else body_bytes,
    )


def refers_to_stored(value):
    if isinstance(value, list):
        return any(refers_to_stored(v) for v in value)
    if isinstance(value, dict):
        return (
            value.get("type") in ("item_reference", "file")
            or any(k in value for k in ("file_id", "fileUri", "file_uri"))
            or any(refers_to_stored(v) for v in value.values())
        )
    return False


def no_constants(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(body):
    """The parsed body, or None: strict UTF-8 JSON (no NaN), as the reference's reader."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def looks_like_json(body):
    head = body[:8]
    if head.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in head:
        return True
    stripped = body.lstrip(b" \t\r\n\x0c")
    return stripped[:1] in (b"{", b"[")


def facts_of_body(body):
    data = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    parsed = parse_json(data)
    facts = facts_of_value(parsed, len(body))
    facts.unbounded = parsed is None and looks_like_json(data)
    return facts


def routed_path(path):
    path = path.split("?")[0].split("#")[0]
    current = path.lower()
    for _ in range(4):
        decoded = urllib.parse.unquote(current, errors="replace")
        if decoded == current:
            break
        current = decoded.lower()
    segments = []
    for segment in current.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    return "/" + "/".join(segments)


def ambiguous(path):
    return any(c in path for c in "?#\0\\;") or any(
        s.endswith((" ", ".")) or s.startswith(" ") for s in path.split("/")
    )


def stored_work(path):
    slashed = path + "/"
    return any(s in slashed for s in STORED_WORK) or any("job" in s for s in slashed.split("/"))


def model_in_path(path):
    _, found, rest = path.rpartition("/models/")
    if not found:
        return None
    model, colon, _ = rest.partition(":")
    return model if colon and model and "/" not in model else None


def facts_of_request(path, body):
    routed = routed_path(path).rstrip("/")
    if ambiguous(routed) or not routed.endswith(PRICED_ENDPOINTS) or stored_work(routed):
        facts = facts_of_body(body)
        facts.unbounded = True
    elif routed.endswith("/messages/batches"):
        parsed = parse_json(body)
        facts = facts_of_value(parsed, len(body))
        requests = parsed.get("requests") if isinstance(parsed, dict) else None
        if isinstance(requests, list):
            facts.batch = [batched(r) for r in requests]
        facts.unbounded = parsed is None
    else:
        facts = facts_of_body(body)
    model = model_in_path(routed)
    if model:
        facts.model = model
    return facts


def batched(request):
    params = request.get("params") if isinstance(request, dict) else None
    size = 0 if params is None else len(json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode())
    facts = facts_of_value(params, size)
    facts.tier = "batch"
    return facts


def facts_of_encoded(path, encodings, body, cap):
    """Facts of a body sent with `Content-Encoding` lines `encodings` (see the model)."""
    codings = [c.strip().lower() for e in encodings for c in e.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return facts_of_request(path, body)
    decoded = None
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
    if len(codings) == 1 and codings[0] in wbits:
        try:
            d = zlib.decompressobj(wbits[codings[0]])
            decoded = d.decompress(body, cap + 1)
            if not d.eof or d.unused_data:
                decoded = None
        except zlib.error:
            decoded = None
    if decoded is None or len(decoded) > cap:
        facts = facts_of_request(path, b"")
        facts.body_bytes = max(len(body), cap)
        facts.unbounded = True
        return facts
    return facts_of_request(path, decoded)


def worst_case(facts, prices):
    if facts.unbounded:
        return math.inf
    if facts.batch is not None:
        return sum(worst_case(r, prices) for r in facts.batch)
    found = prices.lookup(facts.model)
    if found is not None:
        return found.cost_usd(facts.tokens(found.max_output_tokens), facts.tier) * found.max_surcharge()
    return max(
        [0.0] + [p.cost_usd(facts.tokens(p.max_output_tokens), facts.tier) * p.max_surcharge() for p in prices.prices()]
    )


# ---------------------------------------------------------------------------------------------
# The budget


class Standing:
    def __init__(self, spent, tokens, remaining):
        self.spent, self.tokens, self.remaining = spent, tokens, remaining


class Budget:
    def __init__(self, limit, warn_at=0.8, spent=0.0, tokens=0):
        self.limit = limit
        self.warn_at = min(max(warn_at, 0.0), 1.0)
        self.spent, self.tokens, self.reserved = max(spent, 0.0), tokens, 0.0
        self.warned = self.spent >= self.warn_at * limit
        self.lock = threading.Lock()

    def standing(self):
        return Standing(self.spent, self.tokens, max(self.limit - self.spent, 0.0))

    def reserve(self, worst):
        """(reserved amount, None), or (None, standing) when it could pass the limit."""
        worst = max(worst, 0.0) if math.isfinite(worst) else 1.7976931348623157e308
        with self.lock:
            if self.spent + self.reserved + worst > self.limit:
                return None, self.standing()
            self.reserved += worst
            return worst, None

    def settle(self, reserved, charged, tokens):
        """(standing, crossed the warning line just now)."""
        charged = max(charged, 0.0) if math.isfinite(charged) else 0.0
        with self.lock:
            self.reserved = max(self.reserved - reserved, 0.0)
            self.spent += charged
            self.tokens += tokens
            crossed = not self.warned and self.spent >= self.warn_at * self.limit
            self.warned |= crossed
            return self.standing(), crossed

    def release(self, reserved):
        if reserved is not None:
            self.settle(reserved, 0.0, 0)


NOT_SENT, SENT, ANSWERED = "not_sent", "sent", "answered"


def charge(status, usage_state, cost, reserved, reach):
    """(amount charged, whether it is the reservation standing in for an unknown cost)."""
    if reach == NOT_SENT:
        return 0.0, False
    if reach == SENT:
        return reserved, True
    success = 200 <= status < 300 or status == 101
    if usage_state == "" and cost is not None:
        return cost, False
    if usage_state == "unknown" and not success:
        return 0.0, False
    if usage_state == "partial" and cost is not None and cost >= reserved:
        return cost, False
    return reserved, True


def restore_from_log(path):
    """(spent, tokens) already in the event log at `path` (absent: nothing)."""
    spent, tokens = 0.0, 0
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return spent, tokens
    with f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            data = event.get("data") if isinstance(event, dict) else None
            if event.get("event_type") not in ("llm_response", "http_response") or not isinstance(data, dict):
                continue
            cost = data.get("cost_usd")
            if isinstance(cost, (int, float)) and not isinstance(cost, bool) and math.isfinite(cost) and cost > 0:
                spent += cost
            for k in ("input_tokens", "output_tokens"):
                if isinstance(data.get(k), int) and not isinstance(data.get(k), bool) and data[k] > 0:
                    tokens += data[k]
    return spent, tokens

