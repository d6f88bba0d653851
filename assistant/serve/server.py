"""Serving the page: the Gradio Blocks mounted on a FastAPI app, behind the guard and the security headers,
run by uvicorn with every timeout stated.

    app = public_app(demo, css=CSS, theme=…)            # an ASGI app; serve(app, host=…, port=…) runs it

Connection rules (uvicorn, plus what uvicorn lacks):
- request line and headers must arrive within HEADER_SECONDS of the connection opening (or of the previous
  response) and stay under HEADER_BYTES, else 408 / 431 and the connection closes (slow clients);
- an idle keep-alive connection is closed after KEEP_ALIVE_SECONDS;
- bodies: the guard's limits (serve_guard.Limits); WebSockets are off (the page uses none).
"""
from __future__ import annotations

from itertools import chain
from typing import Callable

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from gradio.route_utils import FnIndexInferError
from starlette.routing import Mount
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .guard import QUESTION_ROUTE, Guard, Limits, TrustedProxies, UploadRule
from .headers import SecurityHeaders

HEADER_SECONDS, HEADER_BYTES, KEEP_ALIVE_SECONDS = 10.0, 16 * 1024, 5
REPLIES = {408: (b"408 Request Timeout", b"request headers did not arrive in time"),
           431: (b"431 Request Header Fields Too Large", b"request headers are too large")}


class BoundedHeaders(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit for the request line and headers
    (uvicorn has neither: a client sending a header byte a minute would hold its connection for ever)."""

    header_seconds, header_bytes = HEADER_SECONDS, HEADER_BYTES

    def connection_made(self, transport):
        super().connection_made(transport)
        self._header_size, self._header_timer = 0, None
        self._arm()

    def _arm(self):
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_seconds, self._refuse, 408)

    def _disarm(self):
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, status: int):
        self._header_timer = None
        if self.transport.is_closing():
            return
        reason, text = REPLIES[status]
        self.transport.write(b"HTTP/1.1 " + reason + b"\r\ncontent-type: text/plain\r\nconnection: close\r\n"
                             b"content-length: " + str(len(text)).encode() + b"\r\n\r\n" + text)
        self.transport.close()

    def _count(self, n: int):
        self._header_size += n
        if self._header_size > self.header_bytes:
            self._refuse(431)
            raise ValueError("request headers too large")   # stops the parser; the connection is closed

    def data_received(self, data: bytes) -> None:
        if not self.transport.is_closing():
            super().data_received(data)

    def on_message_begin(self):
        super().on_message_begin()
        self._header_size = 0
        if self._header_timer is None:   # the next request on a kept-alive connection
            self._arm()

    def on_url(self, url: bytes):
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes):
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self):
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self):
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()   # the next request's headers, too, must come in time (keep-alive closes idle ones sooner)

    def send_400_response(self, msg: str):
        if not self.transport.is_closing():   # not after our own 431
            super().send_400_response(msg)

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)


def queued_per_client(demo: gr.Blocks) -> Callable[[str], int]:
    """A client's events waiting or running in the page's queue, by address (Gradio keeps each event's request).
    Reads Gradio's queue (pinned version, see pyproject.toml); tests/test_hostile.py fails if that changes."""

    def count(address: str) -> int:
        q = demo._queue
        waiting = (e for eq in q.event_queue_per_concurrency_id.values() for e in eq.queue)
        running = (e for job in q.active_jobs if job for e in job)
        return sum(1 for e in chain(waiting, running)
                   if getattr(e.request, "client", None) is not None and e.request.client.host == address)
    return count


async def no_such_event(request, exc: Exception):
    """Gradio looks up a client's fn_index / api_name without catching a miss (KeyError, FnIndexInferError:
    a 500 and a traceback per request); on the question routes that is the client's error."""
    if not QUESTION_ROUTE.match(request.url.path):
        raise exc
    return JSONResponse({"detail": f"This page has no such event or endpoint ({exc}); its API endpoint is /ask."},
                        status_code=404)


def public_app(demo: gr.Blocks, *, css: str = "", js: str | None = None, head: str | None = None, theme=None,
               limits: Limits = Limits(),
               trusted_proxies: tuple[str, ...] = (), uploads: UploadRule | None = None,
               frame_ancestors: tuple[str, ...] = (), routes: Callable[[FastAPI], None] | None = None):
    """The page as an ASGI app: no uploads (unless `uploads`), bounded requests, fair per client, secure headers.

    An admin app (document upload) is built the same way with an `UploadRule` and its own Blocks. `routes` adds
    routes of its own (the JSON API, api.install) ahead of the page, which is mounted at / and takes the rest;
    the guard and the headers apply to them as to the page.
    """
    api = FastAPI(title="Jilin policy Q&A", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if routes else None)
    if routes:
        routes(api)
    gr.mount_gradio_app(api, demo, path="/", css=css, js=js, head=head, theme=theme, footer_links=[], show_error=False,
                        max_file_size=uploads.max_bytes if uploads else 0, run_history=False,
                        enable_monitoring=False, pwa=False, ssr_mode=False, mcp_server=False)
    page = next(r.app for r in api.routes if isinstance(r, Mount))
    for error in (KeyError, FnIndexInferError):
        page.add_exception_handler(error, no_such_event)
    guarded = Guard(api, limits=limits, trusted=TrustedProxies(trusted_proxies), uploads=uploads,
                    queued=queued_per_client(demo))
    return SecurityHeaders(guarded, frame_ancestors=frame_ancestors)


def serve(app, *, host: str, port: int) -> None:
    """Run `app` until interrupted, with the stated timeouts; the client address is the TCP peer (X-Forwarded-For
    is the guard's business, and only for trusted proxies)."""
    uvicorn.run(app, host=host, port=port, http=BoundedHeaders, ws="none", lifespan="on", log_level="warning",
                timeout_keep_alive=KEEP_ALIVE_SECONDS, proxy_headers=False, server_header=False,
                timeout_graceful_shutdown=5)
