"""The page's document-management area (`python ui.py --admin`): upload → preview of the parse → confirm →
the document is served; remove an added document. Only with the admin token, and only when started so.

The token reaches the server two ways, both checked in constant time:
- every handler here takes the token box's value and does nothing (shows nothing) unless it matches: the
  area's controls are hidden until it does, but hiding is a convenience, the check is the guard;
- when the token is entered, the browser posts it to /admin/session and gets the upload cookie that the
  server's guard asks of /gradio_api/upload (assistant/serve_guard.py): without it no file reaches the
  server's temporary folder. Each uploaded file is read once, into the session's state, and deleted.

Handlers are plain functions of the page's values (tested directly in tests/test_admin.py); `admin_tab`
wires them into the page. Adding and removing run one at a time (a lock here; the index build's own lock
refuses a change started elsewhere — the command line — with BuildInProgress).
"""
from __future__ import annotations

import hmac
import os
import threading
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from assistant.errors import AssistantError, BadDocument, BuildInProgress, public_message
from assistant.search.changes import add_documents, document_rows, remove_document
from assistant.ingest.readers import MAX_BYTES, READERS
from assistant.serve.render import notice_html, summary_html
from assistant.serve.guard import ADMIN_SESSION_ROUTE

TOKEN_ENV = "ASSISTANT_ADMIN_TOKEN"
MIN_TOKEN_CHARS = 16
SUFFIXES = tuple(READERS)   # .txt .html .htm .docx .pdf
COLUMNS = ["文件 key", "文号 number", "标题 title", "发文机关 issuer", "日期 date", "条款 clauses", "来源 from"]
FROM = {"seed": "内置 seed", "added": "已添加 added"}
BUSY = "另一项更改正在进行，请稍后再试。 / Another change is running; try again when it has finished."
REFUSED = "口令不正确。 / That is not the admin token."


class TokenError(ValueError):
    """The admin token is missing or too weak: the server does not start."""


def read_token(path: Path | None, environ=os.environ) -> str:
    """The admin token from a file (first line) or $ASSISTANT_ADMIN_TOKEN — never from the command line,
    where every user of the machine sees it in `ps`."""
    if path is not None:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise TokenError(f"--admin-token-file {path} cannot be read ({e}); give a file holding the token") from e
        where = f"the token file {path}"
    else:
        token, where = environ.get(TOKEN_ENV, "").strip(), f"${TOKEN_ENV}"
    if not token:
        raise TokenError(f"--admin needs a token: put one in a file (--admin-token-file PATH, readable by this user "
                         f"only) or in ${TOKEN_ENV}; e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))'")
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenError(f"the admin token in {where} has {len(token)} characters; it needs at least "
                         f"{MIN_TOKEN_CHARS} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')")
    return token


def _failed(what: str, e: AssistantError) -> str:
    """An error for the area: the cause without paths (the full one goes to the server log)."""
    if isinstance(e, BuildInProgress):
        return notice_html(BUSY, kind="error")
    print(f"ui admin: {e}", flush=True)
    return notice_html(f"{what}: {public_message(str(e))}", kind="error")


class AdminArea:
    """The handlers of the document area, over one page (ui.Page) and its folders."""

    def __init__(self, page, *, token: str, corpus_dir: Path, data_dir: Path, index_dir: Path,
                 upload_dir: Path | None = None):
        self.page, self.corpus_dir, self.data_dir, self.index_dir = page, corpus_dir, data_dir, index_dir
        self._token = token.encode("utf-8")
        # where Gradio puts uploads; a file is deleted here only if it lies inside
        self.upload_dir = Path(upload_dir or get_upload_folder()).resolve()
        self._change = threading.Lock()

    def accepts(self, token: str | None) -> bool:
        return hmac.compare_digest((token or "").encode("utf-8", "replace"), self._token)

    # ---- the list -------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """The documents served, from the library of the page's store (a folder's data/ or a database's tables)."""
        from assistant.search.store import as_store
        return document_rows(self.corpus_dir, library=as_store(self.index_dir, data_dir=self.data_dir).library())

    def table(self) -> list[list]:
        return [[r["key"], r["doc_number"], r["title"], r["issuer"], r["issue_date"], r["clauses"], FROM[r["from"]]]
                for r in self.rows()]

    def choices(self) -> list[tuple[str, str]]:
        return [(f"{r['doc_number'] or r['title'][:24]}（{FROM[r['from']]}）", r["key"]) for r in self.rows()]

    def unlock(self, token: str):
        """Token box → (area visible?, message, documents table, remove choices)."""
        if not self.accepts(token):
            return gr.update(visible=False), notice_html(REFUSED, kind="error"), gr.update(), gr.update()
        return (gr.update(visible=True), notice_html("口令正确。 / Token accepted.", kind="ok"), self.table(),
                gr.update(choices=self.choices(), value=None))

    # ---- add ------------------------------------------------------------------------------------
    def take_upload(self, path: str | None) -> tuple[str, bytes] | None:
        """The uploaded file (name, bytes), read once and deleted: it lives on in the session's state only."""
        if not path:
            return None
        file = Path(path).resolve()
        if not file.is_relative_to(self.upload_dir):   # Gradio hands us its own paths; never delete another
            raise BadDocument(f"{file.name} is not an uploaded file; upload it again")
        try:
            size = file.stat().st_size
            if size > MAX_BYTES:
                raise BadDocument(f"{file.name} is {size / 2**20:.1f} MB, more than the {MAX_BYTES // 2**20} MB a "
                                  "document may have; upload the text, or split the file")
            return file.name, file.read_bytes()
        except OSError as e:
            raise BadDocument(f"{file.name} cannot be read ({e.strerror}); upload it again") from e
        finally:
            file.unlink(missing_ok=True)
            try:
                file.parent.rmdir()   # Gradio's folder for this upload, when nothing else is in it
            except OSError:
                pass

    def preview(self, token: str, path: str | None, lang: str):
        """An uploaded file → (preview html, pending (name, bytes) or None, confirm button)."""
        nothing = gr.update(interactive=False)
        try:
            upload = self.take_upload(path)
        except AssistantError as e:
            return _failed("文件未读取 / The file was not read", e), None, nothing
        if not self.accepts(token):
            return notice_html(REFUSED, kind="error"), None, nothing
        if upload is None:
            return "", None, nothing
        try:
            change = add_documents([upload], corpus_dir=self.corpus_dir, data_dir=self.data_dir,
                                   index_dir=self.index_dir, dry_run=True)
        except AssistantError as e:
            return _failed(f"{upload[0]} 不能添加，未作任何更改 / {upload[0]} cannot be added; nothing changed", e), \
                None, nothing
        return "".join(summary_html(s, lang) for s in change.summaries), upload, gr.update(interactive=True)

    def confirm(self, token: str, pending: tuple[str, bytes] | None, *, log=lambda line: None):
        """Add the previewed file → (message, pending cleared, confirm button, preview, documents table, remove
        choices)."""
        same = (None, gr.update(interactive=False), gr.update(), gr.update(), gr.update())
        if not self.accepts(token):
            return (notice_html(REFUSED, kind="error"), *same)
        if not pending:
            return (notice_html("请先上传文件并查看解析结果。 / Upload a file and check its preview first.",
                                kind="error"), *same)
        if not self._change.acquire(blocking=False):
            return (notice_html(BUSY, kind="error"), pending, gr.update(interactive=True), gr.update(), gr.update(),
                    gr.update())
        try:
            change = add_documents([tuple(pending)], corpus_dir=self.corpus_dir, data_dir=self.data_dir,
                                   index_dir=self.index_dir, log=log)
        except AssistantError as e:
            return (_failed(f"{pending[0]} 未添加，未作任何更改 / {pending[0]} was not added; nothing changed", e),
                    *same)
        finally:
            self._change.release()
        names = "、".join(x["cited_as"] for x in change.summaries)
        return (self._went_live(f"已添加 / Added: {names}\n{change.outcome}"), None, gr.update(interactive=False), "",
                self.table(), gr.update(choices=self.choices(), value=None))

    # ---- remove ---------------------------------------------------------------------------------
    def _is_seed(self, key: str) -> bool:
        return any(r["key"] == key and r["from"] == "seed" for r in self.rows())

    def ask_remove(self, token: str, key: str | None):
        """A document chosen for removal → (message, pending key or None, confirm-removal button)."""
        hidden = gr.update(visible=False)
        if not self.accepts(token):
            return notice_html(REFUSED, kind="error"), None, hidden
        if not key:
            return notice_html("请选择要删除的文件。 / Choose a document to remove.", kind="error"), None, hidden
        if self._is_seed(key):
            return notice_html(f"文件 {key} 是内置文件，不能删除；只能删除已添加的文件。 / Document {key} is a seed "
                               "document, which cannot be removed; only added documents can.", kind="error"), \
                None, hidden
        return notice_html(f"确定删除文件 {key}？请点击“确认删除”。 / Remove document {key}? Press Confirm removal.",
                           kind="info"), key, gr.update(visible=True)

    def remove(self, token: str, key: str | None):
        """Remove the document asked for → (message, pending cleared, button hidden, table, remove choices)."""
        same = (None, gr.update(visible=False), gr.update(), gr.update())
        if not self.accepts(token):
            return (notice_html(REFUSED, kind="error"), *same)
        if not key:
            return (notice_html("请先选择要删除的文件。 / Choose a document to remove first.", kind="error"), *same)
        if not self._change.acquire(blocking=False):
            return (notice_html(BUSY, kind="error"), key, gr.update(visible=True), gr.update(), gr.update())
        try:
            done = remove_document(key, corpus_dir=self.corpus_dir, data_dir=self.data_dir, index_dir=self.index_dir)
        except AssistantError as e:
            return (_failed(f"文件 {key} 未删除 / Document {key} was not removed", e), *same)
        finally:
            self._change.release()
        return (self._went_live(f"已删除 / Removed: {done}"), None, gr.update(visible=False), self.table(),
                gr.update(choices=self.choices(), value=None))

    def _went_live(self, outcome: str) -> str:
        """Swap this process to the new index now (others follow within a second: LiveAnswerer)."""
        live = getattr(self.page, "live", None)
        if live is not None and not live.reload():
            return notice_html(f"{outcome}\n新索引尚未能载入，问答仍使用旧索引（详见服务器日志）。 / The new index could not "
                               "be loaded yet; answers come from the previous one (see the server log).", kind="error")
        return notice_html(outcome, kind="ok")


# Runs in the browser before the token box's handler: trades the token for the upload cookie (HttpOnly: the
# page's scripts never see the cookie; the token stays in the password box, as typed).
UNLOCK_JS = f"""async (token) => {{
  try {{ await fetch("{ADMIN_SESSION_ROUTE}", {{method: "POST", body: token || "", credentials: "same-origin"}}); }}
  catch (e) {{}}
  return [token];
}}"""


def admin_tab(area: AdminArea, *, lang: gr.Radio) -> list:
    """The 文件管理 / Documents admin tab (inside the page's gr.Tabs). Returns the add and remove events, for the
    page to chain its own refresh (document filter, tables) after them."""
    private = dict(api_visibility="private")
    with gr.Tab("文件管理 / Documents admin", id="admin", elem_id="tab-admin"):
        with gr.Row():
            token = gr.Textbox(label="管理口令 / Admin token", type="password", elem_id="admin-token", scale=3,
                               max_length=1024)
            unlock = gr.Button("进入 / Enter", elem_id="admin-unlock", scale=1)
        message = gr.HTML("", elem_id="admin-message")
        with gr.Column(visible=False, elem_id="admin-area") as body:
            docs = gr.Dataframe([], headers=COLUMNS, interactive=False, wrap=True, elem_id="admin-docs",
                                label="文件 / Documents", max_height=360,
                                column_widths=["7%", "15%", "36%", "14%", "10%", "8%", "10%"])
            with gr.Row():
                with gr.Column(scale=1):
                    upload = gr.File(label=f"上传文件 / Upload a document ({' '.join(SUFFIXES)}, ≤ "
                                           f"{MAX_BYTES // 2**20} MB)", file_types=list(SUFFIXES), type="filepath",
                                     file_count="single", elem_id="admin-file")
                    confirm = gr.Button("确认添加 / Confirm: add it", variant="primary", interactive=False,
                                        elem_id="admin-confirm")
                    gr.Markdown("---")
                    doc = gr.Dropdown([], label="删除已添加的文件 / Remove an added document", elem_id="admin-remove-doc")
                    ask_remove = gr.Button("删除 / Remove", elem_id="admin-remove")
                    really = gr.Button("确认删除 / Confirm removal", variant="stop", visible=False,
                                       elem_id="admin-remove-confirm")
                with gr.Column(scale=2):
                    preview = gr.HTML("", elem_id="admin-preview")
        pending = gr.State(None)
        pending_remove = gr.State(None)

    unlock_event = dict(fn=area.unlock, inputs=token, outputs=[body, message, docs, doc], **private)
    unlock.click(js=UNLOCK_JS, **unlock_event)
    token.submit(js=UNLOCK_JS, **unlock_event)

    upload.upload(area.preview, inputs=[token, upload, lang], outputs=[preview, pending, confirm], **private) \
        .then(lambda: None, outputs=upload, **private)   # the file is read and deleted: the control is emptied

    def add(tok: str, pend, progress=gr.Progress()):
        name = pend[0] if pend else ""
        yield (notice_html(f"正在添加 {name}：解析、嵌入新段落、建立索引…… / Adding {name}: parsing, embedding the new "
                           "passages, building the index …", kind="info"), pend, gr.update(interactive=False),
               gr.update(), gr.update(), gr.update())
        yield area.confirm(tok, pend, log=lambda line: progress(None, desc=line))

    added = confirm.click(add, inputs=[token, pending], outputs=[message, pending, confirm, preview, docs, doc],
                          concurrency_limit=1, concurrency_id="admin-change", **private)
    ask_remove.click(area.ask_remove, inputs=[token, doc], outputs=[message, pending_remove, really], **private)
    removed = really.click(area.remove, inputs=[token, pending_remove],
                           outputs=[message, pending_remove, really, docs, doc], concurrency_limit=1,
                           concurrency_id="admin-change", **private)
    return [added, removed]
