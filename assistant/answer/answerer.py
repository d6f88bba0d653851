"""A question → an `Answer`: parsed once, routed, ranked, judged answerable or not, answered from the clause.

No language model: the direct line comes from the clause's parsed records (who leads, who takes part,
targets, dates), the sentence naming what is asked (who pays), the document's own facts, or is the
clause's best-matching sentence, so every word is in the source or in the glossary. Whether the documents
answer at all is decided by `answerability.Answerability` from what the question names and how confident
retrieval is — not from how many of the question's words the documents use.
"""
from __future__ import annotations

import re
import time

from .answerability import Answerability, Decision
from ..search.dictionary import load_cedict
from ..search.encoders import for_manifest
from ..errors import BadQuestion
from ..ingest.glossary import load_glossary, load_renderings
from .question import Question, parse, states_quantity
from .response import Answer, Citation  # noqa: F401 — the answer API's value types
from ..search.retrieval import Hit, Retriever
from .routes import Context, lookup, pre_retrieval_routes, provision

MAX_QUESTION_CHARS = 500
NOT_COVERED_ZH = "文件中未涉及"
NOT_COVERED_EN = "Not covered by these documents"
# The answer may come from any of the first CHOICES clauses when the first lacks what the question names
# (a year, a place, a kind of figure, the indicator asked) and a close one states it.
CHOICES = 3


class Answerer:
    def __init__(self, retriever: Retriever, *, answerability: Answerability | None = None):
        self.retriever = retriever
        self.catalog = retriever.index.catalog
        self.glossary = load_glossary()
        # an index built without renderings (`build --no-renderings`) is answered without them too
        self.renderings = load_renderings() if retriever.index.manifest.get("renderings", True) else {}
        self.ctx = Context(self.catalog, self.glossary, self.renderings, retriever)
        unrendered = any(c.clause_id not in self.renderings for c in self.catalog.clauses)
        self.answerability = answerability or Answerability(
            self.catalog, renderings=self.renderings, dictionary=load_cedict() if unrendered else None)

    # ---- public ----------------------------------------------------------------------------------
    def ask(self, question: str, *, top_k: int = 5, doc: str | None = None,
            context_doc: str | None = None) -> Answer:
        return self.answer(parse(question), top_k=top_k, doc=doc, context_doc=context_doc)

    def answer(self, q: Question, *, top_k: int = 5, doc: str | None = None,
               context_doc: str | None = None) -> Answer:
        if len(q.text) > MAX_QUESTION_CHARS:
            raise BadQuestion(f"the question has {len(q.text)} characters; the limit is {MAX_QUESTION_CHARS}. "
                              "Ask about one provision at a time.")
        if not re.search(r"[^\W_]", q.text):
            return Answer(q.raw, False, "Please type a question." if q.english else "请输入问题。",
                          reason="empty question", lang=q.lang, kind="empty")
        found = self.routed(q, context_doc=context_doc)
        if found:
            return found
        hits, cited = self.ranked(q, top_k=top_k, doc=doc, context_doc=context_doc)
        best, decision = self.choose(q, hits, cited=bool(cited))
        if not decision.found:
            return self.refusal(q, decision, hits)
        others = [h for h in hits if h is not best][:max(top_k - 1, 0)]
        return provision.answer(q, best, others, self.ctx)

    def routed(self, q: Question, *, context_doc: str | None = None) -> Answer | None:
        """The answer of the first route that applies before retrieval (lookup, document facts, tasks)."""
        for route in pre_retrieval_routes():
            found = route.answer(q, self.ctx, context_doc=context_doc)
            if found:
                return found
        return None

    def ranked(self, q: Question, *, top_k: int = 5, doc: str | None = None,
               context_doc: str | None = None) -> tuple[list[Hit], bool]:
        """The ranked clauses, a clause the question cites first; and whether it cites one."""
        cited = lookup.cited_clause(q, self.ctx, context_doc=context_doc)
        hits = self.retriever.search(q.text, top_k=max(top_k, CHOICES), doc=doc)
        if cited:
            clause = cited[0]
            hits = [Hit(clause, hits[0].score if hits else 1.0, {}, provision.sentences_of(clause, q, self.ctx))] + \
                   [h for h in hits if h.clause.clause_id != clause.clause_id]
        return hits, bool(cited)

    def answer_clause(self, question: str | Question, clause, *, focus: tuple[int, int] | None = None) -> Answer:
        """Answer a follow-up from the clause of the previous answer, whose answering span (`focus`,
        offsets within the clause text) stays the subject unless the question moves on."""
        q = question if isinstance(question, Question) else parse(question)
        hit = Hit(clause, 1.0, {}, provision.sentences_of(clause, q, self.ctx))
        return provision.answer(q, hit, [], self.ctx, focus=focus, follow_up=True)

    # ---- pieces ----------------------------------------------------------------------------------
    def choose(self, q: Question, hits: list[Hit], *, cited: bool = False) -> tuple[Hit | None, Decision]:
        """The clause to answer from and the decision. The best-ranked clause, unless the question asks for
        a figure, a date or who pays, and a clause among the first CHOICES states it for what the question
        names while the best does not (the straw clause for the straw rate, the dated step for "when", the
        sentence naming the liable party for "who pays"), or names a place outside the province that only a
        close clause names."""
        if not hits:
            return None, self.answerability.decide(q, [])
        best = hits[0]
        if not cited and q.asking("figure", "when", "liable", "right"):
            # the first clauses by what they state for what the question names; else the best clause or one of
            # its items by a figure of the kind asked (an article's figure is often in its item or its next 款)
            items = [Hit(c, best.score, best.signals, provision.sentences_of(c, q, self.ctx))
                     for c in self.catalog.children(best.clause.clause_id)]
            # then the rest of the ranked clauses, for a question whose best clauses state nothing of the kind
            stating = [h for h in hits[:CHOICES] + items if provision.states_what_is_asked(q, h, self.ctx)] or \
                [h for h in [best] + items if provision.states_what_is_asked(q, h, self.ctx, loosely=True)] or \
                [h for h in hits[CHOICES:] if provision.states_what_is_asked(q, h, self.ctx)]
            if stating and stating[0] is not best and not provision.states_what_is_asked(q, best, self.ctx):
                best = stating[0]
        if not cited and q.quantity and not states_quantity(q, best.clause.text):
            # an item whose article's lead-in states the figure asked (有下列情形之一的，处…元以下罚款): the article
            parent = self.catalog.by_id.get(best.clause.parent_id) if best.clause.parent_id else None
            if parent is not None and states_quantity(q, parent.text):
                best = Hit(parent, best.score, best.signals, provision.sentences_of(parent, q, self.ctx))
        if not cited and q.places and not self.answerability.names_the_places(q, best):
            # a place outside the documents' province: a close clause that names it (与辽宁沿海经济带合作)
            best = next((h for h in hits[:CHOICES] if self.answerability.names_the_places(q, h)), best)
        # what the chosen clause states decides "not stated"; the top clause decides whether the question is
        # about these documents at all (a lower-ranked clause that states the figure is weaker on every signal)
        decision = self.answerability.decide(q, [best], cited=cited, confidence_of=hits[0])
        return (hits[0] if decision.outcome == "off_topic" else best), decision

    def refusal(self, q: Question, decision: Decision, hits: list[Hit]) -> Answer:
        """Not stated: the reason and the nearest provisions, labelled as such. Off-topic: the reason only."""
        head = NOT_COVERED_EN if q.english else NOT_COVERED_ZH
        line = f"{head}: {decision.reason}" if q.english else f"{head}：{decision.reason}"
        nearest = tuple(provision.citation(h, q, self.ctx) for h in hits[:3]) if decision.outcome == "not_stated" else ()
        return Answer(q.raw, False, line, nearest, reason=decision.reason, lang=q.lang, kind=decision.outcome)


def load_answerer(store, *, corpus_dir, data_dir=None) -> Answerer:
    """The answerer of the live build of `store` (a store, an index folder or a postgresql:// URL)."""
    from ..search.store import as_store
    index = as_store(store, data_dir=data_dir).load(corpus_dir=corpus_dir)
    retriever = Retriever(index, for_manifest(index.manifest))
    retriever.warm()
    return Answerer(retriever)


class LiveAnswerer:
    """The answerer of the live index, reloaded when another build goes live — an add or remove by this
    process, the command line or another replica — without a restart.

    `current()` asks the store for its version at most once every `check_every` seconds (the folder: a
    small read of CURRENT; PostgreSQL: one indexed row); when it names another build, that build is loaded
    and swapped in, while questions in flight finish on the answerer they started with. A build that cannot
    be loaded yet (its library is being committed, or it is damaged) leaves the loaded one serving and is
    retried at the next check."""

    def __init__(self, store, *, corpus_dir, data_dir=None, check_every: float = 1.0,
                 answerer: Answerer | None = None):
        import threading
        from ..search.store import as_store
        self.store = as_store(store, data_dir=data_dir)
        self.corpus_dir = corpus_dir
        self.check_every = check_every
        self._lock = threading.Lock()
        self._answerer = answerer or load_answerer(self.store, corpus_dir=corpus_dir)
        self._version = self._answerer.retriever.index.version
        self._checked = time.monotonic()

    @property
    def version(self) -> str:
        """The build the answerer serves from (the index version)."""
        return self._version

    def current(self) -> Answerer:
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return self._answerer
        with self._lock:
            if now - self._checked < self.check_every:
                return self._answerer
            self._checked = now
            from ..errors import AssistantError
            try:
                live = self.store.changed(self._version)
            except AssistantError:  # the store cannot be reached now: keep serving, ask again later
                return self._answerer
            if live is not None:
                self._load(live)
        return self._answerer

    def reload(self) -> bool:
        """Load the live build now (after this process changed it); False when it cannot be loaded yet."""
        with self._lock:
            self._checked = time.monotonic()
            return self._load("the new build")

    def _load(self, live: str) -> bool:
        import logging
        from ..errors import AssistantError
        try:
            fresh = load_answerer(self.store, corpus_dir=self.corpus_dir)
        except AssistantError as e:
            logging.getLogger(__name__).warning("the live index %s cannot be loaded yet (%s); serving %s", live, e,
                                                self._version)
            return False
        self._answerer, self._version = fresh, fresh.retriever.index.version
        return True
