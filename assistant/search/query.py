"""What a question is about, for the searches: the question without the words asking for the kind of answer
(牵头部门是哪个, 是多少, 什么时候). Those words are the data file's `intent_zh` (data/question_words.json), which
the answer stage reads too, through `alternatives`."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from ..ingest.glossary import is_english

QUESTION_WORDS = Path(__file__).resolve().parent.parent / "data" / "question_words.json"


def alternatives(words: list[str], *, english: bool) -> re.Pattern:
    """One pattern matching any of `words` (each a regular expression); English ones as whole words."""
    body = "|".join(f"(?:{w})" for w in words)
    return re.compile(rf"\b(?:{body})\b" if english else body, re.I)


@lru_cache(maxsize=1)
def question_words() -> dict:
    """data/question_words.json, read once per process (the answer stage reads its other lists from here too)."""
    return json.loads(QUESTION_WORDS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def intent_zh() -> re.Pattern:
    """The Chinese words with which a question asks for a kind of answer."""
    return alternatives(question_words()["intent_zh"], english=False)


def topic_of(text: str) -> str:
    """What a Chinese question is about, without the words asking for the kind of answer; English as is."""
    if is_english(text):
        return text
    return re.sub(r"\s+", " ", intent_zh().sub(" ", text)).strip() or text
