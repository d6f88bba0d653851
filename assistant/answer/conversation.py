"""A conversation: follow-up questions ("那参与单位呢？", "and by when?", "这条的原文") resolve against the
clause of the previous answer; a follow-up that names a new topic ("矿山治理呢？" after a question on the
straw target) is a new question on that topic, asked in the frame of the last one (its target, its lead).

A question is a follow-up when it is short and points back (那…呢, 这条, "and …", "it"), or when it is
short and names nothing specific to any provision ("什么时候完成？": every word is common across the
documents). A short question with its own specific words ("长春地铁票价？") is asked on its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answerer import Answer, Answerer
from .question import Question, parse
from .routes import lookup

SHORT_ZH, SHORT_EN = 12, 8


def is_short(question: str | Question) -> bool:
    q = question if isinstance(question, Question) else parse(question)
    return len(q.text.split()) <= SHORT_EN if q.english else len(re.sub(r"\W", "", q.text)) <= SHORT_ZH


def points_back(question: str | Question) -> bool:
    """Short and pointing back (那…呢 / 这条 / and … / it)."""
    q = question if isinstance(question, Question) else parse(question)
    return q.points_back and is_short(q)


@dataclass
class Conversation:
    answerer: Answerer
    history: list[Answer] = field(default_factory=list)

    def ask(self, question: str, *, top_k: int = 5, doc: str | None = None) -> Answer:
        """Answer in context: a follow-up, or a short question the documents cannot answer on its own
        ("什么时候完成？"), is answered from the previous answer's clause."""
        q = parse(question)
        if not re.search(r"[^\W_]", q.text):  # nothing asked: an empty question, whatever came before
            answer = self.answerer.answer(q, top_k=top_k, doc=doc)
            self.history.append(answer)
            return answer
        last = self.history[-1] if self.history else None
        context = last if last is not None and last.found and last.citations and last.kind != "reverse" else None
        context_doc = context.citations[0].clause_id.split("-")[0] if context else None
        specific = bool(q.subject) and self.answerer.retriever.is_specific(q.subject)
        cites = lookup.cited_clause(q, self.answerer.ctx, context_doc=context_doc) is not None
        if context is not None and is_short(q) and not cites and (q.points_back or not specific):
            if q.points_back and specific:  # 矿山治理呢？ — a new topic, asked as the last question was
                answer = self.answerer.answer(q.with_asks(parse(context.question).asks), top_k=top_k, doc=doc,
                                              context_doc=context_doc)
            else:
                top = context.citations[0]
                answer = self.answerer.answer_clause(q, self.answerer.catalog.by_id[top.clause_id], focus=top.span)
        elif context is None and points_back(q) and not specific:
            answer = Answer(question, False, "Please ask a full question first: there is no earlier answer to refer to."
                            if q.english else "请先提出完整的问题：没有可以接续的上一条答案。",
                            reason="follow-up without an earlier answer", lang=q.lang, kind="refusal")
        else:
            answer = self.answerer.answer(q, top_k=top_k, doc=doc, context_doc=context_doc)
        self.history.append(answer)
        return answer
