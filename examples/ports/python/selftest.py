#!/usr/bin/env python3
"""Runs the v0 interceptor scenarios (conformance/scenarios/*.json) through proxy.py, on
loopback, without the Rust harness: a stand-in for `agentlog conformance proxy` while
developing the port.

Model
-----
Like the harness (see /conformance/README.md), per scenario:

1. a TLS mock upstream (the test kit's responses: OpenAI chat and responses, Anthropic
   messages, JSON and SSE, `x-testkit-status`, `GET /v1/models`) and a plain-HTTP one,
   recording what they receive in one list (the test kit's TLS fixture is a TLS front for
   the plain mock); `--connect-to` sends api.openai.com and api.anthropic.com (ports 443
   and 80) there;
2. proxy.py started with the scenario's secrets and placeholders, a leaf certificate for the
   scenario hosts signed by a CA made for the run, and the upstream's CA;
3. the requests sent through it with http.client (CONNECT for https://, absolute form for
   http://), trusting only the proxy's CA;
4. SIGTERM, at most 10 s to exit; then statuses, upstream requests and events are compared
   (events: count exact, listed keys equal, `data` a subset), and the log must hold no secret
   value and pass validate.py --profile v0 (and `agentlog validate --profile v0` when
   `agentlog` is on PATH).

Certificates are made with the `openssl` command-line tool (the standard library cannot).
Scenarios listed in unsupported-proxy.txt are reported UNSUPPORTED and not run.

Usage: python3 selftest.py [SCENARIO_NAME...]   (exit 0 when no scenario failed)
"""

import fnmatch
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "..", "..", "..", "conformance", "scenarios")
HOSTS = ("api.openai.com", "api.anthropic.com", "localhost", "127.0.0.1")


# ---------------------------------------------------------------------------------------------
# Certificates


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-keyout", f"{name}-key.pem", "-out", f"{name}.pem", cwd=d)


def make_leaf(d, ca, name):
    san = ",".join(("IP:" if h[0].isdigit() else "DNS:") + h for h in HOSTS)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)


# ---------------------------------------------------------------------------------------------
# The mock upstream (crates/testkit/src/mocks.rs, same bodies)

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"


def compact(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def openai_chat_sse():
    chunks = [
        {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": OPENAI_MODEL,
         "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
        for w in ("Hel", "lo", "!")
    ]
    chunks.append({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": OPENAI_MODEL,
                   "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})
    return "".join(f"data: {compact(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def anthropic_sse():
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_test", "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL, "content": [], "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello!"}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 15}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return "".join(f"event: {n}\ndata: {compact(d)}\n\n" for n, d in events)


CHAT = {"id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000, "model": OPENAI_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}
RESPONSES = {"id": "resp_test", "object": "response", "status": "completed", "model": OPENAI_MODEL,
             "output": [], "usage": {"input_tokens": 7, "output_tokens": 11, "total_tokens": 18}}
MESSAGE = {"id": "msg_test", "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL,
           "content": [{"type": "text", "text": "Hello!"}], "stop_reason": "end_turn",
           "usage": {"input_tokens": 21, "output_tokens": 8}}


def mock_answer(method, path, headers, body):
    """(status, content type, body text) as the test kit's mocks answer."""
    if headers.get("x-testkit-status"):
        status = int(headers["x-testkit-status"])
        return status, "application/json", compact({"error": {"message": "mock error", "type": "mock_error", "code": status}})
    try:
        stream = bool(json.loads(body or b"{}").get("stream"))
    except (ValueError, AttributeError):
        stream = False
    if method == "POST" and path == "/v1/chat/completions":
        return (200, "text/event-stream", openai_chat_sse()) if stream else (200, "application/json", compact(CHAT))
    if method == "POST" and path == "/v1/messages":
        return (200, "text/event-stream", anthropic_sse()) if stream else (200, "application/json", compact(MESSAGE))
    if method == "POST" and path == "/v1/responses":
        return 200, "application/json", compact(RESPONSES)
    if method == "GET" and path == "/v1/models":
        return 200, "application/json", compact({"object": "list", "data": [{"id": OPENAI_MODEL, "object": "model"}]})
    return 404, "text/plain", "no mock"


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.received.append({"path": path, "query": query, "headers": headers})
        status, ctype, text = mock_answer(self.command, path, headers, body)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = answer


def start_mock(received, tls_dir=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), MockHandler)
    server.daemon_threads = True
    server.received = received
    if tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(tls_dir, "upstream.pem"), os.path.join(tls_dir, "upstream-key.pem"))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------------------------------------
# One scenario


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expand(value, placeholders):
    if isinstance(value, str):
        for name, ph in placeholders.items():
            value = value.replace("${" + name + "}", ph)
        return value
    if isinstance(value, list):
        return [expand(v, placeholders) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, placeholders) for k, v in value.items()}
    return value


def proxy_command(d, scenario, listen, tls_port, plain_port):
    connect_to = ",".join(
        f"{h}:443=127.0.0.1:{tls_port},{h}:80=127.0.0.1:{plain_port}" for h in HOSTS[:2]
    )
    cmd = [sys.executable, os.path.join(HERE, "proxy.py"), "--listen", listen,
           "--event-log", os.path.join(d, "events.jsonl"), "--leaf-cert", os.path.join(d, "leaf.pem"),
           "--leaf-key", os.path.join(d, "leaf-key.pem"), "--upstream-ca", os.path.join(d, "upstream-ca.pem"),
           "--connect-to", connect_to]
    for spec in scenario.get("secrets", []):
        cmd += ["--secret", spec]
    for name, ph in scenario.get("placeholders", {}).items():
        cmd += ["--placeholder", f"{name}={ph}"]
    for glob in scenario.get("llm_hosts", []):
        cmd += ["--llm-host", glob]
    return cmd


def wait_for_port(listen, proc, seconds=20):
    host, port = listen.rsplit(":", 1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection((host, int(port)), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def send(listen, request, ca, placeholders):
    """(status, body) of one scenario request sent through the proxy."""
    host, port = listen.rsplit(":", 1)
    url = expand(request["url"], placeholders)
    headers = expand(request.get("headers", {}), placeholders)
    body = None
    if "body" in request:
        body = json.dumps(expand(request["body"], placeholders)).encode()
        headers["content-type"] = "application/json"
    scheme, rest = url.split("://", 1)
    authority, _, path = rest.partition("/")
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
        conn.set_tunnel(authority, 443)
        target = "/" + path
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        target = url
    conn.request(request["method"], target, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data.decode("utf-8", "replace")


def compare_received(what, expected, received, placeholders, problems):
    if len(expected) != len(received):
        problems.append(f"{what}: {len(received)} requests, expected {len(expected)}")
        return
    for i, (want, got) in enumerate(zip(expected, received)):
        want = expand(want, placeholders)
        if want.get("path") != got["path"] or want.get("query", got["query"]) != got["query"]:
            problems.append(f"{what} #{i + 1}: {got['path']}?{got['query']}")
        for k, v in want.get("headers", {}).items():
            if got["headers"].get(k.lower()) != v:
                problems.append(f"{what} #{i + 1}: header {k} differs")


def compare_events(expected, events, placeholders, problems):
    if len(expected) != len(events):
        problems.append(f"{len(events)} events, expected {len(expected)}: " +
                        ", ".join(f"{e.get('event_type')}/{e.get('data', {}).get('action', '')}" for e in events))
        return
    for i, (want, got) in enumerate(zip(expand(expected, placeholders), events)):
        for key, value in want.items():
            if key == "data":
                diff = {k: v for k, v in value.items() if got.get("data", {}).get(k) != v}
                if diff:
                    problems.append(f"event {i + 1} data differs on {diff} (got {got.get('data')})")
            elif got.get(key) != value:
                problems.append(f"event {i + 1} {key}: got {got.get(key)!r}, expected {value!r}")


def check_log(d, log_text, output, secret_values, problems):
    for value in secret_values:
        if value in log_text or value in output:
            problems.append("a secret value appears in the log or the proxy's output")
    validators = [[sys.executable, os.path.join(HERE, "validate.py"), "--format", "text"]]
    if shutil.which("agentlog"):
        validators.append(["agentlog", "validate"])
    for validator in validators:
        if not log_text:
            continue
        run = subprocess.run(validator + ["--profile", "v0", os.path.join(d, "events.jsonl")],
                             capture_output=True, text=True)
        if run.returncode != 0:
            problems.append(f"{os.path.basename(validator[-2]) if len(validator) > 2 else validator[0]}: log invalid: {run.stdout.strip()[-300:]}")


def run_scenario(d, scenario, mocks):
    tls_mock, plain_mock = mocks
    tls_mock.received.clear()
    log_path = os.path.join(d, "events.jsonl")
    if os.path.exists(log_path):
        os.remove(log_path)
    listen = f"127.0.0.1:{free_port()}"
    cmd = proxy_command(d, scenario, listen, tls_mock.server_address[1], plain_mock.server_address[1])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    problems = []
    placeholders = scenario.get("placeholders", {})
    if not wait_for_port(listen, proc):
        return [f"proxy did not listen: {proc.stderr.read().decode()[-300:]}"]
    for i, request in enumerate(scenario["requests"]):
        try:
            status, body = send(listen, request, os.path.join(d, "ca.pem"), placeholders)
        except (OSError, http.client.HTTPException) as e:
            problems.append(f"request {i + 1}: {type(e).__name__}: {e}")
            continue
        if status != request["expect_status"]:
            problems.append(f"request {i + 1}: status {status}, expected {request['expect_status']}")
        if "expect_body" in request and request["expect_body"] != body:
            problems.append(f"request {i + 1}: body {body!r}")
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        problems.append("did not exit within 10 s of SIGTERM")
    stopped_in = time.monotonic() - started
    log_text = open(log_path, encoding="utf-8").read() if os.path.exists(log_path) else ""
    events = [json.loads(line) for line in log_text.splitlines()]
    compare_received("upstream", scenario.get("expect_upstream", []), tls_mock.received, placeholders, problems)
    compare_events(scenario["expect_events"], events, placeholders, problems)
    secret_values = [s.split("=", 1)[1].rsplit("@", 1)[0] for s in scenario.get("secrets", [])]
    check_log(d, log_text, (out + err).decode("utf-8", "replace"), secret_values, problems)
    if stopped_in > 5:
        problems.append(f"took {stopped_in:.1f} s to exit after SIGTERM")
    return problems


def unsupported_globs():
    path = os.path.join(HERE, "unsupported-proxy.txt")
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def main(names):
    globs = unsupported_globs()
    files = sorted(f[:-5] for f in os.listdir(SCENARIOS) if f.endswith(".json"))
    files = [f for f in files if not names or f in names]
    d = tempfile.mkdtemp(prefix="agentlog-pyport-")
    make_ca(d, "ca")
    make_leaf(d, "ca", "leaf")
    make_ca(d, "upstream-ca")
    make_leaf(d, "upstream-ca", "upstream")
    received = []  # one record, as the test kit's TLS fixture fronts the plain mock
    mocks = (start_mock(received, d), start_mock(received))
    passed = failed = unsupported = 0
    for name in files:
        if any(fnmatch.fnmatchcase(f"proxy/{name}", g) for g in globs):
            print(f"UNSUPPORTED proxy/{name}")
            unsupported += 1
            continue
        with open(os.path.join(SCENARIOS, name + ".json")) as f:
            problems = run_scenario(d, json.load(f), mocks)
        print(("FAIL" if problems else "PASS") + f" proxy/{name}" + "".join(f"\n    {p}" for p in problems))
        failed += bool(problems)
        passed += not problems
    shutil.rmtree(d, ignore_errors=True)
    print(f"{passed} of {len(files)} scenarios passed ({unsupported} unsupported) (selftest.py)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
