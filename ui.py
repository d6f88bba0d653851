"""The Gradio page: ask in Chinese or English, see the provision highlighted and cited, copy the citation,
browse responsibilities, targets and the documents.

    python ui.py [--host 127.0.0.1] [--port 7860] [--index index/ | --store postgresql://…] [--data data/]
                 [--trusted-proxy ADDR]
    ASSISTANT_ADMIN_TOKEN=… python ui.py --admin      # or --admin-token-file PATH: the document-management tab

Handlers are plain functions over the answer API (tested directly); the page only wires them up. It is served
by assistant/serve.py: no uploads, bounded requests, a fair share per client, security headers. With --admin
the page gets a document-management tab (ui_admin.py) and the upload route opens to the admin token only.
"""
from __future__ import annotations

import argparse
import atexit
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr

from assistant.answer.answerer import MAX_QUESTION_CHARS, Answer, Answerer, LiveAnswerer
from assistant.serve.app import Assistant
from assistant.serve.cache import DEFAULT_SIZE as DEFAULT_CACHE_SIZE
from assistant.answer.conversation import Conversation
from assistant.ingest.corpus import DEFAULT_CORPUS_DIR
from assistant.errors import AssistantError, BadQuestion, public_message
from assistant.search.index import DEFAULT_INDEX_DIR
from assistant.ingest.library import DEFAULT_DATA_DIR
from assistant.ingest.readers import MAX_BYTES
from assistant.serve.render import CSS, LABELS, PAGE_JS, copy_text, document_html, evidence_html
from assistant.runtime import start as start_runtime
from assistant.serve.server import public_app, serve
from assistant.serve.guard import Limits, UploadRule
from assistant.answer.tables import agency_rows, target_rows, to_csv

# 2 handlers at once on a 2-core machine; excess visitors wait in a bounded queue (measured: README).
# Waiting visitors get their queue position every STATUS_EVERY s, not after every finished request:
# Gradio's default ("auto") writes to every waiting visitor each time any request ends, O(waiting²).
CONCURRENCY, QUEUE_SIZE, STATUS_EVERY = 2, 64, 1.0
# The conversation the page shows (and sends back with every question) keeps the last 20 exchanges: the request
# then stays under the guard's limit for questions (Limits.question_bytes; tests/test_serve.py checks the worst case).
KEEP_EXCHANGES = 20
EXAMPLES = [
    "矿山土壤生态环境恢复治理由哪个部门牵头？", "秸秆综合利用率的目标是多少？", "Which agency leads mine restoration?",
    "What is the straw target?", "生态环境损害赔偿权利人是谁？", "省财政厅牵头哪些工作？", "41号文第17条",
]
TARGETS_CSV = "jilin-policy-targets.csv"
# A download's folder outlives its request by this much: Gradio copies the file into its own cache while
# answering the request, so anything older is no longer read.
DOWNLOAD_TTL = 600.0
UNOFFICIAL = "(unofficial English rendering of the Chinese provision)"


def from_rendering(line: str, english: str | None) -> bool:
    """Whether an answer line is a sentence of the clause's English rendering (not records or glossary words)."""
    line = line.strip().rstrip(".")
    return bool(english and len(line) > 12 and line.lower() in english.lower())


class View:
    """What the page shows from one answerer: its catalog and the tables built from it (read-only)."""

    def __init__(self, answerer: Answerer):
        self.answerer = answerer
        self.catalog = answerer.catalog
        self.agencies = agency_rows(self.catalog)
        self.targets = target_rows(self.catalog)
        m = answerer.retriever.index.manifest
        self.status = {"built": m.get("built_at", "?"), "clauses": m["counts"]["clauses"],
                       "passages": m["counts"]["passages"],
                       "model": " + ".join(e["name"] for e in m["encoders"]) + " + BM25"}


class Page:
    """The state shared by every visitor: the live answerer and what the page shows from it. When a document
    is added or removed (here, on the command line or by another replica) the next request sees it."""

    def __init__(self, answerer: Answerer | LiveAnswerer, *, app: Assistant | None = None):
        self.live = answerer if isinstance(answerer, LiveAnswerer) else None
        self.app = app   # with one, a conversation's first question comes from its answer cache
        self._view = View(answerer.current() if self.live else answerer)
        self._view_lock = threading.Lock()
        # this page's downloads: a private folder (mode 0700, unpredictable name), removed at exit
        self.downloads = Path(tempfile.mkdtemp(prefix="jilin-policy-downloads-"))
        atexit.register(self._remove_downloads)

    @property
    def view(self) -> View:
        """The view of the live answerer (rebuilt once when the live index changes)."""
        if self.live is not None and self.live.current() is not self._view.answerer:
            with self._view_lock:
                answerer = self.live.current()
                if answerer is not self._view.answerer:
                    self._view = View(answerer)
        return self._view

    answerer = property(lambda self: self.view.answerer)
    catalog = property(lambda self: self.view.catalog)
    agencies = property(lambda self: self.view.agencies)
    targets = property(lambda self: self.view.targets)
    status = property(lambda self: self.view.status)

    def document_choices(self) -> list[tuple[str, str]]:
        """(label, key) of every document served, for the filter and the document tab."""
        return [(d.doc_number or d.title, d.key) for d in self.catalog.documents]

    # ---- ask ------------------------------------------------------------------------------------
    def respond(self, question: str, chat: list, answers: list, lang: str, doc: str):
        """One question in a conversation → (chat, answers, evidence html, copy text, cleared box)."""
        question = (question or "").strip()
        if not question:
            raise gr.Error("请输入问题。 / Please type a question.")
        if len(question) > MAX_QUESTION_CHARS:
            raise gr.Error(f"问题过长（{len(question)} 字），上限 {MAX_QUESTION_CHARS} 字。 / "
                           f"The question has {len(question)} characters; the limit is {MAX_QUESTION_CHARS}.")
        try:
            if self.app is not None:
                conv = self.app.converse(question, list(answers or []), doc=doc)
                a = conv.history[-1]
            else:
                conv = Conversation(self.view.answerer, history=list(answers or []))
                a = conv.ask(question, doc=None if doc in (None, "", "all") else doc)
        except BadQuestion as e:
            raise gr.Error(str(e)) from None
        except AssistantError as e:  # the cause, without paths, for the visitor; in full in the server log
            print(f"ui: {e}", file=sys.stderr)
            raise gr.Error(f"暂时无法回答 / Cannot answer right now: {public_message(str(e))}") from e
        reply = self.reply_text(a)
        chat = list(chat or [])[-2 * (KEEP_EXCHANGES - 1):] + [{"role": "user", "content": question},
                                                               {"role": "assistant", "content": reply}]
        # the session keeps only the last answer: all a follow-up needs, and Gradio copies the state per request
        return chat, conv.history[-1:], evidence_html(a, lang), (copy_text(a.citations[0]) if a.found and a.citations
                                                                  else ""), ""

    @staticmethod
    def reply_text(a: Answer) -> str:
        if not a.found:
            return a.answer
        top = a.citations[0]
        # a line taken from the English rendering says so: the Chinese provision is the text that counts
        note = f"\n{UNOFFICIAL}" if a.lang == "en" and from_rendering(a.answer, top.english) else ""
        return f"{a.answer}{note}\n\n—— {top.citation}"

    def show_clause(self, clause_id: str, lang: str):
        """Evidence for one clause (from a table row)."""
        from assistant.answer.answerer import Citation
        c = self.catalog.by_id[clause_id]
        cit = Citation.of(c, english=self.answerer.renderings.get(c.clause_id))
        a = Answer(c.citation, True, c.text, (cit,), lang=lang)
        return evidence_html(a, lang), copy_text(cit)

    # ---- tables ---------------------------------------------------------------------------------
    def agency_table(self, name: str | None, lang: str) -> tuple[list[list[str]], list[str]]:
        L = LABELS[lang]
        rows = [r for r in self.agencies if not name or name == "all" or r["agency"] == name]
        table = [[r["agency"] if lang == "zh" else f"{r['agency_en']} ({r['agency']})", L["role"][r["role"]],
                  r["citation"], r["heading"]] for r in rows]
        return table, [r["clause_id"] for r in rows]

    def agency_choices(self) -> list[str]:
        return sorted({r["agency"] for r in self.agencies})

    def target_table(self) -> list[list]:
        return [[r["date"], r["indicator"], r["value"], r["qualifier"], r["lead"], r["responsible"], r["citation"]]
                for r in self.targets]

    def targets_csv(self) -> str:
        """The targets table as a CSV file of this request's own: a new folder in the page's private one.

        Gradio calls this on every page load and copies the file into its cache; two visitors never share
        a file, and no other user of the machine can guess or pre-empt its path."""
        self._remove_old_downloads()
        folder = Path(tempfile.mkdtemp(dir=self.downloads))
        path = folder / TARGETS_CSV
        with open(path, "x", encoding="utf-8", newline="") as f:
            f.write("\ufeff" + to_csv(self.targets))  # BOM: Excel opens Chinese correctly
        return str(path)

    def _remove_downloads(self) -> None:
        try:
            shutil.rmtree(self.downloads)
        except OSError as e:
            print(f"ui: could not remove the download folder {self.downloads} ({e}); delete it by hand",
                  file=sys.stderr)

    def _remove_old_downloads(self) -> None:
        cutoff = time.time() - DOWNLOAD_TTL
        for folder in self.downloads.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder)
            except FileNotFoundError:  # another request removed it first
                continue

    def footer(self, lang: str) -> str:
        return LABELS[lang]["footer"].format(**self.status)


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with the indigo text and buttons one or two shades darker: its defaults (indigo-500
    labels on indigo-100, white on indigo-400 buttons) fall below the WCAG AA contrast of 4.5:1."""
    return gr.themes.Soft().set(
        block_title_text_color="*primary_700", block_title_text_color_dark="*primary_200",
        block_label_text_color="*primary_700", block_label_text_color_dark="*primary_200",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_label_background_fill_selected_dark="*primary_700",
        button_primary_background_fill="*primary_700", button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover="*primary_800", button_primary_background_fill_hover_dark="*primary_800",
    )


def doc_filter_choices(page: "Page", lang: str) -> list[tuple[str, str]]:
    """The document filter: 40号 for a numbered document whose key is its serial, else its number or title."""
    out = [(LABELS[lang]["all_docs"], "all")]
    for d in page.catalog.documents:
        out.append((f"{d.key}号" if d.doc_number.endswith(f"〕{d.key}号") else (d.doc_number or d.title[:16]), d.key))
    return out


def header_text(L: dict, page: "Page") -> str:
    """The page's title and what it searches: as many documents as the live index serves."""
    return f"## {L['title']}\n{L['subtitle'].format(documents=len(page.catalog.documents))}"


def labels_update(lang: str, page: "Page"):
    """Relabel every component for `lang` (order matches `relabel_outputs` in build_demo)."""
    L = LABELS[lang]
    return (
        header_text(L, page),
        gr.update(label=L["doc_filter"], choices=doc_filter_choices(page, lang)),
        gr.update(label=L["chat"]), gr.update(label=L["question"], placeholder=L["placeholder"]),
        gr.update(value=L["send"]), gr.update(value=L["clear"]), gr.update(value=L["copy"]),
        gr.update(label=L["copy_text"]), gr.update(value=L["open_doc"]),
        gr.update(label=L["agency"]), gr.update(headers=L["cols_resp"], label=L["tab_resp"]),
        gr.update(headers=L["cols_targets"], label=L["tab_targets"]), gr.update(label=L["download"]),
        gr.update(label=L["document"]),
        gr.update(label=L["tab_ask"]), gr.update(label=L["tab_resp"]), gr.update(label=L["tab_targets"]),
        gr.update(label=L["tab_docs"]), L["resp_hint"],
    )


def error_page(message: str) -> gr.Blocks:
    with gr.Blocks(title="吉林省政策问答") as page:
        gr.Markdown("## 吉林省政策问答 · Jilin policy Q&A")
        gr.Markdown(f"**暂时无法提供服务 / The assistant is not available right now.**\n\n"
                    f"{public_message(message)}\n\n"
                    "管理员请运行 `make index`（或 `python -m assistant build`）后重启。 / "
                    "An administrator should run `make index` (or `python -m assistant build`) and restart.")
    return page


def default_store() -> str | Path:
    """$ASSISTANT_STORE (a postgresql:// URL or a folder), else $ASSISTANT_INDEX_DIR, else index/."""
    return os.environ.get("ASSISTANT_STORE") or Path(os.environ.get("ASSISTANT_INDEX_DIR", DEFAULT_INDEX_DIR))


# a multipart body holds the file and a few hundred bytes of headers around it
UPLOAD_OVERHEAD = 64 * 1024


def build_demo(index_dir=DEFAULT_INDEX_DIR, *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
               data_dir: Path | None = None, admin_token: str | None = None, app: Assistant | None = None) -> gr.Blocks:
    """The page over the store `index_dir` (a store, an index folder or a postgresql:// URL), or over `app`
    (the composition root, shared with the JSON API); with `admin_token`, its document-management tab too."""
    start_runtime(concurrency=CONCURRENCY)  # before any model loads: the encode pool is sized from it
    try:
        app = app or Assistant.open(index_dir, corpus_dir=corpus_dir, data_dir=data_dir)
    except AssistantError as e:
        print(f"ui: {e}", file=sys.stderr)  # the full message, paths included, for the administrator
        return error_page(str(e))
    page = Page(app.live, app=app)
    L = LABELS["zh"]
    # with uploads open, Gradio's own clean-up too: an upload nobody previewed (the page deletes those it reads)
    # is removed after an hour
    with gr.Blocks(title="吉林省政策问答 · Jilin policy Q&A", delete_cache=(3600, 3600) if admin_token else None) as demo:
        answers = gr.State([])
        clause_ids = gr.State([r["clause_id"] for r in page.agencies])
        with gr.Row():
            header = gr.Markdown(header_text(L, page), elem_id="header")
            lang = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", label=L["lang"], elem_id="lang",
                            scale=0, min_width=220)
            doc = gr.Radio(doc_filter_choices(page, "zh"), value="all",
                           label=L["doc_filter"], elem_id="doc-filter", scale=0, min_width=300)
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab(L["tab_ask"], id="ask", elem_id="tab-ask") as tab_ask:
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(label=L["chat"], height=460, render_markdown=False, sanitize_html=True,
                                          elem_id="chat", buttons=["copy"])
                        question = gr.Textbox(label=L["question"], placeholder=L["placeholder"], lines=1,
                                              max_length=MAX_QUESTION_CHARS, elem_id="question", autofocus=True)
                        with gr.Row():
                            send = gr.Button(L["send"], variant="primary", elem_id="send")
                            clear = gr.Button(L["clear"], elem_id="clear")
                        gr.Examples(EXAMPLES, inputs=question, label="示例问题 / Examples")
                    with gr.Column(scale=2):
                        evidence = gr.HTML(evidence_html(None, "zh"), elem_id="evidence")
                        quote = gr.Textbox(label=L["copy_text"], interactive=False, lines=3, elem_id="quote")
                        with gr.Row():
                            copy = gr.Button(L["copy"], elem_id="copy")
                            open_doc = gr.Button(L["open_doc"], elem_id="open-doc")
            with gr.Tab(L["tab_resp"], id="resp", elem_id="tab-resp") as tab_resp:
                resp_hint = gr.Markdown(L["resp_hint"])
                agency = gr.Dropdown([(L["all_agencies"], "all")] + page.agency_choices(), value="all",
                                     label=L["agency"], elem_id="agency", filterable=True)
                resp = gr.Dataframe(page.agency_table(None, "zh")[0], headers=L["cols_resp"], interactive=False,
                                    wrap=True, elem_id="resp-table", max_height=520)
            with gr.Tab(L["tab_targets"], id="targets", elem_id="tab-targets") as tab_targets:
                targets = gr.Dataframe(page.target_table(), headers=L["cols_targets"], interactive=False, wrap=True,
                                       elem_id="targets-table", max_height=520)
                download = gr.DownloadButton(L["download"], value=page.targets_csv, elem_id="download")
            with gr.Tab(L["tab_docs"], id="docs", elem_id="tab-docs") as tab_docs:
                doc_pick = gr.Dropdown([(f"{d.doc_number} {d.title}".strip(), d.key) for d in page.catalog.documents],
                                       value=page.catalog.documents[0].key, label=L["document"], elem_id="doc-pick")
                doc_view = gr.HTML(document_html(page.catalog, page.catalog.documents[0].key, "zh"), elem_id="doc-view")
            changes = []
            if admin_token:
                from ui_admin import AdminArea, admin_tab
                area = AdminArea(page, token=admin_token, corpus_dir=corpus_dir, data_dir=data_dir or DEFAULT_DATA_DIR,
                                 index_dir=app.store)
                changes = admin_tab(area, lang=lang)
                # an add embeds with the passage graph: made now, in the background, not in the first add
                threading.Thread(target=lambda: [enc.prepare_passages() for enc in
                                                 page.answerer.retriever.encoders.values()],
                                 name="prepare-passages", daemon=True).start()
        footer = gr.Markdown(page.footer("zh"), elem_classes=["footer-status"], elem_id="footer")

        # the one public API endpoint (/ask, used by gradio_client and the load test); the rest is the page's own
        gr.on([send.click, question.submit], page.respond, inputs=[question, chat, answers, lang, doc],
              outputs=[chat, answers, evidence, quote, question], api_name="ask")
        private = dict(api_visibility="private")
        clear.click(lambda lg: ([], [], evidence_html(None, lg), ""), inputs=lang,
                    outputs=[chat, answers, evidence, quote], **private)
        copy.click(None, inputs=quote, outputs=None, **private,
                   js="(t) => { if (t) { navigator.clipboard.writeText(t); } return []; }")

        def open_in_document(ans: list, lg: str):
            if not ans or not ans[-1].found or not ans[-1].citations:
                return gr.update(), gr.update(), gr.update()
            cid = ans[-1].citations[0].clause_id
            key = page.catalog.by_id[cid].doc_key
            return gr.Tabs(selected="docs"), key, document_html(page.catalog, key, lg, highlight=cid)
        open_doc.click(open_in_document, inputs=[answers, lang], outputs=[tabs, doc_pick, doc_view], **private).then(
            None, **private, js="() => { setTimeout(() => document.querySelector('#doc-view .clause.hl')"
                     "?.scrollIntoView({block: 'center'}), 300); }")
        doc_pick.change(lambda k, lg: document_html(page.catalog, k, lg), inputs=[doc_pick, lang], outputs=doc_view,
                        **private)

        agency.change(page.agency_table, inputs=[agency, lang], outputs=[resp, clause_ids], **private)

        def fresh(lg: str, key: str):
            """On every page load: the documents and tables of the live index (documents may have been added)."""
            keys = [d.key for d in page.catalog.documents]
            key = key if key in keys else keys[0]
            table, ids = page.agency_table(None, lg)
            return (gr.update(choices=doc_filter_choices(page, lg)),
                    gr.update(choices=[(f"{d.doc_number} {d.title}".strip(), d.key) for d in page.catalog.documents],
                              value=key),
                    gr.update(choices=[(LABELS[lg]["all_agencies"], "all")] + page.agency_choices()),
                    table, ids, page.target_table(), page.footer(lg), header_text(LABELS[lg], page))
        refreshed = [doc, doc_pick, agency, resp, clause_ids, targets, footer, header]
        demo.load(fresh, inputs=[lang, doc_pick], outputs=refreshed, **private)
        for change in changes:   # a document added or removed on the admin tab: this page's lists follow at once
            change.then(fresh, inputs=[lang, doc_pick], outputs=refreshed, **private)

        def pick_row(ids: list, lg: str, evt: gr.SelectData):
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if row is None or row >= len(ids):
                return gr.update(), gr.update(), gr.update()
            html, q = page.show_clause(ids[row], lg)
            return gr.Tabs(selected="ask"), html, q
        resp.select(pick_row, inputs=[clause_ids, lang], outputs=[tabs, evidence, quote], **private)

        relabel_outputs = [header, doc, chat, question, send, clear, copy, quote, open_doc, agency, resp, targets,
                           download, doc_pick, tab_ask, tab_resp, tab_targets, tab_docs, resp_hint]

        def switch_language(lg: str, name: str, ans: list, key: str):
            table, ids = page.agency_table(name, lg)
            last = ans[-1] if ans else None
            return (*labels_update(lg, page), gr.update(value=table, headers=LABELS[lg]["cols_resp"]), ids,
                    evidence_html(last, lg), page.footer(lg), document_html(page.catalog, key, lg))
        lang.change(switch_language, inputs=[lang, agency, answers, doc_pick],
                    outputs=relabel_outputs + [resp, clause_ids, evidence, footer, doc_view], **private)
    # api_open=False: /gradio_api/run/ask would otherwise run the handler outside the queue and its limits
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE, status_update_rate=STATUS_EVERY,
               api_open=False)
    return demo


def __getattr__(name: str):
    """`ui.demo`, the module-level page, is built on first use: importing ui for its handlers loads nothing."""
    if name == "demo":
        globals()["demo"] = build_demo(default_store())
        return globals()["demo"]
    raise AttributeError(name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--index", type=Path, default=None, help="index folder (default index/)")
    where.add_argument("--store", default=None, metavar="URL|FOLDER",
                       help="where the index lives: a postgresql:// URL or an index folder (default $ASSISTANT_STORE, "
                            "then index/)")
    p.add_argument("--corpus", type=Path, default=None, help="corpus folder (default corpus/)")
    p.add_argument("--data", type=Path, default=None, help="folder of added documents (default data/)")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                   help="a reverse proxy (address or network) whose X-Forwarded-For names the client; repeatable. "
                        "Without it the client is the TCP peer and X-Forwarded-For is ignored")
    d = Limits()
    for name, help_ in (("in_flight", "open requests"), ("queued", "questions waiting or running"),
                        ("per_minute", "questions a minute")):
        p.add_argument(f"--client-{name.replace('_', '-')}", type=int, default=getattr(d, name), metavar="N",
                       help=f"{help_} per client address (default {getattr(d, name)}; 0: no limit)")
    p.add_argument("--cache-size", type=int, default=DEFAULT_CACHE_SIZE, metavar="N",
                   help=f"answers kept per index version for repeated questions (default {DEFAULT_CACHE_SIZE}; 0: none)")
    p.add_argument("--admin", action="store_true",
                   help="add the document-management tab (upload, preview, confirm, remove) for whoever has the admin "
                        "token, and open the upload route to it; the token comes from --admin-token-file or "
                        "$ASSISTANT_ADMIN_TOKEN (never the command line: `ps` shows it), at least 16 characters")
    p.add_argument("--admin-token-file", type=Path, default=None, metavar="PATH",
                   help="a file holding the admin token (first line); keep it readable by this user only")
    args = p.parse_args()
    token = None
    if args.admin_token_file and not args.admin:
        p.error("--admin-token-file is for --admin")
    if args.admin:
        from ui_admin import TokenError, read_token
        try:
            token = read_token(args.admin_token_file)
        except TokenError as e:
            p.error(str(e))
    start_runtime(concurrency=CONCURRENCY)
    corpus_dir, store = args.corpus or DEFAULT_CORPUS_DIR, args.store or args.index or default_store()
    routes = None
    try:   # one composition root for the page and the JSON API (assistant/app.py, assistant/api.py)
        app = Assistant.open(store, corpus_dir=corpus_dir, data_dir=args.data, cache_size=args.cache_size)
    except AssistantError as e:
        print(f"ui: {e}", file=sys.stderr)
        demo = error_page(str(e))
    else:
        from assistant.serve.api import install
        demo = build_demo(store, corpus_dir=corpus_dir, data_dir=args.data, admin_token=token, app=app)
        routes = lambda api: install(api, app, admin_token=token, concurrency=CONCURRENCY,  # noqa: E731
                                     queue_size=QUEUE_SIZE)
    # what is loaded now (catalog, index records, glossary: ~200k objects) lives as long as the server;
    # out of the collector's sight, its full passes under load take ~25 ms instead of ~170 ms (measured)
    gc.collect()
    gc.freeze()
    limits = Limits(in_flight=args.client_in_flight, queued=args.client_queued, per_minute=args.client_per_minute)
    uploads = None
    if token:
        from ui_admin import SUFFIXES
        uploads = UploadRule(token=token, max_bytes=MAX_BYTES + UPLOAD_OVERHEAD, suffixes=SUFFIXES)
    asgi = public_app(demo, css=CSS, js=PAGE_JS, theme=theme(), limits=limits,
                      trusted_proxies=tuple(args.trusted_proxy), uploads=uploads, routes=routes)
    print(f"Serving http://{args.host}:{args.port}/ (the JSON API: /docs)", flush=True)
    serve(asgi, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
