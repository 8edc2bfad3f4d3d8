#!/usr/bin/env python3
"""A second implementation of `agentlog proxy` (v0 profile), standard library only.

Model
-----
An HTTP/1.1 forward proxy on `--listen`. A client reaches HTTPS hosts with `CONNECT`: the
proxy answers 200, terminates TLS itself with a ready leaf certificate (`--leaf-cert`,
`--leaf-key`, which must cover every host the client will ask for: the standard library
cannot mint certificates), and reads the requests inside the tunnel (tag `tls`). Plain
`http://` URLs arrive in absolute form (tag `http`). Every request, in this order:

1. **Leaks.** The agent holds placeholders, never secrets. A secret is *allowed* for a
   request when one of its host patterns (`--secret NAME=VALUE@HOST,...`) matches the
   request's host and the request travels inside TLS. The placeholder of a secret that is not
   allowed, in a header value, the request target or the body, is a leak: one
   `key_injection` `leak_blocked` per leaking secret, `403 Blocked by policy`, nothing sent
   upstream.
2. **Injection.** For each secret, in the order given: allowed, its placeholder is replaced
   by its value in header values and the URL query (never the path or the body), event
   `injected` (even when the placeholder was absent, as the reference does); not allowed,
   event `skipped`.
3. **The exchange.** For an LLM host (the reference's built-in list, plus `--llm-host`
   globs) `llm_request` names the body's `model`. The request is sent upstream (`--connect-to`
   says where to dial instead of HOST:PORT; SNI and Host stay HOST; `--upstream-ca` is the CA
   trusted for upstreams), the response is relayed as it arrives, and for an LLM host
   `llm_response` records status, duration, bytes relayed, and the model and tokens read from
   the body (`usage.py`). An upstream failure is answered 502.

Events are written by `events.py`. On SIGTERM (or SIGINT) the proxy stops accepting, closes
idle connections, lets exchanges in flight finish (up to `--shutdown-grace` seconds), closes
the log and exits 0.

Not supported (see README.md): the v1 profile, `--allow-host`, `--route`, `--budget-usd`
(the proxy refuses to start with them), minting leaf certificates from a CA, HTTP/2 and
WebSockets.

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

from events import EventLog
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
    # Accepted so that a harness template can pass them; refused below (not supported).
    p.add_argument("--profile", default="v0")
    p.add_argument("--allow-host", action="append", default=[])
    p.add_argument("--route", action="append", default=[])
    p.add_argument("--budget-usd")
    args = p.parse_args(argv)
    refuse_unsupported(p, args)
    try:
        args.secrets = [Secret(s) for s in args.secret]
        apply_placeholders(args.secrets, args.placeholder)
        args.connect_to = parse_connect_to(args.connect_to)
    except ValueError as e:
        p.error(str(e))
    return args


def refuse_unsupported(parser, args):
    unsupported = []
    if args.profile != "v0":
        unsupported.append(f"--profile {args.profile}")
    for flag, value in (("--allow-host", args.allow_host), ("--route", args.route)):
        if value:
            unsupported.append(flag)
    if args.budget_usd is not None:
        unsupported.append("--budget-usd")
    if unsupported:
        parser.exit(2, f"proxy.py: not supported by this port: {', '.join(unsupported)}\n")


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
    """What the events say about one request: method, host, path (no query), tag."""

    def __init__(self, method, host, target, tls):
        self.method = method
        self.host = host
        self.path = urllib.parse.urlsplit(target).path or "/"
        self.tag = "tls" if tls else "http"


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


def request_model(body):
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    model = value.get("model") if isinstance(value, dict) else None
    return model if isinstance(model, str) else ""


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
        leaks = find_leaks(config, host, self.tls, target, headers, body)
        if leaks:
            return self.refuse_leaks(leaks, host)
        target, headers, outcomes = inject(config, host, self.tls, target, headers)
        ex = Exchange(self.command, host, target, self.tls)
        for secret, action in outcomes:
            log.key_injection(secret.name, host, action, ex.tag)
        llm = is_llm(config, host)
        if llm:
            log.llm_request(ex, request_model(body))
        self.relay(ex, llm, port, target, headers, body)

    def refuse_leaks(self, leaks, host):
        for s in leaks:
            self.server.config.log.key_injection(s.name, host, "leak_blocked", "tls" if self.tls else "http")
        cleartext = not self.tls and all(s.allows(host) for s in leaks)
        self.reply(403, BLOCKED_CLEARTEXT if cleartext else BLOCKED)

    def relay(self, ex, llm, port, target, headers, body):
        started = time.monotonic()
        conn = open_upstream(self.server.config, ex.host, port, self.tls)
        try:
            conn.putrequest(ex.method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if body or ex.method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            body = self.upstream_failed_body(ex, port, e)
            self.finish_exchange(ex, llm, started, 502, len(body), UsageReader("", ""))
            return self.reply(502, body, "application/json")
        try:
            reader = UsageReader(response.getheader("Content-Type"), response.getheader("Content-Encoding"))

            def before_end(sent):
                self.finish_exchange(ex, llm, started, response.status, sent, reader)

            self.send_upstream_response(ex, response, reader, before_end)
        finally:
            conn.close()

    def upstream_failed_body(self, ex, port, error):
        message = f"agentlog proxy: upstream {ex.host}:{port} failed: {type(error).__name__}"
        payload = {"error": {"message": message, "type": "agentlog_proxy_error", "param": None, "code": "upstream_failed"}}
        return json.dumps(payload).encode()

    def finish_exchange(self, ex, llm, started, status, sent, reader):
        if not llm:
            return
        usage, complete = reader.finish()
        duration = int((time.monotonic() - started) * 1000)
        self.server.config.log.llm_response(ex, status, duration, sent, usage, complete)

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

    def reply(self, status, body, content_type="text/plain; charset=utf-8"):
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
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
    config.log = EventLog(config.event_log, config.run_id, config.agent_system, values)
    serve(config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
