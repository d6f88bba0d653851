"""Hostile clients against the real page (`ui.py` as a subprocess on a free 127.0.0.1 port; slow: real models).

Loopback only. Each client kind comes from its own loopback address (127.0.0.2 …), as separate visitors would,
so the per-client limits apply to each. Every loop is bounded in count and in time. The bounds asserted here
are the figures in the README's security section.
"""
import http.client
import json
import os
import random
import select
import socket
import threading
import time
from pathlib import Path

import pytest

from assistant.tools.loadtest import _rss_mb, running_server
from assistant.serve.server import HEADER_SECONDS
from assistant.serve.guard import Limits

pytestmark = pytest.mark.slow
L = Limits()
MB = 1024 * 1024
RSS_BOUND_MB = 20          # server RSS growth allowed across one hostile test
USUAL_S = 2.0              # a well-behaved question under attack must still be answered within this
QUESTIONS = ["秸秆综合利用率的目标是多少？", "矿山土壤生态环境恢复治理由哪个部门牵头？", "What is the straw target?",
             "生态环境损害赔偿权利人是谁？", "省财政厅牵头哪些工作？"]
# each kind of client has its own address
NORMAL, FLOOD, BODIES, SLOW, PROBE = "127.0.0.3", "127.0.0.2", "127.0.0.4", "127.0.0.5", "127.0.0.6"
FIGURES: dict[str, str] = {}   # what was measured, printed at the end (-s) for the README


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory):
    """The page with its temp folder inside the test's: whatever the server writes there is seen."""
    tmp = tmp_path_factory.mktemp("server-tmp")
    env = dict(os.environ, TMPDIR=str(tmp), GRADIO_TEMP_DIR=str(tmp / "gradio"))
    with running_server(index_dir, env=env) as (proc, url):
        port = int(url.rsplit(":", 1)[1].strip("/"))
        ask(port, QUESTIONS[0], source=PROBE)    # warm: first answers load lazily
        before = snapshot(tmp)
        yield {"port": port, "pid": proc.pid, "tmp": tmp, "files": before}
    for k, v in FIGURES.items():
        print(f"{k}: {v}")


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def rss(server) -> float:
    return _rss_mb(server["pid"])


# ---- clients -------------------------------------------------------------------------------------------

def request(port, method, path, body=None, *, headers=None, source="127.0.0.1", timeout=30):
    """One request on its own connection; returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def ask(port, question, *, source=NORMAL, timeout=30) -> float:
    """A question through the JSON API (POST /call/ask, then its result stream); its latency in seconds."""
    t = time.perf_counter()
    body = json.dumps({"data": [question, [], "zh", "all"]}).encode()
    status, _, out = request(port, "POST", "/gradio_api/call/ask", body,
                             headers={"Content-Type": "application/json"}, source=source, timeout=timeout)
    assert status == 200, (status, out[:300])
    event = json.loads(out)["event_id"]
    status, _, out = request(port, "GET", f"/gradio_api/call/ask/{event}", source=source, timeout=timeout)
    assert status == 200 and b"event: complete" in out, out[:300]
    return time.perf_counter() - t


def big_body(port, path, total, *, chunked, source=BODIES, declared=None, piece=256 * 1024, limit_s=30):
    """Send up to `total` bytes of body, watching for the server's answer between pieces.
    Returns (status, bytes sent before the answer)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {declared or total}\r\n"
    s.sendall(head.encode() + b"\r\n")
    sent, answer, deadline = 0, b"", time.time() + limit_s
    data = b"[" + b"1," * (piece // 2)
    try:
        while sent < total and time.time() < deadline:
            if select.select([s], [], [], 0)[0]:
                break
            block = data[:min(piece, total - sent)]
            s.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            sent += len(block)
        if chunked and sent >= total:
            s.sendall(b"0\r\n\r\n")
    except OSError:
        pass   # the server closed the connection after answering
    try:
        while time.time() < deadline and b"\r\n\r\n" not in answer:
            if not (chunk := s.recv(65536)):
                break
            answer += chunk
    except OSError:
        pass
    s.close()
    return (int(answer.split()[1]) if answer.startswith(b"HTTP/1.1") else None), sent


# ---- uploads -------------------------------------------------------------------------------------------

def test_uploads_are_refused_before_a_byte_is_read(server):
    before = rss(server)
    status, sent = big_body(server["port"], "/gradio_api/upload", 200 * MB, chunked=False)
    assert status == 403 and sent < 20 * MB, (status, sent)
    files = b"--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n\r\nhello\r\n--B--\r\n"
    status, headers, body = request(server["port"], "POST", "/gradio_api/upload", files, source=PROBE,
                                    headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert status == 403 and b"no uploads" in body
    assert str(server["tmp"]).encode() not in body and b"/tmp" not in body   # no server path
    FIGURES["upload 200 MB"] = f"403 after {sent / MB:.1f} MB sent, RSS {rss(server) - before:+.1f} MB"


# ---- big bodies ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_50_mb_question_gets_413_without_memory_growth(server, chunked):
    before = rss(server)
    t = time.perf_counter()
    status, sent = big_body(server["port"], "/gradio_api/call/ask", 50 * MB, chunked=chunked)
    took = time.perf_counter() - t
    grew = rss(server) - before
    assert status == 413 and grew < RSS_BOUND_MB, (status, grew)
    FIGURES[f"50 MB body, {'chunked' if chunked else 'Content-Length'}"] = \
        f"413 in {took:.2f} s after {sent / MB:.2f} MB sent, RSS {grew:+.1f} MB"


def test_a_content_length_that_lies_low_is_not_a_server_error(server):
    """10 bytes declared, a megabyte sent: the rest is not a body, and is answered as a bad request."""
    s = socket.create_connection(("127.0.0.1", server["port"]), timeout=10, source_address=(BODIES, 0))
    s.sendall(b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 10\r\n\r\n" + b"{" * MB)
    answer = b""
    try:
        while chunk := s.recv(65536):
            answer += chunk
    except OSError:
        pass
    s.close()
    statuses = [int(line.split()[1]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    assert statuses and all(400 <= code < 500 for code in statuses), answer[:500]


def test_many_big_bodies_at_once(server):
    before = rss(server)
    results = []
    t = time.perf_counter()
    threads = [threading.Thread(target=lambda c=i % 2: results.append(
        big_body(server["port"], "/gradio_api/call/ask", 50 * MB, chunked=bool(c))), daemon=True) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    took = time.perf_counter() - t
    grew = rss(server) - before
    assert [status for status, _ in results] == [413] * 20 and grew < RSS_BOUND_MB, (results, grew)
    assert took < 30
    ask(server["port"], QUESTIONS[1])   # and the page still answers
    FIGURES["20 × 50 MB at once"] = f"20 × 413 in {took:.1f} s, RSS {grew:+.1f} MB"


# ---- slow clients --------------------------------------------------------------------------------------

def test_slow_clients_are_cut_off_while_others_are_served(server):
    """100 connections trickling their headers a byte at a time and 10 trickling a body: each is closed at its
    deadline (headers HEADER_SECONDS, body Limits.body_seconds) while a normal visitor keeps being answered."""
    port = server["port"]
    line = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    post = (b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(SLOW, 0)) for _ in range(100)]
    bodies = [socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(SLOW, 0)) for _ in range(10)]
    for s in bodies:
        s.sendall(post)
    closed_at, answers, latencies = {}, {}, []
    t0 = time.perf_counter()
    limit = max(HEADER_SECONDS, L.body_seconds) + 5
    i = 0
    while len(closed_at) < len(slow) + len(bodies) and time.perf_counter() - t0 < limit:
        for s in slow + bodies:
            if s in closed_at:
                continue
            try:
                if select.select([s], [], [], 0)[0]:
                    data = s.recv(4096)
                    answers[s] = data[:12]
                    closed_at[s] = time.perf_counter() - t0
                    continue
                s.sendall(line[i:i + 1] if s in slow else b" ")
            except OSError:
                closed_at[s] = time.perf_counter() - t0
        i += 1
        if i % 4 == 0:
            latencies.append(ask(port, QUESTIONS[i % len(QUESTIONS)]))
        time.sleep(0.25)
    for s in slow + bodies:
        s.close()
    header_cut = [closed_at.get(s) for s in slow]
    body_cut = [closed_at.get(s) for s in bodies]
    assert None not in header_cut and max(header_cut) < HEADER_SECONDS + 3, header_cut
    assert None not in body_cut and max(body_cut) < L.body_seconds + 3, body_cut
    assert {answers.get(s) for s in slow} <= {b"HTTP/1.1 408", b""}
    assert {answers.get(s) for s in bodies} <= {b"HTTP/1.1 408", b""}
    assert latencies and max(latencies) < USUAL_S, latencies
    FIGURES["slow clients"] = (f"100 trickling headers closed by {max(header_cut):.1f} s, 10 trickling bodies by "
                               f"{max(body_cut):.1f} s; meanwhile {len(latencies)} questions, slowest "
                               f"{max(latencies) * 1000:.0f} ms")


def test_oversized_headers_are_refused(server):
    status, _, _ = request(server["port"], "GET", "/", headers={"X-Pad": "a" * 20000}, source=PROBE)
    assert status == 431


# ---- a client flooding the queue -----------------------------------------------------------------------

def test_a_flooding_client_cannot_crowd_out_a_normal_one(server):
    port = server["port"]
    usual = sorted(ask(port, QUESTIONS[i % len(QUESTIONS)]) for i in range(5))
    statuses: list[int] = []
    lock = threading.Lock()
    seconds = 10
    stop = time.time() + seconds

    def flood(k):
        rng = random.Random(k)
        for _ in range(300):   # per thread; the clock usually ends it first
            if time.time() > stop:
                return
            body = json.dumps({"data": [QUESTIONS[rng.randrange(5)], [], "zh", "all"]}).encode()
            # a forged X-Forwarded-For changes nothing: no proxy is trusted
            headers = {"Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{rng.randrange(250)}"}
            try:
                status, _, _ = request(port, "POST", "/gradio_api/call/ask", body, headers=headers, source=FLOOD,
                                       timeout=10)
            except OSError:
                status = 0
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=flood, args=(k,), daemon=True) for k in range(12)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    during = []
    while time.time() < stop - 0.5 and len(during) < 30:
        during.append(ask(port, QUESTIONS[len(during) % len(QUESTIONS)]))
    for th in threads:
        th.join(timeout=30)
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    assert set(counts) <= {200, 429}, counts               # refused politely, never a server error or queue full
    assert counts.get(200, 0) <= L.per_minute * (1 + seconds / 60) + 1, counts   # a minute's burst, then 1/s
    assert len(during) >= 5 and max(during) < USUAL_S, during
    FIGURES["queue flood"] = (f"flooder {len(statuses)} requests in {seconds} s: {counts}; normal client {len(during)} "
                              f"questions, p50 {sorted(during)[len(during) // 2] * 1000:.0f} ms, max "
                              f"{max(during) * 1000:.0f} ms (alone: p50 {usual[2] * 1000:.0f} ms, max "
                              f"{usual[-1] * 1000:.0f} ms)")


# ---- malformed requests --------------------------------------------------------------------------------

NESTED = b"[" * 50_000 + b"]" * 50_000
MALFORMED = [
    ("POST", "/gradio_api/queue/join", b"{", "application/json"),
    ("POST", "/gradio_api/queue/join", b'{"data": [], "fn_index": 999, "session_hash": "x"}', "application/json"),
    ("POST", "/gradio_api/queue/join", b'{"data": ["q"], "fn_index": 0}', "application/json"),
    ("POST", "/gradio_api/call/ask", b"not json", "application/json"),
    ("POST", "/gradio_api/call/ask", b'{"data": 5}', "application/json"),
    ("POST", "/gradio_api/call/ask", b'{"data": ["\xff\xfe", [], "zh", "all"]}', "application/json"),
    ("POST", "/gradio_api/call/ask", NESTED, "application/json"),
    ("POST", "/gradio_api/call/no_such_api", b'{"data": ["q", [], "zh", "all"]}', "application/json"),
    ("POST", "/gradio_api/run/ask", b'{"data": ["q", [], "zh", "all"]}', "application/json"),
    ("POST", "/gradio_api/component_server", b'{"component_id": 999, "fn_name": "x"}', "application/json"),
    ("POST", "/gradio_api/cancel", b"[1,2", "application/json"),
    ("POST", "/gradio_api/reset", b"{}", "application/json"),
    ("GET", "/gradio_api/queue/data", None, None),
    ("GET", "/gradio_api/file=/etc/passwd", None, None),
]


@pytest.mark.parametrize("method,path,body,ctype", MALFORMED, ids=[f"{m[1]}-{i}" for i, m in enumerate(MALFORMED)])
def test_malformed_requests_are_client_errors(server, method, path, body, ctype):
    status, headers, out = request(server["port"], method, path, body, source=PROBE,
                                   headers={"Content-Type": ctype} if ctype else {})
    assert 400 <= status < 500, (status, out[:300])
    assert b"Traceback" not in out and str(server["tmp"]).encode() not in out


@pytest.mark.parametrize("path", ["/gradio_api/call/ask/0123456789abcdef0123456789abcdef",
                                  "/gradio_api/call/ask/..%2F..%2Fetc%2Fpasswd",
                                  "/gradio_api/queue/data?session_hash=bogus",
                                  "/gradio_api/heartbeat/bogus"])
def test_bogus_event_ids_are_not_server_errors(server, path):
    """Gradio answers an unknown event inside its event stream (200 + an error event), as its clients expect."""
    try:
        status, _, out = request(server["port"], "GET", path, source=PROBE, timeout=3)
    except TimeoutError:   # the heartbeat stream stays open for a session that may yet come
        return
    assert status < 500 and b"Traceback" not in out, (status, out[:300])
    assert status != 200 or b"error" in out or b"ALIVE" in out, out[:300]


# ---- headers, and what was left on disk ----------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/gradio_api/info"), ("GET", "/no/such/page"),
                                         ("POST", "/gradio_api/upload"), ("GET", "/theme.css")])
def test_every_response_has_the_security_headers(server, method, path):
    _, headers, _ = request(server["port"], method, path, b"" if method == "POST" else None, source=PROBE)
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "script-src 'self' 'nonce-" in csp
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_nothing_was_written_to_the_temp_dir(server):
    """Run last: every attack above left the server's temp folder as it was after start-up."""
    after = snapshot(server["tmp"])
    assert after == server["files"], {k: v for k, v in after.items() if server["files"].get(k) != v}
    FIGURES["temp folder"] = f"{len(after)} files before and after, unchanged"
