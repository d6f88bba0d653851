"""A bounded LRU of answers, keyed by what decides an answer: the question as parsed (question.clean_question:
NFKC, whitespace collapsed), the document filter, top_k, the kind of request, and the index version.

The version is part of the key and the whole cache is dropped when a lookup names another version: an answer
from a build that is no longer live is never served, and no memory is held for one. Conversations (a question
with an earlier answer to refer to) are not cached: their answer depends on the history. Thread-safe.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Callable

from ..answer.question import clean_question
from ..answer.response import Answer

DEFAULT_SIZE = 2048   # an Answer is a few KB (its cited clause texts): ~10 MB at most


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    size: int
    capacity: int
    version: str | None

    @property
    def hit_rate(self) -> float:
        return self.hits / (self.hits + self.misses) if self.hits + self.misses else 0.0

    def to_dict(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "hit_rate": round(self.hit_rate, 4), "size": self.size,
                "capacity": self.capacity}


class AnswerCache:
    def __init__(self, capacity: int = DEFAULT_SIZE):
        if capacity < 0:
            raise ValueError(f"a cache capacity of {capacity} is negative; give 0 (no cache) or more")
        self.capacity = capacity
        self._items: OrderedDict[tuple, Answer] = OrderedDict()
        self._version: str | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(question: str, *, doc: str | None, top_k: int, kind: str = "ask") -> tuple:
        return kind, clean_question(question), doc or "", top_k

    def get_or_answer(self, question: str, version: str, compute: Callable[[], Answer], *, doc: str | None = None,
                      top_k: int = 5, kind: str = "ask") -> Answer:
        """The cached answer for this question, filter and version, or `compute()`'s (then cached). Two threads
        asking the same new question both compute it (answers are deterministic): no lock is held while answering."""
        key = self.key(question, doc=doc, top_k=top_k, kind=kind)
        with self._lock:
            if version != self._version:   # another build went live: every answer held is stale
                self._items.clear()
                self._version = version
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
        if found is not None:
            # the answer of the same question as parsed; it names the question as this client wrote it
            return found if found.question == question else replace(found, question=question)
        answer = compute()
        if self.capacity:
            with self._lock:
                if version == self._version:
                    self._items[key] = answer
                    self._items.move_to_end(key)
                    while len(self._items) > self.capacity:
                        self._items.popitem(last=False)
        return answer

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self.hits, self.misses, len(self._items), self.capacity, self._version)
