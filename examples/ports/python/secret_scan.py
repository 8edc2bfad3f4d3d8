"""The secret rules of the validator: `secret.value` and `secret.pattern`, for one line.

Model
-----
`secret.value`: the value of a supplied secret must not appear in a line, in any form a
writer could have given it. The line's text is decoded into *views*: the raw text, then,
repeatedly (up to `DECODE_ROUNDS` times, so nested forms such as a JSON escape of a JSON
escape are undone), JSON string escapes, percent-encoding, HTML character references and
`\\xNN` escapes. The reference's depth cap is the same (4 layers): a view that deep which
would still decode is `secret.scan_incomplete` (a warning: a secret in the next layer
would go unreported), when secrets are supplied. (The reference's other caps, a decoding
budget per decoder and a number of views, bound hostile input; this port has neither, so it
never reports them.)
In each view the secret is looked for raw, as hex (any case, pairs optionally separated by
`:`, `-` or spaces) and as base64 or base64url at any byte offset (line breaks ignored).
One finding per secret per line, whatever the number of hits.

`secret.pattern`: the built-in detector of well-known credential formats (OpenAI,
Anthropic, AWS, GitHub, Slack, Google, Stripe, PEM and PGP private keys, JWT), one finding
per kind per line, on the raw text and its decoded views. A token must start a word, and its
body must look random (the reference's rule: a body made only of word-like segments needs
4.5 bits of entropy per character, any other body 3.0). The sandbox's placeholders
(`SANDBOX_SECRET_` + 32 lowercase hex digits) are never findings; they are cut out first, so
a key glued to one is still found.

Messages name the secret or the kind, never the value.
"""

import base64
import binascii
import html
import math
import re
import urllib.parse
from collections import Counter

DECODE_ROUNDS = 4
PLACEHOLDER = re.compile(r"SANDBOX_SECRET_[0-9a-f]{32}")
JSON_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
JSON_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
HEX_RUN = re.compile(r"[0-9A-Fa-f]{2}(?:[:\- ]?[0-9A-Fa-f]{2})+")
WORD_START = r"(?<![A-Za-z0-9_-])"

# (kind, pattern of the whole token, group holding the body judged for randomness or None,
#  minimum entropy rule: "random", "aws" or None)
DETECTORS = [
    ("Anthropic API key", WORD_START + r"sk-ant-(?:(?:api|admin)\d\d-)?([A-Za-z0-9_-]{20,})", "random"),
    ("OpenAI API key", WORD_START + r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,})", "random"),
    ("AWS access key id", WORD_START + r"(?:AKIA|ASIA)([A-Z0-9]{16})(?![A-Za-z0-9])", "aws"),
    ("GitHub token", WORD_START + r"(?:gh[pousr]_|github_pat_)([A-Za-z0-9_]{36,255})(?![A-Za-z0-9_])", "random"),
    ("Slack token", WORD_START + r"(?:xox[abeoprs]|xapp)-([A-Za-z0-9-]{10,})", "slack"),
    ("Google API key", WORD_START + r"AIza([A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])", "random"),
    ("Stripe live key", WORD_START + r"[sr]k_live_([A-Za-z0-9]{16,})", "random"),
    ("PGP private key block", r"-----BEGIN PGP PRIVATE KEY BLOCK-----()", None),
    ("PEM private key", r"-----BEGIN (?![A-Z0-9 ]*BLOCK)[A-Z0-9 ]*PRIVATE KEY-----()", None),
    ("JSON Web Token", WORD_START + r"eyJ[A-Za-z0-9_-]{7,}\.eyJ[A-Za-z0-9_-]{7,}\.([A-Za-z0-9_-]{16,})", None),
]
DETECTORS = [(kind, re.compile(p), rule) for kind, p, rule in DETECTORS]


def scan(text, secrets, builtin_detectors):
    """[(rule, message, value or None)] for one line; `secrets` is [(name, value)]."""
    cuts = []
    views = decoded_views(text, cuts)
    found = []
    if cuts and secrets:
        found.append(("secret.scan_incomplete", f"secret scan incomplete: the depth limit "
                      f"({DECODE_ROUNDS} layers) was reached", None))
    for name, value in secrets:
        if any(holds_secret(view, value) for view in views):
            found.append(("secret.value", f"value of secret {name} found; value redacted", value))
    if builtin_detectors:
        kinds = []
        for view in views:
            for kind in detect(view):
                if kind not in kinds:
                    kinds.append(kind)
        found += [("secret.pattern", f"{kind} found; value redacted", None) for kind in kinds]
    return found


def locate(value, secret, path=""):
    """The JSON pointer of the first string of the parsed line `value` holding `secret`
    (a key is held by its object), or None (the line did not parse)."""
    def holds(text):
        return any(holds_secret(view, secret) for view in decoded_views(text))

    if isinstance(value, str):
        return path if holds(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if holds(key):
                return path
            found = locate(item, secret, path + "/" + key.replace("~", "~0").replace("/", "~1"))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = locate(item, secret, f"{path}/{i}")
            if found is not None:
                return found
    return None


def decoded_views(text, cuts=None):
    """The text and what decoding it (escapes, percent, entities) gives, deduplicated.

    Text still encoded after DECODE_ROUNDS is never passed silently: a value one layer
    deeper would go unseen, so the depth is appended to `cuts` (the caller reports
    `secret.scan_incomplete`, as the reference does at its depth limit).
    """
    views = [text]
    frontier = [text]
    for _ in range(DECODE_ROUNDS):
        frontier = [v for v in decode_once(frontier) if v not in views]
        views += frontier
    if cuts is not None and any(v not in views for v in decode_once(frontier)):
        cuts.append(DECODE_ROUNDS)
    return views


def decode_once(texts):
    """Every decoding of every text in `texts`, in order, deduplicated."""
    out = []
    for view in texts:
        for decode in (json_unescape, percent_decode, html.unescape, hex_unescape):
            decoded = decode(view)
            if decoded not in out:
                out.append(decoded)
    return out


def json_unescape(text):
    """Undoes JSON string escapes wherever they are (lone surrogates kept as such)."""

    def one(m):
        esc = m.group(1)
        return chr(int(esc[1:], 16)) if esc[0] == "u" else JSON_SIMPLE[esc]

    return JSON_ESCAPE.sub(one, text)


HEX_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def hex_unescape(text):
    """Undoes `\\xNN` escapes (a byte each, read as Latin-1)."""
    return HEX_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def percent_decode(text):
    return urllib.parse.unquote(text, errors="surrogateescape")


def holds_secret(view, value):
    if value in view:
        return True
    for raw in (value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")):
        # UTF-16 text as JSON writes it: each unit's bytes as characters (`s\u0000...`).
        if raw.decode("latin-1") in view or holds_hex(view, raw) or holds_base64(view, raw):
            return True
    return False


def holds_hex(view, raw):
    wanted = raw.hex()
    for m in HEX_RUN.finditer(view):
        if wanted in re.sub(r"[:\- ]", "", m.group(0)).lower():
            return True
    return False


def base64_cores(raw):
    """The base64 text of `raw` that does not depend on its neighbours, at offsets 0, 1, 2."""
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        first = math.ceil(8 * offset / 6)
        last = (8 * (offset + len(raw))) // 6
        core = encoded[first:last]
        if len(core) >= 4:
            cores.append(core)
    return cores


def holds_base64(view, raw):
    compact = re.sub(r"\s|\\[nr]", "", view)
    for core in base64_cores(raw):
        urlsafe = core.replace("+", "-").replace("/", "_")
        if core in compact or urlsafe in compact:
            return True
    return False


def detect(text):
    """The credential kinds found in `text`, placeholders cut out first."""
    text = PLACEHOLDER.sub(" ", text)
    kinds = []
    for kind, pattern, rule in DETECTORS:
        if any(body_passes(m.group(1), rule) for m in pattern.finditer(text)):
            kinds.append(kind)
    return kinds


def entropy(text):
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def word_like(segment):
    if len(segment) <= 3:
        return True
    m = re.fullmatch(r"([A-Za-z]+)[0-9]*", segment)
    if not m:
        return False
    letters = m.group(1)
    return letters.islower() or letters.isupper() or (letters[0].isupper() and letters[1:].islower())


def looks_random(body):
    segments = [s for s in re.split(r"[-_.]", body) if s]
    if segments and all(word_like(s) for s in segments):
        return entropy(body.lower()) >= 4.5
    return entropy(body.lower()) >= 3.0


def body_passes(body, rule):
    if rule == "random":
        return looks_random(body)
    if rule == "aws":
        return entropy(body) >= 2.5
    if rule == "slack":
        return bool(re.match(r"\d{8,}-", body)) and len(body) >= 20 or looks_random(body)
    return True


def _selfcheck():
    assert base64.b64decode(base64_cores(b"abcdef")[0]) == b"abcdef"
    assert holds_secret("dXNlcjpzM2NyM3QtVmFsdWUtMDA0Mg==", "s3cr3t-Value-0042")
    assert detect("key sk-proj-abcdefghijklmnopqrstuvwxyz012345") == ["OpenAI API key"]
    assert detect("SANDBOX_SECRET_0123456789abcdef0123456789abcdef") == []
    assert binascii.hexlify(b"a") == b"61"


if __name__ == "__main__":
    _selfcheck()
    print("ok")
