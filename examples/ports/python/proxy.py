#!/usr/bin/env python3
"""A second implementation of `agentlog proxy` (profiles v0 and v1), standard library only.

Model
-----
An HTTP/1.1 forward proxy on `--listen`. A client reaches HTTPS hosts with `CONNECT`: the
proxy answers 200, terminates TLS itself with a ready leaf certificate (`--leaf-cert`,
`--leaf-key`, which must cover every host the client will ask for: the standard library
cannot mint certificates), and reads the requests inside the tunnel (tag `tls`). Plain
`http://` URLs arrive in absolute form (tag `http`). Every request, in this order (the
events of each step are `events.py`'s, v0's or v1's by `--profile`):

1. **The gate** (v1, `--allow-host GLOB`): a host no glob matches gets `gate_decision`
   blocked (`host not in allowlist`) and `403 Blocked by policy`, and is never contacted; an
   allowed one `gate_decision` allowed naming the glob. No `--allow-host`: no gate.
2. **The route** (v1, `--route HOST=ADDR:PORT`, `https://ADDR:PORT` for TLS, first match
   wins): a matching host is sent to ADDR:PORT instead (`route_decision` redirected), any
   other goes where it was addressed (`route_decision` passthrough).
3. **Leaks.** The agent holds placeholders, never secrets. A secret is *allowed* for a
   request when one of its host patterns (`--secret NAME=VALUE@HOST,...`) matches the
   request's host and the request travels inside TLS. The placeholder of a secret that is not
   allowed, in a header value, the request target or the body, is a leak: the leaking
   secrets are logged, `403 Blocked by policy`, nothing sent upstream. Leaks are judged by
   the host the agent addressed.
4. **The budget** (`--budget-usd`, `budget.py`): a billable request to an LLM host reserves
   its worst case at the price table's prices (`prices.py`); one that could take spend past
   the limit gets 429 in the provider's error shape (v1: `gate_decision` of the
   `budget_gate`; both: `budget_action` blocked) and never reaches the upstream.
5. **Injection.** Secrets go where the request really goes: for each secret, in the order
   given, allowed for the destination (a route's target when routed) over TLS, its
   placeholder is replaced by its value in header values and the URL query (never the path
   or the body), else it is skipped (a routed request keeps its placeholders). v0 logs each
   (`injected` even when the placeholder was absent, as the reference does); v1 sums them up
   in one `request_transform`.
6. **The exchange.** The request event (v0: `llm_request`, LLM hosts only, the reference's
   built-in list plus `--llm-host` globs; v1: `http_request`, every request) names the
   body's `model` and the reservation. The request is sent upstream (`--connect-to` says
   where to dial instead of HOST:PORT; SNI and Host stay HOST, a routed request's Host is
   its target; `--upstream-ca` is the CA trusted for upstreams), the response is relayed as
   it arrives, and, just before its last byte, its events are written: for an LLM host the
   model and tokens read from the body (`usage.py`) and their cost (the provider's, else
   the price table's), v1's `response_transform` `logged_usage`, the response event, and the
   budget's `warn` when the settled charge crossed the warning line. An upstream failure is
   answered 502.

Events are written by `events.py`. On SIGTERM (or SIGINT) the proxy stops accepting, closes
idle connections, lets exchanges in flight finish (up to `--shutdown-grace` seconds), closes
the log and exits 0.

Not supported (see README.md): minting leaf certificates from a CA, HTTP/2 and WebSockets.

Secret values are never printed; placeholders are (they are what the agent is given).
"""

import argparse
import fnmatch
import http.client
import json
import secrets as random_tokens
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import budget as spend
from events import EventLog
from prices import BUILTIN as BUILTIN_PRICES
from prices import PriceTable, Tokens, tier_of
from usage import UsageReader

BUILTIN_LLM_HOSTS = (
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "openrouter.ai",
    "api.mistral.ai",
    "api.groq.com",
    "api.together.xyz",
    "api.deepseek.com",
)
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
BLOCKED = b"Blocked by policy"
BLOCKED_CLEARTEXT = (
    b"Blocked by policy: secrets are injected only inside TLS; use https:// "
    b"(or start the proxy with --allow-cleartext-injection)"
)
UPSTREAM_TIMEOUT = 300
MAX_REQUEST_BODY = 32 << 20
NOT_IN_ALLOWLIST = "host not in allowlist"


# ---------------------------------------------------------------------------------------------
# Configuration


class Secret:
    """One `--secret NAME=VALUE@HOSTS`; `repr` never shows the value."""

    def __init__(self, spec):
        head, at, hosts = spec.rpartition("@")
        if not at:
            head, hosts = spec, "*"
        name, eq, value = head.partition("=")
        if not name or not eq or not value:
            raise ValueError("--secret must be NAME=VALUE@HOST[,HOST...]")
        self.name, self.value = name, value
        self.hosts = [h.strip().lower() for h in hosts.split(",") if h.strip()]
        if not self.hosts:
            raise ValueError(f"--secret {name}: no host after @")
        self.placeholder = "SANDBOX_SECRET_" + random_tokens.token_hex(16)

    def __repr__(self):
        return f"Secret({self.name})"

    def allows(self, host):
        return any(host_matches(p, host) for p in self.hosts)


def host_matches(pattern, host):
    """`*` is any host; `*.SUFFIX` one or more labels then SUFFIX; `*` in a label any run."""
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        suffix = pattern[2:].split(".")
        labels = host.split(".")
        head = labels[: len(labels) - len(suffix)]
        return bool(head) and all(head) and labels_match(suffix, labels[len(head):])
    return labels_match(pattern.split("."), host.split("."))


def labels_match(patterns, labels):
    return len(patterns) == len(labels) and all(
        (p == label) if "*" not in p else (bool(label) and fnmatch.fnmatchcase(label, p))
        for p, label in zip(patterns, labels)
    )


class Route:
    """One `--route HOST=ADDR:PORT` (`http://ADDR:PORT`, `https://ADDR:PORT`)."""

    def __init__(self, spec):
        def fail(problem):
            return ValueError(f"--route {spec!r}: {problem} (expected HOST=ADDR:PORT or HOST=https://ADDR:PORT)")

        source, eq, to = spec.partition("=")
        if not eq:
            raise fail("no `=`")
        if not source or any(c in source for c in "/:="):
            raise fail("the host before `=` must be a host name or glob")
        scheme, sep, rest = to.partition("://")
        if sep and scheme not in ("http", "https"):
            raise fail("the scheme must be http or https")
        self.https, authority = (scheme == "https", rest) if sep else (False, to)
        host, colon, port = authority.rpartition(":")
        if not colon:
            raise fail("the target needs a port")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise fail("the port must be a number from 1 to 65535")
        host = host.lstrip("[").rstrip("]").lower()
        if not host or any(c in host for c in "/@?#"):
            raise fail("the target needs a host")
        self.pattern, self.host, self.port = source.lower(), host, int(port)
        self.authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Destination:
    """Where a request goes: its own host, or a route's target (`routed_to` its authority)."""

    def __init__(self, host, port, tls, routed_to=""):
        self.host, self.port, self.tls, self.routed_to = host, port, tls, routed_to


def parse_connect_to(specs):
    """{(host, port): (addr, port)} from `HOST:PORT=ADDR:PORT` lists (comma-separated)."""
    table = {}
    for spec in specs:
        for entry in filter(None, (e.strip() for e in spec.split(","))):
            source, eq, dest = entry.partition("=")
            if not eq:
                raise ValueError(f"--connect-to {entry!r}: expected HOST:PORT=ADDR:PORT")
            host, _, port = source.rpartition(":")
            addr, _, dport = dest.rpartition(":")
            table[(host.lower(), int(port))] = (addr, int(dport))
    return table


def parse_args(argv):
    p = argparse.ArgumentParser(prog="proxy.py", description=__doc__.split("\n")[0])
    p.add_argument("--listen", default="127.0.0.1:8080")
    p.add_argument("--event-log", required=True)
    p.add_argument("--leaf-cert", required=True, help="PEM leaf certificate for every host")
    p.add_argument("--leaf-key", required=True)
    p.add_argument("--upstream-ca", help="PEM CA trusted for upstreams (default: the system's)")
    p.add_argument("--connect-to", action="append", default=[], metavar="HOST:PORT=ADDR:PORT")
    p.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE@HOSTS")
    p.add_argument("--placeholder", action="append", default=[], metavar="NAME=PLACEHOLDER")
    p.add_argument("--llm-host", action="append", default=[], metavar="GLOB")
    p.add_argument("--run-id", default="vm-" + random_tokens.token_hex(4))
    p.add_argument("--agent-system", default="python-port")
    p.add_argument("--shutdown-grace", type=float, default=8.0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--profile", default="v0", choices=("v0", "v1"), help="which events are written")
    p.add_argument("--allow-host", action="append", default=[], metavar="GLOB", help="v1: the host allowlist")
    p.add_argument("--route", action="append", default=[], metavar="HOST=ADDR:PORT", help="v1: send HOST elsewhere")
    p.add_argument("--budget-usd", type=non_negative, metavar="LIMIT", help="refuse LLM requests that could pass it")
    p.add_argument("--budget-warn-at", type=fraction, default=0.8, metavar="FRACTION")
    p.add_argument("--prices", metavar="FILE", help="a LiteLLM price table overriding the built-in one")
    args = p.parse_args(argv)
    if args.profile == "v0" and (args.allow_host or args.route):
        p.exit(2, "proxy.py: --allow-host and --route need --profile v1 (v0 has no gate_decision or route_decision event)\n")
    try:
        args.secrets = [Secret(s) for s in args.secret]
        apply_placeholders(args.secrets, args.placeholder)
        args.connect_to = parse_connect_to(args.connect_to)
        args.allow_host = [g.strip().lower() for g in args.allow_host if g.strip()]
        args.routes = [Route(r) for r in args.route]
        args.prices = load_prices(args.prices)
    except (ValueError, OSError) as e:
        p.error(str(e))
    args.budget = None
    if args.budget_usd is not None:
        try:
            spent, tokens = spend.restore_from_log(args.event_log)
        except OSError as e:
            p.exit(2, f"proxy.py: read {args.event_log} for the budget: {e.strerror}\n")
        args.budget = spend.Budget(args.budget_usd, args.budget_warn_at, spent, tokens)
    return args


def non_negative(text):
    value = float(text)
    if not 0 <= value < float("inf"):
        raise ValueError(text)
    return value


def fraction(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def load_prices(path):
    table = PriceTable.load(BUILTIN_PRICES)
    return table.with_overrides(PriceTable.load(path)) if path else table


def apply_placeholders(secrets, specs):
    by_name = {s.name: s for s in secrets}
    for i, spec in enumerate(specs, start=1):
        name, eq, placeholder = spec.partition("=")
        if not eq or name not in by_name:
            raise ValueError(f"--placeholder #{i}: the name is not a configured secret")
        if not placeholder or not placeholder.isascii() or not placeholder.isprintable():
            raise ValueError(f"--placeholder for {name}: empty or not printable ASCII")
        by_name[name].placeholder = placeholder
    for s in secrets:
        if any(s.placeholder in o.value or o.value in s.placeholder for o in secrets):
            raise ValueError(f"placeholder of {s.name} overlaps a secret value")


# ---------------------------------------------------------------------------------------------
# One exchange


class Exchange:
    """What the events say about one request: method, host, path (no query; in v1
    percent-decoded, as Go's `URL.Path`), tag, and where it was routed (`host:port`)."""

    def __init__(self, method, host, target, tls, profile):
        self.method = method
        self.host = host
        path = urllib.parse.urlsplit(target).path
        self.path = urllib.parse.unquote(path, errors="replace") if profile == "v1" else path or "/"
        self.tag = "tls" if tls else "http"
        self.routed_to = ""


def find_leaks(config, host, tls, target, headers, body):
    """Secrets not allowed for this request whose placeholder it carries."""
    leaks = []
    for s in config.secrets:
        if tls and s.allows(host):
            continue
        ph = s.placeholder
        if ph in target or any(ph in v for _, v in headers) or ph.encode() in body:
            leaks.append(s)
    return leaks


def inject(config, host, tls, target, headers):
    """(target, headers, [(secret, action)]): placeholders replaced for allowed secrets."""
    outcomes = []
    split = urllib.parse.urlsplit(target)
    query = split.query
    for s in config.secrets:
        if tls and s.allows(host):
            headers = [(k, v.replace(s.placeholder, s.value)) for k, v in headers]
            query = query.replace(s.placeholder, s.value)
            outcomes.append((s, "injected"))
        else:
            outcomes.append((s, "skipped"))
    target = urllib.parse.urlunsplit(("", "", split.path or "/", query, ""))
    return target, headers, outcomes


def is_llm(config, host):
    return host in BUILTIN_LLM_HOSTS or any(host_matches(g, host) for g in config.llm_host)


def error_body(host, code, anthropic_type, message):
    """A local answer in the error shape of the provider the request was for."""
    message = f"agentlog proxy: {message}"
    if host == "anthropic.com" or host.endswith(".anthropic.com"):
        payload = {"type": "error", "error": {"type": anthropic_type, "message": message}}
    else:
        payload = {"error": {"message": message, "type": "agentlog_proxy_error", "param": None, "code": code}}
    return json.dumps(payload).encode()


def round_usd(usd):
    rounded = round(usd * 1e12) / 1e12 if usd * 1e12 < 1e300 else usd
    return rounded if rounded == rounded else usd


def price_response(config, usage, complete, requested):
    """(usage state, (cost, source, tier) or None) of an LLM response, as the reference
    accounts it: the provider's cost, else the price table's at the tier the response states
    (else the one the request asked for)."""
    state = "unknown" if not usage.known() else ("" if complete else "partial")
    tier = tier_of(usage.service_tier) if usage.service_tier else requested
    if usage.provider_cost is not None:
        return state, (usage.provider_cost, "provider", "")
    price = config.prices.lookup(usage.model) if usage.known() else None
    if price is None:
        return state, None
    c = usage.counts
    tokens = Tokens(
        input=c["input_tokens"] or 0,
        cached_read=c["cached_input_tokens"] or 0,
        cache_creation=c["cache_creation_input_tokens"] or 0,
        cache_creation_1h=usage.cache_creation_1h or 0,
        output=c["output_tokens"] or 0,
    )
    usd = price.cost_usd(tokens, tier) * price.surcharge(usage.inference_geo)
    return state, (round_usd(usd), "price_table", tier)


def open_upstream(config, host, port, tls):
    """An http.client connection that dials where --connect-to says, SNI and Host kept."""
    addr = config.connect_to.get((host, port), (host, port))
    if not tls:
        return RedirectedHTTP(host, port, addr)
    return RedirectedHTTPS(host, port, addr, config.upstream_context)


class RedirectedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, addr):
        super().__init__(host, port, timeout=UPSTREAM_TIMEOUT)
        self.addr = addr

    def connect(self):
        self.sock = socket.create_connection(self.addr, self.timeout)


class RedirectedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, addr, context):
        super().__init__(host, port, timeout=UPSTREAM_TIMEOUT, context=context)
        self.addr = addr

    def connect(self):
        raw = socket.create_connection(self.addr, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


# ---------------------------------------------------------------------------------------------
# The server


class Connections:
    """Open client connections and whether each is between requests, for a clean shutdown.

    A connection is known by a key that stays the same when a CONNECT turns its socket into
    a TLS socket (which takes the file descriptor over)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.open = {}  # key -> [socket, idle]
        self.stopping = False

    def set_idle(self, key, sock, idle):
        """Records the connection's state; True when the proxy is shutting down."""
        with self.lock:
            self.open[key] = [sock, idle]
            return self.stopping

    def forget(self, key):
        with self.lock:
            self.open.pop(key, None)

    def stop(self):
        """Closes every idle connection; busy ones close after their exchange."""
        with self.lock:
            self.stopping = True
            for sock, idle in self.open.values():
                if idle:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def busy(self):
        with self.lock:
            return sum(1 for _, idle in self.open.values() if not idle)


class ProxyServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(self, config):
        host, _, port = config.listen.rpartition(":")
        self.config = config
        self.connections = Connections()
        super().__init__((host, int(port)), ClientHandler)

    def handle_error(self, request, client_address):
        kind = sys.exc_info()[0].__name__
        if not self.config.quiet:
            print(f"proxy.py: connection error ({kind})", file=sys.stderr)


class ClientHandler(BaseHTTPRequestHandler):
    """One client connection: CONNECT tunnels and absolute-form http:// requests."""

    protocol_version = "HTTP/1.1"
    tls = False
    tunnel_host = tunnel_port = None

    def setup(self):
        super().setup()
        if not hasattr(self, "conn_key"):
            self.conn_key = object()

    def finish(self):
        try:
            super().finish()
        finally:
            if not self.tls:
                self.server.connections.forget(self.conn_key)

    def log_message(self, *args):
        pass  # request lines may carry placeholders; nothing is logged per request

    def handle_one_request(self):
        if self.server.connections.set_idle(self.conn_key, self.connection, True):
            self.close_connection = True
            return
        super().handle_one_request()

    def begin(self):
        """Marks the connection busy; when shutting down, it closes after this request."""
        if self.server.connections.set_idle(self.conn_key, self.connection, False):
            self.close_connection = True

    def do_CONNECT(self):
        self.begin()
        host, _, port = self.path.rpartition(":")
        if self.tls or not host or not port.isdigit():
            return self.reply(400, b"bad CONNECT target\n")
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.config.client_context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        try:
            TunnelHandler(tls, self.client_address, self.server, self.conn_key, host.lower(), int(port))
        finally:
            tls.close()
        self.close_connection = True

    def proxy(self):
        self.begin()
        if self.tls:
            host, port, target = self.tunnel_host, self.tunnel_port, self.path
        else:
            url = urllib.parse.urlsplit(self.path)
            if url.scheme != "http" or not url.hostname:
                return self.reply(400, b"absolute-form http:// URL expected\n")
            host, port = url.hostname.lower(), url.port or 80
            target = urllib.parse.urlunsplit(("", "", url.path or "/", url.query, ""))
        try:
            body = self.read_body()
        except ValueError:
            return self.reply(400, b"request body could not be read\n")
        self.exchange(host, port, target, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = proxy

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) != length:
            raise ValueError("short body")
        return body

    def read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def forward_headers(self):
        named = {
            t.strip().lower() for t in self.headers.get("Connection", "").split(",") if t.strip()
        }
        skip = HOP_BY_HOP | named | {"content-length", "expect"}
        return [(k, v) for k, v in self.headers.items() if k.lower() not in skip]

    def exchange(self, host, port, target, body):
        config, log = self.server.config, self.server.config.log
        headers = self.forward_headers()
        ex = Exchange(self.command, host, target, self.tls, config.profile)
        dest = self.decide(ex, port)
        if dest is None:
            return self.reply(403, BLOCKED)
        leaks = find_leaks(config, host, self.tls, target, headers, body)
        if leaks:
            return self.refuse_leaks(leaks, host)
        llm = is_llm(config, host)
        facts = None
        if llm:
            encodings = self.headers.get_all("Content-Encoding") or []
            facts = spend.facts_of_encoded(target, encodings, body, MAX_REQUEST_BODY)
        reserved = None
        if facts is not None and config.budget is not None and spend.billable(self.command, headers):
            reserved, standing = config.budget.reserve(spend.worst_case(facts, config.prices))
            if reserved is None:
                return self.refuse_over_budget(ex, standing)
        # Secrets go where the request really goes: a routed request gets those allowed for
        # the route's target, and only over TLS.
        target, headers, outcomes = inject(config, dest.host, dest.tls, target, headers)
        log.injections([(secret.name, action) for secret, action in outcomes], dest.host, ex.tag)
        if llm or config.profile == "v1":
            log.request(ex, facts.model if facts else "", reserved)
        requested = facts.requested_tier() if facts else "standard"
        self.relay(ex, llm, dest, target, headers, body, (reserved, requested))

    def decide(self, ex, port):
        """The v1 decisions, before anything else: the host gate (None: refused), then the
        route. Returns where the request goes."""
        config, log = self.server.config, self.server.config.log
        if config.allow_host:
            pattern = next((p for p in config.allow_host if host_matches(p, ex.host)), None)
            if pattern is None:
                log.gate_decision(ex.host, "host_filter", False, reason=NOT_IN_ALLOWLIST)
                return None
            log.gate_decision(ex.host, "host_filter", True, pattern=pattern)
        if not config.routes:
            return Destination(ex.host, port, self.tls)
        route = next((r for r in config.routes if host_matches(r.pattern, ex.host)), None)
        if route is None:
            log.route_decision(ex.host, "passthrough", "", f"no route entry for host {ex.host}")
            return Destination(ex.host, port, self.tls)
        reason = f"matched route {route.pattern} -> {route.authority}"
        log.route_decision(ex.host, "redirected", route.authority, reason)
        if route.host != ex.host or route.https != self.tls:
            ex.routed_to = route.authority
        return Destination(route.host, route.port, route.https, route.authority)

    def refuse_leaks(self, leaks, host):
        self.server.config.log.leaks([s.name for s in leaks], host, "tls" if self.tls else "http")
        cleartext = not self.tls and all(s.allows(host) for s in leaks)
        self.reply(403, BLOCKED_CLEARTEXT if cleartext else BLOCKED)

    def refuse_over_budget(self, ex, standing):
        """429 in the provider's error shape; v1 writes the budget gate's decision first."""
        log = self.server.config.log
        spent, limit = spend.usd_text(standing.spent), spend.usd_text(standing.spent + standing.remaining)
        if log.v1:
            log.gate_decision(ex.host, "budget_gate", False, reason=f"budget exhausted: ${spent} of ${limit} spent")
        log.budget_action("blocked", standing)
        message = (
            f"budget exhausted: ${spent} of ${limit} spent, this request could cost more than "
            f"the ${spend.usd_text(standing.remaining)} left (--budget-usd)"
        )
        body = error_body(ex.host, "budget_exceeded", "rate_limit_error", message)
        self.reply(429, body, "application/json", {"x-agentlog-error": "budget_exceeded"})

    def relay(self, ex, llm, dest, target, headers, body, held):
        started = time.monotonic()
        conn = open_upstream(self.server.config, dest.host, dest.port, dest.tls)
        if dest.routed_to:
            headers = [(k, dest.routed_to if k.lower() == "host" else v) for k, v in headers]
        reach = spend.NOT_SENT
        try:
            conn.connect()
            reach = spend.SENT
            conn.putrequest(ex.method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if body or ex.method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            message = f"upstream {dest.host}:{dest.port} failed: {type(e).__name__}"
            body = error_body(ex.host, "upstream_failed", "api_error", message)
            self.finish_exchange(ex, llm, started, (502, len(body)), UsageReader("", ""), reach, held)
            return self.reply(502, body, "application/json", {"x-agentlog-error": "upstream_failed"})
        try:
            reader = UsageReader(response.getheader("Content-Type"), response.getheader("Content-Encoding"))

            def before_end(sent):
                self.finish_exchange(ex, llm, started, (response.status, sent), reader, spend.ANSWERED, held)

            self.send_upstream_response(ex, response, reader, before_end)
        finally:
            conn.close()

    def finish_exchange(self, ex, llm, started, outcome, reader, reach, held):
        """The response's events: v1's usage transform, the response event, the budget's
        warning; the reservation `held` = (amount or None, requested tier) settled."""
        config = self.server.config
        log = config.log
        if not (llm or config.profile == "v1"):
            return
        status, sent = outcome
        reserved, requested = held
        usage, state, cost = None, "", None
        if llm:
            usage, complete = reader.finish()
            state, cost = price_response(config, usage, complete, requested)
        warning = None
        if reserved is not None:
            known = cost[0] if cost else None
            charged, from_reservation = spend.charge(status, state, known, reserved, reach)
            if from_reservation:
                cost = (charged, "reservation", requested)
            c = usage.counts if usage else {}
            tokens = (c.get("input_tokens") or 0) + (c.get("output_tokens") or 0)
            standing, crossed = config.budget.settle(reserved, charged, tokens)
            warning = standing if crossed else None
        if log.v1 and usage is not None and usage.known():
            def n(k):
                return "unknown" if usage.counts[k] is None else usage.counts[k]

            model = usage.model or "an unnamed model"
            reason = f"recorded {n('input_tokens')} input and {n('output_tokens')} output tokens for {model}"
            log.response_transform(ex.host, "logged_usage", reason)
        duration = int((time.monotonic() - started) * 1000)
        log.response(ex, status, duration, sent, usage, state, cost)
        if warning is not None:
            log.budget_action("warn", warning)

    def send_upstream_response(self, ex, response, reader, before_end):
        """Relays status, headers and body as they arrive. `before_end(sent)` runs just
        before the response's last byte goes to the client: the exchange's events are in the
        log before the client can see the exchange end (and send its next request)."""
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        bodyless = ex.method == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
        chunked = length is None and not bodyless
        expected = None if chunked or bodyless else int(length)
        for k, v in response.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if bodyless or expected == 0:
            before_end(0)
            self.end_headers()
            return self.wfile.flush()
        self.end_headers()
        sent, ended = 0, False
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            sent += len(chunk)
            reader.feed(chunk)
            if expected is not None and sent >= expected:
                before_end(sent)
                ended = True
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            self.wfile.flush()
            if ended:
                break
        if not ended:
            before_end(sent)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reply(self, status, body, content_type="text/plain; charset=utf-8", extra=None):
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()


class TunnelHandler(ClientHandler):
    """The requests inside one CONNECT tunnel, TLS already terminated."""

    tls = True

    def __init__(self, tls_socket, client_address, server, conn_key, host, port):
        self.conn_key = conn_key
        self.tunnel_host, self.tunnel_port = host, port
        try:
            super().__init__(tls_socket, client_address, server)
        except (OSError, ssl.SSLError):
            pass


# ---------------------------------------------------------------------------------------------
# Start and stop


def tls_contexts(args):
    """(the context presented to clients, the one used to verify upstreams)."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client.load_cert_chain(args.leaf_cert, args.leaf_key)
    client.set_alpn_protocols(["http/1.1"])
    upstream = ssl.create_default_context(cafile=args.upstream_ca)
    upstream.set_alpn_protocols(["http/1.1"])
    return client, upstream


def serve(config):
    server = ProxyServer(config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.start()
    if not config.quiet:
        print(f"proxy.py: listening on {config.listen}", file=sys.stderr)
        for s in config.secrets:
            print(f"proxy.py: placeholder {s.name}={s.placeholder}", file=sys.stderr)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    server.connections.stop()
    deadline = time.monotonic() + config.shutdown_grace
    while server.connections.busy() and time.monotonic() < deadline:
        time.sleep(0.05)
    config.log.close()
    thread.join(1)


def main(argv):
    config = parse_args(argv)
    try:
        config.client_context, config.upstream_context = tls_contexts(config)
    except (OSError, ssl.SSLError) as e:
        print(f"proxy.py: TLS setup failed: {type(e).__name__}: {e.strerror or e}", file=sys.stderr)
        return 2
    values = [s.value for s in config.secrets]
    config.log = EventLog(config.event_log, config.run_id, config.agent_system, values, config.profile)
    serve(config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
