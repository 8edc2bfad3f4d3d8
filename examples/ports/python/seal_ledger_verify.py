#!/usr/bin/env python3
"""A second implementation of `agentlog verify DIR` for a sealed ledger directory
(docs/seal.md, "A ledger directory"), standard library only, on top of seal_verify.py.

Each day: a day file without a seal is `seal.file_unsealed`; with its seal, it is verified
as a log (against the seal's last segment). A seal without its day file is checked alone
(its chain, with a key every signature); then an open last segment is `seal.file_missing`.
Each retention record's archive part is decompressed and verified against the segment the
record closes (`seal.archive_missing`, `seal.archive_other_day`,
`seal.archive_unreadable`). Then the links: each seal's first checkpoint names an earlier
day file whose seal has that digest (`seal.linked_file_missing`, `seal.link_broken`); a seal
other than the oldest without a link is `seal.link_missing`. Last, `events.jsonl`: verified
against its seal (tail allowed) when it has one, else `seal.current_unsealed`, a note.

Usage: seal_ledger_verify.py [--pubkey FILE] DIR
Prints one JSON object: {"passed": bool, "findings": [{"rule", "file", "line",
"seal_line"}]}, the findings sorted by file, then rule; `file` is relative to DIR.
Exit codes: 0 passed, 1 failed, 2 usage or I/O error.
"""

import gzip
import json
import os
import sys
import zlib

import seal_verify as sv

NOTES = {"seal.current_unsealed"}


class Run:
    def __init__(self, root, public):
        self.root, self.public = root, public
        self.found = {}
        self.seals = {}

    def add(self, rule, file, line=None, seal_line=None):
        self.found[(file, rule)] = {"rule": rule, "file": file, "line": line,
                                    "seal_line": seal_line}

    def add_all(self, findings, log_name, seal_name):
        for f in findings:
            on = seal_name if f["seal_line"] is not None else log_name
            self.add(f["rule"], on, f["line"], f["seal_line"])

    def day(self, day, has_log, has_seal):
        log_name = f"events_{day}.jsonl"
        seal_name = log_name + ".seal"
        log, seal = os.path.join(self.root, log_name), os.path.join(self.root, seal_name)
        if not has_seal:
            self.add("seal.file_unsealed", log_name)
            return
        checkpoints, malformed = sv.read_seal(seal)
        if malformed is not None:
            self.seals[day] = None
            self.add_all([malformed], log_name, seal_name)
            return
        self.seals[day] = checkpoints
        chain = sv.check_chain(checkpoints, self.public)
        records = [(i, c["retained"]) for i, c in enumerate(checkpoints, start=1)
                   if c["retained"] is not None]
        is_open = bool(checkpoints) and checkpoints[-1]["retained"] is None
        written = bool(records) and os.path.lexists(os.path.join(self.root, records[-1][1]))
        if has_log and not is_open and written:
            self.add("seal.file_unsealed", log_name)
            self.parts(day, seal, seal_name, records)
            return
        if has_log:
            self.add_all(sv.verify(log, self.public, None), log_name, seal_name)
            if not is_open:
                records = records[:-1]
        elif chain:
            self.add_all(chain, log_name, seal_name)
            return
        elif is_open:
            self.add("seal.file_missing", log_name)
        self.parts(day, seal, seal_name, records)

    def parts(self, day, seal, seal_name, records):
        for seal_line, part in records:
            if sv.day_of_part(part) != day:
                self.add("seal.archive_other_day", seal_name, None, seal_line)
                continue
            path = os.path.join(self.root, part)
            if not os.path.lexists(path):
                self.add("seal.archive_missing", seal_name, None, seal_line)
                continue
            try:
                data = gzip.decompress(sv.read_regular(path))
            except (EOFError, zlib.error, gzip.BadGzipFile):
                self.add("seal.archive_unreadable", part)
                continue
            self.add_all(sv.verify_data(data, seal, self.public, part=part), part, seal_name)

    def links(self):
        oldest = min(self.seals) if self.seals else None
        for day, checkpoints in sorted(self.seals.items()):
            if not checkpoints:
                continue
            seal_name = f"events_{day}.jsonl.seal"
            link = checkpoints[0]["link"]
            if link is None:
                if day != oldest:
                    self.add("seal.link_missing", seal_name, None, 1)
                continue
            target = sv.day_of_file(link[0])
            if target is None or target >= day:
                self.add("seal.link_broken", seal_name, None, 1)
            elif target not in self.seals:
                self.add("seal.linked_file_missing", seal_name, None, 1)
            elif self.seals[target] is not None and \
                    all(c["digest"] != link[1] for c in self.seals[target]):
                self.add("seal.link_broken", seal_name, None, 1)

    def current(self):
        log = os.path.join(self.root, "events.jsonl")
        if not os.path.lexists(log):
            return
        if not os.path.lexists(log + ".seal"):
            self.add("seal.current_unsealed", "events.jsonl")
            return
        findings = sv.verify(log, self.public, None)
        self.add_all([f for f in findings if f["rule"] != "seal.unsealed_tail"],
                     "events.jsonl", "events.jsonl.seal")


def verify_ledger(root, public):
    names = os.listdir(root)
    logs = {d for d in map(sv.day_of_file, names) if d}
    seals = {d for d in (sv.day_of_file(n[:-5]) for n in names if n.endswith(".seal")) if d}
    if not logs and not seals and not os.path.lexists(os.path.join(root, "events.jsonl")):
        raise ValueError(f"{root}: not a ledger directory")
    run = Run(root, public)
    for day in sorted(logs | seals):
        run.day(day, day in logs, day in seals)
    run.links()
    run.current()
    return [run.found[key] for key in sorted(run.found)]


def main(argv):
    args, public = [], None
    try:
        it = iter(argv)
        for arg in it:
            if arg == "--pubkey":
                public = sv.read_public_key(next(it))
            else:
                args.append(arg)
        if len(args) != 1:
            raise ValueError("usage: seal_ledger_verify.py [--pubkey FILE] DIR")
        findings = verify_ledger(args[0], public)
    except (OSError, ValueError, StopIteration) as e:
        print(f"seal_ledger_verify.py: error: {e}", file=sys.stderr)
        return 2
    passed = all(f["rule"] in NOTES for f in findings)
    print(json.dumps({"passed": passed, "findings": findings}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
