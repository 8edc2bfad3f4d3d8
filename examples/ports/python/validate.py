#!/usr/bin/env python3
"""A second implementation of `agentlog validate` (v0, v1, ledger), standard library only.

Model
-----
An event log is JSON Lines: every line is one event, a JSON object with the envelope
(`schema/v0/envelope.json`, `schema/v1/envelope.json`): `ts`, `run_id`, `agent_system`,
`event_type`, `summary` (required, non-empty strings; under v1 `agent_system` may be `""`,
a warning), `plugin` (optional non-empty string), `tags` (optional array of non-empty
strings) and `data` (optional object whose shape `event_type` selects). The envelope is
closed: any other field is an error. v0 defines `llm_request`, `llm_response`, v1
`http_request`, `http_response`, `gate_decision`, `route_decision`, `request_transform`,
`response_transform`; both define `budget_action` and `key_injection`.

A tool-call ledger (`schema/ledger/v1/tool_call.schema.json`) holds one closed tool-call
record per line, checked with the `ledger.*` rules; an object that is not a tool call (none
of `tool`, `result_status`, `args_hash`) is one `ledger.record_kind`.

Each line goes through the same stages as in the reference validator, and each stage reports
findings `(line, rule, severity)` with the reference's rule ids:

1. bytes: `line.utf8`, `line.bom`, `line.crlf`, `line.blank`, `line.torn`;
2. secrets, on the raw text: `secret.value` (a supplied secret, raw or encoded) and
   `secret.pattern` (a well-known credential format), see `secret_scan.py`;
3. JSON: `json.depth`, `json.syntax`, `json.duplicate_key`, `json.not_object`;
4. envelope: `envelope.missing`, `envelope.type`, `envelope.empty`, `envelope.unknown_field`,
   `envelope.agent_system_unknown` (warning), `ts.format`, `ts.backwards` (warning),
   `run_id.multiple` (warning), `event_type.unknown`, `profile.mixed`; or, in a ledger,
   `ledger.required`, `ledger.type`, `ledger.invalid`, `ledger.args_hash`,
   `ledger.risk_flag`, `ledger.undeclared_field`, `ledger.record_kind`, `ts.backwards`;
5. data, for the types of v0 and v1: `data.required`, `data.type`, `data.invalid`;
6. pairing, across lines: a request event (`llm_request`, `http_request`) and its response
   event (`llm_response`, `http_response`) carry the same `data.exchange_id`; a request no
   response answers by the end of the file is `exchange.unanswered`, a response no request
   before it awaits is `exchange.orphan_response` (both warnings; see `Pairing`).

A file without events is `input.empty` on line 0 unless `--allow-empty`.

Profiles: `--profile v0|v1|ledger` checks every line under that profile (under v0 a v1 type
is an unknown event type, and the reverse; under ledger an event is `ledger.record_kind`;
under v0/v1 a ledger record gets the envelope findings). `--profile auto` (the default)
chooses per file: the first JSON object decides the log family (a ledger when it has no
`run_id` or `agent_system` and one of the ledger's keys), and an event log is checked under
the family of its first v0-only or v1-only type (v0 when there is none). A later line of the
other log family is one `profile.mixed` and is not checked further; a type of the other
event-log profile is `profile.mixed` (its data still checked against its own schema). The
verdicts that depend on the profile (an empty `agent_system`, a family-only type) wait for
the end of the file (`FileState.pending`).

Output: agentlog's JSON report (`--format json`, the default here) or one text line per
finding. Exit 0 without errors, 1 with errors, 2 on usage errors or a file that cannot be read.
"""

import argparse
import json
import re
import sys
from collections import deque
from datetime import datetime

import secret_scan

V0_ONLY_TYPES = ("llm_request", "llm_response")
V1_ONLY_TYPES = (
    "http_request",
    "http_response",
    "gate_decision",
    "route_decision",
    "request_transform",
    "response_transform",
)
SHARED_TYPES = ("budget_action", "key_injection")
# The event types each event-log profile defines.
PROFILE_TYPES = {"v0": V0_ONLY_TYPES + SHARED_TYPES, "v1": V1_ONLY_TYPES + SHARED_TYPES}
PROFILES = ("auto", "v0", "v1", "ledger")
# Keys only ledger records have (tool calls; the public implementation's risk-event and
# telemetry-provenance records), and the keys of a tool call among them.
LEDGER_KEYS = ("tool", "result_status", "args_hash", "context_hash", "payload_hash", "chain_hash")
TOOL_CALL_KEYS = ("tool", "result_status", "args_hash")
# Keys of the event envelope that no ledger record has.
ENVELOPE_KEYS = ("run_id", "agent_system")
REQUEST_TYPES = ("llm_request", "http_request")
RESPONSE_TYPES = ("llm_response", "http_response")
# Most requests and responses the pairing check holds at once (the reference's cap).
HELD_CAP = 65536
EXCHANGE_ID = "/data/exchange_id"
REQUIRED = ("ts", "run_id", "agent_system", "event_type", "summary")
OPTIONAL = ("plugin", "tags", "data")
MAX_DEPTH = 128
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)

# The v0 data schemas (schema/v0/*.json) as a table: field -> (JSON type, check).
# Checks: "nonempty" (minLength 1), "min0" (minimum 0), or a tuple of allowed values.
STRING, INTEGER, NUMBER, BOOLEAN = "string", "integer", "number", "boolean"
DATA_SCHEMAS = {
    "llm_request": {
        "required": ("method", "host", "path", "routed"),
        "fields": {
            "method": (STRING, "nonempty"),
            "host": (STRING, "nonempty"),
            "path": (STRING, "nonempty"),
            "model": (STRING, "nonempty"),
            "routed": (BOOLEAN, None),
            "routed_to": (STRING, "nonempty"),
            "exchange_id": (STRING, "nonempty"),
            "reserved_usd": (NUMBER, "min0"),
        },
    },
    "llm_response": {
        "required": ("method", "host", "path", "status_code", "duration_ms", "body_bytes"),
        "fields": {
            "method": (STRING, "nonempty"),
            "host": (STRING, "nonempty"),
            "path": (STRING, "nonempty"),
            "status_code": (INTEGER, "min0"),
            "duration_ms": (INTEGER, "min0"),
            "body_bytes": (INTEGER, "min0"),
            "model": (STRING, "nonempty"),
            "input_tokens": (INTEGER, "min0"),
            "output_tokens": (INTEGER, "min0"),
            "cached_input_tokens": (INTEGER, "min0"),
            "cache_creation_input_tokens": (INTEGER, "min0"),
            "reasoning_tokens": (INTEGER, "min0"),
            "cost_usd": (NUMBER, "min0"),
            "cost_source": (STRING, ("provider", "price_table", "reservation")),
            "service_tier": (STRING, ("standard", "priority", "flex", "batch")),
            "usage": (STRING, ("unknown", "partial")),
            "exchange_id": (STRING, "nonempty"),
        },
        # dependentRequired: a field present requires the other.
        "together": (("cost_usd", "cost_source"),),
    },
    "budget_action": {
        "required": ("action",),
        "fields": {
            "action": (STRING, "nonempty"),
            "tokens_used": (INTEGER, "min0"),
            "cost_usd": (NUMBER, "min0"),
            "remaining": (NUMBER, None),
            "exchange_id": (STRING, "nonempty"),
        },
    },
    "key_injection": {
        "required": ("secret_name", "host", "action"),
        "fields": {
            "secret_name": (STRING, "nonempty"),
            "host": (STRING, "nonempty"),
            "action": (STRING, ("injected", "skipped", "leak_blocked")),
            "exchange_id": (STRING, "nonempty"),
        },
    },
}



def path_may_be_empty(schema):
    """`schema` with `path` a string of any length (v1's http_* types)."""
    fields = dict(schema["fields"], path=(STRING, None))
    return dict(schema, fields=fields)


# The v1 data schemas (schema/v1/*.json): http_request and http_response are v0's
# llm_request and llm_response with a `path` that may be empty; budget_action and
# key_injection are shared (identical schemas).
DATA_SCHEMAS.update({
    "http_request": path_may_be_empty(DATA_SCHEMAS["llm_request"]),
    "http_response": path_may_be_empty(DATA_SCHEMAS["llm_response"]),
    "gate_decision": {
        "required": ("host", "allowed"),
        "fields": {
            "host": (STRING, "nonempty"),
            "allowed": (BOOLEAN, None),
            "reason": (STRING, "nonempty"),
            "pattern": (STRING, "nonempty"),
            "exchange_id": (STRING, "nonempty"),
        },
    },
    "route_decision": {
        "required": ("host", "action"),
        "fields": {
            "host": (STRING, "nonempty"),
            "action": (STRING, ("passthrough", "redirected")),
            "routed_to": (STRING, "nonempty"),
            "reason": (STRING, "nonempty"),
            "exchange_id": (STRING, "nonempty"),
        },
    },
})
for _transform in ("request_transform", "response_transform"):
    DATA_SCHEMAS[_transform] = {
        "required": ("host", "action"),
        "fields": {
            "host": (STRING, "nonempty"),
            "action": (STRING, "nonempty"),
            "reason": (STRING, "nonempty"),
            "exchange_id": (STRING, "nonempty"),
        },
    }

# The tool-call ledger record (schema/ledger/v1/tool_call.schema.json), closed.
LEDGER_FIELDS = ("ts", "session_id", "agent", "tool", "args_hash", "result_status",
                 "elapsed_ms", "error_class", "risk_flags", "artifacts")
RESULT_STATUSES = ("success", "error", "denied", "timeout")
RISK_FLAGS = ("injection_attempt", "secret_attempt", "path_denied", "network_denied",
              "sandbox_violation", "timeout", "high_risk_approved")
ARGS_HASH = re.compile(r"sha256:[0-9a-f]{64}")
# Inclusive bounds of the integer fields: ts up to 9999-12-31T23:59:59Z, elapsed_ms up to
# 2^53 - 1.
LEDGER_INTEGERS = {"ts": 253402300799, "elapsed_ms": 9007199254740991}
# A ledger ts the ordering check reads (Unix seconds of the years 0 to 9999).
UNIX_YEAR_0, UNIX_YEAR_9999_END = -62167219200, 253402300799


class DuplicateKey(Exception):
    """Raised by the object hook: carries the repeated keys."""


class Report:
    """The findings of one file."""

    def __init__(self, path):
        self.path = path
        self.lines = 0
        self.events = 0
        self.profile = "v0"
        self.findings = []

    def add(self, line, rule, severity="error", message="", pointer=None):
        self.findings.append(
            {"line": line, "rule": rule, "severity": severity, "pointer": pointer,
             "message": message}
        )


class Pairing:
    """The pairing check: requests and responses matched by `data.exchange_id`, in line order.

    Ids are matched first in, first out. A response that no held request matches waits in
    `orphans` for a later request with its id (then it is reported naming that request's
    line, and the request counts as answered). At most HELD_CAP entries are held; past that
    the check stops growing and says so once.
    """

    def __init__(self):
        self.open = {}  # id -> deque of (line, type) awaiting a response
        self.orphans = {}  # id -> list of (line, type) awaiting a later request
        self.held = 0
        self.capped = False

    def see(self, report, n, event_type, exchange_id):
        if event_type in REQUEST_TYPES:
            self.request(report, n, event_type, exchange_id)
        elif event_type in RESPONSE_TYPES:
            self.response(report, n, event_type, exchange_id)

    def request(self, report, n, event_type, exchange_id):
        responses = self.orphans.pop(exchange_id, None)
        if responses is not None:
            self.held -= len(responses)
            for line, kind in responses:
                report.add(line, "exchange.orphan_response", "warning",
                           f"{kind} answers no request before it: a request with its "
                           f"exchange_id comes later, at line {n}", EXCHANGE_ID)
            return
        if self.full(report, n, "exchange.unanswered"):
            return
        self.held += 1
        self.open.setdefault(exchange_id, deque()).append((n, event_type))

    def response(self, report, n, event_type, exchange_id):
        requests = self.open.get(exchange_id)
        if requests:
            requests.popleft()
            if not requests:
                del self.open[exchange_id]
            self.held -= 1
            return
        if self.capped or self.full(report, n, "exchange.orphan_response"):
            return
        self.held += 1
        self.orphans.setdefault(exchange_id, []).append((n, event_type))

    def full(self, report, n, rule):
        if self.held < HELD_CAP:
            return False
        if not self.capped:
            self.capped = True
            report.add(n, rule, "warning",
                       f"not paired: the pairing check holds at most {HELD_CAP} requests "
                       "and responses at once; from this line on it stops growing")
        return True

    def finish(self, report, last):
        for requests in self.open.values():
            for line, kind in requests:
                report.add(line, "exchange.unanswered", "warning",
                           f"{kind} at line {line} has no response with its exchange_id: "
                           f"the log ends at line {last}", EXCHANGE_ID)
        for responses in self.orphans.values():
            for line, kind in responses:
                report.add(line, "exchange.orphan_response", "warning",
                           f"{kind} answers no request before it, and none comes later: "
                           f"the log ends at line {last}", EXCHANGE_ID)


class FileState:
    """What a check of one line needs from the lines before it.

    Under `--profile auto` the file's first JSON object decides its log family (`family`,
    at line `family_line`); an event log's profile is decided by its first v0-only or
    v1-only type (`chosen`: (profile, line, type)). The verdicts that depend on that profile
    are `pending` until the end of the file: (line, what), `what` being "agent_system" (an
    empty one) or a family-only type's profile.
    """

    def __init__(self, options):
        self.last_ts = None
        self.last_ledger_ts = None
        self.run_ids = set()
        self.pairing = Pairing()
        self.family = given_family(options.profile)
        self.family_line = None
        self.chosen = None
        self.pending = []

    def profile(self, options):
        """The profile the file is checked under."""
        if options.profile != "auto":
            return options.profile
        if self.family == "ledger":
            return "ledger"
        return self.chosen[0] if self.chosen else "v0"


def given_family(profile):
    """The log family every line is checked as under a given profile; None under auto."""
    if profile == "auto":
        return None
    return "ledger" if profile == "ledger" else "events"


def family_of(obj):
    """The log family a JSON object would decide: a ledger without an envelope key and with
    a ledger key, else an event log."""
    if not any(k in obj for k in ENVELOPE_KEYS) and any(k in obj for k in LEDGER_KEYS):
        return "ledger"
    return "events"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="validate.py", description=__doc__.split("\n")[0])
    p.add_argument("paths", nargs="+", metavar="LOG")
    p.add_argument("--profile", default="auto")
    p.add_argument("--unknown-types", choices=("error", "warn"), default="error")
    p.add_argument("--allow-empty", action="store_true")
    p.add_argument("--no-builtin-detectors", action="store_true")
    p.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--format", choices=("json", "text"), default="json")
    args = p.parse_args(argv)
    if args.profile not in PROFILES:
        p.error(f"--profile must be one of {', '.join(PROFILES)}")
    args.secrets = []
    for spec in args.secret:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            p.error("--secret must be NAME=VALUE")
        args.secrets.append((name, value))
    return args


def split_lines(data):
    """The file's lines as (bytes, torn): the last line is torn when it has no LF."""
    pieces = data.split(b"\n")
    last = pieces.pop()
    lines = [(p, False) for p in pieces]
    if last:
        lines.append((last, True))
    return lines


def other_family(obj, family):
    """Whether a JSON object belongs to the other log family than `family`: in an event log,
    an object that would have made the file a ledger; in a ledger, an object with an envelope
    key and no ledger key (a record of neither kind stays a ledger line)."""
    envelope = any(k in obj for k in ENVELOPE_KEYS)
    ledger = any(k in obj for k in LEDGER_KEYS)
    if family == "events":
        return ledger and not envelope
    return envelope and not ledger


def json_depth(text):
    """The deepest nesting of arrays and objects, strings skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    repeated = [k for i, k in enumerate(keys) if k in keys[:i]]
    if repeated:
        raise DuplicateKey(repeated)
    return dict(pairs)


def parse_json(text):
    """(value, duplicates): the line's JSON, and how many keys repeat. ValueError if invalid."""

    def refuse_constant(name):
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=refuse_constant), 0
    except DuplicateKey:
        pass
    # Count every repeated key of every object, then keep the last value as serde does.
    count = [0]

    def counting(pairs):
        keys = [k for k, _ in pairs]
        count[0] += sum(1 for i, k in enumerate(keys) if k in keys[:i])
        return dict(pairs)

    value = json.loads(text, object_pairs_hook=counting, parse_constant=refuse_constant)
    return value, count[0]


def json_type_ok(value, kind):
    if kind == STRING:
        return isinstance(value, str)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == INTEGER:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, (int, float))


def value_ok(value, check):
    if check == "nonempty":
        return value != ""
    if check == "min0":
        return value >= 0
    if isinstance(check, tuple):
        return value in check
    return True


def pointer(*parts):
    """The JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def check_data(report, n, event_type, data):
    schema = DATA_SCHEMAS[event_type]
    for field in schema["required"]:
        if field not in data:
            report.add(n, "data.required", message=f"data.{field} is required",
                       pointer=pointer("data", field))
    for field, (kind, check) in schema["fields"].items():
        if field not in data:
            continue
        at = pointer("data", field)
        type_ok = json_type_ok(data[field], kind)
        if not type_ok:
            report.add(n, "data.type", message=f"data.{field} must be a {kind}", pointer=at)
        # An enum refuses a value of another type too; other checks apply to the right type.
        if (type_ok or isinstance(check, tuple)) and not value_ok(data[field], check):
            report.add(n, "data.invalid", message=f"data.{field} has a refused value",
                       pointer=at)
    for group in schema.get("together", ()):
        present = [f for f in group if f in data]
        for missing in (f for f in group if present and f not in data):
            report.add(n, "data.required", message=f"{' and '.join(group)} go together",
                       pointer=pointer("data", missing))


def check_string_field(report, n, obj, field, state=None, options=None):
    """True when `field` is a non-empty string; the finding otherwise."""
    value = obj[field]
    if not isinstance(value, str):
        report.add(n, "envelope.type", message=f"{field} must be a string",
                   pointer=pointer(field))
        return False
    if value == "" and field == "agent_system":
        # v0 requires a name, v1 accepts "" (a warning); under auto the file decides.
        if options.profile == "auto":
            state.pending.append((n, "agent_system"))
        else:
            agent_system_empty(report, n, options.profile)
        return False
    if value == "":
        report.add(n, "envelope.empty", message=f"{field} must not be empty",
                   pointer=pointer(field))
        return False
    return True


def check_ts(report, n, ts, state):
    if not RFC3339.match(ts):
        report.add(n, "ts.format", message="ts is not RFC 3339 with an offset",
                   pointer="/ts")
        return
    try:
        when = parse_rfc3339(ts)
    except ValueError:
        report.add(n, "ts.format", message="ts is not a valid date-time", pointer="/ts")
        return
    if state.last_ts is not None and when < state.last_ts:
        report.add(n, "ts.backwards", "warning", "ts is earlier than the previous event's",
                   pointer="/ts")
    state.last_ts = when


def parse_rfc3339(ts):
    """An aware datetime (fractions beyond microseconds are cut)."""
    ts = ts.upper().replace("Z", "+00:00")
    head, _, rest = ts.partition(".")
    if rest:
        digits = re.match(r"\d+", rest).group(0)
        ts = head + "." + digits[:6].ljust(6, "0") + rest[len(digits):]
    return datetime.fromisoformat(ts)


def check_envelope(report, n, obj, state, options):
    for field in obj:
        if field not in REQUIRED + OPTIONAL:
            report.add(n, "envelope.unknown_field", message=f"unknown envelope field {field!r}",
                       pointer=pointer(field))
    ok = {}
    for field in REQUIRED:
        if field not in obj:
            report.add(n, "envelope.missing", message=f"{field} is missing",
                       pointer=pointer(field))
        else:
            ok[field] = check_string_field(report, n, obj, field, state, options)
    if "plugin" in obj:
        check_string_field(report, n, obj, "plugin")
    if "tags" in obj:
        tags = obj["tags"]
        if not isinstance(tags, list):
            report.add(n, "envelope.type", message="tags must be an array of strings",
                       pointer="/tags")
        else:
            for i, tag in enumerate(tags):
                if not isinstance(tag, str):
                    report.add(n, "envelope.type", message="a tag must be a string",
                               pointer=pointer("tags", i))
                elif tag == "":
                    report.add(n, "envelope.empty", message="a tag is empty",
                               pointer=pointer("tags", i))
    if "data" in obj and not isinstance(obj["data"], dict):
        report.add(n, "envelope.type", message="data must be an object", pointer="/data")
    if ok.get("ts"):
        check_ts(report, n, obj["ts"], state)
    if ok.get("run_id"):
        if state.run_ids and obj["run_id"] not in state.run_ids:
            report.add(n, "run_id.multiple", "warning", "a second run_id in this file",
                       pointer="/run_id")
        state.run_ids.add(obj["run_id"])
    if ok.get("event_type"):
        check_event_type(report, n, obj, state, options)
        data = obj.get("data")
        exchange_id = data.get("exchange_id") if isinstance(data, dict) else None
        if isinstance(exchange_id, str) and exchange_id:
            state.pairing.see(report, n, obj["event_type"], exchange_id)


def agent_system_empty(report, n, profile):
    if profile == "v1":
        report.add(n, "envelope.agent_system_unknown", "warning",
                   "agent_system is empty: this log cannot say which agent system wrote it",
                   pointer="/agent_system")
    else:
        report.add(n, "envelope.empty", message="agent_system must not be empty under v0",
                   pointer="/agent_system")


def type_family(event_type):
    """The event-log profile that alone defines `event_type`, or None (shared or unknown)."""
    if event_type in V0_ONLY_TYPES:
        return "v0"
    if event_type in V1_ONLY_TYPES:
        return "v1"
    return None


def check_event_type(report, n, obj, state, options):
    event_type = obj["event_type"]
    if options.profile == "auto":
        family = type_family(event_type)
        if family is not None:
            # The first family-only type decides the file; the others are resolved at its end.
            if state.chosen is None:
                state.chosen = (family, n, event_type)
            state.pending.append((n, family))
        defined = event_type in DATA_SCHEMAS
    else:
        defined = event_type in PROFILE_TYPES[options.profile]
    if not defined:
        severity = "warning" if options.unknown_types == "warn" else "error"
        report.add(n, "event_type.unknown", severity,
                   f"event_type is not defined by profile {options.profile}",
                   pointer="/event_type")
        return
    data = obj.get("data")
    if isinstance(data, dict):
        check_data(report, n, event_type, data)


def check_line(report, n, raw, torn, state, options):
    """Every finding of line `n`; True when it holds an event."""
    if torn:
        report.add(n, "line.torn", message="the last line has no LF")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        report.add(n, "line.utf8", message="the line is not UTF-8")
        return False
    if text.startswith("\ufeff"):
        report.add(n, "line.bom", message="the line starts with a byte order mark")
        text = text[1:]
    if text.endswith("\r"):
        report.add(n, "line.crlf", message="the line ends with CR LF")
        text = text[:-1]
    if text.strip() == "":
        report.add(n, "line.blank", message="the line is blank")
        return False
    found = secret_scan.scan(text, options.secrets, not options.no_builtin_detectors)
    value = check_json_line(report, n, text, state, options)
    for rule, message, secret in found:
        at = secret_scan.locate(value, secret) if secret is not None else None
        severity = "warning" if rule == "secret.scan_incomplete" else "error"
        report.add(n, rule, severity, message, at)
    return True


def check_json_line(report, n, text, state, options):
    if json_depth(text) > MAX_DEPTH:
        report.add(n, "json.depth", message=f"nesting deeper than {MAX_DEPTH}")
        return None
    try:
        value, duplicates = parse_json(text)
    except (ValueError, RecursionError):
        report.add(n, "json.syntax", message="the line is not valid JSON")
        return None
    for _ in range(duplicates):
        report.add(n, "json.duplicate_key", message="a key repeats in one object")
    if not isinstance(value, dict):
        report.add(n, "json.not_object", message="the line is not a JSON object", pointer="")
        return value
    if state.family is None:
        # auto: the file's first JSON object decides event log or ledger.
        state.family, state.family_line = family_of(value), n
    elif state.family_line is not None and other_family(value, state.family):
        # auto: a line of the other log family is one finding, not checked further.
        report.add(n, "profile.mixed", message=f"a line of the other log family than this "
                   f"file's (decided at line {state.family_line}); not checked further",
                   pointer="")
        return value
    if state.family == "ledger":
        check_ledger(report, n, value, state)
    else:
        check_envelope(report, n, value, state, options)
    return value


def json_equal(a, b):
    """JSON equality: numbers by value, a boolean never equal to a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b


def check_ledger(report, n, record, state):
    """A ledger line: a tool-call record against the `tool_call` schema with the `ledger.*`
    rules; any other object is one `ledger.record_kind`. A value of the wrong type is
    `ledger.type` alone, never also refused by the checks of the type it should have had."""
    if not any(k in record for k in TOOL_CALL_KEYS):
        report.add(n, "ledger.record_kind", message="not a tool-call record (none of tool, "
                   "result_status, args_hash); not checked further", pointer="")
        return

    def add(rule, at, message):
        report.add(n, rule, message=message, pointer=at)

    for field in LEDGER_FIELDS:
        if field not in record:
            add("ledger.required", pointer(field), f"required field {field} is missing")
    for field in record:
        if field not in LEDGER_FIELDS:
            add("ledger.undeclared_field", pointer(field),
                "a field the tool_call record does not declare (the record is closed)")
    for field, most in LEDGER_INTEGERS.items():
        if field not in record:
            continue
        value = record[field]
        if not json_type_ok(value, INTEGER):
            add("ledger.type", pointer(field), f"{field} must be an integer")
        elif not 0 <= value <= most:
            add("ledger.invalid", pointer(field), f"{field} is out of range")
    for field in ("session_id", "agent", "tool", "args_hash", "result_status"):
        if field not in record:
            continue
        value = record[field]
        if not isinstance(value, str):
            add("ledger.type", pointer(field), f"{field} must be a string")
        elif field == "args_hash":
            if not ARGS_HASH.fullmatch(value):
                add("ledger.args_hash", "/args_hash",
                    "args_hash is not sha256: followed by 64 lowercase hex digits")
        elif field == "result_status":
            if value not in RESULT_STATUSES:
                add("ledger.invalid", "/result_status", "result_status is not one of "
                    + ", ".join(RESULT_STATUSES))
        elif value == "":
            add("ledger.invalid", pointer(field), f"{field} must not be empty")
    if "error_class" in record:
        value = record["error_class"]
        if value is not None and not isinstance(value, str):
            add("ledger.type", "/error_class", "error_class must be a string or null")
        elif isinstance(value, str) and record.get("result_status") == "success":
            add("ledger.invalid", "/error_class",
                "error_class must be null when result_status is success")
        elif value == "":
            add("ledger.invalid", "/error_class", "error_class must not be empty")
    flags = record.get("risk_flags", [])
    if not isinstance(flags, list):
        add("ledger.type", "/risk_flags", "risk_flags must be an array")
    else:
        for i, flag in enumerate(flags):
            if not isinstance(flag, str):
                add("ledger.type", pointer("risk_flags", i), "a risk flag must be a string")
            elif flag not in RISK_FLAGS:
                add("ledger.risk_flag", pointer("risk_flags", i),
                    "not one of the seven risk flags")
        if any(json_equal(a, b) for i, a in enumerate(flags) for b in flags[:i]):
            add("ledger.invalid", "/risk_flags", "a risk flag repeats")
    artifacts = record.get("artifacts", [])
    if not isinstance(artifacts, list):
        add("ledger.type", "/artifacts", "artifacts must be an array")
    else:
        for i, artifact in enumerate(artifacts):
            if not isinstance(artifact, str):
                add("ledger.type", pointer("artifacts", i), "an artifact must be a string")
            elif artifact == "":
                add("ledger.invalid", pointer("artifacts", i), "an artifact must not be empty")
    # The ordering rule: a tool call's ts (Unix seconds, an integer literal) against the
    # previous tool call's.
    ts = record.get("ts")
    if isinstance(ts, int) and not isinstance(ts, bool) and \
            UNIX_YEAR_0 <= ts <= UNIX_YEAR_9999_END:
        if state.last_ledger_ts is not None and ts < state.last_ledger_ts:
            report.add(n, "ts.backwards", "warning", "ts is earlier than the previous tool "
                       "call's", pointer="/ts")
        state.last_ledger_ts = ts


def check_file(path, options):
    report = Report(path)
    with open(path, "rb") as f:
        data = f.read()
    state = FileState(options)
    for n, (raw, torn) in enumerate(split_lines(data), start=1):
        report.lines = n
        if check_line(report, n, raw, torn, state, options):
            report.events += 1
    state.pairing.finish(report, report.lines)
    report.profile = state.profile(options)
    resolve_pending(report, state)
    if report.events == 0 and not options.allow_empty:
        report.add(0, "input.empty", message="the input holds no events")
    report.findings.sort(key=lambda f: (f["line"], f["rule"]))
    return report


def resolve_pending(report, state):
    """auto: the findings that waited for the file's event-log profile."""
    profile = report.profile
    for n, what in state.pending:
        if what == "agent_system":
            agent_system_empty(report, n, profile)
        elif what != profile:
            _, at, decider = state.chosen
            report.add(n, "profile.mixed",
                       message=f"event_type is a {what}-only type, but this file is checked "
                       f"under {profile} (decided at line {at} by {decider})",
                       pointer="/event_type")


def json_output(reports):
    errors = sum(f["severity"] == "error" for r in reports for f in r.findings)
    files = [
        {
            "path": r.path,
            "lines": r.lines,
            "events": r.events,
            "profile": r.profile,
            "findings": r.findings,
        }
        for r in reports
    ]
    summary = {
        "files": len(reports),
        "lines": sum(r.lines for r in reports),
        "errors": errors,
        "warnings": sum(len(r.findings) for r in reports) - errors,
    }
    return json.dumps({"files": files, "summary": summary}, indent=2)


def text_output(reports):
    out = []
    for r in reports:
        for f in r.findings:
            out.append(f"{r.path}:{f['line']}: {f['severity']} {f['rule']}: {f['message']}")
        out.append(f"{r.path}: {r.lines} lines, {len(r.findings)} findings")
    return "\n".join(out)


def main(argv):
    try:
        options = parse_args(argv)
        reports = [check_file(path, options) for path in options.paths]
    except OSError as e:
        print(f"validate.py: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    print(json_output(reports) if options.format == "json" else text_output(reports))
    failed = any(f["severity"] == "error" for r in reports for f in r.findings)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
