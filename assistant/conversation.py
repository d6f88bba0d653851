"""A conversation: follow-up questions ("那参与单位呢？", "and by when?", "这条的原文") resolve against the
clause of the previous answer.

A question is a follow-up when it is short and points back (那…呢, 这条, "and …", "it"), or when it is
short and names nothing specific to any provision ("什么时候完成？": every word is common across the
documents). A short question with its own specific words ("长春地铁票价？") is asked on its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answer import Answer, Answerer
from .glossary import is_english

FOLLOW_ZH = re.compile(r"^(那|那么|还有|另外|此外)|呢[?？。]?$|这条|该条|这项|该项|本条|上述|上一条|它的|其")
FOLLOW_EN = re.compile(r"^(and|also|what about|how about|then)\b|\b(it|its|this|that|this one|the same)\b", re.I)
SHORT_ZH, SHORT_EN = 12, 8


def is_short(question: str) -> bool:
    q = question.strip()
    return len(q.split()) <= SHORT_EN if is_english(q) else len(re.sub(r"\W", "", q)) <= SHORT_ZH


def points_back(question: str) -> bool:
    """Short and pointing back (那…呢 / 这条 / and … / it)."""
    q = question.strip()
    return is_short(q) and bool((FOLLOW_EN if is_english(q) else FOLLOW_ZH).search(q))


@dataclass
class Conversation:
    answerer: Answerer
    history: list[Answer] = field(default_factory=list)

    def ask(self, question: str, *, top_k: int = 5, doc: str | None = None) -> Answer:
        """Answer in context: a follow-up, or a short question the documents cannot answer on its own
        ("什么时候完成？"), is answered from the previous answer's clause."""
        last = self.history[-1] if self.history else None
        context = last if last is not None and last.found and last.citations and last.kind != "reverse" else None
        if context is not None and (points_back(question) or
                                    (is_short(question) and not self.answerer.retriever.is_specific(question))):
            top = context.citations[0]
            answer = self.answerer.answer_clause(question, self.answerer.catalog.by_id[top.clause_id],
                                                 focus=top.span)
        elif context is None and points_back(question):
            english = is_english(question)
            answer = Answer(question, False, "Please ask a full question first: there is no earlier answer to refer to."
                            if english else "请先提出完整的问题：没有可以接续的上一条答案。",
                            reason="follow-up without an earlier answer", lang="en" if english else "zh",
                            kind="refusal")
        else:
            answer = self.answerer.ask(question, top_k=top_k, doc=doc)
        self.history.append(answer)
        return answer
