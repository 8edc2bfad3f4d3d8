"""Writes the events of events.json as Python's json.dumps writes them, with its defaults:
`", "` and `": "` separators, ensure_ascii (every non-ASCII character as a \\uXXXX escape, a
surrogate pair beyond the BMP), keys in dict insertion order (here the order a Python
framework builds them in, not Go's) and, for the last line, sort_keys=True; `ts` from
datetime.isoformat() of an aware UTC datetime: a `+00:00` offset, microseconds (six digits,
none on a whole second). Optional fields that are None are left out, not written as null.

Usage: python3 python_writer.py events.json v0|v1 > ../logs/encoder_python_v0.jsonl
"""

import json
import sys
from datetime import datetime, timezone


def timestamp(text):
    """The nanosecond instant of events.json as a datetime (microseconds, truncated)."""
    date, fraction = text.rstrip("Z").split(".")
    at = datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return at.replace(microsecond=int(fraction[:6]))


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        source = json.load(f)
    events = source[sys.argv[2]]
    for i, e in enumerate(events):
        event = {
            "ts": timestamp(e["ts"]).isoformat(),
            "event_type": e["event_type"],
            "run_id": source["run_id"],
            "agent_system": source["agent_system"],
            "summary": e["summary"],
            "data": e.get("data"),
            "plugin": e.get("plugin"),
            "tags": e.get("tags"),
        }
        event = {k: v for k, v in event.items() if v is not None}
        last = i == len(events) - 1
        print(json.dumps(event, sort_keys=last))


main()
