# A processor for rotel, the OpenTelemetry collector the export tests run: appends every log
# record and span it receives as one JSON line to $OTLP_DUMP_FILE, for the tests to read.
# It runs inside rotel's embedded Python 3.11 (standard library only).
import json, os

def _any(v):
    """AnyValue -> {"type": value}. `.value` is str/int/float/bool, a list of ints for bytes,
    or an iterable rotel ArrayValue (of AnyValue) / KeyValueList (of KeyValue)."""
    if v is None:
        return None
    x = v.value
    if x is None:
        return None
    if isinstance(x, bool):  # before int: bool is an int subclass
        return {"bool": x}
    if isinstance(x, int):
        return {"int": x}
    if isinstance(x, float):
        return {"double": x}
    if isinstance(x, str):
        return {"string": x}
    if isinstance(x, (bytes, bytearray, list)):  # bytesValue arrives as a list of ints
        return {"bytes": bytes(x).hex()}
    kind = type(x).__name__  # array_value/key_value_list_value getters are write-only
    if kind == "ArrayValue":
        return {"array": [_any(e) for e in x]}
    if kind == "KeyValueList":
        return {"kvlist": _attrs(x)}
    return {"unknown": repr(x)}

def _attrs(kvs):
    return {kv.key: _any(kv.value) for kv in kvs}

def _scope(s):
    return None if s is None else {"name": s.name, "version": s.version, "attributes": _attrs(s.attributes)}

def _write(lines):
    if not lines:
        return
    data = "".join(json.dumps(l, sort_keys=True) + "\n" for l in lines).encode()
    fd = os.open(os.environ["OTLP_DUMP_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)  # one O_APPEND write per batch: logs and spans share the file safely
    finally:
        os.close(fd)

def _guard(fn):
    # An exception escaping a processor panics rotel's pipeline and the whole agent exits
    # ("Failed to run agent"): never let one out; record it in the dump instead.
    def run(arg):
        try:
            fn(arg)
        except Exception as e:
            try:
                _write([{"signal": "error", "error": repr(e)}])
            except Exception:
                pass
    return run

@_guard
def process_logs(resource_logs):
    res = _attrs(resource_logs.resource.attributes) if resource_logs.resource else {}
    out = []
    for sl in resource_logs.scope_logs:
        for r in sl.log_records:
            out.append({"signal": "log", "resource": res, "scope": _scope(sl.scope),
                        "time_unix_nano": r.time_unix_nano, "observed_time_unix_nano": r.observed_time_unix_nano,
                        "severity_number": r.severity_number, "severity_text": r.severity_text,
                        "event_name": getattr(r, "event_name", None), "body": _any(r.body),
                        "trace_id": bytes(r.trace_id).hex(), "span_id": bytes(r.span_id).hex(),
                        "flags": r.flags, "attributes": _attrs(r.attributes)})
    _write(out)

@_guard
def process_spans(resource_spans):
    res = _attrs(resource_spans.resource.attributes) if resource_spans.resource else {}
    out = []
    for ss in resource_spans.scope_spans:
        for s in ss.spans:
            out.append({"signal": "span", "resource": res, "scope": _scope(ss.scope), "name": s.name,
                        "kind": s.kind, "trace_id": bytes(s.trace_id).hex(), "span_id": bytes(s.span_id).hex(),
                        "parent_span_id": bytes(s.parent_span_id).hex(),
                        "start_time_unix_nano": s.start_time_unix_nano, "end_time_unix_nano": s.end_time_unix_nano,
                        "status": None if s.status is None else {"code": s.status.code, "message": s.status.message},
                        "events": [{"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": _attrs(e.attributes)} for e in s.events],
                        "attributes": _attrs(s.attributes)})
    _write(out)
