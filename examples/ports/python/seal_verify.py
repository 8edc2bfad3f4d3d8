#!/usr/bin/env python3
"""A second implementation of `agentlog verify` (docs/seal.md), standard library only.

Model
-----
A log is bytes; a line is the bytes before each `\\n`. Its seal file (`LOG.seal`) holds one
checkpoint a line. Verification, in the order docs/seal.md gives:

1. the checkpoints as a chain: each digest recomputed from the digest text, each `prev` the
   digest before it, none covering less than the one before, one short hash per line added,
   and with a public key, each signed by it (Ed25519, RFC 8032, written out below: the
   standard library has no Ed25519);
2. the log read once: the first covered line whose short hash (the first 8 bytes of its
   SHA-256) differs is named deleted, inserted or changed; at each checkpoint the chain
   (`h_i = SHA-256(h_{i-1} || line_i)`) and the byte count must match;
   with --anchor, one checkpoint must have that digest;
3. fewer complete lines than covered: truncated; more, or bytes after the last `\\n`: an
   unsealed tail (a note with --allow-tail).

Usage: seal_verify.py [--pubkey FILE] [--anchor DIGEST] [--allow-tail] PATH
Prints one JSON object: {"passed": bool, "findings": [{"rule", "line", "seal_line"}]}.
A PATH that is a directory is a sealed ledger, verified by seal_ledger_verify.py (its
findings carry a `file`), so this one command line is `agentlog verify`'s and meets the
contract of `agentlog conformance seal` (docs/conformance.md).
Exit codes: 0 passed, 1 failed, 2 usage or I/O error.
"""

import hashlib
import json
import os
import re
import stat
import sys

MEMBERS = {"agentlog_seal", "lines", "bytes", "chain", "prev", "time", "line_hashes",
           "digest", "signature", "key", "prev_file", "prev_file_digest", "retained"}
# The ledger extensions' names (docs/seal.md, "A ledger directory").
DAY_FILE = re.compile(r"events_([0-9]{8})\.jsonl")
ARCHIVE_PART = re.compile(r"archive/events_([0-9]{8})(-[1-9][0-9]{0,8})?\.jsonl\.gz")
HEX = re.compile(r"[0-9a-f]*")
RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|([+-])([0-9]{2}):([0-9]{2}))")
MAX_LINES_PER_CHECKPOINT = 65536
MAX_SEAL_LINE = 2 << 20
U64 = 2**64

# --- Ed25519 verification (RFC 8032, section 5.1.7) -------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    z = 2 * a[2] * b[2] % P
    e, f, g, h = y - x, z - c, z + c, y + x
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = _add(result, point)
        point = _add(point, point)
        s >>= 1
    return result


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(data):
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


IDENTITY = (0, 1, 1, 0)


def _small_order(point):
    return _equal(_mul(8, point), IDENTITY)


def _canonical(data):
    """The encoding's y is below p (RFC 8032 decoding rejects the rest)."""
    return int.from_bytes(data, "little") & ((1 << 255) - 1) < P


def ed25519_verifies(public, message, signature):
    """RFC 8032 verification, strict as ed25519-dalek's verify_strict: a public key or an R
    of small order (which would let one signature fit any message) is refused."""
    if len(public) != 32 or len(signature) != 64:
        return False
    if not _canonical(public) or not _canonical(signature[:32]):
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# --- Checkpoints --------------------------------------------------------------------------


def hex_bytes(value, size=None):
    if not isinstance(value, str) or not HEX.fullmatch(value) or len(value) % 2:
        return None
    data = bytes.fromhex(value)
    return data if size is None or len(data) == size else None


class Malformed(ValueError):
    pass


def _no_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise Malformed("a member given twice")
    return dict(pairs)


def _unsigned(text):
    # A member's number is a whole number of 0 to 2^64-1, written without sign or fraction.
    if text.startswith("-") or int(text) >= U64:
        raise Malformed("not an unsigned 64-bit number")
    return int(text)


def _no_float(text):
    raise Malformed("not a whole number")


def valid_time(text):
    """RFC 3339 (section 5.6), every field in range."""
    import calendar
    match = RFC3339.fullmatch(text) if text.isascii() else None
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if match.group(9) and (int(match.group(10)) > 23 or int(match.group(11)) > 59):
        return False
    return second < 60 or (hour, minute) == (23, 59)


def valid_day(text):
    """YYYYMMDD, a real date."""
    import calendar
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def day_of_file(name):
    match = DAY_FILE.fullmatch(name) if isinstance(name, str) else None
    return match.group(1) if match and valid_day(match.group(1)) else None


def day_of_part(path):
    match = ARCHIVE_PART.fullmatch(path) if isinstance(path, str) else None
    return match.group(1) if match and valid_day(match.group(1)) else None


def _extensions(value, parsed):
    """The ledger extensions into `parsed`; False when one is malformed."""
    if ("prev_file" in value) != ("prev_file_digest" in value):
        return False
    parsed["link"] = None
    if "prev_file" in value:
        digest = hex_bytes(value["prev_file_digest"], 32)
        if day_of_file(value["prev_file"]) is None or digest is None:
            return False
        parsed["link"] = (value["prev_file"], digest)
    parsed["retained"] = value.get("retained")
    return "retained" not in value or day_of_part(value["retained"]) is not None


def parse_checkpoint(line):
    """The checkpoint of a seal line, or None when it is not one."""
    try:
        value = json.loads(line.decode("utf-8"), object_pairs_hook=_no_duplicates,
                           parse_int=_unsigned, parse_float=_no_float)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or set(value) - MEMBERS:
        return None
    # `signature` and `key` null are absent.
    for member in ("signature", "key"):
        if member in value and value[member] is None:
            del value[member]
    if type(value.get("agentlog_seal")) is not int or value["agentlog_seal"] != 1:
        return None
    if ("signature" in value) != ("key" in value):
        return None
    for member in ("lines", "bytes"):
        if type(value.get(member)) is not int:
            return None
    if not isinstance(value.get("time"), str) or not valid_time(value["time"]):
        return None
    parsed = {"lines": value["lines"], "bytes": value["bytes"], "time": value["time"]}
    for member, size in (("chain", 32), ("prev", 32), ("digest", 32)):
        parsed[member] = hex_bytes(value.get(member), size)
        if parsed[member] is None:
            return None
    hashes = hex_bytes(value.get("line_hashes"))
    if hashes is None or len(hashes) % 8:
        return None
    parsed["line_hashes"] = [hashes[i:i + 8] for i in range(0, len(hashes), 8)]
    parsed["line_hashes_hex"] = value["line_hashes"]
    parsed["signature"] = None
    if "signature" in value:
        signature, key = hex_bytes(value["signature"], 64), hex_bytes(value["key"], 32)
        if signature is None or key is None:
            return None
        parsed["signature"] = (signature, key)
    return parsed if _extensions(value, parsed) else None


def digest_of(c):
    text = (f"agentlog-seal/1\nlines={c['lines']}\nbytes={c['bytes']}\nchain={c['chain'].hex()}\n"
            f"prev={c['prev'].hex()}\ntime={c['time']}\nline_hashes={c['line_hashes_hex']}\n")
    if c["link"] is not None:
        text += f"prev_file={c['link'][0]}\nprev_file_digest={c['link'][1].hex()}\n"
    if c["retained"] is not None:
        text += f"retained={c['retained']}\n"
    return hashlib.sha256(text.encode()).digest()


def finding(rule, line=None, seal_line=None):
    return {"rule": rule, "line": line, "seal_line": seal_line}


def check_chain(checkpoints, public):
    findings = []
    prev, lines, size = bytes(32), 0, 0
    for index, c in enumerate(checkpoints, start=1):
        if digest_of(c) != c["digest"]:
            return findings + [finding("seal.checkpoint_edited", seal_line=index)]
        if c["prev"] != prev:
            return findings + [finding("seal.checkpoint_order", seal_line=index)]
        empty_but_not = c["lines"] == 0 and (c["bytes"] != 0 or c["chain"] != bytes(32))
        if c["bytes"] < c["lines"] or empty_but_not:
            return findings + [finding("seal.checkpoint_inconsistent", seal_line=index)]
        added = c["lines"] - lines
        if added < 0 or c["bytes"] < size or added > MAX_LINES_PER_CHECKPOINT \
                or len(c["line_hashes"]) != added:
            return findings + [finding("seal.checkpoint_inconsistent", seal_line=index)]
        if (c["link"] is not None and index != 1) or (c["retained"] is not None and added):
            return findings + [finding("seal.checkpoint_inconsistent", seal_line=index)]
        if public is not None:
            if c["signature"] is None:
                findings.append(finding("seal.unsigned", seal_line=index))
            elif c["signature"][1] != public:
                findings.append(finding("seal.other_key", seal_line=index))
            elif not ed25519_verifies(public, c["digest"], c["signature"][0]):
                findings.append(finding("seal.bad_signature", seal_line=index))
        prev, lines, size = c["digest"], c["lines"], c["bytes"]
        if c["retained"] is not None:
            # A new segment starts: its file is counted from its first line.
            lines, size = 0, 0
    return findings


def segments(checkpoints):
    """(start, end) of each segment: up to and including each retention record, then the
    checkpoints after the last one."""
    ranges, start = [], 0
    for index, c in enumerate(checkpoints):
        if c["retained"] is not None:
            ranges.append((start, index + 1))
            start = index + 1
    if start < len(checkpoints):
        ranges.append((start, len(checkpoints)))
    return ranges


def compare_lines(data, checkpoints, first_seal_line=0):
    expected = [h for c in checkpoints for h in c["line_hashes"]]
    ends = {}
    for index, c in enumerate(checkpoints, start=first_seal_line + 1):
        ends.setdefault(c["lines"], []).append((index, c))
    sealed = len(expected)
    pieces = data.split(b"\n")
    complete, partial = pieces[:-1], len(pieces[-1])
    chain, offset = bytes(32), 0
    for number, line in enumerate(complete, start=1):
        if number > sealed:
            break
        chain = hashlib.sha256(chain + line).digest()
        offset += len(line) + 1
        short = hashlib.sha256(line).digest()[:8]
        if short != expected[number - 1]:
            following = complete[number] if number < len(complete) else None
            nxt = following is not None and hashlib.sha256(following).digest()[:8] == expected[number - 1]
            here = number < sealed and short == expected[number]
            if nxt and not here:
                return [finding("seal.line_inserted", number)]
            if here and not nxt:
                return [finding("seal.line_deleted", number)]
            return [finding("seal.line_changed", number)]
        for index, c in ends.get(number, []):
            if c["chain"] != chain or c["bytes"] != offset:
                return [finding("seal.chain_mismatch", number, index)]
    if len(complete) < sealed:
        return [finding("seal.truncated", len(complete) + 1)]
    if len(complete) > sealed or partial:
        return [finding("seal.unsealed_tail", sealed + 1)]
    return []


def read_public_key(path):
    text = open(path, encoding="utf-8").read().rstrip("\r\n")
    label = "agentlog-seal-public-key ed25519 "
    key = hex_bytes(text[len(label):], 32) if text.startswith(label) else None
    if key is None:
        raise ValueError(f"{path}: not an agentlog public key file")
    return key


def read_regular(path):
    """The bytes of a regular file; a FIFO, a device or a directory is refused unread."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ValueError(f"{path}: not a regular file")
        return f.read()


def read_seal(path):
    """(checkpoints, None), or (None, the seal.malformed finding)."""
    try:
        seal = read_regular(path)
    except FileNotFoundError:
        seal = b""
    checkpoints = []
    lines = seal.split(b"\n")
    for index, line in enumerate(lines, start=1):
        if index == len(lines):
            if line:
                # The last checkpoint has no newline: it was cut short.
                return None, finding("seal.malformed", seal_line=index)
            break
        if len(line) > MAX_SEAL_LINE:
            return None, finding("seal.malformed", seal_line=index)
        c = parse_checkpoint(line)
        if c is None:
            return None, finding("seal.malformed", seal_line=index)
        checkpoints.append(c)
    return checkpoints, None


def verify_data(data, seal_path, public, anchor=None, part=None):
    """The findings of `data` against the seal at `seal_path`: against its last segment, or
    with `part`, the segment the retention record naming `part` closes."""
    checkpoints, malformed = read_seal(seal_path)
    if malformed is not None:
        return [malformed]
    if not checkpoints:
        return [finding("seal.missing")]
    findings = check_chain(checkpoints, public)
    if anchor is not None and all(c["digest"] != anchor for c in checkpoints):
        findings.append(finding("seal.anchor_missing"))
    if findings:
        return findings
    chosen = [(a, b) for a, b in segments(checkpoints)
              if part is None or checkpoints[b - 1]["retained"] == part]
    start, end = chosen[-1] if chosen else (0, len(checkpoints))
    return compare_lines(data, checkpoints[start:end], start)


def verify(log, public, anchor):
    data = read_regular(log)
    return verify_data(data, log + ".seal", public, anchor)


def main(argv):
    args, public, anchor, allow_tail = [], None, None, False
    try:
        it = iter(argv)
        for arg in it:
            if arg == "--pubkey":
                public = read_public_key(next(it))
            elif arg == "--anchor":
                anchor = hex_bytes(next(it), 32)
                if anchor is None:
                    raise ValueError("--anchor takes a checkpoint digest (64 lowercase hex digits)")
            elif arg == "--allow-tail":
                allow_tail = True
            else:
                args.append(arg)
        if len(args) != 1:
            raise ValueError("usage: seal_verify.py [--pubkey FILE] [--anchor DIGEST] [--allow-tail] PATH")
        if os.path.isdir(args[0]):
            if anchor is not None:
                raise ValueError("--anchor names a checkpoint of one log, not of a ledger directory")
            import seal_ledger_verify
            findings = seal_ledger_verify.verify_ledger(args[0], public)
            passed = all(f["rule"] in seal_ledger_verify.NOTES for f in findings)
        else:
            findings = verify(args[0], public, anchor)
            passed = all(allow_tail and f["rule"] == "seal.unsealed_tail" for f in findings)
    except (OSError, ValueError, StopIteration) as e:
        print(f"seal_verify.py: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"passed": passed, "findings": findings}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
