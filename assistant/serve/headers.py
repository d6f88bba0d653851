"""Security headers on every response, and a Content-Security-Policy the page works under.

The page's own inline scripts (Gradio's config and bootstrap) are allowed by a nonce made per response and
written into each `<script` of the HTML; everything else inline — `onerror=` in planted markup, a `<script>`
smuggled into an HTML pane — is blocked by the browser even if escaping ever failed. 'unsafe-eval' stays:
Gradio compiles an event's `js=` code (the copy-citation button, the scroll to a clause) with the Function
constructor while the page starts, and without it the page does not render at all (seen in Chromium).
Styles may be inline (Gradio sets style attributes and adds <style> elements as it renders).
"""
from __future__ import annotations

import re
import secrets

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
       "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {frame}")
SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.I)
MAX_HTML_BYTES = 8 * 1024 * 1024   # an HTML response larger than this is passed on without its inline scripts


def policy(nonce: str, *, frame_ancestors: tuple[str, ...] = ()) -> str:
    """The CSP text; `frame_ancestors` are the hosts that may frame the page (none by default)."""
    return CSP.format(nonce=nonce, frame=" ".join(frame_ancestors) or "'none'")


class SecurityHeaders:
    """ASGI middleware: CSP, nosniff, no framing, no referrer on every response; nonces into HTML pages.

    The page's HTML is asked for without compression (Accept-Encoding dropped for `pages`) so that the nonce can
    be written into it; an HTML response that still arrives compressed keeps the policy, and its inline scripts
    are then blocked — the page fails closed, not open.
    """

    def __init__(self, app, *, pages: tuple[str, ...] = ("/",), frame_ancestors: tuple[str, ...] = ()):
        self.app, self.pages, self.frame_ancestors = app, pages, frame_ancestors

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] in self.pages:
            scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"accept-encoding"])
        nonce = secrets.token_urlsafe(16)
        fixed = [(b"content-security-policy",
                  policy(nonce, frame_ancestors=self.frame_ancestors).encode()),
                 (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"no-referrer")]
        if not self.frame_ancestors:
            fixed.append((b"x-frame-options", b"DENY"))
        names = {k for k, _ in fixed}
        held: dict = {}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names] + fixed
                message = dict(message, headers=headers)
                if _is_plain_html(headers):
                    held.update(start=message, body=[])
                    return
                return await send(message)
            if message["type"] == "http.response.body" and held:
                held["body"].append(message.get("body", b""))
                size = sum(map(len, held["body"]))
                if message.get("more_body", False) and size <= MAX_HTML_BYTES:
                    return
                body = b"".join(held["body"])
                if not message.get("more_body", False):
                    body = SCRIPT_TAG.sub(b'<script nonce="' + nonce.encode() + b'"', body)
                start = held.pop("start")
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                if not message.get("more_body", False):
                    headers.append((b"content-length", str(len(body)).encode()))
                held.clear()
                await send(dict(start, headers=headers))
                return await send({"type": "http.response.body", "body": body,
                                   "more_body": message.get("more_body", False)})
            return await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_plain_html(headers) -> bool:
    h = {k.lower(): v.lower() for k, v in headers}
    return h.get(b"content-type", b"").startswith(b"text/html") and h.get(b"content-encoding", b"identity") in (
        b"identity", b"")
