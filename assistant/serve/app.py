"""The one composition root: a store opened once, the live answerer over it, the answer cache — what the
command line, the page (ui.py) and the JSON API (api.py) are built on.

    app = Assistant.open(store_spec, corpus_dir=…, data_dir=…)   # the store: a folder or a postgresql:// URL
    app.ask("秸秆综合利用率的目标是多少？", doc="41")             # an Answer, cached per index version
    app.add([(name, data)]); app.remove(key)                     # then every replica serves the new build

Each face maps the domain errors to what its users see: exit codes (cli.py), HTTP statuses (api.py,
`AssistantError.http_status`), messages (ui.py).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

from ..answer.answerer import Answer, Answerer, LiveAnswerer
from .cache import DEFAULT_SIZE, AnswerCache
from ..answer.conversation import Conversation
from ..ingest.corpus import DEFAULT_CORPUS_DIR
from ..errors import BadQuestion, BuildInProgress, UnknownClause
from ..ingest.records import clause_to_dict
from ..search.store import Store, as_store


class Assistant:
    """The store, its live answerer and the answer cache, for one process."""

    def __init__(self, live: LiveAnswerer, *, corpus_dir: Path = DEFAULT_CORPUS_DIR, data_dir: Path | None = None,
                 cache_size: int = DEFAULT_SIZE):
        self.live, self.store, self.corpus_dir, self.data_dir = live, live.store, corpus_dir, data_dir
        self.cache = AnswerCache(cache_size)
        self._change = threading.Lock()   # one add or remove at a time in this process (the store locks across)
        self._seed: frozenset[str] | None = None

    @classmethod
    def open(cls, store: Store | str | Path | None, *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
             data_dir: Path | None = None, cache_size: int = DEFAULT_SIZE, check_every: float = 1.0) -> "Assistant":
        """Open `store` (a Store, an index folder or a postgresql:// URL; None: $ASSISTANT_STORE, then index/) and
        load its live build. Raises IndexError_ / ModelError when there is nothing to serve."""
        live = LiveAnswerer(as_store(store, data_dir=data_dir), corpus_dir=corpus_dir, check_every=check_every)
        return cls(live, corpus_dir=corpus_dir, data_dir=data_dir, cache_size=cache_size)

    # ---- answering --------------------------------------------------------------------------------
    def answerer(self) -> Answerer:
        """The answerer of the live build (checked against the store at most once a second)."""
        return self.live.current()

    @property
    def version(self) -> str:
        return self.live.version

    def ask(self, question: str, *, doc: str | None = None, top_k: int = 5) -> Answer:
        """One question on its own (the `ask --json` answer), from the cache when asked before of this build."""
        answerer = self.answerer()
        if not 1 <= top_k <= 20:
            raise BadQuestion(f"top_k of {top_k} is outside 1–20; ask for fewer related provisions")
        doc = self._document(answerer, doc)
        return self.cache.get_or_answer(question, answerer.retriever.index.version,
                                        lambda: answerer.ask(question, top_k=top_k, doc=doc), doc=doc, top_k=top_k)

    def converse(self, question: str, history: list[Answer], *, doc: str | None = None,
                 top_k: int = 5) -> Conversation:
        """A question in a conversation; returns the conversation, its answer last. The first question of a
        conversation comes from the cache (it has nothing to refer to); follow-ups are answered each time."""
        answerer = self.answerer()
        doc = self._document(answerer, doc)
        conv = Conversation(answerer, history=list(history or []))
        if conv.history:
            conv.ask(question, top_k=top_k, doc=doc)
            return conv
        a = self.cache.get_or_answer(question, answerer.retriever.index.version,
                                     lambda: Conversation(answerer).ask(question, top_k=top_k, doc=doc),
                                     doc=doc, top_k=top_k, kind="chat")
        conv.history.append(a)
        return conv

    @staticmethod
    def _document(answerer: Answerer, doc: str | None) -> str | None:
        if doc in (None, "", "all"):
            return None
        try:
            return answerer.catalog.document(doc).key
        except UnknownClause as e:
            raise BadQuestion(f"{e}; leave the filter out to ask every document") from None

    # ---- reading ----------------------------------------------------------------------------------
    def clause(self, clause_id: str) -> dict:
        """One clause by id or citation form, with its records and English rendering (UnknownClause if none)."""
        answerer = self.answerer()
        c = answerer.catalog.find(clause_id)
        return dict(clause_to_dict(c, answerer.catalog.records_of(c.clause_id)),
                    english=answerer.renderings.get(c.clause_id))

    def documents(self) -> list[dict]:
        """The documents the live build serves, seed first (what `documents --json` lists, from memory)."""
        catalog = self.answerer().catalog
        counts: dict[str, int] = {}
        for c in catalog.clauses:
            counts[c.doc_key] = counts.get(c.doc_key, 0) + 1
        seed = self._seed_keys()
        return [{"key": d.key, "doc_number": d.doc_number, "title": d.title, "issuer": d.issuer,
                 "issue_date": d.issue_date, "clauses": counts.get(d.key, 0),
                 "from": "seed" if d.key in seed else "added"} for d in catalog.documents]

    def _seed_keys(self) -> frozenset[str]:
        if self._seed is None:
            from ..ingest.corpus import load_documents
            self._seed = frozenset(d.key for d in load_documents(self.corpus_dir))
        return self._seed

    def health(self) -> dict:
        answerer = self.answerer()
        m = answerer.retriever.index.manifest
        return {"status": "ok", "version": answerer.retriever.index.version, "documents": m["counts"]["documents"],
                "clauses": m["counts"]["clauses"], "cache": self.cache.stats().to_dict()}

    # ---- writing ----------------------------------------------------------------------------------
    def add(self, files: list[tuple[str, bytes]], *, replace_existing: bool = False):
        """Add documents (name, bytes) to the store; this process serves the new build at once, other replicas
        within a second (LiveAnswerer). Returns the ingest.Change. BuildInProgress while another change runs."""
        from ..search.changes import add_documents
        with self._changing():
            change = add_documents(files, corpus_dir=self.corpus_dir, store=self.store, replace=replace_existing)
            self.live.reload()
        return change

    def remove(self, key: str) -> str:
        """Remove an added document (by key or number); a seed document cannot be removed (BadQuestion)."""
        from ..search.changes import remove_document
        if key in self._seed_keys():
            raise BadQuestion(f"document {key} is a seed document, which cannot be removed; only added ones can")
        if not any(d["key"] == key or d["doc_number"] == key for d in self.documents()):
            raise UnknownClause(f"no added document {key!r}; GET /api/documents lists them")
        with self._changing():
            done = remove_document(key, corpus_dir=self.corpus_dir, store=self.store)
            self.live.reload()
        return done

    @contextmanager
    def _changing(self):
        if not self._change.acquire(blocking=False):
            raise BuildInProgress("another change to the documents is running in this server; "
                                  "try again when it has finished")
        try:
            yield
        finally:
            self._change.release()
