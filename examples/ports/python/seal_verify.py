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

Usage: seal_verify.py [--pubkey FILE] [--anchor DIGEST] [--allow-tail] LOG
Prints one JSON object: {"passed": bool, "findings": [{"rule", "line", "seal_line"}]}.
Exit codes: 0 passed, 1 failed, 2 usage or I/O error.
"""

import hashlib
import json
import re
import sys

MEMBERS = {"agentlog_seal", "lines", "bytes", "chain", "prev", "time", "line_hashes",
           "digest", "signature", "key"}
HEX = re.compile(r"^[0-9a-f]*$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

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


def ed25519_verifies(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# --- Checkpoints --------------------------------------------------------------------------


def hex_bytes(value, size=None):
    if not isinstance(value, str) or not HEX.match(value) or len(value) % 2:
        return None
    data = bytes.fromhex(value)
    return data if size is None or len(data) == size else None


def parse_checkpoint(line):
    """The checkpoint of a seal line, or None when it is not one."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) - MEMBERS:
        return None
    if value.get("agentlog_seal") != 1 or ("signature" in value) != ("key" in value):
        return None
    for member in ("lines", "bytes"):
        if type(value.get(member)) is not int or value[member] < 0:
            return None
    if not isinstance(value.get("time"), str) or not RFC3339.match(value["time"]):
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
    return parsed


def digest_of(c):
    text = (f"agentlog-seal/1\nlines={c['lines']}\nbytes={c['bytes']}\nchain={c['chain'].hex()}\n"
            f"prev={c['prev'].hex()}\ntime={c['time']}\nline_hashes={c['line_hashes_hex']}\n")
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
        if c["lines"] < lines or c["bytes"] < size or len(c["line_hashes"]) != c["lines"] - lines:
            return findings + [finding("seal.checkpoint_inconsistent", seal_line=index)]
        if public is not None:
            if c["signature"] is None:
                findings.append(finding("seal.unsigned", seal_line=index))
            elif c["signature"][1] != public:
                findings.append(finding("seal.other_key", seal_line=index))
            elif not ed25519_verifies(public, c["digest"], c["signature"][0]):
                findings.append(finding("seal.bad_signature", seal_line=index))
        prev, lines, size = c["digest"], c["lines"], c["bytes"]
    return findings


def compare_lines(data, checkpoints):
    expected = [h for c in checkpoints for h in c["line_hashes"]]
    ends = {c["lines"]: (index, c) for index, c in enumerate(checkpoints, start=1)}
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
        if number in ends:
            index, c = ends[number]
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


def verify(log, public, anchor):
    data = open(log, "rb").read()
    try:
        seal = open(log + ".seal", "rb").read()
    except FileNotFoundError:
        seal = b""
    checkpoints = []
    lines = seal.split(b"\n")
    if lines[-1]:
        # The last checkpoint has no newline: it was cut short.
        return [finding("seal.malformed", seal_line=len(lines))]
    for index, line in enumerate(lines[:-1], start=1):
        c = parse_checkpoint(line)
        if c is None:
            return [finding("seal.malformed", seal_line=index)]
        checkpoints.append(c)
    if not checkpoints:
        return [finding("seal.missing")]
    findings = check_chain(checkpoints, public)
    if anchor is not None and all(c["digest"] != anchor for c in checkpoints):
        findings.append(finding("seal.anchor_missing"))
    return findings or compare_lines(data, checkpoints)


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
            raise ValueError("usage: seal_verify.py [--pubkey FILE] [--anchor DIGEST] [--allow-tail] LOG")
        findings = verify(args[0], public, anchor)
    except (OSError, ValueError, StopIteration) as e:
        print(f"seal_verify.py: error: {e}", file=sys.stderr)
        return 2
    passed = all(allow_tail and f["rule"] == "seal.unsealed_tail" for f in findings)
    print(json.dumps({"passed": passed, "findings": findings}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
