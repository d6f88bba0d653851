"""The JSON API, on the same server as the page and built on the same composition root (app.Assistant).

    POST   /api/ask                 {"question", "doc"?, "top_k"?} → the `ask --json` object
    GET    /api/clauses/{id}        a clause by id (40-2.5.5) or citation form, with its records
    GET    /api/documents           the documents served
    POST   /api/documents           add one (multipart field `file`, or the raw body with ?name=FILE)  ┐ admin
    DELETE /api/documents/{key}     remove an added one                                                 ┘ token
    GET    /healthz                 the index version served, document and clause counts, the cache's figures
    GET    /docs, /openapi.json     what is above, as a page and as OpenAPI

Errors are JSON, `{"error": …, "exit_code": …}`, with the HTTP status of the domain error (`http_status` in
errors.py) and its message without file-system paths; never a stack trace. What a request may carry and how
often one client may ask is the guard's (serve_guard.py), before a byte of the body reaches these handlers.
Writes need `Authorization: Bearer <admin token>` and a server started with --admin (the guard refuses
others before reading the body; the check is made again here).

Questions are answered in worker threads, `concurrency` at a time (the cores); up to `queue_size` more wait,
and past that a question gets 503 with Retry-After at once rather than waiting for ever.
"""
from __future__ import annotations

import hmac
import html
import logging
import threading

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from ..answer.answerer import MAX_QUESTION_CHARS
from .app import Assistant
from ..errors import AssistantError, BadQuestion, UnknownClause, public_message

log = logging.getLogger("uvicorn.error")


class AskRequest(BaseModel):
    question: str = Field(..., max_length=4 * MAX_QUESTION_CHARS, description=f"at most {MAX_QUESTION_CHARS} "
                          "characters after clean-up (longer is a 400 with the reason)")
    doc: str | None = Field(None, description="only this document (key or number, e.g. 41); none: every document")
    top_k: int = Field(5, ge=1, le=20, description="provisions to cite, the answer's first")


def error(status: int, message: str, exit_code: int | None = None, *, retry_after: int | None = None,
          ours: bool = False) -> JSONResponse:
    """The JSON error; a domain error's message loses its file-system paths (`ours`: a message of this module,
    which names API routes, not files)."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": message if ours else public_message(message), "exit_code": exit_code},
                        status_code=status, headers=headers)


class Full(Exception):
    """The questions waiting for a worker are as many as the gate holds."""


class Gate:
    """At most `concurrency` answers computed at once, at most `queue_size` waiting (Full past that)."""

    def __init__(self, concurrency: int, queue_size: int):
        self.limiter = anyio.CapacityLimiter(concurrency)
        self.queue_size, self.waiting, self._lock = queue_size, 0, threading.Lock()

    async def run(self, fn, *args):
        with self._lock:
            if self.waiting >= self.queue_size + self.limiter.total_tokens:
                raise Full()
            self.waiting += 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)
        finally:
            with self._lock:
                self.waiting -= 1


def install(api: FastAPI, app: Assistant, *, admin_token: str | None = None, concurrency: int = 2,
            queue_size: int = 64) -> None:
    """Add the API's routes and error handlers to `api` (before the page is mounted at /: routes match in order)."""
    gate = Gate(concurrency, queue_size)

    @api.exception_handler(AssistantError)
    async def domain_error(request: Request, e: AssistantError):
        if e.http_status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, e)   # in full, paths too, for the log
        return error(e.http_status, str(e), e.exit_code, retry_after=5 if e.http_status == 503 else None)

    @api.exception_handler(RequestValidationError)
    async def bad_request(request: Request, e: RequestValidationError):
        parts = [f"{'.'.join(str(x) for x in err.get('loc', ()) if x != 'body') or 'body'}: {err.get('msg', '')}"
                 for err in e.errors()[:3]]
        return error(422, "the request does not fit the API: " + "; ".join(parts) + " (see /docs)", BadQuestion.exit_code,
                     ours=True)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        return error(e.status_code, str(e.detail), ours=True)

    @api.exception_handler(Exception)
    async def server_error(request: Request, e: Exception):
        log.exception("%s %s failed", request.method, request.url.path)
        return error(500, "the server failed to answer this request; it has been logged", 1, ours=True)

    def admin(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if admin_token is None:
            raise HTTPException(403, "this server takes no document changes (it was not started with --admin)")
        if not hmac.compare_digest(given.encode("latin-1", "replace"), f"Bearer {admin_token}".encode()):
            raise HTTPException(401, "document changes need Authorization: Bearer <the admin token>")

    @api.post("/api/ask", tags=["questions"], summary="Answer a question (the `ask --json` object)")
    async def ask(body: AskRequest):
        try:
            return await gate.run(lambda: app.ask(body.question, doc=body.doc, top_k=body.top_k).to_dict())
        except Full:
            return error(503, f"{gate.queue_size} questions are waiting already; try again in a few seconds",
                         retry_after=2, ours=True)

    @api.get("/api/clauses/{clause_id}", tags=["documents"],
             summary="A clause by id (40-2.5.5) or citation form (41号 第17条), with its records")
    def clause(clause_id: str):
        return app.clause(clause_id)

    @api.get("/api/documents", tags=["documents"], summary="The documents served, seed first")
    def documents():
        return {"version": app.version, "documents": app.documents()}

    @api.post("/api/documents", tags=["admin"], status_code=201,
              summary="Add a document (.txt .html .docx .pdf): multipart field `file`, or the raw body with ?name=")
    async def add(request: Request, name: str | None = None):
        admin(request)
        files = await _files(request, name)
        change = await anyio.to_thread.run_sync(app.add, files)
        return {"added": list(change.keys), "outcome": public_message(change.outcome), "version": app.version,
                "documents": [{k: s[k] for k in ("key", "doc_number", "title", "issuer", "issue_date", "warnings")}
                              for s in change.summaries]}

    @api.delete("/api/documents/{key}", tags=["admin"], summary="Remove an added document")
    async def remove(request: Request, key: str):
        admin(request)
        done = await anyio.to_thread.run_sync(app.remove, key)
        return {"removed": key, "outcome": public_message(done), "version": app.version}

    @api.get("/healthz", tags=["service"], summary="The index version served and the answer cache's figures")
    def healthz():
        return app.health()

    @api.get("/docs", include_in_schema=False)
    def docs():
        return HTMLResponse(docs_page(api.openapi()))

    @api.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(request: Request, rest: str):
        methods = sorted({m for r in api.routes if getattr(r, "include_in_schema", False) and
                          getattr(r, "path_regex", None) and r.path_regex.match(request.url.path)
                          for m in r.methods})
        if methods:
            return error(405, f"{request.method} is not a method of /api/{rest}; use {', '.join(methods)}",
                         ours=True)
        return error(404, f"no API route /api/{rest}; the routes are listed at /docs", UnknownClause.exit_code,
                     ours=True)


async def _files(request: Request, name: str | None) -> list[tuple[str, bytes]]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadQuestion("the multipart body has no file field named `file`; send the document as `file`")
        return [(upload.filename or "document", await upload.read())]
    if not name:
        raise BadQuestion("a raw body needs the file's name: POST /api/documents?name=FILE.docx (or send multipart "
                          "with a field `file`)")
    return [(name, await request.body())]


def docs_page(spec: dict) -> str:
    """The API's routes as a plain HTML page (no scripts: Swagger UI loads from a CDN, and this server is offline)."""
    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            body = op.get("requestBody", {}).get("content", {})
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op.get('summary', ''))}</td><td>{html.escape(params)}</td>"
                        f"<td>{html.escape(', '.join(body))}</td></tr>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>API · Jilin policy Q&amp;A</title>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:70em}td,th{padding:.3em .6em;text-align:left;"
            "vertical-align:top;border-bottom:1px solid #ccc}</style></head><body>"
            f"<h1>{html.escape(spec.get('info', {}).get('title', 'API'))}</h1>"
            "<p>Errors are JSON: <code>{\"error\": …, \"exit_code\": …}</code> with the HTTP status. The full schema: "
            "<a href='/openapi.json'>/openapi.json</a> (OpenAPI " + html.escape(spec.get("openapi", "")) + ").</p>"
            "<table><tr><th>method</th><th>path</th><th>what</th><th>parameters</th><th>body</th></tr>"
            + "".join(rows) + "</table></body></html>")
