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
other than the oldest without a link is `seal.link_missing`. Every file in `archive/` (and
`archive/.staging/`) no retention record names, and every directory there whatever its name
(`.staging` aside), is `seal.archive_unrecorded`; `*.tmp` files are retention's own; a file
staged under a recorded part's name is verified against that part's segment. Last,
`events.jsonl`: verified against its seal (tail allowed) when it has one, a link or retention
record in that seal being `seal.current_linked`, else `seal.current_unsealed`, a note. Its
seal without it is `seal.file_missing` on `events.jsonl`, the seal read and judged as any.

A member where a regular file is expected (a day file, a seal, an archive part,
`events.jsonl`; `archive/` where a directory is) that is not one or cannot be read is
`seal.file_unreadable`; the rest is still checked. A `*.jsonl` or `*.jsonl.gz` that is no
ledger file, or a subdirectory other than `archive/`, is `seal.file_unknown`: `agentlog
analyze` of the directory would read records from it.

Usage: seal_ledger_verify.py [--pubkey FILE] DIR
Prints one JSON object: {"passed": bool, "findings": [{"rule", "file", "line",
"seal_line"}]}, the findings sorted by file, then rule; `file` is relative to DIR.
Exit codes: 0 passed, 1 failed, 2 usage or I/O error.
"""

import gzip
import json
import os
import stat
import sys
import zlib

import seal_verify as sv

NOTES = {"seal.current_unsealed"}
ARCHIVE, STAGING, TMP = "archive", ".staging", ".tmp"


def is_unknown(root, name):
    """Whether `name` (no day file, no seal of one) is something analyze reads records from."""
    if name in ("events.jsonl", ARCHIVE):
        return False
    return name.endswith((".jsonl", ".jsonl.gz")) or os.path.isdir(os.path.join(root, name))


class Run:
    def __init__(self, root, public):
        self.root, self.public = root, public
        self.found = {}
        self.seals = {}
        self.recorded = set()

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
        try:
            checkpoints, malformed = sv.read_seal(seal)
        except (OSError, ValueError):
            self.seals[day] = None
            self.add("seal.file_unreadable", seal_name)
            return
        if malformed is not None:
            self.seals[day] = None
            self.add_all([malformed], log_name, seal_name)
            return
        self.seals[day] = checkpoints
        self.recorded.update(c["retained"] for c in checkpoints if c["retained"] is not None)
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
            try:
                self.add_all(sv.verify(log, self.public, None), log_name, seal_name)
            except (OSError, ValueError):
                self.add("seal.file_unreadable", log_name)
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
                raw = sv.read_regular(path)
            except (OSError, ValueError):
                self.add("seal.file_unreadable", part)
                continue
            try:
                data = gzip.decompress(raw)
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

    def is_recorded(self, part):
        """Named by a retention record, or of a day whose seal could not be read."""
        day = sv.day_of_part(part)
        return part in self.recorded or (day in self.seals and self.seals[day] is None)

    def listing(self, relative):
        """The names in the directory `relative` but `*.tmp` that are no directories, sorted;
        none when it is absent, and none (a finding) when it is not a directory or cannot be
        listed."""
        path = os.path.join(self.root, relative)
        try:
            if not stat.S_ISDIR(os.stat(path).st_mode):
                raise ValueError("not a directory")
            return sorted(n for n in os.listdir(path)
                          if not n.endswith(TMP) or os.path.isdir(os.path.join(path, n)))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            self.add("seal.file_unreadable", relative)
            return []

    def unrecorded(self):
        for name in self.listing(ARCHIVE):
            if name != STAGING and not self.is_recorded(f"{ARCHIVE}/{name}"):
                self.add("seal.archive_unrecorded", f"{ARCHIVE}/{name}")
        staging = f"{ARCHIVE}/{STAGING}"
        for name in self.listing(staging):
            stem = name[:-len(".jsonl")] if name.endswith(".jsonl") else None
            part = f"{ARCHIVE}/{stem}.jsonl.gz"
            if stem is None or not self.is_recorded(part) or \
                    os.path.isdir(os.path.join(self.root, staging, name)):
                self.add("seal.archive_unrecorded", f"{staging}/{name}")
            else:
                self.staged(f"{staging}/{name}", part)

    def staged(self, name, part):
        """A file staged under the recorded part `part`'s name: the day file moved there
        whole, so verified against the segment the record naming `part` closes."""
        day = sv.day_of_part(part)
        if day in self.seals and self.seals[day] is None:
            return
        seal_name = f"events_{day}.jsonl.seal"
        try:
            data = sv.read_regular(os.path.join(self.root, name))
        except (OSError, ValueError):
            self.add("seal.file_unreadable", name)
            return
        seal = os.path.join(self.root, seal_name)
        self.add_all(sv.verify_data(data, seal, self.public, part=part), name, seal_name)

    def current(self):
        log = os.path.join(self.root, "events.jsonl")
        if not os.path.lexists(log):
            if os.path.lexists(log + ".seal"):
                self.current_missing(log + ".seal")
            return
        try:
            sv.read_regular(log)
        except (OSError, ValueError):
            self.add("seal.file_unreadable", "events.jsonl")
            return
        if not os.path.lexists(log + ".seal"):
            self.add("seal.current_unsealed", "events.jsonl")
            return
        try:
            checkpoints, _ = sv.read_seal(log + ".seal")
        except (OSError, ValueError):
            checkpoints = None
        self.current_linked(checkpoints)
        try:
            findings = sv.verify(log, self.public, None)
        except (OSError, ValueError):
            self.add("seal.file_unreadable", "events.jsonl.seal")
            return
        self.add_all([f for f in findings if f["rule"] != "seal.unsealed_tail"],
                     "events.jsonl", "events.jsonl.seal")

    def current_linked(self, checkpoints):
        for line, c in enumerate(checkpoints or [], start=1):
            if c["link"] is not None or c["retained"] is not None:
                self.add("seal.current_linked", "events.jsonl.seal", None, line)
                break

    def current_missing(self, seal):
        """events.jsonl's seal without it: the file was removed; the seal is judged as any."""
        self.add("seal.file_missing", "events.jsonl")
        try:
            checkpoints, malformed = sv.read_seal(seal)
        except (OSError, ValueError):
            self.add("seal.file_unreadable", "events.jsonl.seal")
            return
        if malformed is not None:
            self.add_all([malformed], "events.jsonl", "events.jsonl.seal")
            return
        self.current_linked(checkpoints)
        self.add_all(sv.check_chain(checkpoints, self.public), "events.jsonl",
                     "events.jsonl.seal")


def verify_ledger(root, public):
    names = os.listdir(root)
    logs = {d for d in map(sv.day_of_file, names) if d}
    seals = {d for d in (sv.day_of_file(n[:-5]) for n in names if n.endswith(".seal")) if d}
    current = os.path.join(root, "events.jsonl")
    if not logs and not seals and not os.path.lexists(current) and \
            not os.path.lexists(current + ".seal"):
        raise ValueError(f"{root}: not a ledger directory")
    run = Run(root, public)
    for name in names:
        is_seal = name.endswith(".seal") and sv.day_of_file(name[:-5])
        if not sv.day_of_file(name) and not is_seal and is_unknown(root, name):
            run.add("seal.file_unknown", name)
    for day in sorted(logs | seals):
        run.day(day, day in logs, day in seals)
    run.links()
    run.unrecorded()
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
