"""An ASGI guard in front of the page: what a request may carry and how much of the server one client may hold.

- Bodies are counted as they arrive, before anything parses them: a declared Content-Length over the limit is
  refused at once, and a body without one (chunked) or with one that lies is cut off at the limit (413), or
  when it takes longer than `body_seconds` to arrive (408). The refused connection is closed, so the rest of
  a 50 MB body is never read.
- Upload routes are refused unless an `UploadRule` allows them (the public page has none). With one (the page
  started with --admin) only Gradio's file upload route opens, and only for a request that carries the admin
  token: an `Authorization: Bearer <token>` header (scripts), or the upload cookie a browser gets by posting the
  token to ADMIN_SESSION_ROUTE (the page's token box does that when the token is entered). The cookie is not
  the token: it is an expiry time signed with a secret made at start (HMAC-SHA256), HttpOnly (the page's
  scripts cannot read it), SameSite=Strict (another site cannot send it) and sent to the upload route only.
  Size and file types are checked as the body arrives, before the app writes anything. Uploading only puts a
  file in Gradio's temporary folder: every admin action on the page checks the token again (ui_admin.py).
- The JSON API (api.py) is held to the same rules: POST /api/ask counts as a question (per minute) with the
  16 KB body of other routes; document changes (POST/DELETE /api/documents) are refused (403) on a server without
  an UploadRule, and need `Authorization: Bearer <token>` (401, counted as a guess) before the body is read.
- Each client (by address) may have `in_flight` requests open, `queued` questions waiting or running in the
  page's queue and `per_minute` questions a minute (token bucket); past that it gets 429 with Retry-After.
  The address is the TCP peer; X-Forwarded-For is read only when the peer is a configured trusted proxy.

Gradio-free: the page's queue is seen through the `queued` callable (serve.py provides it). Starlette 1.10's
RequestBodyLimitMiddleware counts bodies the same way, but with one limit for every route, no time limit, and
a connection that goes on reading what it refused.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable

# Routes that put a question (or another page event) into the queue, and routes that take files (the page itself
# uses none: it has no upload control, no microphone and no component with server functions).
QUESTION_ROUTE = re.compile(r"^/gradio_api/(?:queue/join|call/(?:v2/)?[^/]+|run/[^/]+|api/[^/]+)/?$")
UPLOAD_ROUTE = re.compile(r"^/gradio_api/(?:upload|process_recording|component_server)/?$")
FILE_UPLOAD_ROUTE = re.compile(r"^/gradio_api/upload/?$")   # the only one an UploadRule opens
# The JSON API (api.py): questions count like the page's; document changes need the admin token (Bearer only)
API_QUESTION_ROUTE = re.compile(r"^/api/ask/?$")
API_WRITE_ROUTE = re.compile(r"^/api/documents(?:/[^/]*)?/?$")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ADMIN_SESSION_ROUTE = "/admin/session"                      # POST the token here → the upload cookie
UPLOAD_COOKIE = "assistant_upload"
MAX_TOKEN_BYTES = 1024
# The page's static files: quick to serve, and a page load asks for ~90 of them (Chromium fetches 6 at a time
# per host, shared by every tab of a browser), so they are not counted as requests in flight.
STATIC_ROUTE = re.compile(r"^/(?:assets|static|svelte)/|^/(?:theme\.css|favicon\.ico|manifest\.json)$")
MAX_TRACKED_CLIENTS = 10_000   # per-minute buckets kept; the oldest are forgotten past this
log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class UploadRule:
    """What the upload route accepts (the admin page's document upload); without one, uploads are refused."""

    token: str = field(repr=False)   # sent as `Authorization: Bearer <token>`, or exchanged for the cookie
    max_bytes: int                   # the whole request body
    suffixes: tuple[str, ...]        # file name endings allowed, e.g. (".txt", ".html")
    cookie_seconds: int = 8 * 3600   # how long an upload cookie is good for
    # signs the cookies; made per process, so a restart (or a new token) ends every cookie
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def token_matches(self, given: str) -> bool:
        """The admin token, compared in constant time."""
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8"))

    def cookie(self, now: float) -> str:
        """A new upload cookie's value: `<expiry>.<signature>`."""
        expires = int(now) + self.cookie_seconds
        return f"{expires}.{self._sign(expires)}"

    def _sign(self, expires: int) -> str:
        return hmac.new(self.secret, f"upload until {expires}".encode(), hashlib.sha256).hexdigest()

    def bearer(self, scope) -> bool:
        """Whether a request carries `Authorization: Bearer <token>` (the API's writes take nothing else)."""
        auth = _header(scope, b"authorization") or ""
        return hmac.compare_digest(auth.encode("latin-1"), f"Bearer {self.token}".encode("utf-8"))

    def admits(self, scope, now: float) -> bool:
        """Whether a request carries the token (Authorization) or a good, unexpired upload cookie."""
        auth = _header(scope, b"authorization")
        if auth is not None:
            return hmac.compare_digest(auth.encode("latin-1"), f"Bearer {self.token}".encode("utf-8"))
        value = _cookie(scope, UPLOAD_COOKIE)
        expires, _, signature = (value or "").partition(".")
        if not expires.isdigit() or int(expires) < now:
            return False
        return hmac.compare_digest(signature.encode("latin-1"), self._sign(int(expires)).encode())


@dataclass(frozen=True)
class Limits:
    """Per request and per client. 0 turns a per-client limit off (a load test whose clients share one address)."""

    question_bytes: int = 256 * 1024   # a question of 500 characters plus the conversation the page sends back
    other_bytes: int = 16 * 1024       # every other route: page events, cancel, heartbeat…
    body_seconds: float = 10.0         # a body that takes longer to arrive is refused (slow clients)
    in_flight: int = 32                # open requests per client, static files aside (a browser holds ≤ 6)
    queued: int = 4                    # questions per client waiting or running in the page's queue (of 64)
    per_minute: int = 60               # questions per client a minute, bursts up to the same number

    def __post_init__(self):
        for name in ("question_bytes", "other_bytes", "body_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} of {getattr(self, name)} must be positive")
        for name in ("in_flight", "queued", "per_minute"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} of {getattr(self, name)} must be 0 (no limit) or more")


class TrustedProxies:
    """Which peers may tell us the client's address in X-Forwarded-For (none unless configured)."""

    def __init__(self, proxies: Iterable[str] = ()):
        self.networks = []
        for p in proxies:
            try:
                self.networks.append(ipaddress.ip_network(p.strip(), strict=False))
            except ValueError:
                raise ValueError(f"trusted proxy {p!r} is not an IP address or network; "
                                 "give one like 127.0.0.1 or 10.0.0.0/8") from None

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in n for n in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer, or — behind a trusted proxy — the last untrusted hop it reports."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer   # a hop that is no address: trust nothing further
        return hops[0] if hops else peer


class TokenBuckets:
    """`per_minute` tokens a minute per key, holding at most `per_minute` (so a burst of that many, then 1/s…)."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic):
        self.capacity, self.rate, self.clock = per_minute, per_minute / 60.0, clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Take a token; 0 when granted, else the seconds until one is there."""
        now = self.clock()
        tokens, then = self.buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > MAX_TRACKED_CLIENTS:
            self.buckets.popitem(last=False)
        return wait


def _header(scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ", ".join(values) if values else None


def _cookie(scope, name: str) -> str | None:
    for part in (_header(scope, b"cookie") or "").replace(",", ";").split(";"):
        key, eq, value = part.strip().partition("=")
        if eq and key == name:
            return value.strip()
    return None


async def respond(send, status: int, message: str, *, retry_after: float | None = None) -> None:
    """A short JSON error, closing the connection: an unread body is not read on. `detail` as FastAPI's (the page's
    clients read it), `error` and `exit_code` as the JSON API's (no command fails this way: no exit code)."""
    body = json.dumps({"detail": message, "error": message, "exit_code": None}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """The ASGI middleware. `queued(address)` counts that client's questions waiting or running in the queue."""

    def __init__(self, app, *, limits: Limits = Limits(), trusted: TrustedProxies = TrustedProxies(),
                 uploads: UploadRule | None = None, queued: Callable[[str], int] | None = None):
        self.app, self.limits, self.trusted, self.uploads, self.queued = app, limits, trusted, uploads, queued
        self.in_flight: dict[str, int] = {}
        self.buckets = TokenBuckets(limits.per_minute) if limits.per_minute else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        peer = scope["client"][0] if scope.get("client") else "unknown"
        client = self.trusted.client(peer, _header(scope, b"x-forwarded-for"))
        if client != peer:   # the app (and the queue's per-client count) sees the client, not the proxy
            scope = dict(scope, client=(client, 0))
        refusal = self.refusal(scope, client)
        if refusal:
            return await respond(send, *refusal[:2], retry_after=refusal[2])
        if scope["method"] in ("GET", "HEAD") and STATIC_ROUTE.match(scope["path"]):
            return await self.bounded(scope, receive, send)
        self.in_flight[client] = self.in_flight.get(client, 0) + 1
        try:
            if self.uploads is not None and scope["path"] == ADMIN_SESSION_ROUTE:
                return await self.session(scope, receive, send)
            await self.bounded(scope, receive, send)
        finally:
            self.in_flight[client] -= 1
            if not self.in_flight[client]:
                del self.in_flight[client]

    def refusal(self, scope, client: str) -> tuple[int, str, float | None] | None:
        """Why this request is refused before its body is read (status, message, retry-after), or None."""
        path, L = scope["path"], self.limits
        if UPLOAD_ROUTE.match(path):
            if self.uploads is None:
                return 403, "This page accepts no uploads (no route that takes files is open).", None
            if not FILE_UPLOAD_ROUTE.match(path):
                return 403, "Only document uploads are open on this page (/gradio_api/upload).", None
            if not self.uploads.admits(scope, time.time()):
                return 401, ("Uploads need the administrator's token: enter it in the Documents admin tab, or "
                             "send Authorization: Bearer …"), None
        api_write = scope["method"] in WRITE_METHODS and API_WRITE_ROUTE.match(path)
        if api_write and self.uploads is None:
            return 403, "This server takes no document changes (it was not started with --admin).", None
        static = scope["method"] in ("GET", "HEAD") and STATIC_ROUTE.match(path)
        if L.in_flight and not static and self.in_flight.get(client, 0) >= L.in_flight:
            return 429, (f"Too many requests open from your address ({L.in_flight} at most); "
                         "wait for them to finish and try again."), 1
        session = self.uploads is not None and path == ADMIN_SESSION_ROUTE
        if session and scope["method"] != "POST":
            return 405, f"{ADMIN_SESSION_ROUTE} takes POST with the admin token as the body.", None
        question = QUESTION_ROUTE.match(path) or API_QUESTION_ROUTE.match(path)
        if (scope["method"] == "POST" and (question or session)) or api_write:   # token guesses count too
            if L.queued and self.queued and self.queued(client) >= L.queued:
                return 429, (f"You already have {L.queued} questions waiting; wait for their answers and try "
                             "again."), 2
            wait = self.buckets.take(client) if self.buckets else 0
            if wait:
                return 429, (f"Too many questions from your address ({L.per_minute} a minute at most); "
                             f"try again in {math.ceil(wait)} s."), wait
        if api_write and not self.uploads.bearer(scope):
            return 401, "Document changes need the administrator's token: send Authorization: Bearer <token>.", None
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return 400, f"Content-Length {declared[:40]!r} is not a number of bytes.", None
            limit = self.body_limit(path)
            if int(declared) > limit:
                return 413, self.too_large(path, f"{int(declared):,} bytes"), None
        return None

    def body_limit(self, path: str) -> int:
        if (UPLOAD_ROUTE.match(path) or API_WRITE_ROUTE.match(path)) and self.uploads is not None:
            return self.uploads.max_bytes
        if path == ADMIN_SESSION_ROUTE and self.uploads is not None:
            return MAX_TOKEN_BYTES
        return self.limits.question_bytes if QUESTION_ROUTE.match(path) else self.limits.other_bytes

    def too_large(self, path: str, size: str) -> str:
        limit = self.body_limit(path)
        limit = f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit:,} bytes"
        if QUESTION_ROUTE.match(path) or API_QUESTION_ROUTE.match(path):
            return (f"The request ({size}) is over the {limit} limit for questions; a question has at most 500 "
                    "characters — send a shorter one.")
        return f"The request ({size}) is over the {limit} limit for {path}."

    async def bounded(self, scope, receive, send):
        """Run the app with a body that is counted, timed and checked as it arrives."""
        limit, path = self.body_limit(scope["path"]), scope["path"]
        check_names = UPLOAD_ROUTE.match(path) and self.uploads is not None
        names = FileNames(self.uploads.suffixes) if check_names else None
        deadline = asyncio.get_running_loop().time() + self.limits.body_seconds
        state = {"received": 0, "done": False, "started": False, "refused": False, "finished": False}

        async def refuse(status: int, message: str) -> dict:
            if not state["started"]:
                state["refused"] = True
                await respond(send, status, message)
            return {"type": "http.disconnect"}

        async def guarded_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            if state["done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError:
                return await refuse(408, f"The request body did not arrive within {self.limits.body_seconds:g} s; "
                                             "send the whole request at once.")
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                state["received"] += len(chunk)
                if state["received"] > limit:
                    return await refuse(413, self.too_large(path, f"more than {limit:,} bytes"))
                bad = names.feed(chunk) if names else None
                if bad:
                    return await refuse(415, f"File {bad!r} is not accepted; accepted types: "
                                             f"{', '.join(names.suffixes)}.")
                state["done"] = not message.get("more_body", False)
            return message

        async def guarded_send(message):
            if state["refused"]:
                return   # the app answering a body we cut off: the client has our answer already
            state["started"] = True
            state["finished"] = message["type"] == "http.response.body" and not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception as e:
            if state["refused"]:
                return   # a cut-off body making the app fail is expected
            cause = e.__cause__ or e.__context__
            if state["started"] and getattr(cause, "status_code", 500) < 500:
                # a client error found after a stream had started (Gradio's answer to an unknown event id):
                # the client has it in the stream; one line here instead of a traceback per request
                log.info("%s %s: %s after the response started", scope["method"], path, cause)
                if not state["finished"]:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            raise


    async def session(self, scope, receive, send):
        """POST /admin/session with the admin token as the body → 204 and the upload cookie, or 401."""
        chunks, size = [], 0
        deadline = asyncio.get_running_loop().time() + self.limits.body_seconds
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError:
                return await respond(send, 408, f"The token did not arrive within {self.limits.body_seconds:g} s.")
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_TOKEN_BYTES:
                return await respond(send, 413, f"A token has at most {MAX_TOKEN_BYTES} bytes.")
            if not message.get("more_body", False):
                break
        given = b"".join(chunks).decode("utf-8", "replace").strip()
        if not self.uploads.token_matches(given):
            return await respond(send, 401, "That is not the administrator's token.")
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = (f"{UPLOAD_COOKIE}={self.uploads.cookie(time.time())}; Path=/gradio_api/upload; "
                  f"Max-Age={self.uploads.cookie_seconds}; HttpOnly; SameSite=Strict{secure}")
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(b"set-cookie", cookie.encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})


class FileNames:
    """The file names in a multipart body, checked against allowed endings as the body streams past."""

    FILENAME = re.compile(rb'filename\*?="?([^";\r\n]*)', re.I)

    def __init__(self, suffixes: Iterable[str]):
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.tail = b""

    def feed(self, chunk: bytes) -> str | None:
        """The first file name not allowed in what has arrived, else None."""
        text = self.tail + chunk
        # a header line cut between two chunks is completed by the next one; keep the unfinished last line
        complete, _, self.tail = text.rpartition(b"\n")
        self.tail = self.tail[-1024:]
        for m in self.FILENAME.finditer(complete):
            name = m.group(1).decode("utf-8", "replace").strip()
            if name and not name.lower().endswith(self.suffixes):
                return name
        return None
