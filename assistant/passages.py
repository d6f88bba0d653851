"""Clauses → retrieval passages: long clauses split at Chinese sentence marks, each prefixed with its heading trail."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .clauses import TRAIL_SEP, Clause

# ~200 Chinese characters stay well inside e5's 512 tokens with the heading prefix.
CHUNK_CHARS = 220
CHUNK_OVERLAP = 40


@dataclass(frozen=True)
class Passage:
    clause_id: str
    text: str          # what the encoders see: heading trail + a piece of the clause
    source: str        # "zh" for the clause itself, "en" for its English rendering

    @property
    def key(self) -> str:
        """Content hash: an unchanged passage keeps its vectors across rebuilds."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:32]


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
