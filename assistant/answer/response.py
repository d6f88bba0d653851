"""What an answer is: the direct line, the cited provisions, and the outcome (answered, not stated, off-topic)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..ingest.clauses import Clause


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
    english: str | None = None            # unofficial English rendering of the clause, if any

    @classmethod
    def of(cls, clause: Clause, *, score: float = 1.0, span: tuple[int, int] | None = None,
           english: str | None = None) -> "Citation":
        return cls(clause.clause_id, clause.doc_number, clause.title, clause.citation, clause.heading, clause.text,
                   score, span, english)

    def whole(self) -> "Citation":
        """The same citation with the whole text as the answering span."""
        return replace(self, span=(0, len(self.text)))

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("clause_id", "doc_number", "title", "citation", "heading", "text",
                                           "score", "english")}
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
    kind: str = "general"   # who / liable / target / deadline / document / reverse / lookup / general, or, when
                            # not found: not_stated / off_topic / empty / refusal (a follow-up with nothing before)

    def to_dict(self) -> dict:
        return {"question": self.question, "found": self.found, "answer": self.answer, "lang": self.lang,
                "kind": self.kind, "reason": self.reason, "citations": [c.to_dict() for c in self.citations]}
