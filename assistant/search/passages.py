"""Clauses → retrieval passages: long clauses split at Chinese sentence marks, each prefixed with its heading trail."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ..ingest.clauses import TRAIL_SEP, Clause

# ~200 Chinese characters stay well inside e5's 512 tokens with the heading prefix.
CHUNK_CHARS = 220
CHUNK_OVERLAP = 40


@dataclass(frozen=True)
class Passage:
    clause_id: str
    text: str          # what the encoders see: heading trail + a piece of the clause
    source: str        # zh / en: a retrieval passage of the clause or its English rendering;
                       # zh-sent / en-sent: one sentence, scored to pick the answering span
    span: tuple[int, int] | None = None   # zh-sent: offsets of the sentence within the clause text

    @property
    def key(self) -> str:
        """Content hash: an unchanged passage keeps its vectors across rebuilds."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:32]


SENTENCE_RE = re.compile(r"[^。;；!！?？\n]+[。;；!！?？]?")
# an English sentence ends at . ; : before a space, but not after an abbreviation ("Ji Zheng Fa [2016] No. 42")
EN_BREAK_RE = re.compile(r"(?<!\bNo)(?<!\bno)(?<!\bArt)(?<!\bart)(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)[.;:](?=\s|$)")
PARENTHETICAL_RE = re.compile(r"^[(（][^()（）]*[)）]$")


def clause_sentences(clause: Clause, *, english: str | None = None) -> list[Passage]:
    """The clause's sentences (without bare responsibility parentheticals) and its rendering's sentences."""
    out = []
    for m in SENTENCE_RE.finditer(clause.text):
        sent = m.group(0).strip()
        if len(sent) >= 4 and not PARENTHETICAL_RE.match(sent):
            start = m.start() + m.group(0).index(sent)
            out.append(Passage(clause.clause_id, sent, "zh-sent", (start, start + len(sent))))
    for sent in en_sentences(english or ""):
        if len(sent) >= 12:
            out.append(Passage(clause.clause_id, sent, "en-sent"))
    return out


def en_sentences(text: str) -> list[str]:
    ends = [m.end() for m in EN_BREAK_RE.finditer(text)]
    return [s for a, b in zip([0, *ends], [*ends, len(text)]) if (s := text[a:b].strip())]


def is_heading_only(clause: Clause, has_children: bool) -> bool:
    """A bare heading whose content lives in its children (二、重点任务): nothing to retrieve."""
    return has_children and "\n" not in clause.text and len(clause.text) <= 40


def _splitter() -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP, keep_separator="end",
        separators=["\n", "。", "；", ";", "，", ",", ""])


def clause_passages(clause: Clause, *, doc_title: str = "", english: str | None = None) -> list[Passage]:
    if clause.level == "notice":
        prefix = f"{doc_title} 印发通知 文号 日期"
    else:
        trail = clause.trail[:-1] if clause.level not in ("preamble", "closing") else clause.trail
        prefix = TRAIL_SEP.join((clause.title, *trail))
    out = [Passage(clause.clause_id, f"{prefix}\n{chunk}", "zh") for chunk in _splitter().split_text(clause.text)]
    if english:
        out += [Passage(clause.clause_id, chunk, "en")
                for chunk in RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=80).split_text(english)]
    return out
