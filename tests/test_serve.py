"""The serving guard, the security headers and the header deadline, on toy ASGI apps (fast: no models, no page)."""
import asyncio
import json
import re
import socket
import threading
import time

import pytest

from assistant.serve.server import BoundedHeaders
from assistant.serve.guard import Guard, Limits, TokenBuckets, TrustedProxies, UploadRule
from assistant.serve.headers import SecurityHeaders


# ---- a direct ASGI harness -------------------------------------------------------------------------------

def scope(path="/gradio_api/queue/join", *, method="POST", client="127.0.0.1", headers=()):
    return {"type": "http", "method": method, "path": path, "client": (client, 5000),
            "headers": [(k.encode(), v.encode()) for k, v in headers]}


def call(app, sc, chunks=(b"",), *, delay=0.0):
    """Run one request through `app`; returns (status, headers dict, body, chunks the app was given)."""
    sent, given = [], []

    async def run():
        pending = list(chunks)

        async def receive():
            if not pending:
                await asyncio.sleep(3600)
            if delay:
                await asyncio.sleep(delay)
            chunk = pending.pop(0)
            given.append(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

        async def send(message):
            sent.append(message)
        await app(sc, receive, send)
    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, given


async def echo(scope, receive, send):
    """A toy app that reads the whole body and answers with its length."""
    n = 0
    while True:
        m = await receive()
        if m["type"] == "http.disconnect":
            raise ConnectionError("client gone")   # as Starlette's ClientDisconnect
        n += len(m.get("body", b""))
        if not m.get("more_body"):
            break
    body = json.dumps({"bytes": n}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


SMALL = Limits(question_bytes=1000, other_bytes=100, body_seconds=0.3, in_flight=2, queued=2, per_minute=3)


# ---- body limits -----------------------------------------------------------------------------------------

def test_a_body_within_the_limit_reaches_the_app():
    status, _, body, _ = call(Guard(echo, limits=SMALL), scope(), [b"x" * 600, b"y" * 400])
    assert status == 200 and json.loads(body) == {"bytes": 1000}


@pytest.mark.parametrize("path,declared,limit", [
    ("/gradio_api/queue/join", "5000000", "1,000 bytes limit for questions"),
    ("/gradio_api/call/ask", "1001", "1,000 bytes limit for questions"),
    ("/gradio_api/cancel", "101", "100 bytes limit for /gradio_api/cancel")])
def test_a_declared_length_over_the_limit_is_refused_before_reading(path, declared, limit):
    status, headers, body, given = call(Guard(echo, limits=SMALL), scope(path, headers=[("content-length", declared)]),
                                        [b"x" * 10])
    assert status == 413 and given == [] and headers["connection"] == "close"
    assert limit in json.loads(body)["detail"] and f"{int(declared):,} bytes" in json.loads(body)["detail"]


def test_a_body_without_length_is_cut_off_at_the_limit():
    chunks = [b"x" * 300] * 10 + [b""]
    status, headers, body, given = call(Guard(echo, limits=SMALL), scope(), chunks)
    assert status == 413 and len(given) == 4 and headers["connection"] == "close"   # 1200 bytes read, not 3000
    assert "more than 1,000 bytes" in json.loads(body)["detail"] and "500 characters" in json.loads(body)["detail"]


def test_a_body_that_lies_about_its_length_is_cut_off_too():
    status, _, _, given = call(Guard(echo, limits=SMALL), scope(headers=[("content-length", "10")]), [b"x" * 2000])
    assert status == 413


def test_a_slow_body_is_refused_with_408():
    t = time.perf_counter()
    status, _, body, _ = call(Guard(echo, limits=SMALL), scope(), [b"x"] * 10, delay=0.1)
    assert status == 408 and "0.3 s" in json.loads(body)["detail"] and time.perf_counter() - t < 1.5


def test_a_malformed_content_length_is_a_client_error():
    status, _, body, _ = call(Guard(echo, limits=SMALL), scope(headers=[("content-length", "12abc")]))
    assert status == 400 and "12abc" in json.loads(body)["detail"]


def test_a_client_error_inside_a_started_stream_ends_the_stream_quietly():
    """Gradio raises HTTPException(404) for an unknown event id after its event stream has started."""
    class NotFound(Exception):
        status_code = 404

    async def stream(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: x\n\n", "more_body": True})
        try:
            raise NotFound()
        except NotFound as e:
            raise RuntimeError("Caught handled exception, but response already started.") from e
    sent = []

    async def run():
        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(m):
            sent.append(m)
        await Guard(stream)(scope("/gradio_api/call/ask/bogus", method="GET"), receive, send)
    asyncio.run(run())
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}

    async def broken(scope, receive, send):
        raise KeyError("a bug of ours")
    with pytest.raises(KeyError):
        call(Guard(broken), scope())


# ---- uploads ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/process_recording",
                                  "/gradio_api/component_server"])
def test_the_public_page_refuses_uploads_without_reading_them(path):
    status, _, body, given = call(Guard(echo), scope(path, headers=[("content-length", "200000000")]), [b"x"])
    assert status == 403 and given == [] and json.loads(body)["detail"].startswith("This page accepts no uploads")


def multipart(name: str, data: bytes = b"hello") -> bytes:
    return (b"--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + name.encode() +
            b"\"\r\nContent-Type: text/plain\r\n\r\n" + data + b"\r\n--B--\r\n")


ADMIN = UploadRule(token="s3cret", max_bytes=2000, suffixes=(".txt", ".html"))


@pytest.mark.parametrize("auth,body,status", [
    (None, multipart("a.txt"), 401),
    ("Bearer wrong", multipart("a.txt"), 401),
    ("Bearer s3cret", multipart("a.txt"), 200),
    ("Bearer s3cret", multipart("page.HTML"), 200),
    ("Bearer s3cret", multipart("run.sh"), 415),
    ("Bearer s3cret", multipart("a.txt", b"x" * 3000), 413),
])
def test_an_admin_upload_rule_checks_token_type_and_size(auth, body, status):
    headers = [("authorization", auth)] if auth else []
    chunks = [body[i:i + 37] for i in range(0, len(body), 37)]   # file names cut across chunks
    got, _, text, _ = call(Guard(echo, uploads=ADMIN), scope("/gradio_api/upload", headers=headers), chunks)
    assert got == status, text
    if status == 415:
        assert "run.sh" in json.loads(text)["detail"] and ".txt, .html" in json.loads(text)["detail"]


@pytest.mark.parametrize("path", ["/gradio_api/process_recording", "/gradio_api/component_server"])
def test_an_upload_rule_opens_the_file_upload_route_only(path):
    got, _, text, _ = call(Guard(echo, uploads=ADMIN), scope(path, headers=[("authorization", "Bearer s3cret")]))
    assert got == 403 and "Only document uploads" in json.loads(text)["detail"]


def session(guard, token: bytes, **kw):
    return call(guard, scope("/admin/session", **kw), [token])


def test_the_token_buys_an_upload_cookie_that_opens_the_upload_route_only():
    g = Guard(echo, uploads=ADMIN)
    status, _, body, _ = session(g, b"wrong-token")
    assert status == 401 and "not the administrator's token" in json.loads(body)["detail"]
    status, headers, _, _ = session(g, b"s3cret")
    assert status == 204
    cookie = headers["set-cookie"]
    name_value = cookie.split(";")[0]
    assert name_value.startswith("assistant_upload=") and "s3cret" not in cookie
    assert {"HttpOnly", "SameSite=Strict", "Path=/gradio_api/upload"} <= {p.strip() for p in cookie.split(";")}
    upload = scope("/gradio_api/upload", headers=[("cookie", f"theme=dark; {name_value}")])
    assert call(g, upload, [multipart("a.txt")])[0] == 200
    assert call(g, scope("/gradio_api/component_server", headers=[("cookie", name_value)]))[0] == 403
    # another process (another secret), a forged signature, an expired cookie: refused
    expires, sig = name_value.split("=", 1)[1].split(".")
    for forged in (name_value, f"assistant_upload={expires}.{'0' * 64}", f"assistant_upload=1.{sig}"):
        other = Guard(echo, uploads=UploadRule(token="s3cret", max_bytes=2000, suffixes=(".txt",))) \
            if forged == name_value else g
        status, _, _, _ = call(other, scope("/gradio_api/upload", headers=[("cookie", forged)]), [multipart("a.txt")])
        assert status == 401


def test_the_session_route_is_post_only_small_and_counted():
    g = Guard(echo, uploads=ADMIN, limits=SMALL)
    assert call(g, scope("/admin/session", method="GET"))[0] == 405
    assert session(g, b"x" * 5000)[0] == 413
    assert [session(g, b"guess")[0] for _ in range(2)] == [401, 401]
    assert session(g, b"s3cret")[0] == 429   # guesses take from the questions-a-minute bucket (3)


def test_without_an_upload_rule_the_session_route_is_the_apps():
    assert call(Guard(echo), scope("/admin/session"), [b"s3cret"])[0] == 200   # the page answers (Gradio: 404)
    assert "s3cret" not in repr(ADMIN)


# ---- fairness per client ---------------------------------------------------------------------------------

def test_questions_per_minute_refill_and_say_when():
    now = [0.0]
    b = TokenBuckets(3, clock=lambda: now[0])
    assert [b.take("a") for _ in range(3)] == [0, 0, 0]
    assert b.take("a") == pytest.approx(20.0)        # 3 a minute: one every 20 s
    assert b.take("b") == 0                           # another client has its own
    now[0] = 20.0
    assert b.take("a") == 0 and b.take("a") == pytest.approx(20.0)


def test_the_fourth_question_in_a_minute_gets_429_with_retry_after():
    g = Guard(echo, limits=SMALL)
    assert [call(g, scope())[0] for _ in range(3)] == [200] * 3
    status, headers, body, _ = call(g, scope())
    assert status == 429 and int(headers["retry-after"]) == 20 and "3 a minute" in json.loads(body)["detail"]
    assert call(g, scope(client="127.0.0.9"))[0] == 200
    assert call(g, scope("/gradio_api/heartbeat/x", method="GET"))[0] == 200   # only questions are counted


def test_a_client_with_questions_queued_waits_for_them():
    queued = {"127.0.0.1": 2}
    g = Guard(echo, limits=SMALL, queued=lambda a: queued.get(a, 0))
    status, headers, body, _ = call(g, scope())
    assert status == 429 and headers["retry-after"] == "2" and "2 questions waiting" in json.loads(body)["detail"]
    assert call(g, scope(client="127.0.0.2"))[0] == 200


def test_requests_in_flight_per_client():
    gate = asyncio.Event()

    async def slow(scope, receive, send):
        await gate.wait()
        await echo(scope, receive, send)
    g = Guard(slow, limits=SMALL)

    async def run():
        results = []

        async def one(client, path):
            sent = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(m):
                sent.append(m)
            await g(scope(path, method="GET", client=client), receive, send)
            results.append((client, path, sent[0]["status"]))
        tasks = [asyncio.create_task(one("10.0.0.1", path)) for path in ("/x", "/x", "/x", "/assets/a.js")]
        tasks.append(asyncio.create_task(one("10.0.0.2", "/x")))
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(*tasks)
        return sorted(results)
    # two open for 10.0.0.1, the third refused; a static file is not counted, another client has its own
    assert asyncio.run(run()) == [("10.0.0.1", "/assets/a.js", 200), ("10.0.0.1", "/x", 200),
                                  ("10.0.0.1", "/x", 200), ("10.0.0.1", "/x", 429), ("10.0.0.2", "/x", 200)]
    assert g.in_flight == {}


def test_limits_of_zero_turn_per_client_limits_off():
    g = Guard(echo, limits=Limits(in_flight=0, queued=0, per_minute=0), queued=lambda a: 99)
    assert [call(g, scope())[0] for _ in range(100)] == [200] * 100


@pytest.mark.parametrize("bad,message", [(dict(question_bytes=0), "question_bytes of 0 must be positive"),
                                         (dict(per_minute=-1), "per_minute of -1 must be 0")])
def test_bad_limits_are_refused_with_the_rule(bad, message):
    with pytest.raises(ValueError, match=message):
        Limits(**bad)


def test_the_longest_conversation_the_page_keeps_fits_the_question_limit(catalog):
    """The page sends its conversation back with every question (Gradio's message format, as Chromium sends it):
    KEEP_EXCHANGES exchanges of the longest question (500 characters, each escaped to 12 bytes) and the longest
    reply (the longest clause and citation, each character escaped to 6 bytes) still fit Limits.question_bytes."""
    from assistant.answer.answerer import MAX_QUESTION_CHARS
    from ui import KEEP_EXCHANGES
    question = "\U0001F600" * MAX_QUESTION_CHARS
    reply = max((c.text for c in catalog.clauses), key=len) + "\n\n—— " + max((c.citation for c in catalog.clauses),
                                                                              key=len)

    def message(role, text):
        return {"role": role, "metadata": None, "content": [{"text": text, "type": "text"}], "options": None}
    chat = [m for _ in range(KEEP_EXCHANGES) for m in (message("user", question), message("assistant", reply))]
    body = json.dumps({"data": [question, chat, None, "en", "all"], "fn_index": 1, "trigger_id": 15,
                       "session_hash": "9nrvs95119c"}).encode()
    assert len(body) <= Limits().question_bytes, len(body)


# ---- the client's address --------------------------------------------------------------------------------

@pytest.mark.parametrize("proxies,peer,xff,client", [
    ((), "127.0.0.1", "203.0.113.9", "127.0.0.1"),                       # not configured: the header is ignored
    (("10.0.0.5",), "127.0.0.1", "203.0.113.9", "127.0.0.1"),            # the peer is not the proxy
    (("10.0.0.5",), "10.0.0.5", "203.0.113.9", "203.0.113.9"),
    (("10.0.0.5",), "10.0.0.5", None, "10.0.0.5"),
    (("10.0.0.0/8",), "10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),   # last untrusted hop
    (("10.0.0.5",), "10.0.0.5", "1.2.3.4, not-an-ip", "10.0.0.5"),       # garbage: trust nothing further
    (("::1",), "::1", "2001:db8::1", "2001:db8::1"),
])
def test_the_client_address_comes_from_a_trusted_proxy_only(proxies, peer, xff, client):
    assert TrustedProxies(proxies).client(peer, xff) == client


def test_the_guard_limits_the_forwarded_client_not_the_proxy():
    g = Guard(echo, limits=SMALL, trusted=TrustedProxies(["127.0.0.1"]))
    for i in range(3):
        assert call(g, scope(headers=[("x-forwarded-for", "203.0.113.1")]))[0] == 200
    assert call(g, scope(headers=[("x-forwarded-for", "203.0.113.1")]))[0] == 429
    assert call(g, scope(headers=[("x-forwarded-for", "203.0.113.2")]))[0] == 200
    spoofing = Guard(echo, limits=SMALL)   # no proxy configured: a forged header changes nothing
    assert [call(spoofing, scope(headers=[("x-forwarded-for", f"203.0.113.{i}")]))[0] for i in range(4)] == \
        [200, 200, 200, 429]


def test_a_bad_trusted_proxy_is_refused_with_an_example():
    with pytest.raises(ValueError, match="'nginx' is not an IP address.*127.0.0.1"):
        TrustedProxies(["nginx"])


# ---- security headers ------------------------------------------------------------------------------------

def html_app(body: bytes, *, encoding: str | None = None):
    async def app(scope, receive, send):
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        if encoding:
            headers.append((b"content-encoding", encoding.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    return app


PAGE = b"<html><head><script>window.x = 1;</script><SCRIPT type=module src=./a.js></SCRIPT></head><p>scripted</p>"


def test_every_response_carries_the_security_headers():
    for app, sc in ((echo, scope()), (html_app(PAGE), scope("/", method="GET")),
                    (Guard(echo), scope("/gradio_api/upload"))):
        _, headers, _, _ = call(SecurityHeaders(app), sc)
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "object-src 'none'" in headers["content-security-policy"]


def test_page_scripts_get_the_nonce_of_the_policy():
    _, headers, body, _ = call(SecurityHeaders(html_app(PAGE)), scope("/", method="GET"))
    nonce = re.search(r"'nonce-([\w-]+)'", headers["content-security-policy"]).group(1)
    assert body.count(f'nonce="{nonce}"'.encode()) == 2 and b"<p>scripted</p>" in body
    assert int(headers["content-length"]) == len(body)
    _, again, _, _ = call(SecurityHeaders(html_app(PAGE)), scope("/", method="GET"))
    assert again["content-security-policy"] != headers["content-security-policy"]   # a new nonce per response


def test_a_compressed_page_is_not_rewritten_and_the_page_asks_uncompressed():
    _, headers, body, _ = call(SecurityHeaders(html_app(b"\x1f\x8b...", encoding="gzip")), scope("/", method="GET"))
    assert body == b"\x1f\x8b..." and "nonce-" in headers["content-security-policy"]
    seen = {}

    async def app(scope, receive, send):
        seen["headers"] = dict(scope["headers"])
        await html_app(PAGE)(scope, receive, send)
    call(SecurityHeaders(app), scope("/", method="GET", headers=[("accept-encoding", "br, gzip")]))
    assert b"accept-encoding" not in seen["headers"]


def test_frame_ancestors_can_name_hosts():
    _, headers, _, _ = call(SecurityHeaders(echo, frame_ancestors=("https://intranet.example",)), scope())
    assert "frame-ancestors https://intranet.example" in headers["content-security-policy"]
    assert "x-frame-options" not in headers


# ---- the header deadline (a real uvicorn server on loopback, toy app) ------------------------------------

@pytest.fixture(scope="module")
def toy_server():
    import uvicorn

    class Quick(BoundedHeaders):
        header_seconds, header_bytes = 1.0, 2048
    config = uvicorn.Config(echo, host="127.0.0.1", port=0, http=Quick, ws="none", lifespan="off",
                            log_level="error", timeout_keep_alive=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield port
    server.should_exit = True
    thread.join(timeout=5)


def exchange(port, data: bytes, *, pause: float = 0.0, parts: int = 1) -> tuple[bytes, float]:
    """Send `data` in `parts` with pauses; return what came back before the server closed, and when."""
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        step = max(1, len(data) // parts)
        try:
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
                time.sleep(pause)
        except OSError:
            pass
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
    return out, time.perf_counter() - t


REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_a_prompt_request_is_answered(toy_server):
    out, _ = exchange(toy_server, REQUEST)
    assert out.startswith(b"HTTP/1.1 200") and b'{"bytes": 0}' in out


def test_headers_trickling_in_are_cut_off_at_the_deadline(toy_server):
    out, took = exchange(toy_server, REQUEST, parts=len(REQUEST), pause=0.2)   # ~8 s if let through
    assert out.startswith(b"HTTP/1.1 408") and took < 3


def test_a_silent_connection_is_closed_at_the_deadline(toy_server):
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", toy_server), timeout=5) as s:
        out = s.recv(1024)
    assert out.startswith(b"HTTP/1.1 408") and time.perf_counter() - t < 3


def test_oversized_headers_get_431(toy_server):
    out, _ = exchange(toy_server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431")
