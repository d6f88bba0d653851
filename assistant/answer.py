"""Ranked clauses → an `Answer`: one direct line, the verbatim provision with the answering span, citations.

No language model: the direct line is built from the clause's parsed records (who leads, who takes
part, targets) or is the clause's best-matching sentence, so every word of it is in the source.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .catalog import Catalog
from .clauses import find_clause
from .errors import BadQuestion, UnknownClause
from .glossary import is_english, load_glossary
from .records import Responsibility, owners_at
from .retrieval import Hit, Retriever

MAX_QUESTION_CHARS = 500
NOT_COVERED_ZH = "文件中未涉及"
NOT_COVERED_EN = "Not covered by these documents"
# Below this e5 cosine between question and best passage, nothing in the documents is about the question.
# Calibrated on the dev negatives and the off-topic set in tests/data/offtopic.jsonl (see README).
MIN_E5 = 0.835
WHO_ZH = re.compile(r"牵头|哪个部门|哪些部门|哪个单位|哪些单位|谁负责|由谁|谁来|负责部门|责任部门|主管部门|哪个机构|谁")
WHO_EN = re.compile(r"\b(lead|leads|leading|responsible|in charge|which agenc|which department|who)\b", re.I)
PART_ZH = re.compile(r"参与|配合")
SENT_RE = re.compile(r"[^。;；\n]+[。;；]?")


@dataclass(frozen=True)
class Citation:
    clause_id: str
    doc_number: str
    title: str
    citation: str
    heading: str
    text: str
    score: float
    span: tuple[int, int] | None = None   # offsets of the answering span within `text`

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("clause_id", "doc_number", "title", "citation", "heading", "text", "score")}
        d["span"] = list(self.span) if self.span else None
        return d


@dataclass(frozen=True)
class Answer:
    question: str
    found: bool
    answer: str
    citations: tuple[Citation, ...] = ()
    reason: str = ""
    lang: str = "zh"
    extras: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"question": self.question, "found": self.found, "answer": self.answer, "lang": self.lang,
                "reason": self.reason, "citations": [c.to_dict() for c in self.citations]}


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _bigrams(s: str) -> set[str]:
    s = re.sub(r"[\s,，。;；:：、()（）“”\"?？!！]", "", _norm(s).lower())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def best_sentence(text: str, query: str) -> tuple[int, int]:
    """Offsets of the sentence of `text` sharing the most character bigrams with `query`."""
    q = _bigrams(query)
    best, best_score = (0, len(text)), -1.0
    for m in SENT_RE.finditer(text):
        sent = m.group(0)
        if len(sent.strip()) < 4:
            continue
        b = _bigrams(sent)
        score = len(q & b) / (len(b) ** 0.3 + 1)
        if score > best_score:
            best, best_score = (m.start(), m.end()), score
    return best


def _join(units) -> str:
    return "、".join(u.name + ("等" if u.et_al else "") for u in units)


def _join_en(units) -> str:
    g = load_glossary()
    return ", ".join((g.to_english(u.name) or u.name) + (" and others" if u.et_al else "") for u in units)


def owners_line(r: Responsibility, *, english: bool) -> str:
    """省国土资源厅牵头（省环保厅、省林业厅参与） / lead: …; participants: …"""
    if english:
        parts = []
        if r.lead:
            parts.append(f"Lead: {_join_en(r.lead)}")
        if r.participants:
            parts.append(f"participating: {_join_en(r.participants)}")
        if r.responsible:
            parts.append(f"Responsible: {_join_en(r.responsible)}")
        return "; ".join(parts)
    if r.lead:
        line = f"{_join(r.lead)}牵头"
        return line + (f"（{_join(r.participants)}参与）" if r.participants else "")
    return _join(r.responsible) + (f"（{'，'.join(r.notes)}）" if r.notes else "")


class Answerer:
    def __init__(self, retriever: Retriever):
        self.retriever = retriever
        self.catalog: Catalog = retriever.index.catalog

    def ask(self, question: str, *, top_k: int = 5, doc: str | None = None) -> Answer:
        q = (question or "").strip()
        if len(q) > MAX_QUESTION_CHARS:
            raise BadQuestion(f"the question has {len(q)} characters; the limit is {MAX_QUESTION_CHARS}. "
                              "Ask about one provision at a time.")
        english = is_english(q)
        lang = "en" if english else "zh"
        if not re.search(r"[\w\u4e00-\u9fff]", q):
            return Answer(question, False, "请输入问题。" if not english else "Please type a question.",
                          reason="empty question", lang=lang)
        try:  # a citation form asks for that clause directly
            c = find_clause(list(self.catalog.clauses), q)
            hits = [Hit(c, 1.0, {}, c.text)]
        except UnknownClause:
            hits = self.retriever.search(q, top_k=top_k, doc=doc)
        if not hits:
            return Answer(question, False, NOT_COVERED_EN if english else NOT_COVERED_ZH, reason="no clause", lang=lang)
        top = hits[0]
        if top.signals and top.signals.get("e5", 1.0) < MIN_E5:
            cits = tuple(self._citation(h, q) for h in hits[:3])
            return Answer(question, False, NOT_COVERED_EN if english else NOT_COVERED_ZH, cits,
                          reason=f"best match {top.signals.get('e5', 0):.2f} is below {MIN_E5}", lang=lang)
        cits = tuple(self._citation(h, q) for h in hits)
        return Answer(question, True, self._direct(top, cits[0], q, english), cits, lang=lang)

    def _citation(self, hit: Hit, q: str) -> Citation:
        c = hit.clause
        return Citation(c.clause_id, c.doc_number, c.title, c.citation, c.heading, c.text, round(hit.score, 6),
                        best_sentence(c.text, q))

    def _direct(self, hit: Hit, cit: Citation, q: str, english: bool) -> str:
        c = hit.clause
        rec = self.catalog.records_of(c.clause_id)
        sent = c.text[slice(*cit.span)].strip() if cit.span else c.text
        asks_who = WHO_EN.search(q) if english else WHO_ZH.search(q)
        if asks_who:
            r = owners_at(rec, c.start + cit.span[0]) if cit.span else None
            if r:
                return owners_line(r, english=english)
        return sent


def encoders_for(manifest: dict) -> dict:
    """The encoders an index was built with, loaded offline; a clear error when one is not available."""
    from .errors import IndexError_
    from .models import E5_NAME, USE_NAME, load_e5, load_use
    out = {}
    for spec in manifest["encoders"]:
        if spec["name"] == USE_NAME:
            enc = load_use()
        elif spec["name"] == E5_NAME:
            enc = load_e5()
        elif spec.get("path"):
            enc = load_e5(spec["path"])
        else:
            raise IndexError_(f"the index was built with encoder {spec['name']!r}, which is not available here; "
                              "run `python -m assistant build` to rebuild it with the local models")
        if enc.dim != spec["dim"]:
            raise IndexError_(f"encoder {spec['name']!r} gives {enc.dim}-d vectors, the index holds {spec['dim']}-d; "
                              "run `python -m assistant build` to rebuild it")
        out[spec["id"]] = enc
    return out


def load_answerer(index_dir, *, corpus_dir) -> Answerer:
    from .index import load_index
    index = load_index(index_dir, corpus_dir=corpus_dir)
    return Answerer(Retriever(index, encoders_for(index.manifest)))
